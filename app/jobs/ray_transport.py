"""The Ray transport: the SSH worker's agent and events, submitted to a Ray cluster through its Jobs API.

A Ray worker is the SSH host of the cluster's head. The app opens its own SSH connection there (the same
:class:`app.jobs.ssh_link.Link` the SSH worker uses) and, over it, a local port forward to the head's
dashboard on the head's loopback (:class:`app.deploy.tunnel.Tunnel`): the dashboard never has to listen
beyond ``127.0.0.1`` there. Requests carry the worker's token (``RAY_AUTH_MODE=token`` on the head) as a
bearer header; the token comes from :mod:`app.jobs.ray_options` (keyring, else a 0600 file), never the DB.

``start`` uploads the job's inputs and writes its spec exactly as the SSH transport does (checked SFTP
transfers into ``~/.yolodesk-agent`` on the head), then ``submit_job`` with the agent's own files carried
in ``runtime_env.working_dir`` (so the head runs this app's agent, whatever version is installed there) and
the submission id ``yolodesk-<job id>`` (deterministic: a retried start submits nothing twice, and a
restarted app re-attaches by it; it is also kept in ``remote.json``). The job asks Ray for its GPUs
(:func:`app.jobs.cluster_gpus.cluster_ask`: Ray then shows it only those, as 0…n-1) and for the worker's CPUs
and memory per job; Ray runs it on a node that has them, the head only when it asks for nothing. A node
other than the head must see the job's folder under the SSH user's home (a shared home): the entrypoint
checks and says so in one line if it does not. Liveness and Cancel are
the Jobs API's (``get_job_status``, ``stop_job``: SIGTERM, SIGKILL after ``RAY_JOB_STOP_WAIT_TIME_S``);
the events file is mirrored over SFTP like the SSH worker's; the agent's stderr, else the job's log, explains
a crash. Artifacts come back over SFTP on the same link: checked by sha256 and resumable, which the Jobs
API's text logs are not (they are for reading, not for carrying hundreds of MB of weights).
"""

from __future__ import annotations

import json
import posixpath
import shlex
import shutil
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update

from app.deploy.tunnel import Tunnel
from app.jobs.cluster_gpus import GpuAsk, cluster_ask
from app.jobs.ray_options import RayOptions, ray_token
from app.jobs.ssh import SSHError
from app.jobs.ssh_link import RemoteCommandError
from app.jobs.queued_transport import QueuedTransport
from app.jobs.ssh_transport import REMOTE_FILE, Mirror, write_record
from app.jobs.transport import AgentHandle
from app.jobs.workers import WorkerRecord, WorkerStore, agent_files, remote_env, sftp_makedirs, sftp_write
from app.library.orm import Job

LIVE_STATES = frozenset({"PENDING", "RUNNING"})  # Ray's JobStatus values in which the agent may still write events
SUBMISSION_PREFIX = "yolodesk-"
NEVER_START = "cancelled-while-pending"  # in the job's folder there: the entrypoint exits before the agent runs
INSTALL_HINT = "the Ray client is not installed here: pip install 'ray[default]'"


def submission_id(job_id: str) -> str:
    """The Ray submission id of our job (the same on every try: Ray refuses a second submission under it)."""
    return SUBMISSION_PREFIX + job_id


@dataclass
class RayMirror(Mirror):
    """The SSH mirror whose "does the agent still run?" is the Jobs API's status of the submission."""

    query: Callable[[], str] | None = None

    def agent_alive(self) -> bool:
        assert self.query is not None
        return self.query() in LIVE_STATES


