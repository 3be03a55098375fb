"""A live chart of an endpoint's requests/s and p95 latency (pyqtgraph), fed from its /metrics readings."""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.widgets.chart_style import chart_colors, style_plot

WINDOW_POINTS = 150  # 5 minutes at one reading every 2 s


class MetricsChart(QWidget):
    """Two small plots side by side; ``add`` a cumulative request count and a p95, the rate is worked out here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        bg, _text, _axis = chart_colors()
        self.rate_plot = pg.PlotWidget(background=bg)
        self.p95_plot = pg.PlotWidget(background=bg)
        for plot, title in ((self.rate_plot, "Requests/s"), (self.p95_plot, "p95 latency (ms)")):
            pi = plot.getPlotItem()
            style_plot(pi, title)
            pi.showGrid(x=True, y=True, alpha=0.15)
            pi.setLabel("bottom", "s")
            pi.setMenuEnabled(False)
            pi.hideButtons()
            plot.setMinimumHeight(150)
        self.rate_curve = self.rate_plot.plot(pen=pg.mkPen("#2563eb", width=2))
        self.p95_curve = self.p95_plot.plot(pen=pg.mkPen("#dc2626", width=2))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.rate_plot)
        lay.addWidget(self.p95_plot)
        self.clear()

    def clear(self) -> None:
        """Forget the readings (another endpoint was selected)."""
        self._start = time.monotonic()
        self._last: tuple[float, int] | None = None
        self.rates: list[tuple[float, float]] = []
        self.p95s: list[tuple[float, float]] = []
        self._draw()

    def add(self, requests: int, p95: float | None, at: float | None = None) -> None:
        """One /metrics reading: the requests counted so far and the p95 (None while nothing was timed)."""
        now = time.monotonic() if at is None else at
        t = now - self._start
        if self._last is not None and now > self._last[0]:
            served = max(0, requests - self._last[1])  # a restart resets the counter: never a negative rate
            self.rates.append((t, served / (now - self._last[0])))
        self._last = (now, requests)
        if p95 is not None:
            self.p95s.append((t, p95))
        self.rates, self.p95s = self.rates[-WINDOW_POINTS:], self.p95s[-WINDOW_POINTS:]
        self._draw()

    def _draw(self) -> None:
        self.rate_curve.setData([x for x, _ in self.rates], [y for _, y in self.rates])
        self.p95_curve.setData([x for x, _ in self.p95s], [y for _, y in self.p95s])
