"""When the Predict tab paints a result, and when it asks the predict helper for the next live picture.

One paint at most every ``PAINT_INTERVAL_MS``, the newest result wins, and a result that comes later than that is
painted at once. A live picture costs the helper a drawing and the pipe two copies, so the helper sends one only
against a credit (:meth:`~app.predict.engine_proxy.ProcessPredictEngine.frame_taken`). The credit goes back not at
the paint but ``CREDIT_LEAD_MS`` before the next paint may happen: the helper then sends the newest result it has,
which arrives as the paint slot opens. (Given at the paint, the next picture came at once and waited out the
interval: capture → paint was ~70 ms with capture → result ~31 ms.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.predict.engine import Outcome

PAINT_INTERVAL_MS = 33  # ~30 paints a second at most
CREDIT_LEAD_MS = 10  # the helper's drawing and the pipe's copies of a 640 × 640 picture take ~3–5 ms


class PaintPacer(QObject):
    """Holds the newest result until its paint slot; gives the live credit back in time for the next slot."""

    def __init__(self, parent: QObject, paint: Callable[[Outcome], None], taken: Callable[[], None]) -> None:
        super().__init__(parent)
        self.latest: Outcome | None = None  # waiting for its paint
        self._paint_cb, self._taken = paint, taken
        self._painted_at = 0.0  # time.monotonic() of the last paint
        self._paint = QTimer(self)
        self._paint.setSingleShot(True)
        self._paint.timeout.connect(self._on_paint_timeout)
        self._credit = QTimer(self)
        self._credit.setSingleShot(True)
        self._credit.timeout.connect(taken)

    def offer(self, o: Outcome) -> None:
        """``o`` is the newest result: painted at its slot, replacing one still waiting."""
        if self.latest is not None and self.latest.live:
            self._taken()  # replaced unpainted: the helper must not wait for it
        self.latest = o
        if not self._paint.isActive():
            since_ms = (time.monotonic() - self._painted_at) * 1000
            self._paint.start(max(0, round(PAINT_INTERVAL_MS - since_ms)))

    def drop_live(self) -> None:
        """A live run failed: its frame still waiting must not be painted over the error."""
        if self.latest is not None and self.latest.live:
            self.latest = None

    @property
    def idle(self) -> bool:
        """Nothing waits to be painted."""
        return self.latest is None and not self._paint.isActive()

    def _on_paint_timeout(self) -> None:
        o, self.latest, self._painted_at = self.latest, None, time.monotonic()
        if o is None:
            return
        if o.live:
            self._credit.start(PAINT_INTERVAL_MS - CREDIT_LEAD_MS)
        self._paint_cb(o)
