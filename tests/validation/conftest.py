"""Real validations, run once per session by the real agent (``python -m remote_agent run``) and shared.

``captures``: the tiny trained model of every task on its own data. ``relabeled``: the detection model on a data
set whose labels are built from its own predictions (some the same class, some another, some moved away, one
image without labels), so that its confusion matrix has true positives, confusions, misses and false alarms at
confidences the barely-trained model reaches; validated at conf 0.001, at conf X and at conf 0.5.
``missing_class``: the detection data set with every class-0 label removed from its val split.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TASKS = {"detect": "detect_yolo26n", "segment": "segment_yolov8n", "pose": "pose_yolo11n", "obb": "obb_yolo26n",
         "classify": "classify_yolo11n"}
AT_ONCE = 3  # agents at a time: the machine has few cores and other tests run beside these


def agent_env(home: Path) -> dict[str, str]:
    from app.offline import offline_env

    return {**os.environ, **offline_env(home), "PYTHONPATH": str(ROOT)}


def run_vals(root: Path, runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Run one ``val`` agent per entry (name → args), a few at a time; name → the capture it wrote."""
    env = agent_env(root / "home")
    out: dict[str, dict[str, Any]] = {}
    pending = list(runs.items())
    while pending:
        batch, pending = pending[:AT_ONCE], pending[AT_ONCE:]
        procs = []
        for name, args in batch:
            run_dir = root / f"run-{name}"
            spec = {"id": f"val-{name}", "kind": "val", "run_dir": str(run_dir),
                    "args": {"imgsz": 64, "batch": 4, "workers": 0, "device": "cpu", **args}}
            spec_path = root / f"{name}.json"
            spec_path.write_text(json.dumps(spec))
            procs.append((name, run_dir, subprocess.Popen(
                [sys.executable, "-m", "remote_agent", "run", str(spec_path)], cwd=ROOT, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        try:
            for name, run_dir, proc in procs:
                text, _ = proc.communicate(timeout=300)
                capture = run_dir / "validation.json"
                if proc.returncode != 0 or not capture.exists():
                    pytest.fail(f"val {name} failed (exit {proc.returncode}):\n{text[-3000:]}")
                out[name] = json.loads(capture.read_text())
        finally:  # one failed or timed out: the rest of its batch must not run on, orphaned
            for _name, _run_dir, proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
    return out


@pytest.fixture(scope="session")
def captures(checkpoints, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every task's capture; detection's on 320-pixel pictures at imgsz 320, where the barely-trained model's
    boxes fall inside the picture (at 64 it predicts only boxes larger than the image, clipped)."""
    from app.demo_data import write_dataset

    folder, _ = checkpoints
    root = tmp_path_factory.mktemp("captures")
    runs = {}
    for task, name in TASKS.items():
        data = folder / "data" / task
        runs[task] = {"model": str(folder / f"{name}.pt"), "data": str(data if task == "classify" else
                                                                           data / "data.yaml")}
    runs["detect"].update(data=str(write_dataset(root / "detect320", "detect", n_train=1, n_val=4, size=320)),
                          imgsz=320)
    return run_vals(root, runs)


def _label_line(cls: int, box: list[float], w: int, h: int) -> str:
    x1, y1, x2, y2 = box
    return f"{cls} {(x1 + x2) / 2 / w:.6f} {(y1 + y2) / 2 / h:.6f} {(x2 - x1) / w:.6f} {(y2 - y1) / h:.6f}"


def _inside(box: list[float], w: int, h: int) -> bool:
    return box[0] > 0.5 and box[1] > 0.5 and box[2] < w - 0.5 and box[3] < h - 0.5


def _relabel(capture: dict[str, Any], root: Path) -> float:
    """Write a data set of the capture's images labelled from its own predictions; returns a confidence X between
    the two strongest confidences of the predictions used, so that at X some labels are found and some are not."""
    (root / "images" / "val").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    used: list[float] = []
    for k, image in enumerate(capture["images"]):
        src = Path(image["file"])
        shutil.copyfile(src, root / "images" / "val" / src.name)
        h, w = image["shape"]
        preds = [p for p in image["pred"] if _inside(p["box"], w, h)]  # a clipped box would not match its label
        preds.sort(key=lambda p: -p["conf"])
        picked = preds[:4] + preds[-2:]  # strong ones (kept at X) and weak ones (dropped at X)
        lines = []
        if k < len(capture["images"]) - 1:  # the last image has no labels: its predictions are all false alarms
            for i, p in enumerate(picked):
                used.append(p["conf"])
                cls = 1 - p["cls"] if i == 1 else p["cls"]  # one confusion per image
                lines.append(_label_line(cls, p["box"], w, h))
            lines.append(_label_line(0, [w * 0.45, h * 0.45, w * 0.45 + 6, h * 0.45 + 6], w, h))  # a tiny miss
        (root / "labels" / "val" / f"{src.stem}.txt").write_text("".join(x + "\n" for x in lines))
    (root / "data.yaml").write_text(f"path: {root}\nval: images/val\ntrain: images/val\nnames:\n"
                                    + "".join(f"  {i}: {n}\n" for i, n in enumerate(capture["names"])))
    levels = sorted(set(used))
    assert len(levels) >= 2, "the model's predictions should have at least two confidences"
    return (levels[-1] + levels[-2]) / 2


@pytest.fixture(scope="session")
def relabeled(captures, checkpoints, tmp_path_factory) -> dict[str, Any]:
    folder, _ = checkpoints
    root = tmp_path_factory.mktemp("relabeled")
    x = _relabel(captures["detect"], root / "data")
    model, data = str(folder / "detect_yolo26n.pt"), str(root / "data" / "data.yaml")
    missing = _without_class_0(Path(captures["detect"]["data"]).parent, root / "missing")
    got = run_vals(root, {
        "low": {"model": model, "data": data, "conf": 0.001, "matrix_conf": 0.001, "imgsz": 320},
        "at_x": {"model": model, "data": data, "conf": x, "matrix_conf": x, "imgsz": 320},
        "at_half": {"model": model, "data": data, "conf": 0.5, "imgsz": 320},
        "missing": {"model": model, "data": str(missing), "imgsz": 320},
    })
    return {**got, "x": x, "missing_data": missing}


def _without_class_0(src: Path, root: Path) -> Path:
    """A copy of a detection data set whose val labels have no class 0 at all."""
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("*.cache"))
    for f in (root / "labels" / "val").glob("*.txt"):
        kept = [line for line in f.read_text().splitlines() if line.strip() and not line.startswith("0 ")]
        f.write_text("\n".join(kept) + ("\n" if kept else ""))
    text = (root / "data.yaml").read_text().replace(f"path: {src.resolve()}", f"path: {root.resolve()}")
    (root / "data.yaml").write_text(text)
    return root / "data.yaml"
