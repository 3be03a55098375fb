"""Export toolchains: one virtual environment per format family under ``<home>/toolchains/<name>/``.

Two kinds, both installed with pip run by the toolchain's own interpreter (so the app's environment is
never modified; ``tests/exporters/test_toolchains.py`` proves its package set is unchanged):

- *layered*: a venv whose ``yolodesk-app.pth`` adds the app's site-packages *after* its own. It sees
  the app's torch and ultralytics; its own packages shadow, never replace, the app's. For toolchains
  whose packages agree with the app's (NCNN, MNN, ExecuTorch, …).
- *separate*: a venv of its own with ``ultralytics`` and its own numpy, protobuf, onnx, … resolved
  afresh, for toolchains that conflict with the app (TensorFlow wants numpy < 2; RKNN wants torch 2.4).
  When the app's torch satisfies the toolchain, torch is *shared*, not downloaded again: the
  distributions torch and torchvision need (torch, torchvision, triton, the nvidia-* libraries, sympy,
  …; never numpy) are linked into ``toolchains/.shared/<name>-<id>/``, a folder outside the venv that
  its ``yolodesk-shared.pth`` adds after the venv's own packages. pip sees them installed and leaves
  them be (outside the venv it never uninstalls them); torch is pinned to the app's version in the
  install. Otherwise (RKNN: torch 2.4; IMX500 and DEEPX: torch < 2.12) the toolchain gets its own torch.

Requirement sets follow ultralytics' ``EXPORT_ENVS`` for 8.4.190, pinned where measured.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import site
import subprocess
import sys
import time
import uuid
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
    layered: bool = True  # compatible with the app's packages (else: an environment of its own)
    tested: bool = False  # installed, exported and verified here by the tests
    why_separate: str = ""
    torch: tuple[str, ...] = ()  # a separate toolchain's own torch/torchvision pins; () shares the app's torch
    extras: str = "export-base"  # a separate toolchain's ultralytics extras
    imports: tuple[str, ...] = ()  # checked importable once installed (the install fails otherwise)
    package: str = ""  # the distribution a worker's Python must have to export these formats itself


TOOLCHAINS: dict[str, Toolchain] = {t.name: t for t in (
    Toolchain("ncnn", ("ncnn",), ("ncnn==1.0.20261020", "pnnx==20260526"), 140, tested=True, package="ncnn"),
    # MNN pins protobuf < 6; onnx from the app was generated with protobuf 6 gencode: bring an onnx built for 5.
    Toolchain("mnn", ("mnn",), ("MNN==3.6.1", "aliyun-log-python-sdk", "protobuf>=3.20.3,<6.0.0", "onnx==1.17.0"), 150,
              tested=True, package="MNN"),
    Toolchain("executorch", ("executorch",), ("executorch==1.5.1",), 530, package="executorch"),  # measured: exports and verifies
    # ultralytics' export-litert extra; litert-torch accepts torch < 2.15, so the app's torch serves it.
    Toolchain("litert", ("litert",), ("litert-torch>=0.10.0", "ai-edge-litert>=2.3.0", "ai-edge-quantizer>=0.10.0"),
              1160, package="litert-torch"),
    Toolchain("qnn", ("qnn",), ("onnxruntime-qnn",), 280, package="onnxruntime-qnn"),
    # ultralytics runs paddle in its base environment, pip-installing these at export time; here they get a
    # layered environment of their own instead (the app's environment is never modified).
    # Core AI (Apple): coreai-torch converts, coreai-core (a pre-release with Linux wheels) writes the asset.
    Toolchain("coreai", ("coreai",), ("coreai-torch>=0.4.3", "coreai-core==1.0.0b3"), 360, package="coreai-torch"),
    # x2paddle imports six without declaring it.
    Toolchain("paddle", ("paddle",), ("paddlepaddle>=3.0.0,<3.3.0", "x2paddle", "six"), 740, package="paddlepaddle"),
    Toolchain("coreml", ("coreml",), ("coremltools>=9.0", "numpy>=1.14.5,<=2.3.5"), 120, package="coremltools"),
    # TensorFlow < 2.20 on Python 3.11 needs numpy < 2 (ultralytics' export-tensorflow extra): separate, torch shared.
    # The separate ones pin their main packages to the versions bench/export_matrix.py measured working here.
    Toolchain("tensorflow", ("saved_model", "pb", "edgetpu"), ("tensorflow==2.19.0", "onnx2tf==1.28.8", "tf_keras<=2.19.0",
              "sng4onnx>=1.0.1", "onnx_graphsurgeon>=0.3.26", "ai-edge-litert>=1.2.0", "onnxruntime", "protobuf>=5"),
              2800, layered=False, why_separate="TensorFlow ≤ 2.19 wants numpy < 2",
              extras="export-base,export-tensorflow", imports=("tensorflow", "onnx2tf", "tf_keras"),
              package="tensorflow"),
    Toolchain("isolated-imx", ("imx",), ("model-compression-toolkit==2.5.1", "edge-mdt-cl==1.1.1",
              "edge-mdt-tpc==1.3.0", "pydantic<2.12", "imx500-converter[pt]==3.19.2"), 5900, layered=False,
              why_separate="needs torch ≥ 2.9, < 2.12", torch=("torch==2.11.0", "torchvision==0.26.0"),
              imports=("model_compression_toolkit",), package="model-compression-toolkit"),
    Toolchain("isolated-rknn", ("rknn",), ("rknn-toolkit2==2.3.2", "onnx>=1.16.1,<1.19.0", "setuptools<82"),
              5900, layered=False, why_separate="rknn-toolkit2 wants torch ≤ 2.4.0, numpy ≤ 1.26.4 and protobuf ≤ 4.25.4",
              torch=("torch==2.4.0", "torchvision==0.19.0"), imports=("rknn.api",), package="rknn-toolkit2"),
    Toolchain("isolated-deepx", ("deepx",), ("dx_com==2.5.0",), 5800, layered=False, why_separate="needs torch < 2.12 and numpy < 2",
              torch=("torch==2.11.0", "torchvision==0.26.0"), extras="export-base,export-deepx", imports=("dx_com",),
              package="dx_com"),
    Toolchain("isolated-xilinx", ("xilinx",), ("amd-quark==0.13",), 1400, layered=False, why_separate="AMD Quark pins its own packages",
              extras="export-base,export-xilinx", imports=("quark",), package="amd-quark"),
)}


def toolchain_for(fmt: str) -> Toolchain | None:
    return next((t for t in TOOLCHAINS.values() if fmt in t.formats), None)


def _version(dist: str) -> str:
    return importlib.metadata.version(dist)


def torch_closure(roots: tuple[str, ...] = ("torch", "torchvision"), keep_out: frozenset[str] = frozenset({"numpy"})
                  ) -> list[importlib.metadata.Distribution]:
    """The app's installed distributions that ``roots`` need, transitively (markers evaluated), minus ``keep_out``."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, importlib.metadata.Distribution] = {}
    seen: set[tuple[str, str]] = set()
    todo: list[tuple[str, str]] = [(r, "") for r in roots]  # (distribution, one of the extras asked of it)
    while todo:
        raw, extra = todo.pop()
        name = canonicalize_name(raw)
        if (name, extra) in seen or name in keep_out:
            continue
        seen.add((name, extra))
        try:
            dist = found.get(name) or importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo += [(req.name, "")] + [(req.name, e) for e in req.extras]
    return list(found.values())


