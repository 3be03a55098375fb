"""Process start → main window shown (offscreen unless DISPLAY is set), and whether torch was imported."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, fixture_checkpoints, save

RUNS = 7


def once(home: Path) -> tuple[float, str]:
    env = dict(os.environ, YOLODESK_HOME=str(home), YOLODESK_STARTUP_PROBE="1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "app"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    line = next(row for row in proc.stdout.splitlines() if row.startswith("WINDOW_SHOWN"))
    _, shown, modules = line.split(maxsplit=2)
    return float(shown) - t0, modules


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="yd-start-"))
    from app.library.repository import Library

    lib = Library(home)  # an existing library with a few models, as a user has
    folder = fixture_checkpoints()
    for n in ("detect_yolo26n.pt", "pose_yolo11n.pt", "classify_yolo11n.pt"):
        lib.import_checkpoint(folder / n)
    lib.close()
    once(home)  # warm the OS caches
    samples = []
    for _ in range(RUNS):
        dt, modules = once(home)
        samples.append(dt)
    med = statistics.median(samples)
    print(f"start → window shown: median {med * 1000:.0f} ms over {RUNS} runs (min {min(samples) * 1000:.0f} ms)")
    print(f"heavy modules loaded at start-up: {modules}")
    save("startup", {"median_ms": round(med * 1000), "min_ms": round(min(samples) * 1000), "runs": RUNS,
                     "samples_ms": [round(s * 1000) for s in samples], "modules_at_start": modules})


if __name__ == "__main__":
    main()
