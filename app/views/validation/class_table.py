"""The per-class table of a validation (sortable) and the one-line overall summary above it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

DETECT_COLUMNS = (("Class", None), ("Images", "images"), ("Instances", "instances"), ("Precision", "precision"),
                  ("Recall", "recall"), ("F1", "f1"), ("mAP50", "map50"), ("mAP50-95", "map50_95"))
CLASSIFY_COLUMNS = (("Class", None), ("Images", "images"), ("Top-1 hits", "correct"),
                    ("Precision", "precision"), ("Recall", "recall"))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_CHARS = 24  # the name column fits names up to this long; a longer one is elided, whole in its tooltip
CELL_PADDING = 18  # the item's margins either side of its text


class NumberItem(QTableWidgetItem):
    """A cell shown formatted and sorted by its number."""

    def __init__(self, value: float | int, decimals: int) -> None:
        super().__init__(f"{value:.{decimals}f}" if decimals else str(int(value)))
        self.setData(SORT_ROLE, float(value))
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return super().__lt__(other)
        return float(mine) < float(theirs)


def classify_rows(capture: dict) -> dict[str, dict[str, float]]:
    """Per-class figures of a classifier from its nc×nc matrix (rows predicted, columns true)."""
    names = list(capture.get("names", []))
    matrix = capture.get("confusion_matrix") or []
    rows: dict[str, dict[str, float]] = {}
    for i, name in enumerate(names):
        if i >= len(matrix):
            break
        true_total = sum(r[i] for r in matrix)
        predicted_total = sum(matrix[i])
        hit = matrix[i][i]
        rows[name] = {"images": true_total, "correct": hit,
                      "precision": hit / predicted_total if predicted_total else 0.0,
                      "recall": hit / true_total if true_total else 0.0}
    return rows


def summary_text(capture: dict) -> str:
    """The overall figures in one line ("Precision 0.81 · Recall 0.72 · …" or "Top-1 0.85 · Top-5 1.00")."""
    o = capture.get("overall", {})
    parts = ([f"Top-1 {o.get('top1', 0):.3f}", f"Top-5 {o.get('top5', 0):.3f}"] if capture.get("task") == "classify"
             else [f"{label} {o[key]:.3f}" for label, key in (("Precision", "precision"), ("Recall", "recall"),
                                                              ("mAP50", "map50"), ("mAP50-95", "map50_95"))
                   if key in o])
    speed = capture.get("speed", {})
    if "inference" in speed:
        parts.append(f"{speed['inference']:.1f} ms inference per image")
    return "  ·  ".join(parts)


class ClassTable(QTableWidget):
    """One row per class; every numeric column sorts by value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.setAlternatingRowColors(True)
        self.setMinimumHeight(160)
        self._name_width = 0  # the name column's least width, from the longest name (capped) of the last capture
        # a number column sized to its contents later (the header resizes lazily) leaves the name column its room
        self.horizontalHeader().sectionResized.connect(lambda column, _old, _new: column and self._fit_name_column())

    def show_capture(self, capture: dict) -> None:
        """Fill the table from the capture's ``per_class`` (a classifier's from its matrix)."""
        classify = capture.get("task") == "classify"
        columns = CLASSIFY_COLUMNS if classify else DETECT_COLUMNS
        rows = classify_rows(capture) if classify else capture.get("per_class", {})
        self.setSortingEnabled(False)  # filling a sorted table moves rows under the writer
        self.clear()
        self.setColumnCount(len(columns))
        self.setHorizontalHeaderLabels([c for c, _ in columns])
        self.setRowCount(len(rows))
        for r, (name, figures) in enumerate(rows.items()):
            name_item = QTableWidgetItem(name)
            name_item.setToolTip(name if len(name) > NAME_CHARS else "")
            self.setItem(r, 0, name_item)
            for c, (_label, key) in enumerate(columns[1:], start=1):
                value = figures.get(key, 0) if key else 0
                self.setItem(r, c, NumberItem(value, 0 if key in ("images", "instances", "correct") else 3))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # numbers as narrow as they are
        # not Stretch: a stretched name shrinks below its text ("squ…"); its width is set in _fit_name_column
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        metrics = self.fontMetrics()
        longest = max([metrics.horizontalAdvance(n[:NAME_CHARS]) for n in rows] + [metrics.horizontalAdvance("Class")])
        self._name_width = longest + CELL_PADDING
        self.setSortingEnabled(True)
        self._fit_name_column()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_name_column()

    def _fit_name_column(self) -> None:
        """The name column: its names' width at least, and the room the numbers leave when the table is wider."""
        header = self.horizontalHeader()
        numbers = sum(header.sectionSize(c) for c in range(1, self.columnCount()))
        self.setColumnWidth(0, max(self._name_width, self.viewport().width() - numbers))

    def column_values(self, column: int) -> list[str]:
        """The texts of one column top to bottom (as shown, after sorting)."""
        return [self.item(r, column).text() for r in range(self.rowCount())]