def link_distributions(dists: list[importlib.metadata.Distribution], folder: Path) -> list[str]:
    """Symlink each distribution's top-level entries (packages, modules, its .dist-info) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for dist in dists:
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in sorted(tops):
            src, dest = base / top, folder / top
            if src.exists() and not dest.exists() and top != "__pycache__":
                dest.symlink_to(src, target_is_directory=src.is_dir())
        names.append(dist.metadata["Name"])
    return names


class ToolchainError(Exception):
    pass


class Toolchains:
    """Install, inspect and remove toolchains under ``<home>/toolchains``."""

    def __init__(self, home: Path) -> None:
        self.home = home
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

    def problem(self, name: str) -> str | None:
        """Why an installed toolchain needs reinstalling (None when it is sound).

        A toolchain sharing the app's torch holds links into the app's environment: after the app's torch
        changes (a new YOLO Desk), they point at a torch the toolchain was not resolved against, or nowhere.
        """
        manifest = self.installed(name) or {}
        shared = manifest.get("shared")
        if not shared:
            return None
        links = list(Path(shared).iterdir()) if Path(shared).is_dir() else []
        if not links or any(not p.exists() for p in links):
            return "its links to the app's torch are broken (the app's environment changed)"
        built = manifest.get("torch")
        if built and built != _version("torch"):
            return f"it was built for the app's torch {built}, and the app now has torch {_version('torch')}"
        return None

    def install(self, name: str, log: Callable[[str], None] = lambda _line: None) -> dict:
        """Create the environment and pip-install the requirements, streaming pip's output to ``log``."""
        tc = TOOLCHAINS.get(name)
        if tc is None:
            raise ToolchainError(f"unknown toolchain {name!r}; toolchains: {', '.join(TOOLCHAINS)}")
        partial = self.root / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        previous = self.installed(name)
        shared: Path | None = None
        t0 = time.monotonic()
        try:
            self._run([sys.executable, "-m", "venv", str(partial)], log)
            py = partial / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            own = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                      capture_output=True, text=True, check=True).stdout.strip())
            requirements = list(tc.requirements)
            if tc.layered:
                app_sites = [p for p in site.getsitepackages() if Path(p).is_dir()]
                # addsitedir (not a plain path line) so the app's own .pth files are honoured too.
                (own / "yolodesk-app.pth").write_text(
                    "".join(f"import site; site.addsitedir({p!r})\n" for p in app_sites))
            else:
                requirements = [f"ultralytics[{tc.extras}]=={_version('ultralytics')}", *tc.torch, *requirements]
                if not tc.torch:  # the app's torch serves it: link it in rather than download it again
                    requirements += [f"torch=={_version('torch')}", f"torchvision=={_version('torchvision')}"]
                    shared = self.root / ".shared" / f"{name}-{uuid.uuid4().hex[:8]}"
                    try:
                        linked = link_distributions(torch_closure(), shared)
                    except OSError as e:  # no symlinks here (Windows without the privilege): its own copy then
                        shutil.rmtree(shared, ignore_errors=True)
                        shared = None
                        log(f"cannot link the app's torch ({e}): installing the same torch into the toolchain")
                    else:
                        (own / "yolodesk-shared.pth").write_text(f"import site; site.addsitedir({str(shared)!r})\n")
                        log(f"sharing the app's torch {_version('torch')}: {len(linked)} distributions linked")
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
            self._run([str(py), "-m", "pip", "install", "--progress-bar", "off", *requirements], log, env)
            frozen = subprocess.run([str(py), "-m", "pip", "freeze", "--local"], capture_output=True, text=True,
                                    check=True, env=env).stdout.split()
            if tc.imports:  # a toolchain that installs but cannot import is no toolchain: say so now
                log(f"checking that {', '.join(tc.imports)} import")
                self._run([str(py), "-c", "import " + ", ".join(tc.imports)], log, {**env, **offline_env(self.home)})
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            if shared is not None:
                shutil.rmtree(shared, ignore_errors=True)
            raise
        manifest = {"name": name, "requirements": requirements, "packages": frozen, "layered": tc.layered,
                    "shared": str(shared) if shared else None, "torch": _version("torch") if shared else None,
                    "python": sys.version.split()[0],
                    "seconds": round(time.monotonic() - t0, 1)}
        (partial / "toolchain.json").write_text(json.dumps(manifest, indent=2))
        target = self.path(name)
        if target.exists():
            shutil.rmtree(target)
        os.replace(partial, target)  # venv scripts use absolute paths: make them point at the final folder
        self._fix_paths(target, partial)
        if previous and previous.get("shared") and previous["shared"] != manifest["shared"]:
            shutil.rmtree(previous["shared"], ignore_errors=True)
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
        """Delete an installed toolchain's environment; False when it is not installed."""
        if name not in TOOLCHAINS:  # the name becomes a folder under the home: `..` would be the home itself
            raise ToolchainError(f"unknown toolchain {name!r}; toolchains: {', '.join(TOOLCHAINS)}")
        target = self.path(name)
        if not target.exists():
            return False
        shared = (self.installed(name) or {}).get("shared")
        shutil.rmtree(target)
        if shared:
            shutil.rmtree(shared, ignore_errors=True)  # only links: the app's torch stays where it is
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
