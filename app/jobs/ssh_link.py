"""One SSH link to a worker (reconnected on demand, with backoff) and checked transfers over it.

Uploads stream through the worker's agent (``remote_agent receive``, which hashes what lands);
folders go by content manifest; downloads resume from ``.part`` files. Every transfer is checked
against sha256 before its final name is written, on either side.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko

from app.jobs.ssh import HostKeyChanged, HostKeyRevoked, HostKeyUnknown, SSHError, run
from app.jobs.workers import Layout, WorkerRecord, WorkerStore, agent_command, install_agent, sftp_makedirs, sftp_write
from app.library.disk_space import DiskFullError
from app.library.storage import is_disk_full
from remote_agent.jobctl import digest as local_digest
from remote_agent.train import file_sha256

CHUNK = 1 << 20
BACKOFF = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)

__all__ = ["Link", "RemoteCommandError", "TransferError", "download", "file_sha256", "upload_file", "upload_tree"]


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
                if isinstance(e, TransferError | RemoteCommandError | HostKeyChanged | HostKeyUnknown | HostKeyRevoked
                              | DiskFullError):
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
    target_tmp = local.with_name(local.name + ".part")
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISDIR(st.st_mode or 0):
            _get_tree(sftp, remote, target_tmp)
        else:
            _get_file(sftp, remote, target_tmp, st.st_size or 0)
    except OSError as e:
        if is_disk_full(e):  # a full disk is not a dropped link: no resuming, no retry, the part removed
            shutil.rmtree(target_tmp, ignore_errors=True) if target_tmp.is_dir() else target_tmp.unlink(missing_ok=True)
            raise DiskFullError(local.parent) from e
        raise
    ours = local_digest(str(target_tmp))
    if ours.get("sha256") != theirs.get("sha256"):
        shutil.rmtree(target_tmp, ignore_errors=True) if target_tmp.is_dir() else target_tmp.unlink(missing_ok=True)
        raise TransferError(f"{posixpath.basename(remote)} arrived damaged (sha256 mismatch); it will be fetched again")
    if local.exists():
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
