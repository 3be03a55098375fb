"""Live charts of an endpoint (pyqtgraph), fed from its /metrics readings: a 2×2 grid of requests/s, error rate,
latency p50/p95/p99 and the server's CPU % and memory."""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QWidget

from app.deploy.metrics_reading import MetricsReading, interval
from app.widgets.chart_style import chart_colors, style_plot

WINDOW_POINTS = 150  # 5 minutes at one reading every 2 s
Series = list[tuple[float, float]]
NO_READINGS = "no readings yet: deploy or select an endpoint"
LATENCY_COLOURS = {"p50": "#16a34a", "p95": "#d97706", "p99": "#dc2626"}
CPU_COLOUR, MEMORY_COLOUR = "#7c3aed", "#0891b2"


def _legend_title(title: str, items: dict[str, str]) -> str:
    """A title whose coloured names stand for the legend (a legend box would cover a plot this small)."""
    return title + " " + " ".join(f'<span style="color:{c}">■ {name}</span>' for name, c in items.items())


class MetricsChart(QWidget):
    """Four small plots; ``add_reading`` takes each /metrics reading, the interval figures are worked out here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        bg, text, axis = chart_colors()
        titles = ("Requests/s", "Errors (% of requests not 2xx)",
                  _legend_title("Latency ms", LATENCY_COLOURS),
                  _legend_title("Server", {"CPU %": CPU_COLOUR, "memory MB": MEMORY_COLOUR}))
        self.rate_plot, self.error_plot, self.latency_plot, self.server_plot = (pg.PlotWidget(background=bg)
                                                                                for _ in titles)
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        for i, (plot, title) in enumerate(zip(self.plots, titles, strict=True)):
            pi = plot.getPlotItem()
            style_plot(pi, title)
            pi.showGrid(x=True, y=True, alpha=0.15)
            pi.setMenuEnabled(False)
            pi.hideButtons()
            pi.getAxis("left").setWidth(42)  # the four plots' x axes line up whatever their numbers' width
            plot.setMinimumHeight(110)
            lay.addWidget(plot, i // 2, i % 2)
        self.rate_curve = self.rate_plot.plot(pen=pg.mkPen("#2563eb", width=2))
        self.error_curve = self.error_plot.plot(pen=pg.mkPen("#dc2626", width=2))
        self.latency_curves = {q: self.latency_plot.plot(pen=pg.mkPen(c, width=2)) for q, c in LATENCY_COLOURS.items()}
        self.cpu_curve = self.server_plot.plot(pen=pg.mkPen(CPU_COLOUR, width=2))
        # Memory has its own scale on the right: MB and % on one axis would flatten one of them.
        server = self.server_plot.getPlotItem()
        self.memory_view = pg.ViewBox()
        server.showAxis("right")
        server.scene().addItem(self.memory_view)
        right = server.getAxis("right")
        right.linkToView(self.memory_view)
        right.setPen(axis)
        right.setTextPen(text)
        self.memory_view.setXLink(server)
        server.vb.sigResized.connect(lambda: self.memory_view.setGeometry(server.vb.sceneBoundingRect()))
        self.memory_curve = pg.PlotCurveItem(pen=pg.mkPen(MEMORY_COLOUR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.memory_view.addItem(self.memory_curve)
        # An empty plot's 0.2 … 0.8 axes say nothing: until a reading comes, each plot says why it is empty.
        self.placeholders = [pg.TextItem(NO_READINGS, color=text, anchor=(0.5, 0.5)) for _ in self.plots]
        for plot, note in zip(self.plots, self.placeholders, strict=True):
            plot.addItem(note, ignoreBounds=True)
            note.setPos(0.5, 0.5)
        self.clear()

    @property
    def plots(self) -> tuple[pg.PlotWidget, ...]:
        """The four plots, in reading order."""
        return self.rate_plot, self.error_plot, self.latency_plot, self.server_plot

    def clear(self) -> None:
        """Forget the readings (another endpoint was selected)."""
        self._start = time.monotonic()
        self._last: MetricsReading | None = None
        self.rates: Series = []
        self.errors: Series = []
        self.latency: dict[str, Series] = {q: [] for q in LATENCY_COLOURS}
        self.cpu: Series = []
        self.memory: Series = []
        self._draw()

    @property
    def p95s(self) -> Series:
        """The p95 latency points (ms)."""
        return self.latency["p95"]

    def add_reading(self, reading: MetricsReading) -> None:
        """One /metrics reading; with the one before it, a point on each chart (memory needs no earlier one)."""
        t = reading.at - self._start
        stats = interval(self._last, reading)
        self._last = reading
        if stats is not None:
            self.rates.append((t, stats.requests_per_s))
            if stats.error_pct is not None:
                self.errors.append((t, stats.error_pct))
            for q, value in (("p50", stats.p50_ms), ("p95", stats.p95_ms), ("p99", stats.p99_ms)):
                if value is not None:
                    self.latency[q].append((t, value))
            if stats.cpu_pct is not None:
                self.cpu.append((t, stats.cpu_pct))
        if reading.rss_bytes is not None:
            self.memory.append((t, reading.rss_bytes / 2**20))
        for series in (self.rates, self.errors, self.cpu, self.memory, *self.latency.values()):
            del series[:-WINDOW_POINTS]
        self._draw()

    def _draw(self) -> None:
        for curve, series in ((self.rate_curve, self.rates), (self.error_curve, self.errors),
                              (self.cpu_curve, self.cpu), (self.memory_curve, self.memory),
                              *((self.latency_curves[q], s) for q, s in self.latency.items())):
            curve.setData([x for x, _ in series], [y for _, y in series])
        for note, series in zip(self.placeholders, (self.rates, self.errors, self.latency["p50"], self.memory),
                                strict=True):
            note.setVisible(not series)
        # From zero, or a 10 % → 12 % wobble fills the plot and reads as a surge.
        for view, values in ((self.rate_plot, self.rates), (self.error_plot, self.errors), (self.server_plot, self.cpu),
                             (self.memory_view, self.memory),
                             (self.latency_plot, [p for s in self.latency.values() for p in s])):
            view.setYRange(0, max((y for _, y in values), default=0) * 1.1 or 1, padding=0)
