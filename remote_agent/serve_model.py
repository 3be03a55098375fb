"""The model an endpoint serves, and the one thread that runs it.

A :class:`ServedModel` is opened through the loading gate (a ``.pt``) or by ultralytics' ``YOLO(export_path)``
(an export, as the app's predict sessions do), then warmed up by one inference. The model is not thread-safe,
so only the :class:`InferenceWorker` thread runs it; requests reach it through a bounded queue, and a full
queue is refused at once (:class:`QueueFull`) rather than growing memory. Replacing the model swaps one
reference between two jobs, so no request ever sees a half-loaded model.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IMGSZ_MIN, IMGSZ_MAX = 32, 1280


@dataclass(frozen=True)
class PredictParams:
    """What a request may set (the hosted platform's parameters and defaults)."""

    conf: float = 0.25
    iou: float = 0.7
    imgsz: int | None = None  # None: the model's
    normalize: bool = False
    decimals: int = 5


class ServedModel:
    """One loaded, warmed-up model: ``predict`` gives the platform's per-image response."""

    def __init__(self, path: str, fmt: str, task: str | None, imgsz: int | None, name: str | None,
                 trusted: Collection[str] = (), device: str = "cpu", copy_to: Path | None = None) -> None:
        from remote_agent.gate import load_yolo

        t0 = time.perf_counter()
        if fmt == "pt":
            self.model = load_yolo(path, task=task, trusted=trusted, copy_to=copy_to)
        else:
            from ultralytics import YOLO

            self.model = YOLO(path, task=task)  # an export: no pickle, ultralytics' AutoBackend
        self.path, self.format, self.device = path, fmt, device
        self.task: str = task or self.model.task
        self.fixed_imgsz = fmt != "pt"  # an export runs at the size it was built for
        own = self.model.overrides.get("imgsz") if fmt == "pt" else None
        self.imgsz = int(imgsz or (own if isinstance(own, int) else 640))
        self.name = name or Path(path).stem
        self.predict(np.zeros((self.imgsz, self.imgsz, 3), np.uint8), PredictParams())  # the warm-up inference
        self.load_seconds = time.perf_counter() - t0
        self.threads = runtime_threads(self.model)


    @property
    def class_names(self) -> dict[str, str]:
        """Class id (as a string, JSON keys are strings) → name."""
        names = self.model.names
        items = names.items() if isinstance(names, dict) else enumerate(names)
        return {str(k): str(v) for k, v in items}

    def predict(self, image: np.ndarray, params: PredictParams) -> dict[str, Any]:
        """``{"shape", "speed", "results"}`` for one BGR image; ``results`` is ultralytics' ``Results.summary``."""
        imgsz = self.imgsz if self.fixed_imgsz or params.imgsz is None else params.imgsz
        r = self.model.predict(image, conf=params.conf, iou=params.iou, imgsz=imgsz, device=self.device,
                               verbose=False)[0]
        return {"shape": [int(r.orig_shape[0]), int(r.orig_shape[1])],
                "speed": {k: round(float(v or 0.0), 3) for k, v in (r.speed or {}).items()},
                "results": r.summary(normalize=params.normalize, decimals=params.decimals)}


def runtime_threads(model: Any) -> str:
    """The intra-op threads the loaded runtime runs with, in words (a benchmark's two sides must match)."""
    backend = getattr(getattr(getattr(model, "predictor", None), "model", None), "backend", None)
    try:
        if hasattr(backend, "ov_compiled_model"):
            return f"OpenVINO, {backend.ov_compiled_model.get_property('INFERENCE_NUM_THREADS')} inference threads"
        if hasattr(backend, "session"):
            n = backend.session.get_session_options().intra_op_num_threads
            return f"ONNX Runtime, {n or 'its default'} intra-op threads"
    except Exception as e:  # a runtime without the property: say so rather than fail the load
        return f"{type(backend).__name__} (threads unknown: {type(e).__name__})"
    import torch

    return f"PyTorch, {torch.get_num_threads()} intra-op threads"


Pixels = np.ndarray | Callable[[], np.ndarray]  # an image, or how to decode it on the inference thread


class QueueFull(Exception):
    """The worker's queue is full: answer 429 with Retry-After."""


class InferenceWorker:
    """The one thread that runs the model, fed by a queue of at most ``max_waiting`` jobs."""

    def __init__(self, model: ServedModel | None, max_waiting: int) -> None:
        self.model = model  # replaced whole by ``swap``; read once per job
        self._jobs: queue.Queue[tuple[concurrent.futures.Future[Any], Pixels, PredictParams] | None] = \
            queue.Queue(maxsize=max_waiting)
        self._running = False
        self._thread = threading.Thread(target=self._run, name="inference", daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> int:
        return self._jobs.qsize()

    @property
    def idle(self) -> bool:
        """Nothing running and nothing waiting (a hint: it may change the moment after)."""
        return not self._running and self._jobs.empty()

    def submit(self, image: Pixels, params: PredictParams) -> concurrent.futures.Future[Any]:
        """Queue one inference of ``image`` (pixels, or a function that decodes them on this worker's thread);
        raises :class:`QueueFull` at once when the queue is full."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            self._jobs.put_nowait((future, image, params))
        except queue.Full as e:
            raise QueueFull from e
        return future

    def swap(self, model: ServedModel) -> ServedModel | None:
        """Serve ``model`` from the next job on; returns the one it replaces."""
        old, self.model = self.model, model
        return old

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, image, params = job
            if not future.set_running_or_notify_cancel():  # the request timed out while it waited
                continue
            model = self.model
            self._running = True
            try:
                assert model is not None, "no model loaded yet"
                pixels = image() if callable(image) else image
                future.set_result((model, model.predict(pixels, params)))
            except BaseException as e:  # the request gets its status (415, 413) or a 500 with the reason; it goes on
                future.set_exception(e)
            finally:
                self._running = False

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the job running now, drop the waiting ones, end the thread."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job[0].cancel()
        self._jobs.put(None)
        self._thread.join(timeout)
