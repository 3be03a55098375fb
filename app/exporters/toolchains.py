"""Export toolchains: one virtual environment per format family under ``<home>/toolchains/<name>/``.

A toolchain is *layered* (a venv whose ``yolodesk-app.pth`` adds the app's site-packages *after* its
own: it sees the app's torch and ultralytics and its own packages shadow, never replace, the app's)
when its packages are
compatible with the app's; else it would need a separate environment with its own torch (not in
this build). pip runs with the toolchain's own interpreter, so the app's environment is never
modified; ``tests/exporters/test_toolchains.py`` proves its package set is unchanged.

Requirement sets follow ultralytics' ``EXPORT_ENVS`` for 8.4.190, pinned where measured.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.offline import offline_env


@dataclass(frozen=True)
class Toolchain:
    name: str
    formats: tuple[str, ...]
    requirements: tuple[str, ...]
    download_mb: int  # about: its size on disk once installed (measured by bench/export_matrix.py where run)
    layered: bool = True  # compatible with the app's packages (else: needs its own torch; not in this build)
    tested: bool = False  # installed, exported and verified here by the tests
    why_separate: str = ""


TOOLCHAINS: dict[str, Toolchain] = {t.name: t for t in (
    Toolchain("ncnn", ("ncnn",), ("ncnn==1.0.20261020", "pnnx==20260526"), 140, tested=True),
    # MNN pins protobuf < 6; onnx from the app was generated with protobuf 6 gencode: bring an onnx built for 5.
    Toolchain("mnn", ("mnn",), ("MNN==3.6.1", "aliyun-log-python-sdk", "protobuf>=3.20.3,<6.0.0", "onnx==1.17.0"), 150,
              tested=True),
    Toolchain("executorch", ("executorch",), ("executorch==1.5.1",), 530),  # measured: exports and verifies
    # ultralytics' export-litert extra; litert-torch accepts torch < 2.15, so the app's torch serves it.
    Toolchain("litert", ("litert",), ("litert-torch>=0.10.0", "ai-edge-litert>=2.3.0", "ai-edge-quantizer>=0.10.0"),
              1160),
    Toolchain("qnn", ("qnn",), ("onnxruntime-qnn",), 280),
    # ultralytics runs paddle in its base environment, pip-installing these at export time; here they get a
    # layered environment of their own instead (the app's environment is never modified).
    # Core AI (Apple): coreai-torch converts, coreai-core (a pre-release with Linux wheels) writes the asset.
    Toolchain("coreai", ("coreai",), ("coreai-torch>=0.4.3", "coreai-core==1.0.0b3"), 360),
    Toolchain("paddle", ("paddle",), ("paddlepaddle>=3.0.0,<3.3.0", "x2paddle", "six"), 740),  # x2paddle imports six
    Toolchain("coreml", ("coreml",), ("coremltools>=9.0", "numpy>=1.14.5,<=2.3.5"), 120),
    Toolchain("tensorflow", ("saved_model", "pb", "edgetpu"), ("tensorflow", "onnx2tf>=1.26.3,<1.29.0",
              "tf_keras<=2.19.0", "sng4onnx>=1.0.1", "onnx_graphsurgeon>=0.3.26", "ai-edge-litert>=1.2.0",
              "protobuf>=5"), 700, layered=False, why_separate="TensorFlow wants numpy 1.26 and protobuf 5"),
    Toolchain("isolated-imx", ("imx",), ("model-compression-toolkit>=2.4.1", "edge-mdt-cl>=1.1.0",
              "edge-mdt-tpc>=1.2.0", "pydantic<2.12", "imx500-converter[pt]>=3.18.2"), 400, layered=False,
              why_separate="needs torch >= 2.9, < 2.12"),
    Toolchain("isolated-rknn", ("rknn",), ("rknn-toolkit2>=2.3.2,<2.5", "onnx>=1.16.1,<1.19.0", "setuptools<82"),
              900, layered=False, why_separate="rknn-toolkit2 forces torch 2.4 and onnx 1.18"),
    Toolchain("isolated-deepx", ("deepx",), ("ultralytics[export-deepx]==8.4.190",), 300, layered=False,
              why_separate="needs torch < 2.12 and numpy < 2"),
    Toolchain("isolated-xilinx", ("xilinx",), ("ultralytics[export-xilinx]==8.4.190",), 300, layered=False,
              why_separate="its own Vitis AI packages"),
)}


def toolchain_for(fmt: str) -> Toolchain | None:
    return next((t for t in TOOLCHAINS.values() if fmt in t.formats), None)


class ToolchainError(Exception):
    pass


class Toolchains:
    """Install, inspect and remove toolchains under ``<home>/toolchains``."""

    def __init__(self, home: Path) -> None:
        self.root = home / "toolchains"

    def path(self, name: str) -> Path:
        return self.root / name

    def python(self, name: str) -> Path:
        return self.path(name) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def installed(self, name: str) -> dict | None:
        """The manifest of an installed toolchain (None when it is not, or only half, installed)."""
        try:
            manifest = json.loads((self.path(name) / "toolchain.json").read_text())
        except (OSError, ValueError):
            return None
        return manifest if self.python(name).exists() else None

    def install(self, name: str, log: Callable[[str], None] = lambda _line: None) -> dict:
        """Create the environment and pip-install the requirements, streaming pip's output to ``log``."""
        tc = TOOLCHAINS.get(name)
        if tc is None:
            raise ToolchainError(f"unknown toolchain {name!r}; toolchains: {', '.join(TOOLCHAINS)}")
        if not tc.layered:
            raise ToolchainError(f"the {name} toolchain needs an environment of its own ({tc.why_separate}); "
                                 "separate environments are not in this build yet")
        partial = self.root / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        try:
            self._run([sys.executable, "-m", "venv", str(partial)], log)
            py = partial / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            own = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            app_sites = [p for p in site.getsitepackages() if Path(p).is_dir()]
            # addsitedir (not a plain path line) so the app's own .pth files are honoured too.
            Path(own, "yolodesk-app.pth").write_text(
                "".join(f"import site; site.addsitedir({p!r})\n" for p in app_sites))
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
            self._run([str(py), "-m", "pip", "install", "--progress-bar", "off", *tc.requirements], log, env)
            frozen = subprocess.run([str(py), "-m", "pip", "freeze", "--local"], capture_output=True, text=True,
                                    check=True, env=env).stdout.split()
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        manifest = {"name": name, "requirements": list(tc.requirements), "packages": frozen, "layered": tc.layered,
                    "python": sys.version.split()[0], "seconds": round(time.monotonic() - t0, 1)}
        (partial / "toolchain.json").write_text(json.dumps(manifest, indent=2))
        target = self.path(name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)  # venv scripts use absolute paths: make them point at the final folder
        self._fix_paths(target, partial)
        return manifest

    @staticmethod
    def _fix_paths(target: Path, old: Path) -> None:
        for f in (target / "bin").glob("*") if (target / "bin").exists() else []:
            if f.is_file() and not f.is_symlink():
                try:
                    text = f.read_text()
                except (UnicodeDecodeError, OSError):
                    continue
                if str(old) in text:
                    f.write_text(text.replace(str(old), str(target)))
        for cfg in [target / "pyvenv.cfg", *target.glob("lib/python*/site-packages/yolodesk-app.pth")]:
            if cfg.exists():
                cfg.write_text(cfg.read_text().replace(str(old), str(target)))

    @staticmethod
    def _run(cmd: list[str], log: Callable[[str], None], env: dict[str, str] | None = None) -> None:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        tail: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            log(line.rstrip("\n"))
            tail = (tail + [line.rstrip()])[-15:]
        if proc.wait() != 0:
            raise ToolchainError(f"{' '.join(cmd[:4])} … failed:\n" + "\n".join(tail))

    def remove(self, name: str) -> bool:
        target = self.path(name)
        if not target.exists():
            return False
        shutil.rmtree(target)
        return True

    def environment(self, name: str, home: Path) -> dict[str, str]:
        """The offline environment for an export run with this toolchain's interpreter."""
        return offline_env(home)


