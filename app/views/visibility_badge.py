"""The model page's Private / Public badge: click to toggle; making a model public asks first."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from app.library.records import ModelRecord
from app.library.untrusted import printable

COLORS = {"private": "#6b7280", "public": "#0891b2"}
LABELS = {"private": "● Private", "public": "● Public"}  # the bundled font has no emoji


class VisibilityBadge(QPushButton):
    """Shows the model's visibility; ``visibilityRequested(model_id, visibility)`` when the user changes it."""

    visibilityRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("visibilityBadge")
        self.model: ModelRecord | None = None
        self.visibility = "private"
        self.clicked.connect(self._on_clicked)
        self._draw()

    def show_model(self, m: ModelRecord) -> None:
        """Draw ``m``'s visibility (a value other than public is shown, and treated, as private)."""
        self.model = m
        self.visibility = "public" if m.visibility == "public" else "private"
        self._draw()

    def _draw(self) -> None:
        c = QColor(COLORS[self.visibility])
        self.setText(LABELS[self.visibility])
        self.setAccessibleName(f"visibility: {self.visibility}")
        self.setToolTip("Visible to everyone who can read this library; click to make it private"
                        if self.visibility == "public" else "Only you see it; click to make it public")
        self.setStyleSheet(
            f"QPushButton#visibilityBadge {{ color: {c.name()}; background: rgba({c.red()}, {c.green()}, {c.blue()}, 38);"
            f" border: none; border-radius: 10px; padding: 2px 10px; font-weight: 600; }}"
            f"QPushButton#visibilityBadge:hover {{ background: rgba({c.red()}, {c.green()}, {c.blue()}, 70); }}")

    def _on_clicked(self) -> None:
        m = self.model
        if m is None:
            return
        if self.visibility == "public":
            self.visibilityRequested.emit(m.id, "private")  # back to private needs no question
            return
        answer = QMessageBox.question(self, "Make public", f"Make “{printable(m.name)}” public? It becomes visible to "
                                      "everyone who can read this library.")
        if answer == QMessageBox.StandardButton.Yes:
            self.visibilityRequested.emit(m.id, "public")
