"""Red team: pickles that reach code through names the reader allowed — each proven to run under a plain
``torch.load(weights_only=False)`` (a marker file appears), then refused by ours with no marker."""

from __future__ import annotations

import time

import pytest

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from remote_agent.safe_pickle import restricted_load
from tests.library.hostile import torch_zip
from tests.library.hostile_build import body, global_op, inert_model, model_cfg, naive_load, touch_activation

MODEL = "ultralytics.nn.tasks.DetectionModel"


def _ckpt(extra_ops: bytes, proto: int = 2) -> bytes:
    """A benign-looking checkpoint (inert model with a config) whose key ``x`` holds ``extra_ops``."""
    ops = bytes([0x80, proto]) + b"}" + body("model") + inert_model(yaml=model_cfg()) + b"s"
    ops += body("train_args") + body({"task": "detect"}) + b"s"
    return ops + body("x") + extra_ops + b"s."


def _stack_global(module: str, name: str) -> bytes:
    return b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode() + b"\x93"


def _hostile(marker) -> dict[str, bytes]:
    cfg = model_cfg(touch_activation(marker))
    return {
        # protocol 4 resolves a dotted name as an attribute path: pathlib.Path.touch('/marker') creates the file
        "dotted_name_path_touch": _ckpt(_stack_global("pathlib", "Path.touch") + body((str(marker),)) + b"R", 4),
        # the same reached by builtins.getattr (allowed for Detect.forward): getattr(pathlib.Path, 'touch')(marker)
        "getattr_path_touch": _ckpt(global_op("builtins.getattr") + b"(" + global_op("pathlib.Path") + body("touch")
                                    + b"tR" + body((str(marker),)) + b"R"),
        # copyreg._reconstructor(cls, base, state) runs base.__init__(obj, state): DetectionModel builds from cfg
        "reconstructor_base_init": _ckpt(global_op("copyreg._reconstructor") + b"(" + global_op(MODEL)
                                         + global_op(MODEL) + body(cfg) + b"tR"),
        # a lower-case function of ultralytics called with a config: parse_model evaluates its activation
        "lowercase_function_call": _ckpt(global_op("ultralytics.nn.tasks.parse_model") + body((cfg, 3)) + b"R"),
    }


@pytest.mark.parametrize("kind", sorted(_hostile(None)))
def test_code_through_allowed_names_runs_naively_and_is_refused(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = torch_zip(tmp_path / f"{kind}.pt", _hostile(marker)[kind])
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "executable_code", e.value.message
    assert not marker.exists()
    naive_load("torch", [path], tmp_path)
    assert marker.exists(), "the payload should be dangerous under a plain torch.load"


def test_getattr_as_ultralytics_checkpoints_use_it_is_inert():
    """``Detect.forward`` and ``InterpolationMode.BILINEAR`` through getattr are data; a dunder is not."""
    ok = _ckpt(global_op("builtins.getattr") + b"(" + global_op("ultralytics.nn.modules.head.Detect")
               + body("forward") + b"tR")
    ckpt, _ = restricted_load(ok)
    assert ckpt["x"].qualname == "ultralytics.nn.modules.head.Detect.forward"
    dunder = _ckpt(global_op("builtins.getattr") + b"(" + global_op("ultralytics.nn.modules.head.Detect")
                   + body("__init__") + b"tR")
    with pytest.raises(Exception, match="builtins.getattr"):
        restricted_load(dunder)


def test_state_set_on_a_reader_function_is_refused_and_does_not_persist(tmp_path, checkpoints):
    """BUILD on the tensor-rebuild function would replace what every later load calls (state shared by the process)."""
    folder, _ = checkpoints
    polluted = _ckpt(global_op("torch._utils._rebuild_tensor_v2") + body((None, {"func": None})) + b"b")
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(torch_zip(tmp_path / "pollute.pt", polluted))
    assert e.value.code == "not_checkpoint"
    info = inspect_checkpoint(folder / "detect_yolo26n.pt")  # a later load is not affected
    assert info.params and info.params > 1_000_000 and info.dtype == "float16"


def test_persistent_id_with_a_huge_key_is_refused_at_once(tmp_path):
    """torch's storage keys are short strings; str() of a 200 000-item list, repeated, would cost seconds."""
    big = b"]q\xc8(" + b"K\x01" * 200_000 + b"e0"  # memo 200: a list of 200 000 ints, popped
    pid = b"(" + body("storage") + global_op("torch.FloatStorage") + b"h\xc8" + body("cpu") + body(1) + b"tQ"
    data = _ckpt(big + b"(" + pid * 5_000 + b"l")
    t = time.monotonic()
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(torch_zip(tmp_path / "pid.pt", data))
    assert time.monotonic() - t < 2.0
    assert e.value.code == "not_checkpoint" and "persistent id" in e.value.message
