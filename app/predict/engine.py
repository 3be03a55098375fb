"""The predict engine: one thread that owns the model and always works on the newest request.

Still pictures: ``submit()`` replaces whatever request is pending (moving a slider ten times
runs the model once or twice, not ten times). Live video or a camera: a capture thread keeps only
the newest frame (:class:`~app.predict.sources.LatestFrame`); the engine prepares it when the
inference slot of the :class:`~app.predict.pipeline.LivePipeline` is free, so the runtime works on
one frame while the previous one is finished and the next prepared, and a slow model still drops
frames instead of building a queue. Results go to ``on_result`` (called on the engine's thread, or
the pipeline's finishing thread for live frames; the Qt bridge turns it into a queued signal).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from app.predict import ov_requests
from app.predict.pipeline import FrameStages, LiveFrame, LivePipeline, StampedFrames, stages_for
from app.predict.runtime_timing import TimingCache, host_fingerprint, measure_runtimes, order_by_figures, timing_key
from app.predict.session import BackendChoice, PredictError, Prediction, PredictSession
from app.predict.sources import LatestFrame


@dataclass
class Params:
    conf: float = 0.25
    iou: float = 0.7
    imgsz: int = 640


@dataclass
class Outcome:
    """What the engine reports: a prediction, or an error, for a request or a live frame."""

    tag: Any
    prediction: Prediction | None = None
    error: Exception | None = None
    image: np.ndarray | None = field(default=None, repr=False)
    live: bool = False
    fps: float = 0.0
    dropped: int = 0
    ended: bool = False
    latency_ms: float = 0.0  # a live frame: from its capture to its result
    captured_at: float = 0.0  # a live frame: time.monotonic() at capture (the tab measures capture → paint)

    def since_capture_ms(self) -> float:
        """Milliseconds from this live frame's capture to now (its latency when painted); 0 for a still."""
        if not self.captured_at:
            return self.latency_ms
        # monotonic is one clock for the whole machine, so this holds when the engine runs in another process too
        return max((time.monotonic() - self.captured_at) * 1000, self.latency_ms)


