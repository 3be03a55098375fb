"""Endpoint rows in the library database (table ``endpoints``, migration 0007), handed out as plain records."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from app.library.orm import Base, aware, utcnow
from app.library.repository import Library, LibraryError

# The hosted platform's states; Failed carries the reason in ``error``.
STATES = ("Creating", "Deploying", "Ready", "Stopping", "Stopped", "Failed")
LIVE = ("Creating", "Deploying", "Ready", "Stopping")


class Endpoint(Base):
    """One endpoint: which model it serves, where, on which port; its current job (None while stopped)."""

    __tablename__ = "endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    worker: Mapped[str] = mapped_column(String(100))
    backend: Mapped[str] = mapped_column(String(40))  # the format served: "pt", "onnx", "openvino", …
    weights: Mapped[str] = mapped_column(Text)  # the .pt or the export's path
    imgsz: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port: Mapped[int] = mapped_column(Integer)  # 0 until the first start binds one; then kept (the URL stays)
    tunnel_port: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a worker's: the local end, kept too
    tunnel_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the process holding that tunnel
    lan: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="Creating")
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_store: Mapped[str] = mapped_column(String(20))  # "keyring" or "file" (see app.deploy.tokens)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class EndpointRecord:
    id: str
    name: str
    model_id: str
    worker: str
    backend: str
    weights: str
    imgsz: int | None
    port: int
    tunnel_port: int | None
    tunnel_pid: int | None
    lan: bool
    state: str
    url: str | None
    error: str | None
    token_store: str
    job_id: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"], d["updated_at"] = self.created_at.isoformat(), self.updated_at.isoformat()
        return d


def _record(e: Endpoint) -> EndpointRecord:
    return EndpointRecord(e.id, e.name, e.model_id, e.worker, e.backend, e.weights, e.imgsz, e.port, e.tunnel_port,
                          e.tunnel_pid, bool(e.lan),
                          e.state, e.url, e.error, e.token_store, e.job_id, aware(e.created_at) or e.created_at,
                          aware(e.updated_at) or e.updated_at)


class EndpointStore:
    """CRUD for endpoint rows; every write goes through the library's write lock."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def create(self, **fields: Any) -> EndpointRecord:
        """A new row in state Creating; ``fields`` are the columns above (id made here)."""
        with self.lib.write() as s:
            e = Endpoint(id=fields.pop("id", None) or uuid.uuid4().hex[:12], state="Creating", **fields)
            s.add(e)
            s.flush()
            return _record(e)

    def get(self, ref: str) -> EndpointRecord:
        """An endpoint by id, a unique id prefix, or its name."""
        with self.lib.read() as s:
            e = s.get(Endpoint, ref)
            if e is None:
                found = s.scalars(select(Endpoint).where(Endpoint.id.startswith(ref) | (Endpoint.name == ref))).all()
                if len(found) != 1:
                    raise LibraryError(f"no endpoint with id or name {ref!r}" if not found else
                                       f"{len(found)} endpoints match {ref!r}; use the full id")
                e = found[0]
            return _record(e)

    def by_job(self, job_id: str) -> EndpointRecord | None:
        with self.lib.read() as s:
            e = s.scalar(select(Endpoint).where(Endpoint.job_id == job_id))
            return _record(e) if e else None

    def list(self) -> list[EndpointRecord]:
        with self.lib.read() as s:
            return [_record(e) for e in s.scalars(select(Endpoint).order_by(Endpoint.created_at))]

    def names(self) -> set[str]:
        with self.lib.read() as s:
            return set(s.scalars(select(Endpoint.name)))

    def set(self, endpoint_id: str, **fields: Any) -> EndpointRecord:
        with self.lib.write() as s:
            e = s.get(Endpoint, endpoint_id)
            if e is None:
                raise LibraryError(f"no endpoint with id {endpoint_id!r}")
            for k, v in fields.items():
                setattr(e, k, v)
            s.flush()
            return _record(e)

    def delete(self, endpoint_id: str) -> None:
        with self.lib.write() as s:
            e = s.get(Endpoint, endpoint_id)
            if e is not None:
                s.delete(e)
