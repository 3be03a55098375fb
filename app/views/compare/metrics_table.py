"""The Compare page's tables: every figure side by side (the best of each row highlighted) and speed per backend."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.validation.compare_rows import shown_digits

BEST_ROLE = Qt.ItemDataRole.UserRole + 2  # True on a highlighted cell (tests and screenshots read it)
SECTION_ROLE = Qt.ItemDataRole.UserRole + 3  # the section's name on a section's heading row
BEST_BRUSH = QColor(34, 197, 94, 70)  # a green tint readable on light and dark bases
MISSING = "—"
NOT_MEASURED = "not measured"


def cell_text(value: float | int | None, unit: str) -> str:
    """How a figure reads in its cell: ratios to 3 places, times to 2, sizes in MB, counts with separators."""
    if value is None:
        return MISSING
    if unit == "bytes":
        return f"{value / 1e6:.1f} MB"
    if unit == "px":
        return f"{value} px"
    return f"{value:.{shown_digits(unit)}f}" if isinstance(value, float) else f"{value:,}"


class MetricsTable(QTableWidget):
    """Rows are every figure any compared model has (``compare_rows``), grouped under section headings; columns
    the models. The best of each row is highlighted (unless every model ties); a missing one reads "—" with
    its reason as the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)  # ~25 rows fit at 1280×800
        self.setMinimumHeight(200)

    def show_comparison(self, result: dict[str, Any]) -> None:
        """Fill from a ``load_comparison`` result (its ``rows``)."""
        models = result["models"]
        rows = result["rows"]
        sections = list(dict.fromkeys(r.section for r in rows))
        self.clear()
        self.clearSpans()
        self.setColumnCount(len(models))
        self.setRowCount(len(rows) + len(sections))
        self.setHorizontalHeaderLabels([m["name"] for m in models])
        bold = QFont(self.font())
        bold.setBold(True)
        r, section = 0, None
        for row in rows:
            if row.section != section:
                section = row.section
                self._heading(r, section, bold)
                r += 1
            self.setVerticalHeaderItem(r, QTableWidgetItem(row.label))
            for c, m in enumerate(models):
                value = row.values.get(m["id"])
                item = QTableWidgetItem(cell_text(value, row.unit))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if value is None:
                    item.setToolTip(row.missing.get(m["id"], "not recorded"))
                elif m["id"] in row.best:
                    item.setFont(bold)
                    item.setBackground(QBrush(BEST_BRUSH))
                    item.setData(BEST_ROLE, True)
                    item.setToolTip(f"Best of the compared models ({row.better} is better)")
                self.setItem(r, c, item)
            r += 1

    def _heading(self, r: int, section: str, bold: QFont) -> None:
        head = QTableWidgetItem(section)
        head.setFont(bold)
        head.setData(SECTION_ROLE, section)
        self.setVerticalHeaderItem(r, QTableWidgetItem(""))
        head.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        head.setBackground(self.palette().color(QPalette.ColorRole.AlternateBase))
        self.setItem(r, 0, head)
        if self.columnCount() > 1:
            self.setSpan(r, 0, 1, self.columnCount())

    def row_labels(self) -> list[str]:
        """The figures' row labels, top to bottom (section headings left out)."""
        return [self.verticalHeaderItem(r).text() for r in range(self.rowCount())
                if not (self.item(r, 0) and self.item(r, 0).data(SECTION_ROLE))]

    def cell(self, label: str, model_name: str) -> QTableWidgetItem:
        """The cell of the row ``label`` (the first so named) in ``model_name``'s column."""
        r = next(r for r in range(self.rowCount()) if self.verticalHeaderItem(r).text() == label
                 and not (self.item(r, 0) and self.item(r, 0).data(SECTION_ROLE)))
        c = next(c for c in range(self.columnCount()) if self.horizontalHeaderItem(c).text() == model_name)
        return self.item(r, c)

    def best_cells(self) -> list[tuple[str, str]]:
        """(row label, model name) of every highlighted cell."""
        return [(self.verticalHeaderItem(r).text(), self.horizontalHeaderItem(c).text())
                for r in range(self.rowCount()) for c in range(self.columnCount())
                if self.item(r, c) is not None and self.item(r, c).data(BEST_ROLE)]


class SpeedTable(QTableWidget):
    """Inference time per backend: the .pt as validated; each export format (its speed is not stored yet)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(110)

    def show_comparison(self, result: dict[str, Any]) -> None:
        """One row per backend any compared model has; "not measured" where no figure exists."""
        models = result["models"]
        extra = result["extra"]
        formats = sorted({f for m in models for f in extra[m["id"]]["exports"]})
        self.clear()
        self.setColumnCount(len(models))
        self.setRowCount(1 + len(formats))
        self.setHorizontalHeaderLabels([m["name"] for m in models])
        self.setVerticalHeaderLabels(["PyTorch (validation)", *formats])
        for c, m in enumerate(models):
            inference = ((m["validation"] or {}).get("speed") or {}).get("inference")
            self._put(0, c, f"{inference:.2f} ms / image" if isinstance(inference, (int, float)) else NOT_MEASURED)
            for r, fmt in enumerate(formats, start=1):
                self._put(r, c, NOT_MEASURED if fmt in extra[m["id"]]["exports"] else "not exported")

    def _put(self, r: int, c: int, text: str) -> None:
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setItem(r, c, item)
