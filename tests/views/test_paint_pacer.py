"""The Predict tab's paint pacing: the newest result painted at once or at its slot, the live credit given back
before the next slot rather than at the paint, a replaced live picture's credit returned."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject

from app.predict.engine import Outcome
from app.views.predict.paint_pacer import CREDIT_LEAD_MS, PAINT_INTERVAL_MS, PaintPacer


def _pacer(qtbot):
    events: list[tuple[str, float, object]] = []
    owner = QObject()
    pacer = PaintPacer(owner, lambda o: events.append(("paint", time.monotonic(), o.tag)),
                       lambda: events.append(("credit", time.monotonic(), None)))
    return owner, pacer, events


def test_a_live_result_is_painted_at_once_and_its_credit_comes_before_the_next_slot(qtbot):
    owner, pacer, events = _pacer(qtbot)
    t0 = time.monotonic()
    pacer.offer(Outcome(tag="a", live=True))
    assert pacer._paint.interval() == 0  # nothing painted for 33 ms: at once, on the next turn of the event loop
    qtbot.waitUntil(lambda: [e[0] for e in events] == ["paint", "credit"], timeout=2000)
    (_, painted, tag), (_, credit, _) = events
    assert tag == "a" and painted - t0 < 1.0
    # not at the paint (the next picture would wait out the interval) but near the next slot
    assert (PAINT_INTERVAL_MS - CREDIT_LEAD_MS) * 0.8 / 1000 <= credit - painted < 1.0
    pacer._painted_at = time.monotonic()  # as if it had just painted (the machine may have been slow since)
    pacer.offer(Outcome(tag="b", live=True))  # right after a paint: waits for its slot
    assert pacer._paint.interval() >= PAINT_INTERVAL_MS - 5
    pacer.offer(Outcome(tag="c", live=True))  # replaces b unpainted: b's credit goes back at once
    assert [e[0] for e in events[2:]] == ["credit"]
    qtbot.waitUntil(lambda: any(e[2] == "c" for e in events), timeout=2000)
    second = next(e[1] for e in events if e[2] == "c")
    assert second - painted >= PAINT_INTERVAL_MS * 0.9 / 1000 and [e[2] for e in events if e[0] == "paint"] == ["a", "c"]
    assert owner is not None


def test_a_still_gives_no_credit_and_a_failed_run_drops_its_waiting_frame(qtbot):
    owner, pacer, events = _pacer(qtbot)
    pacer.offer(Outcome(tag=1))
    qtbot.waitUntil(lambda: pacer.idle and len(events) == 1, timeout=2000)
    qtbot.wait(PAINT_INTERVAL_MS * 2)
    assert [e[0] for e in events] == ["paint"]  # a still picture is not the helper's live credit
    pacer.offer(Outcome(tag="live", live=True))  # within the interval: waits for its slot …
    pacer.drop_live()  # … and the run failed meanwhile: it must not paint over the error
    qtbot.wait(PAINT_INTERVAL_MS * 3)
    assert [e[2] for e in events] == [1] and pacer.idle and owner is not None
