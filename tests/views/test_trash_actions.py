"""Issue 14.1 and 14.3 in the window: Undo after Move to trash, deleting a project with its trash, the start-up
purge off the GUI thread, the visibility badge and the project table's visibility filter."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.library.orm import Model, utcnow
from app.qt.model_table import COLUMNS
from app.views.trash.startup_purge import purge_at_start
from tests.helpers import answer_questions

YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


@pytest.fixture
def window(two_model_window):
    return two_model_window


def _trash_shown(w, m) -> None:
    w.model_actions.trash(m)
    w.ops.wait_idle()


def test_undo_button_after_move_to_trash_restores(qtbot, window, lib, monkeypatch):
    w = window
    answer_questions(monkeypatch, YES)
    a = lib.models()[0]
    _trash_shown(w, a)
    undo = w.model_actions.undo
    assert a.id in [t.id for t in lib.trashed()]
    assert undo.isVisible() and undo.label.text() == f"Moved “{a.name}” to the trash —"
    w.statusBar().showMessage("something else", 1000)  # a temporary message does not hide the offer
    assert undo.isVisible()
    undo.button.click()
    w.ops.wait_idle()
    assert lib.trashed() == [] and a.id in [m.id for m in lib.models()]
    assert not undo.isVisible() and not undo.shortcut.isEnabled()


def test_ctrl_z_while_the_offer_stands_restores_and_the_offer_expires(qtbot, window, lib, monkeypatch):
    w = window
    answer_questions(monkeypatch, YES, YES)
    a, b = lib.models()
    w.project_page.table.setFocus()
    qtbot.keyClick(w.project_page.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    w.ops.wait_idle()  # no offer: Ctrl+Z does nothing
    assert lib.trashed() == []
    _trash_shown(w, a)
    qtbot.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    w.ops.wait_idle()
    assert lib.trashed() == [] and "Restored" in w.statusBar().currentMessage()
    undo = w.model_actions.undo
    undo._timer.setInterval(50)  # the ~10 s offer, shortened
    _trash_shown(w, b)
    qtbot.waitUntil(lambda: not undo.isVisible(), timeout=3000)
    qtbot.keyClick(QApplication.focusWidget() or w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    w.ops.wait_idle()
    assert [t.id for t in lib.trashed()] == [b.id]  # too late: it stays in the trash


def test_a_project_holding_only_trashed_models_is_deleted_after_saying_how_many(qtbot, window, lib, monkeypatch,
                                                                               checkpoints):
    w = window
    folder, _ = checkpoints
    p = lib.create_project("Drones")
    m = lib.import_checkpoint(folder / "pose_yolo11n.pt", p.id).model
    lib.trash_model(m.id)
    w.refresh()
    w.ops.wait_idle()
    asked = answer_questions(monkeypatch, NO, YES)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text, *a, **k: told.append(text))
    w.sidebar.deleteProjectRequested.emit(p.id)
    w.ops.wait_idle()
    assert "“Drones” and 1 model in the trash" in asked[0]
    assert "Drones" in [x.name for x in lib.projects()]  # "No" keeps both
    w.sidebar.deleteProjectRequested.emit(p.id)
    w.ops.wait_idle()
    assert "Drones" not in [x.name for x in lib.projects()] and not (lib.models_dir / m.id).exists()
    assert lib.check().clean and told == []
    qtbot.waitUntil(lambda: "Drones" not in [x.name for x in w.projects])


def test_a_project_with_live_models_still_refuses(qtbot, window, lib, monkeypatch, checkpoints):
    w = window
    folder, _ = checkpoints
    p = lib.create_project("Drones")
    live = lib.import_checkpoint(folder / "pose_yolo11n.pt", p.id).model
    gone = lib.import_checkpoint(folder / "obb_yolo26n.pt", p.id).model
    lib.trash_model(gone.id)
    asked = answer_questions(monkeypatch)  # nothing may be asked: a refusal needs no consent
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text, *a, **k: told.append(text))
    w.sidebar.deleteProjectRequested.emit(p.id)
    w.ops.wait_idle()
    assert asked == [] and len(told) == 1 and "still holds 1 model" in told[0]
    assert "Drones" in [x.name for x in lib.projects()] and lib.model(live.id).deleted_at is None
    assert [t.id for t in lib.trashed()] == [gone.id]


def test_the_start_up_purge_runs_on_the_library_thread(qtbot, window, lib):
    w = window
    a, b = lib.models()
    lib.trash_model(a.id)
    lib.trash_model(b.id)
    with lib.write() as s:
        s.get(Model, a.id).deleted_at = utcnow() - timedelta(days=31)
    threads: list[str] = []
    purge = lib.purge_trash

    def noting(*args, **kwargs):  # the real purge, noting where it runs
        threads.append(threading.current_thread().name)
        return purge(*args, **kwargs)

    lib.purge_trash = noting
    purge_at_start(w)
    assert threads == []  # only queued: the GUI thread goes on drawing
    w.ops.wait_idle()
    assert threads == ["library-ops"]
    assert [t.id for t in lib.trashed()] == [b.id] and not (lib.models_dir / a.id).exists()
    assert "1 model(s)" in w.statusBar().currentMessage()


def test_visibility_badge_asks_before_public_and_goes_private_at_once(qtbot, window, lib, monkeypatch):
    w = window
    a = lib.models()[0]
    w.open_model(a.id)
    w.ops.wait_idle()
    badge = w.model_page.visibility
    assert "Private" in badge.text()
    asked = answer_questions(monkeypatch, NO, YES)
    badge.click()
    w.ops.wait_idle()
    assert "visible to everyone who can read this library" in asked[0]
    assert lib.model(a.id).visibility == "private" and "Private" in badge.text()  # cancel keeps it private
    badge.click()
    w.ops.wait_idle()
    assert lib.model(a.id).visibility == "public"
    qtbot.waitUntil(lambda: "Public" in badge.text())
    badge.click()  # back to private: no question
    w.ops.wait_idle()
    assert len(asked) == 2 and lib.model(a.id).visibility == "private"
    qtbot.waitUntil(lambda: "Private" in badge.text())


def test_the_project_table_filters_and_shows_visibility(qtbot, window, lib):
    w = window
    a, b = lib.models()
    lib.set_visibility(a.id, "public")
    w.refresh()
    w.ops.wait_idle()
    page = w.project_page
    proxy = page.proxy

    def shown() -> list[tuple[str, str]]:
        col = COLUMNS.index("Visibility")
        return sorted((proxy.index(r, 0).data(), proxy.index(r, col).data()) for r in range(proxy.rowCount()))

    assert shown() == sorted([(a.name, "Public"), (b.name, "Private")])
    page.visibility_filter.setCurrentText("Public")
    assert shown() == [(a.name, "Public")]
    page.visibility_filter.setCurrentText("Private")
    assert shown() == [(b.name, "Private")]
    page.search.setText(a.name)  # the text filter and the combo together
    assert shown() == []
    assert page.visibility_filter.itemText(0) == "All visibilities"  # not a bare "All" beside the search
    page.visibility_filter.setCurrentText("All visibilities")
    assert shown() == [(a.name, "Public")]
