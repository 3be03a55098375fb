"""The Compare page's tables: metrics side by side (the best of each row highlighted) and speed per backend."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

BEST_ROLE = Qt.ItemDataRole.UserRole + 2  # True on a highlighted cell (tests and screenshots read it)
BEST_BRUSH = QColor(34, 197, 94, 70)  # a green tint readable on light and dark bases
DETECT_ROWS = (("Precision", "overall", "precision"), ("Recall", "overall", "recall"), ("mAP50", "overall", "map50"),
               ("mAP50-95", "overall", "map50_95"), ("Fitness", "overall", "fitness"))
CLASSIFY_ROWS = (("Top-1", "overall", "top1"), ("Top-5", "overall", "top5"))
SPEED_ROWS = (("Preprocess (ms)", "speed", "preprocess"), ("Inference (ms)", "speed", "inference"),
              ("Postprocess (ms)", "speed", "postprocess"))
NOT_MEASURED = "not measured"


class MetricsTable(QTableWidget):
    """Rows are metrics, columns the models; ``best`` (from ``compare_models``) decides the highlighted cells,
    unless every model ties."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setMinimumHeight(200)

    def show_comparison(self, result: dict[str, Any]) -> None:
        """Fill from a ``load_comparison`` result."""
        models = result["models"]
        rows = ((CLASSIFY_ROWS if result["task"] == "classify" else DETECT_ROWS) + SPEED_ROWS
                + (("Parameters", "model", "params"), ("Epochs trained", "training", "epochs")))
        self.clear()
        self.setColumnCount(len(models))
        self.setRowCount(len(rows))
        self.setHorizontalHeaderLabels([m["name"] for m in models])
        self.setVerticalHeaderLabels([label for label, _, _ in rows])
        bold = QFont(self.font())
        bold.setBold(True)
        for r, (_label, group, key) in enumerate(rows):
            best = set(result["best"].get(f"{group}.{key}", []))
            if len(best) == len(models):
                best = set()  # all tied: nothing stands out, nothing is highlighted
            for c, m in enumerate(models):
                value = self._value(m, group, key)
                item = QTableWidgetItem(self._text(value, group))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if m["id"] in best:
                    item.setFont(bold)
                    item.setBackground(QBrush(BEST_BRUSH))
                    item.setData(BEST_ROLE, True)
                    item.setToolTip("Best of the compared models")
                self.setItem(r, c, item)

    def best_cells(self) -> list[tuple[str, str]]:
        """(row label, model name) of every highlighted cell."""
        return [(self.verticalHeaderItem(r).text(), self.horizontalHeaderItem(c).text())
                for r in range(self.rowCount()) for c in range(self.columnCount())
                if self.item(r, c) is not None and self.item(r, c).data(BEST_ROLE)]

    @staticmethod
    def _value(m: dict[str, Any], group: str, key: str) -> Any:  # noqa: ANN401
        if group == "model":
            return m.get(key)
        if group == "training":
            return m["training"].get(key)
        return (m["validation"] or {}).get(group, {}).get(key)

    @staticmethod
    def _text(value: Any, group: str) -> str:  # noqa: ANN401
        if value is None:
            return "—" if group != "speed" else NOT_MEASURED
        if isinstance(value, float):
            return f"{value:.2f}" if group == "speed" else f"{value:.3f}"
        return f"{value:,}" if isinstance(value, int) else str(value)


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
