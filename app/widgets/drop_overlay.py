"""The note laid over the window while files are dragged over it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class DropOverlay(QLabel):
    """Shown over its parent while files are dragged over the window; lets the mouse through."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("dropOverlay")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def show_for(self, project: str) -> None:
        """Cover the parent, saying which project the files will land in."""
        self.setText(f"Drop .pt files or folders to add them to “{project}”")
        self.setGeometry(self.parentWidget().rect().adjusted(12, 12, -12, -12))
        self.raise_()
        self.show()
