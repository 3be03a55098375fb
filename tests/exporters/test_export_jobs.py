"""Exports as jobs through the agent: real, verified TorchScript / ONNX / OpenVINO files stored in the library."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.exporters.store import ExportStore
from app.jobs.manager import JobManager
from app.library.repository import LibraryError
from tests.helpers import wait_for_event

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manager(lib):
    m = JobManager(lib, poll_interval=0.05)
    yield m
    for job in m.store.list(("Queued", "Starting", "Running")):
        m.cancel(job.id)
        m.wait(job.id, 60)
    m.shutdown()


@pytest.mark.parametrize(("checkpoint", "fmt"), [
    ("detect_yolo26n.pt", "torchscript"),
    ("detect_yolo26n.pt", "onnx"),
    ("segment_yolov8n.pt", "openvino"),
])
def test_real_export_is_verified_and_stored(manager, lib, checkpoints, checkpoint, fmt):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / checkpoint).model
    job = manager.submit_export(model.id, fmt, {"imgsz": 64})
    job = manager.wait(job.id, 300)
    assert job.status == "Completed", job.error
    rec = ExportStore(lib).for_model(model.id)[0]
    assert (rec.format, rec.status, rec.verified) == (fmt, "Completed", True), rec.verification
    assert "detections match" in rec.verification
    path = Path(rec.path)
    assert path.exists() and path.parent == lib.models_dir / model.id / "exports" / fmt
    if path.is_file():
        assert rec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and rec.size == path.stat().st_size
    else:
        assert any(p.suffix == ".xml" for p in path.iterdir())  # an OpenVINO model folder
    assert rec.seconds and rec.seconds > 0
    assert lib.check().clean


def test_formats_that_cannot_run_here_say_why_and_start_nothing(manager, lib, checkpoints, tiny_data):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "classify_yolo11n.pt").model
    cases = {
        "coreml": "toolchains install coreml",
        "engine": "NVIDIA GPU worker",
        "hailo": "vendor SDK",
        "onnx": "not valid for classification",  # with nms=True below
    }
    for fmt, why in cases.items():
        args = {"nms": True} if fmt == "onnx" else {}
        with pytest.raises(LibraryError, match=why):
            manager.submit_export(model.id, fmt, args)
    with pytest.raises(LibraryError, match="needs a GPU"):
        manager.submit_export(model.id, "torchscript", {"quantize": 16})
    untrained = lib.import_checkpoint(folder / "yolov5nu_untrained.pt").model  # no data set recorded at all
    with pytest.raises(LibraryError, match="needs its data set to calibrate and to check accuracy"):
        manager.submit_export(untrained.id, "onnx", {"quantize": 8})  # nncf is a dependency now: no pip hint left
    with pytest.raises(LibraryError, match="does not take workspace"):
        manager.submit_export(model.id, "onnx", {"workspace": 4})
    with pytest.raises(KeyError, match="unknown export format"):
        manager.submit_export(model.id, "bogus")
    assert manager.store.list() == [] and ExportStore(lib).for_model(model.id) == []
    assert ExportStore(lib).for_model(untrained.id) == []


def test_one_export_per_model_and_format_and_cancel(manager, lib, checkpoints):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "pose_yolo11n.pt").model
    job = manager.submit_export(model.id, "onnx", {"imgsz": 64})
    with pytest.raises(LibraryError, match="already"):
        manager.submit_export(model.id, "onnx", {"imgsz": 64})
    wait_for_event(job, "started", 60)  # the agent runs: cancel the process, not a queued row
    manager.cancel(job.id)  # loading torch and the model alone outlasts this signal's way there
    job = manager.wait(job.id, 120)
    assert job.status == "Cancelled", job.error
    rec = ExportStore(lib).by_job(job.id)
    assert rec.status == "Cancelled" and not rec.path
    assert not any((lib.models_dir / model.id / "exports").rglob("*.onnx"))  # nothing landed in the library
    retry = manager.retry(job.id)
    assert manager.wait(retry.id, 300).status == "Completed"
    assert ExportStore(lib).for_model(model.id)[0].verified


def test_cli_export_and_exports_json(home, checkpoints):
    folder, _ = checkpoints
    env = dict(os.environ, YOLODESK_HOME=str(home))

    def yd(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=300)

    assert yd("import", str(folder / "detect_yolo26n.pt")).returncode == 0
    out = yd("export", "detect_yolo26n", "format=torchscript", "imgsz=64")
    assert out.returncode == 0, out.stdout[-1500:] + out.stderr[-1500:]
    assert "verified" in out.stdout
    bad = yd("export", "detect_yolo26n", "format=coreml")
    assert bad.returncode == 1 and "toolchain" in bad.stderr
    assert yd("export", "detect_yolo26n").returncode == 2
    rows = {r["format"]: r for r in json.loads(yd("exports", "detect_yolo26n", "--json").stdout)}
    assert len(rows) == 22 and {"format", "status", "path", "size", "verified", "error"} <= set(rows["onnx"])
    assert rows["torchscript"]["status"] == "Completed" and rows["torchscript"]["verified"] is True
    assert rows["engine"]["availability"] == "needs-gpu" and rows["onnx"]["status"] is None
    assert rows["imx"]["availability"] == "not-for-model" and "YOLO11n" in rows["imx"]["why"]  # a YOLO26: refused
