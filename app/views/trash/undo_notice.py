"""The status bar's "Moved “X” to the trash — Undo" for a few seconds after a model is trashed (also Ctrl+Z)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow

from app.library.untrusted import printable
from app.widgets.status_notice import StatusNotice

UNDO_SECONDS = 10


class UndoNotice(StatusNotice):
    """Shown while an Undo is on offer; Ctrl+Z takes it too."""

    undoRequested = Signal(str)  # the trashed model's id

    def __init__(self, window: QMainWindow, seconds: float = UNDO_SECONDS) -> None:
        super().__init__(window, "Undo", "Bring the model back from the trash (Ctrl+Z)", seconds)
        self.shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), window)
        self.shortcut.setEnabled(False)  # Ctrl+Z means Undo only while the offer stands (text fields keep theirs)
        self.shortcut.activated.connect(self._on_button_clicked)

    def offer(self, model_id: str, name: str) -> None:
        """Show "Moved “name” to the trash — Undo" for the next few seconds."""
        self.show_offer(f"Moved “{printable(name)}” to the trash —", model_id)
        self.shortcut.setEnabled(True)

    def withdraw(self) -> None:
        """Hide the offer and give Ctrl+Z back to the text fields."""
        super().withdraw()
        self.shortcut.setEnabled(False)

    def _take(self, model_id: str) -> None:
        self.undoRequested.emit(model_id)
