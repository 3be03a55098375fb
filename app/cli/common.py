"""What every area of the ``yolodesk`` command line shares: exit codes, opening the library, error lines, key=value.

Heavy modules (SQLAlchemy, the job manager) are imported inside the helpers so that ``yolodesk --help`` stays fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

# 0: every input was fine; 1: any was rejected or an operation failed; 2: a usage error.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_REJECTED = EXIT_FAILED  # the library commands' word for it: an input was refused


class HomeUnusable(Exception):
    """The library folder itself cannot be used (a file stands where it, or a folder above it, should be)."""


def open_library() -> Any:
    """The library at ``YOLODESK_HOME`` (or the user's data folder); raises ``LibraryUnavailable`` if it cannot open."""
    from app.library.repository import Library
    from app.paths import library_home

    try:
        return Library.open_default()
    except OSError as e:
        home = library_home()
        blocker = next((p for p in (home, *home.parents) if p.exists() and not p.is_dir()), None)
        if blocker is None:
            raise
        what = "is a file, not a folder" if blocker == home else f"is under {shown(blocker)}, which is a file"
        raise HomeUnusable(f"the library folder {shown(home)} {what}; nothing was changed (set YOLODESK_HOME to a "
                           "folder)") from e


def job_manager() -> Any:
    """A job manager over the default library (jobs started here are supervised by this process while it runs)."""
    from app.jobs.manager import JobManager

    return JobManager(open_library())


def fail(command: str, message: object, code: int = EXIT_FAILED) -> int:
    """Print ``yolodesk COMMAND: MESSAGE`` on stderr (one line for one problem) and return the exit code."""
    print(f"yolodesk {command}: {message}", file=sys.stderr)
    return code


def path_exists(path: str | Path) -> bool:
    """``Path.exists`` that answers False for a name the system refuses (too long, a NUL byte) instead of raising."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def shown(text: object, limit: int = 120) -> str:
    """A user-given value for a message: terminal-safe (escapes shown) and cut to ``limit`` characters."""
    from app.library.untrusted import printable

    text = printable(str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def os_problem(e: OSError) -> str:
    """An OSError as one line: what went wrong and with which path (escaped, cut to 120 characters)."""
    import errno

    what = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        what = "the disk is full"
    return f"{what}: {shown(e.filename)}" if e.filename is not None else what


def parse_value(text: str) -> Any:
    """ultralytics-style ``key=value`` values: ints, floats, booleans, None, else the string."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    """``["epochs=3", "imgsz=64"]`` → ``{"epochs": 3, "imgsz": 64}``; raises ValueError naming a pair without ``=``."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def trust_file(lib: Any, path: str | Path, name: str = "") -> str:
    """``--trust``: remember the file's sha256 as trusted (its jobs load it even if the safe loader refuses)."""
    from app.library.checkpoint import sha256_file

    sha256 = sha256_file(path)
    lib.trust_checkpoint(sha256, name or Path(path).name)
    return sha256


def stream_job(manager: Any, job_id: str, out: Any = None) -> Any:
    """Print the job's console (ANSI and ``\\r`` as the agent wrote them) until it ends; return the record."""
    from app.jobs.events import EventFollower

    from app.jobs.placement import is_target, waiting_note

    out = out or sys.stdout
    job = manager.store.get(job_id)
    follower = EventFollower(job.events_path)
    placing, said = is_target(job.worker), None  # an any-GPU job: why it waits, then where it went (on stderr)
    while True:
        for ev in follower.poll():
            if ev.get("type") == "log":
                out.write(ev.get("text", ""))
                out.flush()
        job = manager.store.get(job_id)
        if placing:
            now = waiting_note(job.result) if is_target(job.worker) else f"placed on {job.worker}"
            if now and now != said:
                print(now, file=sys.stderr, flush=True)
                said = now
            placing = is_target(job.worker)
        if job.finished:
            for ev in follower.poll():  # what the agent wrote between the last poll and its end
                if ev.get("type") == "log":
                    out.write(ev.get("text", ""))
            out.flush()
            return job
        time.sleep(0.1)
