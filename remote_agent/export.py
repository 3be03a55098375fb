"""An export job: ultralytics' exporter on a copy of the weights, then a check that the artifact runs and agrees.

Verification loads the artifact with ultralytics' own AutoBackend and compares its predictions with
the ``.pt`` on one fixed synthetic image at a low confidence threshold (so an untrained model still
yields boxes to compare): same number of top detections, same classes, boxes within a tolerance;
top-1 class for classification.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from remote_agent.events import Emitter
from remote_agent.gate import load_yolo
from remote_agent.int8_check import TOLERANCE_POINTS, accuracy_check
from remote_agent.train import CancelFlag

TOP_K = 5
BOX_TOL = 0.02  # of the image size
CONF_TOL = 0.05


def path_digest(path: Path) -> tuple[int, str]:
    """(bytes, sha256) of a file, or of a folder (its files' relative paths and contents, sorted)."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    size = 0
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
                size += len(block)
    return size, h.hexdigest()


def test_image(size: int, seed: int = 0) -> Any:
    """A fixed synthetic picture: coloured squares and discs on noise (the same every time)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    img = rng.integers(40, 90, size=(size, size, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(4):
        cx, cy, r = rng.uniform(0.2, 0.8) * size, rng.uniform(0.2, 0.8) * size, rng.uniform(0.08, 0.18) * size
        if i % 2:
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = (240, 120, 60)
        else:
            img[int(cy - r):int(cy + r), int(cx - r):int(cx + r)] = (60, 60, 230)
    return img


TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"


def write_tf_sample(folder: Path) -> Path:
    """onnx2tf's sample images (20 × 128 × 128 × 3, float32 in [0, 1]), made here rather than downloaded.

    ultralytics downloads this file before every TensorFlow export and onnx2tf reads it from the working
    folder, to check its conversion against ONNX Runtime and as fallback INT8 calibration; offline, both
    would fail. Our synthetic scenes serve both purposes (a real ``data=`` is still used for INT8 when given).
    """
    import numpy as np

    path = folder / TF_SAMPLE
    if not path.exists():
        batch = np.stack([test_image(128, seed) for seed in range(20)]).astype(np.float32) / 255.0
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, batch)
        tmp.replace(path)
    return path


def _summary(result: Any, task: str) -> dict[str, Any]:
    if task == "classify":
        return {"top1": int(result.probs.top1), "top1conf": float(result.probs.top1conf)}
    data = result.obb.data if task == "obb" and result.obb is not None else result.boxes.data
    rows = data.cpu().numpy().tolist() if data is not None else []
    rows.sort(key=lambda r: -r[-2])  # by confidence
    return {"rows": rows}


def compare(ref: dict[str, Any], got: dict[str, Any], task: str, imgsz: int) -> tuple[bool, str]:
    """Whether the export agrees with the .pt on the test image, and how closely."""
    if task == "classify":
        same = ref["top1"] == got["top1"] and abs(ref["top1conf"] - got["top1conf"]) <= CONF_TOL
        return same, f"top-1 class {got['top1']} vs {ref['top1']} (conf {got['top1conf']:.3f} vs {ref['top1conf']:.3f})"
    a, b = ref["rows"][:TOP_K], got["rows"]  # the .pt's strongest boxes, looked for among all of the export's
    if not a and not b:
        return True, "no detections from either model on the test image"
    n = min(len(a), len(b), TOP_K)
    if n == 0:
        weak = f", whose strongest has conf {a[0][-2]:.3f}: INT8 exports lose scores that low (a better trained " \
               "model verifies)" if a and not b and a[0][-2] < 0.05 else ""
        return False, f"{len(b)} detections from the export vs {len(a)} from the .pt{weak}"
    worst = 0.0
    for ra in a[:n]:  # each of the .pt's strongest boxes must have a twin in the export
        twins = [rb for rb in b if int(rb[-1]) == int(ra[-1]) and abs(rb[-2] - ra[-2]) <= CONF_TOL]
        if not twins:
            return False, f"a class-{int(ra[-1])} detection (conf {ra[-2]:.3f}) of the .pt is missing from the export"
        diff = min(max(abs(x - y) for x, y in zip(ra[:-2], rb[:-2], strict=False)) for rb in twins)
        worst = max(worst, diff)
    ok = worst <= BOX_TOL * imgsz
    return ok, f"top {n} detections match; largest box difference {worst:.2f} px (tolerance {BOX_TOL * imgsz:.1f} px)"


def verify(model: Any, artifact: Path, task: str, imgsz: int, fmt: str) -> dict[str, Any]:
    """Compare the export's predictions with those of ``model`` (the loaded .pt) on the test image."""
    from ultralytics import YOLO

    img = test_image(imgsz)
    kw = {"imgsz": imgsz, "conf": 0.001, "verbose": False, "device": "cpu"}
    try:
        ref = _summary(model.predict(img, **kw)[0], task)
    except Exception as e:  # the export stands; only the comparison is lost
        return {"verified": False, "detail": f"exported, not verified: the .pt did not run for comparison ({e})"[:300]}
    try:
        exported = YOLO(str(artifact), task=task)
        got = _summary(exported.predict(img, **kw)[0], task)
    except Exception as e:  # no runtime for it here (CoreML off macOS, an NPU format, …): say so, keep the export
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return {"verified": False, "detail": f"exported, not verified: no runtime on this platform ({first[:200]})"}
    ok, detail = compare(ref, got, task, imgsz)
    return {"verified": ok, "detail": detail}


def is_int8(fmt: str, args: dict[str, Any]) -> bool:
    """An INT8 export that runs on this CPU (ONNX Runtime or OpenVINO), whose accuracy the validator can check."""
    return fmt in ("onnx", "openvino") and str(args.get("quantize")) == "8"


def run_export(spec: dict[str, Any], emitter: Emitter, cancel: CancelFlag) -> tuple[str, dict[str, Any]]:
    """Export; return ("completed", result). Raises on failure (the caller emits ``failed``)."""
    args = dict(spec["args"])
    source = Path(args.pop("model"))
    fmt = args["format"]
    task = spec.get("task") or args.pop("task", None)
    run_dir = Path(spec["run_dir"])
    work = run_dir / "export"
    work.mkdir(parents=True, exist_ok=True)
    weights = work / "weights.pt"  # ultralytics writes next to the weights: keep that out of the library
    emitter.emit("progress", done=0, total=3, label="loading the model")
    model = load_yolo(source, trusted=spec.get("trusted_sha256") or (), copy_to=weights)  # the gate makes the copy
    task = task or model.task
    # Import torchvision now: ultralytics imports it lazily at the first predict, and after some vendor
    # compilers (DEEPX's dx_com) have left a module with a non-path __file__, torch's op registration fails.
    import torchvision  # noqa: F401
    imgsz = int(args.get("imgsz") or 640)
    if fmt in ("saved_model", "pb", "edgetpu"):
        write_tf_sample(Path.cwd())
    t0 = time.monotonic()
    emitter.emit("progress", done=1, total=3, label=f"exporting to {fmt}")
    out = model.export(**args)
    seconds = time.monotonic() - t0
    artifact = Path(out)
    if cancel.requested:
        return "cancelled", {"format": fmt}
    size, sha = path_digest(artifact)
    emitter.emit("artifact", path=str(artifact), size=size, sha256=sha, kind="export", format=fmt)
    emitter.emit("progress", done=2, total=3, label="verifying")
    if not spec.get("verify", True):
        verification: dict[str, Any] = {"verified": False, "detail": "not verified (verification switched off)"}
    elif is_int8(fmt, args):  # quantization error shows on real images only: the validator on both
        emitter.emit("progress", done=2, total=3, label="checking INT8 accuracy on the validation images")
        verification = accuracy_check(model, artifact, task, args, work,
                                      float(spec.get("int8_tolerance", TOLERANCE_POINTS)))
    else:
        verification = verify(model, artifact, task, imgsz, fmt)
    emitter.emit("progress", done=3, total=3, label="done")
    return "completed", {"format": fmt, "path": str(artifact), "size": size, "sha256": sha, "seconds": round(seconds, 2),
                         "task": task, **verification}