@dataclass
class InstallProgress:
    """How far a toolchain install is, read from pip's output line by line (pip prints no overall figure).

    Phases: creating the environment (0–5 %), resolving and fetching packages (5–70 %, one step per
    ``Collecting`` line against the number of packages expected), installing (70–98 %), done (100 %).
    """

    expected: int = 20  # packages pip will collect, about (the toolchain's own and their dependencies)
    collected: int = 0
    fraction: float = 0.0
    label: str = "creating the environment"
    megabytes: float = 0.0

    def feed(self, line: str) -> None:
        text = line.strip()
        if text.startswith("Collecting "):
            self.collected += 1
            self.expected = max(self.expected, self.collected + 1)
            name = text.split()[1]
            self.fraction = max(self.fraction, 0.05 + 0.65 * self.collected / self.expected)
            self.label = f"fetching {name} ({self.collected} packages so far)"
        elif text.startswith("Downloading "):
            size = text[text.rfind("(") + 1:text.rfind(")")] if text.endswith(")") else ""
            number, _, unit = size.partition(" ")
            try:
                self.megabytes += float(number) * {"kB": 1e-3, "MB": 1.0, "GB": 1e3}.get(unit, 0.0)
            except ValueError:
                pass
            self.label = f"downloading {text.split()[1].rsplit('/', 1)[-1]} · {self.megabytes:.0f} MB so far"
        elif text.startswith("Installing collected packages"):
            self.fraction = max(self.fraction, 0.72)
            self.label = f"installing {self.collected} packages"
        elif text.startswith("Successfully installed"):
            self.fraction = 0.98
            self.label = "checking the environment"
        elif text.startswith("Requirement already satisfied"):
            self.label = "reusing the app's packages"
