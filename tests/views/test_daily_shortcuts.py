"""Issue 13 item 7: the standard shortcuts do what they say, and Help → Keyboard shortcuts lists them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from app.views.main_window import MainWindow


@pytest.fixture
def window(two_model_window):
    return two_model_window


def _keys(qtbot, w: MainWindow, key: Qt.Key, mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget() or w
    qtbot.keyClick(target, key, mods)
    w.ops.wait_idle()


def test_find_back_tabs_refresh(qtbot, window, lib, monkeypatch):
    w = window
    m = lib.models()[0]
    w.open_model(m.id)
    w.ops.wait_idle()
    page = w.model_page
    page.setFocus()
    _keys(qtbot, w, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert page.tabs.currentWidget() is page.train
    _keys(qtbot, w, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert page.tabs.currentWidget() is page.predict
    _keys(qtbot, w, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    _keys(qtbot, w, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert page.tabs.currentWidget() is page.overview
    _keys(qtbot, w, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)  # wraps to the last tab
    assert page.tabs.currentWidget() is page.deploy
    page.tabs.setTabEnabled(page.tabs.indexOf(page.deploy), False)  # a disabled tab is skipped
    page.tabs.setCurrentWidget(page.overview)
    _keys(qtbot, w, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert page.tabs.currentWidget() is page.validation
    page.tabs.setTabEnabled(page.tabs.indexOf(page.deploy), True)
    _keys(qtbot, w, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert w.stack.currentWidget() is w.project_page
    w.project_page.search.setText("old text")
    w.project_page.table.setFocus()
    _keys(qtbot, w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.project_page.search.hasFocus() and w.project_page.search.selectedText() == "old text"
    reads: list[str] = []
    submit = w.ops.submit  # the real executor, with what each submission is for noted

    def noting(*a, **k):  # noqa: ANN002, ANN003, ANN202
        reads.append(k.get("what") or (a[3] if len(a) > 3 else ""))
        return submit(*a, **k)

    monkeypatch.setattr(w.ops, "submit", noting)
    _keys(qtbot, w, Qt.Key.Key_F5)  # reads the library again now, not at the watcher's next change
    assert "Reading the library" in reads


def test_delete_moves_the_selected_model_to_the_trash_after_asking(qtbot, window, lib, monkeypatch):
    w = window
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, *a, **k: asked.append(text) or answers.pop(0))
    table = w.project_page.table
    table.selectRow(0)
    target = w.project_page.selected_model()
    table.setFocus()
    _keys(qtbot, w, Qt.Key.Key_Delete)
    assert len(asked) == 1 and target.name in asked[0]
    assert target.id in [m.id for m in lib.models()]  # "No" keeps it
    _keys(qtbot, w, Qt.Key.Key_Delete)
    assert len(asked) == 2
    assert target.id not in [m.id for m in lib.models()]
    w.project_page.search.setFocus()
    w.project_page.search.setText("ab")
    w.project_page.search.setCursorPosition(0)
    _keys(qtbot, w, Qt.Key.Key_Delete)  # in a text field Delete edits the text, and asks nothing
    assert w.project_page.search.text() == "b" and len(asked) == 2


def test_help_lists_every_shortcut(qtbot, window):
    w = window
    w.shortcuts.list_action.trigger()
    text = w.shortcuts.box.text()
    for what, keys in w.shortcuts.rows():
        assert keys and what in text and keys in text
    assert {"Ctrl+Q", "Ctrl+F", "Del", "F5", "Alt+Left", "Ctrl+Tab", "Ctrl+J", "Ctrl+O"} <= {
        k for _w, keys in w.shortcuts.rows() for k in keys.split(" or ")}
    w.shortcuts.box.close()


def test_ctrl_q_quits(qtbot, window):
    _keys(qtbot, window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
