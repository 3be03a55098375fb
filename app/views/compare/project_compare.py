"""Compare from a project's table: the Compare button and context-menu entry, enabled for 2–6 selected models.

It lives here, not in the project page, so the page only places the button; triggering shows the window's
``compare`` side page (app/views/pages.py) with the selected models.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, QSortFilterProxyModel, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QPushButton, QTableView, QWidget

from app.library.records import ModelRecord
from app.qt.model_table import RECORD_ROLE

MIN_MODELS, MAX_MODELS = 2, 6  # as app.validation.compare (importing it here would load SQLAlchemy in the view)


def extending_selection() -> bool:
    """Whether Ctrl or Shift is held: a click then selects (for Compare) instead of opening the model."""
    mods = QGuiApplication.keyboardModifiers()
    return bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))


class CompareAction(QObject):
    """``button`` (for the page's header) and a context menu on ``table``; both compare the selected models."""

    def __init__(self, table: QTableView, proxy: QSortFilterProxyModel, page: QWidget) -> None:
        super().__init__(page)
        self._table, self._proxy, self._page = table, proxy, page
        self.button = QPushButton("Compare")
        self.button.setToolTip("Select 2 to 6 models (Ctrl- or Shift-click), then compare their metrics and curves")
        self.button.setEnabled(False)
        self.button.clicked.connect(self.compare_selected)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_table_context_menu)
        table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        proxy.modelReset.connect(self._on_selection_changed)

    def selected_ids(self) -> list[str]:
        """The selected models' ids, top to bottom as shown."""
        rows = sorted(self._table.selectionModel().selectedRows(), key=lambda i: i.row())
        recs = [self._proxy.data(i, RECORD_ROLE) for i in rows]
        return [r.id for r in recs if isinstance(r, ModelRecord)]

    def compare_selected(self) -> None:
        """Show the Compare page for the selected models (it says why when the choice is wrong)."""
        ids = self.selected_ids()
        window = self._page.window()
        show_page = getattr(window, "show_page", None)
        if callable(show_page) and ids:
            show_page("compare").show_models(ids)

    def _on_selection_changed(self, *_args: object) -> None:
        n = len(self.selected_ids())
        self.button.setEnabled(MIN_MODELS <= n <= MAX_MODELS)
        self.button.setText(f"Compare {n}" if MIN_MODELS <= n <= MAX_MODELS else "Compare")

    def _on_table_context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self._table)
        n = len(self.selected_ids())
        action = menu.addAction(f"Compare {n} models" if n > 1 else "Compare (select 2–6 models)")
        action.setEnabled(MIN_MODELS <= n <= MAX_MODELS)
        action.triggered.connect(self.compare_selected)
        menu.popup(self._table.viewport().mapToGlobal(pos))
