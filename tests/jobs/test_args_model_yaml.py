"""A model YAML of the user's goes through the same config check as a ``.pt`` before a job exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.jobs.ultralytics_rules import shipped_model_yaml
from app.jobs.spec import SpecError, TrainRequest
from app.offline import offline_env
from tests.helpers import FAST


def hostile_yaml(folder: Path, marker: Path) -> Path:
    """yolo26.yaml with an ``activation:`` that writes ``marker`` when ultralytics ``eval``s it."""
    text = shipped_model_yaml("yolo26n.yaml").read_text()
    act = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran') and torch.nn.SiLU()"
    path = folder / "my-yolo26n.yaml"
    path.write_text(f'activation: "{act}"\n' + text)
    return path


def test_ultralytics_runs_a_hostile_activation_and_we_refuse_the_yaml(manager, lib, tiny_data, tmp_path):
    marker = tmp_path / "ran-from-activation.txt"
    model_yaml = hostile_yaml(tmp_path, marker)
    env = dict(os.environ, **offline_env(tmp_path / "naive-home"))
    env.pop("ULTRALYTICS_SAFE_LOAD", None)  # plain ultralytics, as a user runs it (a PredictSession here sets it)
    naive = subprocess.run([sys.executable, "-c", f"from ultralytics import YOLO; YOLO({str(model_yaml)!r})"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert marker.exists(), naive.stderr[-3000:]
    assert marker.read_text() == "ran"  # the danger is real: building the model ran the string
    marker.unlink()

    req = TrainRequest(model=str(model_yaml), task="detect", data=str(tiny_data["detect"]), epochs=1, imgsz=64,
                       extra=dict(FAST))
    with pytest.raises(SpecError) as e:
        manager.submit_train(req)
    assert "my-yolo26n.yaml" in e.value.problems["model"], e.value.problems
    assert "activation" in e.value.problems["model"], e.value.problems
    assert not marker.exists()
    assert manager.store.list() == [] and lib.models() == []


def test_a_plain_copy_of_a_shipped_yaml_is_accepted(tiny_data, tmp_path):
    mine = tmp_path / "my-yolo26n.yaml"
    mine.write_text(shipped_model_yaml("yolo26n.yaml").read_text())
    req = TrainRequest(model=str(mine), task="detect", data=str(tiny_data["detect"]), epochs=1, imgsz=64)
    assert req.validate().train_images == 8
