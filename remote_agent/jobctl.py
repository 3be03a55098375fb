"""Job control on the machine the agent runs on: ``spawn``, ``alive``, ``cancel``, ``digest``.

These are what a transport calls over SSH (and what any shell user can call by hand):

- ``spawn JOBDIR`` starts ``run JOBDIR/spec.json`` detached — its own session and process group,
  stdin from /dev/null, events appended to ``JOBDIR/events.jsonl``, stderr to ``agent.err`` — and
  records ``{pid, start}`` in ``JOBDIR/agent.pid``; the job outlives the SSH session that started it.
- ``alive JOBDIR`` says whether that very process (not a reused pid, not a zombie) still runs.
- ``cancel JOBDIR`` sends SIGTERM (training stops after the batch) and leaves a detached reaper that
  SIGKILLs the whole group after the grace period, so no data-loader worker is left behind.
- ``receive PATH --offset N`` writes stdin into PATH from byte N and prints the whole file's size and sha256
  (uploads: one stream, hashed as it lands, resumable).
- ``digest PATH`` prints size and sha256 of a file or folder (a folder's files, sorted by path), and
  with ``--files`` one entry per file: the transport checks uploads and downloads with it.
- ``forget JOBDIR`` deletes a finished job's folder once the app has what it needs (never while any
  process of the job's group runs, never outside the ``jobs/`` folder next to the agent).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PID_FILE = "agent.pid"
CHUNK = 1 << 20


def _start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[19])


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2:].split()[0]


def agent_dir() -> str:
    """The folder that holds the ``remote_agent`` package (put on the child's PYTHONPATH)."""
    return str(Path(__file__).resolve().parent.parent)


def spawn(job_dir: str) -> dict[str, Any]:
    d = Path(job_dir)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [agent_dir(), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    with open(d / "events.jsonl", "ab") as out, open(d / "agent.err", "ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "remote_agent", "run", str(d / "spec.json")],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=d, env=env,
                                start_new_session=True)
    info = {"pid": proc.pid, "pgid": proc.pid, "start": _start_ticks(proc.pid), "t": time.time()}
    tmp = d / f".{PID_FILE}.tmp"
    tmp.write_text(json.dumps(info))
    os.replace(tmp, d / PID_FILE)
    return info


def _read_pid(job_dir: str) -> dict[str, Any] | None:
    try:
        return json.loads((Path(job_dir) / PID_FILE).read_text())
    except (OSError, ValueError):
        return None


def _running(info: dict[str, Any]) -> bool:
    pid = int(info["pid"])
    state = _state(pid)
    if state is None:
        if not Path("/proc").is_dir():  # not Linux: fall back to signal 0
            try:
                os.kill(pid, 0)
                return True
            except OSError:
                return False
        return False
    if state in ("Z", "X"):
        return False
    return info.get("start") is None or _start_ticks(pid) == info["start"]


def _group_members(pgid: int) -> list[int]:
    out = []
    for p in Path("/proc").glob("[0-9]*"):
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(p.name))
    return out


def alive(job_dir: str) -> dict[str, Any]:
    info = _read_pid(job_dir)
    if info is None:
        return {"alive": False, "known": False}
    return {"alive": _running(info), "known": True, "pid": info["pid"],
            "group": _group_members(int(info["pgid"])) if Path("/proc").is_dir() else None}


def cancel(job_dir: str, grace: float) -> dict[str, Any]:
    info = _read_pid(job_dir)
    if info is None:
        return {"cancelled": False, "reason": "the job has no agent.pid (never started)"}
    (Path(job_dir) / "cancel-requested").touch()
    if _running(info):
        try:
            os.kill(int(info["pid"]), signal.SIGTERM)
        except OSError:
            pass
    subprocess.Popen([sys.executable, "-m", "remote_agent", "reap", job_dir, "--grace", str(grace)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, env={**os.environ, "PYTHONPATH": agent_dir()})
    return {"cancelled": True, "pid": info["pid"]}


def forget(job_dir: str) -> dict[str, Any]:
    d = Path(job_dir).resolve()
    jobs = Path(agent_dir()).resolve().parent / "jobs"
    if d.parent != jobs or not (d / "spec.json").exists():
        return {"forgotten": False, "reason": f"{job_dir} is not a job folder under {jobs}"}
    info = _read_pid(str(d))
    if info is not None and (_running(info) or (Path("/proc").is_dir() and _group_members(int(info["pgid"])))):
        return {"forgotten": False, "reason": "the job's processes still run"}
    shutil.rmtree(d, ignore_errors=True)
    return {"forgotten": not d.exists()}


def reap(job_dir: str, grace: float) -> None:
    """Wait up to ``grace`` for the agent to stop by itself, then SIGKILL its process group."""
    info = _read_pid(job_dir)
    if info is None:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _running(info):
        time.sleep(0.2)
    try:
        os.killpg(int(info["pgid"]), signal.SIGKILL)
    except OSError:
        pass


def digest(path: str, files: bool = False) -> dict[str, Any]:
    """Size and sha256 of a file or a folder (same scheme as the export's ``path_digest``)."""
    p = Path(path)
    if not p.exists():
        return {"exists": False}
    h = hashlib.sha256()
    entries = []
    members = [p] if p.is_file() else sorted(f for f in p.rglob("*") if f.is_file())
    total = 0
    for f in members:
        fh_hash = hashlib.sha256()
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode() + b"\0")
        size = 0
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
                fh_hash.update(block)
                size += len(block)
        total += size
        if files:
            entries.append({"path": str(f.relative_to(p)) if p.is_dir() else f.name, "size": size,
                            "sha256": fh_hash.hexdigest()})
    out: dict[str, Any] = {"exists": True, "dir": p.is_dir(), "size": total, "sha256": h.hexdigest()}
    if files:
        out["files"] = entries
    return out


def receive(path: str, offset: int) -> dict[str, Any]:
    """Write stdin to ``path`` from byte ``offset`` (what an earlier, cut transfer left stays), hashing the whole
    file as it arrives: one pass, no second read. Prints size and sha256 so the sender can check them."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with open(p, "r+b" if p.exists() else "wb") as f:
        f.truncate(offset)
        while f.tell() < offset:
            block = f.read(min(CHUNK, offset - f.tell()))
            if not block:
                break
            h.update(block)
        f.seek(offset)
        size = offset
        while block := os.read(0, CHUNK):
            f.write(block)
            h.update(block)
            size += len(block)
        f.flush()
        os.fsync(f.fileno())
    return {"size": size, "sha256": h.hexdigest()}
