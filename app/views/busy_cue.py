"""A visible busy cue for anything that may take over 200 ms: a wait cursor and a busy bar in the status bar."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QStatusBar

DELAY_MS = 200  # shorter work shows no cue (a flash of cursor reads as a glitch)


class BusyCue(QObject):
    """``start(what)`` / ``stop(what)`` around slow work; the cue shows if some is still going after 200 ms."""

    def __init__(self, status: QStatusBar) -> None:
        super().__init__(status)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # indeterminate: we do not know how long it takes
        self.bar.setMaximumWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        status.addPermanentWidget(self.label)
        status.addPermanentWidget(self.bar)
        self.label.hide()
        self.bar.hide()
        self.going: dict[str, int] = {}  # what → how many are in flight
        self._cursor = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def shown(self) -> bool:
        return self.bar.isVisible()

    def start(self, what: str) -> None:
        """Slow work named ``what`` begins (counted: two of the same need two stops)."""
        self.going[what] = self.going.get(what, 0) + 1
        if not self.shown and not self._timer.isActive():
            self._timer.start()

    def start_now(self, what: str) -> None:
        """As :meth:`start`, but cue at once: the GUI thread is about to be held and no timer could fire."""
        self.start(what)
        self._on_timer_timeout()
        self.label.repaint()  # painted now: the event loop will not run until the work is done
        self.bar.repaint()

    def stop(self, what: str) -> None:
        """The work named ``what`` ended (success or not)."""
        left = self.going.get(what, 0) - 1
        if left > 0:
            self.going[what] = left
        else:
            self.going.pop(what, None)
        if not self.going:
            self._timer.stop()
            self.label.hide()
            self.bar.hide()
            if self._cursor:
                QApplication.restoreOverrideCursor()
                self._cursor = False
        else:
            self.label.setText(f"{next(iter(self.going))}…")

    def _on_timer_timeout(self) -> None:
        if not self.going:
            return
        self.label.setText(f"{next(iter(self.going))}…")
        self.label.show()
        self.bar.show()
        if not self._cursor:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            self._cursor = True
