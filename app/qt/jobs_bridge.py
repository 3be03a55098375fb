"""Job events and status changes, from worker threads to the GUI thread, in batches.

A :class:`JobEventStream` follows one job's events file off the GUI thread and hands the
GUI one list of events at most every 50 ms, so a console receiving 1,000 lines a second
costs the event loop ~20 small repaints a second, not 1,000.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.jobs.events import EventFollower
from app.jobs.manager import JobManager
from app.jobs.store import JobRecord

BATCH_SECONDS = 0.05


def squash_carriage_returns(text: str) -> str:
    """Drop line states a ``\r`` overwrites before they are drawn (a progress bar's hundred redraws → the last)."""
    lines = text.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        cut = line.rfind("\r")
        if cut > 0:
            lines[i] = line[cut:]  # keep one \r: it still clears what an earlier batch left on this line
    return "\n".join(lines)


def merge_logs(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive ``log`` events become one, with overwritten progress states squashed."""
    out: list[dict[str, Any]] = []
    for ev in batch:
        if ev.get("type") == "log" and out and out[-1].get("type") == "log":
            out[-1] = {**out[-1], "text": out[-1]["text"] + ev.get("text", "")}
        else:
            out.append(dict(ev))
    for ev in out:
        if ev.get("type") == "log":
            ev["text"] = squash_carriage_returns(ev.get("text", ""))
    return out


class JobsBridge(QObject):
    """Re-emits the manager's status changes as a Qt signal (delivered on the GUI thread)."""

    jobChanged = Signal(object)  # JobRecord

    def __init__(self, manager: JobManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        manager.listeners.append(self._relay)

    def _relay(self, job: JobRecord) -> None:
        self.jobChanged.emit(job)

    def detach(self) -> None:
        if self._relay in self.manager.listeners:
            self.manager.listeners.remove(self._relay)


class JobEventStream(QObject):
    """Follows ``events.jsonl`` of one job from the start (history first, then live) until stopped."""

    eventsArrived = Signal(list)

    def __init__(self, events_path: Path, parent: QObject | None = None, interval: float = BATCH_SECONDS) -> None:
        super().__init__(parent)
        self._follower = EventFollower(Path(events_path))
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            batch: list[dict[str, Any]] = merge_logs(list(self._follower.poll()))
            if batch and not self._stop.is_set():
                self.eventsArrived.emit(batch)
            self._stop.wait(max(0.0, self._interval - (time.monotonic() - t)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
