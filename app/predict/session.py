"""Inference sessions: one model on one backend, in this process (ARCHITECTURE.md's one exception).

A :class:`PredictSession` is owned by exactly one thread (the predict engine's); it loads the
``.pt`` through the loading gate (``remote_agent.gate``: the inspector's scan, then ultralytics' safe
load, automatic installs off) unless the user trusted that file's sha256, or an export the library
verified (OpenVINO, ONNX Runtime, TorchScript, TensorRT) through ultralytics' AutoBackend. Results are kept as ultralytics
``Results`` so the overlay can be redrawn with other toggles without running the model again;
drawing is ultralytics' own ``Results.plot``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from remote_agent.checkpoint_scan import sha256_file

# name, export format, runs on CPU, runs on an NVIDIA GPU; the default is the first available in this order
BACKENDS = (
    ("TensorRT", "engine", False, True),
    ("OpenVINO", "openvino", True, False),
    ("ONNX Runtime", "onnx", True, True),
    ("OpenVINO INT8", "openvino-int8", True, False),  # an INT8 export's row format (app/exporters/int8.py)
    ("ONNX Runtime INT8", "onnx-int8", True, True),
    ("TorchScript", "torchscript", True, True),
    ("PyTorch", "pt", True, True),
)
_BACKEND_NAME = {fmt: name for name, fmt, _c, _g in BACKENDS}


class PredictError(Exception):
    """The model cannot be loaded or run; the message says why."""


class NeedsTrust(PredictError):
    """The loading gate refused the checkpoint (the safe loader or the inspector); the user may trust its sha256."""

    def __init__(self, path: str, sha256: str | None, detail: str) -> None:
        self.path, self.sha256 = path, sha256
        super().__init__(
            f"{detail}. Loading it anyway runs whatever code the file contains — only do that for a file you "
            "trust (your own training, or a known source).")


@dataclass(frozen=True)
class BackendChoice:
    name: str  # "OpenVINO", "PyTorch", …
    format: str  # "openvino", "pt", …
    path: str  # the weights file or export folder
    imgsz: int | None  # a fixed input size (exports are built for one)
    verified: bool
    sha256: str | None = None  # the artifact's digest as its export recorded it (the timing cache's key)

    @property
    def label(self) -> str:
        return f"{self.name} ({Path(self.path).name})"


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False


def backend_choices(weights: str | Path | None, exports: list[Any], model_imgsz: int | None = None,
                    cuda: bool | None = None) -> list[BackendChoice]:
    """What this model can run on here, fastest first: verified exports that run on this machine, then the .pt.

    An INT8 export is offered even when it was not verified accurate, but after every verified runtime and
    marked ``verified=False``: it may be chosen by hand, never automatically.
    """
    cuda = cuda_available() if cuda is None else cuda
    by_format = {e.format: e for e in exports if e.status == "Completed" and e.path and Path(e.path).exists()}
    out = []
    for name, fmt, on_cpu, on_gpu in BACKENDS:
        if fmt == "pt":
            if weights and Path(weights).exists():
                out.append(BackendChoice(name, "pt", str(weights), None, True))
            continue
        e = by_format.get(fmt)
        int8 = fmt.endswith("-int8")
        if e is None or not (e.verified or int8) or not (on_cpu or (on_gpu and cuda)):
            continue
        if fmt == "engine" and not cuda:
            continue
        imgsz = e.args.get("imgsz") if isinstance(e.args, dict) else None
        out.append(BackendChoice(name, fmt, e.path, int(imgsz) if imgsz else model_imgsz, bool(e.verified), e.sha256))
    return sorted(out, key=lambda c: not c.verified)  # stable: the unverified go last, the default is verified


def default_backend(choices: list[BackendChoice]) -> BackendChoice | None:
    return choices[0] if choices else None


@dataclass
class Detection:
    cls: int
    name: str
    confidence: float
    box: list[float]  # x1, y1, x2, y2 in pixels (the rotated box's bounds for OBB)
    polygon: list[list[float]] | None = None  # a mask's outline (segment)
    keypoints: list[list[float]] | None = None  # x, y, visibility per point (pose)
    corners: list[list[float]] | None = None  # the rotated box's four corners (obb)
    angle: float | None = None  # radians (obb)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"class": self.cls, "name": self.name, "confidence": round(self.confidence, 4),
                             "box": [round(v, 1) for v in self.box]}
        if self.polygon is not None:
            d["mask"] = [[round(x, 1), round(y, 1)] for x, y in self.polygon]
        if self.keypoints is not None:
            d["keypoints"] = [[round(v, 3) for v in kp] for kp in self.keypoints]
        if self.corners is not None:
            d["obb"] = [[round(x, 1), round(y, 1)] for x, y in self.corners]
            d["angle"] = round(self.angle or 0.0, 4)
        return d


@dataclass
class Prediction:
    """One picture's result: what the table lists, the JSON, and the ultralytics ``Results`` to draw."""

    source: str
    task: str
    backend: str
    speed: dict[str, float]  # ms: preprocess, inference, postprocess
    detections: list[Detection]
    top5: list[dict[str, Any]]
    shape: tuple[int, int]  # height, width of the input
    results: Any = field(repr=False, default=None)
    wall_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"source": self.source, "task": self.task, "backend": self.backend,
                             "speed": {k: round(v, 2) for k, v in self.speed.items()},
                             "detections": [x.to_json() for x in self.detections]}
        if self.task == "classify":
            d["top5"] = self.top5
        return d

    def render(self, labels: bool = True, conf: bool = True, boxes: bool = True, masks: bool = True,
               probs: bool = True) -> np.ndarray:
        """The picture with the overlay, drawn by ultralytics (BGR), its lines and text sized to the picture."""
        if self.results is None:
            raise PredictError("nothing to draw")
        line_width, font_size = overlay_sizes(self.shape[0], self.shape[1])
        return self.results.plot(labels=labels, conf=conf, boxes=boxes, masks=masks, probs=probs,
                                 line_width=line_width, font_size=font_size)


