"""The per-class table of a validation (sortable) and the one-line overall summary above it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

DETECT_COLUMNS = (("Class", None), ("Images", "images"), ("Instances", "instances"), ("Precision", "precision"),
                  ("Recall", "recall"), ("F1", "f1"), ("mAP50", "map50"), ("mAP50-95", "map50_95"))
CLASSIFY_COLUMNS = (("Class", None), ("Images", "images"), ("Top-1 hits", "correct"),
                    ("Precision", "precision"), ("Recall", "recall"))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


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
            self.setItem(r, 0, QTableWidgetItem(name))
            for c, (_label, key) in enumerate(columns[1:], start=1):
                value = figures.get(key, 0) if key else 0
                self.setItem(r, c, NumberItem(value, 0 if key in ("images", "instances", "correct") else 3))
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # numbers keep their width
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the class name takes the rest
        self.setSortingEnabled(True)

    def column_values(self, column: int) -> list[str]:
        """The texts of one column top to bottom (as shown, after sorting)."""
        return [self.item(r, column).text() for r in range(self.rowCount())]
