"""What the batch-style transports (Slurm, Ray) share: the agent runs where a scheduler puts it, its events are
mirrored over SSH, and "does it still run?" is the scheduler's answer (each transport's :class:`Mirror` subclass)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.jobs.ssh_transport import Mirror, SSHTransport, start_in
from app.jobs.transport import AgentHandle
from app.jobs.workers import WorkerRecord, WorkerStore


class QueuedTransport:
    """The SSH-mirrored half of a scheduler's transport; subclasses submit (``_start``), ask and cancel."""

    def __init__(self, store: WorkerStore, worker: WorkerRecord, give_up_s: float,
                 lock: threading.Lock | threading.RLock) -> None:
        self.ssh = SSHTransport(store, worker, give_up_s)
        self.store, self.worker, self.name, self.link = store, worker, worker.name, self.ssh.link
        self.give_up_s = give_up_s
        self._mirrors: dict[str, Any] = {}  # the job's worker folder -> its mirror (the subclass's kind)
        self._lock = lock

    def _start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        raise NotImplementedError

    def start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        """Submit the job; a run folder made for a job never submitted is not left behind."""
        return start_in(run_dir, lambda: self._start(spec, run_dir))

    def _follow_with(self, handle: AgentHandle, make: Callable[[str], Mirror]) -> None:
        """Start mirroring the job's events (``make`` builds the mirror for its worker folder) unless one already is."""
        with self._lock:
            key = str(handle.remote_dir)
            if key in self._mirrors and not self._mirrors[key].done.is_set():
                return
            m = make(key)
            self._mirrors[key] = m
        m.start()

    def alive(self, handle: AgentHandle) -> bool:
        m = self._mirrors.get(str(handle.remote_dir))
        return m is not None and not m.done.is_set()

    def fetch(self, remote_path: str, local_path: Path, sha256: str | None = None) -> Path:
        return self.ssh.fetch(remote_path, local_path, sha256)

    def release(self, handle: AgentHandle) -> None:
        """Stop following, then the SSH transport's release: the job folder goes once its events file is here whole."""
        m = self._mirrors.pop(str(handle.remote_dir), None)
        if m is not None:
            m.stop.set()
            if m.thread is not None:
                m.thread.join(10)
                if m.thread.is_alive():
                    return  # still inside a read: keep the folder rather than risk a torn copy
            m.pull()
        self.ssh.release(handle)

    def _stop_mirrors(self) -> None:
        for m in self._mirrors.values():
            m.stop.set()

    def close(self) -> None:
        self._stop_mirrors()
        self.ssh.close()
