"""Process start → main window shown (offscreen unless DISPLAY is set), and whether torch was imported.

Two cases: the first run on a fresh, empty home (the database is created and migrated), and later
runs on a library with a few models.
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

RUNS = 7


def once(home: Path) -> tuple[float, str]:
    env = dict(os.environ, YOLODESK_HOME=str(home), YOLODESK_STARTUP_PROBE="1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "app"], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    line = next(row for row in proc.stdout.splitlines() if row.startswith("WINDOW_SHOWN"))
    _, shown, modules = line.split(maxsplit=2)
    return float(shown) - t0, modules


def fresh_runs() -> list[float]:
    """The first start on a new, empty home, each time in a new folder (no library.db yet)."""
    return [once(Path(tempfile.mkdtemp(prefix="yd-fresh-")) / "home")[0] for _ in range(RUNS)]


def main() -> None:
    once(Path(tempfile.mkdtemp(prefix="yd-warm-")))  # warm the OS caches for the interpreter and Qt
    fresh = fresh_runs()
    fresh_med = statistics.median(fresh)
    print(f"first run on a fresh home → window shown: median {fresh_med * 1000:.0f} ms over {RUNS} runs "
          f"(min {min(fresh) * 1000:.0f} ms, max {max(fresh) * 1000:.0f} ms)")
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
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"heavy modules loaded at start-up: {modules}")
    save("startup", {"median_ms": round(med * 1000), "min_ms": round(min(samples) * 1000), "runs": RUNS,
                     "samples_ms": [round(s * 1000) for s in samples], "modules_at_start": modules,
                     "fresh_median_ms": round(fresh_med * 1000), "fresh_samples_ms": [round(s * 1000) for s in fresh],
                     "load_average": round(os.getloadavg()[0], 1)})


if __name__ == "__main__":
    main()
