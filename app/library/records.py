"""Plain records the library hands to views and the CLI (never ORM objects)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.library.checkpoint import KEY_METRIC


@dataclass(frozen=True)
class ProjectRecord:
    id: int
    name: str
    description: str
    model_count: int
    created_at: datetime


@dataclass(frozen=True)
class DatasetRecord:
    id: int
    name: str
    location: str
    task: str | None
    class_names: list[str]
    kind: str | None = None  # yaml | folder | zip; None: registered by a training, never scanned
    size: int | None = None  # bytes on disk at the last scan
    checked_at: datetime | None = None


@dataclass(frozen=True)
class ModelRecord:
    id: str
    project_id: int
    project: str
    name: str
    task: str | None
    architecture: str | None
    family: str | None
    scale: str | None
    class_names: list[str]
    nc: int | None
    imgsz: Any
    params: int | None
    metrics: dict[str, float]
    results: dict[str, list[Any]]
    train_args: dict[str, Any]
    ultralytics_version: str | None
    checkpoint_date: str | None
    git: dict[str, Any] | None
    epoch: int | None
    has_optimizer: bool
    original_filename: str
    source_path: str
    sha256: str | None  # None while a training has produced no weights yet
    size: int | None
    status: str
    visibility: str
    dataset: DatasetRecord | None
    dataset_ref: str | None
    parent_id: str | None
    parent_name: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    weights_path: Path

    @property
    def has_weights(self) -> bool:
        return self.sha256 is not None

    @property
    def key_metric(self) -> tuple[str, float] | None:
        """(label, value) of the metric the model list shows for this task."""
        name, label = KEY_METRIC.get(self.task or "", (None, None))
        if name and name in self.metrics:
            return label, self.metrics[name]
        return None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["weights_path"] = str(self.weights_path)
        for k in ("created_at", "updated_at", "deleted_at"):
            d[k] = d[k].isoformat() if d[k] else None
        d["names"] = d.pop("class_names")
        d["dataset"] = d["dataset"]["location"] if d["dataset"] else None
        return d


@dataclass
class ImportResult:
    """What happened to one file given to :meth:`Library.import_checkpoint`."""

    path: str
    state: str  # "added" | "duplicate" | "rejected"
    message: str
    code: str | None = None
    model: ModelRecord | None = None

    @property
    def ok(self) -> bool:
        return self.state in ("added", "duplicate")


@dataclass
class CheckReport:
    """What ``yolodesk check`` found (and, with repair, what it did)."""

    missing_files: list[tuple[str, str]] = field(default_factory=list)  # (model id, path)
    orphan_files: list[str] = field(default_factory=list)
    temp_files: list[str] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (model id, what is wrong): found by a deep check
    marked: list[tuple[str, str, str]] = field(default_factory=list)  # (model id, name, status) marked by a repair
    busy: list[str] = field(default_factory=list)  # folders and files an import in flight owns: left alone
    repaired: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing to repair (models already marked Damaged or Missing are reported, not repaired again)."""
        return not (self.missing_files or self.orphan_files or self.temp_files or self.damaged)
