"""A full disk as one error with the user's sentence: which disk, how much is left, nothing half-written."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from app.library.storage import disk_full_message, is_disk_full


class DiskFullError(OSError):
    """A write failed because the disk holding ``path`` is full; ``str()`` is the sentence to show."""

    def __init__(self, path: Path) -> None:
        super().__init__(errno.ENOSPC, disk_full_message(Path(path)))
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.strerror)


def reraise_if_disk_full(exc: BaseException, path: Path) -> None:
    """Raise :class:`DiskFullError` for ``path`` (from ``exc``) when ``exc`` says the disk is full."""
    if isinstance(exc, DiskFullError):
        raise exc
    if is_disk_full(exc) or _copytree_disk_full(exc):
        raise DiskFullError(path) from exc


def _copytree_disk_full(exc: BaseException) -> bool:
    """``shutil.copytree`` gathers each file's error as text in one ``shutil.Error``: look for ENOSPC there."""
    if not isinstance(exc, shutil.Error) or not exc.args or not isinstance(exc.args[0], list):
        return False
    marks = (f"[Errno {errno.ENOSPC}]", f"[Errno {errno.EDQUOT}]")
    return any(isinstance(entry, tuple) and any(m in str(entry[-1]) for m in marks) for entry in exc.args[0])
