"""Transports start the agent somewhere and let the app follow its events; the local one is a child process.

The agent runs detached (its own session and process group, stdin from /dev/null) with
stdout appended to ``runs/<job>/events.jsonl``: the app follows that file from a byte
offset. A job therefore survives the window closing, and a restarted app re-attaches to
it — the same scheme the SSH transport uses on a worker.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psutil

from app.library.disk_space import reraise_if_disk_full
from app.library.storage import atomic_write_text
from app.offline import disable_openvino_telemetry, offline_env, prepare_config_dir
from app.paths import REPO_ROOT


@dataclass(frozen=True)
class AgentHandle:
    """Where a started agent is: its process and its events file."""

    pid: int
    pgid: int
    started: float  # process create time, to tell a reused pid apart
    events_path: Path  # always local: a remote job's events are mirrored into it
    remote_dir: str | None = None  # the job's folder on a worker (SSH transport)


class Transport(Protocol):
    """Everything the job manager and the kinds' handlers call on a way of running the agent.

    Implemented by :class:`LocalTransport` and :class:`app.jobs.ssh_transport.SSHTransport` (and checked by mypy:
    the manager holds a ``Transport``, never a concrete class).
    """

    name: str

    def start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        """Make ``run_dir``, write the spec and start the agent; on any failure leave no folder it made."""
        ...

    def alive(self, handle: AgentHandle) -> bool:
        """Whether the agent may still write events (a worker's: whether its mirror still follows it)."""
        ...

    def cancel(self, handle: AgentHandle, grace: float = 20.0) -> None:
        """SIGTERM the agent, SIGKILL its process group ``grace`` seconds later."""
        ...

    def fetch(self, remote_path: str, local_path: Path, sha256: str | None = None) -> Path:
        """A file the agent reported, copied to ``local_path`` on this machine (checked against ``sha256``)."""
        ...

    def handle_for(self, run_dir: Path, pid: int | None, started: float | None) -> AgentHandle:
        """Re-attach to an agent started earlier, by this process or one that is gone."""
        ...

    def explain(self, handle: AgentHandle) -> str | None:
        """Why the transport lost the agent (a worker unreachable for too long), or None."""
        ...

    def agent_err(self, handle: AgentHandle) -> str:
        """The tail of the agent's stderr (what a crash printed before it could report), or ""."""
        ...

    def release(self, handle: AgentHandle) -> None:
        """The job is over and its results are in the library: free what it holds where it ran."""
        ...

    def close(self) -> None:
        """Stop following and drop connections (agents keep running)."""
        ...


def process_alive(pid: int | None, started: float | None) -> bool:
    """True if ``pid`` runs and is the same process that was started (not a reused pid, not a zombie)."""
    if not pid:
        return False
    try:
        p = psutil.Process(pid)
        if started is not None and abs(p.create_time() - started) > 1.0:
            return False
        return bool(p.status() != psutil.STATUS_ZOMBIE)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def terminate(pid: int, pgid: int, started: float | None, grace: float) -> None:
    """SIGTERM the agent (it stops training at the next batch), then SIGKILL its whole group after ``grace``."""
    if process_alive(pid, started):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def reaper() -> None:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and process_alive(pid, started):
            time.sleep(0.2)
        kill_group(pgid, signal.SIGKILL)  # the agent, or anything it left behind (data loader workers)

    threading.Thread(target=reaper, name=f"reaper-{pid}", daemon=True).start()


class LocalTransport:
    """Runs ``python -m remote_agent run spec.json`` as a detached child of this machine."""

    name = "local"

    def __init__(self, home: Path, python: str | None = None) -> None:
        self.home = home
        self.python = python or sys.executable
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def environment(self) -> dict[str, str]:
        prepare_config_dir(self.home)
        disable_openvino_telemetry()
        env = dict(os.environ)
        env.update(offline_env(self.home))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
        env.pop("QT_QPA_PLATFORM", None)
        env["ULTRALYTICS_SAFE_LOAD"] = "1"  # every load in the agent is ultralytics' safe one unless the gate says
        return env

    def start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        spec_path = run_dir / "spec.json"
        made = not run_dir.exists()
        events_path = run_dir / "events.jsonl"
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(spec_path, json.dumps(spec, indent=2))  # never a half spec for the agent to read
            with open(events_path, "ab") as out, open(run_dir / "agent.err", "ab") as err:
                python = spec.get("python") or self.python  # an export toolchain's interpreter, when it has one
                proc = subprocess.Popen(
                    [python, "-m", "remote_agent", "run", str(spec_path)], stdin=subprocess.DEVNULL, stdout=out,
                    stderr=err, cwd=run_dir, env=self.environment(), start_new_session=True,
                )
        except OSError as e:
            if made:
                shutil.rmtree(run_dir, ignore_errors=True)  # a job that never started leaves no folder
            reraise_if_disk_full(e, run_dir.parent)
            raise
        self._children[proc.pid] = proc
        try:
            started = psutil.Process(proc.pid).create_time()
        except psutil.NoSuchProcess:
            started = time.time()
        return AgentHandle(proc.pid, proc.pid, started, events_path)

    def alive(self, handle: AgentHandle) -> bool:
        child = self._children.get(handle.pid)
        if child is not None:
            if child.poll() is None:
                return True
            self._children.pop(handle.pid, None)  # reaped: no zombie left
            return False
        return process_alive(handle.pid, handle.started)

    def cancel(self, handle: AgentHandle, grace: float = 20.0) -> None:
        terminate(handle.pid, handle.pgid, handle.started, grace)

    def handle_for(self, run_dir: Path, pid: int | None, started: float | None) -> AgentHandle:
        return AgentHandle(pid or 0, pid or 0, started or 0.0, run_dir / "events.jsonl")

    def explain(self, handle: AgentHandle) -> str | None:
        return None  # a local agent is never out of reach

    def agent_err(self, handle: AgentHandle) -> str:
        try:
            with open(handle.events_path.parent / "agent.err", "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - 2000))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def release(self, handle: AgentHandle) -> None:
        pass  # a local run folder is the job's own record (events, console, ultralytics' run): kept

    def close(self) -> None:
        pass  # nothing held open: children are reaped by ``alive``, agents run on detached

    def fetch(self, remote_path: str, local_path: Path, sha256: str | None = None) -> Path:
        src = Path(remote_path)
        if src.resolve() != local_path.resolve():
            shutil.copyfile(src, local_path)
        return local_path
