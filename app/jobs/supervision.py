"""Jobs nobody follows any more: their owner process died. Settle them, or adopt them, so the queue never stalls.

A job row is followed by its owner (``owner_pid`` and ``owner_started``: a reused pid is another process).
When the owner is killed (the terminal running ``yolodesk train``, the window), the row stays Starting/Running.
Any manager that schedules — and a watchdog thread in every manager with active jobs, every
:data:`WATCH_INTERVAL` seconds — looks for such orphans: one whose agent still runs (pid and process start time; a worker's job through its mirror) is
adopted and followed to its end; one whose agent is gone too is settled at once from its events file
(Completed if it said so, else Failed with the reason), and the next queued job starts.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from app.jobs.store import JobRecord, JobStore
from app.jobs.transport import process_alive

WATCH_INTERVAL = 2.0  # seconds between two looks for orphans while a manager has active jobs


class SupervisingManager(Protocol):
    """What supervision needs of the job manager (``app.jobs.manager.JobManager``, which imports this module)."""

    store: JobStore
    pid: int
    started: float

    @property
    def closing(self) -> threading.Event:
        """Set once the manager shuts down."""
        ...

    def is_following(self, job_id: str) -> bool:
        """Whether a thread of this manager supervises the job."""
        ...

    def fail(self, job_id: str, message: str) -> None:
        """End an active job Failed with ``message``."""
        ...

    def follow(self, job_id: str) -> None:
        """Supervise a job whose agent another process started."""
        ...

    def settle(self, job_id: str) -> None:
        """Finish a job whose agent is gone from its events file."""
        ...

    def schedule(self) -> None:
        """Settle orphans and start queued jobs within the limits."""
        ...


def owned_elsewhere(manager: SupervisingManager, job: JobRecord) -> bool:
    """Whether the job's owner is another process that still runs (the pid alone could be a reused one)."""
    if job.owner_pid is None or (job.owner_pid == manager.pid and job.owner_started in (None, manager.started)):
        return False
    return process_alive(job.owner_pid, job.owner_started)


def is_orphan(manager: SupervisingManager, job: JobRecord) -> bool:
    """Active, not followed by this manager, and its owner process is gone."""
    if job.finished or job.status == "Queued" or manager.is_following(job.id):
        return False
    return not owned_elsewhere(manager, job)


def settle_orphans(manager: SupervisingManager, adopt_live: bool = True) -> list[str]:
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
        if not manager.store.adopt(job.id, job.owner_pid, manager.pid, manager.started):
            continue  # another process took it over first
        taken.append(job.id)
        if job.pid is None:
            manager.fail(job.id, "YOLO Desk stopped before the agent was started")
        elif not local and not (Path(job.run_dir) / "remote.json").exists():
            manager.fail(job.id, f"YOLO Desk stopped before the agent was started on {job.worker}")
        elif agent_alive or not local:
            manager.follow(job.id)  # follow it to its end (a worker's mirror says if it still runs)
        else:
            manager.settle(job.id)  # the agent is gone: its events file has the last word, now
    return taken


class Watchdog:
    """A daemon thread that runs the manager's ``schedule`` (and so :func:`settle_orphans`) while jobs are active."""

    def __init__(self, manager: SupervisingManager, interval: float = WATCH_INTERVAL) -> None:
        self.manager, self.interval = manager, interval
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the thread unless it runs (it stops by itself once no job is active)."""
        with self._lock:
            if self._thread is None and not self.manager.closing.is_set():
                self._thread = threading.Thread(target=self._run, name="job-watchdog", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            while not self.manager.closing.wait(self.interval):
                with self._lock:
                    if not self.manager.store.list(("Queued", "Starting", "Running")):
                        self._thread = None
                        return
                self.manager.schedule()
        except Exception:  # noqa: BLE001 — the library was closed under us (shutdown): nothing left to watch
            pass
        with self._lock:
            self._thread = None
