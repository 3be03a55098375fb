"""Validations: one row per validation of a model, and its capture file under ``models/<id>/validations/``.

The row (table ``validations``, migration 0008) holds what lists show (data set, split, arguments, a summary);
the capture (the JSON the ``val`` agent writes, format version 1, see ``remote_agent/val_capture.py``) holds the
matrix, curves, per-class metrics and per-image predictions. A capture is copied in atomically (temp file, fsync,
replace) while the model folder's lock is held, as exports are, so ``check --repair`` never deletes a copy in flight.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from app.library.disk_space import reraise_if_disk_full
from app.library.import_lock import hold_model_lock
from app.library.orm import Base, aware, utcnow
from app.library.repository import Library, LibraryError
from app.library.storage import atomic_copy

CAPTURE_VERSION = 1
TASKS = ("detect", "segment", "pose", "obb", "classify")
REQUIRED_KEYS = ("version", "task", "names", "confusion_matrix", "curves", "per_class", "overall", "speed", "images")


class ValidationError(LibraryError):
    """A validation that cannot be shown: no such row, or its capture file missing or damaged (one line)."""


class Validation(Base):
    """One validation run of a model; ``path`` is its capture file in the library's storage."""

    __tablename__ = "validations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    data: Mapped[str] = mapped_column(Text)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True)
    split: Mapped[str] = mapped_column(String(10))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class ValidationRecord:
    """A validation row as plain data (views and the CLI never see ORM objects)."""

    id: str
    model_id: str
    job_id: str | None
    data: str
    split: str
    args: dict[str, Any]
    summary: dict[str, Any]
    path: str
    created_at: datetime
    dataset_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-safe values (``created_at`` in ISO 8601)."""
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        return d


def _record(v: Validation) -> ValidationRecord:
    return ValidationRecord(v.id, v.model_id, v.job_id, v.data, v.split, dict(v.args or {}), dict(v.summary or {}),
                            v.path, aware(v.created_at) or v.created_at, v.dataset_id)


def validations_dir(lib: Library, model_id: str) -> Path:
    """Where a model's captures live."""
    return lib.models_dir / model_id / "validations"


def list_validations(lib: Library, model_id: str) -> list[ValidationRecord]:
    """A model's validations, newest first."""
    with lib.read() as s:
        rows = s.scalars(select(Validation).where(Validation.model_id == model_id)
                         .order_by(Validation.created_at.desc(), Validation.id))
        return [_record(v) for v in rows]


def latest_validation(lib: Library, model_id: str) -> ValidationRecord | None:
    """A model's newest validation, or None."""
    found = list_validations(lib, model_id)
    return found[0] if found else None


def get_validation(lib: Library, ref: str) -> ValidationRecord:
    """A validation by id or a unique id prefix; :class:`ValidationError` otherwise."""
    with lib.read() as s:
        v = s.get(Validation, ref)
        if v is None and ref:
            found = s.scalars(select(Validation).where(Validation.id.startswith(ref))).all()
            if len(found) > 1:
                raise ValidationError(f"{len(found)} validations match {ref!r}; use the full id")
            v = found[0] if found else None
        if v is None:
            raise ValidationError(f"no validation with id {ref!r}")
        return _record(v)


def by_job(lib: Library, job_id: str) -> ValidationRecord | None:
    """The validation a job wrote, if it wrote one."""
    with lib.read() as s:
        v = s.scalar(select(Validation).where(Validation.job_id == job_id))
        return _record(v) if v else None


def check_capture(capture: Any, where: str) -> dict[str, Any]:
    """The capture if it has the agreed shape; :class:`ValidationError` saying what is wrong otherwise."""
    if not isinstance(capture, dict):
        raise ValidationError(f"{where}: not a validation capture (a JSON object was expected)")
    missing = [k for k in REQUIRED_KEYS if k not in capture]
    if missing:
        raise ValidationError(f"{where}: not a validation capture (no {', '.join(missing)})")
    if capture["version"] != CAPTURE_VERSION:
        raise ValidationError(f"{where}: capture format version {capture['version']!r}; this YOLO Desk reads "
                              f"version {CAPTURE_VERSION}")
    if capture["task"] not in TASKS:
        raise ValidationError(f"{where}: unknown task {capture['task']!r}")
    n = len(capture["names"]) + (0 if capture["task"] == "classify" else 1)
    matrix = capture["confusion_matrix"]
    if not isinstance(matrix, list) or len(matrix) != n or any(not isinstance(r, list) or len(r) != n for r in matrix):
        raise ValidationError(f"{where}: the confusion matrix is not {n} x {n}")
    return capture


def read_capture_file(path: Path) -> dict[str, Any]:
    """Read and check a capture file; a missing or damaged file is a :class:`ValidationError` (one line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"the validation file {path} is missing (yolodesk check finds such rows)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValidationError(f"the validation file {path} cannot be read ({e})") from None
    try:
        capture = json.loads(text)
    except ValueError as e:
        raise ValidationError(f"the validation file {path} is damaged (not JSON: {e})") from None
    return check_capture(capture, str(path))


def load_capture(record: ValidationRecord) -> dict[str, Any]:
    """The capture of a validation, read from its file (see :func:`read_capture_file`)."""
    return read_capture_file(Path(record.path))


def add_validation(lib: Library, model_id: str, capture_file: Path, *, job_id: str | None, data: str, split: str,
                   args: dict[str, Any], summary: dict[str, Any], dataset_id: int | None = None) -> ValidationRecord:
    """Copy a checked capture into the model's folder atomically, then write its row; returns the record.

    The file lands before the row (a crash between leaves a file ``check`` can tell is unreferenced, never a row
    pointing at nothing); a failed row write removes the file again.
    """
    read_capture_file(capture_file)  # a damaged capture never lands
    lib.model(model_id)  # the model must still be there (LibraryError otherwise)
    vid = uuid.uuid4().hex[:12]
    folder = validations_dir(lib, model_id)
    target = folder / f"{vid}.json"
    with hold_model_lock(lib.home, model_id):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_copy(capture_file, target)
        except OSError as e:
            reraise_if_disk_full(e, folder)
            raise
    try:
        with lib.write() as s:
            v = Validation(id=vid, model_id=model_id, job_id=job_id, data=data, dataset_id=dataset_id, split=split,
                           args=args, summary=summary, path=str(target))
            s.add(v)
            s.flush()
            return _record(v)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def delete_validation(lib: Library, ref: str) -> None:
    """Remove a validation's row and its file."""
    rec = get_validation(lib, ref)
    with lib.write() as s:
        v = s.get(Validation, rec.id)
        if v is not None:
            s.delete(v)
    Path(rec.path).unlink(missing_ok=True)
