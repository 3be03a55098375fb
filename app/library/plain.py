"""Turn the inert objects of the restricted unpickler into JSON-safe plain values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from remote_agent.checkpoint_scan import CheckpointError
from remote_agent.safe_pickle import Call, InertGlobal, InertObject, StorageRef, TensorRef, decode_scalar

_NAMESPACE_CLASSES = {"IterableSimpleNamespace", "SimpleNamespace", "Namespace"}
MAX_DEPTH = 40
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what SQLite stores; larger integers are dropped


@dataclass
class PlainBudget:
    """Work left for turning one checkpoint into plain values: a memo reference repeated a million times, or a
    list nested in itself, must cost what it expands to, not what it weighs in the pickle."""

    values: int = 500_000  # measured: a yolo26n best.pt's metadata is ~3 k values
    chars: int = 16_000_000
    dropped_ints: int = 0

    def spend(self, values: int = 1, chars: int = 0) -> None:
        """Count work done; refuse the checkpoint once it expands beyond the budget."""
        self.values -= values
        self.chars -= chars
        if self.values < 0 or self.chars < 0:
            raise CheckpointError(
                "too_large", "refused: the checkpoint's metadata expands to far more values than a checkpoint holds"
            )


def _int(v: int, budget: PlainBudget | None) -> int | None:
    if INT64_MIN <= v <= INT64_MAX:
        return v
    if budget is not None:
        budget.dropped_ints += 1
    return None


def _datetime(call: Call) -> str | None:
    raw = call.args[0] if call.args else None
    if not isinstance(raw, bytes | bytearray) or len(raw) != 10:
        return None
    b = bytes(raw)
    y, mo, d, h, mi, s = b[0] * 256 + b[1], b[2], b[3], b[4], b[5], b[6]
    us = (b[7] << 16) | (b[8] << 8) | b[9]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{us:06d}"


def _call(call: Call, depth: int, budget: PlainBudget | None) -> Any:
    f = call.func
    if f.endswith("multiarray.scalar"):
        return _number(decode_scalar(call), budget)
    if f.startswith(("pathlib.",)):
        return "/".join(str(a) for a in call.args if isinstance(a, str)).replace("//", "/")
    if f == "datetime.datetime":
        return _datetime(call)
    if f == "torch.device":
        return ":".join(str(plain(a, depth + 1, budget)) for a in call.args)
    if f == "torch.Size":
        return plain(call.args[0], depth + 1, budget) if call.args else []
    if f.endswith("multiarray._reconstruct") or f == "numpy.ndarray":
        return "<ndarray>"
    if f == "numpy.dtype":
        return str(plain(call.args[0], depth + 1, budget)) if call.args else "<dtype>"
    return f"<{f}>"


def _number(v: Any, budget: PlainBudget | None = None) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return _int(v, budget)
    return v


def plain(obj: Any, depth: int = 0, budget: PlainBudget | None = None) -> Any:
    """A JSON-safe copy of ``obj``: dicts with string keys, lists, numbers, strings, None.

    Integers outside SQLite's 64-bit range become None (counted in ``budget.dropped_ints``); pass one ``budget``
    for all of a checkpoint so that its total work is capped.
    """
    if budget is None:
        budget = PlainBudget()
    budget.spend()
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        return _int(obj, budget)
    if isinstance(obj, str):
        budget.spend(0, len(obj))
        return obj
    if isinstance(obj, float):
        return _number(obj)
    if isinstance(obj, dict):
        return {str(plain(k, depth + 1, budget)): plain(v, depth + 1, budget) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "storage_type":
            return f"torch.{obj[1]}"
        return [plain(v, depth + 1, budget) for v in obj]
    if isinstance(obj, bytes | bytearray):
        return f"<{len(obj)} bytes>"
    if isinstance(obj, TensorRef):
        budget.spend(len(obj.shape))
        return f"tensor({obj.dtype}, {[_int(s, budget) if isinstance(s, int) else s for s in obj.shape]})"
    if isinstance(obj, StorageRef):
        return f"storage({obj.dtype}, {_int(obj.numel, budget)})"
    if isinstance(obj, Call):
        budget.spend(len(obj.args))
        return _call(obj, depth, budget)
    if isinstance(obj, InertGlobal):
        return f"<{obj.qualname}>"
    if isinstance(obj, InertObject):
        if obj._yd_name in _NAMESPACE_CLASSES:
            return plain(obj.attrs, depth + 1, budget)
        if obj._yd_items is not None:
            return plain(obj._yd_items, depth + 1, budget)
        args = obj._yd_args
        if len(args) == 1 and isinstance(args[0], int | str | float):
            return plain(args[0], depth + 1, budget)  # enums pickle as Class(value)
        return f"<{obj._yd_name}>"
    if isinstance(obj, complex | slice):
        return "<complex>" if isinstance(obj, complex) else "<slice>"
    return f"<{type(obj).__name__}>"
