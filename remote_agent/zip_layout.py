"""One reading of a torch zip: refuse any layout on which two zip readers could see different members.

Python's ``zipfile`` and torch's ``PyTorchFileReader`` (miniz) disagree on ambiguous archives: for a duplicate
name zipfile returns the last entry and torch the first; zipfile shifts offsets of a zip glued after other data,
miniz does not. A checkpoint torch wrote has none of that, so every ambiguity is refused instead of resolved:
one record prefix (torch's archive name, taken from the first entry), unique names, every local header equal to
its central-directory entry, member data inside the file and not overlapping, the central directory right
before the end records.
"""

from __future__ import annotations

import os
import struct
import zipfile
from typing import BinaryIO

MAX_MEMBERS = 100_000  # a YOLO checkpoint has one record per tensor: ~700 for yolo26n, a few thousand for x scales

_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # local file header, 30 bytes
_EOCD = struct.Struct("<4sHHHHIIH")  # end of central directory, 22 bytes
_ZIP64_LOCATOR = struct.Struct("<4sIQI")  # 20 bytes
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")  # 56 bytes
_FLAG_ENCRYPTED = 0x1
_FLAG_DATA_DESCRIPTOR = 0x8
_FLAG_UTF8 = 0x800


class ZipLayoutError(Exception):
    """The zip's layout is ambiguous or lies about itself."""


def _central_directory_span(f: BinaryIO, size: int) -> tuple[int, int]:
    """Offset and size of the central directory as the end records state them (torch writes no comment)."""
    if size < _EOCD.size:
        raise ZipLayoutError("the file is too short to be a zip archive")
    eocd = os.pread(f.fileno(), _EOCD.size, size - _EOCD.size)
    sig, _, _, _, _, cd_size, cd_offset, comment_len = _EOCD.unpack(eocd)
    if sig != b"PK\x05\x06" or comment_len:
        raise ZipLayoutError("the zip's end record is not at the end of the file (a comment or data after it)")
    end = size - _EOCD.size
    locator_at = end - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        loc = _ZIP64_LOCATOR.unpack(os.pread(f.fileno(), _ZIP64_LOCATOR.size, locator_at))
        if loc[0] == b"PK\x06\x07":
            z64_at = loc[2]
            if z64_at + _ZIP64_EOCD.size > locator_at:
                raise ZipLayoutError("the zip64 end record lies outside the file")
            z64 = _ZIP64_EOCD.unpack(os.pread(f.fileno(), _ZIP64_EOCD.size, z64_at))
            if z64[0] != b"PK\x06\x06":
                raise ZipLayoutError("the zip64 locator points at no zip64 end record")
            cd_size, cd_offset, end = z64[8], z64[9], z64_at
    if cd_offset + cd_size != end:
        raise ZipLayoutError("the central directory is not where the end record says (data glued before the zip?)")
    return cd_offset, cd_size


def _decode_name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & _FLAG_UTF8 else "cp437")


def check_zip_layout(f: BinaryIO, zf: zipfile.ZipFile, size: int) -> str:
    """Check ``zf`` (opened on ``f``, ``size`` bytes) has exactly one reading; return its record prefix."""
    cd_offset, _ = _central_directory_span(f, size)
    if zf.start_dir != cd_offset:
        raise ZipLayoutError("the zip's offsets are shifted (data glued before the archive)")
    infos = zf.infolist()
    if not infos:
        raise ZipLayoutError("the zip archive is empty")
    if len(infos) > MAX_MEMBERS:
        raise ZipLayoutError(f"the zip holds {len(infos):,} members, far more than a checkpoint")
    prefix = infos[0].orig_filename.split("/", 1)[0]
    if not prefix or "/" not in infos[0].orig_filename:
        raise ZipLayoutError("the zip's first member is not inside a record folder, as torch requires")
    names: set[str] = set()
    spans: list[tuple[int, int, str]] = []
    fd = f.fileno()
    for info in infos:
        name = info.orig_filename
        if "\x00" in name:  # zipfile cuts the name at the NUL, torch's reader does not: two readings of one entry
            raise ZipLayoutError(f"the member name {name!r} holds a NUL byte")
        if name in names:
            raise ZipLayoutError(f"the zip holds two members named {name!r} (readers disagree on which is used)")
        names.add(name)
        if not name.startswith(prefix + "/"):
            raise ZipLayoutError(f"the zip holds more than one record folder ({prefix!r} and {name.split('/')[0]!r})")
        if info.flag_bits & _FLAG_ENCRYPTED:
            raise ZipLayoutError(f"the member {name!r} is encrypted")
        # header and name in one read: the local name's length should be the directory's
        header = os.pread(fd, _LOCAL.size + len(info.orig_filename.encode("utf-8")) * 2, info.header_offset)
        if len(header) < _LOCAL.size:
            raise ZipLayoutError(f"the member {name!r} starts beyond the end of the file")
        sig, _, flags, method, _, _, crc, csize, usize, name_len, extra_len = _LOCAL.unpack_from(header)
        if sig != b"PK\x03\x04":
            raise ZipLayoutError(f"the central directory points at no local header for {name!r}")
        local_name = _decode_name(header[_LOCAL.size:_LOCAL.size + name_len], flags)
        if local_name != name:
            raise ZipLayoutError(f"the local header names {local_name!r} where the directory says {name!r}")
        if method != info.compress_type:
            raise ZipLayoutError(f"the local header of {name!r} disagrees with the directory on its compression")
        if not flags & _FLAG_DATA_DESCRIPTOR and (crc, csize & 0xFFFFFFFF, usize & 0xFFFFFFFF) != (
            info.CRC, info.compress_size, info.file_size
        ) and (csize, usize) != (0xFFFFFFFF, 0xFFFFFFFF):
            raise ZipLayoutError(f"the local header of {name!r} disagrees with the directory on its size or CRC")
        data_end = info.header_offset + _LOCAL.size + name_len + extra_len + info.compress_size
        if data_end > cd_offset:
            raise ZipLayoutError(f"the data of {name!r} runs past the archive's directory (beyond the file?)")
        spans.append((info.header_offset, data_end, name))
    spans.sort()
    for (_, end, name), (start, _, other) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ZipLayoutError(f"the members {name!r} and {other!r} overlap")
    return prefix
