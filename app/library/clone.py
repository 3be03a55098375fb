"""Clone a model into another project, or move it there.

**Clone** makes a new model (new id, ``parent_id`` = the original) holding the original's weights
and every verified export, hard-linked where the filesystem allows, else copied and checked
against the recorded sha256 (:mod:`app.library.clone_files`). Order of writes, each one a state
that ``yolodesk check`` recognises (the original is never written to):

0. the locks of both model folders taken (the original's: no export is being placed into it meanwhile;
   the clone's: ``check --repair`` leaves the folder alone while it is being filled);
1. ``models/<new>/import.json`` naming the original (``clone_of``), the target project and the name;
2. the weights linked or copied to a temp name, then renamed to ``weights.pt``;
3. each verified export rebuilt in a temp folder, then renamed to ``exports/<format>/``;
3b. each validation's capture linked or copied (checked) to ``validations/<new id>.json``, so the clone's
   Validation tab and Compare show what the original's did;
4. the model row, its export rows and its validation rows committed in one transaction; then the sidecar removed.

A kill before 4 leaves a folder without a row whose sidecar says it is a clone: ``check`` reports it
and ``--repair`` removes it while the original is intact (else adopts it like an import, so bytes are
never lost). A kill after 4 leaves at most the sidecar, which ``--repair`` removes.

**Move** keeps the model's id and re-homes its row: files live under ``models/<id>/`` whatever the
project, so nothing on disk moves, exports, validations, endpoints and jobs keep pointing at the same id, and
the move is one committed row update (a kill leaves the old state or the new one). No project has storage
of its own, so a move never crosses filesystems; a clone does, and copies and checks there.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import column, insert, select, table
from sqlalchemy.exc import IntegrityError

from app.library.check import CLONE_OF
from app.library.checkpoint import sha256_file
from app.library.clone_files import CopyMismatch, place_export, place_weights
from app.library.import_lock import hold_model_lock
from app.library.importer import MARKED, SIDECAR
from app.library.orm import Export, Model, Project
from app.library.records import ModelRecord
from app.library.repository import LibraryError
from app.library.rows import unique_name
from app.library.storage import atomic_write_text, disk_full_message, is_disk_full
from app.library.unit_of_work import LibraryHome
from remote_agent.export import path_digest

# Columns a clone does not take from its original: who it is, where it is, when it was made.
_OWN_COLUMNS = {"id", "project_id", "name", "parent_id", "created_at", "updated_at", "deleted_at"}
# The validations table (migration 0008) by its columns: its ORM class lives in app.validation, a layer above.
_VALIDATIONS = table("validations", *(column(c) for c in ("id", "model_id", "job_id", "data", "dataset_id", "split",
                                                         "args", "summary", "path", "created_at")))


def _reached(step: str) -> None:
    """Called after each step that leaves a state on disk (a fault-injection test kills the process here)."""


@dataclass(frozen=True)
class _Source:
    """What a clone needs of the original, read in one session."""

    model_id: str
    name: str
    sha256: str
    project_id: int
    exports: list[tuple[str, str, str | None]]  # (format, artifact path, sha256) of each verified export
    validations: list[dict[str, object]]  # each validation row whose capture file is in the original's folder


def _project_id(lib: LibraryHome, project: int | str) -> tuple[int, str]:
    with lib.read() as s:
        p = s.get(Project, project) if isinstance(project, int) else s.scalar(
            select(Project).where(Project.name == project))
        if p is None:
            raise LibraryError(f"no project named {project!r}" if isinstance(project, str) else
                               "that project no longer exists")
        return p.id, p.name


def _live_model(s: object, model_id: str) -> Model:
    m = s.get(Model, model_id)  # type: ignore[attr-defined]
    if m is None:
        raise LibraryError(f"no model with id {model_id}")
    if m.deleted_at is not None:
        raise LibraryError(f"“{m.name}” is in the trash; restore it first")
    if m.sha256 is None:
        raise LibraryError(f"“{m.name}” has no weights yet (its training has not finished)")
    if m.status in MARKED:
        raise LibraryError(f"“{m.name}” is marked {m.status}: add its original file again first")
    return m


def _same_weights(s: object, project_id: int, sha256: str) -> Model | None:
    return s.scalar(select(Model).where(  # type: ignore[attr-defined]
        Model.project_id == project_id, Model.sha256 == sha256, Model.deleted_at.is_(None)))


def _read_source(lib: LibraryHome, model_id: str, project_id: int, project_name: str) -> _Source:
    folder = lib.models_dir / model_id
    with lib.read() as s:
        m = _live_model(s, model_id)
        if not lib.weights_path(model_id).is_file():
            raise LibraryError(f"the weights of “{m.name}” are not in the library (run `yolodesk check`); "
                               "nothing was cloned")
        dup = _same_weights(s, project_id, m.sha256 or "")
        if dup is not None:
            raise LibraryError(f"already there as “{dup.name}” in “{project_name}”; nothing was written")
        latest: dict[str, Export] = {}
        for e in s.scalars(select(Export).where(Export.model_id == model_id).order_by(Export.created_at.desc())):
            latest.setdefault(e.format, e)  # older rows of a format point at files the newest one replaced
        exports = []
        for e in latest.values():
            if e.status == "Completed" and e.verified and e.path and Path(e.path).is_relative_to(folder) \
                    and Path(e.path).exists():
                exports.append((e.format, e.path, e.sha256))
        validations = [dict(v) for v in s.execute(select(_VALIDATIONS).where(
            _VALIDATIONS.c.model_id == model_id).order_by(_VALIDATIONS.c.created_at)).mappings()]
        validations = [v for v in validations if Path(str(v["path"])).is_relative_to(folder)
                       and Path(str(v["path"])).is_file()]  # a row whose file is gone stays behind, as a bad export
        return _Source(m.id, m.name, m.sha256 or "", m.project_id, exports, validations)


def clone_model(lib: LibraryHome, model_id: str, project: int | str, move: bool = False) -> ModelRecord:
    """Clone (or with ``move``, re-home) a model into ``project`` (an id or a name); returns the resulting model.

    Raises :class:`LibraryError` with a one-line verdict for anything refused (same weights already in the
    target, a trashed or weightless model, a full disk, a copy that does not match its sha256); nothing is
    left behind then and the original is never touched.
    """
    project_id, project_name = _project_id(lib, project)
    if move:
        return _move(lib, model_id, project_id, project_name)
    src = _read_source(lib, model_id, project_id, project_name)
    new_id = uuid.uuid4().hex[:12]
    folder = lib.models_dir / new_id
    try:
        with hold_model_lock(lib.home, src.model_id), hold_model_lock(lib.home, new_id):
            try:
                return _clone_locked(lib, src, new_id, folder, project_id, project_name)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)  # only the clone's own folder: the original is untouched
                raise
    except CopyMismatch as e:
        raise LibraryError(f"{e.strerror}; nothing was cloned (the original's file may be damaged)") from e
    except OSError as e:
        if is_disk_full(e):
            raise LibraryError(disk_full_message(lib.models_dir)) from e
        raise LibraryError(f"could not write the clone: {e.strerror or e}; nothing was cloned") from e


def _check_source_bytes(lib: LibraryHome, src: _Source) -> None:
    """Refuse before anything is written when the original's weights or a verified export no longer match their sha256."""
    changed = f"the weights of “{src.name}” changed on disk (run yolodesk check --deep); nothing was cloned"
    if sha256_file(lib.weights_path(src.model_id)) != src.sha256:
        raise LibraryError(changed)
    for _fmt, path, sha in src.exports:
        if sha is not None and path_digest(Path(path))[1] != sha:  # hashed as the agent hashed it
            raise LibraryError(changed)


