"""Atomic file writes: a temporary file in the target folder, fsync, then ``os.replace``."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

TMP_SUFFIX = ".tmp"


def temp_name(target: Path) -> Path:
    """A temporary path next to ``target`` (same folder, so ``os.replace`` is atomic)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_to_temp(src: Path, target: Path, chunk: int = 1 << 20) -> tuple[Path, str, int]:
    """Copy ``src`` to a temp file beside ``target``, hashing as it goes; fsync it. Returns (temp, sha256, size)."""
    tmp = temp_name(target)
    h = hashlib.sha256()
    size = 0
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while block := fin.read(chunk):
                h.update(block)
                fout.write(block)
                size += len(block)
            fout.flush()
            os.fsync(fout.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, h.hexdigest(), size


def atomic_copy(src: Path, target: Path) -> tuple[str, int]:
    """Copy ``src`` to ``target`` atomically; return (sha256, size)."""
    tmp, sha, size = copy_to_temp(src, target)
    os.replace(tmp, target)
    fsync_dir(target.parent)
    return sha, size


def atomic_write_text(target: Path, text: str) -> None:
    tmp = temp_name(target)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    fsync_dir(target.parent)
