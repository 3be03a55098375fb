"""The loading gate (remote_agent.gate): hostile checkpoints are refused without running, trusted ones load.

Each code-execution case is first shown dangerous: a naive ``YOLO(path)`` / ``torch.load`` in a fresh
process creates the marker file. Then ours refuses it and the marker never appears.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from remote_agent.checkpoint_scan import CheckpointError, sha256_file
from tests.library.hostile import hostile_payloads, torch_zip

ROOT = Path(__file__).resolve().parents[2]
DETECT = "detect_yolo26n.pt"


class _Reduce:
    def __init__(self, func, args):  # noqa: ANN001
        self.func, self.args = func, args

    def __reduce__(self):  # noqa: ANN204
        return self.func, self.args


def constructed_model_pt(path: Path, marker: Path) -> Path:
    """A checkpoint whose pickle REDUCEs DetectionModel(cfg): allow-listed class, but cfg's activation is code
    that ultralytics ``eval``s while it builds the layers."""
    from ultralytics.nn.tasks import DetectionModel, yaml_model_load

    cfg = yaml_model_load("yolo26n.yaml")
    cfg["activation"] = f"__import__('pathlib').Path({str(marker)!r}).touch() or nn.SiLU()"
    ckpt = {"epoch": -1, "date": "2026-01-01", "version": "8.4.190", "model": _Reduce(DetectionModel, (cfg,)),
            "train_args": {"task": "detect", "imgsz": 64}}
    return torch_zip(path, pickle.dumps(ckpt, protocol=2))


def os_system_pt(path: Path, marker: Path) -> Path:
    """The classic: a REDUCE of os.system inside a torch zip."""
    return torch_zip(path, hostile_payloads(marker)["os.system"])


def odd_pt(checkpoints: tuple[Path, dict], path: Path) -> Path:
    """A real checkpoint with an argparse.Namespace in it (as old training scripts saved): the safe loader refuses it."""
    import torch

    ckpt = torch.load(checkpoints[0] / DETECT, weights_only=False)
    ckpt["opt"] = argparse.Namespace(epochs=3)
    torch.save(ckpt, path)
    return path


def naive(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (with PATH bound to the file) in a fresh interpreter with ultralytics' defaults."""
    env = {k: v for k, v in os.environ.items() if k != "ULTRALYTICS_SAFE_LOAD"}
    return subprocess.run([sys.executable, "-c", f"PATH = {str(path)!r}\n{code}"], capture_output=True, text=True,
                          timeout=300, cwd=path.parent, env={**env, "YOLO_OFFLINE": "1"})


def test_a_naive_export_of_the_constructed_model_runs_its_code(tmp_path):
    marker = tmp_path / "MARKER"
    evil = constructed_model_pt(tmp_path / "evil.pt", marker)
    naive("from ultralytics import YOLO\nYOLO(PATH).export(format='torchscript', imgsz=64)", evil)
    assert marker.exists()  # the danger is real under the installed versions


def test_a_naive_torch_load_of_the_os_system_pickle_runs_it(tmp_path):
    marker = tmp_path / "MARKER"
    evil = os_system_pt(tmp_path / "evil.pt", marker)
    naive("import torch\ntry:\n    torch.load(PATH, weights_only=False)\nexcept Exception:\n    pass", evil)
    assert marker.exists()


@pytest.mark.parametrize("build", [constructed_model_pt, os_system_pt])
def test_the_gate_refuses_code_without_running_it(tmp_path, build):
    from remote_agent.gate import TRUSTABLE, load_yolo

    marker = tmp_path / "MARKER"
    evil = build(tmp_path / "evil.pt", marker)
    t0 = time.monotonic()
    with pytest.raises(CheckpointError) as got:
        load_yolo(evil)
    assert time.monotonic() - t0 < 2
    assert got.value.code in TRUSTABLE
    assert got.value.details["sha256"] == sha256_file(evil)  # what the app offers to trust: exactly these bytes
    assert "evil.pt" in got.value.message and "Traceback" not in got.value.message
    assert not marker.exists()


def test_ultralytics_safe_loader_alone_refuses_the_constructed_model(tmp_path):
    """Behind the inspector's scan, the second wall: the safe loader builds the layers without eval."""
    import ultralytics.nn.tasks as tasks

    from remote_agent.gate import UNTRUSTED, _load

    marker = tmp_path / "MARKER"
    evil = constructed_model_pt(tmp_path / "evil.pt", marker)
    before = tasks.SAFE_LOAD
    with pytest.raises(CheckpointError) as got:
        _load(evil, None, True, evil.name, "0" * 64)
    assert got.value.code == UNTRUSTED and "--trust" in got.value.message
    assert not marker.exists()
    assert tasks.SAFE_LOAD == before  # the process-wide flag is put back


def test_a_refused_file_loads_once_its_sha256_is_trusted(checkpoints, tmp_path):
    from remote_agent.gate import UNTRUSTED, load_yolo

    odd = odd_pt(checkpoints, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError) as got:
        load_yolo(odd, task="detect", trusted=["f" * 64])  # someone else's file trusted: not this one
    assert got.value.code == UNTRUSTED
    model = load_yolo(odd, task="detect", trusted=[got.value.details["sha256"]])
    assert model.task == "detect" and model.gate_sha256 == sha256_file(odd)


def test_a_benign_checkpoint_loads_through_the_gate_from_a_private_copy(checkpoints, tmp_path):
    from remote_agent.gate import load_yolo

    src = checkpoints[0] / DETECT
    copy = tmp_path / "run" / "weights.pt"
    model = load_yolo(src, copy_to=copy)
    assert model.task == "detect" and Path(model.ckpt_path) == copy
    assert sha256_file(copy) == sha256_file(src) == model.gate_sha256
    assert copy.stat().st_mode & 0o077 == 0  # owner-only: nobody swaps the bytes between check and load


def test_only_regular_files_are_opened(tmp_path):
    from remote_agent.gate import load_yolo

    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    for path in (fifo, tmp_path, Path("/dev/zero")):
        with pytest.raises(CheckpointError) as got:
            load_yolo(path)
        assert got.value.code == "not_regular_file"
    assert time.monotonic() - t0 < 2  # a FIFO with no writer does not hang the gate
    with pytest.raises(CheckpointError) as got:
        load_yolo(tmp_path / "gone.pt")
    assert got.value.code == "missing"


def test_a_zip_with_junk_is_a_verdict_not_a_traceback(tmp_path):
    from remote_agent.gate import load_yolo

    junk = tmp_path / "junk.pt"
    with zipfile.ZipFile(junk, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError) as got:
        load_yolo(junk)
    assert got.value.code == "not_checkpoint"


def test_the_inspectors_scan_runs_in_the_gate_where_the_safe_loader_alone_would_load(checkpoints, tmp_path):
    """A second, hostile data.pkl under the same name: torch reads the benign one, so only the scan's zip check
    stands between the file and a load whose verdict depends on which member a reader picks."""
    import warnings

    from remote_agent.gate import load_yolo

    twin = tmp_path / "twin.pt"
    twin.write_bytes((checkpoints[0] / DETECT).read_bytes())
    with zipfile.ZipFile(twin) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
    with warnings.catch_warnings(), zipfile.ZipFile(twin, "a") as z:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the point
        z.writestr(pkl, hostile_payloads(tmp_path / "MARKER")["os.system"])
    with pytest.raises(CheckpointError) as got:
        load_yolo(twin)
    assert got.value.code != "untrusted_checkpoint"  # the scan's verdict, before ultralytics opens it
    assert not (tmp_path / "MARKER").exists()
