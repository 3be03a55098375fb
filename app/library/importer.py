"""Add a ``.pt`` to the library: copy it in once, inspect that copy safely, commit the row.

Order of writes (so that a crash at any point is found and repaired by ``check``):
0. the folder's lock ``locks/<id>.lock`` taken (held to the end: repair leaves the folder alone);
1. ``models/<id>/import.json`` (where the file came from, which project);
2. ``models/<id>/.weights.pt.<rand>.tmp`` copied and hashed in one pass, fsynced;
3. the temp copy inspected (what is checked is what is stored: a source swapped meanwhile cannot slip in);
4. ``os.replace`` to ``weights.pt`` and fsync of the folder;
5. the row committed, the sidecar and the lock removed.
A file the inspection rejects, a full disk or a crash of this function leave no folder and no row.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from app.library.import_lock import hold_model_lock
from app.library.orm import Dataset, Model, Project
from app.library.records import ImportResult
from app.library.rows import row_from_info, unique_name
from app.library.storage import (NotRegularFile, atomic_write_text, copy_to_temp, disk_full_message, fsync_dir,
                                 is_disk_full)
from app.library.unit_of_work import LibraryHome
from app.library.untrusted import fits_int64, json_safe, utf8_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.library.records import ModelRecord

SIDECAR = "import.json"
# Set by `check --repair` on a row whose weights are gone or damaged; adding the same bytes again restores it.
DAMAGED, MISSING = "Damaged", "Missing"
MARKED = (DAMAGED, MISSING)


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


def import_checkpoint(lib: LibraryHome, src: Path, project_id: int, on_state: Callable[[str], None] | None = None,
                      **extra: Any) -> ImportResult:
    """Import one file; never raises for bad input: the result says what happened.

    The source is read once: copied into the model folder's temp file while hashing, and
    the inspection, the sha256 and the stored bytes are all of that copy. The model folder's
    lock is held from before the folder exists until the row is committed, so that a
    concurrent ``check --repair`` never takes the folder for an orphan.
    """
    say = on_state or (lambda _s: None)
    say("reading")
    if src.suffix.lower() != ".pt":
        return ImportResult(str(src), "rejected", f"skipped: not a .pt file ({src.suffix or 'no extension'})", "not_pt")
    model_id = uuid.uuid4().hex[:12]
    folder = lib.models_dir / model_id
    try:
        with hold_model_lock(lib.home, model_id):
            try:
                return _import_locked(lib, src, project_id, model_id, folder, say, extra)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
    except OSError as e:  # the lock file itself could not be made
        if is_disk_full(e):
            return ImportResult(str(src), "rejected", disk_full_message(lib.home), "disk_full")
        return ImportResult(str(src), "rejected", f"could not write to the library: {e.strerror or e}", "io_error")


def _import_locked(lib: LibraryHome, src: Path, project_id: int, model_id: str, folder: Path,
                   say: Callable[[str], None], extra: dict[str, Any]) -> ImportResult:
    def rejected(message: str, code: str) -> ImportResult:
        shutil.rmtree(folder, ignore_errors=True)
        return ImportResult(str(src), "rejected", message, code)

    say("copying")
    try:
        folder.mkdir(parents=True)
        atomic_write_text(folder / SIDECAR, json.dumps({"source": str(src), "project_id": project_id,
                                                        "name": model_name_for(src), "extra": extra}))
        tmp, sha, size = copy_to_temp(src, folder / "weights.pt")
    except NotRegularFile as e:
        return rejected(f"refused: {e.strerror}", "not_regular")
    except FileNotFoundError:
        return rejected("the file is gone (moved or deleted while it was being added)", "missing")
    except OSError as e:
        if is_disk_full(e):
            return rejected(disk_full_message(folder.parent), "disk_full")
        return rejected(f"could not copy the file: {e.strerror or e}", "io_error")
    say("checking")
    try:
        info = inspect_checkpoint(tmp)  # the copy, not the source: what is checked is what is stored
    except CheckpointError as e:
        return rejected(e.message, e.code)
    too_big = [k for k in ("nc", "params", "epoch") if not fits_int64(getattr(info, k))]
    if too_big:
        return rejected(f"refused: the checkpoint's {', '.join(too_big)} is an integer beyond 64 bits", "out_of_range")
    try:
        with lib.write() as s:
            if s.get(Project, project_id) is None:
                raise _Abort(ImportResult(str(src), "rejected", "the project was deleted meanwhile", "no_project"))
            dup = s.scalar(select(Model).where(Model.project_id == project_id, Model.sha256 == sha,
                                               Model.deleted_at.is_(None)))
            if dup is not None and dup.status in MARKED:  # the very bytes it lost: put them back in place
                record = _restore_marked(lib, s, dup, tmp, info.has_optimizer)
                restored = True
            elif dup is not None:
                raise _Abort(ImportResult(str(src), "duplicate", f"already in this project as {dup.name!r}",
                                          "duplicate", lib.record(s, dup)))
            else:
                names = set(s.scalars(select(Model.name).where(Model.project_id == project_id,
                                                               Model.deleted_at.is_(None))))
                name = unique_name(names, utf8_text(extra.pop("name", None) or model_name_for(src)))
                row = row_from_info(model_id, project_id, name, info, src, sha, size, extra)
                if row.dataset_ref:
                    ds = s.scalar(select(Dataset).where(Dataset.location == row.dataset_ref))
                    row.dataset_id = ds.id if ds else None
                os.replace(tmp, folder / "weights.pt")
                fsync_dir(folder)
                s.add(row)
                s.flush()
                record = lib.record(s, row)
                restored = False
    except _Abort as a:
        shutil.rmtree(folder, ignore_errors=True)
        return a.result
    except IntegrityError:  # another process added the same file a moment ago
        shutil.rmtree(folder, ignore_errors=True)
        return ImportResult(str(src), "duplicate", "already in this project", "duplicate")
    except (OperationalError, OSError) as e:
        if is_disk_full(e):
            return rejected(disk_full_message(lib.home / "library.db"), "disk_full")
        raise
    if restored:
        shutil.rmtree(folder, ignore_errors=True)
        say("added")
        return ImportResult(str(src), "added", f"restored the weights of {record.name!r}", None, record)
    (folder / SIDECAR).unlink(missing_ok=True)
    say("added")
    return ImportResult(str(src), "added", f"added as {record.name!r}", None, record)


def _restore_marked(lib: LibraryHome, s: Session, dup: Model, tmp: Path, has_optimizer: bool) -> ModelRecord:
    """Give a model marked Damaged or Missing its verified bytes back (same sha256) and clear the mark."""
    dup_folder = lib.models_dir / dup.id
    dup_folder.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dup_folder / "weights.pt")
    fsync_dir(dup_folder)
    dup.status = "Incomplete" if has_optimizer else "Ready"
    s.flush()
    return lib.record(s, dup)


def attach_checkpoint(lib: LibraryHome, model_id: str, src: Path, status: str) -> ModelRecord:
    """Copy ``src`` in as the weights of an existing model row and fill the row from the checkpoint.

    Raises :class:`CheckpointError` or ``OSError``; the row is only updated once the file is in place.
    """
    folder = lib.models_dir / model_id
    with hold_model_lock(lib.home, model_id):
        folder.mkdir(parents=True, exist_ok=True)
        tmp, sha, size = copy_to_temp(src, folder / "weights.pt")
        try:
            info = inspect_checkpoint(tmp)  # the copy that will be stored, as in import_checkpoint
            with lib.write() as s:
                m = s.get(Model, model_id)
                if m is None:
                    raise CheckpointError("missing", "the model was deleted while it trained")
                os.replace(tmp, folder / "weights.pt")
                fsync_dir(folder)
                for key, value in dict(
                    task=info.task, architecture=info.architecture or m.architecture, family=info.family or m.family,
                    scale=info.scale or m.scale, class_names=info.names, nc=info.nc if fits_int64(info.nc) else None,
                    imgsz=json_safe(info.imgsz),
                    params=info.params if fits_int64(info.params) else None, metrics=info.metrics,
                    results=json_safe(info.results), train_args=json_safe(info.train_args),
                    ultralytics_version=info.ultralytics_version, checkpoint_date=info.date, git=json_safe(info.git),
                    epoch=info.epoch if fits_int64(info.epoch) else None, has_optimizer=info.has_optimizer,
                    original_filename=src.name, source_path=str(src), sha256=sha, size=size, status=status,
                    dataset_ref=m.dataset_ref or info.data,
                ).items():
                    setattr(m, key, value)
                s.flush()
                return lib.record(s, m)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class _Abort(Exception):
    def __init__(self, result: ImportResult) -> None:
        super().__init__(result.message)
        self.result = result
