"""The trash: what is in it, restoring from it, and deleting for ever (one model, the whole trash, a project's).

Deleting for ever is crash-safe in the library's way: inside the transaction that deletes the
row, the model's folder is renamed out of ``models/`` to a temp name beside the database
(``<home>/.<id>.deleted.tmp``); the rename is undone if the commit fails, and the temp is removed
after it. A crash leaves at worst that temp, which ``yolodesk check --repair`` removes — never a
folder that ``check`` would adopt back as a live model.
"""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.library.import_lock import try_model_lock
from app.library.orm import Model, Project, aware, utcnow
from app.library.records import ModelRecord
from app.library.rows import unique_name
from app.library.storage import TMP_SUFFIX, fsync_dir
from app.library.unit_of_work import LibraryHome

TRASH_DAYS = 30


class TrashError(Exception):
    """A trash operation that cannot be done, with a message for the user."""


@dataclass(frozen=True)
class TrashedModel:
    """One model in the trash, as the Trash page and ``yolodesk trash`` show it."""

    id: str
    name: str
    project: str
    project_id: int
    deleted_at: datetime
    days_left: int
    size: int  # bytes on disk: weights and exports

    def to_json(self) -> dict[str, object]:
        """The ``yolodesk trash --json`` object."""
        return {"id": self.id, "name": self.name, "project": self.project, "deleted_at": self.deleted_at.isoformat(),
                "days_left": self.days_left}


@dataclass(frozen=True)
class Restored:
    """A model back from the trash; ``note`` says where it went when it could not go back as it was."""

    model: ModelRecord
    note: str = ""


def days_left(deleted_at: datetime, now: datetime | None = None, days: int = TRASH_DAYS) -> int:
    """Whole days until the purge takes a model trashed at ``deleted_at`` (0 on its last day)."""
    left = (deleted_at + timedelta(days=days)) - (now or utcnow())
    return max(0, left.days)


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (0 when it is gone)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass  # removed while we walked
    return total


def trashed_models(lib: LibraryHome) -> list[TrashedModel]:
    """Every model in the trash, most recently trashed first, with its days left and size on disk."""
    now = utcnow()
    with lib.read() as s:
        rows = s.execute(select(Model, Project.name).join(Project, Project.id == Model.project_id)
                         .where(Model.deleted_at.is_not(None)).order_by(Model.deleted_at.desc(), Model.id)).all()
        found = [(m.id, m.name, pname, m.project_id, aware(m.deleted_at)) for m, pname in rows]
    return [TrashedModel(mid, name, pname, pid, at, days_left(at, now), folder_size(lib.models_dir / mid))
            for mid, name, pname, pid, at in found if at is not None]


def trash_model(lib: LibraryHome, model_id: str) -> None:
    """Move a live model to the trash; its files stay until it is deleted for ever (or after 30 days)."""
    with lib.write() as s:
        m = s.get(Model, model_id)
        if m is None:
            raise TrashError("that model no longer exists")
        served = _serving(s).get(model_id)
        if m.deleted_at is None and served is not None:  # as for deleting for ever: a trashed model is not served
            raise TrashError(f"“{m.name}” is served by endpoint “{served}”; stop it first "
                             f"(yolodesk endpoint stop {served})")
        if m.deleted_at is None:
            m.deleted_at = utcnow()


def restore_model(lib: LibraryHome, model_id: str) -> Restored:
    """Bring a model back; to the default project if its own is gone, renamed if a live model took its name."""
    notes = []
    with lib.write() as s:
        m = s.get(Model, model_id)
        if m is None or m.deleted_at is None:
            raise TrashError("that model is not in the trash")
        if s.get(Project, m.project_id) is None:
            m.project_id = lib.default_project_id
            notes.append("its project is gone, so it went to the first project")
        clash = s.scalar(select(Model).where(Model.project_id == m.project_id, Model.sha256 == m.sha256,
                                             Model.deleted_at.is_(None))) if m.sha256 else None
        if clash is not None:
            raise TrashError(f"the same weights are already in the project as {clash.name!r}; "
                             "delete this copy for ever instead")
        names = set(s.scalars(select(Model.name).where(Model.project_id == m.project_id, Model.deleted_at.is_(None))))
        if m.name in names:
            old, m.name = m.name, unique_name(names, m.name)
            notes.append(f"“{old}” is taken there now, so it is named “{m.name}”")
        m.deleted_at = None
        s.flush()
        return Restored(lib.record(s, m), "; ".join(notes))


def _tombstone(lib: LibraryHome, model_id: str) -> Path:
    """Where a folder waits between its row's deletion and its removal (a temp ``check`` removes, never adopts)."""
    return lib.home / f".{model_id}.deleted{TMP_SUFFIX}"


def _delete_rows_and_folders(lib: LibraryHome, s: Session, doomed: list[Model]) -> list[tuple[Path, Path]]:
    """Delete ``doomed`` in ``s`` and move their folders aside; returns (folder, tombstone) pairs, to undo on failure."""
    moved: list[tuple[Path, Path]] = []
    for m in doomed:
        s.delete(m)
    s.flush()  # the deletes (and the cascades to exports, validations, endpoints) are in before any file moves
    for m in doomed:
        folder, aside = lib.models_dir / m.id, _tombstone(lib, m.id)
        if folder.exists():
            os.replace(folder, aside)
            moved.append((folder, aside))
    return moved


