"""What each page of the window shows, read in one go on the library thread and handed over frozen.

Qt-free: these loaders run inside :class:`app.qt.library_ops.LibraryOps` operations; views only
ever receive these dataclasses of plain records, never a session or an ORM object.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.exporters.store import ExportRecord, ExportStore
from app.jobs.placement import describe_target, is_target, waiting_note
from app.jobs.store import JobRecord, JobStore
from app.library.records import ModelRecord, ProjectRecord
from app.library.repository import Library, LibraryError


@dataclass(frozen=True)
class ProjectView:
    """The sidebar and the project page: every project, the shown one and its models."""

    projects: list[ProjectRecord]
    project: ProjectRecord
    models: list[ModelRecord]


@dataclass(frozen=True)
class ExportView:
    """The Export tab of one model: the newest export per format and where each was built."""

    record: ModelRecord
    exports: list[ExportRecord]
    where: dict[str, str]  # format → worker name


@dataclass(frozen=True)
class ModelView:
    """The model page: the record, its latest training job, whether its weights are trusted, its exports."""

    record: ModelRecord
    train_job: JobRecord | None
    trusted: bool
    exports: ExportView


def load_project_view(lib: Library, project_id: int | None) -> ProjectView:
    """The shown project (the first one if ``project_id`` is gone) with all projects and its models."""
    projects = lib.projects()
    project = next((p for p in projects if p.id == project_id), projects[0])
    return ProjectView(projects, project, lib.models(project.id))


def load_export_view(lib: Library, record: ModelRecord) -> ExportView:
    """A model's exports and, for those built by a job, the worker it ran on."""
    exports = ExportStore(lib).for_model(record.id)
    jobs = JobStore(lib)
    where = {}
    for e in exports:
        if e.job_id:
            try:
                job = jobs.get(e.job_id)
            except LibraryError:
                continue  # the job row was cleaned up: the export stands on its own
            note = waiting_note(job.result) if not job.finished else None  # an any-GPU export's wait, say
            where[e.format] = (describe_target(job.worker) if is_target(job.worker) else job.worker) + (
                f" ({note})" if note else "")
    return ExportView(record, exports, where)


def load_model_view(lib: Library, model_id: str) -> ModelView:
    """Everything the model page shows; raises :class:`LibraryError` when the model is gone."""
    record = lib.model(model_id)
    trains = [j for j in JobStore(lib).list(model_id=model_id) if j.kind == "train"]
    return ModelView(record, trains[0] if trains else None, lib.is_trusted(record.sha256),
                     load_export_view(lib, record))
