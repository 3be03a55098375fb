"""A data set's labels painted over its image: boxes, segment polygons (filled masks), keypoints with their skeleton,
oriented boxes, or the class name for a classification image.

:func:`render_sample` paints into a ``QImage`` (allowed off the GUI thread) and says what it drew, so a test can
count the painted items against the label file; :class:`LabelThumb` shows the result in a grid.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QLabel, QWidget

from app.library.dataset_labels import Sample, skeleton

# ultralytics' Colors palette, reordered so the first classes stand out on red and blue objects alike
PALETTE = ("#FFB21D", "#48F90A", "#00D4BB", "#FF3838", "#CFD231", "#FF9D97", "#92CC17", "#3DDB86", "#FF701F",
           "#1A9334")


def class_color(cls: int) -> QColor:
    return QColor(PALETTE[cls % len(PALETTE)])


@dataclass
class Drawn:
    """What one thumbnail shows: counts of each kind of painted item."""

    boxes: int = 0
    polygons: int = 0
    oriented: int = 0
    keypoints: int = 0
    bones: int = 0
    captions: int = 0


def render_sample(sample: Sample, names: list[str], kpt_shape: list[int] | None, size: int = 200) -> \
        tuple[QImage, Drawn]:
    """The sample's image scaled to fit ``size`` pixels with its labels painted on it (a grey tile if it does not
    decode). Runs on any thread: it touches no widget and no QPixmap."""
    img = QImage(sample.image)
    drawn = Drawn()
    if img.isNull():
        img = QImage(size, size, QImage.Format.Format_RGB32)
        img.fill(QColor("#777777"))
    else:
        img = img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    bones = skeleton(kpt_shape)
    for ann in sample.annotations:
        color = class_color(ann.cls)
        pen = QPen(color, 2)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if ann.polygon:
            fill = QColor(color)
            fill.setAlpha(90)
            p.setBrush(QBrush(fill))
            p.drawPolygon(QPolygonF([QPointF(x * w, y * h) for x, y in ann.polygon]))
            drawn.polygons += 1
        elif ann.corners:
            p.drawPolygon(QPolygonF([QPointF(x * w, y * h) for x, y in ann.corners]))
            drawn.oriented += 1
        elif ann.box:
            cx, cy, bw, bh = ann.box
            p.drawRect(QRectF((cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h))
            drawn.boxes += 1
        if ann.keypoints:
            seen = [k[2] > 0 for k in ann.keypoints]
            p.setPen(QPen(QColor("#FFFFFF"), 1.5))
            for a, b in bones:
                if a < len(seen) and b < len(seen) and seen[a] and seen[b]:
                    (xa, ya, _), (xb, yb, _) = ann.keypoints[a], ann.keypoints[b]
                    p.drawLine(QPointF(xa * w, ya * h), QPointF(xb * w, yb * h))
                    drawn.bones += 1
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(color))
            for (x, y, _v), visible in zip(ann.keypoints, seen, strict=True):
                if visible:
                    p.drawEllipse(QPointF(x * w, y * h), 3, 3)
                    drawn.keypoints += 1
    if sample.class_name is not None:
        font = QFont()
        font.setPointSize(10)
        font.setBold(True)
        p.setFont(font)
        cls = names.index(sample.class_name) if sample.class_name in names else 0
        p.fillRect(QRectF(0, 0, w, 22), class_color(cls))
        p.setPen(QColor("#FFFFFF"))
        p.drawText(QRectF(6, 0, w - 12, 22), Qt.AlignmentFlag.AlignVCenter, sample.class_name)
        drawn.captions += 1
    p.end()
    return img, drawn


class LabelThumb(QLabel):
    """One sample in the grid: its painted image; ``drawn`` says what was painted, the tooltip which file it is."""

    def __init__(self, image: QImage, drawn: Drawn, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drawn = drawn
        self.setPixmap(QPixmap.fromImage(image))  # QPixmap only here, on the GUI thread
        self.setToolTip(caption)
        self.setObjectName("labelThumb")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
