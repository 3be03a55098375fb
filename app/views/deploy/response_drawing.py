"""An endpoint's answer drawn on the picture that was sent, from the response JSON alone (no local model).

``results`` is ultralytics' ``Results.summary()``: ``box`` as x1..y2 (or x1..y4 for OBB corners), ``segments``
and ``keypoints`` as x / y lists, in pixels of the sent picture; classification has no box, its top-5 is text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPolygonF

# One colour per class id, readable on photos in either theme (the Tableau 10 palette).
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")


def results_of(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The first image's results (the panel sends one picture), or [] for an answer without them."""
    images = response.get("images") or []
    first = images[0] if images and isinstance(images[0], dict) else {}
    return [r for r in first.get("results") or [] if isinstance(r, dict)]


def is_classification(results: list[dict[str, Any]]) -> bool:
    return bool(results) and all("box" not in r for r in results)


def top5_text(results: list[dict[str, Any]]) -> str:
    """Classification's top-5 as lines ``name  0.93``."""
    return "\n".join(f"{r.get('name', r.get('class', '?'))}  {float(r.get('confidence', 0)):.2f}" for r in results[:5])


def summary_line(response: dict[str, Any]) -> str:
    """One line under the picture: what was found, by whom, how fast."""
    results = results_of(response)
    meta = response.get("metadata") or {}
    images = response.get("images") or [{}]
    speed = images[0].get("speed") if isinstance(images[0], dict) else None
    took = f", {sum(v for v in speed.values() if isinstance(v, (int, float))):.0f} ms" if isinstance(speed, dict) else ""
    if is_classification(results):
        best = results[0]
        found = f"top-1 {best.get('name')} ({float(best.get('confidence', 0)):.2f})"
    else:
        found = f"{len(results)} object{'s' if len(results) != 1 else ''}"
    return f"{found} — {meta.get('model', '?')} ({meta.get('task', '?')}){took}"


def _corners(box: dict[str, Any]) -> list[QPointF]:
    if "x3" in box:  # OBB: four corners
        return [QPointF(float(box[f"x{i}"]), float(box[f"y{i}"])) for i in range(1, 5) if f"x{i}" in box]
    x1, y1, x2, y2 = (float(box[k]) for k in ("x1", "y1", "x2", "y2"))
    return [QPointF(x1, y1), QPointF(x2, y1), QPointF(x2, y2), QPointF(x1, y2)]


def draw_response(image: QImage, response: dict[str, Any]) -> QImage:
    """A copy of ``image`` with the answer's boxes, OBB corners, masks, keypoints and labels (or its top-5)."""
    out = image.convertToFormat(QImage.Format.Format_ARGB32)
    results = results_of(response)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scale = max(1.0, min(out.width(), out.height()) / 320)  # lines and labels stay visible on big pictures
    font = QFont()
    font.setPixelSize(int(11 * scale))
    painter.setFont(font)
    if is_classification(results):
        _draw_top5(painter, results, scale)
    for r in results if not is_classification(results) else []:
        colour = QColor(PALETTE[int(r.get("class", 0)) % len(PALETTE)])
        try:
            corners = _corners(r["box"])
        except (KeyError, TypeError, ValueError):
            continue  # a row this drawing does not understand: the JSON still shows it
        seg = r.get("segments") or {}
        if seg.get("x"):
            fill = QColor(colour)
            fill.setAlpha(90)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawPolygon(QPolygonF([QPointF(x, y) for x, y in zip(seg["x"], seg.get("y", []), strict=False)]))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(colour, 2 * scale))
        painter.drawPolygon(QPolygonF(corners))
        kp = r.get("keypoints") or {}
        visible = kp.get("visible") or [1.0] * len(kp.get("x", []))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour.lighter(130))
        for x, y, v in zip(kp.get("x", []), kp.get("y", []), visible, strict=False):
            if v >= 0.5 and (x or y):  # (0, 0) is ultralytics' "not seen"
                painter.drawEllipse(QPointF(x, y), 2.5 * scale, 2.5 * scale)
        _label(painter, corners[0], f"{r.get('name', '?')} {float(r.get('confidence', 0)):.2f}", colour)
    painter.end()
    return out


def _label(painter: QPainter, at: QPointF, text: str, colour: QColor) -> None:
    metrics = painter.fontMetrics()
    rect = QRectF(at.x(), at.y() - metrics.height(), metrics.horizontalAdvance(text) + 6, metrics.height())
    if rect.top() < 0:
        rect.moveTop(at.y())  # at the top edge: the label goes inside the box
    right_edge = painter.device().width() if painter.device() else rect.right()
    if rect.right() > right_edge:
        rect.moveRight(right_edge)  # at the right edge: the label shifts left, still readable
    painter.fillRect(rect, colour)
    painter.setPen(QColor("white"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _draw_top5(painter: QPainter, results: list[dict[str, Any]], scale: float) -> None:
    lines = top5_text(results).splitlines()
    metrics = painter.fontMetrics()
    width = max(metrics.horizontalAdvance(line) for line in lines) + 12
    painter.fillRect(QRectF(4, 4, width, metrics.height() * len(lines) + 8), QColor(0, 0, 0, 160))
    painter.setPen(QColor("white"))
    for i, line in enumerate(lines):
        painter.drawText(QPointF(10, 8 + metrics.ascent() + i * metrics.height()), line)
