"""Per-model advisory locks: an import in flight owns its model folder, so repair never takes it for an orphan.

The importer takes ``<home>/locks/<model-id>.lock`` (``fcntl.flock``, exclusive) *before*
the folder ``models/<model-id>`` exists and keeps it until the row is committed (or the
folder removed). ``check --repair`` asks for the same lock without waiting: a folder whose
lock is held belongs to a live import (in another process or another thread of this one:
flock locks are per open file, not per process) and is left alone. The kernel drops the
lock when its holder dies, so a crashed import's folder becomes repairable at once.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCKS_DIR = "locks"


def lock_path(home: Path, model_id: str) -> Path:
    """Where the lock of one model folder lives (outside ``models/``, so it is never mistaken for a model)."""
    return home / LOCKS_DIR / f"{model_id}.lock"


def _acquire(home: Path, model_id: str, wait: bool) -> int | None:
    """A descriptor holding the lock, or None when someone else holds it (only with ``wait=False``)."""
    path = lock_path(home, model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # its holder removed the file while we waited: that lock guards nothing now, take a fresh one


@contextmanager
def hold_model_lock(home: Path, model_id: str) -> Iterator[None]:
    """Hold the model folder's lock for the whole block (waits for it); the lock file is removed at the end."""
    fd = _acquire(home, model_id, wait=True)
    assert fd is not None
    try:
        yield
    finally:
        lock_path(home, model_id).unlink(missing_ok=True)  # while still held: a waiter sees the change and retries
        os.close(fd)


@contextmanager
def try_model_lock(home: Path, model_id: str) -> Iterator[bool]:
    """Take the folder's lock if nobody holds it; yields False (and holds nothing) while an import owns it."""
    fd = _acquire(home, model_id, wait=False)
    if fd is None:
        yield False
        return
    try:
        yield True
    finally:
        lock_path(home, model_id).unlink(missing_ok=True)
        os.close(fd)
