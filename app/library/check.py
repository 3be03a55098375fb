"""``yolodesk check``: rows whose files are gone, files without rows, half-written temp files.

Repair: a row whose weights are gone is removed (nothing is left to recover); a model
folder whose row is missing (a crash between the file and the commit) is adopted back
into the library when its weights pass inspection, else removed; temp files are deleted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from app.library.importer import SIDECAR, _row_from_info, _unique_name
from app.library.orm import Model, Project
from app.library.records import CheckReport
from app.library.storage import TMP_SUFFIX

if TYPE_CHECKING:
    from app.library.repository import Library


def _temp_files(root: Path) -> list[Path]:
    """Half-written files and folders (exports are copied into a temp folder, then renamed)."""
    found = sorted(root.rglob(f".*{TMP_SUFFIX}"))
    return [p for p in found if not any(q in p.parents for q in found)]


def check_library(lib: Library, repair: bool = False) -> CheckReport:
    report = CheckReport()
    with lib._read() as s:
        all_rows = list(s.scalars(select(Model)))
        rows = {m.id: m.name for m in all_rows}
        claims_file = {m.id for m in all_rows if m.sha256 is not None}  # a training in progress claims none yet
    for model_id in sorted(claims_file):
        w = lib.weights_path(model_id)
        if not w.is_file():
            report.missing_files.append((model_id, str(w)))
    orphans = [d for d in sorted(lib.models_dir.iterdir()) if d.is_dir() and d.name not in rows]
    report.orphan_files = [str(d) for d in orphans]
    temps = _temp_files(lib.home)
    report.temp_files = [str(p) for p in temps]
    if not repair:
        return report

    for p in temps:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        report.repaired.append(f"removed half-written file {p}")
    for model_id, path in report.missing_files:
        with lib._write() as s:
            m = s.get(Model, model_id)
            if m is not None:
                s.delete(m)
        shutil.rmtree(lib.models_dir / model_id, ignore_errors=True)
        report.repaired.append(f"removed model {model_id} ({rows[model_id]!r}): its weights {path} are gone")
    for folder in orphans:
        report.repaired.append(_adopt_or_remove(lib, folder))
    for folder in lib.models_dir.iterdir():  # leftover sidecars of committed imports
        if folder.is_dir() and folder.name in rows:
            (folder / SIDECAR).unlink(missing_ok=True)
    return report


def _adopt_or_remove(lib: Library, folder: Path) -> str:
    weights = folder / "weights.pt"
    try:
        meta = json.loads((folder / SIDECAR).read_text())
    except (OSError, ValueError):
        meta = {}
    try:
        info = inspect_checkpoint(weights, with_sha256=True)
    except CheckpointError as e:
        shutil.rmtree(folder, ignore_errors=True)
        return f"removed {folder}: no usable weights ({e.message})"
    src = Path(meta.get("source") or weights)
    with lib._write() as s:
        project_id = meta.get("project_id")
        if not isinstance(project_id, int) or s.get(Project, project_id) is None:
            project_id = lib.default_project_id
        dup = s.scalar(select(Model).where(Model.project_id == project_id, Model.sha256 == info.sha256,
                                           Model.deleted_at.is_(None)))
        if dup is not None:
            shutil.rmtree(folder, ignore_errors=True)
            return f"removed {folder}: the same weights are already in the library as {dup.name!r}"
        names = set(s.scalars(select(Model.name).where(Model.project_id == project_id)))
        name = _unique_name(names, str(meta.get("name") or folder.name))
        extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
        extra = {k: v for k, v in extra.items() if k in ("parent_id", "dataset_id", "status")}
        row = _row_from_info(folder.name, project_id, name, info, src, info.sha256 or "", info.size, extra)
        s.add(row)
    (folder / SIDECAR).unlink(missing_ok=True)
    return f"adopted {folder} back into the library as {name!r}"
