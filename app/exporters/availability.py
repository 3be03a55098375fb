"""What can be exported here: per format, ready or what it needs (a toolchain, a GPU worker, a vendor SDK, …).

Plain functions over the registry, the installed toolchains and this machine; no Qt. The Export tab narrows
the answer per model with :func:`for_model`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.exporters.registry import FORMATS, ExportFormat, restriction
from app.offline import config_dir

# What each format needs importable in the app's own environment (the base toolchain).
BASE_MODULES: dict[str, tuple[str, ...]] = {
    "torchscript": (),
    "onnx": ("onnx", "onnxslim"),
    "openvino": ("openvino",),
    "engine": ("tensorrt",),
    "paddle": ("paddle", "x2paddle"),
    "coreai": ("coreai",),
}


PIP_NAMES = {"paddle": "paddlepaddle", "x2paddle": "x2paddle", "coreai": "coreai-core", "tensorrt": "tensorrt"}

# Extra packages some precisions need (ultralytics would pip-install them; offline it cannot).
PRECISION_MODULES: dict[tuple[str, Any], tuple[tuple[str, str], ...]] = {
    ("openvino", 8): (("nncf", "nncf>=2.14.0"),),
}


def missing_for_args(fmt: str, args: dict[str, Any]) -> str | None:
    """A message with the pip command when the chosen arguments need a package that is not installed."""
    need = PRECISION_MODULES.get((fmt, args.get("quantize")), ())
    missing = [spec for module, spec in need if importlib.util.find_spec(module) is None]
    if missing:
        return (f"{fmt} with quantize={args.get('quantize')} needs {', '.join(missing)}, which is not installed: "
                f"pip install {' '.join(repr(m) for m in missing)}")
    return None


def current_platform() -> str:
    import platform

    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    osname = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    if osname == "macos" and machine == "aarch64":
        machine = "arm64"
    return f"{osname}-{machine}"


def availability(fmt: ExportFormat, platform: str | None = None, home: Path | None = None) -> tuple[str, str]:
    """(state, why): ``ready``, ``needs-gpu``, ``needs-toolchain``, ``vendor-sdk`` or ``unsupported-platform``."""
    from app.exporters.toolchains import Toolchains, toolchain_for
    from app.paths import library_home

    platform = platform or current_platform()
    if platform not in fmt.platforms:
        return "unsupported-platform", f"{fmt.name} export runs on {', '.join(fmt.platforms)}, not {platform}"
    if fmt.needs_gpu:
        return "needs-gpu", "needs an NVIDIA GPU worker with tensorrt: add one under Workers, then export there"
    if fmt.installable == "vendor-sdk":
        return "vendor-sdk", f"needs a vendor SDK that is not on the package index ({fmt.notes})"
    if fmt.toolchain == "base" and fmt.argument in BASE_MODULES:
        missing = [m for m in BASE_MODULES[fmt.argument] if importlib.util.find_spec(m) is None]
        if not missing:
            return "ready", "ready"
        if toolchain_for(fmt.argument) is None:
            names = ", ".join(PIP_NAMES.get(m, m) for m in missing)
            return "needs-toolchain", (f"needs {names} (pip), which this build does not install for it yet; its own "
                                       "toolchain environment is the next step")
    if fmt.argument == "edgetpu" and edgetpu_compiler(home or library_home()) is None:
        return "vendor-sdk", ("needs the Edge TPU compiler, which is not on the package index: install "
                              "edgetpu_compiler on PATH (https://coral.ai/docs/edgetpu/compiler/) or unpack ultralytics' "
                              f"edgetpu-compiler_16.0_amd64.tar.gz into {config_dir(home or library_home())}; "
                              "it also needs the 'tensorflow' toolchain")
    if fmt.argument == "imx" and java_major() < 17:  # ultralytics would apt-get a JRE; YOLO Desk never does
        return "vendor-sdk", ("needs Java 17 or newer for Sony's IMX500 converter: install a JRE "
                              "(apt install openjdk-17-jre-headless), then the 'isolated-imx' toolchain")
    tc = toolchain_for(fmt.argument)
    if tc is None:
        return "needs-toolchain", f"needs its '{fmt.toolchain}' toolchain environment, which YOLO Desk cannot set up yet"
    tcs = Toolchains(home or library_home())
    if tcs.installed(tc.name):
        broken = tcs.problem(tc.name)
        if broken:
            return "needs-toolchain", f"reinstall the '{tc.name}' toolchain: {broken}"
        return "ready", f"ready (the '{tc.name}' toolchain is installed)"
    own = f"; an environment of its own: {tc.why_separate}" if not tc.layered else ""
    return "needs-toolchain", (f"install the '{tc.name}' toolchain first (about {tc.download_mb:,} MB on disk{own}): "
                               f"yolodesk toolchains install {tc.name}")


@functools.lru_cache(maxsize=1)
def java_major() -> int:
    """The major version of the ``java`` on PATH (0 when there is none).

    Read from the JDK's ``release`` file (the window asks at start-up: no process is started for it);
    ``java --version`` only where a runtime has no such file.
    """
    java = shutil.which("java")
    if java is None:
        return 0
    release = Path(os.path.realpath(java)).parents[1] / "release"
    try:
        found = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', release.read_text(errors="replace"), re.M)
        if found:
            major = int(found.group(1))
            return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8
    except OSError:
        pass
    try:
        out = subprocess.run([java, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    found = re.search(r"(?:openjdk|java) (\d+)", out)
    return int(found.group(1)) if found else 0


def edgetpu_compiler(home: Path) -> str | None:
    """The Edge TPU compiler ultralytics would run: on PATH, or unpacked where it would download it to."""
    bundled = config_dir(home) / "edgetpu-compiler" / "usr" / "bin" / "edgetpu_compiler_bin" / "edgetpu_compiler"
    return shutil.which("edgetpu_compiler") or (str(bundled) if bundled.is_file() else None)


def for_model(task: str | None, architecture: str | None,
              availability: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """This machine's availability narrowed by what each format refuses for a model (IMX500: YOLOv8n/YOLO11n…)."""
    out = dict(availability)
    for fmt in FORMATS:
        problem = restriction(fmt, task, architecture)
        if problem and out.get(fmt.argument, ("ready", ""))[0] in ("ready", "needs-toolchain"):
            out[fmt.argument] = ("not-for-model", problem)
    return out