class PredictEngine:
    def __init__(self, on_result: Callable[[Outcome], None]) -> None:
        self.on_result = on_result
        self.session: PredictSession | None = None
        self.params = Params()
        self._lock = threading.Condition()
        self._pending: tuple[np.ndarray, Any, str] | None = None
        self._load: Callable[[], None] | None = None  # a load or a pick, run on the engine's thread
        self._live: LatestFrame | None = None
        self._pipe: LivePipeline | None = None  # the live run's pipeline: made, drained and closed on the engine thread
        self._stages: FrameStages | None = None
        self._stages_key: tuple[Any, ...] | None = None  # the session and parameters the predictor was set up for
        self._stop = threading.Event()
        self.frames_done = 0
        self._times: list[float] = []
        self.thread = threading.Thread(target=self._run, name="predict-engine", daemon=True)
        self.thread.start()

    # --------------------------------------------------------------- requests
    def load(self, choice: BackendChoice, task: str | None, trusted: bool = False) -> None:
        """Load ``choice`` (replacing a load or pick not yet started); reported as an ``("load", choice)`` outcome."""
        with self._lock:
            self._load = partial(self._do_load, choice, task, trusted)
            self._lock.notify_all()

    def pick(self, choices: list[BackendChoice], task: str | None, trusted: Any, cache: TimingCache,
             model_imgsz: int) -> None:
        """Load the fastest of ``choices`` on this host: timed once (then cached), reported as ``("timed", …)``."""
        with self._lock:
            self._load = partial(self._do_pick, choices, task, trusted, cache, model_imgsz)
            self._lock.notify_all()

    def submit(self, image: np.ndarray, tag: Any = None, source: str = "image") -> None:
        """Predict on ``image`` with the current parameters; replaces a request not yet started."""
        with self._lock:
            self._pending = (image, tag, source)
            self._lock.notify_all()

    def set_params(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self.params, k, v)

    def start_live(self, source: Any, tag: Any = "live") -> None:
        self.stop_live()
        with self._lock:
            self._live = LatestFrame(StampedFrames(source))
            self._live_tag = tag
            self._times = []
            self._lock.notify_all()

    def stop_live(self) -> None:
        with self._lock:
            live, self._live = self._live, None
            pipe = self._pipe
        if pipe is not None:
            pipe.cancel()  # frames in flight are dropped: nothing of this run arrives after the stop
        with self._lock:
            self._lock.notify_all()  # the engine thread closes the pipeline's threads
        if live is not None:
            live.stop()  # releases the camera

    @property
    def live(self) -> bool:
        return self._live is not None

    def close(self) -> None:
        self.stop_live()
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        self.thread.join(10)
        self.session = None

    # ------------------------------------------------------------------ loop
    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                # … or a stopped run's pipeline, whose threads are closed here
                while not (self._stop.is_set() or self._load or self._pending or self._live
                           or (self._pipe is not None and self._pipe.tag is not self._live)):
                    self._lock.wait(0.5)
                load, self._load = self._load, None
                pending = None
                if load is None:
                    pending, self._pending = self._pending, None
                live = self._live
            if self._pipe is not None and (self._stop.is_set() or load or pending or self._pipe.tag is not live):
                self._end_pipeline(wait=self._pipe.tag is live)  # the session is shared: nothing in flight meanwhile
            if self._stop.is_set():
                return
            if load is not None:
                load()
            elif pending is not None:
                self._do_still(*pending)
            elif live is not None:
                self._do_live(live)
        if self._pipe is not None:
            self._end_pipeline(wait=False)

    def _end_pipeline(self, wait: bool) -> None:
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            if wait:
                pipe.drain()
            else:
                pipe.cancel()
            pipe.close()
        self._stages_key = None  # a still, a load or a new run may set the predictor up otherwise

    def _do_load(self, choice: BackendChoice, task: str | None, trusted: bool) -> None:
        self.session = None
        try:
            self.session = PredictSession(choice, task, trusted)
        except Exception as e:  # noqa: BLE001 — reported, and the engine stays usable
            self.on_result(Outcome(tag=("load", choice), error=e))
            return
        self.on_result(Outcome(tag=("load", choice)))

    def _do_pick(self, choices: list[BackendChoice], task: str | None, trusted: Any, cache: TimingCache,
                 model_imgsz: int) -> None:
        self.session = None
        try:  # the artifacts' digests and the cache file: this thread, never the GUI's
            host = host_fingerprint()
            key = timing_key(choices, model_imgsz, host)
            figures = cache.get(key)
            session, failed = None, {}
            if figures is None:
                figures, session, failed = measure_runtimes(choices, task, model_imgsz, trusted)
                if figures:
                    cache.put(key, figures, host)
        except OSError as e:  # an unreadable artifact or home: load the first choice as before, and say so
            figures, session, failed = [], None, {"cache": f"could not time the runtimes: {e}"}
        ordered = order_by_figures(choices, figures)
        self.on_result(Outcome(tag=("timed", (ordered, figures, failed))))
        if session is not None:
            self.session = session  # the fastest is loaded already: it was timed
            self.on_result(Outcome(tag=("load", session.choice)))
        else:
            self._do_load(ordered[0], task, trusted)

    def _predict(self, image: np.ndarray, source: str) -> Prediction:
        if self.session is None:
            raise PredictError("no model is loaded")
        p = self.params
        return self.session.predict(image, conf=p.conf, iou=p.iou, imgsz=p.imgsz, source=source)

    def _do_still(self, image: np.ndarray, tag: Any, source: str) -> None:
        try:
            pred = self._predict(image, source)
        except Exception as e:  # noqa: BLE001
            self.on_result(Outcome(tag=tag, error=e, image=image))
            return
        self.on_result(Outcome(tag=tag, prediction=pred, image=image))

    def _do_live(self, live: LatestFrame) -> None:
        if self._pipe is None:
            requests = ov_requests.install(self.session)  # OpenVINO: a THROUGHPUT stream per inference thread
            self._pipe = LivePipeline(partial(self._emit_live, live), tag=live,
                                      infer_threads=len(requests.requests) if requests is not None else 1)
        pipe = self._pipe
        if not pipe.wait_room(timeout=0.5):  # the model is busy with two frames: take none yet (they go stale)
            return
        stamped = live.take(timeout=0.5)
        if stamped is None:
            if live.ended:
                pipe.drain()  # the last frames' results come before "ended"
                with self._lock:
                    stopped = self._live is not live  # stop_live ended it: nothing more of this run is reported
                    if not stopped:
                        self._live = None
                if not stopped:
                    self.on_result(Outcome(tag=self._live_tag, live=True, ended=True, dropped=live.dropped,
                                           error=PredictError(live.error) if live.error else None))
            return
        captured_at, image = stamped
        frame = LiveFrame(image, captured_at, "camera" if getattr(live.source, "is_camera", False) else "video")
        try:
            self._feed(pipe, frame)
        except Exception as e:  # noqa: BLE001
            frame.error = e
            pipe.put(frame)  # reported in order, after the frames before it

    def _feed(self, pipe: LivePipeline, frame: LiveFrame) -> None:
        """Prepare ``frame`` and hand it on; a first frame or new parameters go through the session's predict."""
        p = self.params
        key = (id(self.session), p.conf, p.iou, p.imgsz)
        if self._stages is None or key != self._stages_key:
            pipe.drain()  # the predictor is set up again: nothing may be using it
            frame.prediction = self._predict(frame.image, frame.source)
            frame.ms = {"preprocess": 0.0}
            self._stages = stages_for(self.session, self._predict)
            self._stages_key = key
        else:
            frame.prepare(self._stages)
        pipe.put(frame)

    def _emit_live(self, live: LatestFrame, frame: LiveFrame) -> None:
        """A frame out of the pipeline (its finishing thread), in capture order."""
        if frame.error is not None:
            self.stop_live()
            self.on_result(Outcome(tag=self._live_tag, error=frame.error, live=True, ended=True))
            return
        now = time.perf_counter()
        self._times = [t for t in self._times if now - t < 2.0] + [now]
        fps = (len(self._times) - 1) / (self._times[-1] - self._times[0]) if len(self._times) > 1 else 0.0
        self.frames_done += 1
        latency_ms = (time.monotonic() - frame.captured_at) * 1000
        self.on_result(Outcome(tag=self._live_tag, prediction=frame.prediction, image=frame.image, live=True, fps=fps,
                               dropped=live.dropped, latency_ms=latency_ms, captured_at=frame.captured_at))
