"""Red team: checkpoint fields that ultralytics acts on *after* its safe load. ``train_args["data"]`` is kept as an
override; ``model.val()`` (or an INT8 export) without ``data=`` downloads a URL and ``exec``s its ``download:``."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from remote_agent.gate import load_yolo
from tests.library.hostile import torch_zip
from tests.library.hostile_build import ROOT, checkpoint_pickle, inert_model, model_cfg

_WITH_DATA = r"""
import sys, torch
ck = torch.load(sys.argv[1], weights_only=False)
ck["train_args"]["data"] = sys.argv[3]
torch.save(ck, sys.argv[2])
"""
_SAFE_LOAD_THEN_VAL = r"""
import sys, warnings
warnings.simplefilter("ignore")
from ultralytics import YOLO
model = YOLO(sys.argv[1])  # ULTRALYTICS_SAFE_LOAD=1: the restricted loader accepts the file
try:
    model.val(imgsz=64, batch=1, device="cpu", plots=False)  # no data=: the checkpoint's is used
except Exception as e:
    print(type(e).__name__)
"""


def _evil_yaml(folder, marker):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evil.yaml").write_text(
        f"path: {folder}/nowhere\ntrain: images\nval: images\nnames: {{0: a, 1: b}}\n"
        f"download: |\n  import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    return folder / "evil.yaml"


def _with_data(checkpoints, tmp_path, data: str):
    folder, _ = checkpoints
    out = tmp_path / "with_data.pt"
    subprocess.run([sys.executable, "-c", _WITH_DATA, str(folder / "detect_yolo26n.pt"), str(out), data],
                   check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture
def served(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a data.yaml whose download: creates a marker file."""
    marker = tmp_path / "pwned"
    root = _evil_yaml(tmp_path / "srv", marker).parent
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/evil.yaml", marker
    server.shutdown()
    server.server_close()


def test_data_url_runs_code_after_ultralytics_safe_load(checkpoints, tmp_path, served):
    url, marker = served
    path = _with_data(checkpoints, tmp_path, url)
    env = dict(os.environ, ULTRALYTICS_SAFE_LOAD="1", YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(tmp_path / "cfg"),
               PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", _SAFE_LOAD_THEN_VAL, str(path)], capture_output=True, text=True,
                   timeout=300, env=env, cwd=tmp_path)
    assert marker.exists(), "the data URL should run its download: under YOLO(path).val()"


def test_data_url_is_refused_by_inspector_and_gate(checkpoints, tmp_path, served):
    url, marker = served
    path = _with_data(checkpoints, tmp_path, url)
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "executable_code" and "URL" in e.value.message
    with pytest.raises(CheckpointError) as e:
        load_yolo(path)  # the agent's gate: the same scan, before ultralytics sees the file
    assert e.value.code == "executable_code"
    assert not marker.exists()


def _inert_with_args(tmp_path, name: str, args: dict):
    return torch_zip(tmp_path / f"{name}.pt", checkpoint_pickle(inert_model(yaml=model_cfg()), train_args=args))


@pytest.mark.parametrize("data", ["HTTPS://example.com/coco.yaml", "ul://someone/datasets/x", "gs://bucket/d.zip"])
def test_data_urls_of_every_scheme_are_refused(tmp_path, data):
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(_inert_with_args(tmp_path, "url", {"task": "detect", "data": data}))
    assert e.value.code == "executable_code"


def test_data_url_inside_a_multi_source_dict_is_refused(tmp_path):
    data = {"train": {"yolo_data": ["a.yaml"], "grounding_data": [{"img_path": "https://evil/x.zip"}]}}
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(_inert_with_args(tmp_path, "dict", {"task": "detect", "data": data}))
    assert e.value.code == "executable_code"


def test_local_data_yaml_with_download_is_refused(tmp_path):
    evil = _evil_yaml(tmp_path / "ds", tmp_path / "pwned")
    for data in (str(evil), str(evil.parent)):  # the YAML, and the folder holding it
        with pytest.raises(CheckpointError) as e:
            inspect_checkpoint(_inert_with_args(tmp_path, "local", {"task": "detect", "data": data}))
        assert e.value.code == "executable_code" and "download" in e.value.message


def test_fifo_as_data_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.yaml"
    os.mkfifo(fifo)
    t = time.monotonic()
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(_inert_with_args(tmp_path, "fifo", {"task": "detect", "data": str(fifo)}))
    assert time.monotonic() - t < 2.0 and e.value.code == "executable_code" and "block" in e.value.message


def test_benign_data_values_pass_and_bare_names_are_reported(tmp_path):
    gone = _inert_with_args(tmp_path, "gone", {"task": "detect", "data": "/home/someone/datasets/mine/data.yaml"})
    assert inspect_checkpoint(gone).warnings == []  # another machine's path: ultralytics falls back to its default
    bare = inspect_checkpoint(_inert_with_args(tmp_path, "bare", {"task": "detect", "data": "coco.yaml"}))
    assert bare.data == "coco.yaml" and any("download" in w for w in bare.warnings)