class RayTransport(QueuedTransport):
    """Runs the agent as a Ray job; implements :class:`app.jobs.transport.Transport`."""

    def __init__(self, store: WorkerStore, worker: WorkerRecord, give_up_s: float = 1800.0,
                 on_state: Callable[[str], None] | None = None) -> None:
        super().__init__(store, worker, give_up_s, threading.RLock())
        self.on_state = on_state  # told the job id when Ray's PENDING message on its row changed
        self.options = RayOptions.from_json(worker.options)
        self._tunnel: Tunnel | None = None
        self._tunnel_client: object | None = None
        self._jobs: Any = None  # ray.job_submission.JobSubmissionClient over the tunnel
        self._mirrors: dict[str, RayMirror] = {}
        self._states: dict[str, tuple[str, str | None]] = {}  # submission id -> (status, Ray's message)
        self._asks: dict[str, str | None] = {}  # submission id -> what it asked Ray for (the Jobs API does not say)
        self._abandoned: set[str] = set()  # cancelled while Ray kept them pending: ended here, never to run

    # ------------------------------------------------------------------ the Jobs API, through the tunnel
    def jobs(self) -> Any:
        """The Jobs API client; a new tunnel (and client) whenever the SSH link was re-established."""
        with self._lock:
            client = self.link.client()
            if self._tunnel is None or self._tunnel_client is not client:
                if self._tunnel is not None:
                    self._tunnel.close()
                self._tunnel, self._tunnel_client, self._jobs = Tunnel(client, self.options.dashboard_port), client, None
            if self._jobs is None:
                try:
                    from ray.job_submission import JobSubmissionClient
                except ImportError as e:
                    raise RemoteCommandError(INSTALL_HINT) from e
                token = ray_token(self.store.lib.home, self.name)
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                try:
                    self._jobs = JobSubmissionClient(self._tunnel.local_url, headers=headers)
                except OSError:
                    raise  # the connection: the link's retrying tries again
                except Exception as e:  # noqa: BLE001 — an answer: a refused token (Ray's AuthenticationError)…
                    raise RemoteCommandError(self._why(e)) from e
            return self._jobs

    def _why(self, error: Exception) -> str:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "401" in text or "403" in text or "authentication" in text.lower():
            return (f"the Ray dashboard on {self.name} refused the token ({text[:200]}) — give the cluster's token: "
                    f"yolodesk workers add {self.name} HOST --kind ray --ask-secret")
        return f"the Ray Jobs API on {self.name} (port {self.options.dashboard_port} there) failed: {text[:300]}"

    def call(self, what: Callable[[Any], Any]) -> Any:
        """One Jobs API call; its refusals become RemoteCommandError (connection failures stay OSError: retried)."""
        jobs = self.jobs()
        try:
            return what(jobs)
        except OSError:
            raise  # the connection: the link's retrying tries again
        except Exception as e:  # noqa: BLE001 — Ray's refusals (404, 401, "already exists") are RuntimeError & co
            raise RemoteCommandError(self._why(e)) from e

    def status(self, sub_id: str) -> str:
        """Ray's status of the submission (PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED)."""
        info = self.call(lambda jobs: jobs.get_job_info(sub_id))
        state = str(getattr(info.status, "value", info.status))
        before = self._states.get(sub_id)
        self._states[sub_id] = (state, info.message)
        if before != self._states[sub_id] and "PENDING" in (state, before[0] if before else None):
            self._note(sub_id[len(SUBMISSION_PREFIX):], state, info.message, self._asks.get(sub_id))  # a wait…
        return state

    def _note(self, job_id: str, state: str, message: str | None, asks: str | None = None) -> None:
        """While Ray keeps the job PENDING, its message is on the row (as a Slurm wait's reason is); else none."""
        note = {"ray": {"state": state, "message": (message or "").strip().splitlines()[0][:300] if message else None,
                        "asks": asks}}
        with self.store.lib.write() as s:  # only an active row: a finished job's result is its outcome
            s.execute(update(Job).where(Job.id == job_id, Job.status.in_(("Starting", "Running")))
                      .values(result=note if state == "PENDING" else None))
        if self.on_state is not None:
            self.on_state(job_id)

    def cluster_gpus(self, timeout: float = 10.0) -> tuple[float, float]:
        """(GPUs in use, GPUs in all) of the cluster, from the dashboard's ``/api/cluster_status`` (the autoscaler's
        load report, the resource view Ray schedules by); (0, 0) for a cluster without GPUs."""
        self.link.retrying(self.jobs, min(timeout, 20.0))  # the tunnel up, through a live link
        assert self._tunnel is not None
        token = ray_token(self.store.lib.home, self.name)
        request = urllib.request.Request(self._tunnel.local_url + "/api/cluster_status",
                                         headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                body = json.loads(answer.read())
        except (OSError, ValueError) as e:
            raise RemoteCommandError(self._why(e)) from e
        usage = ((((body.get("data") or {}).get("clusterStatus") or {}).get("loadMetricsReport") or {})
                 .get("usage") or {})
        used, total = (usage.get("GPU") or [0.0, 0.0])[:2]
        return float(used), float(total)

    # ------------------------------------------------------------------ Transport
    def entrypoint(self, job_dir: str) -> str:
        """The agent's command line as Ray runs it: in the carried working_dir, events appended to the job's file.

        First a check that this node sees the job's folder: on a node other than the head it is there only through
        a shared home, and without one the job ends saying so (in Ray's log, which :meth:`agent_err` reads)."""
        assert self.link.layout is not None
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in remote_env(self.link.layout).items() if k != "PYTHONPATH")
        python = shlex.quote(self.worker.python)
        spec, events, err = (shlex.quote(posixpath.join(job_dir, n)) for n in ("spec.json", "events.jsonl", "agent.err"))
        unseen = shlex.quote(f"the job's folder {job_dir} is not on this Ray node: Ray ran the job off the head, so "
                             "the nodes must share the SSH user's home (or ask for no resources: the head runs it)")
        never = shlex.quote(posixpath.join(job_dir, NEVER_START))
        # exec: the agent is the entrypoint process itself, so stop_job's SIGTERM reaches it (it stops after the batch)
        return (f"test ! -e {never} || exit 0; "
                f'test -f {spec} || {{ echo "$(hostname):" {unseen} >&2; exit 3; }}; '
                f'exec env {env} PYTHONUNBUFFERED=1 PYTHONPATH="$PWD" {python} -m remote_agent run {spec} '
                f">> {events} 2>> {err}")

    def ask(self, spec: dict[str, Any]) -> GpuAsk:
        """The GPUs the job asks Ray for, with its device there (none named: the worker's ``--gpus`` per job)."""
        try:
            return cluster_ask(spec, self.options.gpus)
        except ValueError as e:
            raise RemoteCommandError(str(e)) from e

    def resources(self, ask: GpuAsk) -> dict[str, Any]:
        """``submit_job``'s entrypoint resources for the job (only those asked: none at all keeps it on the head)."""
        out: dict[str, Any] = {}
        if ask.gpus:
            out["entrypoint_num_gpus"] = ask.gpus
        if self.options.cpus is not None:
            out["entrypoint_num_cpus"] = self.options.cpus
        if self.options.memory_bytes is not None:
            out["entrypoint_memory"] = self.options.memory_bytes
        return out

    def _start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        job_id = str(spec["id"])
        sub_id = submission_id(job_id)
        ask = self.ask(spec)
        resources = self.resources(ask)
        if ask.device is not None:
            spec = {**spec, "args": {**(spec.get("args") or {}), "device": ask.device}}

        def go() -> str:
            self.link.client()
            assert self.link.layout is not None
            job_dir = self.link.layout.job(job_id)
            sftp = self.link.sftp()
            sftp_makedirs(sftp, job_dir)
            remote = self.ssh.remote_spec(spec, job_dir)
            sftp_write(sftp, posixpath.join(job_dir, "spec.json"), json.dumps(remote, indent=2).encode())
            (run_dir / "spec.remote.json").write_text(json.dumps(remote, indent=2))
            with tempfile.TemporaryDirectory(prefix="yolodesk-ray-agent-") as carried:
                (Path(carried) / "remote_agent").mkdir()
                for f in agent_files():
                    shutil.copy2(f, Path(carried) / "remote_agent" / f.name)
                try:
                    self.call(lambda jobs: jobs.submit_job(
                        entrypoint=self.entrypoint(job_dir), submission_id=sub_id,
                        runtime_env={"working_dir": carried}, metadata={"yolodesk_job": job_id}, **resources))
                except RemoteCommandError as e:
                    if "already exists" not in str(e):
                        raise
                    # submitted by an earlier try whose answer was lost: that submission is ours
            return job_dir

        job_dir: str = self.link.retrying(go, min(self.give_up_s, 120.0))
        self._asks[sub_id] = asked(resources)
        write_record(run_dir, {"worker": self.name, "remote_dir": job_dir, "pid": 0, "ray_submission": sub_id,
                               "ray_asks": self._asks[sub_id]})
        handle = self._handle(run_dir, job_dir)
        self._follow(handle, sub_id)
        return handle

    def _handle(self, run_dir: Path, job_dir: str) -> AgentHandle:
        # no process of ours to signal: the Jobs API is asked about the submission instead
        return AgentHandle(0, 0, 0.0, run_dir / "events.jsonl", remote_dir=job_dir)

    def handle_for(self, run_dir: Path, pid: int | None, started: float | None) -> AgentHandle:
        """Re-attach by the submission id recorded in ``remote.json`` (after an app restart too)."""
        info = json.loads((run_dir / REMOTE_FILE).read_text())
        handle = self._handle(run_dir, str(info["remote_dir"]))
        self._asks[str(info["ray_submission"])] = info.get("ray_asks")
        if info.get("ray_abandoned"):
            self._abandoned.add(str(info["ray_submission"]))
        self._follow(handle, str(info["ray_submission"]))
        return handle

    def _follow(self, handle: AgentHandle, sub_id: str) -> None:
        self._follow_with(handle, lambda key: RayMirror(
            self.link, key, handle.events_path, self.give_up_s, query=lambda: self._live_state(sub_id)))

    def _live_state(self, sub_id: str) -> str:
        """Ray's status, except that a job cancelled while pending is over for us (Ray only says so later)."""
        state = self.status(sub_id)
        return "CANCELLED_PENDING" if state == "PENDING" and sub_id in self._abandoned else state

    @staticmethod
    def _sub_id(handle: AgentHandle) -> str:
        return submission_id(posixpath.basename(str(handle.remote_dir)))

    def state(self, handle: AgentHandle) -> tuple[str, str | None] | None:
        """The last (status, message) the Jobs API gave for the job (None before the first answer)."""
        return self._states.get(self._sub_id(handle))

    def explain(self, handle: AgentHandle) -> str | None:
        m = self._mirrors.get(str(handle.remote_dir))
        if m is not None and m.failure:
            return m.failure
        st = self.state(handle)
        asked = (handle.events_path.parent / "cancel-requested").exists()  # the manager's marker: a cancel it sent
        if st is not None and (st[0] == "FAILED" or (st[0] == "STOPPED" and not asked)):
            # Ray's message is "…failed with exit code N, last available logs…": its first clause, then what the agent said
            said = (st[1] or "").strip().splitlines()
            why = f" ({said[0].split(', last available logs')[0][:200]})" if said else ""
            try:
                tail = self.ssh.agent_err(handle)[-400:].strip()
            except (SSHError, OSError):
                tail = ""
            if not tail and len(said) > 1:  # nothing on the agent's stderr: the shell's words are in Ray's log
                tail = " | ".join(line.strip() for line in said[1:] if line.strip())[-400:]
            return f"Ray ended job {self._sub_id(handle)} on {self.name} as {st[0]}{why}" + (f": {tail}" if tail else "")
        return None

    def cancel(self, handle: AgentHandle, grace: float = 20.0) -> None:
        """``stop_job``: Ray SIGTERMs the entrypoint (the agent stops after the batch), SIGKILLs it a few s later.

        A job Ray keeps pending is stopped by Ray only once its supervisor can be scheduled, when the resources it
        waits for free up (until then Ray still says PENDING, for up to ``RAY_JOB_START_TIMEOUT_SECONDS``). Nothing
        of it runs meanwhile, so it ends here at once; a marker in its folder makes the entrypoint exit before the
        agent starts should Ray run it after all."""
        sub_id = self._sub_id(handle)
        pending = self.status(sub_id) == "PENDING"
        if pending:  # the marker first: an entrypoint starting while stop_job is on its way runs no agent
            marker = posixpath.join(str(handle.remote_dir), NEVER_START)
            self.link.retrying(lambda: sftp_write(self.link.sftp(), marker, b"cancelled by YOLO Desk\n"), 60.0)
        self.link.retrying(lambda: self.call(lambda jobs: jobs.stop_job(sub_id)), 60.0)
        if pending and self.status(sub_id) == "PENDING":
            self._abandoned.add(sub_id)
            remote = handle.events_path.parent / REMOTE_FILE  # kept: an app restarted meanwhile ends it too
            if remote.exists():
                write_record(remote.parent, {**json.loads(remote.read_text()), "ray_abandoned": True})

    def agent_err(self, handle: AgentHandle) -> str:
        text = self.ssh.agent_err(handle)
        if text.strip():
            return text
        try:  # nothing on stderr: the job's log (runtime_env setup, the shell) says what went wrong
            logs = self.link.retrying(lambda: self.call(lambda jobs: jobs.get_job_logs(self._sub_id(handle))), 20.0)
        except (SSHError, OSError):
            return ""
        return str(logs)[-2000:]

    def close(self) -> None:
        self._stop_mirrors()
        with self._lock:
            if self._tunnel is not None:
                self._tunnel.close()
            self._tunnel = self._jobs = None
        self.ssh.close()


