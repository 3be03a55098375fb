"""Clone and move from the window: the model page's Clone… button, the project table's context menu, and
dragging a model onto a project in the sidebar (drop = clone, Shift-drop = move)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu

from app.views.clone_actions import dragged_model_id, model_mime
from tests.helpers import shown_window


@pytest.fixture
def window(qtbot, lib, checkpoints):
    """The window over a library holding a detector and a classifier in Default, and an empty project Target."""
    folder, _ = checkpoints
    for name in ("detect_yolo26n.pt", "classify_yolo11n.pt"):
        lib.import_checkpoint(folder / name)
    lib.create_project("Target")
    with shown_window(qtbot, lib) as w:
        yield w


def _model(lib, task: str):
    return next(m for m in lib.models() if m.task == task)


def _project_item(window, name: str):
    lst = window.sidebar.projects
    return next(lst.item(i) for i in range(lst.count()) if lst.item(i).text().startswith(f"{name}  ·"))


def _drag_onto(window, name: str, mime: QMimeData, shift: bool = False) -> tuple[bool, bool]:
    """A real drag-enter, drag-move and drop on the project ``name`` of the sidebar: (move accepted, drop accepted)."""
    viewport = window.sidebar.projects.viewport()
    pos = window.sidebar.projects.visualItemRect(_project_item(window, name)).center()
    mods = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    left = Qt.MouseButton.LeftButton
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, actions, mime, left, mods))
    move = QDragMoveEvent(pos, actions, mime, left, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(pos), actions, mime, left, mods)
    QApplication.sendEvent(viewport, drop)
    return move.isAccepted(), drop.isAccepted()


def test_clone_by_button_then_open_it_from_the_status_bar(window, lib, qtbot, monkeypatch):
    det = _model(lib, "detect")
    window.open_model(det.id)
    window.ops.wait_idle()
    offered: list[list[str]] = []
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(
        lambda _p, _t, _l, items, *a, **k: offered.append(list(items)) or ("Target", True)))
    qtbot.mouseClick(window.model_page.clone_button, Qt.MouseButton.LeftButton)
    window.ops.wait_idle()
    assert offered == [["Target"]]  # the model's own project is not offered
    (clone,) = lib.models(lib.project_by_name("Target").id)
    assert clone.parent_id == det.id and clone.name == det.name
    notice = window.model_actions.clones.notice
    assert notice.isVisible() and notice.label.text() == f"Cloned “{det.name}” to “Target” —"
    qtbot.mouseClick(notice.button, Qt.MouseButton.LeftButton)
    window.ops.wait_idle()
    assert window.current_model_id == clone.id and window.shown_model.project == "Target"
    assert window.current_project_id == clone.project_id and not notice.isVisible()
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("Default", True)))  # same weights
    qtbot.mouseClick(window.model_page.clone_button, Qt.MouseButton.LeftButton)
    window.ops.wait_idle()
    assert window.statusBar().currentMessage() == f"Not cloned: already there as “{det.name}” in “Default”; nothing " \
                                                  "was written"
    assert len(lib.models()) == 3


@pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing)")  # the offscreen platform, not the app
def test_move_by_the_project_tables_context_menu(window, lib):
    cls = _model(lib, "classify")
    table = window.project_page.table
    row = next(r for r in range(table.model().rowCount()) if table.model().index(r, 0).data() == cls.name)
    table.customContextMenuRequested.emit(table.visualRect(table.model().index(row, 2)).center())
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu) and menu.isVisible()
    assert menu.actions()[0].text() == "Open"
    subs = {a.text(): a.menu() for a in menu.actions() if isinstance(a.menu(), QMenu)}
    assert sorted(subs) == ["Clone to project", "Move to project"]
    assert [a.text() for a in subs["Move to project"].actions()] == ["Target"]
    subs["Move to project"].actions()[0].trigger()
    window.ops.wait_idle()
    moved = lib.model(cls.id)
    assert moved.project == "Target" and moved.parent_id is None  # the same model, re-homed
    assert window.model_actions.clones.notice.label.text() == f"Moved “{cls.name}” to “Target” —"
    assert cls.id not in [m.id for m in window.project_page.table_model.records()]  # Default no longer lists it
    assert _project_item(window, "Target").text() == "Target  ·  1"
    menu.close()


def test_drop_on_a_sidebar_project_clones_and_shift_drop_moves(window, lib):
    det, cls = _model(lib, "detect"), _model(lib, "classify")
    target = lib.project_by_name("Target").id
    assert dragged_model_id(model_mime(det.id)) == det.id
    assert _drag_onto(window, "Default", model_mime(det.id)) == (False, False)  # its own project: refused
    window.ops.wait_idle()
    assert len(lib.models()) == 2
    assert _drag_onto(window, "Target", model_mime(det.id)) == (True, True)
    window.ops.wait_idle()
    (clone,) = lib.models(target)
    assert clone.parent_id == det.id and lib.model(det.id).project == "Default"
    assert _drag_onto(window, "Target", model_mime(cls.id), shift=True) == (True, True)
    window.ops.wait_idle()
    assert lib.model(cls.id).project == "Target" and len(lib.models()) == 3
    assert window.model_actions.clones.notice.label.text() == f"Moved “{cls.name}” to “Target” —"


def test_files_dropped_on_the_project_list_still_import(window, lib, checkpoints, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(checkpoints[0]) / "pose_yolo11n.pt"))])
    assert dragged_model_id(mime) is None
    viewport = window.sidebar.projects.viewport()
    pos = QPoint(viewport.width() // 2, viewport.height() - 4)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert enter.isAccepted() and drop.isAccepted()
    qtbot.waitUntil(lambda: any(m.task == "pose" for m in lib.models()), timeout=30000)


@pytest.mark.parametrize("source", ["table", "sidebar"])
def test_a_model_dragged_from_the_table_or_the_sidebar_carries_its_id(window, lib, qtbot, monkeypatch, source):
    """The press-and-move on a row starts a drag holding the model's id; dropped on Target it clones."""
    from PySide6.QtGui import QDrag

    det = _model(lib, "detect")
    carried: list[QMimeData] = []
    # Qt's drag loop waits for a real pointer; the drag it is handed is what this test looks at.
    monkeypatch.setattr(QDrag, "exec", lambda self, *a, **k: carried.append(self.mimeData()) or Qt.DropAction.CopyAction)
    if source == "table":
        view = window.project_page.table
        row = next(r for r in range(view.model().rowCount()) if view.model().index(r, 0).data() == det.name)
        start = view.visualRect(view.model().index(row, 0)).center()
    else:
        view = window.sidebar.models
        item = next(view.item(i) for i in range(view.count()) if view.item(i).text() == det.name)
        start = view.visualItemRect(item).center()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), start + QPoint(QApplication.startDragDistance() + 5, 0))
    assert len(carried) == 1 and dragged_model_id(carried[0]) == det.id
    assert _drag_onto(window, "Target", carried[0]) == (True, True)
    window.ops.wait_idle()
    assert [m.parent_id for m in lib.models(lib.project_by_name("Target").id)] == [det.id]


def test_a_model_without_weights_has_no_clone_button(window, lib):
    pending = lib.create_pending_model(lib.default_project_id, "training-now", task="pose")
    window.open_model(pending.id)
    window.ops.wait_idle()
    assert not window.model_page.clone_button.isEnabled()
    window.open_model(_model(lib, "detect").id)
    window.ops.wait_idle()
    assert window.model_page.clone_button.isEnabled()
