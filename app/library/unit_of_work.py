"""The library's unit of work: one home's folders and database, read and written through short sessions.

Every store (models, jobs, exports, workers), ``check`` and the importer open their sessions
here: ``read()`` for a look, ``write()`` for a change that commits at the end of the block or
not at all. All writes of this process go through one lock (SQLite's busy timeout orders
writers across processes). A session lives inside one ``with`` block on one thread: ORM rows
never leave it, they are turned into frozen records (:meth:`LibraryHome.record`) first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.library.db import LibraryUnavailable, open_engine
from app.library.orm import Dataset, Model, Project, aware
from app.library.records import DatasetRecord, ModelRecord

DEFAULT_PROJECT = "Default"


class LibraryHome:
    """One library home: ``library.db`` plus ``models/`` and ``runs/``, and the sessions that read and write it."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)
        self.models_dir = self.home / "models"
        self.runs_dir = self.home / "runs"
        for d in (self.home, self.models_dir, self.runs_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.engine = open_engine(self.home / "library.db")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.RLock()
        try:
            self.default_project_id = self.ensure_default_project()
        except OperationalError as e:  # a foreign process's lock outlasted the busy timeout, or the disk is full
            self.engine.dispose()
            kind = "disk_full" if "full" in str(e) else "locked"
            reason = "the disk holding it is full" if kind == "disk_full" else "another program holds a lock on it"
            raise LibraryUnavailable(self.home / "library.db", reason, kind) from e

    def close(self) -> None:
        """Release the database's connections (the files stay as they are)."""
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it changes is committed. Use it on one thread, inside the block."""
        with self._sessions() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes commit when the block ends (rolled back if it raises); one writer at a time."""
        with self._write_lock, self._sessions() as s, s.begin():
            yield s

    def ensure_default_project(self) -> int:
        """The id of the first project, made (named ``Default``) when the library has none."""
        try:
            with self.write() as s:
                first = s.scalars(select(Project).order_by(Project.id)).first()
                if first is None:
                    first = Project(name=DEFAULT_PROJECT, description="")
                    s.add(first)
                    s.flush()
                return first.id
        except IntegrityError:  # another process opening the new library made it a moment ago
            with self.read() as s:
                return s.scalars(select(Project).order_by(Project.id)).first().id  # type: ignore[union-attr]

    def weights_path(self, model_id: str) -> Path:
        """Where a model's weights live in the library (whether or not they are there)."""
        return self.models_dir / model_id / "weights.pt"

    def record(self, s: Session, m: Model, project_name: str | None = None) -> ModelRecord:
        """The frozen record of a model row, read inside the session ``s`` that holds the row."""
        ds = s.get(Dataset, m.dataset_id) if m.dataset_id else None
        if project_name is None:
            project = s.get(Project, m.project_id)
            project_name = project.name if project else ""
        parent = s.get(Model, m.parent_id) if m.parent_id else None
        return ModelRecord(
            id=m.id, project_id=m.project_id, project=project_name, name=m.name, task=m.task,
            architecture=m.architecture, family=m.family, scale=m.scale, class_names=list(m.class_names or []),
            nc=m.nc, imgsz=m.imgsz, params=m.params, metrics=dict(m.metrics or {}), results=dict(m.results or {}),
            train_args=dict(m.train_args or {}), ultralytics_version=m.ultralytics_version,
            checkpoint_date=m.checkpoint_date, git=m.git, epoch=m.epoch, has_optimizer=m.has_optimizer,
            original_filename=m.original_filename, source_path=m.source_path, sha256=m.sha256, size=m.size,
            status=m.status, visibility=m.visibility,
            dataset=DatasetRecord(ds.id, ds.name, ds.location, ds.task, list(ds.class_names or [])) if ds else None,
            dataset_ref=m.dataset_ref, parent_id=m.parent_id, parent_name=parent.name if parent else None,
            created_at=aware(m.created_at),
            updated_at=aware(m.updated_at), deleted_at=aware(m.deleted_at), weights_path=self.weights_path(m.id),
        )
