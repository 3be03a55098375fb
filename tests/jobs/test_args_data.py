"""Data sets that ultralytics would execute or fetch are refused before a job exists, and again by the agent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.jobs.spec import SpecError, TrainRequest
from app.offline import offline_env
from remote_agent.data_check import DOWNLOAD_REFUSAL, refuse_unsafe_data, unsafe_data_reason
from tests.helpers import FAST

ROOT = Path(__file__).resolve().parents[2]


def hostile_copy(clean: Path, folder: Path, marker: Path, **extra: str) -> Path:
    """The demo data set, with a ``download:`` script that writes ``marker`` and ``path: .`` (ultralytics reads
    that relative to its working folder, finds no val images there, and runs the script; we read it relative
    to the YAML and find them)."""
    shutil.copytree(clean.parent, folder)
    lines = [f"path: {extra.pop('path', '.')}", "train: images/train", "val: images/val", "names:", "  0: circle",
             "  1: square", "  2: triangle",
             f"download: |\n  open({str(marker)!r}, 'w').write('ran')"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    (folder / "data.yaml").write_text("\n".join(lines) + "\n")
    return folder / "data.yaml"


def test_plain_ultralytics_runs_a_download_script_and_we_refuse_it(manager, lib, tiny_data, tmp_path):
    marker = tmp_path / "ran-from-download.txt"
    data = hostile_copy(tiny_data["detect"], tmp_path / "hostile", marker)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    code = f"from ultralytics.data.utils import check_det_dataset; check_det_dataset({str(data)!r})"
    env = dict(os.environ, **offline_env(tmp_path / "naive-home"))
    subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, timeout=120)
    assert marker.read_text() == "ran"  # the danger is real: ultralytics exec'd the YAML's script
    marker.unlink()

    req = TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=1, imgsz=64, extra=dict(FAST))
    with pytest.raises(SpecError) as e:
        manager.submit_train(req)
    assert DOWNLOAD_REFUSAL in e.value.problems["dataset"]
    assert not marker.exists()
    assert manager.store.list() == [] and lib.models() == [] and lib.datasets() == []


def test_the_agent_refuses_it_too_when_a_job_arrives_by_other_means(tiny_data, tmp_path):
    marker = tmp_path / "ran-from-download.txt"
    data = hostile_copy(tiny_data["detect"], tmp_path / "hostile", marker)
    run_dir = tmp_path / "run"
    spec = {"id": "j1", "kind": "train", "run_dir": str(run_dir),
            "args": {"model": "yolo26n.yaml", "data": str(data), "epochs": 1, "imgsz": 64, **FAST}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, **offline_env(tmp_path / "agent-home"))
    out = subprocess.run([sys.executable, "-m", "remote_agent", "run", str(tmp_path / "spec.json")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    failed = [e for e in events if e["type"] == "failed"]
    assert not marker.exists()  # without the agent's check, ultralytics runs the script here
    assert out.returncode == 1 and failed, out.stdout[-2000:] + out.stderr[-2000:]
    assert DOWNLOAD_REFUSAL in failed[0]["message"]
    assert not (run_dir / "train").exists()  # refused before ultralytics made its run folder


def test_other_fields_ultralytics_would_fetch_or_unpack(tiny_data, tmp_path):
    clean = tiny_data["detect"]
    assert unsafe_data_reason(clean) is None and unsafe_data_reason(tiny_data["classify"]) is None
    assert "URL" in unsafe_data_reason("https://example.com/coco8.zip")
    assert "URL" in unsafe_data_reason("ul://someone/datasets/coco8")
    assert "bare name" in unsafe_data_reason("coco8")  # ultralytics' own coco8.yaml carries a download: URL
    marker = tmp_path / "m"
    url_train = hostile_copy(clean, tmp_path / "url-train", marker)
    url_train.write_text(url_train.read_text().replace("download: |", "unused: |").replace(
        "train: images/train", "train: https://example.com/images.zip"))
    assert "`train:` is a URL" in unsafe_data_reason(url_train)
    archive = tmp_path / "data.yaml"  # a zip named like a data.yaml: ultralytics unpacks it
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner/data.yaml", f"download: open({str(marker)!r}, 'w')\n")
    assert "archive" in unsafe_data_reason(archive)
    folder = tmp_path / "folder"  # a folder given as data: ultralytics uses the data.yaml it finds inside
    hostile_copy(clean, folder, marker)
    assert DOWNLOAD_REFUSAL in unsafe_data_reason(folder)
    with pytest.raises(ValueError, match="does not run it"):
        refuse_unsafe_data(folder / "data.yaml")
    assert not marker.exists()


def test_a_yaml_with_bytes_that_are_not_utf8_is_judged_as_ultralytics_reads_it(tiny_data, tmp_path):
    marker = tmp_path / "m"
    data = hostile_copy(tiny_data["detect"], tmp_path / "bytes", marker)
    data.write_bytes(b"# \xff\xfe odd bytes ultralytics drops\n" + data.read_bytes())
    assert DOWNLOAD_REFUSAL in unsafe_data_reason(data)
    req = TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=1, imgsz=64)
    with pytest.raises(SpecError) as e:
        req.validate()
    assert DOWNLOAD_REFUSAL in e.value.problems["dataset"]
