"""INT8 exports that run on a CPU: OpenVINO (NNCF post-training quantization) and ONNX Runtime (static quantization).

Both are calibrated on the model's own linked data set (never a download) and checked by the agent against the
``.pt`` on that data set's validation images (``remote_agent/int8_check.py``). An INT8 export lives beside the
FP32 one of its format: its row's format and its folder are ``onnx-int8`` / ``openvino-int8``, and its row's args
keep the check's figures under ``accuracy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remote_agent.int8_check import TOLERANCE_POINTS, accuracy_text

INT8_SLOTS = {"onnx": "onnx-int8", "openvino": "openvino-int8"}  # ultralytics' format → the library's row format
SLOT_FORMAT = {slot: fmt for fmt, slot in INT8_SLOTS.items()}
ACCURACY_KEY = "accuracy"

__all__ = ["ACCURACY_KEY", "INT8_SLOTS", "SLOT_FORMAT", "TOLERANCE_POINTS", "AccuracyCheck", "Int8Refused",
           "accuracy_of", "calibration_data", "cell_text", "is_int8", "row_format", "row_text"]


class Int8Refused(ValueError):
    """An INT8 export that cannot be calibrated and checked here; the message says why and what to do."""


def is_int8(fmt: str, args: dict[str, Any]) -> bool:
    """True for ``quantize=8`` on a format whose INT8 export runs on this CPU (ONNX, OpenVINO)."""
    return fmt in INT8_SLOTS and str(args.get("quantize")) == "8"


def row_format(fmt: str, args: dict[str, Any]) -> str:
    """The export row's format (and folder name): ``onnx-int8`` for an INT8 ONNX export, else ``fmt``."""
    return INT8_SLOTS[fmt] if is_int8(fmt, args) else fmt


def calibration_data(model_name: str, dataset_location: str | None, given: str | None) -> str:
    """The data set an INT8 export calibrates and is checked on: ``given`` or the model's own; refused otherwise."""
    if given:  # the user's own data.yaml (it may live on the worker that exports)
        return str(given)
    where = dataset_location
    if not where:
        raise Int8Refused(f"INT8 export of {model_name!r} needs its data set to calibrate and to check accuracy, and "
                          "it has none linked: link one on the model page, or give data=… (a data.yaml on this "
                          "machine)")
    if not Path(where).exists():
        raise Int8Refused(f"INT8 export of {model_name!r} needs its data set to calibrate and to check accuracy, and "
                          f"{where} is not on this machine (INT8 never downloads one): give data=… (a data.yaml here)")
    return str(where)


@dataclass(frozen=True)
class AccuracyCheck:
    """The INT8 export's figure and the ``.pt``'s on the same validation images (mAP50, or top-1 for classify)."""

    metric: str
    pt: float
    int8: float
    delta_points: float
    tolerance_points: float
    accurate: bool

    @property
    def text(self) -> str:
        """"INT8 · mAP50 0.512 vs 0.519 (−0.7)" (and "not accurate enough" outside the tolerance)."""
        return accuracy_text(self.__dict__)


def accuracy_of(export: Any) -> AccuracyCheck | None:
    """The accuracy check stored with an export row (an ExportRecord), or None (not INT8, not checked, damaged)."""
    record = (export.args or {}).get(ACCURACY_KEY) if isinstance(export.args, dict) else None
    if not isinstance(record, dict):
        return None
    try:
        return AccuracyCheck(str(record["metric"]), float(record["pt"]), float(record["int8"]),
                             float(record["delta_points"]), float(record["tolerance_points"]), bool(record["accurate"]))
    except (KeyError, TypeError, ValueError):
        return None


def row_text(export: Any) -> str:
    """What an INT8 export's row says: its check's figures, or its state ("INT8 · Running", "INT8 · Failed")."""
    check = accuracy_of(export)
    if export.status != "Completed":
        return f"INT8 · {export.status}"
    return check.text if check else (export.verification or "INT8 · not checked")


def cell_text(export: Any) -> str:
    """The INT8 export in a narrow table cell: "INT8 −0.7" (its mAP50 / top-1 change in points), "✗" when inaccurate."""
    check = accuracy_of(export)
    if export.status != "Completed":
        return f"INT8 {export.status.lower()}"
    if check is None:
        return "INT8 unchecked"
    delta = round(check.delta_points, 1)
    sign = "±" if delta == 0 else ("−" if delta < 0 else "+")
    return f"INT8 {sign}{abs(delta):.1f}" + ("" if check.accurate else " ✗")
