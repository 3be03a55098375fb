"""The Compare page's charts: each model's mean PR and F1 curves, and one training column over the epochs,
overlaid, each model in its own colour."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.validation.compare_rows import metric_label
from app.views.compare.loader import CURVES
from app.widgets.chart_style import chart_colors, style_plot
from app.widgets.train_charts import COLORS

PREFERRED_TRAINING = ("metrics/mAP50-95(B)", "metrics/accuracy_top1", "metrics/mAP50(B)")


def model_color(i: int) -> str:
    """The colour of the i-th compared model (the same in every chart and in the legend)."""
    return COLORS[i % len(COLORS)]


def training_columns(models: list[dict[str, Any]]) -> list[str]:
    """Results columns every model has (besides epoch and time), preferred ones first."""
    sets = [set((m["training"].get("results") or {})) - {"epoch", "time"} for m in models]
    common = set.intersection(*sets) if sets else set()
    return [c for c in PREFERRED_TRAINING if c in common] + sorted(common - set(PREFERRED_TRAINING))


class OverlayCharts(QWidget):
    """PR, F1 and training charts; ``lines[chart][model id]`` is each drawn line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: dict[str, Any] = {}
        self.lines: dict[str, dict[str, pg.PlotDataItem]] = {}
        bg = chart_colors()[0]
        self.plots = {name: pg.PlotWidget(background=bg) for name in (*CURVES, "training")}
        for plot in self.plots.values():
            plot.setMinimumSize(260, 200)
            plot.getPlotItem().setMenuEnabled(False)
        for name in CURVES:  # both axes are shares: fixed 0–1, so a flat curve is not blown up to fill the chart
            self.plots[name].setXRange(0, 1, padding=0.02)
            self.plots[name].setYRange(0, 1.02, padding=0.02)
        self.column = QComboBox()
        self.column.setToolTip("Which training column to overlay (from each model's results)")
        self.column.currentIndexChanged.connect(lambda _i: self._draw_training())
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.plots[CURVES[0]], 0, 0)
        grid.addWidget(self.plots[CURVES[1]], 0, 1)
        training = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(QLabel("Training"))
        head.addWidget(self.column, 1)
        training.addLayout(head)
        training.addWidget(self.plots["training"], 1)
        grid.addLayout(training, 0, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.legend)
        lay.addLayout(grid, 1)

    def show_comparison(self, result: dict[str, Any]) -> None:
        """Draw every model's curves (those it has) and fill the training column choice."""
        self.result = result
        models = result["models"]
        self.legend.setText("   ".join(f"<span style='color:{model_color(i)}; font-weight:600'>━ {m['name']}</span>"
                                       for i, m in enumerate(models)))
        for name in CURVES:
            plot = self.plots[name]
            plot.clear()
            style_plot(plot.getPlotItem(), name.replace("(B)", "") + " (all classes)")
            self.lines[name] = {}
            for i, m in enumerate(models):
                curve = result["extra"][m["id"]]["curves"].get(name)
                if curve is None:
                    continue
                plot.setLabel("bottom", curve["xlabel"])
                plot.setLabel("left", curve["ylabel"])
                self.lines[name][m["id"]] = plot.plot(curve["x"], curve["y"], pen=pg.mkPen(model_color(i), width=2))
        self.column.blockSignals(True)
        self.column.clear()
        for column in training_columns(models):  # people read "mAP50-95 (box)"; the raw column rides along
            self.column.addItem(metric_label(column), column)
        self.column.blockSignals(False)
        self._draw_training()

    def _draw_training(self) -> None:
        plot = self.plots["training"]
        plot.clear()
        column = self.column.currentData() or ""
        style_plot(plot.getPlotItem(), self.column.currentText() or "no training results in common")
        self.lines["training"] = {}
        for i, m in enumerate(self.result.get("models", [])):
            results = m["training"].get("results") or {}
            ys = results.get(column)
            if not column or not ys:
                continue
            xs = results.get("epoch") or list(range(1, len(ys) + 1))
            self.lines["training"][m["id"]] = plot.plot(xs, ys, pen=pg.mkPen(model_color(i), width=2),
                                                        symbol="o", symbolSize=5, symbolBrush=model_color(i))
        plot.setLabel("bottom", "epoch")
