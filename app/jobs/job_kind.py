"""One kind of job as the app sees it: a handler the job manager dispatches to by ``job.kind``.

A handler says how its spec is built and checked (its own ``submit``, before any row exists), what starting
the job marks in the library, what lands there when the agent completes, how a failure or cancel marks its
rows, how it is retried and what it frees where it ran. The scheduler (``app/jobs/manager.py``) knows none
of this. The agent-side twin of each kind is the entry of the same name in ``remote_agent/run.py``'s
``KINDS``: the app builds the spec, the agent runs it and reports events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol

from app.jobs.store import JobRecord, JobStore
from app.jobs.transport import AgentHandle, Transport
from app.library.repository import Library

# Spec keys the job store adds itself; a retry leaves them to the new row.
STORE_KEYS = ("id", "kind", "run_dir")


class KindFailure(Exception):
    """The agent finished, but its outcome could not land in the library: the job ends Failed with this."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message, self.result = message, result


class JobContext(Protocol):
    """What a handler may ask of the job manager (which implements it)."""

    lib: Library
    store: JobStore

    def worker_name(self, worker: str | None) -> str:
        """``"local"`` or a registered worker's name; raises a clear error for an unknown one."""
        ...

    def new_job(self, kind: str, spec: dict[str, Any], project_id: int | None, model_id: str | None,
                worker: str = "local", retry_of: str | None = None) -> JobRecord:
        """A Queued row owned by this manager, not scheduled yet (the handler adds its own rows first)."""
        ...

    def enqueue(self, job: JobRecord) -> JobRecord:
        """Tell listeners and start the job when a slot is free; returns its row as it is now."""
        ...


def localize(job: JobRecord, transport: Transport, path: str, sha256: str | None = None) -> Path:
    """A path the agent reported, on this machine (fetched from the worker and checked, for a remote job)."""
    if job.worker == "local":
        return Path(path)
    local = Path(job.run_dir) / "from-worker" / Path(path).name
    return transport.fetch(path, local, sha256)


class JobKind:
    """The app side of a kind of job; subclass it, set :attr:`name`, and register an instance in ``app.jobs.kinds``.

    Every hook runs on the supervising thread of the job. The defaults fit a kind that keeps nothing in the
    library: override only what the kind does.
    """

    name: ClassVar[str] = ""
    frees_worker_on: ClassVar[tuple[str, ...]] = ("Completed", "Cancelled")  # a failed job's folder stays there

    def default_limit(self) -> int:
        """How many jobs of this kind may run at once on one machine, unless the manager is told otherwise."""
        return 1

    def started(self, ctx: JobContext, job: JobRecord) -> None:
        """The job is about to be started: mark what it works on (a model Training, an export Running)."""

    def complete(self, ctx: JobContext, job: JobRecord, state: str, result: dict[str, Any],
                 transport: Transport) -> dict[str, Any]:
        """The agent ended with ``state`` "completed" or "cancelled": put its outcome in the library.

        Returns the result stored on the job row; raises :class:`KindFailure` when the outcome cannot land
        (the job then ends Failed and :meth:`ended` marks the kind's rows).
        """
        return result

    def ended(self, ctx: JobContext, job: JobRecord, status: str, error: str | None) -> None:
        """The job ended Failed (with ``error``) or Cancelled without :meth:`complete`: mark the kind's rows."""

    def retry(self, ctx: JobContext, old: JobRecord) -> JobRecord:
        """Queue the job again with the same arguments, on the same machine."""
        spec = {k: v for k, v in old.spec.items() if k not in STORE_KEYS}
        job = ctx.new_job(old.kind, spec, old.project_id, old.model_id, ctx.worker_name(old.worker), retry_of=old.id)
        return ctx.enqueue(job)

    def release(self, job: JobRecord, transport: Transport, handle: AgentHandle) -> None:
        """The job is over (``job.status`` final): free what it holds where it ran.

        By default a worker's run folder goes once the job Completed or was Cancelled (its results are in the
        library, and they would fill the box's disk); a failed job's folder stays for diagnosis.
        """
        if job.worker == "local" or job.status not in self.frees_worker_on:
            return
        from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

        try:
            transport.release(handle)
        except (SSHError, OSError):
            pass  # the link dropped just now: the folder stays, as a failed job's does
