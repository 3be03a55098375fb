"""The accuracy check of an INT8 export: ultralytics' validator on the ``.pt`` and on the artifact, side by side.

One synthetic picture says nothing about quantization error, so an INT8 export is judged on the model's own
validation images (the data set it was calibrated on): mAP50 within ``tolerance`` points of the ``.pt``
(top-1 accuracy for classify), both run with the same imgsz, conf and IoU. The agent imports nothing from ``app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

TOLERANCE_POINTS = 1.0  # mAP50 (or top-1) may move by at most one point (0.01) from the .pt's
VAL_CONF = 0.001  # ultralytics' own val defaults, given explicitly so both runs surely share them
VAL_IOU = 0.7
METRIC_KEYS = {"classify": ("top-1", "metrics/accuracy_top1")}
DEFAULT_METRIC = ("mAP50", "metrics/mAP50(B)")  # detect, segment, pose, obb: the boxes' mAP50


def _metric(results: Any, key: str) -> float:
    """One figure of a validator's ``results_dict`` (ultralytics' names for its metrics)."""
    figures = getattr(results, "results_dict", None) or {}
    if key not in figures:
        raise KeyError(f"the validator reported no {key!r} (it reported {', '.join(figures) or 'nothing'})")
    return float(figures[key])


def accuracy_check(model: Any, artifact: Path, task: str, args: dict[str, Any], work: Path,
                   tolerance: float = TOLERANCE_POINTS) -> dict[str, Any]:
    """Validate the loaded ``.pt`` and the INT8 ``artifact`` on ``args['data']``; the verify result with both figures.

    ``verified`` is True only when the two figures are within ``tolerance`` points; the export is kept either way.
    """
    from ultralytics import YOLO

    name, key = METRIC_KEYS.get(task, DEFAULT_METRIC)
    data = args.get("data")
    if not data:
        return {"verified": False, "detail": "INT8 export not checked: no validation data set was given"}
    kw = {"data": str(data), "imgsz": int(args.get("imgsz") or 640), "batch": 1, "conf": VAL_CONF, "iou": VAL_IOU,
          "device": "cpu", "plots": False, "verbose": False, "workers": 0, "project": str(work), "exist_ok": True}
    try:
        ref = _metric(model.val(name="val_pt", **kw), key)
    except Exception as e:  # noqa: BLE001 — the export stands; only the comparison is lost
        return {"verified": False, "detail": f"INT8 export not checked: the .pt did not validate ({e})"[:300]}
    try:
        got = _metric(YOLO(str(artifact), task=task).val(name="val_int8", **kw), key)
    except Exception as e:  # noqa: BLE001 — no runtime for it here: say so, keep the export
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return {"verified": False, "detail": f"INT8 export not checked: it did not validate here ({first[:200]})"}
    delta = (got - ref) * 100
    accurate = abs(delta) <= tolerance
    record = {"metric": name, "pt": round(ref, 4), "int8": round(got, 4), "delta_points": round(delta, 2),
              "tolerance_points": tolerance, "accurate": accurate, "data": str(data), "imgsz": kw["imgsz"],
              "conf": VAL_CONF, "iou": VAL_IOU}
    return {"verified": accurate, "detail": accuracy_text(record), "accuracy": record}


def accuracy_text(record: dict[str, Any]) -> str:
    """"INT8 · mAP50 0.512 vs 0.519 (−0.7)", with "not accurate enough" when the check failed."""
    delta = float(record["delta_points"])
    sign = "±" if round(abs(delta), 1) == 0 else ("−" if delta < 0 else "+")
    text = f"INT8 · {record['metric']} {record['int8']:.3f} vs {record['pt']:.3f} ({sign}{abs(delta):.1f})"
    if not record.get("accurate"):
        text += f" · not accurate enough (tolerance {float(record['tolerance_points']):g} point)"
    return text
