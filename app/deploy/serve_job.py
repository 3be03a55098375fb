"""``serve`` as a job kind, the app side: the spec built from an endpoint row, the token handed over in a 0600
file of the run folder (gone when the job ends), and the endpoint's row moved to Stopped or Failed at the end.

The agent side is ``remote_agent/serve.py`` (``KINDS["serve"]``): it binds the port, loads and warms the model
and serves until SIGTERM, reporting ``endpoint`` events (Deploying, Ready, Stopping).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.deploy.store import EndpointRecord, EndpointStore
from app.deploy.tokens import token_for, write_private
from app.jobs.job_kind import JobContext, JobKind
from app.jobs.store import JobRecord
from app.jobs.transport import AgentHandle, Transport
from app.jobs.trust import trusted_for
from app.library.repository import LibraryError

TOKEN_NAME = "token"  # in the run folder; the agent runs there, so the spec names it relatively


class ServeKind(JobKind):
    """``serve``: one job per start of an endpoint; it runs until stopped (cancelled), then the row is Stopped."""

    name = "serve"

    def default_limit(self) -> int:
        return 32  # endpoints run for days: one would block every other

    def submit(self, ctx: JobContext, endpoint: EndpointRecord) -> JobRecord:
        """Queue a start of ``endpoint`` (its model, backend and port); its row points at the new job."""
        model = ctx.lib.model(endpoint.model_id)
        args: dict[str, Any] = {"model": endpoint.weights, "format": endpoint.backend, "task": model.task,
                                "name": model.name, "port": endpoint.port, "lan": endpoint.lan,
                                "token_file": TOKEN_NAME}
        if endpoint.imgsz:
            args["imgsz"] = endpoint.imgsz
        spec = {"args": args, "trusted_sha256": trusted_for(ctx.lib, endpoint.weights), "system_interval": 30}
        job = ctx.new_job(self.name, spec, model.project_id, model.id, worker=endpoint.worker)
        EndpointStore(ctx.lib).set(endpoint.id, job_id=job.id, state="Creating", error=None)
        return ctx.enqueue(job)

    def started(self, ctx: JobContext, job: JobRecord) -> None:
        """Put the token where the agent reads it: a file only this user can read, in the run folder."""
        endpoint = EndpointStore(ctx.lib).by_job(job.id)
        if endpoint is None:
            return  # a job made by hand (tests): its spec names its own token
        token = token_for(ctx.lib.home, endpoint.id, endpoint.token_store)
        if not token:
            raise LibraryError(f"the token of endpoint {endpoint.name!r} is gone ({endpoint.token_store}); "
                               "rotate it to make a new one")
        if job.worker == "local":
            write_private(Path(job.run_dir) / TOKEN_NAME, token)
        else:
            _send_token(ctx, job, token)

    def complete(self, ctx: JobContext, job: JobRecord, state: str, result: dict[str, Any],
                 transport: Transport) -> dict[str, Any]:
        """A serve job ends by being stopped: its endpoint is Stopped (it keeps its port, so its URL)."""
        _mark(ctx, job, "Stopped", None)
        return result

    def ended(self, ctx: JobContext, job: JobRecord, status: str, error: str | None) -> None:
        (Path(job.run_dir) / TOKEN_NAME).unlink(missing_ok=True)  # a start that failed gets no release
        _mark(ctx, job, "Failed" if status == "Failed" else "Stopped", error)

    def release(self, job: JobRecord, transport: Transport, handle: AgentHandle) -> None:
        """The token file goes with the job (the keyring or the home's token file keeps the token)."""
        (Path(job.run_dir) / TOKEN_NAME).unlink(missing_ok=True)
        super().release(job, transport, handle)


def _send_token(ctx: JobContext, job: JobRecord, token: str) -> None:
    """Write the token into the job's folder on the worker, owner-only before a byte of it is written."""
    from app.jobs.ssh_link import Link  # paramiko loads only for a worker's job
    from app.jobs.workers import WorkerStore, sftp_makedirs

    store = WorkerStore(ctx.lib)
    link = Link(store, store.get(job.worker))
    try:
        link.client()
        assert link.layout is not None
        job_dir = link.layout.job(job.id)
        sftp = link.sftp()
        sftp_makedirs(sftp, job_dir)
        with sftp.open(f"{job_dir}/{TOKEN_NAME}", "wb") as f:
            f.chmod(0o600)
            f.write(token.encode())
    finally:
        link.close()


def _mark(ctx: JobContext, job: JobRecord, state: str, error: str | None) -> None:
    store = EndpointStore(ctx.lib)
    endpoint = store.by_job(job.id)
    if endpoint is not None:  # a later start has its own job: this one's end says nothing of it
        store.set(endpoint.id, state=state, error=error)


SERVE = ServeKind()
