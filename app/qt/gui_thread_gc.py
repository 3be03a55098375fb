"""Python's cycle collector runs on the GUI thread only, from a timer, never on a worker thread.

A reference cycle holding a Qt object, collected on a worker thread (the library thread, the pool), runs that object's
C++ destructor there. If the GUI thread is destroying widgets at that moment it holds the Qt mutex the destructor wants
and waits for the GIL the worker holds: both stop for good (seen in CI — a QMenu torn down on the GUI thread while a
collection inside SQLAlchemy on the library thread deleted a widget wrapper). So automatic collection is switched off
and the GUI thread collects instead, by generation, as Python itself would — including CPython's rule for the oldest
generation: a full collection only once a quarter more objects reached it than the last full one left. Without the
rule, every tenth middle collection was a full one, each 0.2–1 s over a big heap (the test suite's: 370,000–550,000
objects; a full collection with torch, ultralytics and Qt just imported: 117 ms), which stalled the window.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QTimer

INTERVAL_MS = 250
_timer: QTimer | None = None
_long_lived = 0  # objects in the oldest generation after the last full collection (CPython's long_lived_total)


def install() -> bool:
    """Move collection onto the GUI thread of the running QApplication (once; False when there is none yet)."""
    global _timer
    app = QCoreApplication.instance()
    if app is None:
        return False
    if _timer is None:
        gc.disable()
        _timer = QTimer(app)
        _timer.setInterval(INTERVAL_MS)
        _timer.timeout.connect(collect_due)
        _timer.start()
    return True


def collect_due() -> int:
    """Collect the generations Python's thresholds say are due (GUI thread); the number of objects freed."""
    global _long_lived
    (t0, t1, t2), (c0, c1, c2) = gc.get_threshold(), gc.get_count()
    if c0 <= t0:
        return 0
    generation = 2 if c2 > t2 and c1 > t1 else 1 if c1 > t1 else 0
    if generation == 2 and len(gc.get_objects(generation=2)) - _long_lived < _long_lived / 4:
        generation = 1  # the oldest generation grew by less than a quarter: not worth a full pass yet
    freed = gc.collect(generation)
    if generation == 2:
        _long_lived = len(gc.get_objects(generation=2))
    return freed


def collect_all() -> int:
    """A full collection now (GUI thread), counted as one for the rule: the next waits for a quarter's growth again.

    For a moment the caller knows is quiet — before a measurement that must not see a full pass of a big heap."""
    global _long_lived
    freed = gc.collect()
    _long_lived = len(gc.get_objects(generation=2))
    return freed
