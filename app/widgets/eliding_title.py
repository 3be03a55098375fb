"""A one-line title that elides to its width and says when it does (so a view can show the whole text elsewhere)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget
from superqt import QElidingLabel


class ElidingTitle(QElidingLabel):
    """``text()`` is the whole text, also the tooltip; ``overflowChanged(text)`` gives the whole text while the
    title is cut to fit, and "" once it fits."""

    overflowChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._overflow = ""

    def is_elided(self) -> bool:
        """Whether the text drawn is shorter than the whole text (it ends with "…")."""
        return bool(self.text()) and QLabel.text(self) != self.text()

    def setText(self, txt: str) -> None:  # noqa: N802 — Qt's name
        """Set the whole text; the tooltip carries it too, for where the title is cut."""
        super().setText(txt)
        self.setToolTip(txt)
        self._note_overflow()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 — Qt's name
        super().resizeEvent(event)
        self._note_overflow()

    def _note_overflow(self) -> None:
        overflow = self.text() if self.is_elided() else ""
        if overflow != getattr(self, "_overflow", ""):  # setText runs inside the base __init__, before ours
            self._overflow = overflow
            self.overflowChanged.emit(overflow)
