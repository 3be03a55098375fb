"""Export arguments checked before a job exists: the format's own arguments (the registry) and their types.

ultralytics would accept ``imgsz=0``, ``imgsz=33`` (rounded), ``batch=0`` or ``fraction=5`` and export something,
and fail with a traceback on ``imgsz=-32``, ``opset=999`` or ``dynamic=maybe``; each is refused here with the
field and the reason (:class:`ExportArgsError`, a :class:`LibraryError` so every caller already shows it).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from app.exporters.registry import ARGS, ExportFormat
from app.jobs.args_check import check_device, check_imgsz
from app.library.repository import LibraryError
from remote_agent.data_check import unsafe_data_reason

MIN_OPSET = 7  # the lowest any model takes (classification); detection needs 9, nms=True 11 (exporter.py)


class ExportArgsError(LibraryError):
    """Export arguments refused, per field (``imgsz``, ``opset``…)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def onnx_max_opset() -> int | None:
    """The newest opset the installed onnx knows (ultralytics caps its default at it); None without onnx."""
    try:
        import onnx.defs
    except ImportError:
        return None
    return int(onnx.defs.onnx_opset_version())


def _whole(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_opset(value: Any, task: str | None = None, nms: bool = False) -> str | None:
    """A whole opset between what this model needs and what the installed onnx (and the registry) allow."""
    if not _whole(value):
        return f"opset must be a whole number, not {value!r}"
    low = {"classify": MIN_OPSET, "depth": 11}.get(task or "", 11 if nms else 9) if task else MIN_OPSET
    newest = onnx_max_opset()
    high = min(int(ARGS["opset"].maximum or 99), newest) if newest else int(ARGS["opset"].maximum or 99)
    if not low <= int(value) <= high:
        return f"opset must be between {low} and {high} (the newest the installed onnx supports), not {int(value)}"
    return None


def _check_one(name: str, value: Any, task: str | None, args: dict[str, Any], stride: int) -> str | None:
    spec = ARGS[name]
    if name == "imgsz":
        if isinstance(value, (list, tuple)):  # ultralytics takes [height, width] for exports
            if len(value) != 2:
                return "image size is one number or [height, width]"
            return next((why for why in (check_imgsz(v, stride) for v in value) if why), None)
        return check_imgsz(value, stride)
    if name == "opset":
        return check_opset(value, task, bool(args.get("nms")))
    if name == "data":
        if not isinstance(value, str) or not value:
            return f"data must be the path of a data.yaml, not {value!r}"
        if "://" not in value and not Path(value).expanduser().exists():
            return f"{value} does not exist (calibration images must be on this machine)"
        return unsafe_data_reason(value)
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false, not {value!r}"
    if spec.kind == "int":
        if not _whole(value):
            return f"{name} must be a whole number, not {value!r}"
    elif spec.kind == "float" and not _number(value):
        return f"{name} must be a number, not {value!r}"
    if spec.kind in ("int", "float"):
        low, high = spec.minimum, spec.maximum
        if name == "fraction" and not 0 < value <= 1:
            return f"fraction is the share of the calibration images to use, in (0, 1], not {value}"
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{name} must be between {low:g} and {high:g}, not {value}"
    if spec.kind == "str" and not isinstance(value, str):
        return f"{name} must be text, not {value!r}"
    return None


def export_args_problems(fmt: ExportFormat, args: dict[str, Any], task: str | None = None,
                         stride: int = 32) -> dict[str, str]:
    """Why each of ``args`` cannot go to a ``fmt`` export (unknown to the format, wrong type, out of range)."""
    allowed = ("imgsz", "device", *fmt.args)
    problems: dict[str, str] = {}
    for name, value in args.items():
        if value is None:
            continue  # not given: the format's default
        if name not in allowed:
            near = difflib.get_close_matches(name, allowed, n=2)
            hint = f"; did you mean {' or '.join(near)}?" if near else ""
            problems[name] = f"{fmt.name} export does not take {name} (it takes {', '.join(allowed)}){hint}"
        elif name == "device":
            why = check_device(value)  # this machine's; a worker's device is checked by worker_can_export
            if why:
                problems[name] = why
        elif (why := _check_one(name, value, task, args, stride)) is not None:
            problems[name] = why
    return problems


def check_export_args(fmt: ExportFormat, args: dict[str, Any], task: str | None = None, worker: str = "local",
                      stride: int = 32) -> None:
    """Raise :class:`ExportArgsError` naming each refused argument; nothing is queued then."""
    checked = dict(args)
    if worker != "local":
        checked.pop("device", None)  # the worker's own GPUs decide (worker_can_export)
    problems = export_args_problems(fmt, checked, task, stride)
    if problems:
        raise ExportArgsError(problems)
