"""The endpoint manager: deploy a library model, follow its state, stop / start / delete it, rotate its token.

An endpoint's state is read from its current job, so every process (the window, any ``yolodesk`` command) sees
the same thing: a queued or starting job is Creating; a running one is the last ``endpoint`` event its agent
wrote (Deploying, Ready, Stopping — or Stopping once a stop was asked); a finished one is Stopped, or Failed
with the job's reason. The agent is detached, so an endpoint outlives the process that deployed it; the next
job manager adopts its job (:meth:`EndpointManager.recover`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from app.deploy.serve_job import SERVE
from app.deploy.store import LIVE, EndpointRecord, EndpointStore
from app.deploy.tokens import forget_token, new_token, store_token, token_for
from app.exporters.store import ExportStore
from app.jobs.manager import CANCEL_MARKER, JobManager
from app.library.records import ModelRecord
from app.library.repository import Library, LibraryError
from app.predict.session import BackendChoice, backend_choices

METRICS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Deployed:
    """What ``deploy`` hands back: the row, the token (shown once to the user) and a note on where it is kept."""

    endpoint: EndpointRecord
    token: str
    note: str | None


def servable_model(lib: Library, model_ref: str) -> ModelRecord:
    """The model ``model_ref`` names, refused when it is in the trash (it may be deleted for ever under its server)."""
    model = lib.find_model(model_ref)
    if model.deleted_at is not None:
        raise LibraryError(f"“{model.name}” is in the trash; restore it first")
    return model


def _port_free(port: int, lan: bool) -> bool:
    """Whether a server could listen on ``port`` here now (nothing else listens on it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the agent binds: old TIME_WAIT pairs do not count
        try:
            s.bind(("0.0.0.0" if lan else "127.0.0.1", port))
        except OSError:
            return False
    return True


def _tunnel_alive(ep: EndpointRecord) -> bool:
    """Whether the endpoint's tunnel process runs (its pid, and the command line is ours: pids are reused)."""
    if not ep.tunnel_pid:
        return False
    try:
        return "app.deploy.tunnel_process" in " ".join(psutil.Process(ep.tunnel_pid).cmdline())
    except psutil.Error:
        return False


def _last_endpoint_event(events: Path) -> dict[str, Any] | None:
    """The newest ``endpoint`` event carrying a state change (a replace notice says nothing of the state)."""
    last = None
    try:
        with open(events, encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"endpoint"' not in line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue  # a line being written
                if ev.get("type") == "endpoint" and not ev.get("replace_failed"):
                    last = ev
    except OSError:
        return None
    return last


def p95_ms(metrics_text: str) -> tuple[int, float | None]:
    """(requests to /predict, p95 latency in ms — the bucket bound it falls in) from Prometheus text."""
    from prometheus_client.parser import text_string_to_metric_families

    requests, buckets = 0, []
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "yolodesk_endpoint_requests_total" and sample.labels.get("path") == "/predict":
                requests += int(sample.value)
            elif sample.name == "yolodesk_endpoint_predict_seconds_bucket":
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    if not total:
        return requests, None
    bound = next(le for le, count in buckets if count >= 0.95 * total)
    return requests, round(bound * 1000, 1) if bound != float("inf") else None


class EndpointManager:
    """Endpoints of one library, run as ``serve`` jobs by ``jobs``."""

    def __init__(self, jobs: JobManager) -> None:
        self.jobs = jobs
        self.lib = jobs.lib
        self.store = EndpointStore(jobs.lib)
        self._opening: dict[str, subprocess.Popen[bytes]] = {}  # tunnel processes started, not yet holding

    # ------------------------------------------------------------------ create
    def choices(self, model_id: str) -> list[BackendChoice]:
        """The model's runtimes on this machine, fastest first (verified exports, then the .pt through the gate)."""
        model = self.lib.model(model_id)
        imgsz = model.imgsz if isinstance(model.imgsz, int) else None
        return backend_choices(model.weights_path, ExportStore(self.lib).for_model(model.id), imgsz, cuda=False)

    def pick_choice(self, model_id: str, where: str, backend: str | None) -> BackendChoice:
        """The runtime to serve ``model_id`` with on ``where``: ``backend`` if it is offered, else the fastest."""
        model = self.lib.model(model_id)
        choices = self.choices(model.id) if where == "local" else self.choices(model.id)[-1:]  # a worker: the .pt
        if not choices:
            raise LibraryError(f"{model.name!r} has no weights or verified export to serve")
        if not backend:
            return choices[0]
        found = [c for c in choices if backend.lower() in (c.name.lower(), c.format.lower())]
        if not found:
            raise LibraryError(f"{model.name!r} cannot be served with {backend!r} here (it can: "
                               f"{', '.join(c.format for c in choices)})")
        return found[0]

    def deploy(self, model_ref: str, worker: str | None = None, port: int = 0, lan: bool = False,
               backend: str | None = None, name: str | None = None) -> Deployed:
        """Check everything, make the endpoint and its token, start its job; refusals leave nothing behind."""
        model = servable_model(self.lib, model_ref)
        where = self.jobs.worker_name(worker)
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise LibraryError(f"port {port!r} is not a port number (0 picks a free one)")
        if port and not _port_free(port, lan and where == "local"):
            raise LibraryError(f"port {port} is in use on this machine: pick another, or --port 0 for a free one")
        if where != "local" and lan:
            raise LibraryError("--lan is for this machine: a worker's endpoint stays on its loopback, reached "
                               "through an SSH tunnel from here")
        choice = self.pick_choice(model.id, where, backend)
        taken = self.store.names()
        base = name or model.name
        if name and name in taken:
            raise LibraryError(f"an endpoint named {name!r} exists already")
        unique, n = base, 2
        while unique in taken:
            unique, n = f"{base}-{n}", n + 1
        token = new_token()
        endpoint_id = self.store.create(name=unique, model_id=model.id, worker=where, backend=choice.format,
                                        weights=choice.path, imgsz=choice.imgsz, lan=lan, token_store="pending",
                                        port=port if where == "local" else 0,  # a worker's: free there
                                        tunnel_port=(port or None) if where != "local" else None).id
        kept, note = store_token(self.lib.home, endpoint_id, token)
        self.store.set(endpoint_id, token_store=kept)
        SERVE.submit(self.jobs, self.store.get(endpoint_id))
        return Deployed(self.refresh(endpoint_id), token, note)

    # ------------------------------------------------------------------- state
    def refresh(self, ref: str) -> EndpointRecord:
        """The endpoint with its state read from its job (and written back to its row when it changed)."""
        ep = self.store.get(ref)
        if not ep.job_id:
            return ep
        try:
            job = self.jobs.store.get(ep.job_id)
        except LibraryError:
            return ep
        fields: dict[str, Any] = {}
        if job.status in ("Queued", "Starting"):
            fields["state"] = "Creating"
        elif job.status == "Running":
            ev = _last_endpoint_event(job.events_path) or {}
            state = str(ev.get("state") or "Creating")
            if (Path(job.run_dir) / CANCEL_MARKER).exists():
                state = "Stopping"
            fields["state"] = state
            if ev.get("url") and ep.worker == "local":  # a worker's URL is its tunnel's, here
                fields["url"] = ev["url"]
            if isinstance(ev.get("port"), int):
                fields["port"] = ev["port"]  # kept: the next start binds the same one, so the URL stays
        elif job.status == "Failed":
            fields.update(state="Failed", error=job.error)
        else:
            fields["state"] = "Stopped"
        if any(getattr(ep, k) != v for k, v in fields.items()):
            ep = self.store.set(ep.id, **fields)
        return ep

    def listing(self) -> list[EndpointRecord]:
        """Every endpoint, after settling jobs whose agent is gone (a killed endpoint shows Failed)."""
        self.jobs.list_jobs()
        return [self.refresh(e.id) for e in self.store.list()]

    def wait_for(self, ref: str, states: tuple[str, ...], timeout: float) -> EndpointRecord:
        """The endpoint once it is in one of ``states`` (or Failed / Stopped), or as it is after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            ep = self.refresh(ref)
            if ep.state in states or ep.state in ("Failed", "Stopped") or time.monotonic() > deadline:
                return ep
            time.sleep(0.1)

    def wait_ready(self, ref: str, timeout: float) -> EndpointRecord:
        """Wait until Ready (or Failed / Stopped); a worker's endpoint then gets its tunnel and local URL."""
        ep = self.wait_for(ref, ("Ready",), timeout)
        if ep.state == "Ready" and ep.worker != "local" and not _tunnel_alive(ep):
            ep = self._open_tunnel(ep, timeout)
        return ep

    def ensure_tunnel(self, ref: str) -> EndpointRecord:
        """Without waiting: a worker's Ready endpoint gets its tunnel process started (once); the row as it is now.

        The tunnel writes the local URL to the row when it is open, so a poll sees it; the window's library thread
        calls this on every poll instead of waiting for the tunnel (an SSH handshake can take seconds)."""
        ep = self.refresh(ref)
        if ep.state != "Ready" or ep.worker == "local" or _tunnel_alive(ep):
            self._opening.pop(ep.id, None)
            return ep
        proc = self._opening.get(ep.id)
        if proc is None:
            self._opening[ep.id] = self._spawn_tunnel(ep)
        elif proc.poll() is not None:
            del self._opening[ep.id]  # the next poll tries again: the worker may be back
            raise LibraryError(self._tunnel_failure(ep))
        return ep

    def _tunnel_log(self, ep: EndpointRecord) -> Path:
        return self.lib.home / "endpoint-tunnels" / f"{ep.id}.log"

    def _tunnel_failure(self, ep: EndpointRecord) -> str:
        log = self._tunnel_log(ep)
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        return f"the SSH tunnel to {ep.worker} could not be opened: {(tail or ['it exited'])[0]}"

    def _spawn_tunnel(self, ep: EndpointRecord) -> subprocess.Popen[bytes]:
        """Start the detached process that holds the SSH local port forward (it writes the row's local URL)."""
        log = self._tunnel_log(ep)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as err:
            return subprocess.Popen([sys.executable, "-m", "app.deploy.tunnel_process", str(self.lib.home), ep.id],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True,
                                    cwd=Path(__file__).resolve().parents[2])

    def _open_tunnel(self, ep: EndpointRecord, timeout: float) -> EndpointRecord:
        """Start the tunnel process and wait until it holds the forward; the row then has its local URL."""
        proc = self._spawn_tunnel(ep)
        deadline = time.monotonic() + min(timeout, 60)
        while time.monotonic() < deadline:
            ep = self.store.get(ep.id)
            if ep.tunnel_pid == proc.pid:
                return ep
            if proc.poll() is not None:
                raise LibraryError(self._tunnel_failure(ep))
            time.sleep(0.1)
        raise LibraryError(f"the SSH tunnel to {ep.worker} was not open after {min(timeout, 60):.0f} s")

    def token(self, ep: EndpointRecord) -> str | None:
        """The endpoint's bearer token from the keyring (or its file)."""
        return token_for(self.lib.home, ep.id, ep.token_store)

    def metrics(self, ep: EndpointRecord) -> tuple[int | None, float | None]:
        """(requests to /predict, p95 ms) from the endpoint's /metrics; (None, None) when it does not answer."""
        token = self.token(ep)
        if ep.state != "Ready" or not ep.url or not token:
            return None, None
        req = urllib.request.Request(f"{ep.url}/metrics", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=METRICS_TIMEOUT_S) as r:
                return p95_ms(r.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            return None, None

    # ----------------------------------------------------------------- actions
    def recover(self) -> list[str]:
        """Adopt the jobs of endpoints whose deploying process is gone (follow live agents, settle dead ones)."""
        return self.jobs.recover()

    def stop(self, ref: str, timeout: float = 60) -> EndpointRecord:
        """SIGTERM the endpoint's agent (open requests finish) and wait until it is Stopped and its port free."""
        ep = self.refresh(ref)
        if ep.state not in LIVE or not ep.job_id:
            return ep
        self.recover()  # this process follows the job to its end, whoever started it
        self.jobs.cancel(ep.job_id)
        self.jobs.wait(ep.job_id, timeout)
        if _tunnel_alive(ep) and ep.tunnel_pid:
            os.kill(ep.tunnel_pid, signal.SIGTERM)  # it would see the job's end within a second anyway
        return self.refresh(ep.id)

    def request_stop(self, ref: str) -> EndpointRecord:
        """Ask the agent to stop (SIGTERM) and close a worker's tunnel, without waiting (the window's poll follows)."""
        ep = self.refresh(ref)
        if ep.state in LIVE and ep.job_id:
            self.recover()
            self.jobs.cancel(ep.job_id)
        if _tunnel_alive(ep) and ep.tunnel_pid:
            os.kill(ep.tunnel_pid, signal.SIGTERM)  # else it outlives the endpoint when no manager settles the job
        return self.refresh(ep.id)

    def start(self, ref: str) -> EndpointRecord:
        """Start a stopped (or failed) endpoint again, on its port: same URL, same token."""
        ep = self.refresh(ref)
        if ep.state in LIVE:
            raise LibraryError(f"endpoint {ep.name!r} is {ep.state.lower()} already")
        local_port = ep.port if ep.worker == "local" else ep.tunnel_port
        if local_port and not _port_free(local_port, ep.lan):
            raise LibraryError(f"port {local_port} is in use on this machine now: the endpoint cannot get its URL back")
        if not self.token(ep):
            raise LibraryError(f"the token of endpoint {ep.name!r} is gone; rotate-token makes a new one")
        SERVE.submit(self.jobs, ep)
        return self.refresh(ep.id)

    def delete(self, ref: str) -> EndpointRecord:
        """Stop the endpoint if it runs, forget its token and remove its row."""
        ep = self.stop(ref)
        if ep.state in LIVE:
            raise LibraryError(f"endpoint {ep.name!r} did not stop (it is {ep.state.lower()}); try again")
        forget_token(self.lib.home, ep.id)
        self.store.delete(ep.id)
        return ep

    def rotate_token(self, ref: str, timeout: float = 120) -> tuple[EndpointRecord, str]:
        """A new token replaces the old one; a running endpoint takes it without a restart (the URL stays)."""
        from app.deploy.endpoint_control import request_rotation, wait_answer

        request = request_rotation(self, ref)
        return wait_answer(self, request, timeout), request.token or ""

    def replace(self, ref: str, model_ref: str, backend: str | None = None, timeout: float = 300) -> EndpointRecord:
        """Serve another model of the same task: loaded and warmed beside the old one, then swapped in."""
        from app.deploy.endpoint_control import request_replace, wait_answer

        return wait_answer(self, request_replace(self, ref, model_ref, backend), timeout)

    def logs(self, ref: str) -> str:
        """The console of the endpoint's current (or last) job: the agent's log lines and any failure."""
        ep = self.refresh(ref)
        if not ep.job_id:
            return ""
        job = self.jobs.store.get(ep.job_id)
        out = []
        try:
            with open(job.events_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue
                    if ev.get("type") == "log":
                        out.append(str(ev.get("text", "")))
                    elif ev.get("type") in ("endpoint", "failed", "cancelled"):
                        detail = ev.get("state") or ev.get("message") or ""
                        out.append(f"[{ev['type']}] {detail}\n")
        except OSError:
            pass
        return "".join(out)
