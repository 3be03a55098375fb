"""Wall time of a 3-epoch tiny training through YOLO Desk (`yolodesk train`, the whole job: agent, events,
import of best.pt) vs the same `yolo train` command. Runs alternate; medians are compared.

Usage: python bench/train_overhead.py [--runs 3] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, save

from app.demo_data import write_dataset
from app.offline import offline_env, prepare_config_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="yd-train-bench-"))
    data = write_dataset(tmp / "data", "detect", n_train=32, n_val=8, size=128)
    args = ["model=yolo26n.yaml", f"data={data}", f"epochs={a.epochs}", "imgsz=128", "batch=8", "workers=0",
            "device=cpu", "plots=False"]
    bin_dir = Path(sys.executable).parent
    samples: dict[str, list[float]] = {"yolodesk": [], "yolo": []}
    for i in range(a.runs):
        for name in ("yolo", "yolodesk"):
            home = tmp / f"home-{name}-{i}"
            prepare_config_dir(home)
            env = dict(os.environ, **offline_env(home))
            if name == "yolo":
                cmd = [str(bin_dir / "yolo"), "train", *args, f"project={home / 'runs'}", "name=t", "exist_ok=True"]
            else:
                cmd = [str(bin_dir / "yolodesk"), "train", *args]
            t = time.perf_counter()
            subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
            samples[name].append(time.perf_counter() - t)
            print(f"run {i + 1} {name:<9} {samples[name][-1]:6.2f} s", flush=True)
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = med["yolodesk"] / med["yolo"]
    print(f"\nmedian: yolodesk train {med['yolodesk']:.2f} s, yolo train {med['yolo']:.2f} s → {ratio:.3f}×")
    save("train_overhead", {"epochs": a.epochs, "runs": a.runs, "samples_s": samples, "median_s": med,
                            "ratio": round(ratio, 3)})


if __name__ == "__main__":
    main()
