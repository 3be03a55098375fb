"""Job rows in the library database, handed out as plain :class:`JobRecord` values."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Result, select, update

from app.library.orm import Job, aware, utcnow
from app.library.repository import Library, LibraryError

STATUSES = ("Queued", "Starting", "Running", "Completed", "Failed", "Cancelled")
ACTIVE = ("Queued", "Starting", "Running")
FINAL = ("Completed", "Failed", "Cancelled")


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    status: str
    worker: str
    spec: dict[str, Any]
    project_id: int | None
    model_id: str | None
    run_dir: str
    pid: int | None
    pid_started: float | None
    owner_pid: int | None
    owner_started: float | None  # the owner's process start time: a reused pid is another process
    error: str | None
    result: dict[str, Any] | None
    retry_of: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def events_path(self) -> Path:
        return Path(self.run_dir) / "events.jsonl"

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("created_at", "started_at", "finished_at"):
            d[k] = d[k].isoformat() if d[k] else None
        d["model"] = d.pop("model_id")
        d["started"], d["finished"], d["created"] = d.pop("started_at"), d.pop("finished_at"), d.pop("created_at")
        return d


def _record(j: Job) -> JobRecord:
    return JobRecord(
        id=j.id, kind=j.kind, status=j.status, worker=j.worker, spec=dict(j.spec or {}), project_id=j.project_id,
        model_id=j.model_id, run_dir=j.run_dir, pid=j.pid, pid_started=j.pid_started, owner_pid=j.owner_pid,
        owner_started=j.owner_started, error=j.error, result=j.result, retry_of=j.retry_of,
        created_at=aware(j.created_at) or j.created_at, started_at=aware(j.started_at),
        finished_at=aware(j.finished_at),
    )


def _changed_one(res: Result[Any]) -> bool:
    """Whether a conditional UPDATE changed its one row (False: another process changed it first)."""
    return isinstance(res, CursorResult) and res.rowcount == 1


class JobStore:
    """CRUD for job rows; every write goes through the library's write lock.

    A job's run folder (``runs/<id>/``) is only named here: the transport makes it when it starts the agent,
    so a job refused or failed before that leaves no folder behind.
    """

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def create(self, kind: str, spec: dict[str, Any], project_id: int | None, model_id: str | None,
               owner_pid: int, retry_of: str | None = None, worker: str = "local",
               owner_started: float | None = None) -> JobRecord:
        """A Queued row (the spec gains the job's id, kind and run folder); no folder is made yet."""
        job_id = uuid.uuid4().hex[:12]
        run_dir = self.lib.runs_dir / job_id
        spec = {**spec, "id": job_id, "kind": kind, "run_dir": str(run_dir)}
        with self.lib.write() as s:
            j = Job(id=job_id, kind=kind, status="Queued", worker=worker, spec=spec, project_id=project_id,
                    model_id=model_id, run_dir=str(run_dir), owner_pid=owner_pid, owner_started=owner_started,
                    retry_of=retry_of)
            s.add(j)
            s.flush()
            return _record(j)

    def get(self, job_id: str) -> JobRecord:
        with self.lib.read() as s:
            j = s.get(Job, job_id)
            if j is None:
                matches = s.scalars(select(Job).where(Job.id.startswith(job_id))).all()
                if len(matches) != 1:
                    raise LibraryError(f"no job with id {job_id!r}")
                j = matches[0]
            return _record(j)

    def list(self, statuses: tuple[str, ...] | None = None, model_id: str | None = None,
             kind: str | None = None) -> list[JobRecord]:
        with self.lib.read() as s:
            q = select(Job)
            if statuses:
                q = q.where(Job.status.in_(statuses))
            if model_id:
                q = q.where(Job.model_id == model_id)
            if kind:
                q = q.where(Job.kind == kind)
            return [_record(j) for j in s.scalars(q.order_by(Job.created_at.desc(), Job.id))]

    def latest_for_model(self, model_id: str) -> JobRecord | None:
        jobs = self.list(model_id=model_id)
        return jobs[0] if jobs else None

    def claim(self, job_id: str, owner_pid: int, owner_started: float | None = None) -> bool:
        """Atomically move a Queued job to Starting for this process; False if someone else got it."""
        with self.lib.write() as s:
            res = s.execute(update(Job).where(Job.id == job_id, Job.status == "Queued")
                            .values(status="Starting", owner_pid=owner_pid, owner_started=owner_started,
                                    started_at=utcnow()))
            return _changed_one(res)

    def adopt(self, job_id: str, old_owner: int | None, new_owner: int, new_started: float | None = None) -> bool:
        """Atomically take over an active job from ``old_owner`` (gone); False if another process did first."""
        owner = Job.owner_pid.is_(None) if old_owner is None else Job.owner_pid == old_owner
        with self.lib.write() as s:
            res = s.execute(update(Job).where(Job.id == job_id, Job.status.in_(("Starting", "Running")), owner)
                            .values(owner_pid=new_owner, owner_started=new_started))
            return _changed_one(res)

    def set(self, job_id: str, **fields: Any) -> JobRecord:
        with self.lib.write() as s:
            j = s.get(Job, job_id)
            if j is None:
                raise LibraryError(f"no job with id {job_id!r}")
            for k, v in fields.items():
                setattr(j, k, v)
            if fields.get("status") in FINAL and j.finished_at is None:
                j.finished_at = utcnow()
            s.flush()
            return _record(j)

    def finish_if_active(self, job_id: str, status: str, **fields: Any) -> bool:
        """Set a final status unless the job already has one (two processes may race to finish it)."""
        with self.lib.write() as s:
            res = s.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE))
                            .values(status=status, finished_at=utcnow(), **fields))
            return _changed_one(res)
