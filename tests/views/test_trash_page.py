"""Issue 14.1: the Trash page on a real library — restore, delete forever, empty trash, name clashes, empty state."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from app.views.trash_page import ID_ROLE, TrashPage
from tests.helpers import answer_questions


@pytest.fixture
def window(two_model_window):
    return two_model_window


def _trash_page(w, lib) -> TrashPage:
    page = w.show_page("trash")
    w.ops.wait_idle()
    assert isinstance(page, TrashPage) and w.stack.currentWidget() is page
    return page


def _select(page: TrashPage, *model_ids: str) -> None:
    """Select the rows of ``model_ids`` (several at once, as Ctrl+click does)."""
    page.table.clearSelection()
    sel = page.table.selectionModel()
    for r in range(page.table.rowCount()):
        if page.table.item(r, 0).data(ID_ROLE) in model_ids:
            sel.select(page.table.model().index(r, 0), sel.SelectionFlag.Select | sel.SelectionFlag.Rows)


def test_the_sidebar_link_opens_an_empty_trash_that_says_so(qtbot, window, lib):
    w = window
    w.sidebar.links["trash"].click()
    w.ops.wait_idle()
    page = w.pages.made("trash")
    assert page is not None and w.stack.currentWidget() is page
    assert page.stack.currentWidget() is page.empty and "The trash is empty" in page.empty.text()
    assert not page.empty_button.isEnabled() and not page.restore_button.isEnabled()


def test_restore_from_the_trash_page_puts_the_model_back(qtbot, window, lib):
    w = window
    a, b = lib.models()
    lib.trash_model(a.id)
    lib.trash_model(b.id)
    page = _trash_page(w, lib)
    assert page.table.rowCount() == 2 and page.stack.currentWidget() is page.table
    shown = {page.table.item(r, 0).text(): [page.table.item(r, c).text() for c in range(5)] for r in range(2)}
    assert shown[a.name][1] == "Default" and shown[a.name][3] == "29 days" and shown[a.name][4].endswith("MB")
    _select(page, a.id)
    assert page.selected_ids() == [a.id] and page.restore_button.isEnabled()
    page.restore_button.click()
    w.ops.wait_idle()
    assert [m.id for m in lib.models()] == [a.id]
    assert page.table.rowCount() == 1 and f"Restored “{a.name}” to Default" in page.notice.text()
    qtbot.waitUntil(lambda: a.id in [m.id for m in w.project_models])  # the project page shows it again


def test_a_restored_model_whose_name_was_taken_is_renamed_and_says_so(qtbot, window, lib):
    w = window
    a, b = lib.models()
    lib.trash_model(a.id)
    lib.rename_model(b.id, a.name)
    page = _trash_page(w, lib)
    _select(page, a.id)
    page.restore_button.click()
    w.ops.wait_idle()
    assert lib.model(a.id).name == f"{a.name} (2)" and lib.model(a.id).deleted_at is None
    assert "is taken there now" in page.notice.text() and f"{a.name} (2)" in page.notice.text()


def test_delete_forever_asks_then_removes_the_files_and_check_is_clean(qtbot, window, lib, monkeypatch):
    w = window
    a, b = lib.models()
    lib.trash_model(a.id)
    lib.trash_model(b.id)
    page = _trash_page(w, lib)
    asked = answer_questions(monkeypatch, QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    _select(page, a.id)
    page.delete_button.click()
    w.ops.wait_idle()
    assert a.name in asked[0] and "cannot be undone" in asked[0]
    assert (lib.models_dir / a.id).is_dir() and page.table.rowCount() == 2  # "No" keeps it
    page.delete_button.click()
    w.ops.wait_idle()
    assert not (lib.models_dir / a.id).exists() and [t.id for t in lib.trashed()] == [b.id]
    assert page.table.rowCount() == 1 and "Deleted 1 model for ever" in page.notice.text()
    assert lib.check().clean


def test_several_selected_are_deleted_together_and_empty_trash_says_how_many(qtbot, window, lib, monkeypatch,
                                                                             checkpoints):
    w = window
    folder, _ = checkpoints
    a, b = lib.models()
    c = lib.import_checkpoint(folder / "pose_yolo11n.pt").model
    for m in (a, b, c):
        lib.trash_model(m.id)
    page = _trash_page(w, lib)
    asked = answer_questions(monkeypatch, QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Yes)
    _select(page, a.id, b.id)
    assert sorted(page.selected_ids()) == sorted([a.id, b.id])
    page.delete_button.click()
    w.ops.wait_idle()
    assert "2 models" in asked[0] and [t.id for t in lib.trashed()] == [c.id]
    page.empty_button.click()
    w.ops.wait_idle()
    assert "all 1 model in the trash" in asked[1]
    assert lib.trashed() == [] and list(lib.models_dir.iterdir()) == [] and lib.check().clean
    assert page.stack.currentWidget() is page.empty and not page.empty_button.isEnabled()


def test_a_model_trashed_elsewhere_shows_on_the_open_page(qtbot, window, lib):
    w = window
    page = _trash_page(w, lib)
    a = lib.models()[0]
    lib.trash_model(a.id)  # another connection (the CLI, say): the library thread's watcher notices
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.table.item(0, 0).text() == a.name
