"""Training charts (pyqtgraph): Metrics, Train loss, Val loss, Learning rate; live per epoch, hover shows values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import math

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.widgets.chart_style import chart_colors, style_plot

COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0d9488", "#db2777", "#4b5563"]
CHARTS = (
    ("metrics", "Metrics"),
    ("train", "Train loss"),
    ("val", "Val loss"),
    ("lr", "Learning rate"),
)


def chart_of(key: str) -> str | None:
    """Which chart a results column belongs to (``metrics/mAP50(B)`` → metrics, ``lr/pg0`` → lr)."""
    head = key.split("/", 1)[0]
    if head == "metrics":
        return "metrics"
    if head in ("train", "val") and key.endswith("loss"):
        return head
    if head == "lr":
        return "lr"
    return None


def label_of(key: str) -> str:
    name = key.split("/", 1)[-1]
    return name.replace("accuracy_", "").replace("_loss", "")


class EpochAxis(pg.AxisItem):
    """An axis of whole epochs: ticks only at integers, however far it is zoomed in."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802
        levels = [(spacing, [v for v in values if float(v).is_integer()])
                  for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        levels = [(spacing, values) for spacing, values in levels if values]
        if not levels:  # a range under one epoch: mark the whole epochs inside it, if any
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [str(int(round(v * scale))) for v in values]


class Chart(pg.PlotWidget):
    """One chart; its legend is a label row of its own (never drawn over the lines); series appear as they arrive."""

    def __init__(self, title: str) -> None:
        bg, text, _axis = chart_colors()
        super().__init__(background=bg, axisItems={"bottom": EpochAxis("bottom")})
        self.title = title
        pi = self.getPlotItem()
        style_plot(pi, title)
        pi.showGrid(x=True, y=True, alpha=0.15)
        pi.setLabel("bottom", "epoch")
        pi.setMenuEnabled(False)
        pi.hideButtons()
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        policy = self.legend.sizePolicy()
        policy.setHeightForWidth(False)  # else the whole tab asks its scroll area for its preferred height
        self.legend.setSizePolicy(policy)
        self.legend.setObjectName("chartLegend")
        self.legend.setStyleSheet(f"QLabel {{ background: {bg}; color: {text}; padding: 0 10px 6px 10px; }}")  # the card
        self.legend.hide()
        self.series: dict[str, tuple[list[float], list[float], Any]] = {}
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._reset_range()

    def _reset_range(self) -> None:
        """An empty chart shows a neutral range (epochs 1–10, 0–1), never the last model's axes."""
        pi = self.getPlotItem()
        pi.setXRange(1, 10, padding=0.02)
        pi.setYRange(0, 1, padding=0.02)
        pi.enableAutoRange(x=True, y=True)  # the first points bring their own range

    def _update_legend(self) -> None:
        self.legend.setText("  ".join(
            f"<span style='color:{COLORS[i % len(COLORS)]}'>━━</span>&nbsp;{label_of(key)}"
            for i, key in enumerate(self.series)))
        self.legend.setVisible(bool(self.series))  # an empty chart keeps its height for the plot

    def add_point(self, key: str, epoch: float, value: float) -> None:
        if key not in self.series:
            color = COLORS[len(self.series) % len(COLORS)]
            curve = self.getPlotItem().plot([], [], pen=pg.mkPen(color, width=2), symbol="o", symbolSize=4,
                                            symbolBrush=color, symbolPen=None)
            self.series[key] = ([], [], curve)
            self._update_legend()
        xs, ys, curve = self.series[key]
        if xs and xs[-1] == epoch:  # the same epoch again (a re-attached stream): replace, never duplicate
            ys[-1] = value
        else:
            xs.append(epoch)
            ys.append(value)
        curve.setData(xs, ys)

    def clear_series(self) -> None:
        for _, _, curve in self.series.values():
            self.getPlotItem().removeItem(curve)
        self.series.clear()
        self.legend.clear()
        self.legend.hide()
        self._reset_range()

    def values_at(self, epoch: int) -> dict[str, float]:
        out = {}
        for key, (xs, ys, _) in self.series.items():
            if epoch in xs:
                out[label_of(key)] = ys[xs.index(epoch)]
        return out

    def _on_scene_mouse_moved(self, pos: Any) -> None:
        if not self.series:
            return
        x = self.getPlotItem().getViewBox().mapSceneToView(pos).x()
        vals = self.values_at(int(round(x)))
        if vals:
            self.setToolTip(f"epoch {int(round(x))}\n" + "\n".join(f"{k}: {v:.4g}" for k, v in vals.items()))


class TrainCharts(QWidget):
    """The four training charts, fed by ``epoch`` events or rebuilt from stored per-epoch results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.charts = {key: Chart(title) for key, title in CHARTS}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, (key, _) in enumerate(CHARTS):
            cell = QWidget()
            cl = QVBoxLayout(cell)
            cl.setContentsMargins(0, 0, 0, 0)
            cl.setSpacing(0)
            cl.addWidget(self.charts[key], 1)
            cl.addWidget(self.charts[key].legend)  # under the chart, outside its plot area
            grid.addWidget(cell, i // 2, i % 2)

    def add_epoch(self, epoch: int, metrics: dict[str, Any]) -> None:
        for key, value in metrics.items():
            chart = chart_of(key)
            if chart and isinstance(value, int | float):
                self.charts[chart].add_point(key, epoch, float(value))

    def set_results(self, results: dict[str, Sequence[Any]]) -> None:
        """Rebuild from results.csv columns (a checkpoint's ``train_results``)."""
        self.clear()
        epochs = list(results.get("epoch") or [])
        for key, column in results.items():
            chart = chart_of(key)
            if not chart:
                continue
            for i, value in enumerate(column):
                if isinstance(value, int | float):
                    self.charts[chart].add_point(key, epochs[i] if i < len(epochs) else i + 1, float(value))

    def clear(self) -> None:
        for chart in self.charts.values():
            chart.clear_series()

    def epochs_shown(self) -> int:
        return max((len(xs) for c in self.charts.values() for xs, _, _ in c.series.values()), default=0)
