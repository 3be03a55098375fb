"""INT8 accuracy on a model that has learnt something: FP32 vs INT8 mAP50 and ms per frame, OpenVINO and ONNX.

The test and predict benches use barely trained models (mAP50 near 0 on both sides), where an INT8 delta says
nothing. Here a synthetic detect data set (red squares and blue discs on noise, app/demo_data.py) is written in
code, a yolo26n built from ultralytics' shipped YAML is trained on it through the app's job manager (offline),
then exported FP32 and INT8 to OpenVINO and ONNX through the same export jobs as the Export tab (INT8 calibrated
on the model's own data set and checked by the agent against the .pt). Every mAP50 is ultralytics' validator on
the same validation images with the same imgsz, conf and IoU as the agent's INT8 check; ms per frame is the app's
PredictSession on those images (median).

Usage: python bench/int8_accuracy.py [--train 240] [--val 60] [--imgsz 160] [--epochs 30] [--frames 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import save


def _val_maps(weights: str, data: str, imgsz: int, work: Path, name: str) -> tuple[float, float]:
    """(mAP50, mAP50-95) of one artifact (a .pt or an export) on the validation images, as the INT8 check runs."""
    from ultralytics import YOLO

    from remote_agent.int8_check import VAL_CONF, VAL_IOU

    res = YOLO(weights, task="detect").val(data=data, imgsz=imgsz, batch=1, conf=VAL_CONF, iou=VAL_IOU,
                                           device="cpu", plots=False, verbose=False, workers=0,
                                           project=str(work), name=name, exist_ok=True)
    return float(res.results_dict["metrics/mAP50(B)"]), float(res.results_dict["metrics/mAP50-95(B)"])


def _ms_per_frame(choices: dict, frames: list, imgsz: int, repeats: int) -> dict[str, float]:
    """Median ms per frame of the app's PredictSession for each runtime, the runtimes taking turns ``repeats``
    times (the machine is shared: neighbours in time see the same load); the median of the turns' medians."""
    from app.predict.session import PredictSession

    sessions = {fmt: PredictSession(c, "detect") for fmt, c in choices.items()}
    for s in sessions.values():
        s.predict(frames[0], imgsz=imgsz)  # warm-up (and the thread fix)
    turns: dict[str, list[float]] = {fmt: [] for fmt in sessions}
    for _ in range(repeats):
        for fmt, s in sessions.items():
            times = []
            for f in frames:
                t0 = time.perf_counter()
                s.predict(f, imgsz=imgsz)
                times.append((time.perf_counter() - t0) * 1000)
            turns[fmt].append(statistics.median(times))
    return {fmt: round(statistics.median(v), 1) for fmt, v in turns.items()}


