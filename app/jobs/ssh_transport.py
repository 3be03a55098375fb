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
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
import yaml

from app.jobs.ssh import HostKeyChanged, HostKeyUnknown, SSHError, run
from app.jobs.transport import AgentHandle
from app.jobs.workers import Layout, WorkerRecord, WorkerStore, agent_command, install_agent, sftp_makedirs, sftp_write
from remote_agent.jobctl import digest as local_digest

CHUNK = 1 << 20
POLL_S = 0.2
ALIVE_EVERY_S = 1.0
BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)
REMOTE_FILE = "remote.json"  # in the local run folder: which worker folder and pid the job has


class TransferError(SSHError):
    """An upload or download did not arrive intact."""


class RemoteCommandError(SSHError):
    """The link works but a command failed on the worker (disk full, permissions…): retrying will not help."""


def _hint(err: str) -> str:
    if "No space left" in err or "Errno 28" in err:
        return " — the worker's disk is full: free space there (or remove old jobs under ~/.yolodesk-agent/jobs)"
    if "Permission denied" in err:
        return " — check the permissions of ~/.yolodesk-agent on the worker"
    return ""


class Link:
    """One SSH connection to a worker, re-established on demand with backoff; thread-safe."""

    def __init__(self, store: WorkerStore, worker: WorkerRecord) -> None:
        self.store, self.worker = store, worker
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._lock = threading.RLock()
        self.layout: Layout | None = None
        self.connects = 0
        self.last_error: str | None = None

    def _alive(self) -> bool:
        t = self._client.get_transport() if self._client else None
        return bool(t and t.is_active())

    def client(self) -> paramiko.SSHClient:
        with self._lock:
            if not self._alive():
                self.close()
                self._client = self.store.client(self.worker)
                self.connects += 1
                self.layout = install_agent(self._client)
            assert self._client is not None
            return self._client

    def sftp(self) -> paramiko.SFTPClient:
        with self._lock:
            client = self.client()
            if self._sftp is None:
                self._sftp = client.open_sftp()
            return self._sftp

    def run(self, *agent_args: str, timeout: float = 60.0) -> dict[str, Any]:
        """Run an agent command there and parse the JSON it prints."""
        client = self.client()
        assert self.layout is not None
        code, out, err = run(client, agent_command(self.worker, self.layout, *agent_args), timeout=timeout)
        if code != 0:
            text = (err or out).strip()
            raise RemoteCommandError(f"`remote_agent {agent_args[0]}` failed on {self.worker.name} (exit {code}): "
                                     f"{text[-500:]}{_hint(text)}")
        return json.loads(out.strip().splitlines()[-1])

    def shell(self, command: str, timeout: float = 60.0) -> tuple[int, str, str]:
        return run(self.client(), command, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            for obj in (self._sftp, self._client):
                try:
                    if obj is not None:
                        obj.close()
                except Exception:  # noqa: BLE001 — a dead link may fail to close; it is gone either way
                    pass
            self._sftp = self._client = None

    def drop(self) -> None:
        """Forget a connection that failed, so the next use reconnects."""
        self.close()

    def retrying(self, what: Callable[[], Any], give_up_s: float, on_wait: Callable[[str], None] | None = None) -> Any:
        """Call ``what`` until it does not fail on the link, reconnecting with backoff; give up after ``give_up_s``."""
        start = time.monotonic()
        attempt = 0
        while True:
            try:
                return what()
            except (SSHError, OSError, EOFError, paramiko.SSHException) as e:
                if isinstance(e, TransferError | RemoteCommandError | HostKeyChanged | HostKeyUnknown):
                    raise  # a damaged transfer is redone by the caller; a host key problem is the user's call
                self.last_error = str(e)
                self.drop()
                if time.monotonic() - start > give_up_s:
                    raise SSHError(f"{self.worker.name} unreachable for {give_up_s:.0f} s: {e}") from e
                if on_wait:
                    on_wait(str(e))
                time.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1


# ------------------------------------------------------------------------------ transfers
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def upload_file(link: Link, local: Path, remote: str, sha256: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> str:
    """Put ``local`` at ``remote``: streamed into ``remote.part`` by the agent's ``receive`` (which hashes it as it
    lands), resumed from what an earlier, cut transfer left there, checked by sha256, renamed last.
    A file already at ``remote`` with the same size is the same upload (it was checked before the rename)."""
    sha256 = sha256 or file_sha256(local)
    size = local.stat().st_size
    sftp = link.sftp()
    try:
        if sftp.stat(remote).st_size == size:
            return remote
    except FileNotFoundError:
        pass
    sftp_makedirs(sftp, posixpath.dirname(remote))
    part = remote + ".part"
    try:
        have = sftp.stat(part).st_size or 0
    except FileNotFoundError:
        have = 0
    if have > size:
        have = 0
    assert link.layout is not None
    chan = link.client().get_transport().open_session()  # type: ignore[union-attr]
    try:
        chan.exec_command(agent_command(link.worker, link.layout, "receive", part, "--offset", str(have)))
        with open(local, "rb") as src:
            src.seek(have)
            done = have
            while block := src.read(CHUNK):
                chan.sendall(block)
                done += len(block)
                if progress:
                    progress(done, size)
        chan.shutdown_write()
        out = b""
        while data := chan.recv(65536):
            out += data
        code = chan.recv_exit_status()
        err = chan.recv_stderr(65536).decode(errors="replace") if chan.recv_stderr_ready() else ""
    finally:
        chan.close()
    if code == -1:
        raise SSHError(f"the connection dropped while sending {local.name}; it resumes from where it stopped")
    if code != 0:
        raise RemoteCommandError(f"sending {local.name} to {link.worker.name} failed (exit {code}): "
                                 f"{err.strip()[-300:]}{_hint(err)}")
    got = json.loads(out.decode().strip().splitlines()[-1])
    if got.get("sha256") != sha256 or got.get("size") != size:
        sftp.remove(part)
        raise TransferError(f"{local.name} arrived damaged on the worker (sha256 {got.get('sha256')} ≠ {sha256}); "
                            "it will be sent again")
    sftp.posix_rename(part, remote)
    return remote


def upload_tree(link: Link, local: Path, remote: str) -> str:
    """A folder by content: ``remote`` is keyed by the caller with the manifest's digest; ``.complete`` marks it whole."""
    sftp = link.sftp()
    marker = posixpath.join(remote, ".yolodesk-complete")
    try:
        sftp.stat(marker)
        return remote
    except FileNotFoundError:
        pass
    manifest = local_digest(str(local), files=True)
    for entry in manifest["files"]:
        target = posixpath.join(remote, *Path(entry["path"]).parts)
        src = local / entry["path"]
        try:
            if sftp.stat(target).st_size == entry["size"]:
                continue  # from an earlier, interrupted upload (the digest below checks it)
        except FileNotFoundError:
            pass
        sftp_makedirs(sftp, posixpath.dirname(target))
        with open(src, "rb") as f, sftp.open(target + ".part", "wb") as dst:
            dst.set_pipelined(True)
            while block := f.read(CHUNK):
                dst.write(block)
        sftp.posix_rename(target + ".part", target)
    got = link.run("digest", remote, "--files")
    theirs = {f["path"]: f["sha256"] for f in got.get("files", []) if not f["path"].endswith(".yolodesk-complete")}
    ours = {f["path"]: f["sha256"] for f in manifest["files"]}
    bad = [p for p, h in ours.items() if theirs.get(p) != h]
    if bad:
        for p in bad:
            try:
                sftp.remove(posixpath.join(remote, *Path(p).parts))
            except FileNotFoundError:
                pass
        raise TransferError(f"{len(bad)} file(s) of {local.name} arrived damaged (first: {bad[0]}); sending again")
    sftp_write(sftp, marker, b"")
    return remote


def download(link: Link, remote: str, local: Path, expect_sha256: str | None = None) -> Path:
    """Copy a file or folder from the worker (files resumable via ``.part``); checked against the worker's
    digest (and ``expect_sha256`` when the agent reported one). Written next to ``local``, then renamed."""
    sftp = link.sftp()
    st = sftp.stat(remote)
    theirs = link.run("digest", remote)
    if expect_sha256 and theirs.get("sha256") != expect_sha256:
        raise TransferError(f"{remote} on the worker does not match what the agent reported")
    local.parent.mkdir(parents=True, exist_ok=True)
    if stat.S_ISDIR(st.st_mode or 0):
        staging = local.with_name(local.name + ".part")
        _get_tree(sftp, remote, staging)
        target_tmp = staging
    else:
        target_tmp = local.with_name(local.name + ".part")
        _get_file(sftp, remote, target_tmp, st.st_size or 0)
    ours = local_digest(str(target_tmp))
    if ours.get("sha256") != theirs.get("sha256"):
        import shutil

        shutil.rmtree(target_tmp, ignore_errors=True) if target_tmp.is_dir() else target_tmp.unlink(missing_ok=True)
        raise TransferError(f"{posixpath.basename(remote)} arrived damaged (sha256 mismatch); it will be fetched again")
    if local.exists():
        import shutil

        shutil.rmtree(local) if local.is_dir() else local.unlink()
    os.replace(target_tmp, local)
    return local


def _get_file(sftp: paramiko.SFTPClient, remote: str, local: Path, size: int) -> None:
    have = local.stat().st_size if local.exists() else 0
    if have > size:
        local.unlink()
        have = 0
    with sftp.open(remote, "rb") as src, open(local, "ab" if have else "wb") as dst:
        src.prefetch(size - have) if size > have else None
        src.seek(have)
        while block := src.read(CHUNK):
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())


def _get_tree(sftp: paramiko.SFTPClient, remote: str, local: Path) -> None:
    local.mkdir(parents=True, exist_ok=True)
    for entry in sftp.listdir_attr(remote):
        src = posixpath.join(remote, entry.filename)
        dst = local / entry.filename
        if stat.S_ISDIR(entry.st_mode or 0):
            _get_tree(sftp, src, dst)
        elif not dst.exists() or dst.stat().st_size != entry.st_size:
            _get_file(sftp, src, dst, entry.st_size or 0)


# ------------------------------------------------------------------------------ inputs
def dataset_root(data: Path) -> tuple[Path, dict[str, Any] | None]:
    """The folder to upload for ``data`` (a data.yaml's root, or a classification folder) and the yaml."""
    if data.is_dir():
        return data, None
    desc = yaml.safe_load(data.read_text())
    base = Path(desc.get("path") or data.parent)
    if not base.is_absolute():
        base = (data.parent / base).resolve()
    return base, desc


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
        end = chunk.rfind(b"\n")
        if end < 0:
            return 0
        with open(self.local_events, "ab") as out:
            out.write(chunk[: end + 1])
            out.flush()
            os.fsync(out.fileno())
        return end + 1

    def _cycle(self, last_alive: list[float]) -> bool:
        """One round: copy new lines; every second ask whether the agent lives. True when all is copied and it ended."""
        got = self.pull()
        while got:
            got = self.pull()
        now = time.monotonic()
        if now - last_alive[0] < ALIVE_EVERY_S:
            return False
        last_alive[0] = now
        if self.link.run("alive", self.remote_dir).get("alive"):
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
        manifest = local_digest(str(root))
        assert self.link.layout is not None
        remote_root = upload_tree(self.link, root, self.link.layout.data(manifest["sha256"][:16]))
        if desc is None:
            return remote_root
        desc = dict(desc)
        desc["path"] = remote_root
        for split in ("train", "val", "test"):
            entry = desc.get(split)
            if isinstance(entry, str) and Path(entry).is_absolute():
                try:
                    desc[split] = str(Path(entry).relative_to(root))
                except ValueError as e:
                    raise SSHError(f"{data.name}: the {split} folder {entry} is outside the data set's root {root}; "
                                   "it cannot be sent to a worker") from e
        remote_yaml = posixpath.join(job_dir, "data.yaml")
        sftp_write(self.link.sftp(), remote_yaml, yaml.safe_dump(desc, sort_keys=False).encode())
        return remote_yaml

    def _remote_spec(self, spec: dict[str, Any], job_dir: str) -> dict[str, Any]:
        out = json.loads(json.dumps(spec))
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

    # ------------------------------------------------------------------ Transport
    def start(self, spec: dict[str, Any], run_dir: Path) -> AgentHandle:
        run_dir.mkdir(parents=True, exist_ok=True)

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

        handle = self.link.retrying(go, min(self.give_up_s, 120.0))
        (run_dir / REMOTE_FILE).write_text(json.dumps({"worker": self.name, "remote_dir": handle.remote_dir,
                                                       "pid": handle.pid}))
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

    def cancel(self, handle: AgentHandle, grace: float = 20.0) -> None:
        self.link.retrying(lambda: self.link.run("cancel", str(handle.remote_dir), "--grace", str(grace)), 60.0)

    def fetch(self, remote_path: str, local_path: Path, sha256: str | None = None) -> Path:
        return self.link.retrying(lambda: download(self.link, remote_path, local_path, sha256), self.give_up_s)

    def agent_err(self, handle: AgentHandle) -> str:
        code, out, _ = self.link.shell(f"tail -c 2000 {shlex.quote(posixpath.join(str(handle.remote_dir), 'agent.err'))}")
        return out if code == 0 else ""

    def close(self) -> None:
        for m in self._mirrors.values():
            m.stop.set()
        self.link.close()
