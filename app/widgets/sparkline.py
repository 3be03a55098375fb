"""A small axis-less pyqtgraph line of one metric across epochs; hover shows the value."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget


class Sparkline(pg.GraphicsView):
    """One series, no axes, last point marked; tooltip shows epoch and value under the cursor.

    A bare view box, not a PlotWidget: a PlotItem's axes and menus cost ~25 ms a tile for nothing shown.
    """

    def __init__(self, values: Sequence[float] = (), color: str = "#2563eb", parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, background=None)
        # scoped to the view: an unscoped sheet cascades to the tooltip and paints it transparent (a black box)
        self.setStyleSheet("Sparkline { background: transparent; border: none; }"
                           " QToolTip { color: palette(tooltip-text); background: palette(tooltip-base);"
                           " border: 1px solid palette(mid); padding: 3px; }")
        self._values: list[float] = []
        self._color = color
        self._box = pg.ViewBox(enableMenu=False)
        self._box.setMouseEnabled(x=False, y=False)
        self._box.setDefaultPadding(0.08)
        self.setCentralItem(self._box)
        self.setMinimumHeight(34)
        self.setMaximumHeight(44)
        self._curve = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=2))
        self._dot = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None)
        self._box.addItem(self._curve)
        self._box.addItem(self._dot)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.set_values(values)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(160, 40)

    def set_values(self, values: Sequence[float]) -> None:
        self._values = [float(v) for v in values if isinstance(v, int | float)]
        xs = list(range(1, len(self._values) + 1))
        self._curve.setData(xs, self._values)
        self._dot.setData(xs[-1:], self._values[-1:])
        self.setToolTip(f"{len(self._values)} epochs" if self._values else "no per-epoch results")

    def values(self) -> list[float]:
        return list(self._values)

    def _on_scene_mouse_moved(self, pos: object) -> None:
        if not self._values:
            return
        x = self._box.mapSceneToView(pos).x()
        i = min(max(int(round(x)) - 1, 0), len(self._values) - 1)
        self.setToolTip(f"epoch {i + 1}: {self._values[i]:.4g}")
