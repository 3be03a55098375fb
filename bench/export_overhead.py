"""ONNX and OpenVINO export of the same model through YOLO Desk (`yolodesk export`: job, agent, verification,
copy into the library) vs `yolo export`. Runs alternate; medians are compared.

Usage: python bench/export_overhead.py [--runs 3] [--imgsz 640]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, fixture_checkpoints, save

from app.offline import offline_env, prepare_config_dir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--imgsz", type=int, default=640)
    a = ap.parse_args()
    src = fixture_checkpoints() / "detect_yolo26n.pt"
    tmp = Path(tempfile.mkdtemp(prefix="yd-export-bench-"))
    bin_dir = Path(sys.executable).parent
    rows = {}
    for fmt in ("onnx", "openvino"):
        samples: dict[str, list[float]] = {"yolodesk": [], "yolo": [], "yolodesk_to_artifact": []}
        for i in range(a.runs):
            home = tmp / f"home-{fmt}-{i}"
            prepare_config_dir(home)
            env = dict(os.environ, **offline_env(home))
            subprocess.run([str(bin_dir / "yolodesk"), "import", str(src)], env=env, check=True, capture_output=True)
            weights = tmp / f"w-{fmt}-{i}.pt"
            shutil.copyfile(src, weights)
            for name, cmd in (
                ("yolo", [str(bin_dir / "yolo"), "export", f"model={weights}", f"format={fmt}", f"imgsz={a.imgsz}"]),
                ("yolodesk", [str(bin_dir / "yolodesk"), "export", "detect_yolo26n", f"format={fmt}",
                              f"imgsz={a.imgsz}"]),
            ):
                t, wall0 = time.perf_counter(), time.time()
                subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
                samples[name].append(time.perf_counter() - t)
                if name == "yolodesk":  # when the artifact existed (before verification), from its event
                    events = next((home / "runs").glob("*/events.jsonl")).read_text().splitlines()
                    art = next(json.loads(line)["t"] for line in events if '"artifact"' in line)
                    samples["yolodesk_to_artifact"].append(art - wall0)
                print(f"{fmt:<9} run {i + 1} {name:<9} {samples[name][-1]:6.2f} s", flush=True)
        med = {k: statistics.median(v) for k, v in samples.items()}
        rows[fmt] = {"samples_s": samples, "median_s": med, "ratio": round(med["yolodesk"] / med["yolo"], 3),
                     "ratio_to_artifact": round(med["yolodesk_to_artifact"] / med["yolo"], 3)}
        print(f"{fmt}: yolodesk {med['yolodesk']:.2f} s (artifact ready at {med['yolodesk_to_artifact']:.2f} s, then "
              f"verified) vs yolo {med['yolo']:.2f} s → {rows[fmt]['ratio']}× ({rows[fmt]['ratio_to_artifact']}× "
              "to the artifact)\n")
    save("export_overhead", {"imgsz": a.imgsz, "runs": a.runs, **rows})


if __name__ == "__main__":
    main()
