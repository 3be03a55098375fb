"""The live pipeline: prepare → infer → finish on three threads, so the runtime never waits for Python work.

ultralytics' own predictor stages run one after the other in ``model.predict``: while the letterbox,
the tensor conversion, NMS and the summary run, the runtime idles. Here the engine's thread prepares
(``predictor.preprocess``), one thread only infers (``predictor.inference``), one finishes
(``predictor.postprocess`` + :func:`~app.predict.session.summarize`) — ORT, OpenVINO and torch release the
GIL in their kernels, so the Python stages overlap the model. Each hand-off holds one frame: the engine
prepares a frame only when the inference slot is free, and takes the newest frame then, so a source
faster than the model still drops stale frames (in :class:`~app.predict.sources.LatestFrame`) and
never builds a queue. Frames come out in the order they went in, each with its capture time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from app.predict.session import PredictError, Prediction, summarize

ARRAY_PATH = "image0.jpg"  # what ultralytics' numpy loader names a picture (Results.path), kept identical


class FrameStages(Protocol):
    """One model's prediction split in three; ``finish`` gives the same Prediction as the session's predict."""

    def prepare(self, image: np.ndarray) -> Any: ...

    def infer(self, prepared: Any, worker: int = 0) -> Any: ...

    def finish(self, image: np.ndarray, prepared: Any, raw: Any, source: str) -> Prediction: ...


class PredictorStages:
    """ultralytics' predictor stages of a session whose predictor is set up for the current parameters.

    Valid only after a normal ``session.predict`` with the parameters in use (the predictor's args and
    imgsz come from that call); the engine makes that call again whenever conf, IoU, imgsz or the model change.
    """

    def __init__(self, session: Any) -> None:
        import torch  # the session loaded it already; importing here keeps this module light for the GUI process

        self.session = session
        self.predictor = session.model.predictor
        self.name = session.choice.name
        self.task = session.task
        self._inference_mode = torch.inference_mode  # grad mode is per thread: each stage's thread needs it
        self._requests = getattr(session, "_ov_requests", None)  # OpenVINO: a THROUGHPUT stream per worker
        self.parallel = len(self._requests.requests) if self._requests is not None else 1  # inference threads
        # other runtimes may hand back buffers they reuse on the next call, which overlaps this frame's finish
        self._copy_outputs = getattr(self.predictor.model, "format", "pt") != "pt"

    def prepare(self, image: np.ndarray) -> Any:
        """The letterboxed, normalised input tensor (ultralytics' ``preprocess``)."""
        with self._inference_mode():
            return self._guarded(self.predictor.preprocess, [image])

    def infer(self, prepared: Any, worker: int = 0) -> Any:
        """The runtime's raw output for one prepared frame (``worker``: the inference thread, for OpenVINO's
        per-thread infer requests)."""
        if self._requests is not None:
            self._requests.claim(worker)
        with self._inference_mode():
            raw = self._guarded(self.predictor.inference, prepared)
            return _copied(raw) if self._copy_outputs else raw

    def finish(self, image: np.ndarray, prepared: Any, raw: Any, source: str) -> Prediction:
        """ultralytics' ``postprocess`` (NMS, scaling back to the picture), summarised like the session does."""
        with self._inference_mode():
            self.predictor.batch = ([ARRAY_PATH], [image], [""])  # postprocess names each result after batch[0]
            result = self._guarded(self.predictor.postprocess, raw, prepared, [image])[0]
        return summarize(result, self.task, source, self.name)

    def _guarded(self, stage: Callable[..., Any], *args: Any) -> Any:
        try:
            return stage(*args)
        except Exception as e:  # noqa: BLE001 — one sentence for the tab, as the session's predict says it
            raise PredictError(f"{self.name} failed on this frame: {type(e).__name__}: {e}") from e


class WholeFrameStages:
    """A session without ultralytics' predictor: the whole prediction is the inference stage."""

    def __init__(self, predict: Callable[[np.ndarray, str], Prediction]) -> None:
        self.predict = predict

    def prepare(self, image: np.ndarray) -> Any:
        """Nothing to prepare: the frame itself."""
        return image

    def infer(self, prepared: Any, worker: int = 0) -> Any:
        """The prediction (source named later, in ``finish``)."""
        return self.predict(prepared, "video")

    def finish(self, image: np.ndarray, prepared: Any, raw: Any, source: str) -> Prediction:
        """The prediction made in ``infer``."""
        if hasattr(raw, "source"):
            raw.source = source
        return raw


def stages_for(session: Any, predict: Callable[[np.ndarray, str], Prediction]) -> FrameStages:
    """ultralytics' stages when the session has a set-up predictor, else the session's whole predict."""
    model = getattr(session, "model", None)
    if getattr(model, "predictor", None) is not None and hasattr(session, "choice"):
        return PredictorStages(session)
    return WholeFrameStages(predict)


def _copied(raw: Any) -> Any:
    if isinstance(raw, (list, tuple)):
        return type(raw)(_copied(x) for x in raw)
    if hasattr(raw, "clone"):
        return raw.clone()
    if isinstance(raw, np.ndarray):
        return raw.copy()
    return raw


@dataclass
class LiveFrame:
    """One frame on its way through the pipeline."""

    image: np.ndarray = field(repr=False)
    captured_at: float  # time.monotonic() when the source gave it
    source: str  # "camera" or "video"
    stages: FrameStages | None = None
    prepared: Any = field(default=None, repr=False)
    raw: Any = field(default=None, repr=False)
    prediction: Prediction | None = None  # set at once when the frame was predicted whole (a re-set-up)
    error: Exception | None = None
    ms: dict[str, float] = field(default_factory=dict)

    def prepare(self, stages: FrameStages) -> LiveFrame:
        """Run the first stage here (the engine's thread)."""
        self.stages = stages
        t0 = time.perf_counter()
        self.prepared = stages.prepare(self.image)
        self.ms["preprocess"] = (time.perf_counter() - t0) * 1000
        return self


class StampedFrames:
    """A frame source whose frames come with their capture time: ``read()`` gives ``(monotonic, frame)``."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def read(self) -> tuple[float, np.ndarray] | None:
        """The source's next frame and when it arrived, or None at the end."""
        frame = self.source.read()
        return None if frame is None else (time.monotonic(), frame)

    def release(self) -> None:
        """Release the camera or file."""
        self.source.release()

    def __getattr__(self, name: str) -> Any:  # is_camera, fps, frame_count… of the wrapped source
        return getattr(self.source, name)


class LivePipeline:
    """Inference (``infer_threads`` threads) and finishing (one) on threads of their own; the engine's thread
    prepares and feeds.

    ``emit`` is called on the finishing thread, in feeding order, for each frame (its prediction or its error).
    More than one inference thread is used only for frames whose stages say so (``parallel``: OpenVINO's
    per-thread infer requests); the others wait for thread 0, one frame at a time, as before.
    """

    def __init__(self, emit: Callable[[LiveFrame], None], tag: Any = None, infer_threads: int = 1) -> None:
        self.emit = emit
        self.tag = tag  # what this pipeline serves (the engine's live run)
        self._cond = threading.Condition()
        self._to_infer: LiveFrame | None = None
        self._inferred: dict[int, LiveFrame] = {}  # by feeding order: finished strictly in it
        self._taken = 0  # frames taken for inference so far (the next one's number)
        self._next = 0  # the number of the frame to finish next
        self._n = max(infer_threads, 1)
        self._working = 0  # frames inside a stage right now
        self._closed = False
        self._infer_alive = self._n
        self._emitting = threading.RLock()  # held while a frame goes out: after cancel() returns, none does
        self.cancelled = False
        self._threads = [threading.Thread(target=self._infer_loop, args=(i,), name=f"predict-infer-{i}", daemon=True)
                         for i in range(self._n)]
        self._threads.append(threading.Thread(target=self._finish_loop, name="predict-finish", daemon=True))
        for t in self._threads:
            t.start()

    # ------------------------------------------------------------ the feeder
    def wait_room(self, timeout: float) -> bool:
        """Wait until the inference slot is free (True), or ``timeout`` passed / the pipeline was cancelled."""
        with self._cond:
            self._cond.wait_for(lambda: self._to_infer is None or self.cancelled or self._closed, timeout)
            return self._to_infer is None and not (self.cancelled or self._closed)

    def put(self, frame: LiveFrame) -> None:
        """Hand a prepared (or already predicted) frame to inference; waits while the slot is taken."""
        with self._cond:
            self._cond.wait_for(lambda: self._to_infer is None or self.cancelled or self._closed)
            if self.cancelled or self._closed:
                return
            self._to_infer = frame
            self._cond.notify_all()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every frame fed has been emitted (or dropped, when cancelled)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._to_infer is None and not self._inferred and self._working == 0, timeout)

    def cancel(self) -> None:
        """Drop what is in flight and emit nothing more (the live run was stopped); returns at once."""
        with self._cond:
            self.cancelled = True
            self._cond.notify_all()
        with self._emitting:  # re-entrant: emit itself may stop the run (an error)
            pass

    def close(self, timeout: float = 10.0) -> None:
        """End the threads once the frames in flight are done (dropped if cancelled)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout)

    # ------------------------------------------------------------ the stages
    def _mine(self, worker: int) -> bool:
        """Whether inference thread ``worker`` may take the frame in the slot (thread 0 takes any)."""
        f = self._to_infer
        return f is not None and (worker == 0 or (f.prediction is None and f.error is None
                                                  and getattr(f.stages, "parallel", 1) > worker))

    def _infer_loop(self, worker: int) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._mine(worker) or self._closed)
                if not self._mine(worker):
                    break  # closed, and nothing left for this thread
                frame, self._to_infer = self._to_infer, None
                seq, self._taken = self._taken, self._taken + 1
                self._working += 1
                self._cond.notify_all()
            if frame.prediction is None and frame.error is None and not self.cancelled:
                t0 = time.perf_counter()
                try:
                    assert frame.stages is not None
                    frame.raw = frame.stages.infer(frame.prepared, worker)
                except Exception as e:  # noqa: BLE001 — goes out with the frame, in order
                    frame.error = e
                frame.ms["inference"] = (time.perf_counter() - t0) * 1000
            with self._cond:
                # inference may run ahead of finishing by one frame per thread, never more; the frame the
                # finisher waits for is always let in (a later one holding the room must not block it)
                self._cond.wait_for(lambda s=seq: len(self._inferred) < self._n or s == self._next or self.cancelled)
                self._inferred[seq] = frame  # even when cancelled: the numbering has no gaps (it is not emitted)
                self._working -= 1
                self._cond.notify_all()
        with self._cond:
            self._infer_alive -= 1
            self._cond.notify_all()

    def _finish_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._next in self._inferred or self._infer_alive == 0)
                frame = self._inferred.pop(self._next, None)
                if frame is None:
                    return  # every inference thread ended and all they handed on went out
                self._next += 1
                self._working += 1
                self._cond.notify_all()
            try:
                if frame.prediction is None and frame.error is None and not self.cancelled:
                    self._finish(frame)
                with self._emitting:
                    if not self.cancelled:
                        self.emit(frame)
            finally:
                with self._cond:
                    self._working -= 1
                    self._cond.notify_all()

    @staticmethod
    def _finish(frame: LiveFrame) -> None:
        t0 = time.perf_counter()
        try:
            assert frame.stages is not None
            frame.prediction = frame.stages.finish(frame.image, frame.prepared, frame.raw, frame.source)
        except Exception as e:  # noqa: BLE001 — goes out with the frame
            frame.error = e
            return
        frame.ms["postprocess"] = (time.perf_counter() - t0) * 1000
        if isinstance(frame.stages, PredictorStages):  # the stage times, as ultralytics' profilers report them
            frame.prediction.speed = {k: frame.ms.get(k, 0.0) for k in ("preprocess", "inference", "postprocess")}
            frame.prediction.results.speed = dict(frame.prediction.speed)
            frame.prediction.wall_ms = sum(frame.prediction.speed.values())
