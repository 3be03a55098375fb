"""The file half of a clone: a hard link where the filesystem allows, else a copy checked against its sha256.

A hard link costs no space until one side changes, and every writer of the library replaces files
(temp file + ``os.replace``) rather than writing into them, so changing one side never changes the other.
Across filesystems (``EXDEV``) or where links are refused, the bytes are copied and the copy's sha256
must equal the one recorded for the original before anything is renamed into place.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from app.library.storage import TMP_SUFFIX, copy_to_temp, fsync_dir, temp_name
from remote_agent.export import path_digest

# Errors of os.link that mean "this filesystem will not link here": fall back to a checked copy.
NO_LINK = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES)


class CopyMismatch(OSError):
    """A copy's bytes differ from the sha256 recorded for the original: nothing was put in place."""


def link_or_copy(src: Path, tmp: Path, sha256: str | None) -> str:
    """Make ``tmp`` hold ``src``'s bytes: a hard link ("link") or a copy fsynced and checked ("copy")."""
    try:
        os.link(src, tmp)
        return "link"
    except OSError as e:
        if e.errno not in NO_LINK:
            raise
    copied, sha, _size = copy_to_temp(src, tmp)
    if sha256 is not None and sha != sha256:
        copied.unlink(missing_ok=True)
        raise CopyMismatch(errno.EIO, f"the copy of {src} does not match its recorded sha256 "
                                      f"({sha256[:12]}…, copied {sha[:12]}…)")
    os.replace(copied, tmp)
    return "copy"


def place_weights(src: Path, dest: Path, sha256: str | None, reached: Callable[[str], None],
                  temp_step: str = "weights-temp") -> str:
    """Put ``src`` at ``dest`` through a temp name beside it; returns "link" or "copy" (``temp_step`` names the
    step reached once the temp name holds the bytes: a validation's capture goes in the same way)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    try:
        how = link_or_copy(src, tmp, sha256)
        reached(temp_step)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return how


def place_export(src_artifact: Path, dest_dir: Path, sha256: str | None, reached: Callable[[str], None]) -> str:
    """Rebuild one export (a file or a folder) as ``dest_dir/<name>`` through a temp folder; "link" or "copy".

    A copied artifact is hashed as the agent hashed it (:func:`remote_agent.export.path_digest`) and
    must match the recorded sha256 before the temp folder is renamed into place.
    """
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest_dir.parent / f".{dest_dir.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
    tmp.mkdir()
    try:
        target = tmp / src_artifact.name
        files = [src_artifact] if src_artifact.is_file() else sorted(p for p in src_artifact.rglob("*") if p.is_file())
        hows = set()
        for f in files:
            out = target if f == src_artifact else target / f.relative_to(src_artifact)
            out.parent.mkdir(parents=True, exist_ok=True)
            hows.add(link_or_copy(f, out, None))
        if "copy" in hows and sha256 is not None:
            _size, actual = path_digest(target)
            if actual != sha256:
                raise CopyMismatch(errno.EIO, f"the copy of {src_artifact} does not match its recorded sha256 "
                                              f"({sha256[:12]}…, copied {actual[:12]}…)")
        reached("export-temp")
        os.replace(tmp, dest_dir)
        fsync_dir(dest_dir.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return "copy" if "copy" in hows else "link"
