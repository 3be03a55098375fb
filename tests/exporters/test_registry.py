"""The format registry against the installed ultralytics: a format, argument, toolchain or chip it lacks fails here."""

from __future__ import annotations

import pytest

from app.exporters import registry as reg


@pytest.fixture(scope="module")
def ul():
    from ultralytics.engine import exporter
    from ultralytics.utils import QNN_HTP_TARGETS, RKNN_CHIPS, XILINX_TARGETS

    return exporter, RKNN_CHIPS, QNN_HTP_TARGETS, XILINX_TARGETS


def test_every_format_ultralytics_lists_is_registered_as_it_lists_it(ul):
    exporter = ul[0]
    table = exporter.export_formats()
    rows = [dict(zip(table, row, strict=True)) for row in zip(*table.values(), strict=True)]
    listed = {r["Argument"]: r for r in rows if r["Argument"] != "-"}
    assert set(listed) == set(reg.BY_ARGUMENT), "formats added or removed in ultralytics"
    for arg, row in listed.items():
        f = reg.get(arg)
        assert (f.suffix, f.cpu, f.gpu, f.toolchain) == (row["Suffix"], row["CPU"], row["GPU"], row["Env"]), arg
        assert set(f.args) == set(row["Arguments"]), f"{arg}: arguments differ"
        assert set(f.args) <= set(reg.ARGS), f"{arg}: an argument without a definition"


def test_toolchains_are_ultralytics_export_environments(ul):
    exporter = ul[0]
    assert set(reg.TOOLCHAINS) <= set(exporter.EXPORT_ENVS)


def test_quantize_options_match_the_exporter(ul):
    exporter = ul[0]
    assert reg.FP16_FORMATS == exporter.FP16_FORMATS and reg.INT8_FORMATS == exporter.INT8_FORMATS
    assert reg.W8A16_FORMATS == exporter.W8A16_FORMATS and reg.W8A32_FORMATS == exporter.W8A32_FORMATS
    assert reg.FP32_UNSUPPORTED_FORMATS == exporter.FP32_UNSUPPORTED_FORMATS


def test_target_chips_match(ul):
    _, rknn, qnn, xilinx = ul
    assert set(reg.RKNN_CHIPS) == set(rknn)
    assert {"rk3588", "rk3576", "rk3568", "rk3566", "rk3562", "rv1103", "rv1106", "rv1103b", "rv1106b", "rk2118",
            "rv1126b"} == set(reg.RKNN_CHIPS)
    assert set(reg.QNN_TARGETS) == set(qnn) and tuple(reg.XILINX_TARGETS) == tuple(xilinx)


def test_export_arguments_of_the_default_config_are_defined():
    from ultralytics.cfg import DEFAULT_CFG_DICT

    for key in ("dynamic", "simplify", "opset", "workspace", "optimize", "nms", "batch", "data", "fraction", "name"):
        assert key in DEFAULT_CFG_DICT and key in reg.ARGS, key


@pytest.mark.parametrize(("fmt", "task", "arch", "args", "problem"), [
    ("imx", "detect", "YOLO26n", {}, "only for YOLOv8n and YOLO11n"),
    ("imx", "detect", "YOLO11n", {}, None),
    ("imx", "obb", "YOLOv8n-obb", {}, "supports detect, segment, pose and classify"),
    ("axelera", "segment", "YOLO11n-seg", {}, "detection models only"),
    ("axelera", "detect", "YOLO11n", {"imgsz": 32}, "imgsz ≥ 64"),
    ("paddle", "detect", "YOLO26n", {}, "YOLO26"),
    ("paddle", "classify", "YOLO26n-cls", {}, None),
    ("rknn", "segment", "YOLO11n-seg", {"quantize": 8}, "INT8 export is only for detection"),
    ("rknn", "segment", "YOLO11n-seg", {"name": "rv1106"}, "supports INT8 only"),
    ("rknn", "detect", "YOLO11n", {"name": "rk9999"}, "unknown RKNN chip"),
    ("onnx", "detect", "YOLO26n", {"quantize": "w8a32"}, "does not support quantize=w8a32"),
    ("edgetpu", "detect", "YOLO26n", {"quantize": 32}, "does not support quantize=32"),
    ("edgetpu", "detect", "YOLO26n", {"quantize": None}, None),  # the exporter picks its default precision
    ("torchscript", "detect", "YOLO26n", {"quantize": 16}, "needs a GPU"),
    ("mnn", "segment", "YOLO26n-seg", {"nms": True}, "detect and pose models only"),
    ("onnx", "classify", "YOLO11n-cls", {"nms": True}, "not valid for classification"),
    ("onnx", "detect", "YOLO26n", {"quantize": 8, "dynamic": True}, None),
])
def test_restrictions(fmt, task, arch, args, problem):
    found = reg.restriction(reg.get(fmt), task, arch, args)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_registry_lookup_names_the_valid_formats():
    with pytest.raises(KeyError, match="onnx"):
        reg.get("bogus")
    assert reg.get("openvino").folder and not reg.get("onnx").folder
    assert reg.get("engine").needs_gpu and reg.get("hailo").installable == "vendor-sdk"


def test_the_agent_reports_every_toolchains_package():
    """Workers are judged by the packages the agent's ``info`` lists (it cannot import ``app``): keep them in step."""
    from app.exporters.toolchains import TOOLCHAINS
    from remote_agent.info import PACKAGES

    assert {t.package for t in TOOLCHAINS.values()} <= set(PACKAGES)
