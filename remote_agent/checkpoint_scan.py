"""The first, shared step of reading a ``.pt``: open the torch zip and get ``data.pkl`` out of it safely.

Lives in the agent so that every process of ours that opens a checkpoint — the app's inspector and the
agent's loading gate, locally or on a worker — decides on the same code (``remote_agent`` imports nothing
of ``app``). No torch import, no code from the pickle.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from remote_agent.safe_pickle import MAX_PICKLE_BYTES, PickleRefused, restricted_load
from remote_agent.zip_layout import ZipLayoutError, check_zip_layout

LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."  # pickled torch magic number, pre-1.6 files


class CheckpointError(Exception):
    """A ``.pt`` that cannot be added, with a verdict code and the message a user sees."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass
class ScanResult:
    """What a safe scan of a checkpoint found: the inert object tree and what its pickle named."""

    ckpt: Any
    globals: set[str] = field(default_factory=set)
    pkl_name: str = ""
    storages: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what ultralytics would do with its fields, not refused


def scan_checkpoint(path: str | os.PathLike[str]) -> ScanResult:
    """One full safety verdict on the ``.pt`` at ``path``; raise :class:`CheckpointError` when it must not be loaded.

    The app's inspector and the agent's loading gate both call this, so their verdicts agree: a regular file,
    a zip with one reading, a pickle within bounds that references no code and constructs no class with
    arguments, and a model config ultralytics would build without evaluating anything.
    """
    path = Path(path)
    data, members, pkl_name = read_data_pkl(path)
    try:
        ckpt, stats = restricted_load(data)
    except PickleRefused as e:
        if e.code == "malformed":
            raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: {e.message}") from e
        raise CheckpointError(e.code, e.message) from e
    prefix = pkl_name.rsplit("/", 1)[0]
    missing = [k for k in stats.storages if f"{prefix}/data/{k}" not in members]
    if missing:
        raise CheckpointError(
            "not_checkpoint", f"not a usable checkpoint: {len(missing)} weight records are missing (truncated file?)"
        )
    from remote_agent.checkpoint_fields import check_checkpoint_fields  # both import this module's CheckpointError
    from remote_agent.model_config import check_checkpoint_configs

    check_checkpoint_configs(ckpt)
    warnings = check_checkpoint_fields(ckpt)
    return ScanResult(ckpt, stats.globals, pkl_name, stats.storages, warnings)


def open_regular_file(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file: a FIFO, device, socket or folder is refused unread."""
    try:
        st = os.stat(path)
    except FileNotFoundError as e:
        raise CheckpointError("missing", "the file is gone (moved or deleted before it could be read)") from e
    except (OSError, ValueError) as e:
        raise CheckpointError("unreadable", f"cannot read the file: {getattr(e, 'strerror', None) or e}") from e
    _require_regular(st.st_mode)
    try:
        # O_NONBLOCK: a FIFO swapped in after the stat cannot block the open; fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError as e:
        raise CheckpointError("missing", "the file is gone (moved or deleted before it could be read)") from e
    except OSError as e:
        raise CheckpointError("unreadable", f"cannot read the file: {e.strerror or e}") from e
    try:
        _require_regular(os.fstat(fd).st_mode)
    except CheckpointError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _require_regular(mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "not a regular file")
    raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: it is {kind}, not a regular file")


def read_data_pkl(path: Path) -> tuple[bytes, set[str], str]:
    """Read the torch zip at ``path`` once: its ``data.pkl`` bytes, its member names and the pickle's member name."""
    with open_regular_file(path) as f:
        try:
            head = f.read(64)
            size = os.fstat(f.fileno()).st_size
        except OSError as e:
            raise CheckpointError("unreadable", f"cannot read the file: {e.strerror or e}") from e
        if not head:
            raise CheckpointError("not_checkpoint", "not a PyTorch checkpoint: the file is empty")
        if head.startswith(LEGACY_MAGIC):
            raise CheckpointError(
                "legacy_format",
                "a legacy PyTorch file (saved by torch < 1.6, not a zip archive): load and re-save it with a current "
                "torch before adding it",
            )
        if not head.startswith(b"PK\x03\x04"):
            if head[:1] == b"\x80":
                _scan_plain_pickle(f)
            raise CheckpointError("not_checkpoint", "not a PyTorch checkpoint: " + _describe_foreign(head))
        try:
            f.seek(0)
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: a damaged or truncated zip ({e})") from e
        with zf:
            return _read_member(f, zf, size)


def _read_member(f: BinaryIO, zf: zipfile.ZipFile, size: int) -> tuple[bytes, set[str], str]:
    names = zf.namelist()
    if not any(n.endswith("/data.pkl") for n in names):
        raise CheckpointError("not_checkpoint", "not a PyTorch checkpoint: a zip archive without data.pkl")
    try:
        prefix = check_zip_layout(f, zf, size)
    except ZipLayoutError as e:
        raise CheckpointError("ambiguous_zip", f"refused: {e} — a checkpoint torch wrote never looks like this") from e
    except (OSError, struct.error, UnicodeDecodeError) as e:
        raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: a damaged zip ({e})") from e
    if f"{prefix}/constants.pkl" in zf.NameToInfo and any(n.startswith(f"{prefix}/code/") for n in names):
        raise CheckpointError(
            "torchscript", "a TorchScript model, not a checkpoint: it holds compiled code and no YOLO metadata; "
            "add the .pt it was exported from instead",
        )
    info = zf.NameToInfo.get(f"{prefix}/data.pkl")  # exactly the record torch's reader opens
    if info is None:
        raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: no {prefix}/data.pkl in the zip")
    if info.file_size > MAX_PICKLE_BYTES:
        raise CheckpointError(
            "too_large", f"refused: its pickle is {info.file_size / 1e6:.0f} MB, a checkpoint's is far under "
            f"{MAX_PICKLE_BYTES // 2**20} MB",
        )
    try:
        with zf.open(info) as member:
            data = member.read(MAX_PICKLE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: a damaged or truncated zip ({e})") from e
    return data, set(names), info.filename


def _describe_foreign(head: bytes) -> str:
    if head[:1] == b"\x80":
        return "a plain Python pickle, not a torch archive"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file (Keras?)"
    if head.startswith(b"\x08") or head[:4] in (b"ONNX",):
        return "it looks like an ONNX or protobuf file"
    try:
        head.decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "unrecognised binary data"


def _scan_plain_pickle(f: BinaryIO) -> None:
    """A bare pickle named .pt: refuse it as code if it is hostile, else let the caller say 'not a checkpoint'."""
    f.seek(0)
    data = f.read(MAX_PICKLE_BYTES + 1)
    try:
        restricted_load(data)
    except PickleRefused as e:
        if e.code == "executable_code":
            raise CheckpointError("executable_code", e.message) from e
