"""The four validation curves (precision–recall, F1-, precision- and recall-confidence) with per-class toggles.

A capture names its curves as ultralytics does ("Precision-Recall(B)" …); segment and pose add the mask (M) or
keypoint (P) ones, chosen with a toggle. The all-classes mean is the bold line, as in ultralytics' plots.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QStackedWidget, QVBoxLayout, QWidget)

from app.widgets.chart_style import chart_colors, style_plot

KINDS = ("Precision-Recall", "F1-Confidence", "Precision-Confidence", "Recall-Confidence")
VARIANTS = {"B": "Boxes (B)", "M": "Masks (M)", "P": "Keypoints (P)"}
MEAN = "all classes"


def class_color(i: int, n: int) -> str:
    """A distinct colour for class ``i`` of ``n``."""
    return pg.intColor(i, hues=max(n, 1), values=1, maxValue=220, minValue=150).name()


def variants_of(curves: dict) -> list[str]:
    """The curve variants a capture holds ("B", "M", "P"), boxes first."""
    found = {name[name.rfind("(") + 1:-1] for name in curves if name.endswith(")") and "(" in name}
    return [v for v in VARIANTS if v in found]


def mean_curve(curve: dict) -> np.ndarray:
    """The mean over classes of a curve's y rows (ultralytics' "all classes" line)."""
    rows = [np.asarray(y, dtype=float) for y in curve.get("y", {}).values()]
    return np.mean(rows, axis=0) if rows else np.zeros(len(curve.get("x", [])))


class CurvesPanel(QWidget):
    """Four plots of one variant's curves; a checkable list of classes shows or hides each class's lines."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.curves: dict = {}
        self.names: list[str] = []
        self.lines: dict[str, dict[str, pg.PlotDataItem]] = {}  # curve name → class (or MEAN) → line
        self.plots = {kind: pg.PlotWidget(background=chart_colors()[0]) for kind in KINDS}
        grid = QGridLayout()
        for i, kind in enumerate(KINDS):
            plot = self.plots[kind]
            plot.setMinimumSize(150, 130)
            plot.getPlotItem().setMenuEnabled(False)
            plot.setXRange(0, 1, padding=0.02)
            plot.setYRange(0, 1.02, padding=0.02)
            grid.addWidget(plot, i // 2, i % 2)
        self.variant = QComboBox()
        self.variant.setToolTip("Segment and pose models have mask (M) or keypoint (P) curves besides the boxes'")
        self.variant.currentIndexChanged.connect(lambda _i: self._draw())
        self.classes = QListWidget()
        self.classes.setMaximumWidth(150)
        self.classes.itemChanged.connect(self._on_classes_item_changed)
        all_button, none_button = QPushButton("All"), QPushButton("None")
        all_button.clicked.connect(lambda: self._check_all(True))
        none_button.clicked.connect(lambda: self._check_all(False))
        side = QVBoxLayout()
        side.addWidget(self.variant)
        side.addWidget(self.classes, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(all_button)
        buttons.addWidget(none_button)
        side.addLayout(buttons)
        charts = QWidget()
        row = QHBoxLayout(charts)
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(grid, 1)
        row.addLayout(side)
        self.none_label = QLabel("")
        self.none_label.setObjectName("emptyState")
        self.none_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.none_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(charts)
        self.stack.addWidget(self.none_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)

    def show_capture(self, capture: dict) -> None:
        """Draw the capture's curves; a classifier (no curves) gets a sentence saying why."""
        self.curves = capture.get("curves") or {}
        self.names = list(capture.get("names", []))
        if not self.curves:
            self.none_label.setText(
                "Classification models have no precision–recall curves: ultralytics measures them by top-1 and "
                "top-5 accuracy (above) and the class-by-class matrix." if capture.get("task") == "classify"
                else "This validation holds no curves.")
            self.stack.setCurrentWidget(self.none_label)
            self.lines = {}
            return
        self.stack.setCurrentWidget(self.stack.widget(0))
        self.classes.blockSignals(True)
        self.classes.clear()
        for name in [MEAN, *self._curve_classes()]:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.classes.addItem(item)
        self.classes.blockSignals(False)
        self.variant.blockSignals(True)
        self.variant.clear()
        for v in variants_of(self.curves):
            self.variant.addItem(VARIANTS[v], v)
        self.variant.setVisible(self.variant.count() > 1)
        self.variant.blockSignals(False)
        self._draw()

    def _curve_classes(self) -> list[str]:
        """Classes with curves, in the model's order (a class without validation labels has none)."""
        present = {c for curve in self.curves.values() for c in curve.get("y", {})}
        return [n for n in self.names if n in present] + sorted(present - set(self.names))

    def checked(self) -> set[str]:
        """The classes (and MEAN) whose lines are shown."""
        return {self.classes.item(i).text() for i in range(self.classes.count())
                if self.classes.item(i).checkState() == Qt.CheckState.Checked}

    def _draw(self) -> None:
        variant = self.variant.currentData() or "B"
        shown = self.checked()
        self.lines = {}
        classes = self._curve_classes()
        _bg, text, _axis = chart_colors()
        for kind in KINDS:
            plot = self.plots[kind]
            plot.clear()
            name = f"{kind}({variant})"
            curve = self.curves.get(name)
            style_plot(plot.getPlotItem(), kind)  # the variant is in the selector; "…-Confidence(B)" was clipped
            if curve is None:
                continue
            plot.setLabel("bottom", curve.get("xlabel", ""))
            plot.setLabel("left", curve.get("ylabel", ""))
            x = np.asarray(curve["x"], dtype=float)
            lines: dict[str, pg.PlotDataItem] = {}
            for i, cls in enumerate(classes):
                if cls in curve["y"]:
                    lines[cls] = plot.plot(x, np.asarray(curve["y"][cls], dtype=float),
                                           pen=pg.mkPen(class_color(i, len(classes)), width=1))
            lines[MEAN] = plot.plot(x, mean_curve(curve), pen=pg.mkPen(text, width=3))
            for cls, line in lines.items():
                line.setVisible(cls in shown)
            self.lines[name] = lines

    def _on_classes_item_changed(self, item: QListWidgetItem) -> None:
        visible = item.checkState() == Qt.CheckState.Checked
        for lines in self.lines.values():
            if item.text() in lines:
                lines[item.text()].setVisible(visible)

    def _check_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(self.classes.count()):
            self.classes.item(i).setCheckState(state)
