"""The job queue: submit, schedule within limits, supervise the agent, finish into the library.

Every job is supervised by one process (its ``owner_pid``): a thread follows the job's
events file, moves the row through Queued → Starting → Running → Completed / Failed /
Cancelled, and on completion imports ``best.pt`` into the model row through the library's
import checks. A job whose owner is gone (the window was closed, the terminal running
``yolodesk train`` was killed) is adopted by the next manager that starts; a job whose
agent vanished without a final event is marked Failed with the reason.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.jobs.events import TERMINAL, EventFollower
from app.jobs.spec import TrainRequest
from app.jobs.store import JobRecord, JobStore
from app.jobs.supervision import Watchdog, settle_orphans
from app.jobs.trust import trust_refused_weights, trusted_for
from app.jobs.transport import AgentHandle, LocalTransport, Transport, process_alive, terminate
from app.library.architecture import architecture_from_yaml
from app.library.checkpoint import CheckpointError
from app.library.repository import Library, LibraryError

CANCEL_GRACE = 30.0  # seconds between SIGTERM (stop after this batch) and SIGKILL of the group
CANCEL_MARKER = "cancel-requested"


def default_limits() -> dict[str, int]:
    """One local training at a time unless ``YOLODESK_MAX_LOCAL_TRAININGS`` says otherwise."""
    try:
        n = int(os.environ.get("YOLODESK_MAX_LOCAL_TRAININGS", "1"))
    except ValueError:
        n = 1
    return {"train": max(1, n), "export": 2}


class JobManager:
    """Runs jobs through a transport; status changes reach ``listeners`` (called from worker threads)."""

    def __init__(self, lib: Library, transport: Transport | None = None, limits: dict[str, int] | None = None,
                 poll_interval: float = 0.1) -> None:
        self.lib = lib
        self.store = JobStore(lib)
        self.transport: Transport = transport or LocalTransport(lib.home)
        self._remote: dict[str, Transport] = {}
        self.limits = limits or default_limits()
        self.poll_interval = poll_interval
        self.pid = os.getpid()
        self.listeners: list[Callable[[JobRecord], None]] = []
        self.event_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._lock = threading.RLock()
        self._threads: dict[str, threading.Thread] = {}
        self._cancel_requested: set[str] = set()
        self._stop = threading.Event()
        self.watchdog = Watchdog(self)

    # --------------------------------------------------------------- transports
    def transport_for(self, worker: str) -> Transport:
        """The local transport, or the SSH transport of a worker (one per worker, made on first use)."""
        if worker == "local":
            return self.transport
        with self._lock:
            if worker not in self._remote:
                from app.jobs.ssh_transport import SSHTransport
                from app.jobs.workers import WorkerStore

                store = WorkerStore(self.lib)
                self._remote[worker] = SSHTransport(store, store.get(worker))
            return self._remote[worker]

    def _worker(self, worker: str | None) -> str:
        if not worker or worker == "local":
            return "local"
        from app.jobs.workers import WorkerStore

        return WorkerStore(self.lib).get(worker).name  # raises a clear error for an unknown name

    # ------------------------------------------------------------------ submit
    def submit_train(self, req: TrainRequest, worker: str | None = None) -> JobRecord:
        """Validate, create the model row (status Queued) and its job; start it when a slot is free."""
        worker = self._worker(worker or req.worker)
        from app.jobs.args_check import devices_on  # H3: device= is checked against the chosen machine's devices

        ds = req.validate(devices=devices_on(self.lib, worker))
        project_id = req.project_id or self.lib.default_project_id
        dataset = self.lib.add_dataset(ds.location, ds.name, ds.task, ds.names)
        if req.parent_id:
            parent = self.lib.model(req.parent_id)
            arch, family, scale = parent.architecture, parent.family, parent.scale
        else:
            a = architecture_from_yaml({"yaml_file": Path(req.model).name}, req.task)
            arch, family, scale = req.architecture or a.name, a.family, a.scale
        name = req.name or f"{arch or Path(req.model).stem}-{ds.name}"
        model = self.lib.create_pending_model(
            project_id, name, task=req.task, architecture=arch, family=family, scale=scale, class_names=ds.names,
            nc=len(ds.names), imgsz=int(req.imgsz), train_args=req.agent_args(), parent_id=req.parent_id,
            dataset_id=dataset.id, dataset_ref=ds.location, status="Queued",
        )
        spec = {"args": req.agent_args(), "trusted_sha256": trusted_for(self.lib, req.model)}
        job = self.store.create("train", spec, project_id, model.id, owner_pid=self.pid, worker=worker)
        self._notify(job)
        self.schedule()
        return self.store.get(job.id)

    # ---------------------------------------------------------------- schedule
    def schedule(self) -> None:
        """Settle jobs whose owner and agent are gone, adopt those whose agent lives on, then start queued jobs
        while the limits allow (per machine: this one and each worker; counted across every process here)."""
        with self._lock:
            settle_orphans(self)
            self.watchdog.ensure_running()  # keeps doing this every few seconds while jobs are active
            for kind, limit in self.limits.items():
                busy: dict[str, int] = {}
                for j in self.store.list(("Starting", "Running"), kind=kind):
                    busy[j.worker] = busy.get(j.worker, 0) + 1
                queued = sorted(self.store.list(("Queued",), kind=kind), key=lambda j: j.created_at)
                for job in queued:
                    if busy.get(job.worker, 0) >= limit:
                        continue
                    if job.owner_pid not in (None, self.pid) and process_alive(job.owner_pid, None):
                        continue  # another open app queued it and will start it
                    if self.store.claim(job.id, self.pid):
                        busy[job.worker] = busy.get(job.worker, 0) + 1
                        self._notify(self.store.get(job.id))
                        self._spawn(job.id, launch=True)

    def _spawn(self, job_id: str, launch: bool) -> None:
        t = threading.Thread(target=self._supervise, args=(job_id, launch), name=f"job-{job_id}", daemon=True)
        self._threads[job_id] = t
        t.start()

    # --------------------------------------------------------------- supervise
    def _supervise(self, job_id: str, launch: bool) -> None:
        try:
            self._supervise_inner(job_id, launch)
        except Exception as e:  # a bug here must still end the job visibly
            self._finish_failed(job_id, f"YOLO Desk lost track of the job: {type(e).__name__}: {e}")
        finally:
            self._threads.pop(job_id, None)
            if not self._stop.is_set():
                self.schedule()

    def _supervise_inner(self, job_id: str, launch: bool) -> None:
        from app.jobs.ssh import SSHError

        job = self.store.get(job_id)
        transport = self.transport_for(job.worker)
        if launch:
            if job.kind == "export":
                self._set_export(job_id, status="Running")
            elif job.model_id:
                self.lib.set_model_status(job.model_id, "Training")
            try:
                handle = transport.start(job.spec, Path(job.run_dir))
            except (OSError, SSHError) as e:
                where = "" if job.worker == "local" else f" on {job.worker}"
                self._finish_failed(job_id, f"the agent could not be started{where}: {e}")
                return
            job = self.store.set(job_id, pid=handle.pid, pid_started=handle.started)
            self._notify(job)
            if job_id in self._cancel_requested:
                transport.cancel(handle, CANCEL_GRACE)
        else:
            try:
                handle = transport.handle_for(Path(job.run_dir), job.pid, job.pid_started)
            except (OSError, ValueError, KeyError) as e:
                self._finish_failed(job_id, f"YOLO Desk cannot find where the job runs: {e}")
                return
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
        if self._stop.is_set() and terminal is None:
            return  # this app is closing; the agent goes on and the next start re-attaches
        deadline = time.monotonic() + 15
        while terminal is not None and transport.alive(handle) and time.monotonic() < deadline:
            time.sleep(0.05)  # let it exit (and reap it: no zombie) before the job counts as finished
        self._finish(job_id, terminal, transport, handle)
        # Completed or cancelled on a worker: its results are in the library, so its run folder there goes
        # (they would fill the box's disk); a failed job's folder stays for diagnosis.
        if job.worker != "local" and self.store.get(job_id).status in ("Completed", "Cancelled"):
            from app.jobs.ssh import SSHError

            try:
                transport.release(handle)
            except (SSHError, OSError):
                pass  # the link dropped just now: the folder stays, as a failed job's does

    def _on_event(self, job_id: str, ev: dict[str, Any]) -> dict[str, Any] | None:
        for listener in list(self.event_listeners):
            listener(job_id, ev)
        kind = ev.get("type")
        if kind == "started":
            job = self.store.get(job_id)
            if job.status == "Starting":
                self._notify(self.store.set(job_id, status="Running"))
        return ev if kind in TERMINAL else None

    def _localize(self, job: JobRecord, transport: Transport, path: str, sha256: str | None = None) -> Path:
        """A path the agent reported, on this machine (fetched from the worker, checked, for a remote job)."""
        if job.worker == "local":
            return Path(path)
        local = Path(job.run_dir) / "from-worker" / Path(path).name
        return transport.fetch(path, local, sha256)

    def _finish(self, job_id: str, terminal: dict[str, Any] | None, transport: Transport | None = None,
                handle: AgentHandle | None = None) -> None:
        from app.jobs.ssh import SSHError

        job = self.store.get(job_id)
        if job.finished:
            return
        transport = transport or self.transport_for(job.worker)
        lost = transport.explain(handle) if handle is not None else None
        if terminal is None and lost:
            self._finish_failed(job_id, lost)
            return
        if job.kind == "export":
            self._finish_export(job, terminal, transport)
            return
        if terminal is None and (Path(job.run_dir) / CANCEL_MARKER).exists():
            terminal = {"type": "cancelled", "result": {}}  # stopped before it could say so (still starting)
        if terminal is None:
            tail = ""
            err = Path(job.run_dir) / "agent.err"
            if err.exists():
                tail = err.read_text(errors="replace")[-500:].strip()
            if not tail and job.worker != "local" and handle is not None:
                try:
                    tail = transport.agent_err(handle)[-500:].strip()  # type: ignore[attr-defined]
                except (SSHError, OSError, AttributeError):
                    tail = ""
            reason = "the agent process ended without reporting a result (killed, out of memory, or crashed)"
            self._finish_failed(job_id, reason + (f": {tail}" if tail else ""))
            return
        kind = terminal["type"]
        result = terminal.get("result") or {}
        if kind == "failed":
            message = terminal.get("message") or terminal.get("error") or "failed"
            self._finish_failed(job_id, f"{terminal.get('error', 'Error')}: {message}", result=terminal)
            return
        weights = result.get("best") or result.get("last")
        status = "Completed" if kind == "completed" else "Cancelled"
        if weights and job.worker != "local":
            try:
                weights = str(self._localize(job, transport, weights))
            except (SSHError, OSError) as e:
                self._finish_failed(job_id, f"training finished on {job.worker} but its weights could not be "
                                            f"fetched: {e}", result)
                return
        if job.model_id and weights and Path(weights).exists():
            try:
                self.lib.attach_checkpoint(job.model_id, weights, status)
            except (CheckpointError, OSError, LibraryError) as e:
                msg = e.message if isinstance(e, CheckpointError) else str(e)
                self._finish_failed(job_id, f"training finished but its weights could not be added: {msg}", result)
                return
        elif job.model_id:
            self.lib.set_model_status(job.model_id, "Failed" if kind == "completed" else "Cancelled")
            if kind == "completed":
                self._finish_failed(job_id, "training finished without writing weights", result)
                return
        if self.store.finish_if_active(job_id, status, result=result):
            self._notify(self.store.get(job_id))

    def _finish_failed(self, job_id: str, message: str, result: dict[str, Any] | None = None) -> None:
        job = self.store.get(job_id)
        if job.kind == "export":
            self._set_export(job_id, status="Failed", error=message)
        elif job.model_id:
            self.lib.set_model_status(job.model_id, "Failed")
        if self.store.finish_if_active(job_id, "Failed", error=message, result=result):
            self._notify(self.store.get(job_id))

    # ------------------------------------------------------------------ export
    def submit_export(self, model_id: str, fmt: str, args: dict[str, Any] | None = None,
                      worker: str | None = None) -> JobRecord:
        """Queue one export of a model (one per model and format at a time); refuses what cannot work there."""
        from app.exporters.registry import get, restriction
        from app.exporters.availability import availability, missing_for_args
        from app.exporters.store import ExportStore

        worker = self._worker(worker)
        model = self.lib.model(model_id)
        if not model.has_weights:
            raise LibraryError(f"{model.name!r} has no weights to export yet")
        spec_format = get(fmt)
        args = {k: v for k, v in (args or {}).items() if v is not None}
        from app.exporters.args_check import check_export_args  # H3: every argument checked before a job exists

        check_export_args(spec_format, args, model.task, worker)
        if worker == "local":
            state, why = availability(spec_format, home=self.lib.home)
            if state != "ready":
                raise LibraryError(f"{spec_format.name}: {why}")
        else:
            from app.jobs.workers import WorkerStore, worker_can_export

            problem = worker_can_export(WorkerStore(self.lib).get(worker), spec_format, args)
            if problem:
                raise LibraryError(problem)
        args.setdefault("imgsz", model.imgsz if isinstance(model.imgsz, int) else 640)
        unknown = [k for k in args if k not in spec_format.args and k not in ("imgsz", "device")]
        if unknown:
            raise LibraryError(f"{spec_format.name} does not take {', '.join(unknown)} "
                               f"(it takes imgsz, {', '.join(spec_format.args)})")
        problem = restriction(spec_format, model.task, model.architecture, args) or missing_for_args(fmt, args)
        if problem:
            raise LibraryError(problem)
        from app.exporters.registry import FP32_UNSUPPORTED_FORMATS

        calibrated = args.get("quantize") in (8, "w8a16") or (fmt in FP32_UNSUPPORTED_FORMATS and not args.get("quantize"))
        if calibrated and "data" in spec_format.args and not args.get("data"):
            local = model.dataset.location if model.dataset else model.dataset_ref
            if not local or not Path(local).exists():  # ultralytics would download a calibration set: never offline
                raise LibraryError(f"{spec_format.name} quantizes with calibration images: give data=… (a data.yaml "
                                   "on this machine); the model's own data set is not here")
            args["data"] = local
        exports = ExportStore(self.lib)
        busy = [e for e in exports.for_model(model_id) if e.format == fmt and e.status in ("Queued", "Starting", "Running")]
        if busy:
            raise LibraryError(f"an export of {model.name!r} to {spec_format.name} is already {busy[0].status.lower()}")
        agent_args = {"model": str(model.weights_path), "format": fmt, "device": "cpu", **args}
        spec: dict[str, Any] = {"args": agent_args, "task": model.task, "verify": True,
                                "trusted_sha256": trusted_for(self.lib, model.weights_path)}
        from app.exporters.toolchains import Toolchains, toolchain_for

        tc = toolchain_for(fmt)
        if tc is not None and worker == "local":  # run the agent with the toolchain's interpreter
            spec["python"] = str(Toolchains(self.lib.home).python(tc.name))
        job = self.store.create("export", spec, model.project_id, model.id, owner_pid=self.pid, worker=worker)
        exports.create(model.id, fmt, args, job_id=job.id)
        self._notify(job)
        self.schedule()
        return self.store.get(job.id)

    def _set_export(self, job_id: str, **fields: Any) -> None:
        from app.exporters.store import ExportStore

        store = ExportStore(self.lib)
        rec = store.by_job(job_id)
        if rec is not None:
            store.set(rec.id, **fields)

    def _finish_export(self, job: JobRecord, terminal: dict[str, Any] | None, transport: Transport) -> None:
        from app.exporters.store import ExportStore
        from app.jobs.ssh import SSHError

        if terminal is None and (Path(job.run_dir) / CANCEL_MARKER).exists():
            terminal = {"type": "cancelled", "result": {}}
        if terminal is None:
            self._finish_failed(job.id, "the agent process ended without reporting a result (killed or crashed)")
            return
        kind = terminal["type"]
        if kind == "failed":
            self._finish_failed(job.id, f"{terminal.get('error', 'Error')}: {terminal.get('message', '')}", terminal)
            return
        if kind == "cancelled":
            self._set_export(job.id, status="Cancelled")
            if self.store.finish_if_active(job.id, "Cancelled", result=terminal.get("result")):
                self._notify(self.store.get(job.id))
            return
        result = terminal.get("result") or {}
        store = ExportStore(self.lib)
        rec = store.by_job(job.id)
        try:
            artifact = self._localize(job, transport, result["path"], result.get("sha256"))
            placed = store.place(job.model_id or "", result["format"], artifact)
        except (OSError, KeyError, SSHError) as e:
            self._finish_failed(job.id, f"the export finished but could not be stored: {e}", result)
            return
        if rec is not None:
            store.set(rec.id, status="Completed", path=str(placed), size=result.get("size"),
                      sha256=result.get("sha256"), verified=bool(result.get("verified")),
                      verification=result.get("detail"), seconds=result.get("seconds"), error=None)
        if self.store.finish_if_active(job.id, "Completed", result={**result, "path": str(placed)}):
            self._notify(self.store.get(job.id))

    def _notify(self, job: JobRecord) -> None:
        for listener in list(self.listeners):
            listener(job)

    # ---------------------------------------------------------- user actions
    def cancel(self, job_id: str) -> JobRecord:
        """Cancel: a queued job at once; a running one by SIGTERM (stops after the batch), SIGKILL later."""
        job = self.store.get(job_id)
        if job.status == "Queued" and self.store.finish_if_active(job.id, "Cancelled"):
            if job.kind == "export":
                self._set_export(job.id, status="Cancelled")
            elif job.model_id:
                self.lib.set_model_status(job.model_id, "Cancelled")
            job = self.store.get(job.id)
            self._notify(job)
            return job
        if job.status in ("Starting", "Running"):
            self._cancel_requested.add(job.id)
            (Path(job.run_dir) / CANCEL_MARKER).touch()  # seen by whichever process supervises the job
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
            from app.jobs.ssh import SSHError

            transport = self.transport_for(job.worker)
            try:
                transport.cancel(transport.handle_for(Path(job.run_dir), job.pid, job.pid_started), CANCEL_GRACE)
            except (SSHError, OSError) as e:
                (Path(job.run_dir) / "cancel-failed").write_text(str(e))

        threading.Thread(target=go, name=f"cancel-{job.id}", daemon=True).start()

    def retry(self, job_id: str) -> JobRecord:
        """Start a finished job again with the same arguments (same model row)."""
        old = self.store.get(job_id)
        if not old.finished:
            raise LibraryError("the job is still running")
        if old.kind == "export":
            args = {k: v for k, v in old.spec.get("args", {}).items() if k not in ("model", "format", "device")}
            return self.submit_export(old.model_id or "", old.spec["args"]["format"], args)
        if old.model_id:
            self.lib.set_model_status(old.model_id, "Queued")
        args = old.spec.get("args", {})
        spec = {"args": args, "trusted_sha256": trusted_for(self.lib, args.get("model"))}  # trusted since, perhaps
        job = self.store.create(old.kind, spec, old.project_id, old.model_id, owner_pid=self.pid, retry_of=old.id)
        self._notify(job)
        self.schedule()
        return self.store.get(job.id)

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

    def _settle(self, job_id: str) -> None:
        """Finish, here and now, a job whose agent is gone: from what its events file says."""
        try:
            self._supervise_inner(job_id, launch=False)
        except Exception as e:  # noqa: BLE001 — a bug here must still end the job visibly
            self._finish_failed(job_id, f"YOLO Desk lost track of the job: {type(e).__name__}: {e}")

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.store.get(job_id)
            if job.finished or (deadline is not None and time.monotonic() > deadline):
                return job
            time.sleep(0.1)

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop supervising (agents keep running; the next start re-attaches)."""
        self._stop.set()
        for t in list(self._threads.values()):
            t.join(timeout)
        for transport in self._remote.values():
            close = getattr(transport, "close", None)
            if close:
                close()
