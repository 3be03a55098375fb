"""Predict benchmarks: (1) every runtime's ms per frame on CPU at imgsz 640 (yolo26n), the default the app picks
by measurement (app.predict.runtime_timing, as the Predict tab does) and its ratio to the .pt on all cores;
(2) the Predict tab's live loop (capture thread → engine → throttled repaints, offscreen Qt) vs the bare
backend's throughput on the same frames. Each runtime's figure is the median of ``--repeats`` runs.

Usage: python bench/predict_speed.py [--frames 40] [--live-seconds 15] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import fixture_checkpoints, save

from app.predict.sources import ReplayFrames  # picklable: the predict helper process replays them
from int8_figures import INT8_EXPORT_ARGS, int8_table

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def per_frame_ms(session, frames: list, imgsz: int) -> float:  # noqa: ANN001
    session.predict(frames[0], imgsz=imgsz)  # warm-up (and the thread fix)
    times = []
    for f in frames:
        t0 = time.perf_counter()
        session.predict(f, imgsz=imgsz)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--live-seconds", type=float, default=15)
    ap.add_argument("--repeats", type=int, default=3, help="runs per runtime: the median is reported")
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="yd-bench-predict-"))
    os.environ["YOLODESK_HOME"] = str(home)
    from app.offline import apply_offline

    apply_offline(home)
    import numpy as np

    from app.exporters.store import ExportStore
    from app.jobs.manager import JobManager
    from app.library.repository import Library
    from app.predict.session import PredictSession, backend_choices
    from remote_agent.export import test_image

    lib = Library(home)
    model = lib.import_checkpoint(fixture_checkpoints() / "detect_yolo26n.pt").model
    manager = JobManager(lib)
    for fmt, export_args in (("openvino", {"imgsz": 640}), ("onnx", {"imgsz": 640}),
                             ("openvino", INT8_EXPORT_ARGS), ("onnx", INT8_EXPORT_ARGS)):
        job = manager.wait(manager.submit_export(model.id, fmt, dict(export_args)).id, 600)
        print(f"{fmt}{' INT8' if export_args.get('quantize') == 8 else ''} export: {job.status}", flush=True)
    manager.shutdown()
    choices = backend_choices(model.weights_path, ExportStore(lib).for_model(model.id), cuda=False)
    rng = np.random.default_rng(0)
    frames = [np.clip(test_image(640).astype(int) + rng.integers(-8, 8, (640, 640, 3)), 0, 255).astype(np.uint8)
              for _ in range(a.frames)]
    from app.predict.runtime_timing import host_fingerprint, measure_runtimes, order_by_figures

    figures, _session, failed = measure_runtimes(choices, "detect", 640)  # what the Predict tab does on first use
    default = order_by_figures(choices, figures)[0]  # the fastest verified: an inaccurate INT8 is never the default
    pt = next(c for c in choices if c.format == "pt")
    host = host_fingerprint()
    result: dict = {"default_backend": default.name, "rule_default": choices[0].name, "cpu": host["cpu"],
                    "cpu_count": os.cpu_count(), "load_before": round(os.getloadavg()[0], 2),
                    "first_use_timing": {f.name: f.ms for f in figures}, "not_timed": failed}
    print(f"picked by measurement: {default.name} ({', '.join(f'{f.name} {f.ms} ms' for f in figures)})")
    ms = {}
    for c in choices:
        s = PredictSession(c, "detect")
        ms[c.name] = statistics.median(per_frame_ms(s, frames, 640) for _ in range(a.repeats))
        print(f"{c.name:<18} {ms[c.name]:6.1f} ms/frame", flush=True)
    # PyTorch as ultralytics leaves it (min(8, cpus - 1) threads), for reference
    import torch

    s = PredictSession(pt, "detect")
    s._fix_threads = lambda: None  # type: ignore[method-assign]
    s.predict(frames[0], imgsz=640)
    key = "PyTorch (ultralytics' thread count)"
    ms[key] = per_frame_ms(s, frames, 640)
    print(f"PyTorch at ultralytics' {torch.get_num_threads()} thread(s): {ms[key]:.1f} ms")
    torch.set_num_threads(os.cpu_count() or 1)
    result["ms_per_frame"] = {k: round(v, 1) for k, v in ms.items()}
    result["fp32_int8"] = int8_table(ms, ExportStore(lib).for_model(model.id), ms["PyTorch"])
    result["default_vs_pytorch"] = round(ms["PyTorch"] / ms[default.name], 2)
    result["load_after_runtimes"] = round(os.getloadavg()[0], 2)

    # live loop through the Predict tab (offscreen Qt), same frames, camera twice as fast as the model
    from PySide6.QtWidgets import QApplication

    from app.views.predict_tab import PredictTab

    app = QApplication.instance() or QApplication(sys.argv[:1])
    bare_fps = 1000 / ms[default.name]
    tab = PredictTab()
    tab.resize(1200, 800)
    tab.show()
    from app.library.records import ModelRecord  # noqa: F401  (type only)

    tab.model = lib.model(model.id)
    tab.set_backends([default])
    end = time.monotonic() + 120
    while not tab.readout.text().endswith("ready") and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    source = ReplayFrames(frames, fps=bare_fps * 2, seconds=a.live_seconds)
    tab.start_frames(source, "bench frames")
    t0 = time.monotonic()
    start_done = tab.engine.frames_done
    while tab.engine.live and time.monotonic() - t0 < a.live_seconds + 5:
        app.processEvents()
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    live_fps = (tab.engine.frames_done - start_done) / elapsed
    tab.shutdown()
    result.update({"bare_fps": round(bare_fps, 2), "live_fps": round(live_fps, 2),
                   "live_vs_bare": round(live_fps / bare_fps, 3), "painted": tab.view.painted,
                   "frames_offered": tab.engine.frames_read})
    print(f"\ndefault ({default.name}) vs PyTorch at 640: {result['default_vs_pytorch']}× faster (target ≥ 2.5×)")
    print(f"live loop {live_fps:.2f} FPS vs bare {bare_fps:.2f} FPS = {result['live_vs_bare']}× (target ≥ 0.9×); "
          f"{tab.engine.frames_read} frames offered, {tab.engine.frames_done} predicted, {tab.view.painted} painted")
    save("predict_speed", result)


if __name__ == "__main__":
    main()
