"""Atomic file writes: a temporary file in the target folder, fsync, then ``os.replace``.

Also the two questions every write path asks: is this source a regular file (a FIFO or a
device would block a read for ever), and was that failure a full disk.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import uuid
from pathlib import Path

TMP_SUFFIX = ".tmp"
SQLITE_FULL = 13
_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder", stat.S_IFLNK: "a symbolic link"}


class NotRegularFile(OSError):
    """The source is a FIFO, a device, a socket or a folder: refused before any read."""


def open_regular(src: Path) -> int:
    """Open ``src`` for reading without blocking and return the descriptor; refuse anything but a regular file."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        if e.errno == errno.ENXIO:  # a socket file cannot be opened at all
            raise NotRegularFile(errno.EINVAL, "not a regular file: it is a socket") from e
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(errno.EINVAL, f"not a regular file: it is {_KINDS.get(stat.S_IFMT(mode), 'not a file')}")
    os.set_blocking(fd, True)
    return fd


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError, sqlite3's or SQLAlchemy's error) says the disk or the database is full."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(e, "sqlite_errorcode", None) == SQLITE_FULL or "database or disk is full" in str(e):
            return True
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    return False


def free_mb(path: Path) -> float:
    """Free space in MB on the filesystem holding ``path`` (its nearest existing parent)."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free / 2**20
    except OSError:
        return 0.0


def disk_full_message(path: Path) -> str:
    """The verdict for a full disk: which path, how much is left."""
    return f"the disk holding {path} is full ({free_mb(path):.1f} MB free); nothing was written"


def temp_name(target: Path) -> Path:
    """A temporary path next to ``target`` (same folder, so ``os.replace`` is atomic)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    """fsync a folder so that a rename inside it survives a power cut (best effort)."""
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
    fd = open_regular(src)
    tmp = temp_name(target)
    h = hashlib.sha256()
    size = 0
    try:
        with open(fd, "rb") as fin, open(tmp, "wb") as fout:
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
    """Write ``text`` to ``target`` atomically (temp file, fsync, replace)."""
    tmp = temp_name(target)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    fsync_dir(target.parent)
