"""A model row made from a checkpoint's metadata, and a name for it that no live model of the project has.

Shared by the importer (a new file) and ``check --repair`` (a folder adopted back), so both
fill a row the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.library.checkpoint import CheckpointInfo
from app.library.orm import Model
from app.library.untrusted import json_safe, utf8_text


def unique_name(existing: set[str], name: str) -> str:
    """``name``, or ``name (2)``, ``name (3)``… — the first that is not in ``existing``."""
    if name not in existing:
        return name
    i = 2
    while f"{name} ({i})" in existing:
        i += 1
    return f"{name} ({i})"


def row_from_info(model_id: str, project_id: int, name: str, info: CheckpointInfo, src: Path, sha: str,
                  size: int, extra: dict[str, Any]) -> Model:
    """A new model row filled from ``info``; ``extra`` (status, parent_id, dataset_id…) is consumed into it."""
    status = extra.pop("status", None) or ("Incomplete" if info.has_optimizer else "Ready")
    # Text from the checkpoint goes into TEXT columns: lone surrogates (a pickle allows them) escaped to UTF-8.
    return Model(
        id=model_id, project_id=project_id, name=name, task=_text(info.task), architecture=_text(info.architecture),
        family=_text(info.family), scale=_text(info.scale), class_names=info.names, nc=info.nc,
        imgsz=json_safe(info.imgsz), params=info.params, metrics=info.metrics, results=json_safe(info.results),
        train_args=json_safe(info.train_args), ultralytics_version=_text(info.ultralytics_version),
        checkpoint_date=_text(info.date), git=json_safe(info.git), epoch=info.epoch, has_optimizer=info.has_optimizer,
        original_filename=src.name, source_path=str(src), sha256=sha, size=size, status=status, visibility="private",
        dataset_ref=_text(info.data), **extra,
    )


def _text(value: str | None) -> str | None:
    return None if value is None else utf8_text(value)
