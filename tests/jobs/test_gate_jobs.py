"""The gate in real agent processes: exports, fine-tunings and predictions of hostile weights fail with a verdict.

No marker file ever appears; a trusted file (``--trust``, the library's table) goes through; benign weights
still train and export (tests/jobs, tests/exporters cover those in full).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.jobs.spec import TrainRequest
from tests.jobs.conftest import FAST
from tests.jobs.test_gate import DETECT, constructed_model_pt, odd_pt, os_system_pt

ROOT = Path(__file__).resolve().parents[2]


def yd(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)


def swapped_in(lib, checkpoints, hostile: Path):
    """A library model whose stored weights were replaced by ``hostile`` after the import (the check/use race)."""
    model = lib.import_checkpoint(checkpoints[0] / DETECT).model
    os.chmod(model.weights_path, 0o644)
    shutil.copyfile(hostile, model.weights_path)
    return model


def test_yolodesk_export_of_hostile_weights_fails_with_the_verdict(home, lib, checkpoints, tmp_path):
    marker = tmp_path / "MARKER"
    for build in (constructed_model_pt, os_system_pt):
        model = swapped_in(lib, checkpoints, build(tmp_path / f"{build.__name__}.pt", marker))
        out = yd(home, "export", model.id, "format=torchscript", "imgsz=64")
        assert out.returncode == 1, out.stdout + out.stderr
        job = json.loads(yd(home, "jobs", "--json").stdout)[0]
        assert job["status"] == "Failed" and job["error"].startswith(("executable_code:", "untrusted_checkpoint:"))
        assert "Traceback" not in job["error"] and "weights.pt" in job["error"]
        assert not marker.exists()


def test_fine_tuning_from_a_hostile_pt_fails_without_running_it(manager, tiny_data, tmp_path):
    marker = tmp_path / "MARKER"
    evil = constructed_model_pt(tmp_path / "evil.pt", marker)
    req = TrainRequest(model=str(evil), task="detect", data=str(tiny_data["detect"]), epochs=1, imgsz=64, batch=4,
                       extra=dict(FAST))
    job = manager.wait(manager.submit_train(req).id, 120)
    assert job.status == "Failed"
    assert job.error.split(":")[0] in ("executable_code", "untrusted_checkpoint"), job.error
    assert "Traceback" not in job.error and "evil.pt" in job.error
    assert not marker.exists()
    assert manager.lib.model(job.model_id).status == "Failed"


def test_predict_of_a_hostile_pt_refuses_it(home, tmp_path):
    import cv2
    import numpy as np

    marker = tmp_path / "MARKER"
    evil = constructed_model_pt(tmp_path / "evil.pt", marker)
    cv2.imwrite(str(tmp_path / "img.jpg"), np.zeros((64, 64, 3), np.uint8))
    out = yd(home, "predict", str(evil), str(tmp_path / "img.jpg"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "evil.pt" in out.stderr and "--trust" in out.stderr
    assert not marker.exists()


def test_a_refused_export_goes_through_once_trusted(home, lib, checkpoints, tmp_path):
    odd = odd_pt(checkpoints, tmp_path / "odd.pt")
    model = lib.import_checkpoint(odd).model
    out = yd(home, "export", model.id, "format=torchscript", "imgsz=64")
    assert out.returncode == 1
    job = json.loads(yd(home, "jobs", "--json").stdout)[0]
    assert job["error"].startswith("untrusted_checkpoint:") and "safe loader refused" in job["error"]
    assert not lib.is_trusted(model.sha256)
    out = yd(home, "export", model.id, "format=torchscript", "imgsz=64", "--trust")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert lib.is_trusted(model.sha256)
    assert json.loads(yd(home, "jobs", "--json").stdout)[0]["status"] == "Completed"


def test_a_refused_fine_tuning_goes_through_once_trusted(home, lib, checkpoints, tiny_data, tmp_path):
    odd = odd_pt(checkpoints, tmp_path / "odd.pt")
    args = ("train", f"model={odd}", f"data={tiny_data['detect']}", "epochs=1", "imgsz=64", "batch=4", "workers=0",
            "plots=False", "amp=False")
    out = yd(home, *args)
    assert out.returncode == 1 and "untrusted_checkpoint" in out.stderr, out.stderr[-2000:]
    out = yd(home, *args, "--trust")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    jobs = json.loads(yd(home, "jobs", "--json").stdout)
    assert [j["status"] for j in jobs if j["kind"] == "train"] == ["Completed", "Failed"]  # (and its own val)


def test_predict_trust_is_remembered_by_sha256(home, lib, checkpoints, tmp_path):
    import cv2
    import numpy as np

    odd = odd_pt(checkpoints, tmp_path / "odd.pt")
    cv2.imwrite(str(tmp_path / "img.jpg"), np.zeros((64, 64, 3), np.uint8))
    out = yd(home, "predict", str(odd), str(tmp_path / "img.jpg"))
    assert out.returncode == 1 and "safe loader refused" in out.stderr and "Traceback" not in out.stderr
    assert yd(home, "predict", str(odd), str(tmp_path / "img.jpg"), "--trust").returncode == 0
    from remote_agent.checkpoint_scan import sha256_file

    assert lib.is_trusted(sha256_file(odd))
    assert yd(home, "predict", str(odd), str(tmp_path / "img.jpg")).returncode == 0  # remembered: no --trust now
