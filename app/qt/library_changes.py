"""What changed in the library, found by comparing two snapshots taken on the library thread.

Qt-free on purpose: the executor in :mod:`app.qt.library_ops` takes a :class:`Snapshot` after every
operation and whenever SQLite's ``data_version`` says another connection (another process, the job
manager's threads, the import pool) committed; :func:`diff` turns two snapshots into :class:`Changes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.jobs.store import JobStore
from app.library.orm import Worker
from app.library.repository import Library


@dataclass(frozen=True)
class Changes:
    """Ids of what changed; ``job_models`` are the models whose jobs (trainings, exports) changed."""

    models: frozenset[str] = frozenset()
    projects: frozenset[int] = frozenset()
    jobs: frozenset[str] = frozenset()
    exports: frozenset[str] = frozenset()
    workers: frozenset[str] = frozenset()
    job_models: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return any((self.models, self.projects, self.jobs, self.exports, self.workers, self.job_models))

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.models | other.models, self.projects | other.projects, self.jobs | other.jobs,
                       self.exports | other.exports, self.workers | other.workers, self.job_models | other.job_models)

    def touches_model(self, model_id: str | None) -> bool:
        """Whether the model's row, one of its jobs or one of its exports changed."""
        return bool(model_id) and (model_id in self.models or model_id in self.job_models)


@dataclass(frozen=True)
class Snapshot:
    """A compact fingerprint of every row a view shows: id → the fields whose change needs a redraw."""

    models: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    projects: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    jobs: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # (status, model id, ...)
    workers: dict[str, tuple[Any, ...]] = field(default_factory=dict)


def take_snapshot(lib: Library) -> Snapshot:
    """Read the fingerprint through the library's public API (runs on the library thread only)."""
    models = {m.id: (m.name, m.status, m.project_id, m.sha256, m.updated_at, tuple(sorted(m.metrics.items())))
              for m in lib.models()}
    projects = {p.id: (p.name, p.model_count) for p in lib.projects()}
    jobs = {j.id: (j.status, j.model_id, j.kind, j.error) for j in JobStore(lib).list()}
    with lib.read() as s:  # the rows themselves: WorkerStore would bring paramiko into the window's start-up
        workers = {w.name: (w.host, w.port, w.user, w.tested_at, w.last_error) for w in s.scalars(select(Worker))}
    return Snapshot(models, projects, jobs, workers)


def _changed(old: dict[Any, tuple[Any, ...]], new: dict[Any, tuple[Any, ...]]) -> frozenset[Any]:
    return frozenset(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def diff(old: Snapshot, new: Snapshot) -> Changes:
    """The ids that appeared, disappeared or changed between two snapshots."""
    jobs = _changed(old.jobs, new.jobs)
    job_models = frozenset(m for j in jobs for m in ((old.jobs.get(j) or (None, None))[1],
                                                     (new.jobs.get(j) or (None, None))[1]) if m)
    return Changes(models=_changed(old.models, new.models), projects=_changed(old.projects, new.projects),
                   jobs=jobs, workers=_changed(old.workers, new.workers), job_models=job_models)
