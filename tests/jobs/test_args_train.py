"""Training arguments are checked before a job exists: ultralytics' own rules, our ranges, model and device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.jobs.args_check import MachineDevices, check_device, worker_devices
from app.jobs.spec import SpecError, TrainRequest
from app.jobs.ultralytics_rules import check_cfg_value, rules, shipped_model_yaml
from tests.helpers import FAST

ROOT = Path(__file__).resolve().parents[2]


def yd(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)


def request(data: Path, **kw) -> TrainRequest:
    fields = {"model": "yolo26n.yaml", "task": "detect", "data": str(data), "epochs": 1, "imgsz": 64, "batch": 4,
              "extra": dict(FAST)}
    extra = kw.pop("extra", {})
    fields.update(kw)
    fields["extra"] = {**fields["extra"], **extra}
    return TrainRequest(**fields)


def test_rules_are_the_installed_ultralytics_own():
    import ultralytics.cfg as cfg
    from ultralytics.utils import DEFAULT_CFG_DICT

    r = rules()
    assert set(r.defaults) == set(DEFAULT_CFG_DICT) and len(r.defaults) > 50
    assert (r.float_keys, r.fraction_keys, r.int_keys, r.bool_keys, r.str_keys) == (
        cfg.CFG_FLOAT_KEYS, cfg.CFG_FRACTION_KEYS, cfg.CFG_INT_KEYS, cfg.CFG_BOOL_KEYS, cfg.CFG_STR_KEYS)
    assert r.int_min == cfg.CFG_INT_MIN and r.tasks == cfg.TASKS and r.modes == cfg.MODES
    assert r.quantize_aliases == cfg.QUANTIZE_ALIASES


VALUES = (1, 0, -1, 2, 0.5, 1.5, 100.0, "abc", "fp16", True, False, None, [0.5, 0.5], [1, 2, 3], [])


def test_each_value_check_agrees_with_ultralytics_check_cfg():
    from ultralytics.cfg import check_cfg

    r = rules()
    keys = sorted(r.float_keys | r.fraction_keys | r.int_keys | r.bool_keys | r.str_keys
                  | {"scale", "compile", "amp", "quantize", "model", "cache"})
    compared = 0
    for key in keys:
        for value in VALUES:
            try:
                check_cfg({key: value})
                theirs = None
            except (TypeError, ValueError) as e:
                theirs = str(e)
            ours = check_cfg_value(key, value)
            assert (ours is None) == (theirs is None), (key, value, ours, theirs)
            compared += 1
    assert compared > 800


@pytest.mark.parametrize("field, change, reason", [
    ("epochs", {"epochs": "abc"}, "whole number"),
    ("imgsz", {"imgsz": "abc"}, "whole number"),
    ("imgsz", {"imgsz": -32}, "positive"),
    ("imgsz", {"imgsz": 0}, "positive"),
    ("imgsz", {"imgsz": 33}, "round 33 up to 64"),
    ("bogus_key", {"extra": {"bogus_key": 1}}, "not an ultralytics argument"),
    ("lr", {"extra": {"lr": 0.01}}, "did you mean"),
    ("lr0", {"extra": {"lr0": "abc"}}, "must be a number"),
    ("task", {"task": "bogus"}, "not a task"),
    ("model", {"model": "nonexistent.yaml"}, "neither a file nor a model YAML"),
    ("model", {"model": "https://example.com/yolo26n.pt"}, "URL"),
    ("device", {"device": "cuda:7"}, "no cuda:7"),
    ("device", {"device": "tpu"}, "not a device"),
    ("batch", {"batch": 0}, "batch is a count"),
    ("batch", {"batch": 2.5}, "batch is a count"),
    ("fraction", {"extra": {"fraction": 5}}, "(0, 1]"),
    ("project", {"extra": {"project": "/tmp/elsewhere"}}, "job's own folder"),
    ("pretrained", {"extra": {"pretrained": "/tmp/other.pt"}}, "true or false"),
    ("amp", {"extra": {"amp": "maybe"}}, "fp16"),
    ("cfg", {"extra": {"cfg": "/tmp/x.yaml"}}, "override every argument"),
])
def test_a_bad_argument_is_refused_with_its_field_and_no_job_exists(manager, lib, tiny_data, field, change, reason):
    with pytest.raises(SpecError) as e:
        manager.submit_train(request(tiny_data["detect"], **change))
    assert field in e.value.problems, e.value.problems
    assert reason in e.value.problems[field], e.value.problems
    assert manager.store.list() == [] and lib.models() == [] and lib.datasets() == []


def test_good_arguments_pass_every_check(tiny_data):
    req = request(tiny_data["detect"], imgsz=96, batch=-1, device="cpu",
                  extra={"lr0": 0.02, "fraction": 0.5, "mosaic": 0, "optimizer": "AdamW", "cache": "ram"})
    assert req.validate().train_images == 8


def test_devices_are_the_chosen_machine_own():
    gpu_box = worker_devices({"cuda_devices": [{"index": 0, "name": "H200", "memory": 1}]}, "gpu-box")
    assert check_device("0", gpu_box) is None and check_device("cuda:0", gpu_box) is None
    assert check_device("-1", gpu_box) is None
    assert "no cuda:7" in check_device("cuda:7", gpu_box)
    assert "no cuda:1" in check_device("0,1", gpu_box)
    assert "never tested" in check_device("0", worker_devices(None, "new-box"))
    assert "no CUDA GPU" in check_device("0", MachineDevices("this machine", ()))
    assert "no Apple MPS" in check_device("mps", MachineDevices("this machine", (0,)))
    assert check_device("cpu", MachineDevices("this machine", ())) is None


def test_shipped_model_yaml_names_resolve_as_ultralytics_resolves_them():
    from ultralytics.nn.tasks import yaml_model_load

    for name in ("yolo26n.yaml", "yolo11x-obb.yaml", "yolov8s-cls.yaml", "yolov5nu.yaml", "rtdetr-l.yaml"):
        assert shipped_model_yaml(name) is not None, name
        assert yaml_model_load(name)["backbone"], name  # ultralytics finds it too
    for name in ("nonexistent.yaml", "*.yaml", "../../etc/passwd.yaml", "coco8.yaml"):
        assert shipped_model_yaml(name) is None, name


def test_cli_refuses_bad_arguments_with_exit_2_and_no_job(home, tiny_data):
    data = f"data={tiny_data['detect']}"
    for bad, expected in (("epochs=abc", "yolodesk train: epochs: "), ("imgsz=abc", "yolodesk train: imgsz: "),
                          ("bogus_key=1", "yolodesk train: bogus_key: "), ("device=cuda:7", "yolodesk train: device: "),
                          ("model=nonexistent.yaml", "yolodesk train: model: ")):
        args = [a for a in ("model=yolo26n.yaml", data, "epochs=1", "imgsz=64") if a.split("=")[0] != bad.split("=")[0]]
        out = yd(home, "train", *args, bad)
        assert out.returncode == 2, (bad, out.stdout, out.stderr)
        assert expected in out.stderr and "Traceback" not in out.stderr, (bad, out.stderr)
    jobs = yd(home, "jobs", "--json")
    assert jobs.returncode == 0 and json.loads(jobs.stdout) == []
