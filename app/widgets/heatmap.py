"""A confusion-matrix heat map (pyqtgraph ImageItem): class names on both axes, hover text, cell clicks, zoom.

Rows are predicted classes, columns true classes (ultralytics' ``matrix[predicted, true]``); the picture puts the
true class along x and the predicted one along y, row 0 at the top, as ultralytics' own plot does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont
from PySide6.QtWidgets import QToolTip

from app.widgets.chart_style import chart_colors

LABEL_CHARS = 12  # longer class names are elided on the axes (the tooltip has them whole)
CELL_TEXT_MAX = 15  # up to this many rows the counts are written in the cells
EPS = 1e-9  # as ultralytics, so an empty true column normalizes to 0, not NaN


def normalized_by_true(counts: np.ndarray) -> np.ndarray:
    """Each column divided by its sum (per true class), as ultralytics' normalized plot."""
    return counts / (counts.sum(0).reshape(1, -1) + EPS)


def elide(name: str, chars: int = LABEL_CHARS) -> str:
    """``name`` cut to ``chars`` characters with an ellipsis when longer."""
    return name if len(name) <= chars else name[: chars - 1] + "…"


class ClassAxis(pg.AxisItem):
    """An axis of class names at integer positions; thins them out when cells are smaller than a line of text."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.names: list[str] = []

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802
        if not self.names:
            return []
        minVal, maxVal = min(minVal, maxVal), max(minVal, maxVal)  # noqa: N806 (an inverted axis gives them swapped)
        lo, hi = max(0, int(np.ceil(minVal))), min(len(self.names) - 1, int(np.floor(maxVal)))
        if hi < lo:
            return []
        per_cell = size / max(maxVal - minVal, 1e-6)  # pixels per class at the current zoom
        # a label needs a line (~14 px) on the left axis, its width (~7 px a character) on the bottom one
        need = 14 if self.orientation in ("left", "right") else 7 * max(len(elide(n)) for n in self.names) + 8
        step = max(1, int(np.ceil(need / max(per_cell, 1e-6))))
        return [(float(step), [float(v) for v in range(lo, hi + 1, step)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [elide(self.names[int(v)]) if 0 <= int(v) < len(self.names) else "" for v in values]


class HeatMap(pg.PlotWidget):
    """A matrix of counts drawn as cells; counts or per-true-column shares; ``cellClicked(predicted, true)``."""

    cellClicked = Signal(int, int)

    def __init__(self) -> None:
        self.x_axis, self.y_axis = ClassAxis("bottom"), ClassAxis("left")
        bg, text, axis = chart_colors()
        super().__init__(background=bg, axisItems={"bottom": self.x_axis, "left": self.y_axis})
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.normalized = False
        self.names: list[str] = []
        self.image = pg.ImageItem(axisOrder="row-major")  # image[row, col]: row = predicted (y), col = true (x)
        self.addItem(self.image)
        self._cell_texts: list[pg.TextItem] = []
        item = self.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(True)  # square cells
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLabel("bottom", "True", color=text)
        item.setLabel("left", "Predicted", color=text)
        for ax in (self.x_axis, self.y_axis):
            ax.setPen(axis)
            ax.setTextPen(text)
        self.x_axis.setStyle(autoExpandTextSpace=True)
        self.y_axis.setWidth(96)
        low = QColor(bg)
        self._cmap = pg.ColorMap([0.0, 0.5, 1.0], [low, QColor("#60a5fa"), QColor("#1e3a8a")])
        self.image.setLookupTable(self._cmap.getLookupTable(nPts=256))
        self.setMouseTracking(True)
        self.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

    # ------------------------------------------------------------------ data
    def set_matrix(self, counts: Sequence[Sequence[int]] | np.ndarray, names: Sequence[str]) -> None:
        """Show ``counts[predicted][true]`` with ``names`` on both axes (the same length as the matrix)."""
        self.counts = np.asarray(counts, dtype=np.int64).reshape(len(names), len(names))
        self.names = list(names)
        self.x_axis.names = self.y_axis.names = self.names
        self._draw()
        self.getPlotItem().getViewBox().setRange(xRange=(-0.5, len(names) - 0.5), yRange=(-0.5, len(names) - 0.5),
                                                 padding=0)

    def set_normalized(self, normalized: bool) -> None:
        """Counts (False) or each true column's shares (True)."""
        self.normalized = normalized
        self._draw()

    def values(self) -> np.ndarray:
        """What the cells show: counts, or shares of each true column."""
        return normalized_by_true(self.counts) if self.normalized else self.counts.astype(float)

    def _draw(self) -> None:
        shown = self.values()
        n = len(self.names)
        top = float(shown.max()) if shown.size and shown.max() > 0 else 1.0
        self.image.setImage(shown, levels=(0.0, top), autoLevels=False)
        self.image.setRect(-0.5, -0.5, n, n)  # cell (r, c) centred on (c, r)
        for t in self._cell_texts:
            self.removeItem(t)
        self._cell_texts = []
        if 0 < n <= CELL_TEXT_MAX:  # numbers in the cells only while they fit
            font = QFont()
            font.setPointSize(8)
            for r in range(n):
                for c in range(n):
                    if shown[r, c] <= 0:
                        continue
                    dark = shown[r, c] > 0.45 * top  # light text on the dark end of the map, as ultralytics
                    label = f"{shown[r, c]:.2f}" if self.normalized else str(int(shown[r, c]))
                    t = pg.TextItem(label, color="#ffffff" if dark else chart_colors()[1], anchor=(0.5, 0.5))
                    t.setFont(font)
                    t.setPos(c, r)
                    self.addItem(t)
                    self._cell_texts.append(t)

    # ------------------------------------------------------------------ pointer
    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (predicted, true) cell under a scene position, or None outside the matrix."""
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        col, row = int(np.floor(p.x() + 0.5)), int(np.floor(p.y() + 0.5))
        n = len(self.names)
        return (row, col) if 0 <= row < n and 0 <= col < n else None

    def scene_pos_of(self, predicted: int, true: int) -> QPointF:
        """The scene position of a cell's centre (tests and screenshot scripts point at cells with it)."""
        return self.getPlotItem().getViewBox().mapViewToScene(QPointF(true, predicted))

    def hover_text(self, predicted: int, true: int) -> str:
        """The tooltip of a cell: both class names, its count and its share of the true class."""
        count = int(self.counts[predicted, true])
        column = int(self.counts[:, true].sum())
        share = count / column if column else 0.0
        return (f"Predicted {self.names[predicted]} · true {self.names[true]}\n"
                f"{count} of {column} ({share:.1%} of true {self.names[true]})")

    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        cell = self.cell_at(pos)
        if cell is None:
            QToolTip.hideText()
            self.setCursor(Qt.CursorShape.ArrowCursor)
            return
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        QToolTip.showText(QCursor.pos(), self.hover_text(*cell), self)

    def _on_scene_mouse_clicked(self, event) -> None:  # type: ignore[no-untyped-def] # pyqtgraph's MouseClickEvent
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cellClicked.emit(*cell)
