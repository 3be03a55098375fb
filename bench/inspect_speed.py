"""Safe inspection time per checkpoint vs what a user would otherwise run: ``YOLO(path)`` in a fresh process.

Usage: python bench/inspect_speed.py [FILE.pt ...]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, fixture_checkpoints, save

from app.library.checkpoint import inspect_checkpoint
from app.offline import offline_env

REPEAT = 30


def time_inspect(path: Path) -> float:
    inspect_checkpoint(path)  # warm the page cache
    samples = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        inspect_checkpoint(path)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def time_yolo_load(path: Path, runs: int = 3) -> float:
    env = dict(os.environ, **offline_env(Path(tempfile.mkdtemp())))
    code = f"from ultralytics import YOLO; YOLO({str(path)!r})"
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, cwd=ROOT)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> None:
    files = [Path(a) for a in sys.argv[1:]]
    if not files:
        folder = fixture_checkpoints()
        files = [folder / n for n in ("detect_yolo26n.pt", "segment_yolov8n.pt", "pose_yolo11n.pt", "obb_yolo26n.pt",
                                      "classify_yolo11n.pt", "last_mid.pt")]
    rows = []
    print(f"{'checkpoint':<24}{'size':>9}{'inspect ms':>12}{'YOLO() ms':>11}{'ratio':>8}")
    for f in files:
        ms = time_inspect(f)
        yolo = time_yolo_load(f)
        rows.append({"file": f.name, "size": f.stat().st_size, "inspect_ms": round(ms, 2), "yolo_load_ms": round(yolo),
                     "ratio": round(yolo / ms, 1)})
        print(f"{f.name:<24}{f.stat().st_size / 1e6:>7.1f}MB{ms:>12.1f}{yolo:>11.0f}{yolo / ms:>7.0f}×")
    save("inspect_speed", rows)


if __name__ == "__main__":
    main()
