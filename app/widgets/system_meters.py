"""System meters: CPU, RAM, disk and per-GPU utilisation / memory / temperature, as bars and time series."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from app.widgets.chart_style import chart_colors, style_plot

SERIES_COLORS = {"CPU": "#2563eb", "RAM": "#16a34a", "Disk": "#6b7280"}
GPU_COLORS = ["#dc2626", "#d97706", "#9333ea", "#db2777"]
WINDOW = 300  # samples kept (10 minutes at one per 2 s)
NO_GPU = "no NVIDIA GPU on this machine"
NO_GPU_SIGNS = ("Library Not Found", "Driver Not Loaded", "No supported GPUs", "No GPUs")  # NVML's own words
TITLE_GPU = "Utilisation (%) and GPU temperature (°C)"


def gpu_note_text(reason: str | None) -> str | None:
    """The agent's reason for having no GPU readings, in words a user reads: NVML's errors mean there is no GPU."""
    if not reason:
        return None
    if any(sign.lower() in reason.lower() for sign in NO_GPU_SIGNS):
        return NO_GPU
    return reason


class Meter(QWidget):
    """A labelled bar with its reading."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.name = QLabel(label)
        self.name.setObjectName("factKey")
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        self.reading = QLabel("—")
        self.reading.setObjectName("factValue")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.name)
        lay.addWidget(self.reading)
        lay.addWidget(self.bar)

    def set(self, percent: float | None, text: str) -> None:
        self.bar.setValue(int(percent or 0))
        self.reading.setText(text)


def _gb(n: float | None) -> str:
    return f"{(n or 0) / 2**30:.1f} GB"


class SystemMeters(QWidget):
    """Fed by ``system`` events: bars for the latest sample, lines for the history."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.meters: dict[str, Meter] = {}
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(18)
        for name in ("CPU", "RAM", "Disk"):
            self._meter(name)
        for column in range(3):
            self.grid.setColumnStretch(column, 1)  # CPU, RAM and disk share the row whether or not GPUs follow
        self.note = QLabel("No samples yet: meters update every 2 s while a job runs.")
        self.note.setObjectName("muted")
        bg, text, _axis = chart_colors()
        self.plot = pg.PlotWidget(background=bg)
        pi = self.plot.getPlotItem()
        style_plot(pi, TITLE_GPU)
        pi.setLabel("bottom", "seconds")
        pi.showGrid(x=True, y=True, alpha=0.15)
        pi.setYRange(0, 100)
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.addLegend(offset=(-8, 8), labelTextColor=text)
        self.history: dict[str, tuple[list[float], list[float], Any]] = {}
        self._t0: float | None = None
        lay = QVBoxLayout(self)
        lay.addLayout(self.grid)
        lay.addWidget(self.note)
        lay.addWidget(self.plot, 1)

    def _meter(self, name: str) -> Meter:
        if name not in self.meters:
            m = Meter(name)
            n = len(self.meters)
            self.grid.addWidget(m, n // 4, n % 4)
            self.meters[name] = m
        return self.meters[name]

    def _add(self, name: str, t: float, value: float | None, color: str) -> None:
        if value is None:
            return
        if name not in self.history:
            curve = self.plot.getPlotItem().plot([], [], pen=pg.mkPen(color, width=2), name=name)
            self.history[name] = ([], [], curve)
        xs, ys, curve = self.history[name]
        xs.append(t)
        ys.append(float(value))
        del xs[:-WINDOW], ys[:-WINDOW]
        curve.setData(xs, ys)

    def add_sample(self, ev: dict[str, Any]) -> None:
        t = float(ev.get("t") or 0)
        if self._t0 is None:
            self._t0 = t
        rel = t - self._t0
        self._meter("CPU").set(ev.get("cpu"), f"{ev.get('cpu') or 0:.0f} %")
        self._meter("RAM").set(ev.get("ram"), f"{ev.get('ram') or 0:.0f} %  ({_gb(ev.get('ram_used'))} of "
                                              f"{_gb(ev.get('ram_total'))})")
        self._meter("Disk").set(ev.get("disk"), f"{ev.get('disk') or 0:.0f} % used  ({_gb(ev.get('disk_free'))} free)")
        for name in ("CPU", "RAM", "Disk"):
            self._add(name, rel, ev.get(name.lower()), SERIES_COLORS[name])
        gpus = ev.get("gpus") or []
        for g in gpus:
            i = g.get("index", 0)
            mem_pct = 100.0 * (g.get("mem_used") or 0) / (g.get("mem_total") or 1)
            self._meter(f"GPU {i} util").set(g.get("util"), f"{g.get('util') or 0:.0f} %  {g.get('name', '')}")
            self._meter(f"GPU {i} memory").set(mem_pct, f"{_gb(g.get('mem_used'))} of {_gb(g.get('mem_total'))}")
            temp = g.get("temp")
            self._meter(f"GPU {i} temp").set(min(100, temp or 0), f"{temp} °C" if temp is not None else "—")
            self._add(f"GPU {i}", rel, g.get("util"), GPU_COLORS[i % len(GPU_COLORS)])
            self._add(f"GPU {i} mem", rel, mem_pct, GPU_COLORS[(i + 1) % len(GPU_COLORS)])
            self._add(f"GPU {i} °C", rel, temp, GPU_COLORS[(i + 2) % len(GPU_COLORS)])
        note = None if gpus else gpu_note_text(ev.get("gpu_note")) or NO_GPU
        # no GPU: said in the chart's title, not a row of its own, so the meters and chart keep the room
        title = TITLE_GPU if gpus else f"Utilisation (%)  ·  {note}"
        style_plot(self.plot.getPlotItem(), title)
        self.plot.setToolTip("" if gpus else str(ev.get("gpu_note") or note))
        self.note.setText("")
        self.note.setVisible(False)

    def clear(self) -> None:
        for _, _, curve in self.history.values():
            self.plot.getPlotItem().removeItem(curve)
        self.history.clear()
        self._t0 = None
        style_plot(self.plot.getPlotItem(), TITLE_GPU)
        self.plot.setToolTip("")
        self.note.setText("No samples yet: meters update every 2 s while a job runs.")
        self.note.setVisible(True)
        for m in self.meters.values():
            m.set(0, "—")
