"""SQLAlchemy tables of the library. Views never see these: the repository returns records."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.library.untrusted import FsText


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(Text, unique=True)
    task: Mapped[str | None] = mapped_column(String(20), nullable=True)
    class_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str | None] = mapped_column(String(20), nullable=True)  # yaml | folder | zip (migration 0009)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # per split and class; problems
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)  # bytes on disk
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Model(Base):
    __tablename__ = "models"
    __table_args__ = (
        Index("ux_models_project_sha256", "project_id", "sha256", unique=True, sqlite_where=text("deleted_at IS NULL")),
        Index("ix_models_project", "project_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(300))
    task: Mapped[str | None] = mapped_column(String(20), nullable=True)
    architecture: Mapped[str | None] = mapped_column(String(100), nullable=True)
    family: Mapped[str | None] = mapped_column(String(50), nullable=True)
    scale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    class_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    nc: Mapped[int | None] = mapped_column(Integer, nullable=True)
    imgsz: Mapped[Any] = mapped_column(JSON, nullable=True)
    params: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metrics: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    results: Mapped[dict[str, list[Any]]] = mapped_column(JSON, default=dict)
    train_args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ultralytics_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    checkpoint_date: Mapped[str | None] = mapped_column(String(60), nullable=True)
    git: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    epoch: Mapped[int | None] = mapped_column(Integer, nullable=True)
    has_optimizer: Mapped[bool] = mapped_column(Boolean, default=False)
    original_filename: Mapped[str] = mapped_column(FsText, default="")  # as given, even if not UTF-8
    source_path: Mapped[str] = mapped_column(FsText, default="")
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: no weights yet (training)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="Ready")
    visibility: Mapped[str] = mapped_column(String(10), default="private")
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"), nullable=True)
    dataset_ref: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Job(Base):
    """A heavy job run by the agent (training now; export, predict and serve later)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="Queued")
    worker: Mapped[str] = mapped_column(String(100), default="local")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"), nullable=True)
    model_id: Mapped[str | None] = mapped_column(ForeignKey("models.id", ondelete="SET NULL"), nullable=True)
    run_dir: Mapped[str] = mapped_column(Text, default="")
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pid_started: Mapped[float | None] = mapped_column(nullable=True)
    owner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_started: Mapped[float | None] = mapped_column(nullable=True)  # with owner_pid: the same process
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    retry_of: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Export(Base):
    """One export of a model to one format: its job's outcome and where the artifact lives."""

    __tablename__ = "exports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="Queued")
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verification: Mapped[str | None] = mapped_column(Text, nullable=True)
    seconds: Mapped[float | None] = mapped_column(nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Worker(Base):
    """A remote machine reached over SSH that runs the agent. Secrets are never stored here (OS keyring only)."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))  # an alias of ~/.ssh/config or a host name / address
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user: Mapped[str | None] = mapped_column(String(100), nullable=True)
    key_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    auth: Mapped[str] = mapped_column(String(20), default="key")  # key | agent | password (secret in the keyring)
    python: Mapped[str] = mapped_column(Text, default="python3")
    info: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the agent's last `info --json`
    tested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default="ssh", server_default="ssh")  # ssh | slurm | ray (0010)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # the kind's settings


class TrustedCheckpoint(Base):
    """A checkpoint the user chose to load although ultralytics' safe loader refused it (by content)."""

    __tablename__ = "trusted_checkpoints"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    trusted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
