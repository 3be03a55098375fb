"""Models constructed inside the pickle, and model configs ultralytics would evaluate: proven to run code, then refused."""

from __future__ import annotations

import pytest
import yaml

from app.library.checkpoint import CheckpointError, inspect_checkpoint
from remote_agent.model_config import (
    _ACTIVATIONS, _NN, _PARSE_MODEL_LOCALS, _TASKS, _TORCHVISION_OPS, check_model_config,
)
from tests.library.hostile import torch_zip
from tests.library.hostile_build import (
    body, checkpoint_pickle, global_op, inert_model, model_cfg, naive_load, touch_activation,
)

MODEL = "ultralytics.nn.tasks.DetectionModel"


def _constructions(marker) -> dict[str, bytes]:
    cfg = model_cfg(touch_activation(marker))
    return {
        "reduce_with_cfg": checkpoint_pickle(global_op(MODEL) + body((cfg,)) + b"R"),
        "newobj_with_cfg": checkpoint_pickle(global_op(MODEL) + body((cfg,)) + b"\x81"),
        "newobj_ex_with_kwargs": checkpoint_pickle(global_op(MODEL) + b")" + body({"cfg": cfg}) + b"\x92"),
        # torch's own tensor-subclass rebuild calls func(*args): the class smuggled in as func
        "rebuild_from_type_v2": checkpoint_pickle(
            global_op("torch._tensor._rebuild_from_type_v2") + b"(" + global_op(MODEL) + global_op(MODEL)
            + body((cfg,)) + body({}) + b"tR"),
    }


def _write(tmp_path, name: str, data: bytes):
    return torch_zip(tmp_path / f"{name}.pt", data)


@pytest.mark.parametrize("kind", ["reduce_with_cfg", "newobj_with_cfg", "newobj_ex_with_kwargs", "rebuild_from_type_v2"])
def test_model_constructed_with_arguments_is_refused(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = _write(tmp_path, kind, _constructions(marker)[kind])
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "executable_code"
    assert "DetectionModel" in e.value.message and "with arguments" in e.value.message
    assert not marker.exists()


def test_layer_constructed_with_arguments_is_refused(tmp_path):
    conv = global_op("ultralytics.nn.modules.conv.Conv") + body((3, 16)) + b"R"
    state = b"}" + body("_modules") + b"}" + body("0") + conv + b"s" + b"s"
    model = global_op(MODEL) + b")\x81" + state + b"b"
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(_write(tmp_path, "conv", checkpoint_pickle(model)))
    assert e.value.code == "executable_code" and "Conv with arguments" in e.value.message


def test_construction_with_cfg_runs_code_under_a_plain_yolo_load(tmp_path):
    """The danger is real: ultralytics' YOLO(path) builds the model from the smuggled config and evaluates it."""
    marker = tmp_path / "pwned"
    path = _write(tmp_path, "reduce", _constructions(marker)["reduce_with_cfg"])
    naive_load("yolo", [path], tmp_path)
    assert marker.exists()


def _inert_checkpoint(tmp_path, name: str, cfg: dict):
    return _write(tmp_path, name, checkpoint_pickle(inert_model(yaml=cfg)))


def _hostile_configs(marker) -> dict[str, dict]:
    return {
        "activation_expression": model_cfg(touch_activation(marker)),
        "activation_not_activation": model_cfg("nn.Conv2d(3, 3, 3)"),
        "activation_call_in_args": model_cfg("nn.LeakyReLU(__import__('os').getpid())"),
        "module_not_a_layer": model_cfg(backbone=[[-1, 1, "check_requirements", ["evil-package"]]]),
        "module_dunder": model_cfg(backbone=[[-1, 1, "__builtins__", []]]),
        "module_whole_model": model_cfg(backbone=[[-1, 1, "DetectionModel", [{"activation": "x"}]]]),
        "string_arg_expression": model_cfg(backbone=[[-1, 1, "Conv", ["__import__('os').system('id')", 3, 2]]]),
        "cfg_not_a_dict": "/tmp/evil.yaml",  # type: ignore[dict-item]
    }


@pytest.mark.parametrize("kind", sorted(_hostile_configs(None)))
def test_checkpoint_with_hostile_model_config_is_refused(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = _inert_checkpoint(tmp_path, kind, _hostile_configs(marker)[kind])
    with pytest.raises(CheckpointError) as e:
        inspect_checkpoint(path)
    assert e.value.code == "executable_code"
    assert e.value.message.startswith("contains executable code, refused: its model config")
    assert not marker.exists()


def test_hostile_activation_runs_when_ultralytics_builds_the_config(tmp_path):
    """Building a model from that config (what training from the checkpoint or from a YAML does) runs it."""
    marker = tmp_path / "pwned"
    cfg_file = tmp_path / "evil.yaml"
    cfg_file.write_text(yaml.safe_dump(model_cfg(touch_activation(marker))))
    result = naive_load("build", [cfg_file], tmp_path)
    assert marker.exists(), result
    with pytest.raises(CheckpointError) as e:
        check_model_config(yaml.safe_load(cfg_file.read_text()))  # the same gate for a YAML file
    assert e.value.code == "executable_code"


def test_benign_configs_pass(tmp_path):
    info = inspect_checkpoint(_inert_checkpoint(tmp_path, "ok", model_cfg("nn.LeakyReLU(0.1, inplace=True)")))
    assert info.names == ["a", "b"]
    check_model_config(model_cfg("torch.nn.SiLU()"))


def test_every_model_yaml_ultralytics_ships_passes():
    import importlib.util
    from pathlib import Path

    root = Path(importlib.util.find_spec("ultralytics").origin).parent / "cfg" / "models"
    files = sorted(root.rglob("*.yaml"))
    assert len(files) > 40
    for f in files:
        check_model_config(yaml.safe_load(f.read_text()))


def test_frozen_layer_names_match_the_installed_ultralytics():
    from tests.library.hostile_layer_names import installed_layer_names

    installed = installed_layer_names()
    frozen = {"tasks": _TASKS, "nn": _NN, "torchvision_ops": _TORCHVISION_OPS, "activations": _ACTIVATIONS,
              "parse_model_locals": _PARSE_MODEL_LOCALS}
    for key, names in installed.items():
        assert sorted(frozen[key].split()) == names, f"{key}: run python tests/library/hostile_layer_names.py"
