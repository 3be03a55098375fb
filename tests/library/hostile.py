"""Crafted bad inputs for the checkpoint reader: hostile pickles wrapped as torch checkpoints, and junk."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path


def torch_zip(path: Path, data_pkl: bytes, name: str = "archive", compress: int = zipfile.ZIP_STORED) -> Path:
    """Write ``data_pkl`` in torch's zip layout (``archive/data.pkl``, version, byteorder)."""
    with zipfile.ZipFile(path, "w", compress) as z:
        z.writestr(f"{name}/data.pkl", data_pkl)
        z.writestr(f"{name}/.format_version", "1")
        z.writestr(f"{name}/byteorder", "little")
        z.writestr(f"{name}/version", "3\n")
    return path


class _Reduce:
    """Pickles as ``func(*args)``: what a hostile checkpoint does."""

    def __init__(self, func, args):  # noqa: ANN001
        self.func, self.args = func, args

    def __reduce__(self):  # noqa: ANN204
        return self.func, self.args


def hostile_payloads(marker: Path) -> dict[str, bytes]:
    """Pickles that would create ``marker`` if any unpickler ran their code."""
    import builtins
    import importlib
    import os
    import subprocess

    touch = f"open({str(marker)!r}, 'w').write('pwned')"
    shell = f"touch {marker}"
    inner = {
        "os.system": _Reduce(os.system, (shell,)),
        "builtins.exec": _Reduce(builtins.exec, (touch,)),
        "builtins.eval": _Reduce(builtins.eval, (touch,)),
        "subprocess.Popen": _Reduce(subprocess.Popen, (["touch", str(marker)],)),
        "subprocess.check_output": _Reduce(subprocess.check_output, (["touch", str(marker)],)),
        "importlib.import_module": _Reduce(importlib.import_module, ("antigravity",)),
        "builtins.__import__": _Reduce(builtins.__import__, ("os",)),
        "getattr-chain": _Reduce(builtins.getattr, (_Reduce(builtins.__import__, ("os",)), "system")),
        "posix.system": _Reduce(os.system, (shell,)),
    }
    out = {}
    for name, payload in inner.items():
        # Hidden where a checkpoint keeps its model, next to honest-looking keys.
        ckpt = {"epoch": -1, "date": "2025-01-01", "version": "8.3.0", "model": payload, "train_args": {"task": "detect"}}
        out[name] = pickle.dumps(ckpt, protocol=2)
    return out


def write_junk(folder: Path, good_checkpoint: Path) -> dict[str, Path]:
    """Files that are not checkpoints at all."""
    import os

    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "empty": folder / "empty.pt",
        "random": folder / "random.pt",
        "text": folder / "notes.pt",
        "truncated": folder / "truncated.pt",
        "zip_without_pickle": folder / "other_zip.pt",
    }
    files["empty"].write_bytes(b"")
    files["random"].write_bytes(os.urandom(4096))
    files["text"].write_text("these are my training notes, not weights\n" * 20)
    blob = good_checkpoint.read_bytes()
    files["truncated"].write_bytes(blob[: len(blob) // 2])
    with zipfile.ZipFile(files["zip_without_pickle"], "w") as z:
        z.writestr("readme.txt", "hello")
    return files
