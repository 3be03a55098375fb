"""The SSH transport: the same agent and events as the local one, on a worker reached with paramiko.

``start`` uploads the job's inputs (weights by sha256 into the worker's cache, data sets by
content manifest; both resumable and checked with sha256 on arrival), writes the spec with the
worker's paths, and has the worker's agent ``spawn`` the job detached (its own session and
process group, events appended to ``jobs/<id>/events.jsonl`` there). A *mirror* thread then
copies each complete line the agent appends to that file into the job's local
``runs/<id>/events.jsonl``, so the job manager follows the local file exactly as it does for a
local job. The local file's size *is* the saved offset: after a dropped link, or an app restart,
copying resumes at that byte — no event is lost or repeated.

If the link drops the job goes on on the worker; the mirror reconnects with backoff and catches
up. Only a worker unreachable for longer than ``give_up_s`` ends the local record (as Failed,
saying so); the job may still finish there.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shlex
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.jobs.ssh import SSHError
from app.jobs.ssh_link import (  # noqa: F401  (transfers are used from here by tests and benchmarks)
    CHUNK, Link, RemoteCommandError, TransferError, download, file_sha256, upload_file, upload_tree,
)
from app.jobs.transport import AgentHandle
from app.jobs.workers import WorkerRecord, WorkerStore, sftp_makedirs, sftp_write
from remote_agent.jobctl import digest as local_digest

POLL_S = 0.2
ALIVE_EVERY_S = 1.0
REMOTE_FILE = "remote.json"  # in the local run folder: which worker folder and pid the job has


def write_record(run_dir: Path, info: dict[str, Any]) -> None:
    """Write ``remote.json`` whole or not at all (a reader — another app re-attaching, a test — never sees it
    half-written or empty: it was seen empty once, read between ``write_text``'s truncate and its write)."""
    tmp = run_dir / f".{REMOTE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(info))
    os.replace(tmp, run_dir / REMOTE_FILE)


def dataset_root(data: Path) -> tuple[Path, dict[str, Any] | None]:
    """The folder to upload for ``data`` (a data.yaml's root, or a classification folder) and the yaml."""
    if data.is_dir():
        return data, None
    desc = yaml.safe_load(data.read_text())
    base = Path(desc.get("path") or data.parent)
    if not base.is_absolute():
        base = (data.parent / base).resolve()
    return base, desc


def outside_root(data: Path) -> str | None:
    """Why ``data`` cannot be sent to a worker (a split folder outside the data set's root), or None."""
    root, desc = dataset_root(data)
    for split in ("train", "val", "test"):
        entry = (desc or {}).get(split)
        if isinstance(entry, str) and Path(entry).is_absolute() and not Path(entry).is_relative_to(root):
            return (f"{data.name}: the {split} folder {entry} is outside the data set's root {root}; "
                    "it cannot be sent to a worker")
    return None


def start_in(run_dir: Path, start: Callable[[], AgentHandle]) -> AgentHandle:
    """Run ``start`` with ``run_dir`` made; a folder it made goes again when the job never started there."""
    made = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        return start()
    except BaseException:
        if made and not (run_dir / REMOTE_FILE).exists():
            shutil.rmtree(run_dir, ignore_errors=True)  # never started (or submitted) there: no folder left here
        raise


@dataclass
class Mirror:
    """Copies the worker's events file into the local one, line-complete, from the local file's size."""

    link: Link
    remote_dir: str
    local_events: Path
    give_up_s: float
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)
    failure: str | None = None
    reconnects: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def remote_events(self) -> str:
        return posixpath.join(self.remote_dir, "events.jsonl")

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name=f"mirror-{posixpath.basename(self.remote_dir)}",
                                       daemon=True)
        self.thread.start()

    def pull(self) -> int:
        """Copy what is new (whole lines only); returns the bytes appended."""
        sftp = self.link.sftp()
        offset = self.local_events.stat().st_size if self.local_events.exists() else 0
        try:
            size = sftp.stat(self.remote_events).st_size or 0
        except FileNotFoundError:
            return 0
        if size <= offset:
            return 0
        with sftp.open(self.remote_events, "rb") as f:
            f.seek(offset)
            chunk = f.read(min(size - offset, 8 * CHUNK))
        end: int = chunk.rfind(b"\n")
        if end < 0:
            return 0
        with open(self.local_events, "ab") as out:
            out.write(chunk[: end + 1])
            out.flush()
            os.fsync(out.fileno())
        return end + 1

    def agent_alive(self) -> bool:
        """Whether the agent still runs there (the Slurm transport's mirror asks Slurm instead)."""
        return bool(self.link.run("alive", self.remote_dir).get("alive"))

    def _cycle(self, last_alive: list[float]) -> bool:
        """One round: copy new lines; every second ask whether the agent lives. True when all is copied and it ended."""
        got = self.pull()
        while got:
            got = self.pull()
        now = time.monotonic()
        if now - last_alive[0] < ALIVE_EVERY_S:
            return False
        last_alive[0] = now
        if self.agent_alive():
            return False
        while self.pull():  # what it wrote just before it exited
            pass
        return True

    def _loop(self) -> None:
        last_alive = [0.0]

        def waiting(_msg: str) -> None:
            self.reconnects += 1

        try:
            while not self.stop.is_set():
                if self.link.retrying(lambda: self._cycle(last_alive), self.give_up_s, waiting):
                    break
                time.sleep(POLL_S)
        except RemoteCommandError as e:
            self.failure = f"following the job on the worker failed: {e}"
        except SSHError as e:
            self.failure = (f"lost the connection to the worker for too long ({e}); the job may still be running "
                            f"there in {self.remote_dir}")
        except Exception as e:  # noqa: BLE001 — ends the job visibly rather than hanging it
            self.failure = f"following the job on the worker failed: {type(e).__name__}: {e}"
        finally:
            self.done.set()


