"""The status bar's "Moved “X” to the trash — Undo" for a few seconds after a model is trashed (also Ctrl+Z)."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QWidget

from app.library.untrusted import printable

UNDO_SECONDS = 10


class UndoNotice(QWidget):
    """A permanent status bar widget (a temporary message would hide it) shown while an Undo is on offer."""

    undoRequested = Signal(str)  # the trashed model's id

    def __init__(self, window: QMainWindow, seconds: float = UNDO_SECONDS) -> None:
        super().__init__(window)
        self.model_id: str | None = None
        self.label = QLabel("")
        self.button = QPushButton("Undo")
        self.button.setObjectName("flat")
        self.button.setToolTip("Bring the model back from the trash (Ctrl+Z)")
        self.button.clicked.connect(self._on_button_clicked)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(seconds * 1000))
        self._timer.timeout.connect(self.withdraw)
        self.shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), window)
        self.shortcut.setEnabled(False)  # Ctrl+Z means Undo only while the offer stands (text fields keep theirs)
        self.shortcut.activated.connect(self._on_button_clicked)
        window.statusBar().addPermanentWidget(self)
        self.hide()

    def offer(self, model_id: str, name: str) -> None:
        """Show "Moved “name” to the trash — Undo" for the next few seconds."""
        self.model_id = model_id
        self.label.setText(f"Moved “{printable(name)}” to the trash —")
        self.show()
        self.shortcut.setEnabled(True)
        self._timer.start()

    def withdraw(self) -> None:
        """Hide the offer (its time is up, or it was taken)."""
        self._timer.stop()
        self.shortcut.setEnabled(False)
        self.model_id = None
        self.hide()

    @property
    def offered(self) -> bool:
        return self.model_id is not None

    def _on_button_clicked(self) -> None:
        model_id = self.model_id
        self.withdraw()
        if model_id is not None:
            self.undoRequested.emit(model_id)
