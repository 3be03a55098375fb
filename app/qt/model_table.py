"""Qt table model over the library's model records (sortable through a proxy)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from app.library.records import ModelRecord
from app.library.untrusted import printable

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RECORD_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ("Name", "Task", "Architecture", "Status", "Visibility", "Key metric", "Params", "Size", "Added")
Index = QModelIndex | QPersistentModelIndex


def fmt_params(n: int | None) -> str:
    if not n:
        return "—"
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} K"


def fmt_size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


class ModelTableModel(QAbstractTableModel):
    """Rows are :class:`ModelRecord`; ``SORT_ROLE`` gives each column a sortable value."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ModelRecord] = []

    def set_records(self, rows: list[ModelRecord]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def records(self) -> list[ModelRecord]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        m = self._rows[index.row()]
        col = COLUMNS[index.column()]
        if role == RECORD_ROLE:
            return m
        km = m.key_metric
        if role == Qt.ItemDataRole.DisplayRole:
            return {  # names come from files and checkpoints: control characters shown escaped
                "Name": printable(m.name), "Task": printable(m.task or "?"),
                "Architecture": printable(m.architecture or "unknown"),
                "Status": m.status, "Visibility": m.visibility.capitalize(),
                "Key metric": f"{km[1]:.3f}  {printable(km[0])}" if km else "—",
                "Params": fmt_params(m.params), "Size": fmt_size(m.size),
                "Added": m.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            }[col]
        if role == SORT_ROLE:
            return {
                "Name": m.name.lower(), "Task": m.task or "", "Architecture": m.architecture or "",
                "Status": m.status, "Visibility": m.visibility, "Key metric": km[1] if km else -1.0,
                "Params": m.params or 0,
                "Size": m.size, "Added": m.created_at.timestamp(),
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == "Name":
                return f"{printable(m.original_filename or '')}\n{m.id}"
            if col == "Key metric" and km:
                return f"{printable(km[0])} = {km[1]:.4f}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in ("Key metric", "Params", "Size"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
