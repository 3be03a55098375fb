"""Asking a running endpoint's agent to change without a restart: serve another model, or take a new token.

The agent polls its control folder (``<run_dir>/control``, see ``remote_agent/serve.py``): ``replace.json`` names
the model to load and warm beside the old one, ``token`` (0600) is the new bearer token. Here it is the job's run
folder; on a worker it is the job's folder there, written over SFTP (a new ``.pt`` goes first into the worker's
cache, by sha256). The agent answers with an ``endpoint`` event in the job's events file, so a request is two
halves: :func:`request_replace` / :func:`request_rotation` ask and return at once, :func:`answer` looks for the
reply without waiting — the window calls it on its poll, so its library thread is never held — and
:func:`wait_answer` waits (the CLI).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.deploy.store import LIVE, EndpointRecord
from app.deploy.tokens import new_token, store_token, token_for, write_private
from app.jobs.store import JobRecord
from app.jobs.trust import trusted_for
from app.library.repository import LibraryError

if TYPE_CHECKING:
    from app.deploy.endpoints import EndpointManager

POLL_S = 0.1


@dataclass(frozen=True)
class ControlRequest:
    """One question put to an endpoint's agent; its answer is an ``endpoint`` event after ``events_offset``."""

    endpoint_id: str
    kind: str  # "replace" or "rotate"
    job_id: str | None  # None: the endpoint was not running, nothing to ask (a rotation is then done at once)
    events_offset: int
    row: dict[str, Any] = field(default_factory=dict)  # replace: the endpoint row's fields once the swap is done
    model_name: str = ""
    token: str | None = None  # rotate: the new token (handed back to the user once)
    old_token: str | None = None  # rotate: put back if the agent refuses the new one


def _events_size(job: JobRecord) -> int:
    try:
        return Path(job.events_path).stat().st_size
    except OSError:
        return 0


def _write_control(mgr: EndpointManager, ep: EndpointRecord, job: JobRecord, name: str, text: str) -> None:
    """Put ``control/<name>`` in the job's folder, owner-only and whole (a temporary file, then a rename)."""
    if ep.worker == "local":
        write_private(Path(job.run_dir) / "control" / name, text)
        return
    from app.jobs.ssh_link import Link  # paramiko loads only for a worker's endpoint
    from app.jobs.workers import WorkerStore, sftp_makedirs

    store = WorkerStore(mgr.lib)
    link = Link(store, store.get(ep.worker))
    try:
        link.client()
        assert link.layout is not None
        control = f"{link.layout.job(job.id)}/control"
        sftp = link.sftp()
        sftp_makedirs(sftp, control)
        tmp = f"{control}/.{name}.{uuid.uuid4().hex[:8]}"
        with sftp.open(tmp, "wb") as f:
            f.chmod(0o600)  # before a byte of a token is written
            f.write(text.encode())
        sftp.posix_rename(tmp, f"{control}/{name}")
    finally:
        link.close()


def _upload_weights(mgr: EndpointManager, worker: str, path: Path) -> str:
    """The ``.pt`` in the worker's cache (by sha256, as a job's inputs are sent); its path there."""
    from app.jobs.ssh_link import Link, file_sha256, upload_file
    from app.jobs.workers import WorkerStore

    store = WorkerStore(mgr.lib)
    link = Link(store, store.get(worker))
    try:
        link.client()
        assert link.layout is not None
        sha = file_sha256(path)
        return upload_file(link, path, link.layout.cache(sha + path.suffix), sha)
    finally:
        link.close()


def _running_job(mgr: EndpointManager, ep: EndpointRecord) -> JobRecord:
    if not ep.job_id:
        raise LibraryError(f"endpoint {ep.name!r} is not running")
    mgr.recover()  # this process follows the job's events (a worker's are mirrored here)
    return mgr.jobs.store.get(ep.job_id)


