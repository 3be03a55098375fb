"""The registry of job kinds: a kind's name → its handler (:class:`app.jobs.job_kind.JobKind`).

The job manager looks a job's handler up here by ``job.kind`` and knows nothing else of the kind; adding a
kind is one handler registered here (the built-ins below) plus its agent-side twin, the entry of the same
name in ``remote_agent/run.py``'s ``KINDS``. See "Adding a job kind" in ``docs/ARCHITECTURE-notes.md``.
"""

from __future__ import annotations

from app.deploy.serve_job import SERVE
from app.exporters.export_job import EXPORT
from app.jobs.job_kind import JobKind
from app.jobs.train_job import TRAIN
from app.library.repository import LibraryError
from app.validation.val_job import VAL

_HANDLERS: dict[str, JobKind] = {}


class UnknownKind(LibraryError):
    """A job of a kind this app has no handler for (a row written by a newer YOLO Desk, say)."""


def register(handler: JobKind) -> JobKind:
    """Add a kind; a second handler under a name already taken is refused (unregister the first)."""
    if not handler.name:
        raise ValueError(f"{type(handler).__name__} has no name")
    if handler.name in _HANDLERS and _HANDLERS[handler.name] is not handler:
        raise ValueError(f"a job kind named {handler.name!r} is registered already")
    _HANDLERS[handler.name] = handler
    return handler


def unregister(name: str) -> None:
    """Remove a kind (jobs of it left in the library then fail as unknown when they would start)."""
    _HANDLERS.pop(name, None)


def handler_for(kind: str) -> JobKind:
    """The handler of ``kind``; :class:`UnknownKind` with the kinds this app runs otherwise."""
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownKind(f"this YOLO Desk does not run jobs of kind {kind!r} (it runs: "
                          f"{', '.join(sorted(_HANDLERS))})") from None


def registered() -> dict[str, JobKind]:
    """Every kind this app runs, by name."""
    return dict(_HANDLERS)


register(TRAIN)
register(EXPORT)
register(SERVE)
register(VAL)
