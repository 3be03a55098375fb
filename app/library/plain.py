"""Turn the inert objects of the restricted unpickler into JSON-safe plain values."""

from __future__ import annotations

import math
from typing import Any

from remote_agent.safe_pickle import Call, InertGlobal, InertObject, StorageRef, TensorRef, decode_scalar

_NAMESPACE_CLASSES = {"IterableSimpleNamespace", "SimpleNamespace", "Namespace"}
MAX_DEPTH = 40


def _datetime(call: Call) -> str | None:
    raw = call.args[0] if call.args else None
    if not isinstance(raw, bytes | bytearray) or len(raw) != 10:
        return None
    b = bytes(raw)
    y, mo, d, h, mi, s = b[0] * 256 + b[1], b[2], b[3], b[4], b[5], b[6]
    us = (b[7] << 16) | (b[8] << 8) | b[9]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{us:06d}"


def _call(call: Call, depth: int) -> Any:
    f = call.func
    if f.endswith("multiarray.scalar"):
        return _number(decode_scalar(call))
    if f.startswith(("pathlib.",)):
        return "/".join(str(a) for a in call.args if isinstance(a, str)).replace("//", "/")
    if f == "datetime.datetime":
        return _datetime(call)
    if f == "torch.device":
        return ":".join(str(a) for a in call.args)
    if f == "torch.Size":
        return plain(call.args[0], depth + 1) if call.args else []
    if f.endswith("multiarray._reconstruct") or f == "numpy.ndarray":
        return "<ndarray>"
    if f == "numpy.dtype":
        return str(call.args[0]) if call.args else "<dtype>"
    return f"<{f}>"


def _number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def plain(obj: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of ``obj``: dicts with string keys, lists, numbers, strings, None."""
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return _number(obj)
    if isinstance(obj, dict):
        return {str(plain(k, depth + 1)): plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "storage_type":
            return f"torch.{obj[1]}"
        return [plain(v, depth + 1) for v in obj]
    if isinstance(obj, bytes | bytearray):
        return f"<{len(obj)} bytes>"
    if isinstance(obj, TensorRef):
        return f"tensor({obj.dtype}, {list(obj.shape)})"
    if isinstance(obj, StorageRef):
        return f"storage({obj.dtype}, {obj.numel})"
    if isinstance(obj, Call):
        return _call(obj, depth)
    if isinstance(obj, InertGlobal):
        return f"<{obj.qualname}>"
    if isinstance(obj, InertObject):
        if obj._yd_name in _NAMESPACE_CLASSES:
            return plain(obj.attrs, depth + 1)
        if obj._yd_items is not None:
            return plain(obj._yd_items, depth + 1)
        args = obj._yd_args
        if len(args) == 1 and isinstance(args[0], int | str | float):
            return args[0]  # enums pickle as Class(value)
        return f"<{obj._yd_name}>"
    if isinstance(obj, complex | slice):
        return str(obj)
    return f"<{type(obj).__name__}>"