def request_replace(mgr: EndpointManager, ref: str, model_ref: str, backend: str | None = None) -> ControlRequest:
    """Ask the endpoint to serve ``model_ref`` (same task) with ``backend``; refusals raise before anything is sent."""
    ep = mgr.refresh(ref)
    if ep.state != "Ready":
        raise LibraryError(f"endpoint {ep.name!r} is {ep.state.lower()}: only a Ready endpoint can swap its model")
    from app.deploy.endpoints import servable_model  # endpoints imports this module

    model = servable_model(mgr.lib, model_ref)
    current = mgr.lib.model(ep.model_id)
    if model.task != current.task:
        raise LibraryError(f"{model.name!r} is a {model.task} model; endpoint {ep.name!r} serves {current.task}: "
                           "its clients expect that task's answers")
    choice = mgr.pick_choice(model.id, ep.worker, backend)
    job = _running_job(mgr, ep)
    served = choice.path if ep.worker == "local" else _upload_weights(mgr, ep.worker, Path(choice.path))
    doc = {"model": served, "format": choice.format, "task": model.task, "name": model.name,
           "imgsz": choice.imgsz, "trusted_sha256": trusted_for(mgr.lib, choice.path)}
    offset = _events_size(job)
    _write_control(mgr, ep, job, "replace.json", json.dumps(doc))
    return ControlRequest(ep.id, "replace", job.id, offset, model_name=model.name,
                          row={"model_id": model.id, "backend": choice.format, "weights": choice.path,
                               "imgsz": choice.imgsz})


def request_rotation(mgr: EndpointManager, ref: str) -> ControlRequest:
    """A new token, kept at once (the next start uses it); a running endpoint is asked to take it now."""
    ep = mgr.refresh(ref)
    old = token_for(mgr.lib.home, ep.id, ep.token_store)
    token = new_token()
    kept, _note = store_token(mgr.lib.home, ep.id, token)
    mgr.store.set(ep.id, token_store=kept)
    if ep.state not in LIVE or not ep.job_id:
        return ControlRequest(ep.id, "rotate", None, 0, token=token)
    try:
        job = _running_job(mgr, ep)
        offset = _events_size(job)
        _write_control(mgr, ep, job, "token", token)
    except (LibraryError, OSError) as e:
        _restore(mgr, ep.id, old)
        raise LibraryError(f"the new token could not be handed to endpoint {ep.name!r}: {e}") from e
    return ControlRequest(ep.id, "rotate", job.id, offset, token=token, old_token=old)


def _restore(mgr: EndpointManager, endpoint_id: str, old: str | None) -> None:
    if old:
        kept, _note = store_token(mgr.lib.home, endpoint_id, old)
        mgr.store.set(endpoint_id, token_store=kept)


def _replies(job: JobRecord, offset: int) -> list[dict[str, Any]]:
    """The agent's ``endpoint`` events written after ``offset``."""
    out = []
    try:
        with open(job.events_path, "rb") as f:
            f.seek(offset)
            for line in f.read().decode("utf-8", "replace").splitlines():
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a line being written: read again on the next look
                if isinstance(ev, dict) and ev.get("type") == "endpoint":
                    out.append(ev)
    except OSError:
        pass
    return out


def answer(mgr: EndpointManager, request: ControlRequest) -> EndpointRecord | None:
    """The endpoint once the agent has done what was asked; None while it has not answered; a refusal raises."""
    if request.job_id is None:
        return mgr.refresh(request.endpoint_id)
    job = mgr.jobs.store.get(request.job_id)
    for ev in _replies(job, request.events_offset):
        if request.kind == "replace" and ev.get("replaced"):
            return mgr.store.set(request.endpoint_id, **request.row)
        if request.kind == "replace" and ev.get("replace_failed"):
            raise LibraryError(f"{request.model_name} was not swapped in (the old model goes on serving): "
                               f"{ev['replace_failed']}")
        if request.kind == "rotate" and ev.get("token_rotated"):
            return mgr.refresh(request.endpoint_id)
        if request.kind == "rotate" and ev.get("rotate_failed"):
            _restore(mgr, request.endpoint_id, request.old_token)
            raise LibraryError(f"the endpoint kept its old token: {ev['rotate_failed']}")
    ep = mgr.refresh(request.endpoint_id)
    if ep.state not in LIVE or ep.job_id != request.job_id:
        if request.kind == "rotate":
            return ep  # it stopped: the next start reads the new token
        raise LibraryError(f"endpoint {ep.name!r} ended ({ep.state.lower()}) before {request.model_name} was in")
    return None


def wait_answer(mgr: EndpointManager, request: ControlRequest, timeout: float) -> EndpointRecord:
    """Wait for :func:`answer` up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (done := answer(mgr, request)) is None:
        if time.monotonic() > deadline:
            raise LibraryError(f"the endpoint did not answer within {timeout:.0f} s "
                               f"({'the new model is still loading' if request.kind == 'replace' else 'no reply'})")
        time.sleep(POLL_S)
    return done

