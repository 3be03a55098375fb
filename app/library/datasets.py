"""Data sets as library items: add (scan, unpack a zip), re-scan, list with their models and state, find by name.

The scan itself is :mod:`app.library.dataset_scan`; a zip is unpacked by :mod:`app.library.dataset_zip` into
``<home>/datasets/<id>/``. What a scan found is kept in the ``datasets`` row (``kind``, ``stats``, ``size``,
``checked_at``), so listing never walks the disk; only a path that vanished is noticed (state Missing).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from app.library.dataset_scan import Cancel, DatasetUnusable, Progress, ScanCancelled, ScanResult, scan_dataset
from app.library.dataset_zip import ZipRefused, extract_zip, find_dataset_in
from app.library.orm import Dataset, Model, aware, utcnow
from app.library.records import DatasetRecord
from app.library.rows import unique_name
from app.library.unit_of_work import LibraryHome

__all__ = ["AddOutcome", "DatasetInfo", "DatasetUnusable", "PreparedScan", "ScanCancelled", "add_dataset",
           "dataset_info", "find_dataset", "list_datasets", "prepare_dataset", "prepare_rescan", "rescan_dataset",
           "store_prepared"]

STATES = ("Ready", "Warnings", "Unusable", "Not checked", "Missing")


@dataclass(frozen=True)
class LinkedModel:
    """A model trained on the data set (by ``dataset_id``, or by ``dataset_ref`` naming its location)."""

    id: str
    name: str
    project: str
    created_at: datetime | None


@dataclass(frozen=True)
class DatasetInfo:
    """One data set for a view or the CLI: the record, what the last scan found, its models and its state."""

    record: DatasetRecord
    stats: dict[str, Any]
    models: list[LinkedModel] = field(default_factory=list)
    state: str = "Not checked"

    @property
    def last_used(self) -> datetime | None:
        """When a model was last trained on it."""
        return max((m.created_at for m in self.models if m.created_at), default=None)

    def images(self, split: str) -> int:
        return int(self.stats.get("splits", {}).get(split, {}).get("images", 0))

    def to_json(self, detail: bool = False) -> dict[str, Any]:
        """The CLI's object: the listing's fields, and with ``detail`` the counts per class and split and problems."""
        r = self.record
        d: dict[str, Any] = {
            "id": r.id, "name": r.name, "task": r.task, "location": r.location, "kind": r.kind,
            "classes": len(r.class_names), "names": r.class_names, "train_images": self.images("train"),
            "val_images": self.images("val"), "size": r.size, "models": len(self.models),
            "last_used": self.last_used.isoformat() if self.last_used else None, "state": self.state,
            "checked_at": r.checked_at.isoformat() if r.checked_at else None,
        }
        if detail:
            splits = self.stats.get("splits", {})
            d["splits"] = {s: {"images": v.get("images", 0), "background": v.get("background", 0),
                               "instances": v.get("instances", {})} for s, v in splits.items()}
            d["problems"] = self.stats.get("problems", [])
            d["problem_count"] = self.stats.get("problem_count", 0)
            d["kpt_shape"] = self.stats.get("kpt_shape")
            d["model_list"] = [{"id": m.id, "name": m.name, "project": m.project} for m in self.models]
        return d


@dataclass(frozen=True)
class AddOutcome:
    """What adding (or re-checking) a data set did: the item, the scan, and whether the row was new."""

    info: DatasetInfo
    scan: ScanResult
    added: bool


def _record(d: Dataset) -> DatasetRecord:
    return DatasetRecord(d.id, d.name, d.location, d.task, list(d.class_names or []), d.kind, d.size,
                         aware(d.checked_at))


def _state(d: Dataset) -> str:
    if not Path(d.location).exists():
        return "Missing"
    stats = d.stats or {}
    if not stats:
        return "Not checked"
    splits = stats.get("splits", {})
    if not all(splits.get(s, {}).get("images") for s in ("train", "val")):
        return "Unusable"
    return "Warnings" if stats.get("problem_count") else "Ready"


def _info(s: Any, d: Dataset) -> DatasetInfo:  # noqa: ANN401 (a session)
    from app.library.orm import Project

    rows = s.execute(
        select(Model, Project.name).join(Project, Project.id == Model.project_id)
        .where(Model.deleted_at.is_(None), or_(Model.dataset_id == d.id, Model.dataset_ref == d.location))
        .order_by(Model.created_at.desc())
    ).all()
    models = [LinkedModel(m.id, m.name, pname, aware(m.created_at)) for m, pname in rows]
    return DatasetInfo(_record(d), dict(d.stats or {}), models, _state(d))


def list_datasets(lib: LibraryHome) -> list[DatasetInfo]:
    """Every data set of the library by name, with its models and state (a vanished path: Missing)."""
    with lib.read() as s:
        return [_info(s, d) for d in s.scalars(select(Dataset).order_by(Dataset.name, Dataset.id))]


def dataset_info(lib: LibraryHome, dataset_id: int) -> DatasetInfo:
    """One data set by id; ``LookupError`` if it is gone."""
    with lib.read() as s:
        d = s.get(Dataset, dataset_id)
        if d is None:
            raise LookupError(f"no data set with id {dataset_id}")
        return _info(s, d)


def find_dataset(lib: LibraryHome, ref: str) -> DatasetInfo:
    """A data set by id, name (when one has it) or location; ``LookupError`` with a one-line reason."""
    found = [i for i in list_datasets(lib) if ref in (str(i.record.id), i.record.name, i.record.location)]
    if len(found) == 1:
        return found[0]
    if found:
        raise LookupError(f"{len(found)} data sets are named {ref!r} (ids {', '.join(str(i.record.id) for i in found)})"
                          "; use an id")
    raise LookupError(f"no data set with id or name {ref!r} (yolodesk datasets lists them)")


@dataclass(frozen=True)
class PreparedScan:
    """A finished scan not yet stored (made without the database, so it may run on any thread)."""

    scan: ScanResult
    name: str
    unpacked: Path | None = None  # the folder a zip was unpacked into: removed if storing fails


def prepare_dataset(home: Path, path: str | Path, name: str | None = None, progress: Progress | None = None,
                    cancel: Cancel | None = None, task: str | None = None) -> PreparedScan:
    """Scan ``path`` (a data.yaml, a classification folder or a .zip of either, unpacked under ``home/datasets``)
    without touching the database. Raises :class:`DatasetUnusable` when it cannot be read at all,
    :class:`ScanCancelled` when cancelled (an unpacked zip removed either way)."""
    path = Path(path).expanduser().absolute()
    unpacked: Path | None = None
    if path.is_file() and path.suffix.lower() == ".zip":
        unpacked = _unpack(Path(home), path, progress, cancel)
    try:
        try:
            target = find_dataset_in(unpacked) if unpacked is not None else path
        except ZipRefused as e:
            raise DatasetUnusable(f"{path.name}: {e}") from None
        scan = scan_dataset(target, progress, cancel, task)
        if unpacked is not None:
            scan.kind, scan.source = "zip", str(path)
            if Path(scan.root).resolve() != unpacked.resolve() and unpacked.resolve() not in \
                    Path(scan.root).resolve().parents:
                raise DatasetUnusable(f"{path.name}: its data.yaml's `path:` points outside the archive")
        return PreparedScan(scan, name or _default_name(path, target), unpacked)
    except BaseException:
        _discard(unpacked)
        raise


def prepare_rescan(info: DatasetInfo, progress: Progress | None = None, cancel: Cancel | None = None) -> PreparedScan:
    """Scan a library data set again where it lies (no database); ``DatasetUnusable`` if it vanished."""
    scan = scan_dataset(info.record.location, progress, cancel, info.record.task)
    if info.record.kind == "zip":
        scan.kind, scan.source = "zip", info.stats.get("source")
    return PreparedScan(scan, info.record.name)


def store_prepared(lib: LibraryHome, prepared: PreparedScan) -> AddOutcome:
    """Store a prepared scan: a new row, or the known location's row updated (the window's library thread)."""
    try:
        return _store(lib, prepared.scan, prepared.name)
    except BaseException:
        _discard(prepared.unpacked)
        raise


def add_dataset(lib: LibraryHome, path: str | Path, name: str | None = None, progress: Progress | None = None,
                cancel: Cancel | None = None, task: str | None = None) -> AddOutcome:
    """Scan ``path`` and store it, or re-check it when its location is in the library already (see
    :func:`prepare_dataset`); a new data set without train or val images is not stored (``DatasetUnusable``)."""
    return store_prepared(lib, prepare_dataset(lib.home, path, name, progress, cancel, task))


def rescan_dataset(lib: LibraryHome, dataset_id: int, progress: Progress | None = None,
                   cancel: Cancel | None = None) -> AddOutcome:
    """Scan a library data set again and store what it found; the row is kept as it was if it vanished."""
    return store_prepared(lib, prepare_rescan(dataset_info(lib, dataset_id), progress, cancel))


def _discard(unpacked: Path | None) -> None:
    if unpacked is not None:
        shutil.rmtree(unpacked, ignore_errors=True)


def _unpack(home: Path, path: Path, progress: Progress | None, cancel: Cancel | None) -> Path:
    store = home / "datasets"
    store.mkdir(parents=True, exist_ok=True)
    try:
        return extract_zip(path, store / f"{path.stem[:60]}-{uuid.uuid4().hex[:8]}", cancel, progress)
    except ZipRefused as e:
        if "cancelled" in str(e):
            raise ScanCancelled(str(e)) from None
        raise DatasetUnusable(str(e)) from None


def _default_name(given: Path, target: Path) -> str:
    if given.suffix.lower() == ".zip":
        return given.stem
    if target.suffix.lower() in (".yaml", ".yml"):
        return target.parent.name if target.stem == "data" else target.stem
    return target.name


def _store(lib: LibraryHome, scan: ScanResult, name: str) -> AddOutcome:
    with lib.write() as s:
        d = s.scalar(select(Dataset).where(Dataset.location == scan.location))
        added = d is None
        if added and scan.unusable_reason:  # a new one that cannot be trained on is not kept; a known one is marked
            raise DatasetUnusable(f"{Path(scan.location).name}: {scan.unusable_reason}", scan)
        if d is None:
            names = set(s.scalars(select(Dataset.name)))
            d = Dataset(location=scan.location, name=unique_name(names, name.strip() or "dataset"))
            s.add(d)
        d.task, d.class_names, d.kind = scan.task, scan.names, scan.kind
        d.stats, d.size, d.checked_at = scan.stats(), scan.size, utcnow()
        s.flush()
        for m in s.scalars(select(Model).where(Model.dataset_ref == scan.location, Model.dataset_id.is_(None))):
            m.dataset_id = d.id
        return AddOutcome(_info(s, d), scan, added)
