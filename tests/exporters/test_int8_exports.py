"""INT8 exports (OpenVINO through NNCF, ONNX Runtime): calibrated on the model's data set, checked against the .pt
with ultralytics' validator on its validation images, and picked automatically only when accurate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.exporters.export_job import EXPORT
from app.exporters.int8 import ACCURACY_KEY, Int8Refused, accuracy_of, calibration_data
from app.exporters.store import ExportStore
from app.jobs.manager import JobManager
from app.library.repository import LibraryError
from app.predict.runtime_timing import RuntimeFigure, measure_runtimes, order_by_figures
from app.predict.session import backend_choices

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manager(lib):
    m = JobManager(lib, poll_interval=0.05)
    yield m
    for job in m.store.list(("Queued", "Starting", "Running")):
        m.cancel(job.id)
        m.wait(job.id, 60)
    m.shutdown()


def _row(lib, model_id: str, fmt: str):
    return next(e for e in ExportStore(lib).for_model(model_id) if e.format == fmt)


def _yd(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)


@pytest.mark.parametrize(("checkpoint", "fmt", "metric"), [
    ("detect_yolo26n.pt", "openvino", "mAP50"),
    ("classify_yolo11n.pt", "onnx", "top-1"),
])
def test_int8_export_is_checked_against_the_pt_on_the_validation_images(manager, lib, checkpoints, checkpoint, fmt,
                                                                        metric):
    folder, manifest = checkpoints
    model = lib.import_checkpoint(folder / checkpoint).model
    job = manager.wait(manager.submit_export(model.id, fmt, {"imgsz": 64, "quantize": 8}).id, 300)
    assert job.status == "Completed", job.error
    assert job.spec["args"]["data"] == manifest[checkpoint]["data"]  # calibrated on the model's own data set
    rec = _row(lib, model.id, f"{fmt}-int8")
    check = accuracy_of(rec)
    assert check is not None and check.metric == metric, rec.args
    stored = rec.args[ACCURACY_KEY]
    assert stored["data"] == manifest[checkpoint]["data"] and stored["imgsz"] == 64
    assert 0.0 <= check.pt <= 1.0 and 0.0 <= check.int8 <= 1.0 and check.accurate
    if metric == "top-1":  # the tiny classifier gets half its validation pictures right
        assert check.pt == pytest.approx(0.5)
    assert rec.verified and rec.verification == check.text and check.text.startswith(f"INT8 · {metric} ")
    assert Path(rec.path).exists() and Path(rec.path).parent == lib.models_dir / model.id / "exports" / f"{fmt}-int8"
    picked = {c.format: c for c in backend_choices(model.weights_path, ExportStore(lib).for_model(model.id), 64,
                                                   cuda=False)}
    assert picked[f"{fmt}-int8"].verified and picked[f"{fmt}-int8"].name.endswith("INT8")


def test_int8_outside_the_tolerance_is_kept_marked_and_never_picked(manager, lib, home, checkpoints):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "classify_yolo11n.pt").model  # the quickest to export and validate
    assert manager.wait(manager.submit_export(model.id, "onnx", {"imgsz": 64}).id, 300).status == "Completed"
    job = EXPORT.submit(manager, model.id, "onnx", {"imgsz": 64, "quantize": 8}, int8_tolerance=-1.0)
    assert manager.wait(job.id, 300).status == "Completed"
    fp32, int8 = _row(lib, model.id, "onnx"), _row(lib, model.id, "onnx-int8")
    assert fp32.verified and fp32.path != int8.path and Path(fp32.path).exists()  # the FP32 export stays beside it
    check = accuracy_of(int8)
    assert check is not None and not check.accurate and check.tolerance_points == -1.0
    assert not int8.verified and "not accurate enough" in (int8.verification or "") and Path(int8.path).exists()

    choices = backend_choices(model.weights_path, ExportStore(lib).for_model(model.id), 64, cuda=False)
    assert [c.format for c in choices] == ["onnx", "pt", "onnx-int8"] and not choices[-1].verified
    only = [c for c in choices if c.format in ("onnx-int8", "pt")]
    # the .pt timed at 320 px, the INT8 export at its 64: the INT8 is far the fastest, and still not the one loaded
    figures, session, failed = measure_runtimes(only, "classify", 320, frames=3)
    assert not failed and figures[0].format == "onnx-int8" and not figures[0].auto, figures
    assert session is not None and session.choice.format == "pt"
    assert order_by_figures(only, figures)[0].format == "pt"
    assert [c.format for c in order_by_figures(choices, [RuntimeFigure("ONNX Runtime INT8", "onnx-int8", 1.0, False),
                                                         RuntimeFigure("ONNX Runtime", "onnx", 20.0),
                                                         RuntimeFigure("PyTorch", "pt", 50.0)])] == \
        ["onnx", "pt", "onnx-int8"]

    out = _yd(home, "exports", model.id)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("onnx-int8"))
    assert f"INT8 · top-1 {check.int8:.3f} vs {check.pt:.3f}" in line and "not accurate enough" in line, line


def test_int8_without_a_data_set_is_refused_before_any_job(manager, lib, home, checkpoints, tmp_path):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "yolov5nu_untrained.pt").model  # saved by Model.save: no data set linked
    with pytest.raises(LibraryError, match="needs its data set to calibrate and to check accuracy.*none linked"):
        manager.submit_export(model.id, "openvino", {"imgsz": 64, "quantize": 8})
    assert manager.store.list() == [] and ExportStore(lib).for_model(model.id) == []
    with pytest.raises(Int8Refused, match="is not on this machine"):
        calibration_data("m", str(tmp_path / "gone" / "data.yaml"), None)
    out = _yd(home, "export", model.id, "format=onnx", "quantize=8", "imgsz=64")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "none linked" in out.stderr, out.stderr
