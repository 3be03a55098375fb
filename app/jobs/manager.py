"""The job queue: submit, schedule within limits, supervise the agent, dispatch its outcome to the kind's handler.

Every job is supervised by one process (its ``owner_pid`` and that process's start time): a thread follows the
job's events file and moves the row through Queued → Starting → Running → Completed / Failed / Cancelled. What a
kind does at each step (its spec, what starting marks, what lands in the library, how it is retried, what it
frees) is its handler's, looked up by ``job.kind`` in :mod:`app.jobs.kinds`; nothing here knows one kind from
another. A job whose owner is gone (the window was closed, the terminal running ``yolodesk train`` was killed)
is adopted by the next manager that starts; a job whose agent vanished without a final event is marked Failed
with the reason.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from app.exporters.export_job import EXPORT
from app.jobs.events import TERMINAL, EventFollower
from app.jobs.job_kind import JobKind, KindFailure
from app.jobs.kinds import UnknownKind, handler_for, registered
from app.jobs.placement import CLUSTER_KINDS, Placer, held_gpus, is_target, max_submissions, need_bytes
from app.jobs.spec import TrainRequest
from app.jobs.store import JobRecord, JobStore
from app.jobs.supervision import Watchdog, owned_elsewhere, settle_orphans
from app.jobs.train_job import TRAIN
from app.jobs.transport import AgentHandle, LocalTransport, Transport, terminate
from app.jobs.trust import trust_refused_weights
from app.library.repository import Library, LibraryError

CANCEL_GRACE = 30.0  # seconds between SIGTERM (stop after this batch) and SIGKILL of the group
CANCEL_MARKER = "cancel-requested"


def default_limits() -> dict[str, int]:
    """Each registered kind's own limit (one local training unless ``YOLODESK_MAX_LOCAL_TRAININGS`` says more)."""
    return {name: handler.default_limit() for name, handler in registered().items()}


def _handler(job: JobRecord) -> JobKind:
    try:
        return handler_for(job.kind)
    except UnknownKind:
        return JobKind()  # a kind this app does not know (a newer app's): followed and ended, nothing lands


