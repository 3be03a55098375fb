"""The images behind a confusion-matrix cell: a strip of thumbnails, ground truth and predictions in two colours.

Decoding and drawing run on the thread pool (``run_in_background``); the GUI thread only turns finished
pixels into icons. A newer cell click makes the answer of an older one stale: it is dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.qt.tasks import run_in_background
from app.widgets.image_view import bgr_to_qimage

THUMB = 120  # pixels of a thumbnail's longer side
MAX_THUMBS = 60  # a cell of thousands shows its first ones; the heading says how many there are
TRUTH_BGR = (80, 200, 60)  # green: ground truth
PRED_BGR = (40, 120, 255)  # orange: predictions
HINT = "Click a cell of the matrix to see the images behind it (ground truth in green, predictions in orange)."


def _corners(box: Any) -> np.ndarray:
    """Four corners of an axis box [x1, y1, x2, y2] or of an OBB's [[x, y] × 4], as int32 points."""
    arr = np.asarray(box, dtype=float)
    if arr.ndim == 1:
        x1, y1, x2, y2 = arr[:4]
        arr = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
    return arr.reshape(-1, 2)


def draw_thumbnail(entry: dict, names: list[str], size: int = THUMB) -> np.ndarray:
    """The entry's image (BGR) scaled to ``size`` with its truth boxes in green and predictions in orange."""
    import cv2

    img = cv2.imread(str(entry["file"]))
    if img is None:  # a moved or unreadable file: a grey tile saying so, not an error
        img = np.full((size, size, 3), 90, np.uint8)
        cv2.putText(img, "missing", (8, size // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1)
        return img
    scale = size / max(img.shape[:2])
    img = cv2.resize(img, (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))))
    lines: list[tuple[str, tuple[int, int, int]]] = []
    for kind, color in (("truth", TRUTH_BGR), ("pred", PRED_BGR)):
        for obj in entry.get(kind, []):
            name = names[obj["cls"]] if 0 <= obj["cls"] < len(names) else str(obj["cls"])
            text = name + (f" {obj['conf']:.2f}" if "conf" in obj else "")
            if "box" in obj:
                pts = (_corners(obj["box"]) * scale).round().astype(np.int32)
                cv2.polylines(img, [pts], True, color, 1, cv2.LINE_AA)
                x, y = pts[:, 0].min(), max(10, pts[:, 1].min() - 2)
                cv2.putText(img, text, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, color, 1, cv2.LINE_AA)
            else:  # classify: the labels are written in the corner
                lines.append((text, color))
    for i, (text, color) in enumerate(lines[:6]):
        cv2.putText(img, text, (4, 14 + 13 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.4, color, 1, cv2.LINE_AA)
    return img


class ThumbnailStrip(QWidget):
    """A heading and a wrapping grid of thumbnails; ``show_cell`` fills it off the GUI thread."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel(HINT)
        self.heading.setObjectName("muted")
        self.heading.setWordWrap(True)
        self.grid = QListWidget()
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setFlow(QListView.Flow.LeftToRight)
        self.grid.setWrapping(True)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setIconSize(QSize(THUMB, THUMB))
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setMinimumHeight(THUMB + 30)
        self._generation = 0  # which click the thumbnails being drawn belong to
        self.loading = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.heading)
        lay.addWidget(self.grid, 1)

    def show_cell(self, title: str, entries: list[dict], names: list[str]) -> None:
        """Show up to MAX_THUMBS of ``entries`` (capture image entries) under ``title``."""
        self._generation += 1
        generation = self._generation
        self.grid.clear()
        if not title:  # nothing chosen yet: the hint
            self.heading.setText(HINT)
            self.loading = False
            return
        shown = entries[:MAX_THUMBS]
        more = f" — the first {len(shown)} shown" if len(entries) > len(shown) else ""
        count = sum(int(e.get("count", 1)) for e in entries)
        self.heading.setText(f"{title}: {count} in {len(entries)} image{'s' if len(entries) != 1 else ''}{more}")
        if not shown:
            self.loading = False
            return
        self.loading = True

        def draw() -> list[tuple[str, np.ndarray]]:
            return [(str(e["file"]), draw_thumbnail(e, names)) for e in shown]

        run_in_background(draw, lambda drawn: self._on_drawn(generation, drawn))

    def _on_drawn(self, generation: int, drawn: list[tuple[str, np.ndarray]]) -> None:
        if generation != self._generation:
            return  # a later click owns the strip now
        for path, pixels in drawn:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(bgr_to_qimage(pixels))), path.rsplit("/", 1)[-1])
            item.setToolTip(path)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.grid.addItem(item)
        self.loading = False