def overlay_sizes(height: int, width: int) -> tuple[int, int]:
    """(line width, font size) in pixels for drawing on a ``height`` × ``width`` picture.

    ultralytics' floors (2 px lines, so ~15 px cv2 text, and 12 px PIL text) make labels cover
    the objects of a small picture; here both follow the shorter side (cv2 text is ~7 × the line width).
    """
    side = max(min(height, width), 1)
    return max(round(side / 250), 1), max(round(side * 0.03), 7)


def summarize(r: Any, task: str, source: str, backend: str) -> Prediction:
    names = r.names
    dets: list[Detection] = []
    top5: list[dict[str, Any]] = []
    if task == "classify" and r.probs is not None:
        for c, p in zip(r.probs.top5, r.probs.top5conf.tolist(), strict=False):
            top5.append({"class": int(c), "name": str(names[int(c)]), "confidence": round(float(p), 4)})
    elif task == "obb" and r.obb is not None:
        xyxy, corners = r.obb.xyxy.tolist(), r.obb.xyxyxyxy.tolist()
        for i, (c, p) in enumerate(zip(r.obb.cls.tolist(), r.obb.conf.tolist(), strict=False)):
            dets.append(Detection(int(c), str(names[int(c)]), float(p), xyxy[i], corners=corners[i],
                                  angle=float(r.obb.xywhr[i, 4])))
    elif r.boxes is not None:
        xyxy = r.boxes.xyxy.tolist()
        polys = r.masks.xy if task == "segment" and r.masks is not None else None
        kps = r.keypoints.data.tolist() if task == "pose" and r.keypoints is not None else None
        for i, (c, p) in enumerate(zip(r.boxes.cls.tolist(), r.boxes.conf.tolist(), strict=False)):
            dets.append(Detection(int(c), str(names[int(c)]), float(p), xyxy[i],
                                  polygon=polys[i].tolist() if polys is not None else None,
                                  keypoints=kps[i] if kps is not None else None))
    speed = {k: float(v or 0.0) for k, v in (r.speed or {}).items()}
    return Prediction(source, task, backend, speed, dets, top5, tuple(r.orig_shape), r)


class PredictSession:
    """One loaded model. Not thread-safe by design: one thread owns it."""

    def __init__(self, choice: BackendChoice, task: str | None, trusted: bool | Collection[str] = (),
                 device: str = "cpu") -> None:
        """Load ``choice``; ``trusted``: sha256 digests the user trusted (True: the .pt as it is now)."""
        from app.offline import apply_offline

        apply_offline()  # before ultralytics is imported here: no downloads, no pip, our font
        os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"
        os.environ["YOLO_AUTOINSTALL"] = "false"
        self.choice, self.device = choice, device
        self.threads = os.cpu_count() or 1
        t0 = time.perf_counter()
        self.model = self._load(choice, task, trusted)
        self.task = task or self.model.task
        # The first call sets ultralytics' predictor up (imports, AutoBackend, fusing, warm-up): Python work that
        # holds the GIL for long stretches. Do it now, while the tab says "loading", not in the first live frames.
        self.predict(np.zeros((64, 64, 3), np.uint8), imgsz=choice.imgsz or 64, source="warm-up")
        self.load_ms = (time.perf_counter() - t0) * 1000

    @staticmethod
    def _load(choice: BackendChoice, task: str | None, trusted: bool | Collection[str]) -> Any:
        from remote_agent.checkpoint_scan import CheckpointError
        from remote_agent.gate import TRUSTABLE, load_yolo

        if choice.format != "pt":
            from ultralytics import YOLO

            try:
                return YOLO(choice.path, task=task)
            except Exception as e:  # noqa: BLE001 — a broken export must not take the tab down
                raise PredictError(f"{choice.label} could not be loaded: {type(e).__name__}: {e}") from e
        if isinstance(trusted, bool):  # a caller that vouched for the file as it is now
            trusted = [sha256_file(choice.path)] if trusted and Path(choice.path).is_file() else []
        try:
            return load_yolo(choice.path, task=task, trusted=trusted)
        except CheckpointError as e:
            if e.code in TRUSTABLE:
                raise NeedsTrust(choice.path, e.details.get("sha256"), e.message) from e
            raise PredictError(e.message) from e

    def predict(self, image: np.ndarray, conf: float = 0.25, iou: float = 0.7, imgsz: int = 640,
                source: str = "image") -> Prediction:
        imgsz = self.choice.imgsz or imgsz  # an export runs at the size it was built for
        t0 = time.perf_counter()
        try:
            r = self.model.predict(image, conf=conf, iou=iou, imgsz=imgsz, device=self.device, verbose=False)[0]
        except Exception as e:  # noqa: BLE001
            raise PredictError(f"{self.choice.name} failed on this picture: {type(e).__name__}: {e}") from e
        wall = (time.perf_counter() - t0) * 1000
        self._fix_threads()
        p = summarize(r, self.task, source, self.choice.name)
        p.wall_ms = wall
        return p

    def _fix_threads(self) -> None:
        """ultralytics' select_device sets torch to min(8, cpus - 1) threads; the PyTorch backend should use them all."""
        if self.choice.format in ("pt", "torchscript"):
            import torch

            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
