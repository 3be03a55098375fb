"""``yolodesk check``: rows whose files are gone, files without rows, half-written temp files, damaged weights.

Repair loses nothing: a row whose weights are gone is kept and marked ``Missing``; weights
that no longer match their sha256 or fail inspection (``--deep``) are moved aside to
``weights.pt.damaged`` and the row is marked ``Damaged`` (adding the original file again
restores either); a model folder whose row is missing (a crash between the file and the
commit) is adopted back when its weights pass inspection, else moved to ``<home>/damaged/``;
temp files are deleted unless their writer may still be at work: a model folder whose lock is
held (an import, a training's weights or an export being copied in, see
:mod:`app.library.import_lock`) or the run folder of a job that has not finished is never touched.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
from pathlib import Path

from sqlalchemy import select

from app.library.checkpoint import CheckpointError, inspect_checkpoint, sha256_file
from app.library.import_lock import try_model_lock
from app.library.importer import DAMAGED, MARKED, MISSING, SIDECAR
from app.library.orm import Job, Model, Project
from app.library.records import CheckReport
from app.library.rows import row_from_info, unique_name
from app.library.storage import TMP_SUFFIX, fsync_dir
from app.library.unit_of_work import LibraryHome

DAMAGED_SUFFIX = ".damaged"
DAMAGED_DIR = "damaged"
CLONE_OF = "clone_of"  # in a sidecar: the folder is a clone of that model in the making (app/library/clone.py)


def _temp_files(root: Path) -> list[Path]:
    """Half-written files and folders (exports are copied into a temp folder, then renamed).

    ``os.walk`` passes over a folder that vanishes while it is read (a writer finishing, an old
    export removed); a temp folder counts as one temp and is not entered.
    """
    pattern = f".*{TMP_SUFFIX}"
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        temps = [d for d in dirnames if fnmatch.fnmatch(d, pattern)]
        dirnames[:] = [d for d in dirnames if d not in temps]
        found += [Path(dirpath) / n for n in temps + [f for f in filenames if fnmatch.fnmatch(f, pattern)]]
    return sorted(found)


def _library_temps(lib: LibraryHome) -> list[Path]:
    """Temps YOLO Desk itself writes: under models/ and runs/, and beside the database. Never inside toolchain
    environments or anything else under the home, whose temp files belong to pip or other programs."""
    top = [p for p in lib.home.glob(f".*{TMP_SUFFIX}")] if lib.home.is_dir() else []
    return sorted(top + _temp_files(lib.models_dir) + _temp_files(lib.runs_dir))


def _model_id_of(lib: LibraryHome, path: Path) -> str | None:
    """The model folder a path lies in, if it lies in one."""
    try:
        return path.relative_to(lib.models_dir).parts[0]
    except (ValueError, IndexError):
        return None


def _job_id_of(lib: LibraryHome, path: Path) -> str | None:
    """The job whose run folder a path lies in, if it lies in one."""
    try:
        return path.relative_to(lib.runs_dir).parts[0]
    except (ValueError, IndexError):
        return None


def _job_running(lib: LibraryHome, job_id: str) -> bool:
    """Whether the job may still write into its run folder (its agent, or the app placing its results)."""
    with lib.read() as s:
        job = s.get(Job, job_id)
        return job is not None and job.finished_at is None


def _folder_state(lib: LibraryHome, model_id: str) -> str:
    """"busy" while an import owns the folder, "row" once its row exists, else "orphan"."""
    with try_model_lock(lib.home, model_id) as free:
        if not free:
            return "busy"
        with lib.read() as s:
            return "row" if s.get(Model, model_id) is not None else "orphan"


def _weights_problem(path: Path, sha256: str) -> str | None:
    """Why stored weights are not what the row says (None when they are)."""
    try:
        actual = sha256_file(path)
    except OSError as e:
        return f"its weights {path} cannot be read ({e.strerror or e})"
    if actual != sha256:
        return f"its weights {path} no longer match their sha256 (stored {sha256[:12]}…, now {actual[:12]}…)"
    try:
        inspect_checkpoint(path)
    except CheckpointError as e:
        return f"its weights {path} fail inspection: {e.message}"
    return None


def check_library(lib: LibraryHome, repair: bool = False, deep: bool = False) -> CheckReport:
    """Compare rows and files (``deep``: also every stored file against its sha256 and the inspector); repair if asked."""
    report = CheckReport()
    with lib.read() as s:
        all_rows = list(s.scalars(select(Model)))
        rows = {m.id: m.name for m in all_rows}
        # A training in progress claims no file yet (sha256 None); a marked model is already reported.
        claims = {m.id: m.sha256 for m in all_rows if m.sha256 is not None and m.status not in MARKED}
        report.marked = [(m.id, m.name, m.status) for m in all_rows if m.status in MARKED]
    for model_id in sorted(claims):
        w = lib.weights_path(model_id)
        if not w.is_file():
            report.missing_files.append((model_id, str(w)))
        elif deep and (problem := _weights_problem(w, claims[model_id])):
            report.damaged.append((model_id, problem))
    orphans = []
    for d in sorted(lib.models_dir.iterdir()):
        if d.is_dir() and d.name not in rows:
            state = _folder_state(lib, d.name)
            if state == "busy":
                report.busy.append(str(d))
            elif state == "orphan":
                orphans.append(d)
    report.orphan_files = [str(d) for d in orphans]
    temps = []
    for t in _library_temps(lib):
        model_id, job_id = _model_id_of(lib, t), _job_id_of(lib, t)
        if (model_id is not None and _folder_state(lib, model_id) == "busy") or (
                job_id is not None and _job_running(lib, job_id)):
            report.busy.append(str(t))
        else:
            temps.append(t)
    report.temp_files = [str(p) for p in temps]
    if not repair:
        return report

    for p in temps:
        _remove_temp(lib, p, report)
    for model_id, path in report.missing_files:
        if _mark(lib, model_id, MISSING):
            report.repaired.append(f"marked model {model_id} ({rows[model_id]!r}) {MISSING}: its weights {path} are "
                                   "gone; the row is kept (add the original file again to restore it)")
    for model_id, problem in report.damaged:
        report.repaired.append(_set_aside(lib, model_id, rows[model_id], problem))
    for folder in orphans:
        with try_model_lock(lib.home, folder.name) as free:
            if not free:
                report.busy.append(str(folder))
                continue
            with lib.read() as s:
                if s.get(Model, folder.name) is not None:
                    continue  # its import committed after the rows were read: not an orphan
            if folder.is_dir():
                report.repaired.append(_adopt_or_set_aside(lib, folder))
    for folder in lib.models_dir.iterdir():  # leftover sidecars of committed imports
        if folder.is_dir() and folder.name in rows:
            (folder / SIDECAR).unlink(missing_ok=True)
    return report


def _remove_temp(lib: LibraryHome, p: Path, report: CheckReport) -> None:
    model_id, job_id = _model_id_of(lib, p), _job_id_of(lib, p)
    if job_id is not None and _job_running(lib, job_id):  # started since the scan: its writer is at work
        report.busy.append(str(p))
        return
    if model_id is None:
        _delete(p, report)
        return
    with try_model_lock(lib.home, model_id) as free:
        if not free:  # an import, a training's weights or an export being copied in right now
            report.busy.append(str(p))
            return
        _delete(p, report)


def _delete(p: Path, report: CheckReport) -> None:
    if not os.path.lexists(p):
        return  # its writer finished (renamed or removed it) after the scan: nothing was left behind
    if p.is_dir():
        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)
    report.repaired.append(f"removed half-written file {p}")


def _mark(lib: LibraryHome, model_id: str, status: str) -> bool:
    with lib.write() as s:
        m = s.get(Model, model_id)
        if m is None:
            return False
        m.status = status
        return True


def _set_aside(lib: LibraryHome, model_id: str, name: str, problem: str) -> str:
    with try_model_lock(lib.home, model_id) as free:
        if not free:
            return f"left model {model_id} ({name!r}) alone: its weights are being written right now"
        w = lib.weights_path(model_id)
        aside = w.with_name(w.name + DAMAGED_SUFFIX)
        if w.exists():
            os.replace(w, aside)  # out of the way of every loader, bytes kept
            fsync_dir(w.parent)
        _mark(lib, model_id, DAMAGED)
    return (f"marked model {model_id} ({name!r}) {DAMAGED}: {problem}; the file was moved aside to {aside} "
            "(add the original file again to restore the model)")


def _move_aside(lib: LibraryHome, folder: Path, why: str) -> str:
    dest = lib.home / DAMAGED_DIR / folder.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        shutil.rmtree(dest, ignore_errors=True)
    os.replace(folder, dest)
    return f"moved {folder} aside to {dest}: {why}"


def _adopt_or_set_aside(lib: LibraryHome, folder: Path) -> str:
    weights = folder / "weights.pt"
    try:
        meta = json.loads((folder / SIDECAR).read_text())
    except (OSError, ValueError):
        meta = {}
    if _clone_original_intact(lib, meta):  # the original holds these bytes: the half-made clone is a copy
        shutil.rmtree(folder, ignore_errors=True)
        return f"removed {folder}: a clone of model {meta[CLONE_OF]} that stopped before it was committed"
    if not weights.exists():  # a crash before the copy was complete: the source is still where it was
        shutil.rmtree(folder, ignore_errors=True)
        return f"removed {folder}: an import that stopped before its copy was complete"
    try:
        info = inspect_checkpoint(weights, with_sha256=True)
    except CheckpointError as e:
        return _move_aside(lib, folder, f"no usable weights ({e.message})")
    src = Path(meta.get("source") or weights)
    with lib.write() as s:
        project_id = meta.get("project_id")
        if not isinstance(project_id, int) or s.get(Project, project_id) is None:
            project_id = lib.default_project_id
        dup = s.scalar(select(Model).where(Model.project_id == project_id, Model.sha256 == info.sha256,
                                           Model.deleted_at.is_(None)))
        if dup is not None:
            shutil.rmtree(folder, ignore_errors=True)  # the same bytes are in the library: nothing is lost
            return f"removed {folder}: the same weights are already in the library as {dup.name!r}"
        names = set(s.scalars(select(Model.name).where(Model.project_id == project_id)))
        name = unique_name(names, str(meta.get("name") or folder.name))
        extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
        extra = {k: v for k, v in extra.items() if k in ("parent_id", "dataset_id", "status")}
        row = row_from_info(folder.name, project_id, name, info, src, info.sha256 or "", info.size, extra)
        s.add(row)
    (folder / SIDECAR).unlink(missing_ok=True)
    return f"adopted {folder} back into the library as {name!r}"


def _clone_original_intact(lib: LibraryHome, meta: dict) -> bool:
    """Whether the sidecar names a clone's original whose row and weights file are still in place."""
    original = meta.get(CLONE_OF) if isinstance(meta, dict) else None
    if not isinstance(original, str) or not lib.weights_path(original).is_file():
        return False
    with lib.read() as s:
        m = s.get(Model, original)
        return m is not None and m.sha256 is not None and m.status not in MARKED
