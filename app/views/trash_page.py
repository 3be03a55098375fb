"""The Trash page: every trashed model with its project and days left; Restore, Delete forever, Empty trash.

Every read and write goes through the window's library thread (:class:`LibraryOps`); the page draws
the plain :class:`TrashedModel` records it gets back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton, QStackedWidget, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.library.repository import Library, LibraryError
from app.library.trash import TRASH_DAYS, TrashedModel
from app.library.untrusted import printable
from app.qt.library_ops import LibraryOps
from app.qt.model_table import fmt_size

COLUMNS = ("Name", "Project", "Trashed", "Days left", "Size")
ID_ROLE = Qt.ItemDataRole.UserRole


def restore_all(lib: Library, ids: list[str]) -> list[str]:
    """Restore each model (library thread); one line per model: where it went, or why it stayed."""
    lines = []
    for model_id in ids:
        try:
            back = lib.restore(model_id)
        except LibraryError as e:
            lines.append(f"Not restored: {e}")
            continue
        where = f"Restored “{printable(back.model.name)}” to {printable(back.model.project)}"
        lines.append(f"{where} ({back.note})" if back.note else where)
    return lines


class _SortableItem(QTableWidgetItem):
    """A cell that sorts by a number (days, bytes, time) rather than by its text."""

    def __init__(self, text: str, key: float) -> None:
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.key < getattr(other, "key", 0)


class TrashPage(QWidget):
    """The trash as a table; ``refresh()`` reads it on the library thread."""

    def __init__(self, lib: Library, ops: LibraryOps, status: Callable[[str, int], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib, self.ops, self._status = lib, ops, status
        self.rows: list[TrashedModel] = []
        self._stale = True
        title = QLabel("Trash")
        title.setObjectName("pageTitle")
        self.subtitle = QLabel(f"Models stay here for {TRASH_DAYS} days, then they are deleted for ever.")
        self.subtitle.setObjectName("muted")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setObjectName("primary")
        self.restore_button.setToolTip("Put the selected models back in their projects")
        self.restore_button.clicked.connect(self._on_restore_clicked)
        self.delete_button = QPushButton("Delete forever…")
        self.delete_button.setObjectName("danger")
        self.delete_button.setToolTip("Remove the selected models' weights and exports from disk")
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.empty_button = QPushButton("Empty trash…")
        self.empty_button.clicked.connect(self._on_empty_clicked)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles)
        head.addStretch(1)
        for b in (self.restore_button, self.delete_button, self.empty_button):
            head.addWidget(b)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setHighlightSections(False)
        for col, width in (("Project", 180), ("Trashed", 150), ("Days left", 90), ("Size", 90)):
            self.table.setColumnWidth(COLUMNS.index(col), width)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("Trashed"), Qt.SortOrder.DescendingOrder)  # the latest first

        self.empty = QLabel(
            "<div style='font-size:15pt; font-weight:600'>The trash is empty</div>"
            f"<p>Models you move to the trash wait here for {TRASH_DAYS} days: restore them,<br>"
            "or delete them for ever to free their disk space.</p>"
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("emptyState")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)
        self.notice = QLabel("")  # what the last action did (where a restored model went)
        self.notice.setObjectName("muted")
        self.notice.setWordWrap(True)
        self.notice.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(20, 16, 20, 12)
        lay.addLayout(head)
        lay.addSpacing(8)
        lay.addWidget(self.notice)
        lay.addWidget(self.stack, 1)
        self._show([])

    # ------------------------------------------------------------------ the window's calls
    def refresh(self) -> None:
        """Read the trash again (on the library thread) and redraw."""
        self._stale = False
        self.ops.submit(self.lib.trashed, self._show, what="Reading the trash")

    def on_changes(self, changes: object) -> None:
        """A model came or went (trashed elsewhere, restored by Undo, the CLI): read again if shown."""
        if getattr(changes, "models", None) or getattr(changes, "projects", None):
            self._stale = True
            if self.isVisible():
                self.refresh()

    def selected_ids(self) -> list[str]:
        """The selected rows' model ids, top to bottom."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).data(ID_ROLE) for r in rows]

    # ------------------------------------------------------------------ drawing
    def _show(self, rows: list[TrashedModel]) -> None:
        self.rows = rows
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        for r, t in enumerate(rows):
            name = QTableWidgetItem(printable(t.name))
            name.setData(ID_ROLE, t.id)
            name.setToolTip(t.id)
            local = t.deleted_at.astimezone()
            cells = (name, QTableWidgetItem(printable(t.project)),
                     _SortableItem(local.strftime("%Y-%m-%d %H:%M"), t.deleted_at.timestamp()),
                     _SortableItem(f"{t.days_left} day{'s' if t.days_left != 1 else ''}", t.days_left),
                     _SortableItem(fmt_size(t.size), t.size))
            for c, item in enumerate(cells):
                if c >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        self.stack.setCurrentWidget(self.table if rows else self.empty)
        n = len(rows)
        total = sum(t.size for t in rows)
        self.subtitle.setText(f"{n} model{'s' if n != 1 else ''} · {fmt_size(total)} · kept {TRASH_DAYS} days, "
                              "then deleted for ever" if n else f"Models stay here for {TRASH_DAYS} days.")
        self.empty_button.setEnabled(bool(rows))
        self._on_table_selection_changed()

    def _say(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))
        self._status(text.splitlines()[0] if text else "", 8000)

    # ------------------------------------------------------------------ slots
    def _on_table_selection_changed(self) -> None:
        chosen = bool(self.table.selectedIndexes())
        self.restore_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _on_restore_clicked(self) -> None:
        ids, lib = self.selected_ids(), self.lib
        if ids:
            self.ops.submit(lambda: restore_all(lib, ids), self._on_restored, self._on_failed, "Restoring")

    def _on_restored(self, lines: list[str]) -> None:
        self._say("\n".join(lines))
        self.refresh()

    def _on_delete_clicked(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        names = [printable(t.name) for t in self.rows if t.id in ids]
        what = f"“{names[0]}”" if len(names) == 1 else f"{len(names)} models"
        answer = QMessageBox.question(self, "Delete forever", f"Delete {what} for ever? The weights and every export "
                                      "are removed from disk. This cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            lib = self.lib
            self.ops.submit(lambda: lib.delete_forever(ids), self._on_deleted, self._on_failed, "Deleting for ever")

    def _on_empty_clicked(self) -> None:
        n = len(self.rows)
        if not n:
            return
        answer = QMessageBox.question(self, "Empty trash", f"Delete all {n} model{'s' if n != 1 else ''} in the trash "
                                      "for ever? Their weights and exports are removed from disk. This cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            self.ops.submit(self.lib.empty_trash, self._on_deleted, self._on_failed, "Emptying the trash")

    def _on_deleted(self, ids: list[str]) -> None:
        n = len(ids)
        self._say(f"Deleted {n} model{'s' if n != 1 else ''} for ever" if n else
                  "Nothing was deleted: the models are being written right now; try again in a moment")
        self.refresh()

    def _on_failed(self, error: Exception) -> None:
        self._say(str(error))
        self.refresh()