def _undo_moves(moved: list[tuple[Path, Path]]) -> None:
    for folder, aside in moved:
        if aside.exists() and not folder.exists():
            os.replace(aside, folder)


def _remove(lib: LibraryHome, moved: list[tuple[Path, Path]]) -> None:
    fsync_dir(lib.models_dir)
    for _folder, aside in moved:
        shutil.rmtree(aside, ignore_errors=True)


def delete_forever(lib: LibraryHome, model_ids: list[str]) -> list[str]:
    """Delete trashed models for ever (rows, weights, exports), in one transaction; returns the ids deleted.

    A live model among them refuses the whole call (trash it first); a folder being written right now
    (an export copied in) is skipped and its id left out of the result.
    """
    moved: list[tuple[Path, Path]] = []
    try:
        with ExitStack() as locks, lib.write() as s:  # one commit for all: a 500-model purge takes a moment, not seconds
            doomed = []
            for model_id in dict.fromkeys(model_ids):
                m = s.get(Model, model_id)
                if m is None:
                    continue
                if m.deleted_at is None:
                    raise TrashError(f"“{m.name}” is not in the trash; move it to the trash first")
                served = _serving(s).get(model_id)
                if served is not None:
                    raise TrashError(f"“{m.name}” is served by endpoint “{served}”; stop it first "
                                     f"(yolodesk endpoint stop {served})")
                if locks.enter_context(try_model_lock(lib.home, model_id)):
                    doomed.append(m)  # held to the commit; a busy folder waits for the next try
            deleted = [m.id for m in doomed]
            moved = _delete_rows_and_folders(lib, s, doomed) if doomed else []
    except BaseException:
        _undo_moves(moved)
        raise
    _remove(lib, moved)
    return deleted


def _serving(s: Session) -> dict[str, str]:
    """Model id → the name of a live endpoint serving it (its row would cascade away while its server runs on,
    with nothing left to stop it; SQL, not app.deploy's ORM: the library sits below it)."""
    rows = s.execute(text("SELECT model_id, name FROM endpoints WHERE state IN "
                          "('Creating', 'Deploying', 'Ready', 'Stopping')"))
    return {model_id: name for model_id, name in rows}


def empty_trash(lib: LibraryHome) -> list[str]:
    """Delete every model in the trash for ever (but those a live endpoint serves); returns the ids deleted."""
    with lib.read() as s:
        served = _serving(s)
        ids = [i for i in s.scalars(select(Model.id).where(Model.deleted_at.is_not(None))) if i not in served]
    return delete_forever(lib, ids)


def purge_trash(lib: LibraryHome, older_than: timedelta = timedelta(days=TRASH_DAYS)) -> list[str]:
    """Delete for ever the trashed models whose time in the trash is up; returns their ids."""
    cutoff = utcnow() - older_than
    with lib.read() as s:
        served = _serving(s)
        ids = [mid for mid, at in s.execute(select(Model.id, Model.deleted_at).where(Model.deleted_at.is_not(None)))
               if aware(at) <= cutoff and mid not in served]
    return delete_forever(lib, ids) if ids else []


def project_contents(lib: LibraryHome, project_id: int) -> tuple[int, int]:
    """How many (live, trashed) models a project holds."""
    with lib.read() as s:
        live = s.scalar(select(func.count()).select_from(Model).where(
            Model.project_id == project_id, Model.deleted_at.is_(None))) or 0
        trashed = s.scalar(select(func.count()).select_from(Model).where(
            Model.project_id == project_id, Model.deleted_at.is_not(None))) or 0
    return live, trashed


def delete_project(lib: LibraryHome, project_id: int, with_trash: bool = False) -> int:
    """Delete a project with no live models; ``with_trash`` deletes its trashed models for ever with it.

    Returns how many trashed models went with it. Refuses while it holds live models, or trashed
    ones without ``with_trash``, or when it is the last project.
    """
    moved: list[tuple[Path, Path]] = []
    try:
        with ExitStack() as locks, lib.write() as s:
            models = list(s.scalars(select(Model).where(Model.project_id == project_id)))
            live = sum(1 for m in models if m.deleted_at is None)
            if live:
                raise TrashError(f"the project still holds {live} model(s); move them to the trash first")
            if models and not with_trash:
                raise TrashError(f"the project holds {len(models)} model(s) in the trash; delete them for ever first "
                                 "(the Trash page, `yolodesk trash delete MODEL`) or restore them")
            if s.scalar(select(func.count()).select_from(Project)) == 1:
                raise TrashError("the last project cannot be deleted")
            for m in models:  # held to the end: a folder being written right now stops the whole deletion
                if not locks.enter_context(try_model_lock(lib.home, m.id)):
                    raise TrashError(f"“{m.name}” is being written right now; try again in a moment")
            moved = _delete_rows_and_folders(lib, s, models)
            p = s.get(Project, project_id)
            if p is not None:
                s.delete(p)
    except BaseException:
        _undo_moves(moved)
        raise
    _remove(lib, moved)
    if project_id == lib.default_project_id:
        lib.default_project_id = lib.ensure_default_project()
    return len(models)
