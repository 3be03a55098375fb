"""Jobs nobody follows any more: their owner process died. Settle them, or adopt them, so the queue never stalls.

A job row is followed by its owner (``owner_pid``). When the owner is killed (the terminal running
``yolodesk train``, the window), the row stays Starting/Running. Any manager that schedules — and a
watchdog thread in every manager with active jobs, every :data:`WATCH_INTERVAL` seconds — looks for such
orphans: one whose agent still runs (pid and process start time; a worker's job through its mirror) is
adopted and followed to its end; one whose agent is gone too is settled at once from its events file
(Completed if it said so, else Failed with the reason), and the next queued job starts.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.jobs.store import JobRecord
from app.jobs.transport import process_alive

if TYPE_CHECKING:
    from app.jobs.manager import JobManager

WATCH_INTERVAL = 2.0  # seconds between two looks for orphans while a manager has active jobs


def is_orphan(manager: JobManager, job: JobRecord) -> bool:
    """Active, not followed by this manager, and its owner process is gone."""
    if job.finished or job.status == "Queued" or job.id in manager._threads:
        return False
    return not (job.owner_pid not in (None, manager.pid) and process_alive(job.owner_pid, None))


def settle_orphans(manager: JobManager, adopt_live: bool = True) -> list[str]:
    """Adopt or settle every orphaned job; returns the ids this manager took over.

    ``adopt_live=False`` (a short-lived listing) settles only local jobs whose agent is gone as well and leaves
    live ones, and every worker's job, to a manager that stays to follow them.
    """
    taken = []
    for job in manager.store.list(("Starting", "Running")):
        if not is_orphan(manager, job):
            continue
        local = job.worker == "local"
        agent_alive = local and process_alive(job.pid, job.pid_started)
        if not adopt_live and (agent_alive or not local):
            continue
        if not manager.store.adopt(job.id, job.owner_pid, manager.pid):
            continue  # another process took it over first
        taken.append(job.id)
        if job.pid is None:
            manager._finish_failed(job.id, "YOLO Desk stopped before the agent was started")
        elif not local and not (Path(job.run_dir) / "remote.json").exists():
            manager._finish_failed(job.id, f"YOLO Desk stopped before the agent was started on {job.worker}")
        elif agent_alive or not local:
            manager._spawn(job.id, launch=False)  # follow it to its end (a worker's mirror says if it still runs)
        else:
            manager._settle(job.id)  # the agent is gone: its events file has the last word, now
    return taken


class Watchdog:
    """A daemon thread that runs the manager's ``schedule`` (and so :func:`settle_orphans`) while jobs are active."""

    def __init__(self, manager: JobManager, interval: float = WATCH_INTERVAL) -> None:
        self.manager, self.interval = manager, interval
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the thread unless it runs (it stops by itself once no job is active)."""
        with self._lock:
            if self._thread is None and not self.manager._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="job-watchdog", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            while not self.manager._stop.wait(self.interval):
                with self._lock:
                    if not self.manager.store.list(("Queued", "Starting", "Running")):
                        self._thread = None
                        return
                self.manager.schedule()
        except Exception:  # noqa: BLE001 — the library was closed under us (shutdown): nothing left to watch
            pass
        with self._lock:
            self._thread = None
