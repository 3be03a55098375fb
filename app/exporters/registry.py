"""Every export format of the pinned ultralytics (8.4.190), as plain data: arguments, hardware, toolchain, limits.

Read from ``ultralytics/engine/exporter.py`` (``export_formats()``, ``EXPORT_ENVS``, the argument and
quantization tables and the checks in ``Exporter.__call__``) and ``ultralytics/utils/export/*``.
``tests/exporters/test_registry.py`` fails when the installed ultralytics lists a format, an argument,
a toolchain or a target chip this registry lacks, so an upgrade cannot slip past it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RKNN_CHIPS = ("rk3588", "rk3576", "rk3568", "rk3566", "rk3562", "rv1103", "rv1106", "rv1103b", "rv1106b", "rk2118",
              "rv1126b")
RKNN_INT8_ONLY = ("rv1103", "rv1106", "rv1103b", "rv1106b")
QNN_TARGETS = ("68", "69", "73", "75", "79", "81", "iq-8275", "qcs8275")
XILINX_TARGETS = ("ve2-xc2ve3858", "ve2-xc2ve3504", "ve2-xc2ve3558", "ve2-xc2ve3804", "ve2-xc2ve3304",
                  "ve2-xc2ve3358")
HAILO_ARCHS = ("hailo8", "hailo8l", "hailo10h", "hailo15h", "hailo15l")

# quantize precisions per format (exporter.py FP16_FORMATS, INT8_FORMATS, W8A16_FORMATS, W8A32_FORMATS, …)
FP16_FORMATS = frozenset({"torchscript", "onnx", "openvino", "engine", "coreml", "coreai", "mnn", "ncnn", "rknn",
                          "ascend"})
INT8_FORMATS = frozenset({"onnx", "openvino", "engine", "coreml", "saved_model", "edgetpu", "litert", "mnn", "imx",
                          "rknn", "axelera", "deepx", "hailo", "xilinx"})
W8A16_FORMATS = frozenset({"coreml", "litert", "qnn"})
W8A32_FORMATS = frozenset({"litert"})
FP32_UNSUPPORTED_FORMATS = frozenset({"edgetpu", "imx", "rknn", "axelera", "deepx", "qnn", "hailo", "ascend",
                                      "xilinx"})


@dataclass(frozen=True)
class ExportArg:
    """One export argument: its type, default, range or choices, and what it does."""

    name: str
    kind: str  # int | float | bool | str | choice | path
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()


ARGS: dict[str, ExportArg] = {a.name: a for a in (
    ExportArg("imgsz", "int", 640, "input image size (pixels, a multiple of the model's stride)", 32, 4096),
    ExportArg("batch", "int", 1, "batch size baked into the exported model", 1, 1024),
    ExportArg("quantize", "choice", None, "precision: FP32 (default), 16 = FP16, 8 = INT8 (needs calibration data), "
              "w8a16 / w8a32 = INT8 weights", choices=(None, 32, 16, 8, "w8a16", "w8a32")),
    ExportArg("dynamic", "bool", False, "dynamic input shapes (variable image sizes)"),
    ExportArg("simplify", "bool", True, "simplify the intermediate ONNX graph (onnxslim)"),
    ExportArg("opset", "int", None, "ONNX opset of the intermediate graph (default: the newest supported)", 7, 24),
    ExportArg("workspace", "float", None, "TensorRT workspace in GiB (default: as much as needed)", 0.5, 1024),
    ExportArg("nms", "bool", False, "embed non-maximum suppression in the model"),
    ExportArg("data", "path", None, "calibration data set (a data.yaml) for INT8; YOLO Desk passes a local one"),
    ExportArg("fraction", "float", 1.0, "fraction of the calibration data set to use", 0.01, 1.0),
    ExportArg("name", "str", None, "target chip or architecture (RKNN chip, QNN target, Xilinx device, Hailo arch, "
              "Ascend SoC)"),
    ExportArg("optimize", "bool", False, "DEEPX: higher compiler optimisation (slower compile, faster inference)"),
    ExportArg("conf", "float", None, "Hailo: confidence threshold compiled into the model", 0.0, 1.0),
    ExportArg("iou", "float", None, "Hailo: NMS IoU threshold compiled into the model", 0.0, 1.0),
)}


@dataclass(frozen=True)
class ExportFormat:
    """One export format as YOLO Desk offers it."""

    name: str
    argument: str  # ultralytics' format=…
    suffix: str  # file suffix or folder ending
    cpu: bool  # ultralytics' table: exports on a CPU
    gpu: bool  # … and on a GPU
    args: tuple[str, ...]  # ultralytics' arguments for it, besides imgsz and device
    toolchain: str  # ultralytics' EXPORT_ENVS name: its own environment
    needs_gpu: bool = False  # can only be built on an NVIDIA GPU (a worker)
    platforms: tuple[str, ...] = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64", "windows-x86_64")
    installable: str = "pip"  # pip | vendor-sdk (not on the package index) | runtime-download
    chips: tuple[str, ...] = ()  # values for name=
    default_name: str | None = None
    notes: str = ""
    quantize: tuple[Any, ...] = field(default=())

    @property
    def folder(self) -> bool:
        """True when the export is a folder (``_openvino_model``), not a file (``.onnx``)."""
        return not self.suffix.startswith(".")


def _quantize_options(fmt: str) -> tuple[Any, ...]:
    opts: list[Any] = [] if fmt in FP32_UNSUPPORTED_FORMATS else [None, 32]
    for value, formats in ((16, FP16_FORMATS), (8, INT8_FORMATS), ("w8a16", W8A16_FORMATS), ("w8a32", W8A32_FORMATS)):
        if fmt in formats:
            opts.append(value)
    return tuple(opts)


_LINUX_X86 = ("linux-x86_64",)
_NOT_WINDOWS = ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64")


def _f(name: str, arg: str, suffix: str, cpu: bool, gpu: bool, args: tuple[str, ...], env: str,
       **kw: Any) -> ExportFormat:
    return ExportFormat(name, arg, suffix, cpu, gpu, args, env, quantize=_quantize_options(arg), **kw)


FORMATS: tuple[ExportFormat, ...] = (
    _f("TorchScript", "torchscript", ".torchscript", True, True, ("batch", "quantize", "nms", "dynamic"), "base",
       notes="FP16 only on a GPU"),
    _f("ONNX", "onnx", ".onnx", True, True,
       ("batch", "data", "dynamic", "quantize", "opset", "simplify", "nms", "fraction"), "base"),
    _f("OpenVINO", "openvino", "_openvino_model", True, False,
       ("batch", "data", "dynamic", "quantize", "nms", "fraction"), "base"),
    _f("TensorRT", "engine", ".engine", False, True,
       ("batch", "data", "dynamic", "quantize", "opset", "simplify", "workspace", "nms", "fraction"), "base",
       needs_gpu=True, platforms=("linux-x86_64", "linux-aarch64", "windows-x86_64"),
       notes="built on the GPU it will run on: needs an NVIDIA GPU worker with tensorrt"),
    _f("CoreML", "coreml", ".mlpackage", True, False, ("batch", "dynamic", "quantize", "nms"), "coreml",
       platforms=_NOT_WINDOWS, notes="dynamic=True not for classification; batch > 1 needs dynamic=True"),
    _f("Core AI", "coreai", ".aimodel", True, False, ("batch", "quantize"), "base",
       platforms=("linux-x86_64", "macos-arm64"), notes="macOS ≥ 26 on Apple silicon, or x86_64 Linux"),
    _f("TensorFlow SavedModel", "saved_model", "_saved_model", True, True,
       ("batch", "data", "fraction", "quantize", "opset", "nms"), "tensorflow"),
    _f("TensorFlow GraphDef", "pb", ".pb", True, True, ("batch", "opset"), "tensorflow"),
    _f("TensorFlow Edge TPU", "edgetpu", "_edgetpu.tflite", True, False, ("data", "fraction", "quantize", "opset"),
       "tensorflow", platforms=("linux-x86_64",), installable="runtime-download",
       notes="INT8 only"),
    _f("LiteRT", "litert", ".tflite", True, False, ("batch", "quantize", "data", "fraction"), "litert",
       platforms=("linux-x86_64", "macos-arm64", "macos-x86_64"), notes="TFLite and TF.js map to LiteRT"),
    _f("PaddlePaddle", "paddle", "_paddle_model", True, True, ("batch",), "base",
       notes="not for YOLO26 detect/segment/pose/obb (measured: the export fails)"),
    _f("MNN", "mnn", ".mnn", True, True, ("batch", "dynamic", "quantize", "opset", "simplify", "nms"), "mnn",
       notes="nms=True only for detect and pose, and not with dynamic=True"),
    _f("NCNN", "ncnn", "_ncnn_model", True, True, ("batch", "quantize"), "ncnn"),
    _f("IMX500", "imx", "_imx_model", True, True, ("data", "quantize", "fraction", "nms"), "isolated-imx",
       platforms=("linux-x86_64",), notes="YOLOv8n and YOLO11n only; detect, segment, pose, classify"),
    _f("RKNN", "rknn", "_rknn_model", False, False,
       ("batch", "name", "quantize", "opset", "simplify", "data", "fraction"), "isolated-rknn",
       platforms=("linux-x86_64", "linux-aarch64"), chips=RKNN_CHIPS, default_name="rk3588",
       notes="INT8 only for detection (and depth); RV1103/RV1106 targets are INT8 only"),
    _f("ExecuTorch", "executorch", "_executorch_model", True, False, ("batch",), "executorch"),
    _f("Axelera", "axelera", "_axelera_model", False, False, ("batch", "quantize", "fraction", "data"),
       "isolated-axelera", platforms=_LINUX_X86, installable="vendor-sdk",
       notes="detection only; imgsz ≥ 64; the Voyager SDK comes from Axelera's own package index"),
    _f("DEEPX", "deepx", "_deepx_model", False, False, ("data", "quantize", "opset", "simplify", "optimize"),
       "isolated-deepx", platforms=_LINUX_X86),
    _f("Qualcomm QNN", "qnn", "_qnn.onnx", False, False,
       ("batch", "name", "quantize", "opset", "simplify", "fraction", "data"), "qnn", chips=QNN_TARGETS,
       default_name="73"),
    _f("Hailo", "hailo", "_hailo_model", False, False, ("name", "quantize", "data", "fraction", "simplify", "conf", "iou"),
       "base", platforms=_LINUX_X86, installable="vendor-sdk", chips=HAILO_ARCHS, default_name="hailo8",
       notes="the Hailo Dataflow Compiler is not on the package index"),
    _f("Huawei Ascend", "ascend", "_ascend_model", False, False,
       ("batch", "name", "quantize", "opset", "simplify", "nms"), "base", platforms=("linux-x86_64", "linux-aarch64"),
       installable="vendor-sdk", default_name="Ascend310B4", notes="needs Huawei's CANN toolkit (ATC)"),
    _f("AMD Xilinx", "xilinx", "_xilinx_model", True, False,
       ("name", "quantize", "data", "fraction", "opset", "simplify"), "isolated-xilinx", platforms=("linux-x86_64",),
       chips=XILINX_TARGETS, default_name=XILINX_TARGETS[0]),
)
BY_ARGUMENT: dict[str, ExportFormat] = {f.argument: f for f in FORMATS}
TOOLCHAINS: tuple[str, ...] = tuple(dict.fromkeys(f.toolchain for f in FORMATS))


def get(argument: str) -> ExportFormat:
    """The format for ``format=…`` (``onnx``, ``engine``…); KeyError with the valid names otherwise."""
    try:
        return BY_ARGUMENT[argument]
    except KeyError:
        raise KeyError(f"unknown export format {argument!r}; formats: {', '.join(BY_ARGUMENT)}") from None


def restriction(fmt: ExportFormat, task: str | None, architecture: str | None, args: dict[str, Any] | None = None,
                platform: str | None = None) -> str | None:
    """Why ``fmt`` cannot be exported for this model (and these arguments) here; None when it can."""
    args = args or {}
    arch = (architecture or "").lower()
    q = args.get("quantize")
    if platform and platform not in fmt.platforms:
        return f"{fmt.name} export does not run on {platform} (it runs on {', '.join(fmt.platforms)})"
    if q is not None and q not in fmt.quantize:
        return f"{fmt.name} does not support quantize={q} (it supports {', '.join(map(str, fmt.quantize))})"
    if fmt.argument == "imx":
        if not (arch.startswith("yolov8n") or arch.startswith("yolo11n")):
            return "IMX500 export is only for YOLOv8n and YOLO11n models"
        if task not in ("detect", "segment", "pose", "classify"):
            return "IMX500 export supports detect, segment, pose and classify models"
    if fmt.argument == "axelera":
        if task != "detect":
            return "Axelera export supports detection models only"
        if int(args.get("imgsz", 640)) < 64:
            return "Axelera export needs imgsz ≥ 64"
    if fmt.argument == "paddle" and arch.startswith("yolo26") and task in ("detect", "segment", "pose", "obb"):
        return "PaddlePaddle export does not work for YOLO26 detect, segment, pose or OBB models"
    if fmt.argument == "rknn":
        chip = str(args.get("name") or fmt.default_name).lower()
        if chip not in RKNN_CHIPS:
            return f"unknown RKNN chip {chip!r} (chips: {', '.join(RKNN_CHIPS)})"
        int8 = q == 8 or chip in RKNN_INT8_ONLY
        if int8 and task not in ("detect", "depth"):
            return "RKNN INT8 export is only for detection models" + (
                f" ({chip} supports INT8 only)" if chip in RKNN_INT8_ONLY else "")
    if fmt.argument == "qnn" and str(args.get("name") or fmt.default_name).lower().lstrip("v") not in QNN_TARGETS:
        return f"unknown QNN target (targets: {', '.join(QNN_TARGETS)})"
    if fmt.argument == "xilinx" and str(args.get("name") or fmt.default_name).lower() not in XILINX_TARGETS:
        return f"unknown Xilinx device (devices: {', '.join(XILINX_TARGETS)})"
    if fmt.argument == "hailo":
        if str(args.get("name") or fmt.default_name) not in HAILO_ARCHS:
            return f"unknown Hailo architecture (architectures: {', '.join(HAILO_ARCHS)})"
        if arch.startswith("yolo26") and task in ("segment", "pose", "obb"):
            return f"Hailo export does not support YOLO26 {task} models"
    if fmt.argument == "torchscript" and q == 16 and not args.get("gpu"):
        return "FP16 TorchScript export needs a GPU"
    if fmt.argument == "mnn" and args.get("nms"):
        if args.get("dynamic"):
            return "MNN export cannot combine dynamic=True with nms=True"
        if task not in ("detect", "pose"):
            return "MNN export with nms=True supports detect and pose models only"
    if fmt.argument == "coreml" and args.get("dynamic") and task == "classify":
        return "CoreML dynamic=True is not supported for classification models"
    if args.get("nms") and task == "classify":
        return "nms=True is not valid for classification models"
    return None
