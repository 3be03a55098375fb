"""Cycles are collected on the GUI thread only: a Qt object in a cycle must never be destroyed on a worker thread."""

from __future__ import annotations

import gc
import threading


class _Cycle:
    """Cyclic garbage that notes the thread it is finalised on."""

    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def test_cycles_made_on_a_worker_thread_are_collected_on_the_gui_thread(qtbot, lib):
    from app.qt.library_ops import LibraryOps

    ops = LibraryOps(lib)  # installs the GUI-thread collector
    seen: list[str] = []

    def worker() -> None:
        _Cycle(seen)  # unreachable at once; only the cycle collector can free it
        junk = []
        for _ in range(50):  # enough allocations that Python would collect on this thread
            junk.append([{} for _ in range(1000)])
            junk.clear()

    t = threading.Thread(target=worker, name="worker")
    t.start()
    t.join()
    assert "worker" not in seen  # not finalised on the worker thread
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)  # the GUI thread's timer collects it
    assert seen == ["MainThread"] and not gc.isenabled()
    ops.stop()


def _garbage_cycles(n: int) -> None:
    """``n`` pairs that only the cycle collector frees: collections come due, nothing survives them."""
    for _ in range(n):
        a: list = []
        a.append([a])


def test_a_full_collection_waits_until_the_oldest_generation_grew_by_a_quarter(qtbot, lib):
    from app.qt import gui_thread_gc
    from app.qt.library_ops import LibraryOps

    ops = LibraryOps(lib)  # installs the collector: automatic collection is off
    full: list[int] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(1)

    gc.callbacks.append(on_gc)
    try:
        gc.collect()
        gui_thread_gc._long_lived = len(gc.get_objects(generation=2))  # as a full collection just left it
        full.clear()
        for _ in range(150):  # middle collections well past Python's count for a full one, and no growth
            _garbage_cycles(400)
            gui_thread_gc.collect_due()
        assert gc.get_count()[2] > gc.get_threshold()[2] and full == []
        kept = [[] for _ in range(gui_thread_gc._long_lived // 3 + 1000)]  # a third more objects grow old
        for _ in range(150):
            _garbage_cycles(400)
            gui_thread_gc.collect_due()
        assert full, "the oldest generation grew by a third and was never collected"
        assert len(kept) > 1000
    finally:
        gc.callbacks.remove(on_gc)
        ops.stop()


def test_a_full_collection_asked_for_counts_as_the_last_one(qapp):
    import gc

    from app.qt import gui_thread_gc

    gui_thread_gc._long_lived = 0  # as if no full collection had happened: one would be due at the next chance
    gui_thread_gc.collect_all()
    assert gui_thread_gc._long_lived == len(gc.get_objects(generation=2)) > 0
