"""``yolodesk train / jobs / cancel / logs / demo-data`` as separate processes, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.demo_data import CLASS_NAMES
from tests.helpers import group_gone

ROOT = Path(__file__).resolve().parents[2]


def yd(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)


@pytest.mark.slow  # trains a real model
def test_demo_data_then_train_from_the_terminal(home, tmp_path):
    out = yd(home, "demo-data", str(tmp_path / "demo"), "--train", "8", "--val", "4", "--size", "64")
    assert out.returncode == 0
    data = tmp_path / "demo" / "shapes-detect" / "data.yaml"
    assert data.exists() and (tmp_path / "demo" / "shapes-classify" / "train" / CLASS_NAMES[0]).is_dir()

    run = yd(home, "train", f"data={data}", "model=yolo26n.yaml", "epochs=1", "imgsz=64", "batch=4", "workers=0",
             "plots=False", "--name", "from-terminal")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "\x1b[" in run.stdout and "Epoch" in run.stdout  # ultralytics' own console, colours and all
    assert "completed: model 'from-terminal'" in run.stdout

    jobs = json.loads(yd(home, "jobs", "--json").stdout)
    assert sorted(j["kind"] for j in jobs) == ["train", "val"]  # the training's validation, queued by itself
    jobs = [j for j in jobs if j["kind"] == "train"]
    assert set(jobs[0]) == {"id", "kind", "status", "model", "worker", "created", "started", "finished", "error"}
    assert (jobs[0]["kind"], jobs[0]["status"], jobs[0]["worker"], jobs[0]["error"]) == ("train", "Completed", "local", None)
    models = json.loads(yd(home, "list", "--json").stdout)
    assert [(m["name"], m["status"], m["id"]) for m in models] == [("from-terminal", "Completed", jobs[0]["model"])]
    logs = yd(home, "logs", jobs[0]["id"])
    assert logs.returncode == 0 and "Epoch" in logs.stdout


def test_train_usage_and_validation_errors(home, tmp_path):
    assert yd(home, "train", "epochs=3").returncode == 2
    assert yd(home, "train", "model=yolo26n.yaml", "data").returncode == 2
    bad = yd(home, "train", "model=yolo26n.yaml", f"data={tmp_path / 'missing.yaml'}")
    assert bad.returncode == 2 and "dataset:" in bad.stderr and "does not exist" in bad.stderr  # refused: exit 2


@pytest.mark.slow  # trains a real model
def test_cancel_from_another_terminal(home, tmp_path):
    yd(home, "demo-data", str(tmp_path / "demo"), "--task", "detect", "--train", "48", "--val", "4", "--size", "64")
    data = tmp_path / "demo" / "shapes-detect" / "data.yaml"
    env = dict(os.environ, YOLODESK_HOME=str(home))
    train = subprocess.Popen([sys.executable, "-m", "app", "train", f"data={data}", "model=yolo26n.yaml", "epochs=100",
                              "imgsz=64", "batch=4", "workers=0", "plots=False"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        running = []
        while time.monotonic() < deadline and not running:
            time.sleep(0.5)
            running = [j for j in json.loads(yd(home, "jobs", "--json").stdout) if j["status"] == "Running"]
        assert running, "the training never showed up as Running in another terminal"
        pid = json.loads((Path(home) / "runs" / running[0]["id"] / "events.jsonl").read_text().splitlines()[0])["pid"]
        cancel = yd(home, "cancel", running[0]["id"], timeout=120)
        assert cancel.returncode == 0, cancel.stdout + cancel.stderr
        assert "cancelled" in cancel.stdout
        out, err = train.communicate(timeout=60)
        assert train.returncode == 1 and "cancelled" in err
        assert group_gone(pid)
    finally:
        if train.poll() is None:
            train.kill()
    assert json.loads(yd(home, "jobs", "--json").stdout)[0]["status"] == "Cancelled"
