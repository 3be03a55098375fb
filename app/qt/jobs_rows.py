"""The Jobs panel's rows, read on the library thread: every job with its model's name and its progress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from app.jobs.placement import describe_target, is_target, waiting_note
from app.jobs.store import ACTIVE, JobStore
from app.library.repository import Library

TAIL_BYTES = 64 * 1024  # the last epoch event is near the end; a long run's log is never read whole


@dataclass(frozen=True)
class JobRow:
    """One job as the panel shows it (plain data: no ORM object crosses to the GUI thread)."""

    id: str
    kind: str
    model_id: str | None
    model: str
    status: str
    worker: str
    progress: tuple[int, int] | None  # (done, total) epochs, when the job reported any
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    note: str | None = None  # why an active job waits: for a GPU (per worker), in Slurm's or Ray's queue

    def elapsed_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds run so far (or in all, once finished); None before it started."""
        if self.started_at is None:
            return None
        end = self.finished_at or now or datetime.now(timezone.utc)
        start = self.started_at if self.started_at.tzinfo else self.started_at.replace(tzinfo=timezone.utc)
        end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
        return max(0.0, (end - start).total_seconds())


def last_progress(events_path: Path) -> tuple[int, int] | None:
    """The latest ``epoch`` event's (epoch, epochs) from the end of an events file; None without one."""
    try:
        with open(events_path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        if '"epoch"' not in line:
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue  # the first, cut line of the tail, or one being written
        if ev.get("type") == "epoch" and isinstance(ev.get("epoch"), int) and isinstance(ev.get("epochs"), int):
            return ev["epoch"], ev["epochs"]
    return None


def load_job_rows(lib: Library, limit: int = 200) -> list[JobRow]:
    """The newest ``limit`` jobs, newest first (runs on the library thread only)."""
    names = {m.id: m.name for m in lib.models()}
    jobs = sorted(JobStore(lib).list(), key=lambda j: j.created_at, reverse=True)[:limit]
    return [JobRow(j.id, j.kind, j.model_id, names.get(j.model_id or "", j.spec.get("name") or "—"), j.status,
                   describe_target(j.worker) if is_target(j.worker) else j.worker,
                   last_progress(j.events_path) if j.run_dir else None, j.started_at, j.finished_at,
                   j.error, waiting_note(j.result) if j.status in ACTIVE else None) for j in jobs]
