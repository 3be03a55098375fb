"""The window's menus and standard shortcuts, and Help → Keyboard shortcuts listing them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox

Keys = QKeySequence.StandardKey | str | list


def _add(window: QMainWindow, menu: QMenu, text: str, keys: Keys, slot: Callable[[], None]) -> QAction:
    action = menu.addAction(text)
    if isinstance(keys, list):
        action.setShortcuts([QKeySequence(k) for k in keys])
    elif isinstance(keys, QKeySequence.StandardKey):
        action.setShortcuts(keys)
    else:
        action.setShortcut(QKeySequence(keys))
    action.triggered.connect(slot)
    window.addAction(action)  # works while the menu bar is hidden or a dock has focus
    return action


class WindowShortcuts:
    """Builds File / Edit / View / Go / Help on ``window``; each action calls one of the window's public methods."""

    def __init__(self, window) -> None:  # noqa: ANN001 (MainWindow: imported here it would be circular)
        self.window = window
        bar = window.menuBar()
        file = bar.addMenu("&File")
        self.add_models = _add(window, file, "Add models…", QKeySequence.StandardKey.Open, window.imports.choose_files)
        file.addSeparator()
        self.quit = _add(window, file, "Quit", "Ctrl+Q", window.close)
        edit = bar.addMenu("&Edit")
        self.find = _add(window, edit, "Filter models", QKeySequence.StandardKey.Find, window.focus_filter)
        self.delete = _add(window, edit, "Move model to trash…", "Delete", window.trash_selected_model)
        view = bar.addMenu("&View")
        self.jobs = window.jobs_panel.toggleViewAction()
        self.jobs.setText("Jobs panel")
        self.jobs.setShortcut(QKeySequence("Ctrl+J"))
        view.addAction(self.jobs)
        self.refresh = _add(window, view, "Refresh", QKeySequence.StandardKey.Refresh, window.refresh_all)
        go = bar.addMenu("&Go")
        self.back = _add(window, go, "Back to the project", QKeySequence.StandardKey.Back, window.go_back)
        self.next_tab = _add(window, go, "Next tab", ["Ctrl+Tab", "Ctrl+PgDown"], lambda: window.step_tab(1))
        self.previous_tab = _add(window, go, "Previous tab", ["Ctrl+Shift+Tab", "Ctrl+PgUp"],
                                 lambda: window.step_tab(-1))
        help_menu = bar.addMenu("&Help")
        self.list_action = help_menu.addAction("Keyboard shortcuts")
        self.list_action.triggered.connect(self.show_list)

    def actions(self) -> list[QAction]:
        """The actions that have shortcuts, in menu order."""
        return [self.add_models, self.quit, self.find, self.delete, self.jobs, self.refresh, self.back,
                self.next_tab, self.previous_tab]

    def rows(self) -> list[tuple[str, str]]:
        """(what, keys) for every shortcut, keys as the platform writes them."""
        return [(a.text().rstrip("…"), " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                                                  for k in a.shortcuts())) for a in self.actions()]

    def list_text(self) -> str:
        """The Help → Keyboard shortcuts table, as rich text."""
        cells = "".join(f"<tr><td>{what}</td><td style='padding-left:18px'><b>{keys}</b></td></tr>"
                        for what, keys in self.rows())
        return f"<table>{cells}</table>"

    def show_list(self) -> None:
        """Show the list in a window-modal box (kept as ``self.box`` for tests and screenshots)."""
        self.box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", self.list_text(),
                               QMessageBox.StandardButton.Close, self.window)
        self.box.setWindowModality(self.box.windowModality().WindowModal)
        self.box.open()
