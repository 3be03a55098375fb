"""A status bar notice with one button ("Cloned “X” to “P” — Open", "Moved “X” to the trash — Undo")."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QWidget


class StatusNotice(QWidget):
    """A permanent status bar widget (a temporary message would hide it) offering one action on a model for a few
    seconds. Subclasses say what taking the offer does in :meth:`_take`."""

    def __init__(self, window: QMainWindow, button_text: str, tooltip: str, seconds: float) -> None:
        super().__init__(window)
        self.model_id: str | None = None
        self.label = QLabel("")
        self.button = QPushButton(button_text)
        self.button.setObjectName("flat")
        self.button.setToolTip(tooltip)
        self.button.clicked.connect(self._on_button_clicked)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 6, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(seconds * 1000))
        self._timer.timeout.connect(self.withdraw)
        window.statusBar().addPermanentWidget(self)
        self.hide()

    def show_offer(self, text: str, model_id: str) -> None:
        """Show ``text`` and the button for the model ``model_id`` until the time is up."""
        self.model_id = model_id
        self.label.setText(text)
        self.show()
        self._timer.start()

    def withdraw(self) -> None:
        """Hide the offer (its time is up, or it was taken)."""
        self._timer.stop()
        self.model_id = None
        self.hide()

    @property
    def offered(self) -> bool:
        return self.model_id is not None

    def _take(self, model_id: str) -> None:
        raise NotImplementedError

    def _on_button_clicked(self) -> None:
        model_id = self.model_id
        self.withdraw()
        if model_id is not None:
            self._take(model_id)
