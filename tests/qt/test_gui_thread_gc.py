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