def asked(resources: dict[str, Any]) -> str | None:
    """What :meth:`RayTransport.resources` asks Ray for, as the row says it (``1 GPU, 2 CPUs, 4 GiB``); None: nothing."""
    parts = []
    gpus, cpus, memory = (resources.get(f"entrypoint_{k}") for k in ("num_gpus", "num_cpus", "memory"))
    if gpus:
        parts.append(f"{gpus:g} GPU" + ("s" if gpus != 1 else ""))
    if cpus:
        parts.append(f"{cpus:g} CPU" + ("s" if cpus != 1 else ""))
    if memory:
        parts.append(f"{memory / 2**30:.3g} GiB")
    return ", ".join(parts) or None


def check_cluster(store: WorkerStore, worker: WorkerRecord) -> str:
    """The head's Jobs API answering through the tunnel with the kept token, or SSHError saying why."""
    transport = RayTransport(store, worker)
    try:
        transport.link.retrying(transport.jobs, 20.0)  # the tunnel and the token checked, reconnecting if need be
        version = transport.call(lambda j: j.get_version())
        listed = transport.call(lambda j: j.list_jobs())
    finally:
        transport.close()
    return (f"Jobs API v{version} on port {transport.options.dashboard_port} there (token accepted), "
            f"{len(listed)} jobs known")
