"""Pick the runtime by measurement: time each verified runtime of a model on this host, cache it, use the fastest.

The cache is a small JSON file under the library home (``predict_timings.json``). An entry is keyed by the host's
fingerprint (CPU model, core count, machine, runtime versions) and by every runtime's artifact (format, sha256,
input size): adding or removing an export, re-exporting, upgrading a runtime or moving the library to another
machine gives another key, so stale figures are never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from app.predict.session import BackendChoice, PredictError, PredictSession

TIMINGS_FILE = "predict_timings.json"
RUNTIME_PACKAGES = ("torch", "ultralytics", "openvino", "onnxruntime", "onnxruntime-gpu", "tensorrt")
WARM_UP_FRAMES = 3  # untimed: OpenVINO INT8 read 16.2 ms a frame after one warm-up frame, 12.1 ms once settled
TIMED_FRAMES = 8  # at most; at least 3, within TIME_BUDGET_S (a large model on a CPU stops early)
TIME_BUDGET_S = 1.5  # a runtime's timed frames, after its warm-up
TIMING_METHOD = "p25 of <=8 after 3"  # in the cache key: figures measured another way are measured again
MAX_ENTRIES = 200  # the file stays small: the oldest entries go first


@dataclass(frozen=True)
class RuntimeFigure:
    """One runtime's measured time per frame on this host."""

    name: str
    format: str
    ms: float
    auto: bool = True  # may be chosen automatically (False: an INT8 export not verified accurate, by hand only)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host_fingerprint() -> dict[str, str]:
    """What makes a timing belong to this machine: the CPU, its cores, and the runtime versions (no imports)."""
    versions = {}
    for pkg in RUNTIME_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "-"
    return {"cpu": _cpu_model(), "cores": str(os.cpu_count() or 1), "machine": platform.machine(),
            "system": platform.system(), **versions}


def artifact_sha256(choice: BackendChoice) -> str:
    """The sha256 of the runtime's weights (a file, or an export folder's files), as the export job records it."""
    if choice.sha256:
        return choice.sha256
    from remote_agent.export import path_digest

    return path_digest(Path(choice.path))[1]


def timing_key(choices: list[BackendChoice], model_imgsz: int, host: dict[str, str]) -> str:
    """The cache key of ``choices`` timed at their input size on ``host``."""
    runtimes = sorted((c.format, artifact_sha256(c), c.imgsz or model_imgsz) for c in choices)
    blob = json.dumps({"host": host, "runtimes": runtimes, "method": TIMING_METHOD}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class TimingCache:
    """The measured figures of every model × runtime set × host, in one JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}  # missing or damaged: measured again, never an error
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> list[RuntimeFigure] | None:
        """The figures stored under ``key``, fastest first, or None."""
        entry = self._read().get(key)
        if not isinstance(entry, dict):
            return None
        try:
            return [RuntimeFigure(str(f["name"]), str(f["format"]), float(f["ms"]), bool(f.get("auto", True)))
                    for f in entry["figures"]]
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, figures: list[RuntimeFigure], host: dict[str, str]) -> None:
        """Store ``figures`` under ``key`` (replacing the file atomically; the oldest entries beyond the cap go)."""
        data = self._read()
        data[key] = {"figures": [f.__dict__ for f in figures], "host": host, "measured_at": time.time()}
        if len(data) > MAX_ENTRIES:
            oldest = sorted(data, key=lambda k: data[k].get("measured_at", 0) if isinstance(data[k], dict) else 0)
            for k in oldest[:len(data) - MAX_ENTRIES]:
                del data[k]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def time_session(session: PredictSession, imgsz: int, frames: int = TIMED_FRAMES) -> float:
    """ms per frame of ``session`` on a fixed synthetic picture at ``imgsz``: the lower quartile of up to ``frames``
    timed frames (at least 3, within TIME_BUDGET_S), after WARM_UP_FRAMES untimed ones.

    Other work on the machine only ever adds time, so the low end ranks runtimes steadily where a median of a few
    frames did not (OpenVINO INT8 was picked or not from one run to the next); the quartile, not the minimum,
    so one odd fast frame does not decide.
    """
    from remote_agent.export import test_image

    img = test_image(session.choice.imgsz or imgsz)
    for _ in range(WARM_UP_FRAMES):  # buffers, kernels and arenas settle: not timed
        session.predict(img, imgsz=imgsz)
    times: list[float] = []
    end = time.perf_counter() + TIME_BUDGET_S
    while len(times) < max(frames, 1) and (len(times) < 3 or time.perf_counter() < end):
        t0 = time.perf_counter()
        session.predict(img, imgsz=imgsz)
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 4]


def measure_runtimes(choices: list[BackendChoice], task: str | None, model_imgsz: int,
                     trusted: Collection[str] = (), frames: int = TIMED_FRAMES,
                     make_session: Callable[[BackendChoice], PredictSession] | None = None,
                     ) -> tuple[list[RuntimeFigure], PredictSession | None, dict[str, str]]:
    """Time every choice; return the figures fastest first, the fastest one's loaded session, and what failed.

    An unverified choice (an INT8 export outside its accuracy tolerance, or unchecked) is timed too, but its
    session is never the one returned: only a verified runtime is picked automatically.
    """
    make = make_session or (lambda c: PredictSession(c, task, trusted))
    figures: list[RuntimeFigure] = []
    failed: dict[str, str] = {}
    best: PredictSession | None = None
    best_ms = float("inf")
    for c in choices:
        try:
            session = make(c)
            ms = time_session(session, model_imgsz, frames)
        except Exception as e:  # noqa: BLE001 — a refused .pt or a broken export: the others still run
            failed[c.format] = str(e) if isinstance(e, PredictError) else f"{c.name}: {type(e).__name__}: {e}"
            continue
        figures.append(RuntimeFigure(c.name, c.format, round(ms, 1), c.verified))
        if c.verified and (best is None or ms < best_ms):
            best, best_ms = session, ms  # only the fastest verified so far stays in memory
    figures.sort(key=lambda f: f.ms)
    return figures, best, failed


def order_by_figures(choices: list[BackendChoice], figures: list[RuntimeFigure]) -> list[BackendChoice]:
    """``choices`` fastest measured first; the unmeasured keep their order after them; the unverified come last."""
    rank = {f.format: i for i, f in enumerate(figures)}
    return sorted(choices, key=lambda c: (not c.verified, rank.get(c.format, len(rank)), choices.index(c)))


def describe(figures: list[RuntimeFigure]) -> str:
    """"OpenVINO 43.8 ms · ONNX Runtime 45.5 ms · PyTorch 61.7 ms on this machine"."""
    if not figures:
        return ""
    return " · ".join(f"{f.name} {f.ms:.1f} ms" + ("" if f.auto else " (by hand only)") for f in figures) \
        + " on this machine"


def cached_figures(cache: TimingCache, weights: str | None, exports: list[Any],
                   model_imgsz: int | None) -> list[RuntimeFigure] | None:
    """The figures measured on this host for the model's runtimes as they are now (CPU-only, then with the GPU's)."""
    from app.predict.session import backend_choices

    host = host_fingerprint()
    for cuda in (False, True):  # the tab's set had TensorRT in it only where a GPU was seen
        choices = backend_choices(weights, exports, model_imgsz, cuda=cuda)
        if len(choices) > 1 and (figures := cache.get(timing_key(choices, model_imgsz or 640, host))):
            return figures
    return None
