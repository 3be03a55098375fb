"""Export rows and artifacts: ``models/<id>/exports/<format>/`` written atomically, rows as plain records."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.exporters.registry import FORMATS
from app.library.disk_space import reraise_if_disk_full
from app.library.import_lock import hold_model_lock
from app.library.orm import Export, aware
from app.library.repository import Library, LibraryError
from app.library.storage import TMP_SUFFIX, fsync_dir


@dataclass(frozen=True)
class ExportRecord:
    id: str
    model_id: str
    format: str
    args: dict[str, Any]
    status: str
    job_id: str | None
    path: str | None
    size: int | None
    sha256: str | None
    verified: bool
    verification: str | None
    seconds: float | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"], d["updated_at"] = self.created_at.isoformat(), self.updated_at.isoformat()
        return d


def _record(e: Export) -> ExportRecord:
    return ExportRecord(e.id, e.model_id, e.format, dict(e.args or {}), e.status, e.job_id, e.path, e.size, e.sha256,
                        bool(e.verified), e.verification, e.seconds, e.error, aware(e.created_at),
                        aware(e.updated_at))


class ExportStore:
    """Rows of the ``exports`` table; artifacts under the model's folder."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def create(self, model_id: str, fmt: str, args: dict[str, Any], job_id: str | None = None) -> ExportRecord:
        with self.lib.write() as s:
            e = Export(id=uuid.uuid4().hex[:12], model_id=model_id, format=fmt, args=args, status="Queued",
                       job_id=job_id, verified=False)
            s.add(e)
            s.flush()
            return _record(e)

    def get(self, export_id: str) -> ExportRecord:
        with self.lib.read() as s:
            e = s.get(Export, export_id)
            if e is None:
                raise LibraryError(f"no export with id {export_id!r}")
            return _record(e)

    def by_job(self, job_id: str) -> ExportRecord | None:
        with self.lib.read() as s:
            e = s.scalar(select(Export).where(Export.job_id == job_id))
            return _record(e) if e else None

    def for_model(self, model_id: str) -> list[ExportRecord]:
        """The newest export per format of a model."""
        with self.lib.read() as s:
            rows = s.scalars(select(Export).where(Export.model_id == model_id).order_by(Export.created_at.desc()))
            latest: dict[str, ExportRecord] = {}
            for e in rows:
                latest.setdefault(e.format, _record(e))
            order = {f.argument: i for i, f in enumerate(FORMATS)}
            return sorted(latest.values(), key=lambda r: order.get(r.format, 99))

    def set(self, export_id: str, **fields: Any) -> ExportRecord:
        with self.lib.write() as s:
            e = s.get(Export, export_id)
            if e is None:
                raise LibraryError(f"no export with id {export_id!r}")
            for k, v in fields.items():
                setattr(e, k, v)
            s.flush()
            return _record(e)

    def folder(self, model_id: str, fmt: str) -> Path:
        return self.lib.models_dir / model_id / "exports" / fmt

    def place(self, model_id: str, fmt: str, src: Path) -> Path:
        """Copy an artifact (file or folder) into ``models/<id>/exports/<fmt>/`` atomically; return its path.

        The model folder's lock is held while the temp folder exists, as the importer holds it:
        ``check --repair`` leaves a locked folder's temp files alone, so it never deletes a copy in flight.
        """
        with hold_model_lock(self.lib.home, model_id):
            return self._place_locked(model_id, fmt, src)

    def _place_locked(self, model_id: str, fmt: str, src: Path) -> Path:
        target_dir = self.folder(model_id, fmt)
        tmp = target_dir.parent / f".{fmt}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
        try:
            target_dir.parent.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
        except OSError as e:
            reraise_if_disk_full(e, target_dir.parent)
            raise
        try:
            dest = tmp / src.name
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copyfile(src, dest)
            for f in [dest] if dest.is_file() else [p for p in dest.rglob("*") if p.is_file()]:
                with open(f, "rb+") as fh:
                    os.fsync(fh.fileno())
            old = None
            if target_dir.exists():
                old = target_dir.parent / f".{fmt}.old.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
                os.replace(target_dir, old)
            os.replace(tmp, target_dir)
            fsync_dir(target_dir.parent)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException as e:
            shutil.rmtree(tmp, ignore_errors=True)  # removed before the verdict: the space it took is free again
            reraise_if_disk_full(e, target_dir.parent)
            raise
        return target_dir / src.name

    def delete(self, export_id: str) -> None:
        rec = self.get(export_id)
        if rec.status in ("Queued", "Starting", "Running"):
            raise LibraryError("the export is still running; cancel it first")
        with self.lib.write() as s:
            for e in s.scalars(select(Export).where(Export.model_id == rec.model_id, Export.format == rec.format)):
                s.delete(e)
        shutil.rmtree(self.folder(rec.model_id, rec.format), ignore_errors=True)
