"""Unpack a data set's .zip into the library's storage, refusing what could escape or exhaust it.

Refused before a byte is written: absolute names, ``..`` parts, links and special files, more than
``MAX_FILES`` members, more than ``MAX_BYTES`` unpacked, and a member whose declared size is far beyond its
compressed size (a zip bomb). While writing, a member whose bytes do not match its header (size, CRC) is refused.
The archive is unpacked into a temporary folder next to the target and renamed into place, so a failure leaves
nothing behind.
"""

from __future__ import annotations

import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_FILES = 200_000
MAX_BYTES = 20 * 1024**3
MAX_RATIO = 200  # deflate reaches ~1000:1 only on degenerate input; images compress little
RATIO_FLOOR = 1024**2  # small members may compress well (text labels): the ratio counts only above 1 MiB
CHUNK = 1024 * 1024


class ZipRefused(Exception):
    """The archive cannot be unpacked safely; the message says which member and why."""


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in pure.parts:
        return "a '..' path that leaves the folder"
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 from zips made on Windows or by writestr: a plain file
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "a link or special file"
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return f"compressed {info.file_size // max(info.compress_size, 1)}:1 (a zip bomb)"
    return None


def check_zip(path: Path, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> list[zipfile.ZipInfo]:
    """The members to unpack, or :class:`ZipRefused` naming the first that is not safe."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise ZipRefused(f"{path.name} is not a readable zip ({e})") from None
    if len(infos) > max_files:
        raise ZipRefused(f"{path.name} holds {len(infos)} files (at most {max_files})")
    total = packed = 0
    for info in infos:
        why = _member_problem(info)
        if why:
            raise ZipRefused(f"{path.name}: {info.filename!r} is {why}; nothing was unpacked")
        total += info.file_size
        packed += info.compress_size
    if total > RATIO_FLOOR and total > MAX_RATIO * max(packed, 1):  # many members each under the floor: a bomb too
        raise ZipRefused(f"{path.name} is compressed {total // max(packed, 1)}:1 overall (a zip bomb); nothing was "
                         "unpacked")
    if total > max_bytes:
        raise ZipRefused(f"{path.name} unpacks to {total / 1024**3:.1f} GiB (at most {max_bytes / 1024**3:.1f} GiB)")
    return infos


def extract_zip(path: Path, target: Path, cancel: Callable[[], bool] | None = None,
                progress: Callable[[int, int, str], None] | None = None,
                max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> Path:
    """Unpack ``path`` into the new folder ``target`` (which must not exist) and return it."""
    infos = check_zip(path, max_files, max_bytes)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    tmp.mkdir(parents=True)
    try:
        with zipfile.ZipFile(path) as zf:
            for i, info in enumerate(infos):
                if cancel is not None and cancel():
                    raise ZipRefused("unpacking was cancelled")
                if progress is not None and i % 32 == 0:
                    progress(i, len(infos), f"unpacking {info.filename}")
                dest = tmp.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
                if tmp.resolve() not in dest.resolve().parents and dest.resolve() != tmp.resolve():
                    raise ZipRefused(f"{info.filename!r} would land outside the folder")
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                _copy_member(zf, info, dest)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    # zipfile stops a member at its declared size and checks its CRC: a header that lies ends here, refused
    try:
        with zf.open(info) as src, open(dest, "wb") as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise ZipRefused(f"{info.filename!r} does not unpack as its header says ({e}); nothing was kept") from None


def find_dataset_in(folder: Path) -> Path:
    """The data.yaml or classification folder inside an unpacked archive (at its top, or one folder down)."""
    for base in [folder, *sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith((".", "__")))]:
        yamls = sorted(base.glob("*.yaml")) + sorted(base.glob("*.yml"))
        if len(yamls) == 1:
            return yamls[0]
        if (base / "train").is_dir() and ((base / "val").is_dir() or (base / "test").is_dir()):
            return base
    raise ZipRefused("the archive holds no data.yaml and no classification folder (train/ and val/)")