def _clone_locked(lib: LibraryHome, src: _Source, new_id: str, folder: Path, project_id: int,
                  project_name: str) -> ModelRecord:
    _check_source_bytes(lib, src)  # a link would carry damaged bytes under the original's recorded sha256
    folder.mkdir(parents=True)
    atomic_write_text(folder / SIDECAR, json.dumps({CLONE_OF: src.model_id, "source": str(lib.weights_path(
        src.model_id)), "project_id": project_id, "name": src.name, "extra": {"parent_id": src.model_id}}))
    _reached("sidecar")
    place_weights(lib.weights_path(src.model_id), folder / "weights.pt", src.sha256, _reached)
    _reached("weights")
    src_folder = lib.models_dir / src.model_id
    placed: list[tuple[str, str, str | None]] = []
    for fmt, path, sha in src.exports:
        artifact = Path(path)
        place_export(artifact, folder / "exports" / fmt, sha, _reached)
        placed.append((fmt, str(folder / artifact.relative_to(src_folder)), path))
        _reached(f"export:{fmt}")
    captures: list[dict[str, object]] = []
    for v in src.validations:
        vid = uuid.uuid4().hex[:12]
        capture = folder / "validations" / f"{vid}.json"
        place_weights(Path(str(v["path"])), capture, sha256_file(Path(str(v["path"]))), _reached, "validation-temp")
        captures.append({**v, "id": vid, "model_id": new_id, "job_id": None, "path": str(capture)})
        _reached(f"validation:{vid}")
    try:
        with lib.write() as s:
            original = _live_model(s, src.model_id)  # trashed or changed meanwhile: refused, not half-cloned
            if original.sha256 != src.sha256:
                raise LibraryError(f"“{original.name}” changed while it was being cloned; nothing was cloned")
            if s.get(Project, project_id) is None:
                raise LibraryError("the project was deleted meanwhile; nothing was cloned")
            dup = _same_weights(s, project_id, src.sha256)
            if dup is not None:
                raise LibraryError(f"already there as “{dup.name}” in “{project_name}”; nothing was written")
            names = set(s.scalars(select(Model.name).where(Model.project_id == project_id,
                                                           Model.deleted_at.is_(None))))
            fields = {c.name: getattr(original, c.name) for c in Model.__table__.columns if c.name not in _OWN_COLUMNS}
            row = Model(id=new_id, project_id=project_id, name=unique_name(names, original.name),
                        parent_id=original.id, **fields)
            s.add(row)
            s.flush()
            by_path = {e.path: e for e in s.scalars(select(Export).where(Export.model_id == original.id))}
            for fmt, new_path, old_path in placed:
                e = by_path[old_path]
                s.add(Export(id=uuid.uuid4().hex[:12], model_id=new_id, format=fmt, args=dict(e.args or {}),
                             status=e.status, job_id=None, path=new_path, size=e.size, sha256=e.sha256,
                             verified=e.verified, verification=e.verification, seconds=e.seconds, error=None))
            if captures:  # the job that wrote a validation is the original's: by_job keeps finding that one
                s.execute(insert(_VALIDATIONS), captures)
            _reached("commit")
            s.flush()
            record = lib.record(s, row)
    except IntegrityError as e:  # another process put the same weights there a moment ago
        raise LibraryError(f"already there in “{project_name}”; nothing was written") from e
    _reached("committed")
    (folder / SIDECAR).unlink(missing_ok=True)
    return record


def _move(lib: LibraryHome, model_id: str, project_id: int, project_name: str) -> ModelRecord:
    with hold_model_lock(lib.home, model_id):  # no export is placed and no repair looks at it meanwhile
        try:
            with lib.write() as s:
                m = _live_model(s, model_id)
                if m.project_id == project_id:
                    raise LibraryError(f"“{m.name}” is already in “{project_name}”")
                dup = _same_weights(s, project_id, m.sha256 or "")
                if dup is not None:
                    raise LibraryError(f"already there as “{dup.name}” in “{project_name}”; nothing was moved")
                names = set(s.scalars(select(Model.name).where(Model.project_id == project_id,
                                                               Model.deleted_at.is_(None))))
                m.project_id, m.name = project_id, unique_name(names, m.name)
                _reached("commit")
                s.flush()
                record = lib.record(s, m)
        except IntegrityError as e:
            raise LibraryError(f"already there in “{project_name}”; nothing was moved") from e
    _reached("committed")
    return record