class JobManager:
    """Runs jobs through a transport; status changes reach ``listeners`` (called from worker threads)."""

    def __init__(self, lib: Library, transport: Transport | None = None, limits: dict[str, int] | None = None,
                 poll_interval: float = 0.1) -> None:
        self.lib = lib
        self.store = JobStore(lib)
        self.transport: Transport = transport or LocalTransport(lib.home)
        self._remote: dict[str, Transport] = {}
        self.limits = limits or default_limits()  # a kind missing here runs within its handler's own limit
        self.poll_interval = poll_interval
        self.pid = os.getpid()
        self.started = psutil.Process(self.pid).create_time()  # with the pid: this process, not a later one
        self.listeners: list[Callable[[JobRecord], None]] = []
        self.event_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._lock = threading.RLock()
        self._threads: dict[str, threading.Thread] = {}
        self._cancel_requested: set[str] = set()
        self._stop = threading.Event()
        self.watchdog = Watchdog(self)
        self.placer = Placer(lib, self._on_offers, transport_for=self.transport_for)  # where any-GPU jobs go

    @property
    def closing(self) -> threading.Event:
        """Set once :meth:`shutdown` began: supervising threads and the watchdog stop."""
        return self._stop

    # --------------------------------------------------------------- transports
    def transport_for(self, worker: str) -> Transport:
        """The local transport, or a worker's (SSH, or Slurm for a worker of kind slurm; one each, made on first use)."""
        if worker == "local":
            return self.transport
        with self._lock:
            if worker not in self._remote:
                from app.jobs.ssh_transport import SSHTransport  # paramiko loads only once a worker is used
                from app.jobs.workers import WorkerStore

                store = WorkerStore(self.lib)
                record = store.get(worker)
                if record.kind == "slurm":  # the same agent, submitted with sbatch on the cluster's login node
                    from app.jobs.slurm_transport import SlurmTransport

                    self._remote[worker] = SlurmTransport(store, record, on_state=self._on_transport_state)
                elif record.kind == "ray":  # the same agent, submitted to a Ray cluster's Jobs API through a tunnel
                    from app.jobs.ray_transport import RayTransport

                    self._remote[worker] = RayTransport(store, record, on_state=self._on_transport_state)
                else:
                    self._remote[worker] = SSHTransport(store, record)
            return self._remote[worker]

    def _on_transport_state(self, job_id: str) -> None:
        """A transport wrote where its job waits (Slurm's state and reason) on the row: views redraw it."""
        self._notify(self.store.get(job_id))

    def worker_name(self, worker: str | None) -> str:
        """``"local"``, the any-GPU target (``any-gpu[:GiB]``), or a registered worker's name (else a clear error)."""
        if not worker or worker == "local":
            return "local"
        if is_target(worker):
            need_bytes(worker)  # a bad memory need is refused here, before any row exists
            return worker
        from app.jobs.workers import WorkerStore  # paramiko loads only once a worker is used

        return WorkerStore(self.lib).get(worker).name

    # ------------------------------------------------ the handlers' context
    def new_job(self, kind: str, spec: dict[str, Any], project_id: int | None, model_id: str | None,
                worker: str = "local", retry_of: str | None = None) -> JobRecord:
        """A Queued row owned by this process; :meth:`enqueue` schedules it."""
        return self.store.create(kind, spec, project_id, model_id, owner_pid=self.pid, retry_of=retry_of,
                                 worker=worker, owner_started=self.started)

    def enqueue(self, job: JobRecord) -> JobRecord:
        """Tell listeners about a new job and start it when a slot is free; its row as it is now."""
        self._notify(job)
        self.schedule()
        return self.store.get(job.id)

    # ------------------------------------------------------------------ submit
    def submit_train(self, req: TrainRequest, worker: str | None = None) -> JobRecord:
        """Validate, create the model row (status Queued) and its job; start it when a slot is free."""
        return TRAIN.submit(self, req, worker)

    def submit_export(self, model_id: str, fmt: str, args: dict[str, Any] | None = None,
                      worker: str | None = None) -> JobRecord:
        """Queue one export of a model (one per model and format at a time); refuses what cannot work there."""
        return EXPORT.submit(self, model_id, fmt, args, worker)

    # ---------------------------------------------------------------- schedule
    def schedule(self) -> None:
        """Settle jobs whose owner and agent are gone, adopt those whose agent lives on, then start queued jobs
        while each kind's limit allows (per machine: this one and each worker; counted across every process)."""
        with self._lock:
            settle_orphans(self)
            self.watchdog.ensure_running()  # keeps doing this every few seconds while jobs are active
            kinds = registered()
            busy: dict[tuple[str, str], int] = {}
            active = self.store.list(("Starting", "Running"))
            for j in active:
                busy[(j.kind, j.worker)] = busy.get((j.kind, j.worker), 0) + 1
            queued = sorted(self.store.list(("Queued",)), key=lambda j: j.created_at)
            clusters = self._cluster_limits(queued)
            held = held_gpus(active)

            def room(kind: str, worker: str) -> bool:
                if worker in clusters:  # Slurm and Ray queue jobs themselves: up to the worker's max submissions
                    return sum(n for (_k, w), n in busy.items() if w == worker) < clusters[worker]
                return busy.get((kind, worker), 0) < self.limits.get(kind, kinds[kind].default_limit())

            for job in queued:
                if job.kind not in kinds:
                    continue  # left to an app that runs this kind
                if owned_elsewhere(self, job):
                    continue  # another open app queued it and will start it
                if is_target(job.worker):
                    placed = self.placer.place(job, self.store, held, lambda w, k=job.kind: room(k, w))
                    if placed != job:
                        self._notify(placed)  # where it goes, or a new reason why it waits
                    if is_target(placed.worker):
                        continue
                    job = placed
                slot = (job.kind, job.worker)
                if not room(job.kind, job.worker):
                    continue
                if self.store.claim(job.id, self.pid, self.started):
                    busy[slot] = busy.get(slot, 0) + 1
                    self._notify(self.store.get(job.id))
                    self._spawn(job.id, launch=True)

    def _cluster_limits(self, queued: list[JobRecord]) -> dict[str, int]:
        """Slurm and Ray workers' max submissions, read only when a queued job is not for this machine."""
        if all(j.worker == "local" for j in queued):
            return {}
        from app.jobs.workers import WorkerStore  # paramiko loads only once a worker is used

        return {w.name: max_submissions(w.options) for w in WorkerStore(self.lib).list() if w.kind in CLUSTER_KINDS}

    def _on_offers(self) -> None:
        """Fresh GPU offers arrived (on the probing thread): place the jobs waiting for one."""
        if not self._stop.is_set() and any(is_target(j.worker) for j in self.store.list(("Queued",))):
            self.schedule()

    def _spawn(self, job_id: str, launch: bool) -> None:
        t = threading.Thread(target=self._supervise, args=(job_id, launch), name=f"job-{job_id}", daemon=True)
        self._threads[job_id] = t
        t.start()

    def follow(self, job_id: str) -> None:
        """Supervise, on a thread of its own, a job whose agent was started by another process."""
        self._spawn(job_id, launch=False)

    def is_following(self, job_id: str) -> bool:
        """Whether a thread of this manager supervises the job."""
        return job_id in self._threads

    # --------------------------------------------------------------- supervise
    def _supervise(self, job_id: str, launch: bool) -> None:
        try:
            self._supervise_inner(job_id, launch)
        except Exception as e:  # a bug here must still end the job visibly
            self.fail(job_id, f"YOLO Desk lost track of the job: {type(e).__name__}: {e}")
        finally:
            self._threads.pop(job_id, None)
            if not self._stop.is_set():
                self.schedule()

    def _supervise_inner(self, job_id: str, launch: bool) -> None:
        job = self.store.get(job_id)
        transport = self.transport_for(job.worker)
        handle = self._launch(job, transport) if launch else self._attach(job, transport)
        if handle is None:
            return
        terminal = self._follow_events(job_id, handle, transport)
        if self._stop.is_set() and terminal is None:
            return  # this app is closing; the agent goes on and the next start re-attaches
        deadline = time.monotonic() + 15
        while terminal is not None and transport.alive(handle) and time.monotonic() < deadline:
            time.sleep(0.05)  # let it exit (and reap it: no zombie) before the job counts as finished
        self._finish(job_id, terminal, transport, handle)
        _handler(job).release(self.store.get(job_id), transport, handle)

    def _launch(self, job: JobRecord, transport: Transport) -> AgentHandle | None:
        from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

        _handler(job).started(self, job)
        try:
            handle = transport.start(job.spec, Path(job.run_dir))
        except (OSError, SSHError) as e:
            where = "" if job.worker == "local" else f" on {job.worker}"
            self.fail(job.id, f"the agent could not be started{where}: {e}")
            return None
        self._notify(self.store.set(job.id, pid=handle.pid, pid_started=handle.started))
        if job.id in self._cancel_requested or (Path(job.run_dir) / CANCEL_MARKER).exists():
            transport.cancel(handle, CANCEL_GRACE)  # cancelled while it was being started
        return handle

    def _attach(self, job: JobRecord, transport: Transport) -> AgentHandle | None:
        try:
            return transport.handle_for(Path(job.run_dir), job.pid, job.pid_started)
        except (OSError, ValueError, KeyError) as e:
            self.fail(job.id, f"YOLO Desk cannot find where the job runs: {e}")
            return None

    def _follow_events(self, job_id: str, handle: AgentHandle, transport: Transport) -> dict[str, Any] | None:
        """Relay events until the terminal one, the agent's end, or this manager's shutdown."""
        follower = EventFollower(handle.events_path)
        terminal: dict[str, Any] | None = None
        while not self._stop.is_set():
            got = False
            for ev in follower.poll():
                got = True
                terminal = self._on_event(job_id, ev) or terminal
            if terminal is not None:
                break
            if not got and not transport.alive(handle):
                for ev in follower.poll():  # whatever it wrote just before exiting
                    terminal = self._on_event(job_id, ev) or terminal
                break
            time.sleep(self.poll_interval)
        return terminal

    def _on_event(self, job_id: str, ev: dict[str, Any]) -> dict[str, Any] | None:
        for listener in list(self.event_listeners):
            listener(job_id, ev)
        kind = ev.get("type")
        if kind == "started":
            job = self.store.get(job_id)
            if job.status == "Starting":
                self._notify(self.store.set(job_id, status="Running"))
        return ev if kind in TERMINAL else None

    def _finish(self, job_id: str, terminal: dict[str, Any] | None, transport: Transport,
                handle: AgentHandle) -> None:
        """End the row from the agent's terminal event (or its absence); the kind's handler lands the outcome."""
        from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

        job = self.store.get(job_id)
        if job.finished:
            return
        lost = transport.explain(handle)
        if terminal is None and lost:
            self.fail(job_id, lost)
            return
        if terminal is None and (Path(job.run_dir) / CANCEL_MARKER).exists():
            terminal = {"type": "cancelled", "result": {}}  # stopped before it could say so (still starting)
        if terminal is None:
            try:
                tail = transport.agent_err(handle)[-500:].strip()
            except (SSHError, OSError):
                tail = ""
            reason = "the agent process ended without reporting a result (killed, out of memory, or crashed)"
            self.fail(job_id, reason + (f": {tail}" if tail else ""))
            return
        state = terminal["type"]
        if state == "failed":
            message = terminal.get("message") or terminal.get("error") or "failed"
            self.fail(job_id, f"{terminal.get('error', 'Error')}: {message}", result=terminal)
            return
        try:
            result = _handler(job).complete(self, job, state, terminal.get("result") or {}, transport)
        except KindFailure as e:
            self.fail(job_id, e.message, e.result)
            return
        if self.store.finish_if_active(job_id, "Completed" if state == "completed" else "Cancelled", result=result):
            self._notify(self.store.get(job_id))

    def fail(self, job_id: str, message: str, result: dict[str, Any] | None = None) -> None:
        """End an active job Failed with ``message``; its kind marks its own rows."""
        job = self.store.get(job_id)
        if job.finished:
            return  # another process ended it first: its outcome stands
        _handler(job).ended(self, job, "Failed", message)
        if self.store.finish_if_active(job_id, "Failed", error=message, result=result):
            self._notify(self.store.get(job_id))

    def _notify(self, job: JobRecord) -> None:
        for listener in list(self.listeners):
            listener(job)

    # ---------------------------------------------------------- user actions
    def cancel(self, job_id: str) -> JobRecord:
        """Cancel: a queued job at once; a running one by SIGTERM (stops after the batch), SIGKILL later."""
        job = self.store.get(job_id)
        if job.status == "Queued" and self.store.finish_if_active(job.id, "Cancelled"):
            _handler(job).ended(self, job, "Cancelled", None)
            job = self.store.get(job.id)
            self._notify(job)
            return job
        if job.status in ("Starting", "Running"):
            self._cancel_requested.add(job.id)
            run_dir = Path(job.run_dir)
            run_dir.mkdir(parents=True, exist_ok=True)  # a job being started may not have its folder yet
            (run_dir / CANCEL_MARKER).touch()  # seen by whichever process supervises the job
            if job.worker != "local":
                self._cancel_remote(job)
            elif job.pid:
                terminate(job.pid, job.pid, job.pid_started, CANCEL_GRACE)
        return job

    def _cancel_remote(self, job: JobRecord) -> None:
        """SIGTERM on the worker (SIGKILL of the group after the grace), off the caller's thread."""
        if not (Path(job.run_dir) / "remote.json").exists():
            return  # not spawned yet: the supervisor sees the request right after it starts it

        def go() -> None:
            from app.jobs.ssh import SSHError  # paramiko loads only for a worker's job

            transport = self.transport_for(job.worker)
            try:
                transport.cancel(transport.handle_for(Path(job.run_dir), job.pid, job.pid_started), CANCEL_GRACE)
            except (SSHError, OSError) as e:
                (Path(job.run_dir) / "cancel-failed").write_text(str(e))

        threading.Thread(target=go, name=f"cancel-{job.id}", daemon=True).start()

    def retry(self, job_id: str) -> JobRecord:
        """Start a finished job again with the same arguments on the same machine (a training: same model row)."""
        old = self.store.get(job_id)
        if not old.finished:
            raise LibraryError("the job is still running")
        return handler_for(old.kind).retry(self, old)

    def trust_and_retry(self, job_id: str) -> JobRecord:
        """The user trusts the weights the loading gate refused for this job: remember them, run the job again."""
        trust_refused_weights(self.lib, self.store.get(job_id))
        return self.retry(job_id)

    def recover(self) -> list[str]:
        """Adopt jobs whose owning process is gone: follow live agents, settle dead ones. Returns adopted ids."""
        with self._lock:
            adopted = settle_orphans(self)
            self.schedule()
        return adopted

    def list_jobs(self) -> list[JobRecord]:
        """Every job, newest first, after settling those whose owner and agent are both gone (for listings)."""
        with self._lock:
            settle_orphans(self, adopt_live=False)
        return self.store.list()

    def settle(self, job_id: str) -> None:
        """Finish, here and now, a job whose agent is gone: from what its events file says."""
        try:
            self._supervise_inner(job_id, launch=False)
        except Exception as e:  # noqa: BLE001 — a bug here must still end the job visibly
            self.fail(job_id, f"YOLO Desk lost track of the job: {type(e).__name__}: {e}")

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """The job's row once it is finished, or as it is when ``timeout`` seconds have passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.store.get(job_id)
            if job.finished or (deadline is not None and time.monotonic() > deadline):
                return job
            time.sleep(0.1)

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop supervising (agents keep running; the next start re-attaches)."""
        self._stop.set()
        self.placer.close()
        for t in list(self._threads.values()):
            t.join(timeout)
        for transport in self._remote.values():
            transport.close()
