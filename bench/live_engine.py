"""The live loop at the engine (no Qt, no helper process) vs the bare backend, in alternating rounds.

A round: the backend's bare throughput (one ``PredictSession.predict`` after another on the same frames), then
the engine's live loop for ``--seconds`` on those frames served at twice that rate. ``--other-engine PATH``
loads a second engine module (e.g. ``git show HEAD~1:app/predict/engine.py > /tmp/old_engine.py``) and
alternates it with the current one, so two engines are compared under the same load.

Usage: python bench/live_engine.py WEIGHTS [--format pt|onnx|openvino] [--device cpu|cuda:0] [--imgsz 640]
       [--rounds 6] [--seconds 4] [--other-engine PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def bare_fps(session, frames: list, imgsz: int) -> tuple[float, float]:  # noqa: ANN001
    """Frames a second, and this process's CPU ms a frame (all threads: the load's share does not count)."""
    session.predict(frames[0], imgsz=imgsz)
    t0, c0 = time.perf_counter(), time.process_time()
    for f in frames:
        session.predict(f, imgsz=imgsz)
    return len(frames) / (time.perf_counter() - t0), (time.process_time() - c0) * 1000 / len(frames)


def live_run(engine_cls, session, frames: list, imgsz: int, fps: float, seconds: float) -> dict:  # noqa: ANN001
    from app.predict.sources import ReplayFrames

    got, done = [], threading.Event()
    engine = engine_cls(lambda o: (got.append(o), o.ended and done.set()))
    engine.session = session
    engine.set_params(imgsz=imgsz)
    t0, c0 = time.monotonic(), time.process_time()
    engine.start_live(ReplayFrames(frames, fps=fps, seconds=seconds))
    done.wait(seconds + 30)
    elapsed, cpu = time.monotonic() - t0, time.process_time() - c0
    engine.close()
    live = [o for o in got if o.prediction is not None]
    latency = sorted(getattr(o, "latency_ms", 0.0) for o in live)
    return {"fps": len(live) / elapsed, "latency_median_ms": statistics.median(latency) if latency else 0.0,
            "cpu_ms": cpu * 1000 / max(len(live), 1),
            "dropped": got[-1].dropped if got else 0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--format", default="pt")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--other-engine")
    a = ap.parse_args()
    os.environ.setdefault("YOLODESK_HOME", tempfile.mkdtemp(prefix="yd-bench-live-"))
    import numpy as np

    from app.predict.engine import PredictEngine
    from app.predict.session import BackendChoice, PredictSession
    from remote_agent.export import test_image

    engines = {"pipelined": PredictEngine}
    if a.other_engine:
        spec = importlib.util.spec_from_file_location("other_engine", a.other_engine)
        other = importlib.util.module_from_spec(spec)
        sys.modules["other_engine"] = other  # dataclasses look their module up
        spec.loader.exec_module(other)
        engines["other"] = other.PredictEngine
    choice = BackendChoice(a.format, a.format, a.weights, a.imgsz if a.format != "pt" else None, True)
    session = PredictSession(choice, "detect", trusted=True, device=a.device)
    rng = np.random.default_rng(0)
    frames = [np.clip(test_image(a.imgsz).astype(int) + rng.integers(-8, 8, (a.imgsz, a.imgsz, 3)), 0, 255)
              .astype(np.uint8) for _ in range(a.frames)]
    ratios: dict[str, list[float]] = {k: [] for k in engines}
    for r in range(a.rounds):
        for name in list(engines)[:: 1 if r % 2 == 0 else -1]:
            load = os.getloadavg()[0]
            bare, bare_cpu = bare_fps(session, frames, a.imgsz)
            live = live_run(engines[name], session, frames, a.imgsz, bare * 2, a.seconds)
            ratios[name].append(live["fps"] / bare)
            print(f"round {r} {name:<9}: bare {bare:6.1f} FPS, live {live['fps']:6.1f} FPS = {ratios[name][-1]:.3f}×, "
                  f"CPU {bare_cpu:.1f} / {live['cpu_ms']:.1f} ms a frame, capture → result median "
                  f"{live['latency_median_ms']:.1f} ms, load {load:.2f}", flush=True)
    for name, v in ratios.items():
        print(f"{name}: live / bare median {statistics.median(v):.3f} over {len(v)} rounds {[round(x, 3) for x in v]}")


if __name__ == "__main__":
    main()
