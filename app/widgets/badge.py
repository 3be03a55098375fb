"""Coloured pill badges for tasks and statuses, as a label and as a painter helper for delegates."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

TASK_COLORS = {
    "detect": "#2563eb", "segment": "#9333ea", "pose": "#ea580c", "obb": "#0d9488", "classify": "#16a34a",
    "semantic": "#db2777", "depth": "#4b5563",
}
STATUS_COLORS = {
    "Ready": "#16a34a", "Completed": "#16a34a", "Incomplete": "#d97706", "Training": "#2563eb",
    "Running": "#2563eb", "Starting": "#0891b2", "Queued": "#7c3aed", "Failed": "#dc2626", "Cancelled": "#6b7280",
}
UPLOAD_COLORS = {
    "queued": "#6b7280", "reading": "#2563eb", "copying": "#2563eb", "added": "#16a34a",
    "duplicate": "#d97706", "rejected": "#dc2626", "skipped": "#6b7280",
}
WORKER_COLORS = {
    "Ready": "#16a34a", "Untested": "#6b7280", "Needs attention": "#d97706", "Testing…": "#2563eb",
    "Installing…": "#2563eb",
}


def badge_color(kind: str, text: str) -> str:
    table = {"task": TASK_COLORS, "status": STATUS_COLORS, "upload": UPLOAD_COLORS, "worker": WORKER_COLORS}[kind]
    return table.get(text, "#6b7280")


def paint_badge(painter: QPainter, rect: QRect, text: str, color: str) -> None:
    """Draw a rounded pill with ``text`` vertically centred in ``rect`` (left aligned)."""
    fm = QFontMetrics(painter.font())
    w = fm.horizontalAdvance(text) + 14
    h = fm.height() + 4
    r = QRectF(rect.left() + 4, rect.center().y() - h / 2 + 1, w, h)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    c = QColor(color)
    fill = QColor(c)
    fill.setAlpha(38)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(r, h / 2, h / 2)
    painter.setPen(c.darker(115))
    painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


class Badge(QLabel):
    """A small coloured pill (task, status or upload state)."""

    def __init__(self, kind: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = kind
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.set_text(text)

    def set_text(self, text: str) -> None:
        c = QColor(badge_color(self._kind, text))
        self.setText(text)
        # rgba(): an 8-digit hex colour in a style sheet is read as #AARRGGBB, not #RRGGBBAA
        self.setStyleSheet(
            f"QLabel {{ color: {_ink(c, self.palette()).name()}; background: rgba({c.red()}, {c.green()}, {c.blue()}, 38);"
            f" border-radius: 9px; padding: 1px 9px; font-weight: 600; }}"
        )
        self.setAccessibleName(f"{self._kind}: {text}")


def _ink(c: QColor, palette: QPalette) -> QColor:
    """The badge's text: its colour darkened on a light window, lightened on a dark one (readable on its tint)."""
    return c.lighter(150) if palette.color(QPalette.ColorRole.Window).lightness() < 128 else c.darker(115)
