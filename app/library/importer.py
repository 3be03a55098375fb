"""Add a ``.pt`` to the library: inspect safely, copy atomically, commit the row.

Order of writes (so that a crash at any point is found and repaired by ``check``):
1. ``models/<id>/import.json`` (where the file came from, which project);
2. ``models/<id>/.weights.pt.<rand>.tmp`` copied and hashed in one pass, fsynced;
3. ``os.replace`` to ``weights.pt`` and fsync of the folder;
4. the row committed.
Nothing is written at all for a file the inspection rejects.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.library.checkpoint import CheckpointError, CheckpointInfo, inspect_checkpoint
from app.library.orm import Dataset, Model, Project
from app.library.records import ImportResult
from app.library.storage import atomic_write_text, copy_to_temp, fsync_dir

if TYPE_CHECKING:
    from app.library.records import ModelRecord
    from app.library.repository import Library

SIDECAR = "import.json"


def model_name_for(path: Path) -> str:
    """``runs/detect/train3/weights/best.pt`` → ``train3-best``; ``yolo26n.pt`` → ``yolo26n``."""
    stem = path.stem
    if stem in ("best", "last") and path.parent.name == "weights" and path.parent.parent.name:
        return f"{path.parent.parent.name}-{stem}"
    return stem


def iter_pt_files(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """Expand files and folders into (path, skip reason): folders are searched for ``*.pt``."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pt" and q.is_file())
            if not found:
                yield p, "no .pt files in this folder"
            yield from ((q, None) for q in found)
        elif p.suffix.lower() != ".pt":
            yield p, f"skipped: not a .pt file ({p.suffix or 'no extension'})"
        else:
            yield p, None


def _unique_name(existing: set[str], name: str) -> str:
    if name not in existing:
        return name
    i = 2
    while f"{name} ({i})" in existing:
        i += 1
    return f"{name} ({i})"


def _row_from_info(model_id: str, project_id: int, name: str, info: CheckpointInfo, src: Path, sha: str,
                   size: int, extra: dict[str, Any]) -> Model:
    status = extra.pop("status", None) or ("Incomplete" if info.has_optimizer else "Ready")
    return Model(
        id=model_id, project_id=project_id, name=name, task=info.task, architecture=info.architecture,
        family=info.family, scale=info.scale, class_names=info.names, nc=info.nc, imgsz=info.imgsz,
        params=info.params, metrics=info.metrics, results=info.results, train_args=info.train_args,
        ultralytics_version=info.ultralytics_version, checkpoint_date=info.date, git=info.git, epoch=info.epoch,
        has_optimizer=info.has_optimizer, original_filename=src.name, source_path=str(src), sha256=sha, size=size,
        status=status, visibility="private", dataset_ref=info.data, **extra,
    )


def import_checkpoint(lib: Library, src: Path, project_id: int, on_state: Callable[[str], None] | None = None,
                      **extra: Any) -> ImportResult:
    """Import one file; never raises for bad input: the result says what happened."""
    say = on_state or (lambda _s: None)
    say("reading")
    if src.suffix.lower() != ".pt":
        return ImportResult(str(src), "rejected", f"skipped: not a .pt file ({src.suffix or 'no extension'})", "not_pt")
    try:
        info = inspect_checkpoint(src)
    except CheckpointError as e:
        return ImportResult(str(src), "rejected", e.message, e.code)
    say("copying")
    model_id = uuid.uuid4().hex[:12]
    folder = lib.models_dir / model_id
    try:
        folder.mkdir(parents=True)
        atomic_write_text(folder / SIDECAR, json.dumps({"source": str(src), "project_id": project_id,
                                                        "name": model_name_for(src), "extra": extra}))
        tmp, sha, size = copy_to_temp(src, folder / "weights.pt")
    except FileNotFoundError:
        shutil.rmtree(folder, ignore_errors=True)
        return ImportResult(str(src), "rejected", "the file is gone (moved or deleted while it was being added)", "missing")
    except OSError as e:
        shutil.rmtree(folder, ignore_errors=True)
        if e.errno == errno.ENOSPC:
            return ImportResult(str(src), "rejected", f"the disk holding the library ({lib.home}) is full", "disk_full")
        return ImportResult(str(src), "rejected", f"could not copy the file: {e.strerror or e}", "io_error")
    try:
        with lib._write() as s:
            if s.get(Project, project_id) is None:
                raise _Abort(ImportResult(str(src), "rejected", "the project was deleted meanwhile", "no_project"))
            dup = s.scalar(select(Model).where(Model.project_id == project_id, Model.sha256 == sha,
                                               Model.deleted_at.is_(None)))
            if dup is not None:
                raise _Abort(ImportResult(str(src), "duplicate", f"already in this project as {dup.name!r}",
                                          "duplicate", lib._record(s, dup)))
            names = set(s.scalars(select(Model.name).where(Model.project_id == project_id, Model.deleted_at.is_(None))))
            name = _unique_name(names, extra.pop("name", None) or model_name_for(src))
            row = _row_from_info(model_id, project_id, name, info, src, sha, size, extra)
            if info.data:
                ds = s.scalar(select(Dataset).where(Dataset.location == info.data))
                row.dataset_id = ds.id if ds else None
            os.replace(tmp, folder / "weights.pt")
            fsync_dir(folder)
            s.add(row)
            s.flush()
            record = lib._record(s, row)
    except _Abort as a:
        shutil.rmtree(folder, ignore_errors=True)
        return a.result
    except IntegrityError:  # another process added the same file a moment ago
        shutil.rmtree(folder, ignore_errors=True)
        return ImportResult(str(src), "duplicate", "already in this project", "duplicate")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    (folder / SIDECAR).unlink(missing_ok=True)
    say("added")
    return ImportResult(str(src), "added", f"added as {record.name!r}", None, record)


def attach_checkpoint(lib: Library, model_id: str, src: Path, status: str) -> ModelRecord:
    """Copy ``src`` in as the weights of an existing model row and fill the row from the checkpoint.

    Raises :class:`CheckpointError` or ``OSError``; the row is only updated once the file is in place.
    """
    info = inspect_checkpoint(src)
    folder = lib.models_dir / model_id
    folder.mkdir(parents=True, exist_ok=True)
    tmp, sha, size = copy_to_temp(src, folder / "weights.pt")
    try:
        with lib._write() as s:
            m = s.get(Model, model_id)
            if m is None:
                raise CheckpointError("missing", "the model was deleted while it trained")
            os.replace(tmp, folder / "weights.pt")
            fsync_dir(folder)
            for key, value in dict(
                task=info.task, architecture=info.architecture or m.architecture, family=info.family or m.family,
                scale=info.scale or m.scale, class_names=info.names, nc=info.nc, imgsz=info.imgsz, params=info.params,
                metrics=info.metrics, results=info.results, train_args=info.train_args,
                ultralytics_version=info.ultralytics_version, checkpoint_date=info.date, git=info.git,
                epoch=info.epoch, has_optimizer=info.has_optimizer, original_filename=src.name, source_path=str(src),
                sha256=sha, size=size, status=status, dataset_ref=m.dataset_ref or info.data,
            ).items():
                setattr(m, key, value)
            s.flush()
            return lib._record(s, m)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _Abort(Exception):
    def __init__(self, result: ImportResult) -> None:
        super().__init__(result.message)
        self.result = result
