"""``python -m remote_agent info``: what this machine offers to jobs."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shutil
import sys
from typing import Any

from remote_agent import PROTOCOL_VERSION


# What a worker's Python has for exports: the base runtimes, and what each export toolchain needs there.
PACKAGES = ("onnx", "onnxruntime", "onnxruntime-gpu", "openvino", "tensorrt", "tensorrt-cu12", "psutil", "nvidia-ml-py",
            "ncnn", "MNN", "executorch", "litert-torch", "onnxruntime-qnn", "coreai-torch", "paddlepaddle",
            "coremltools", "tensorflow", "model-compression-toolkit", "rknn-toolkit2", "dx_com", "amd-quark",
            "nncf")  # nncf: OpenVINO INT8


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def _ram_total() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cuda_devices(with_torch: bool) -> tuple[list[dict[str, Any]], str | None]:
    """CUDA devices as torch sees them; the reason when there are none."""
    if not with_torch:
        return [], "not probed (--no-torch)"
    try:
        import torch
    except ImportError:
        return [], "torch is not installed"
    if not torch.cuda.is_available():
        return [], "no CUDA device visible to torch"
    devices = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        devices.append({"index": i, "name": p.name, "memory": int(p.total_memory)})
    return devices, None


def collect(with_torch: bool = True, disk_path: str | None = None) -> dict[str, Any]:
    """Everything ``info`` reports, as a JSON-ready dict."""
    devices, why = _cuda_devices(with_torch)
    disk = shutil.disk_usage(disk_path or os.path.expanduser("~"))
    return {
        "protocol": PROTOCOL_VERSION,
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "torch": _version("torch"),
        "torchvision": _version("torchvision"),
        "ultralytics": _version("ultralytics"),
        "packages": {d: _version(d) for d in PACKAGES},
        "cuda_devices": devices,
        "cuda_note": why,
        "cpu_count": os.cpu_count(),
        "ram_total": _ram_total(),
        "disk_free": disk.free,
    }
