"""The first, shared step of reading a ``.pt``: open the torch zip and get ``data.pkl`` out of it safely.

Lives in the agent so that every process of ours that opens a checkpoint — the app's inspector and the
agent's loading gate, locally or on a worker — decides on the same code (``remote_agent`` imports nothing
of ``app``). No torch import, no code from the pickle.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remote_agent.safe_pickle import MAX_PICKLE_BYTES, PickleRefused, restricted_load

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


def scan_checkpoint(path: str | os.PathLike[str]) -> ScanResult:
    """One full safety verdict on the ``.pt`` at ``path``; raise :class:`CheckpointError` when it must not be loaded.

    The app's inspector and the agent's loading gate both call this, so their verdicts agree.
    """
    path = Path(path)
    data, zf, pkl_name = read_data_pkl(path)
    try:
        try:
            ckpt, stats = restricted_load(data)
        except PickleRefused as e:
            if e.code == "malformed":
                raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: {e.message}") from e
            raise CheckpointError(e.code, e.message) from e
        prefix = pkl_name.rsplit("/", 1)[0]
        missing = [k for k in stats.storages if f"{prefix}/data/{k}" not in zf.NameToInfo]
        if missing:
            raise CheckpointError(
                "not_checkpoint", f"not a usable checkpoint: {len(missing)} weight records are missing (truncated file?)"
            )
    finally:
        zf.close()
    return ScanResult(ckpt, stats.globals, pkl_name, stats.storages)


def read_data_pkl(path: Path) -> tuple[bytes, zipfile.ZipFile, str]:
    """Open the torch zip at ``path`` and return its ``data.pkl`` bytes, the open zip and the member's name."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except FileNotFoundError as e:
        raise CheckpointError("missing", "the file is gone (moved or deleted before it could be read)") from e
    except IsADirectoryError as e:
        raise CheckpointError("not_checkpoint", "not a PyTorch checkpoint: it is a folder") from e
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
            _scan_plain_pickle(path)
        raise CheckpointError("not_checkpoint", "not a PyTorch checkpoint: " + _describe_foreign(head))
    try:
        zf = zipfile.ZipFile(path)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: a damaged or truncated zip ({e})") from e
    pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pkl:
        zf.close()
        raise CheckpointError("not_checkpoint", "not a PyTorch checkpoint: a zip archive without data.pkl")
    if any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names):
        zf.close()
        raise CheckpointError(
            "torchscript", "a TorchScript model, not a checkpoint: it holds compiled code and no YOLO metadata; "
            "add the .pt it was exported from instead",
        )
    info = zf.getinfo(pkl[0])
    if info.file_size > MAX_PICKLE_BYTES:
        zf.close()
        raise CheckpointError(
            "too_large", f"refused: its pickle is {info.file_size / 1e6:.0f} MB, a checkpoint's is far under "
            f"{MAX_PICKLE_BYTES // 2**20} MB",
        )
    try:
        with zf.open(info) as f:
            data = f.read(MAX_PICKLE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        zf.close()
        raise CheckpointError("not_checkpoint", f"not a PyTorch checkpoint: a damaged or truncated zip ({e})") from e
    return data, zf, info.filename


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


def _scan_plain_pickle(path: Path) -> None:
    """A bare pickle named .pt: refuse it as code if it is hostile, else let the caller say 'not a checkpoint'."""
    with open(path, "rb") as f:
        data = f.read(MAX_PICKLE_BYTES + 1)
    try:
        restricted_load(data)
    except PickleRefused as e:
        if e.code == "executable_code":
            raise CheckpointError("executable_code", e.message) from e