def _train_and_export(lib, home: Path, a: argparse.Namespace):  # noqa: ANN001, ANN202
    """Write the data set, train yolo26n on it through the job manager, export FP32 and INT8 as the tab does."""
    from app.demo_data import write_dataset
    from app.jobs.manager import JobManager
    from app.jobs.spec import TrainRequest

    t0 = time.monotonic()
    data = write_dataset(home / "shapes", "detect", n_train=a.train, n_val=a.val, size=a.imgsz, seed=7)
    manager = JobManager(lib, poll_interval=0.5)
    req = TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=a.epochs, imgsz=a.imgsz,
                       batch=16, name="shapes-yolo26n", extra={"workers": 0, "plots": False})
    job = manager.wait(manager.submit_train(req).id, 4 * 3600)
    train_s = round(time.monotonic() - t0)
    print(f"training ({a.epochs} epochs, {a.train} images at {a.imgsz} px): {job.status} in {train_s} s",
          flush=True)
    if job.status != "Completed":
        raise SystemExit(f"training failed: {job.error}")
    model = lib.model(job.model_id)
    exports = {}
    for fmt in ("openvino", "onnx"):
        for args in ({"imgsz": a.imgsz}, {"imgsz": a.imgsz, "quantize": 8}):
            t1 = time.monotonic()
            done = manager.wait(manager.submit_export(model.id, fmt, dict(args)).id, 1800)
            label = f"{fmt}{' INT8' if 'quantize' in args else ''}"
            exports[label] = round(time.monotonic() - t1, 1)
            print(f"{label} export: {done.status} in {exports[label]} s {done.error or ''}", flush=True)
    manager.shutdown()
    return model, data, train_s, exports


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=240, help="training images")
    ap.add_argument("--val", type=int, default=60, help="validation images (the INT8 check's too)")
    ap.add_argument("--imgsz", type=int, default=160)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--frames", type=int, default=30, help="frames timed per runtime and turn")
    ap.add_argument("--repeats", type=int, default=3, help="turns per runtime: the median is reported")
    ap.add_argument("--home", type=Path, help="a library this script made before: measure again, no training")
    a = ap.parse_args()
    home = a.home or Path(tempfile.mkdtemp(prefix="yd-bench-int8-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    import numpy as np
    from PIL import Image

    from app.exporters.int8 import INT8_SLOTS, accuracy_of
    from app.exporters.store import ExportStore
    from app.library.repository import Library
    from app.predict.session import backend_choices

    lib = Library(home)
    load = {"before": round(os.getloadavg()[0], 2)}
    trained = [m for m in lib.models() if m.name == "shapes-yolo26n" and m.has_weights] if a.home else []
    if trained:  # measured again on the library of an earlier run
        model, data, train_s, exports = trained[0], home / "shapes" / "data.yaml", None, {}
    else:
        model, data, train_s, exports = _train_and_export(lib, home, a)
    load["after_exports"] = round(os.getloadavg()[0], 2)

    rows = {e.format: e for e in ExportStore(lib).for_model(model.id)}
    work = home / "bench-val"
    pt_map, pt_map95 = _val_maps(str(model.weights_path), str(data), a.imgsz, work, "pt")
    val_images = sorted((data.parent / "images" / "val").glob("*.png"))
    frames = [np.asarray(Image.open(p).convert("RGB"))[:, :, ::-1].copy() for p in val_images[: a.frames]]
    choices = {c.format: c for c in backend_choices(model.weights_path, list(rows.values()), a.imgsz, cuda=False)}
    ms = _ms_per_frame(choices, frames, a.imgsz, a.repeats)
    result: dict = {"images": {"train": a.train, "val": a.val, "imgsz": a.imgsz}, "epochs": a.epochs,
                    "train_s": train_s, "export_s": exports, "cpu_count": os.cpu_count(), "load": load,
                    "frames": len(frames), "repeats": a.repeats, "ms_per_frame": ms,
                    "pt": {"mAP50": round(pt_map, 4), "mAP50-95": round(pt_map95, 4), "ms": ms.get("pt")},
                    "runtimes": {}}
    print(f"\n.pt mAP50 {pt_map:.3f}, mAP50-95 {pt_map95:.3f}, {ms.get('pt')} ms/frame (PyTorch, all cores)")
    print(f"{'runtime':<10}{'FP32 mAP50':>11}{'INT8 mAP50':>11}{'Δ points':>9}{'FP32 50-95':>11}{'INT8 50-95':>11}"
          f"{'FP32 ms':>9}{'INT8 ms':>9}  agent's INT8 check")
    for fmt in ("openvino", "onnx"):
        fp32, int8 = rows.get(fmt), rows.get(INT8_SLOTS[fmt])
        none = (None, None)
        fp32_map, fp32_95 = _val_maps(fp32.path, str(data), a.imgsz, work, fmt) if fp32 and fp32.path else none
        _, int8_95 = _val_maps(int8.path, str(data), a.imgsz, work, f"{fmt}-int8") if int8 and int8.path else none
        check = accuracy_of(int8) if int8 else None  # INT8 mAP50: the agent's own check, kept with the export
        fp32_ms, int8_ms = ms.get(fmt), ms.get(INT8_SLOTS[fmt])
        result["runtimes"][fmt] = {"fp32_mAP50": fp32_map and round(fp32_map, 4),
                                   "fp32_mAP50-95": fp32_95 and round(fp32_95, 4),
                                   "int8_mAP50-95": int8_95 and round(int8_95, 4),
                                   "int8_check": check.__dict__ if check else None, "fp32_ms": fp32_ms,
                                   "int8_ms": int8_ms}

        def cell(v: float | None, f: str = ".3f") -> str:
            return format(v, f) if v is not None else "—"

        cells = [cell(fp32_map), cell(check and check.int8), cell(check and check.delta_points, "+.1f"),
                 cell(fp32_95), cell(int8_95), cell(fp32_ms, ".1f"), cell(int8_ms, ".1f")]
        said = check.text if check else (int8.error or int8.status) if int8 else "no INT8 export"
        print(f"{fmt:<10}{cells[0]:>11}{cells[1]:>11}{cells[2]:>9}{cells[3]:>11}{cells[4]:>11}{cells[5]:>9}"
              f"{cells[6]:>9}  {said}")
    load["end"] = round(os.getloadavg()[0], 2)
    print(f"load average: {load}")
    save("int8_accuracy", result)


if __name__ == "__main__":
    main()
