"""INT8 on a worker: the calibration data set is sent there as a training's is, and one that cannot go is refused."""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import sys
from pathlib import Path

import pytest

from app.exporters.int8 import accuracy_of
from app.exporters.store import ExportStore
from app.jobs.ssh_transport import Link
from app.jobs.workers import Layout
from app.library.repository import LibraryError
from tests.helpers import tidy_manager

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manager(lib, box):
    with tidy_manager(lib) as m:
        yield m


def test_int8_on_a_worker_calibrates_on_the_data_set_sent_there_and_one_that_cannot_go_is_refused(
        manager, lib, home, checkpoints, workers, box, tmp_path):
    folder, manifest = checkpoints
    model = lib.import_checkpoint(folder / "classify_yolo11n.pt").model  # the quickest to export and validate
    job = manager.wait(manager.submit_export(model.id, "onnx", {"imgsz": 64, "quantize": 8}, worker="box").id, 300)
    assert job.status == "Completed", job.error
    local = manifest["classify_yolo11n.pt"]["data"]
    sent = json.loads((Path(job.run_dir) / "spec.remote.json").read_text())["args"]["data"]
    link = Link(workers, box)
    link.client()
    layout: Layout = link.layout
    link.close()
    assert sent != local and sent.startswith(posixpath.join(layout.base, "data")), sent  # the worker's copy
    rec = next(e for e in ExportStore(lib).for_model(model.id) if e.format == "onnx-int8")
    check = accuracy_of(rec)
    assert check is not None and check.metric == "top-1" and rec.args["accuracy"]["data"] == sent, rec.args
    assert check.pt == pytest.approx(0.5) and rec.verified and Path(rec.path).is_file()
    # a data set that cannot be sent (one worker fixture for both halves: its test costs seconds)
    root = Path(manifest["detect_yolo26n.pt"]["data"]).parent
    bad = tmp_path / "split" / "data.yaml"  # its train folder lies outside the root the worker would get
    bad.parent.mkdir()
    bad.write_text(f"path: {tmp_path / 'split'}\ntrain: {root / 'images' / 'train'}\nval: {root / 'images' / 'val'}\n"
                   "names:\n  0: square\n  1: disc\n")
    with pytest.raises(LibraryError, match="cannot go to box: data.yaml: the train folder .* is outside the data "
                                           "set's root"):
        manager.submit_export(model.id, "onnx", {"imgsz": 64, "quantize": 8, "data": str(bad)}, worker="box")
    assert len(manager.store.list()) == 1 and len(ExportStore(lib).for_model(model.id)) == 1  # the first only
    env = dict(os.environ, YOLODESK_HOME=str(home))
    out = subprocess.run([sys.executable, "-m", "app", "export", model.id, "format=onnx", "quantize=8", "imgsz=64",
                          f"data={bad}", "--worker", "box"], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "cannot go to box" in out.stderr, out.stderr
    assert len(ExportStore(lib).for_model(model.id)) == 1
    # OpenVINO INT8 needs nncf on the worker that exports (not here): its last test says whether it has it
    assert box.info["packages"]["nncf"]  # this machine's agent lists it
    workers.update("box", info={**box.info, "packages": {**box.info["packages"], "nncf": None}})
    with pytest.raises(LibraryError, match="needs nncf>=2.14.0 on box, which it lacks: pip install"):
        manager.submit_export(model.id, "openvino", {"imgsz": 64, "quantize": 8}, worker="box")
    assert len(ExportStore(lib).for_model(model.id)) == 1
