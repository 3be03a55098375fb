"""The INT8 half of bench/predict_speed.py: each runtime's FP32 and INT8 ms per frame side by side, with the INT8
export's accuracy check (the agent's validator run on the .pt and on the INT8 artifact)."""

from __future__ import annotations

from typing import Any

PAIRS = (("OpenVINO", "openvino"), ("ONNX Runtime", "onnx"))
INT8_EXPORT_ARGS = {"imgsz": 640, "quantize": 8}  # calibrated on the model's own linked data set


def int8_table(ms: dict[str, float], exports: list[Any], pytorch_ms: float) -> dict[str, Any]:
    """Print and return, per runtime: FP32 ms, INT8 ms, their ratios to the .pt, and INT8's accuracy delta."""
    from app.exporters.int8 import INT8_SLOTS, accuracy_of

    rows = {e.format: e for e in exports}
    out: dict[str, Any] = {}
    print(f"\n{'runtime':<14}{'FP32 ms':>9}{'INT8 ms':>9}{'FP32 ×.pt':>11}{'INT8 ×.pt':>11}  INT8 accuracy (vs .pt)")
    for name, fmt in PAIRS:
        fp32, int8 = ms.get(name), ms.get(f"{name} INT8")
        rec = rows.get(INT8_SLOTS[fmt])
        check = accuracy_of(rec) if rec is not None else None
        said = check.text if check else (rec.error or rec.verification or rec.status) if rec else "no INT8 export"
        out[name] = {"fp32_ms": fp32, "int8_ms": int8,
                     "fp32_vs_pt": round(pytorch_ms / fp32, 2) if fp32 else None,
                     "int8_vs_pt": round(pytorch_ms / int8, 2) if int8 else None,
                     "int8_accuracy": check.__dict__ if check else None, "int8_said": said}
        cells = [f"{v:.1f}" if v else "—" for v in (fp32, int8)]
        ratios = [f"{out[name][k]}×" if out[name][k] else "—" for k in ("fp32_vs_pt", "int8_vs_pt")]
        print(f"{name:<14}{cells[0]:>9}{cells[1]:>9}{ratios[0]:>11}{ratios[1]:>11}  {said}")
    return out
