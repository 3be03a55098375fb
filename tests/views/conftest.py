"""Fixtures of the view tests: real validation captures, made once per session (the validation and compare tests
share them; a fixture imported into a second module would run twice)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_VAL = """
import os, sys
from remote_agent.events import Emitter
from remote_agent.train import CancelFlag
from remote_agent.val import run_val
model, data, out = sys.argv[1:4]
state, result = run_val({"args": {"model": model, "data": data, "split": "val", "imgsz": 64, "batch": 4,
                                  "workers": 0, "device": "cpu", "conf": 0.001}, "run_dir": out},
                        Emitter("test", os.open(os.devnull, os.O_WRONLY)), CancelFlag())
assert state == "completed", state
"""


@pytest.fixture(scope="session")
def val_captures(checkpoints: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Capture files of real validations of the tiny detectors and classifier (the agent in a child process)."""
    folder, manifest = checkpoints
    runs = {}
    for task, name in (("detect", "detect_yolo26n.pt"), ("classify", "classify_yolo11n.pt"),
                       ("detect_mid", "last_mid.pt")):  # a second detector, for Compare; the three run at once
        run_dir = tmp_path_factory.mktemp(f"val-{task}")
        proc = subprocess.Popen([sys.executable, "-c", RUN_VAL, str(folder / name), manifest[name]["data"],
                                 str(run_dir)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "YOLO_OFFLINE": "1"})
        runs[task] = (proc, run_dir)
    try:
        for proc, _ in runs.values():
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-3000:]
    finally:  # one failed or timed out: the others must not run on, orphaned, after the session
        for proc, _ in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    return {task: run_dir / "validation.json" for task, (_, run_dir) in runs.items()}
