"""Red team, the other side: real checkpoints as other ultralytics versions and tools save them are never refused,
and the ones the reader used to refuse load through ultralytics' safe loader too (the gate agrees)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from tests.library.hostile_build import ROOT

_BUILD = r"""
import sys, warnings, zipfile
from pathlib import Path
warnings.simplefilter("ignore")
import torch
from ultralytics import RTDETR, YOLO
from ultralytics.nn.modules.head import Detect
src, out = Path(sys.argv[1]), Path(sys.argv[2])
ck = torch.load(src / "segment_yolov8n.pt", weights_only=False)
ck["model"].model[-1].detect = Detect.forward  # ultralytics 8.0.x heads kept it: pickled via builtins.getattr
torch.save(ck, out / "v8_0_detect_forward.pt")
ck = torch.load(src / "detect_yolo26n.pt", weights_only=False)
for proto in (2, 4, 5):
    torch.save(ck, out / f"protocol{proto}.pt", pickle_protocol=proto)
torch.save(dict(ck, model=ck["model"].float()), out / "float32.pt")
torch.save(ck["model"].float().state_dict(), out / "state_dict.pt")
ck = torch.load(src / "detect_yolo26n.pt", weights_only=False)  # .float() above changed the model in place
ck["train_args"]["save_dir"] = Path("/runs/detect/train")  # Python 3.13 pickles it as pathlib._local.PosixPath
torch.save(ck, out / "tmp.pt")
with zipfile.ZipFile(out / "tmp.pt") as zin, zipfile.ZipFile(out / "py313_pathlib.pt", "w") as zout:
    for info in zin.infolist():
        data = zin.read(info)
        if info.filename.endswith("/data.pkl"):
            assert b"cpathlib\nPosixPath\n" in data
            data = data.replace(b"cpathlib\nPosixPath\n", b"cpathlib._local\nPosixPath\n")
        zout.writestr(info.filename, data)
(out / "tmp.pt").unlink()
for cfg in ("yolov10n.yaml", "yolov8s-world.yaml", "yoloe-11s-seg.yaml"):
    YOLO(cfg).save(out / cfg.replace(".yaml", ".pt"))
RTDETR("rtdetr-l.yaml").save(out / "rtdetr-l.pt")
"""

_SAFE_LOAD = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
from ultralytics import YOLO
out = {}
for p in sys.argv[1:]:
    try:
        out[p] = YOLO(p).task
    except Exception as e:
        out[p] = f"{type(e).__name__}: {e}"[:300]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def real(checkpoints, tmp_path_factory):
    folder, _ = checkpoints
    out = tmp_path_factory.mktemp("real")
    home = tmp_path_factory.mktemp("ulhome")
    env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _BUILD, str(folder), str(out)], capture_output=True, text=True,
                          timeout=600, env=env, cwd=home)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.parametrize(("name", "task", "arch", "cls"), [
    ("v8_0_detect_forward.pt", "segment", "YOLOv8n-seg", "SegmentationModel"),
    ("yolov10n.pt", "detect", "YOLOv10n", "DetectionModel"),
    ("protocol2.pt", "detect", "YOLO26n", "DetectionModel"),
    ("protocol4.pt", "detect", "YOLO26n", "DetectionModel"),
    ("protocol5.pt", "detect", "YOLO26n", "DetectionModel"),
    ("float32.pt", "detect", "YOLO26n", "DetectionModel"),
    ("py313_pathlib.pt", "detect", "YOLO26n", "DetectionModel"),
    ("yolov8s-world.pt", "detect", "YOLOv8s-world", "WorldModel"),
    ("yoloe-11s-seg.pt", "segment", "YOLOE-11s-seg", "YOLOESegModel"),
    ("rtdetr-l.pt", "detect", "RT-DETR-l", "RTDETRDetectionModel"),
])
def test_real_checkpoints_of_other_versions_and_tools_pass(real, name, task, arch, cls):
    info = inspect_checkpoint(real / name)
    assert (info.task, info.architecture, info.model_class.rsplit(".", 1)[-1]) == (task, arch, cls)
    assert info.names and info.params and info.params > 1_000_000
    assert info.dtype == ("float32" if name == "float32.pt" else "float16")


def test_py313_path_in_train_args_reads_as_a_path(real):
    assert inspect_checkpoint(real / "py313_pathlib.pt").train_args["save_dir"] == "/runs/detect/train"


def test_state_dict_is_a_verdict_not_a_crash(real):
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(real / "state_dict.pt")
    assert e.value.code == "state_dict"


def test_formerly_refused_checkpoints_load_through_ultralytics_safe_loader(real, tmp_path):
    """The gate loads what the inspector now accepts: ultralytics' own restricted loader takes both files."""
    files = [str(real / "v8_0_detect_forward.pt"), str(real / "yolov10n.pt")]
    env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(tmp_path), ULTRALYTICS_SAFE_LOAD="1")
    proc = subprocess.run([sys.executable, "-c", _SAFE_LOAD, *files], capture_output=True, text=True, timeout=300,
                          env=env, cwd=tmp_path)
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {files[0]: "segment", files[1]: "detect"}
