"""Export arguments are checked against the format's own arguments and types before a job exists."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.exporters.args_check import ExportArgsError, export_args_problems, onnx_max_opset
from app.exporters.registry import ARGS, FORMATS, get
from app.exporters.store import ExportStore
from app.jobs.manager import JobManager
from remote_agent.data_check import DOWNLOAD_REFUSAL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manager(lib):
    m = JobManager(lib, poll_interval=0.05)
    yield m
    m.shutdown()


@pytest.mark.parametrize("field, value, reason", [
    ("imgsz", 0, "positive"),
    ("imgsz", 33, "multiple of 32"),
    ("imgsz", -32, "positive"),
    ("imgsz", [64, 33], "multiple of 32"),
    ("batch", 0, "between 1"),
    ("batch", "abc", "whole number"),
    ("fraction", 5, "(0, 1]"),
    ("opset", 999, "newest the installed onnx supports"),
    ("opset", 6, "between 9"),
    ("dynamic", "maybe", "true or false"),
    ("simplify", "maybe", "true or false"),
    ("bogus", 1, "does not take bogus"),
    ("dinamic", True, "did you mean dynamic"),
    ("data", "coco8.yaml", "does not exist"),
    ("device", "cuda:7", "no cuda:7"),
])
def test_a_bad_export_argument_is_refused_and_nothing_is_queued(manager, lib, checkpoints, field, value, reason):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    with pytest.raises(ExportArgsError) as e:
        manager.submit_export(model.id, "onnx", {"imgsz": 64, field: value})
    assert reason in e.value.problems[field], e.value.problems
    assert manager.store.list() == [] and ExportStore(lib).for_model(model.id) == []


def test_a_calibration_data_set_with_a_download_script_is_refused(manager, lib, checkpoints, tiny_data, tmp_path):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    shutil.copytree(tiny_data["detect"].parent, tmp_path / "calib")
    data = tmp_path / "calib" / "data.yaml"
    data.write_text(data.read_text() + f"download: open({str(tmp_path / 'm')!r}, 'w')\n")
    with pytest.raises(ExportArgsError) as e:
        manager.submit_export(model.id, "onnx", {"imgsz": 64, "quantize": 8, "data": str(data)})
    assert DOWNLOAD_REFUSAL in e.value.problems["data"]
    assert manager.store.list() == [] and not (tmp_path / "m").exists()


def test_every_format_takes_its_own_defaults():
    assert onnx_max_opset() is not None and onnx_max_opset() >= 17
    for fmt in FORMATS:  # what Export All sends (imgsz only) and every registry default must pass
        args = {"imgsz": 640, **{a: ARGS[a].default for a in fmt.args if ARGS[a].default is not None}}
        assert export_args_problems(fmt, args, "detect") == {}, fmt.argument
    assert export_args_problems(get("onnx"), {"opset": 17, "dynamic": True, "simplify": False, "batch": 4,
                                              "imgsz": [480, 640], "fraction": 0.5}, "detect") == {}
    assert "between 7" in export_args_problems(get("onnx"), {"opset": 6}, "classify")["opset"]


def test_cli_export_refuses_bad_arguments_with_exit_2_and_no_job(home, checkpoints):
    folder, _ = checkpoints
    env = dict(os.environ, YOLODESK_HOME=str(home))

    def yd(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=300)

    assert yd("import", str(folder / "detect_yolo26n.pt")).returncode == 0
    for bad in ("imgsz=0", "imgsz=33", "batch=0", "fraction=5", "opset=999", "dynamic=maybe"):
        out = yd("export", "detect_yolo26n", "format=onnx", bad)
        field = bad.split("=")[0]
        assert out.returncode == 2, (bad, out.stdout, out.stderr)
        assert f"yolodesk export: {field}: " in out.stderr and "Traceback" not in out.stderr, (bad, out.stderr)
    out = yd("export", "detect_yolo26n", "imgsz=-32", "--all")
    assert out.returncode == 2 and "yolodesk export: imgsz: " in out.stderr, out.stderr
    jobs = yd("jobs", "--json")
    assert jobs.returncode == 0 and json.loads(jobs.stdout) == []
