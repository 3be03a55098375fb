"""The predict engine: one thread that owns the model and always works on the newest request.

Still pictures: ``submit()`` replaces whatever request is pending (moving a slider ten times
runs the model once or twice, not ten times). Live video or a camera: a capture thread keeps only
the newest frame (:class:`~app.predict.sources.LatestFrame`) and the engine takes it when it is
free, so a slow model drops frames instead of building a queue. Results go to ``on_result``
(called on the engine's thread; the Qt bridge turns it into a queued signal).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

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


class PredictEngine:
    def __init__(self, on_result: Callable[[Outcome], None]) -> None:
        self.on_result = on_result
        self.session: PredictSession | None = None
        self.params = Params()
        self._lock = threading.Condition()
        self._pending: tuple[np.ndarray, Any, str] | None = None
        self._load: Callable[[], None] | None = None  # a load or a pick, run on the engine's thread
        self._live: LatestFrame | None = None
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
            self._live = LatestFrame(source)
            self._live_tag = tag
            self._times = []
            self._lock.notify_all()

    def stop_live(self) -> None:
        with self._lock:
            live, self._live = self._live, None
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
                while not (self._stop.is_set() or self._load or self._pending or self._live):
                    self._lock.wait(0.5)
                load, self._load = self._load, None
                pending = None
                if load is None:
                    pending, self._pending = self._pending, None
                live = self._live
            if self._stop.is_set():
                return
            if load is not None:
                load()
            elif pending is not None:
                self._do_still(*pending)
            elif live is not None:
                self._do_live(live)

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
        frame = live.take(timeout=0.5)
        if frame is None:
            if live.ended:
                with self._lock:
                    if self._live is live:
                        self._live = None
                self.on_result(Outcome(tag=self._live_tag, live=True, ended=True, dropped=live.dropped,
                                       error=PredictError(live.error) if live.error else None))
            return
        try:
            pred = self._predict(frame, "camera" if getattr(live.source, "is_camera", False) else "video")
        except Exception as e:  # noqa: BLE001
            self.stop_live()
            self.on_result(Outcome(tag=self._live_tag, error=e, live=True, ended=True))
            return
        now = time.perf_counter()
        self._times = [t for t in self._times if now - t < 2.0] + [now]
        fps = (len(self._times) - 1) / (self._times[-1] - self._times[0]) if len(self._times) > 1 else 0.0
        self.frames_done += 1
        self.on_result(Outcome(tag=self._live_tag, prediction=pred, image=frame, live=True, fps=fps,
                               dropped=live.dropped))