class SSHTransport:
    """Runs the agent on a worker; implements :class:`app.jobs.transport.Transport`."""

    def __init__(self, store: WorkerStore, worker: WorkerRecord, give_up_s: float = 1800.0) -> None:
        self.store, self.worker, self.name = store, worker, worker.name
        self.give_up_s = give_up_s
        self.link = Link(store, worker)
        self._mirrors: dict[str, Mirror] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ inputs
    def _upload_model(self, path: Path) -> str:
        sha = file_sha256(path)
        assert self.link.layout is not None
        return upload_file(self.link, path, self.link.layout.cache(sha + path.suffix), sha)

    def _upload_data(self, data: Path, job_dir: str) -> str:
        root, desc = dataset_root(data)
        problem = outside_root(data)
        if problem:
            raise SSHError(problem)
        manifest = local_digest(str(root))
        assert self.link.layout is not None
        remote_root = upload_tree(self.link, root, self.link.layout.data(manifest["sha256"][:16]))
        if desc is None:
            return remote_root
        desc = dict(desc)
        desc["path"] = remote_root
        for split in ("train", "val", "test"):
            entry = desc.get(split)
            if isinstance(entry, str) and Path(entry).is_absolute():  # inside the root: outside_root said so
                desc[split] = str(Path(entry).relative_to(root))
        remote_yaml = posixpath.join(job_dir, "data.yaml")
        sftp_write(self.link.sftp(), remote_yaml, yaml.safe_dump(desc, sort_keys=False).encode())
        return remote_yaml

    def _remote_spec(self, spec: dict[str, Any], job_dir: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(json.dumps(spec))
        out.pop("python", None)  # a local toolchain's interpreter means nothing there
        out["run_dir"] = job_dir
        args = out.get("args", {})
        model = args.get("model")
        if isinstance(model, str) and Path(model).is_file():
            args["model"] = self._upload_model(Path(model))
        data = args.get("data")
        if isinstance(data, str) and Path(data).exists():
            args["data"] = self._upload_data(Path(data), job_dir)
        out["worker"] = self.name
        return out

    remote_spec = _remote_spec  # the Slurm transport uploads a job's inputs, and writes its spec, the same way

    # ------------------------------------------------------------------ Transport
    def start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        return start_in(run_dir, lambda: self._start(spec, run_dir))

    def _start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:

        def go() -> AgentHandle:
            self.link.client()
            assert self.link.layout is not None
            job_dir = self.link.layout.job(str(spec["id"]))
            sftp_makedirs(self.link.sftp(), job_dir)
            remote = self._remote_spec(spec, job_dir)
            sftp_write(self.link.sftp(), posixpath.join(job_dir, "spec.json"), json.dumps(remote, indent=2).encode())
            (run_dir / "spec.remote.json").write_text(json.dumps(remote, indent=2))
            try:  # started already (a retry after a drop mid-start)? then do not start it twice
                pid = json.loads(self.link.sftp().open(posixpath.join(job_dir, "agent.pid")).read())
            except FileNotFoundError:
                pid = self.link.run("spawn", job_dir)
            return self._handle(run_dir, job_dir, pid)

        handle: AgentHandle = self.link.retrying(go, min(self.give_up_s, 120.0))
        write_record(run_dir, {"worker": self.name, "remote_dir": handle.remote_dir, "pid": handle.pid})
        self._follow(handle)
        return handle

    def _handle(self, run_dir: Path, job_dir: str, pid: dict[str, Any]) -> AgentHandle:
        return AgentHandle(int(pid["pid"]), int(pid.get("pgid") or pid["pid"]), float(pid.get("t") or 0.0),
                           run_dir / "events.jsonl", remote_dir=job_dir)

    def handle_for(self, run_dir: Path, pid: int | None, started: float | None) -> AgentHandle:
        """Re-attach to a job started earlier (by this app or one that closed)."""
        info = json.loads((run_dir / REMOTE_FILE).read_text())
        handle = AgentHandle(int(info["pid"]), int(info["pid"]), started or 0.0, run_dir / "events.jsonl",
                             remote_dir=info["remote_dir"])
        self._follow(handle)
        return handle

    def _follow(self, handle: AgentHandle) -> None:
        with self._lock:
            key = str(handle.remote_dir)
            if key in self._mirrors and not self._mirrors[key].done.is_set():
                return
            m = Mirror(self.link, key, handle.events_path, self.give_up_s)
            self._mirrors[key] = m
            m.start()

    def mirror(self, handle: AgentHandle) -> Mirror:
        return self._mirrors[str(handle.remote_dir)]

    def alive(self, handle: AgentHandle) -> bool:
        m = self._mirrors.get(str(handle.remote_dir))
        return m is not None and not m.done.is_set()

    def explain(self, handle: AgentHandle) -> str | None:
        m = self._mirrors.get(str(handle.remote_dir))
        return m.failure if m else None

    def release(self, handle: AgentHandle) -> None:
        """Delete the job's folder on the worker, once its events file there is byte for byte the one here.

        The results were fetched (and checked) already; the events are the job's record. The proof (the
        file's sha256 on both sides) is written into ``remote.json``; without it the folder stays.
        """
        m = self._mirrors.pop(str(handle.remote_dir), None)
        if m is not None:
            m.stop.set()
            if m.thread is not None:
                m.thread.join(10)
                if m.thread.is_alive():
                    return  # still inside a read: pulling beside it could append lines twice; keep the folder
            m.pull()  # anything the stopped mirror had not copied yet
        there = self.link.retrying(lambda: self.link.run("digest", posixpath.join(str(handle.remote_dir),
                                                                                   "events.jsonl")), 30.0)
        here = hashlib.sha256(handle.events_path.read_bytes()).hexdigest()
        if there.get("sha256") != here:
            return  # not all mirrored (or changed there): keep it
        record = handle.events_path.parent / REMOTE_FILE
        info = json.loads(record.read_text()) if record.exists() else {}
        done = self.link.retrying(lambda: self.link.run("forget", str(handle.remote_dir)), 30.0)
        if done.get("forgotten"):
            info["released"] = {"events_sha256": here, "at": time.time()}
            write_record(record.parent, info)

    def cancel(self, handle: AgentHandle, grace: float = 20.0) -> None:
        self.link.retrying(lambda: self.link.run("cancel", str(handle.remote_dir), "--grace", str(grace)), 60.0)

    def fetch(self, remote_path: str, local_path: Path, sha256: str | None = None) -> Path:
        fetched: Path = self.link.retrying(lambda: download(self.link, remote_path, local_path, sha256), self.give_up_s)
        return fetched

    def agent_err(self, handle: AgentHandle) -> str:
        code, out, _ = self.link.shell(f"tail -c 2000 {shlex.quote(posixpath.join(str(handle.remote_dir), 'agent.err'))}")
        return out if code == 0 else ""

    def close(self) -> None:
        for m in self._mirrors.values():
            m.stop.set()
        self.link.close()
