"""Safe inspection of real checkpoints (all tasks, old layouts) and of every kind of bad input."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from tests.library.hostile import hostile_payloads, torch_zip, write_junk

REAL = ["detect_yolo26n.pt", "segment_yolov8n.pt", "pose_yolo11n.pt", "obb_yolo26n.pt", "classify_yolo11n.pt"]
METRIC_KEYS = {
    "detect": "metrics/mAP50-95(B)", "segment": "metrics/mAP50-95(M)", "pose": "metrics/mAP50-95(P)",
    "obb": "metrics/mAP50-95(B)", "classify": "metrics/accuracy_top1",
}


@pytest.mark.parametrize("name", REAL)
def test_real_checkpoint_of_each_task(checkpoints, name):
    folder, manifest = checkpoints
    want = manifest[name]
    info = inspect_checkpoint(folder / name, with_sha256=True)
    assert info.task == want["task"]
    assert info.architecture == want["architecture"]
    assert info.names == want["names"]  # index order, as ultralytics' model.names
    assert info.nc == len(want["names"])
    assert info.imgsz == want["imgsz"]
    assert info.params == want["params"]  # equals sum(p.numel() for p in model.parameters()) in torch
    assert METRIC_KEYS[want["task"]] in info.metrics
    assert info.epochs == want["epochs"]
    assert info.ultralytics_version == manifest["_ultralytics_version"]
    assert info.date and info.date.startswith("20")
    assert info.train_args["task"] == want["task"] and info.train_args["epochs"] == want["epochs"]
    assert info.data == want["data"]
    assert info.git is not None and "branch" in info.git
    assert not info.has_optimizer and not info.training_state
    assert info.dtype == "float16"
    assert len(info.sha256 or "") == 64


def test_last_pt_mid_training_keeps_optimizer_and_ema(checkpoints):
    folder, manifest = checkpoints
    info = inspect_checkpoint(folder / "last_mid.pt")
    assert info.has_optimizer and info.has_ema and info.training_state
    assert info.epoch == 0
    assert info.params == manifest["last_mid.pt"]["params"]
    assert info.architecture == "YOLO26n"


def test_untrained_model_saved_by_ultralytics(checkpoints):
    folder, manifest = checkpoints
    info = inspect_checkpoint(folder / "yolov5nu_untrained.pt")
    assert (info.task, info.architecture, info.family, info.scale) == ("detect", "YOLOv5nu", "YOLOv5u", "n")
    assert info.nc == 80 and info.metrics == {} and info.epochs == 0
    assert info.params == manifest["yolov5nu_untrained.pt"]["params"]


def test_ultralytics_8_0_layout(checkpoints):
    """8.0: modules pickled from one module file, no scale key, no train_metrics/results/git."""
    folder, manifest = checkpoints
    info = inspect_checkpoint(folder / "v8_0_segment.pt")
    assert (info.task, info.architecture, info.scale) == ("segment", "YOLOv8n-seg", "n")
    assert info.ultralytics_version == "8.0.20"
    assert info.names == ["square", "disc"]
    assert info.params == manifest["v8_0_segment.pt"]["params"]
    assert info.metrics == {} and info.results == {} and info.git is None


def test_ultralytics_8_2_layout(checkpoints):
    folder, _ = checkpoints
    info = inspect_checkpoint(folder / "v8_2_classify.pt")
    assert (info.task, info.architecture, info.ultralytics_version) == ("classify", "YOLO11n-cls", "8.2.103")
    assert "metrics/accuracy_top1" in info.metrics and info.results == {}


def test_original_yolov5_checkpoint_is_named_with_its_classes(checkpoints):
    folder, _ = checkpoints
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(folder / "yolov5_original.pt")
    assert e.value.code == "yolov5_original"
    assert "original YOLOv5 checkpoint, not loadable by ultralytics" in e.value.message.replace(
        " (ultralytics/yolov5 repository)", "")
    assert e.value.details["names"] == ["person", "bicycle", "car"] and e.value.details["nc"] == 3


def test_legacy_torch_file(checkpoints):
    folder, _ = checkpoints
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(folder / "legacy.pt")
    assert e.value.code == "legacy_format" and "torch < 1.6" in e.value.message


def test_plain_state_dict(checkpoints):
    folder, _ = checkpoints
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(folder / "state_dict.pt")
    assert e.value.code == "state_dict" and "weights without a model definition" in e.value.message


def test_torchscript_file(checkpoints):
    folder, _ = checkpoints
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(folder / "torchscript.pt")
    assert e.value.code == "torchscript"


@pytest.mark.parametrize("kind", ["empty", "random", "text", "truncated", "zip_without_pickle"])
def test_junk_is_not_a_checkpoint(tmp_path, checkpoints, kind):
    folder, _ = checkpoints
    files = write_junk(tmp_path, folder / "detect_yolo26n.pt")
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(files[kind])
    assert e.value.code == "not_checkpoint"
    assert e.value.message.startswith("not a PyTorch checkpoint")


def test_vanished_file(tmp_path):
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(tmp_path / "gone.pt")
    assert e.value.code == "missing"


@pytest.mark.parametrize("payload", sorted(hostile_payloads(Path("/x"))))
def test_hostile_pickle_in_torch_zip_is_refused_and_never_runs(tmp_path, payload):
    marker = tmp_path / "pwned"
    data = hostile_payloads(marker)[payload]
    path = torch_zip(tmp_path / "evil.pt", data)
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "executable_code"
    assert e.value.message.startswith("contains executable code, refused")
    assert not marker.exists()


def test_hostile_bare_pickle_is_refused_as_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    path.write_bytes(hostile_payloads(marker)["os.system"])
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "executable_code" and not marker.exists()


def test_hostile_payload_is_real(tmp_path):
    """The payloads do run under a normal unpickler (so the tests above prove something)."""
    marker = tmp_path / "pwned"
    pickle.loads(hostile_payloads(marker)["builtins.exec"])
    assert marker.exists()


def test_enormous_pickle_is_refused_in_bounded_time(tmp_path):
    big = pickle.dumps({"model": b"x" * (40 * 1024 * 1024)}, protocol=2)
    path = torch_zip(tmp_path / "big.pt", big)
    t = time.monotonic()
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "too_large"
    assert time.monotonic() - t < 2.0


def test_zip_bomb_pickle_is_refused_before_inflating(tmp_path):
    bomb = b"\x80\x02" + b"N" * (200 * 1024 * 1024)  # 200 MB of opcodes that deflate to almost nothing
    path = torch_zip(tmp_path / "bomb.pt", bomb, compress=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1_000_000
    t = time.monotonic()
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "too_large" and time.monotonic() - t < 2.0


def test_deeply_nested_pickle_is_refused_not_crashing(tmp_path):
    nested = b"\x80\x02" + b"]" * 3_000_000 + b"."  # 3 M empty lists on the stack, within the size cap
    path = torch_zip(tmp_path / "deep.pt", nested)
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code in ("not_checkpoint", "foreign", "too_large")


def test_inspection_imports_neither_torch_nor_ultralytics(checkpoints):
    folder, _ = checkpoints
    code = (
        "import sys; from app.library.checkpoint import inspect_checkpoint; "
        f"inspect_checkpoint({str(folder / 'detect_yolo26n.pt')!r}); "
        "print(sorted(m for m in ('torch', 'ultralytics', 'numpy', 'PySide6') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
