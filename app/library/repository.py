"""The library API: projects, models and datasets, returned as plain records.

Sessions come from the unit of work (:mod:`app.library.unit_of_work`): all writes go through
one lock (SQLite's busy timeout orders writers across processes); sessions are short and
never cross threads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.library.check import check_library
from app.library.importer import attach_checkpoint, import_checkpoint
from app.library.orm import Dataset, Model, Project, TrustedCheckpoint
from app.library.records import CheckReport, DatasetRecord, ImportResult, ModelRecord, ProjectRecord
from app.library.rows import unique_name
from app.library import trash
from app.library.trash import TRASH_DAYS, Restored, TrashedModel, TrashError
from app.library.unit_of_work import DEFAULT_PROJECT, LibraryHome
from app.paths import library_home

__all__ = ["DEFAULT_PROJECT", "TRASH_DAYS", "Library", "LibraryError"]


class LibraryError(Exception):
    """A library operation that cannot be done, with a message for the user."""


class Library(LibraryHome):
    """One library home: ``library.db`` plus ``models/``, ``runs/`` and ``datasets/``."""

    @classmethod
    def open_default(cls) -> Library:
        """The library at ``YOLODESK_HOME`` (or the platform's user data folder)."""
        return cls(library_home())

    # ----------------------------------------------------------------- projects
    def projects(self) -> list[ProjectRecord]:
        with self.read() as s:
            counts = dict(
                s.execute(
                    select(Model.project_id, func.count()).where(Model.deleted_at.is_(None)).group_by(Model.project_id)
                ).all()
            )
            return [
                ProjectRecord(p.id, p.name, p.description, counts.get(p.id, 0), p.created_at)
                for p in s.scalars(select(Project).order_by(Project.id))
            ]

    def project_by_name(self, name: str) -> ProjectRecord:
        for p in self.projects():
            if p.name == name:
                return p
        raise LibraryError(f"no project named {name!r}")

    def create_project(self, name: str) -> ProjectRecord:
        name = name.strip()
        if not name:
            raise LibraryError("a project needs a name")
        with self.write() as s:
            if s.scalar(select(Project).where(Project.name == name)):
                raise LibraryError(f"a project named {name!r} already exists")
            p = Project(name=name, description="")
            s.add(p)
            s.flush()
            return ProjectRecord(p.id, p.name, p.description, 0, p.created_at)

    def rename_project(self, project_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise LibraryError("a project needs a name")
        with self.write() as s:
            other = s.scalar(select(Project).where(Project.name == name, Project.id != project_id))
            if other:
                raise LibraryError(f"a project named {name!r} already exists")
            p = s.get(Project, project_id)
            if p is None:
                raise LibraryError("that project no longer exists")
            p.name = name

    def delete_project(self, project_id: int, with_trash: bool = False) -> int:
        """Delete a project without live models; ``with_trash``: its trashed models go for ever with it (their count)."""
        with _as_library_error():
            return trash.delete_project(self, project_id, with_trash)

    def project_contents(self, project_id: int) -> tuple[int, int]:
        """How many (live, trashed) models a project holds."""
        return trash.project_contents(self, project_id)

    # ------------------------------------------------------------------- models
    def models(self, project_id: int | None = None, *, trashed: bool = False) -> list[ModelRecord]:
        """Models of one project (or all), newest first; ``trashed`` lists the trash instead."""
        with self.read() as s:
            q = select(Model, Project.name).join(Project, Project.id == Model.project_id)
            q = q.where(Model.deleted_at.is_not(None) if trashed else Model.deleted_at.is_(None))
            if project_id is not None:
                q = q.where(Model.project_id == project_id)
            rows = s.execute(q.order_by(Model.created_at.desc(), Model.id)).all()
            return [self.record(s, m, pname) for m, pname in rows]

    def model(self, model_id: str) -> ModelRecord:
        with self.read() as s:
            m = s.get(Model, model_id)
            if m is None:
                raise LibraryError(f"no model with id {model_id}")
            return self.record(s, m)

    def find_model(self, ref: str) -> ModelRecord:
        """A model by id, or by name when exactly one live model has it."""
        with self.read() as s:
            m = s.get(Model, ref)
            if m is not None:
                return self.record(s, m)
            found = s.scalars(select(Model).where(Model.name == ref, Model.deleted_at.is_(None))).all()
            if len(found) == 1:
                return self.record(s, found[0])
            if len(found) > 1:
                ids = ", ".join(f.id for f in found)
                raise LibraryError(f"{len(found)} models are named {ref!r} ({ids}); use an id")
        raise LibraryError(f"no model with id or name {ref!r}")

    def rename_model(self, model_id: str, name: str) -> ModelRecord:
        name = name.strip()
        if not name:
            raise LibraryError("a model needs a name")
        with self.write() as s:
            m = s.get(Model, model_id)
            if m is None:
                raise LibraryError("that model no longer exists")
            m.name = name
            s.flush()
            return self.record(s, m)

    def set_visibility(self, model_id: str, visibility: str) -> None:
        if visibility not in ("private", "public"):
            raise LibraryError("visibility is 'private' or 'public'")
        with self.write() as s:
            m = s.get(Model, model_id)
            if m is None:
                raise LibraryError("that model no longer exists")
            if m.deleted_at is not None:  # a trashed model is nobody's to share: it may be gone for ever any day
                raise LibraryError(f"“{m.name}” is in the trash; restore it first")
            m.visibility = visibility

    # -------------------------------------------------------------------- trash (app/library/trash.py)
    def trash_model(self, model_id: str) -> None:
        """Move a model to the trash; its files stay until the trash is emptied (after 30 days)."""
        with _as_library_error():
            trash.trash_model(self, model_id)

    def restore_model(self, model_id: str) -> ModelRecord:
        """Bring a model back from the trash (see :meth:`restore` for where it went and why)."""
        return self.restore(model_id).model

    def restore(self, model_id: str) -> Restored:
        """Bring a model back; its ``note`` says so when it went to another project or got another name."""
        with _as_library_error():
            return trash.restore_model(self, model_id)

    def trashed(self) -> list[TrashedModel]:
        """Every model in the trash with its days left and size on disk."""
        return trash.trashed_models(self)

    def delete_forever(self, model_ids: list[str]) -> list[str]:
        """Delete trashed models for ever (rows, weights, exports); the ids deleted."""
        with _as_library_error():
            return trash.delete_forever(self, model_ids)

    def empty_trash(self) -> list[str]:
        """Delete everything in the trash for ever; the ids deleted."""
        return trash.empty_trash(self)

    def purge_trash(self, older_than: timedelta = timedelta(days=TRASH_DAYS)) -> list[str]:
        """Delete trashed models (rows and files) whose time in the trash is up; return their ids."""
        return trash.purge_trash(self, older_than)

    def datasets(self) -> list[DatasetRecord]:
        with self.read() as s:
            return [DatasetRecord(d.id, d.name, d.location, d.task, list(d.class_names or []))
                    for d in s.scalars(select(Dataset).order_by(Dataset.name))]

    def add_dataset(self, location: str, name: str, task: str | None, class_names: list[str]) -> DatasetRecord:
        """Register a data set (a ``data.yaml`` or a classification folder) and link models trained on it."""
        with self.write() as s:
            d = s.scalar(select(Dataset).where(Dataset.location == location))
            if d is None:
                d = Dataset(location=location, name=name, task=task, class_names=class_names)
                s.add(d)
                s.flush()
            for m in s.scalars(select(Model).where(Model.dataset_ref == location, Model.dataset_id.is_(None))):
                m.dataset_id = d.id
            return DatasetRecord(d.id, d.name, d.location, d.task, list(d.class_names or []))

    def create_pending_model(self, project_id: int, name: str, **fields: Any) -> ModelRecord:
        """A model row for a training that has not produced weights yet (sha256 None: it claims no file)."""
        with self.write() as s:
            if s.get(Project, project_id) is None:
                raise LibraryError("that project no longer exists")

            names = set(s.scalars(select(Model.name).where(Model.project_id == project_id, Model.deleted_at.is_(None))))
            m = Model(id=uuid.uuid4().hex[:12], project_id=project_id, name=unique_name(names, name), sha256=None,
                      size=None, original_filename="", source_path="", visibility="private",
                      class_names=fields.pop("class_names", []), metrics={}, results={},
                      train_args=fields.pop("train_args", {}), status=fields.pop("status", "Queued"),
                      has_optimizer=False, **fields)
            s.add(m)
            s.flush()
            return self.record(s, m)

    def set_model_status(self, model_id: str, status: str) -> None:
        with self.write() as s:
            m = s.get(Model, model_id)
            if m is not None:
                m.status = status

    def attach_checkpoint(self, model_id: str, path: str | Path, status: str) -> ModelRecord:
        """Give a pending model its weights (a finished training's best.pt) through the normal import checks."""
        return attach_checkpoint(self, model_id, Path(path), status)

    # ---------------------------------------------------- import / check (own modules)
    def import_checkpoint(self, path: str | Path, project_id: int | None = None,
                          on_state: Callable[[str], None] | None = None, **extra: Any) -> ImportResult:
        return import_checkpoint(self, Path(path), project_id or self.default_project_id, on_state, **extra)

    def is_trusted(self, sha256: str | None) -> bool:
        """Whether the user chose to load this checkpoint although the safe loader refused it."""
        if not sha256:
            return False
        with self.read() as s:
            return s.get(TrustedCheckpoint, sha256) is not None

    def trust_checkpoint(self, sha256: str, name: str = "") -> None:
        with self.write() as s:
            if s.get(TrustedCheckpoint, sha256) is None:
                s.add(TrustedCheckpoint(sha256=sha256, name=name))

    def check(self, repair: bool = False, deep: bool = False) -> CheckReport:
        """Rows against files (``deep``: every stored file against its sha256 too); ``repair`` fixes what it finds."""
        return check_library(self, repair, deep)


@contextmanager
def _as_library_error() -> Iterator[None]:
    """The trash's refusals as the library's (every caller catches ``LibraryError``)."""
    try:
        yield
    except TrashError as e:
        raise LibraryError(str(e)) from e
