"""The agent on its own: ``python -m remote_agent run SPEC`` streams the event protocol from a real training."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.offline import offline_env, prepare_config_dir
from remote_agent import PROTOCOL_VERSION
from tests.helpers import FAST

ROOT = Path(__file__).resolve().parents[2]


def run_agent(spec: dict, home: Path, timeout: float = 300) -> tuple[int, list[dict], str]:
    prepare_config_dir(home)
    spec_path = Path(spec["run_dir"]).parent / "spec.json"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ, **offline_env(home), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "remote_agent", "run", str(spec_path)], capture_output=True,
                          timeout=timeout, env=env)
    lines = proc.stdout.decode().splitlines()
    return proc.returncode, [json.loads(line) for line in lines], proc.stderr.decode()


@pytest.mark.slow  # trains a real model
def test_training_event_stream(tmp_path, home, tiny_data):
    spec = {"id": "job1", "kind": "train", "run_dir": str(tmp_path / "run"), "system_interval": 0.5,
            "args": {"model": "yolo26n.yaml", "data": str(tiny_data["detect"]), "epochs": 2, "imgsz": 64, "batch": 4,
                     "device": "cpu", **FAST}}
    code, events, stderr = run_agent(spec, home)
    assert code == 0, stderr
    types = [e["type"] for e in events]
    assert types[0] == "started" and events[0]["protocol"] == PROTOCOL_VERSION and events[0]["pid"]
    assert types[-1] == "completed"
    assert all(e["job"] == "job1" and isinstance(e["t"], float) for e in events)  # stdout holds events only

    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2] and epochs[0]["epochs"] == 2
    m = epochs[-1]["metrics"]
    for key in ("train/box_loss", "train/cls_loss", "val/box_loss", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
                "metrics/precision(B)", "metrics/recall(B)", "lr/pg0", "lr/pg1", "lr/pg2"):
        assert isinstance(m[key], float), key

    console = "".join(e["text"] for e in events if e["type"] == "log")
    assert "\x1b[" in console  # ultralytics' colours kept
    assert "\r\x1b[K" in console  # progress bars redrawn in place, as ultralytics writes them
    assert "Epoch" in console and "mAP50" in console

    systems = [e for e in events if e["type"] == "system"]
    assert systems and {"cpu", "ram", "disk", "gpus"} <= set(systems[0])
    assert systems[0]["gpus"] == [] and systems[0]["gpu_note"].startswith("no NVIDIA GPU")

    arts = {e["kind"]: e for e in events if e["type"] == "artifact"}
    best = Path(arts["best"]["path"])
    assert arts["best"]["sha256"] == hashlib.sha256(best.read_bytes()).hexdigest()
    result = events[-1]["result"]
    assert result["best"] == str(best) and result["epochs_done"] == 2
    assert (Path(result["run_dir"]) / "results.csv").exists()


def test_failed_job_reports_error_and_exits_1(tmp_path, home):
    spec = {"id": "job2", "kind": "train", "run_dir": str(tmp_path / "run"),
            "args": {"model": "yolo26n.yaml", "data": str(tmp_path / "missing.yaml"), "epochs": 1, "imgsz": 64}}
    code, events, _ = run_agent(spec, home)
    assert code == 1
    failed = events[-1]
    assert failed["type"] == "failed" and failed["message"] and "Traceback" in failed["traceback"]
    assert "missing.yaml" in failed["message"]


def test_unknown_kind_fails_cleanly(tmp_path, home):
    code, events, _ = run_agent({"id": "j", "kind": "bake", "run_dir": str(tmp_path / "r"), "args": {}}, home)
    assert code == 1 and events[-1]["type"] == "failed" and "unknown job kind" in events[-1]["message"]


def test_info_reports_versions_and_protocol():
    out = subprocess.run([sys.executable, "-m", "remote_agent", "info", "--json"], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
    info = json.loads(out.stdout)
    assert info["protocol"] == PROTOCOL_VERSION and info["ultralytics"] == "8.4.190"
    assert info["torch"].startswith("2.14.1") and info["cpu_count"] >= 1 and info["ram_total"] > 0
    assert info["cuda_devices"] == [] and info["cuda_note"]


def test_agent_refuses_a_hostile_model_yaml_sent_straight_to_it(tmp_path, home, tiny_data):
    """A spec that reaches the agent without the app's checks (another client, a worker's queue) still cannot make
    ultralytics build a model whose activation is code, nor one naming a module ultralytics does not define."""
    from tests.jobs.test_args_model_yaml import hostile_yaml

    marker = tmp_path / "ran.txt"
    bad = hostile_yaml(tmp_path, marker)
    spec = {"id": "jobY", "kind": "train", "run_dir": str(tmp_path / "run"),
            "args": {"model": str(bad), "data": str(tiny_data["detect"]), "epochs": 1, "imgsz": 64, "batch": 4,
                     "device": "cpu", **FAST}}
    code, events, stderr = run_agent(spec, home, timeout=120)
    assert code == 1 and events[-1]["type"] == "failed", stderr
    assert "activation" in events[-1]["message"] and "my-yolo26n.yaml" in events[-1]["message"]
    assert not marker.exists()
