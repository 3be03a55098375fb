"""Export rows and artifacts: ``models/<id>/exports/<format>/`` written atomically, rows as plain records."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.exporters.registry import FORMATS, ExportFormat
from app.library.orm import Export, aware
from app.library.repository import Library, LibraryError
from app.library.storage import TMP_SUFFIX, fsync_dir
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


@dataclass(frozen=True)
class ExportRecord:
    id: str
    model_id: str
    format: str
    args: dict[str, Any]
    status: str
    job_id: str | None
    path: str | None
    size: int | None
    sha256: str | None
    verified: bool
    verification: str | None
    seconds: float | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"], d["updated_at"] = self.created_at.isoformat(), self.updated_at.isoformat()
        return d


def _record(e: Export) -> ExportRecord:
    return ExportRecord(e.id, e.model_id, e.format, dict(e.args or {}), e.status, e.job_id, e.path, e.size, e.sha256,
                        bool(e.verified), e.verification, e.seconds, e.error, aware(e.created_at),
                        aware(e.updated_at))


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


class ExportStore:
    """Rows of the ``exports`` table; artifacts under the model's folder."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    def create(self, model_id: str, fmt: str, args: dict[str, Any], job_id: str | None = None) -> ExportRecord:
        with self.lib._write() as s:
            e = Export(id=uuid.uuid4().hex[:12], model_id=model_id, format=fmt, args=args, status="Queued",
                       job_id=job_id, verified=False)
            s.add(e)
            s.flush()
            return _record(e)

    def get(self, export_id: str) -> ExportRecord:
        with self.lib._read() as s:
            e = s.get(Export, export_id)
            if e is None:
                raise LibraryError(f"no export with id {export_id!r}")
            return _record(e)

    def by_job(self, job_id: str) -> ExportRecord | None:
        with self.lib._read() as s:
            e = s.scalar(select(Export).where(Export.job_id == job_id))
            return _record(e) if e else None

    def for_model(self, model_id: str) -> list[ExportRecord]:
        """The newest export per format of a model."""
        with self.lib._read() as s:
            rows = s.scalars(select(Export).where(Export.model_id == model_id).order_by(Export.created_at.desc()))
            latest: dict[str, ExportRecord] = {}
            for e in rows:
                latest.setdefault(e.format, _record(e))
            order = {f.argument: i for i, f in enumerate(FORMATS)}
            return sorted(latest.values(), key=lambda r: order.get(r.format, 99))

    def set(self, export_id: str, **fields: Any) -> ExportRecord:
        with self.lib._write() as s:
            e = s.get(Export, export_id)
            if e is None:
                raise LibraryError(f"no export with id {export_id!r}")
            for k, v in fields.items():
                setattr(e, k, v)
            s.flush()
            return _record(e)

    def folder(self, model_id: str, fmt: str) -> Path:
        return self.lib.models_dir / model_id / "exports" / fmt

    def place(self, model_id: str, fmt: str, src: Path) -> Path:
        """Copy an artifact (file or folder) into ``models/<id>/exports/<fmt>/`` atomically; return its path."""
        target_dir = self.folder(model_id, fmt)
        target_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = target_dir.parent / f".{fmt}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
        tmp.mkdir()
        try:
            dest = tmp / src.name
            if src.is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copyfile(src, dest)
            for f in [dest] if dest.is_file() else [p for p in dest.rglob("*") if p.is_file()]:
                with open(f, "rb+") as fh:
                    os.fsync(fh.fileno())
            old = None
            if target_dir.exists():
                old = target_dir.parent / f".{fmt}.old.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
                os.replace(target_dir, old)
            os.replace(tmp, target_dir)
            fsync_dir(target_dir.parent)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target_dir / src.name

    def delete(self, export_id: str) -> None:
        rec = self.get(export_id)
        if rec.status in ("Queued", "Starting", "Running"):
            raise LibraryError("the export is still running; cancel it first")
        with self.lib._write() as s:
            for e in s.scalars(select(Export).where(Export.model_id == rec.model_id, Export.format == rec.format)):
                s.delete(e)
        shutil.rmtree(self.folder(rec.model_id, rec.format), ignore_errors=True)
