"""The predict helper process: a :class:`~app.predict.engine.PredictEngine` in its own interpreter, so torch,
ultralytics and the runtimes never load in the GUI's (their imports and a model's first load hold the GIL for
seconds, which stalled the window).

Started by :mod:`app.predict.engine_proxy` through multiprocessing's "spawn" (a fresh interpreter, never a fork of
the Qt process). It applies the offline switches before anything imports ultralytics, imports torch and
ultralytics at once (the slow part, done before the user asks), says ``ready``, then serves the pipe: requests go
to the engine, outcomes go back with the overlay already drawn (ultralytics' ``Results.plot``, here, with the
toggles last asked for) and without the ``Results``, which are kept here for redrawing. The pipe's end is the
parent's end: when the GUI process goes away, so does this one.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import fields
from multiprocessing.connection import Connection
from typing import Any

from app.predict.engine import Outcome, PredictEngine
from app.predict.engine_wire import (
    CountedSource,
    OverlayKey,
    RemotePrediction,
    open_spec,
    overlay_kwargs,
    pack_error,
)
from app.predict.session import Prediction, cuda_available
from app.predict.sources import SourceError

REQUEST = "request"  # the engine's tag for a still picture: (REQUEST, request id); the parent maps it back
KEPT_RESULTS = 8  # Results kept for redrawing: the shown one and a few in flight
HEARTBEAT_S = 1.0  # "alive" this often, from its own thread: the parent ends a helper that falls silent


def host_main(conn: Connection) -> None:
    """The helper's entry point (run by multiprocessing in the fresh interpreter)."""
    from app.offline import apply_offline, disable_openvino_telemetry

    apply_offline()  # before ultralytics is imported: no downloads, no pip, our font, settings under the home
    disable_openvino_telemetry()
    os.environ["ULTRALYTICS_SAFE_LOAD"] = "1"  # the loading gate's default, as in every agent process
    os.environ["YOLO_AUTOINSTALL"] = "false"
    host = Host(conn)
    threading.Thread(target=host.beat, name="predict-heartbeat", daemon=True).start()  # before the slow imports
    host.serve()


def _warm_drawing() -> None:
    """Draw one box now: ultralytics' first ``plot`` loads its font and drawing code (~40 ms), which would otherwise
    fall on the first redraw the GUI thread waits for."""
    import numpy as np
    import torch
    from ultralytics.engine.results import Results

    boxes = torch.tensor([[2.0, 2.0, 20.0, 20.0, 0.9, 0.0]])
    Results(np.zeros((32, 32, 3), np.uint8), path="warm-up", names={0: "a"}, boxes=boxes).plot()


class Host:
    """The helper's side of the pipe: one engine, its outcomes relayed, drawings made on request."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()  # the relay thread and the main thread both write
        self._kept: OrderedDict[int, Prediction] = OrderedDict()
        self._kept_lock = threading.Lock()
        self._refs = itertools.count(1)
        self.overlay: OverlayKey | None = None  # the toggles the parent last drew with: outcomes come drawn so
        self.live_gen = 0
        self.counted: CountedSource | None = None
        self._queue: deque[Outcome | tuple] = deque()  # outcomes to draw and send, and ("stats", …) messages
        self._credit: float = math.inf  # live frames the parent will take now: drawn ones are sent only against it
        self._held: Outcome | None = None  # the newest live result not sent as a picture (sent when credit comes)
        self._cond = threading.Condition()
        self._closing = False
        self.engine: PredictEngine | None = None

    def send(self, msg: Any) -> None:
        """One message to the parent; a parent that went away ends this process's work quietly."""
        try:
            with self._send_lock:
                self.conn.send(msg)
        except (OSError, ValueError):
            pass

    def beat(self) -> None:
        """Say "alive" every HEARTBEAT_S until the pipe closes: silence means the process is stuck (a stopped
        process, or a call that holds the GIL), and the parent ends it rather than wait for ever."""
        while not self._closing:
            self.send(("alive",))
            time.sleep(HEARTBEAT_S)

    def serve(self) -> None:
        """Import the heavy modules, say ready, then handle the parent's requests until it closes or goes away."""
        import torch  # noqa: F401 — the slow imports, before the user's first request
        import ultralytics  # noqa: F401
        from ultralytics.nn.autobackend import AutoBackend  # noqa: F401

        with contextlib.suppress(ImportError):
            import torchvision  # noqa: F401 — ultralytics' first predict imports it (and torch._dynamo): ~2 s

        _warm_drawing()
        self.engine = PredictEngine(self._on_outcome)
        relay = threading.Thread(target=self._relay, name="predict-relay", daemon=True)
        relay.start()
        self.send(("ready", {"cuda": cuda_available(), "pid": os.getpid()}))
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                break  # the GUI process closed the pipe or died
            if msg[0] == "close":
                break
            self.handle(msg)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self.engine.close()  # stops the live loop: the camera is released

    def handle(self, msg: tuple) -> None:
        """One request from the parent."""
        engine = self.engine
        assert engine is not None
        kind = msg[0]
        if kind == "config":  # a fresh helper: the parent's parameters and drawing toggles
            engine.set_params(**msg[1])
            self.overlay = msg[2]
        elif kind == "params":
            engine.set_params(**msg[1])
        elif kind == "load":
            engine.load(*msg[1:])
        elif kind == "pick":
            engine.pick(*msg[1:])
        elif kind == "submit":
            _, rid, image, source = msg
            engine.submit(image, tag=(REQUEST, rid), source=source)
        elif kind == "live":
            self._start_live(*msg[1:])
        elif kind == "stop_live":
            engine.stop_live()  # joins the capture thread: nothing reads the source after this
            counted = self.counted
            self.send(("stopped", counted.n if counted else 0, counted.released if counted else True))
        elif kind == "render":
            self._render(*msg[1:])
        elif kind == "credit":
            self._grant(msg[1])

    def _start_live(self, gen: int, spec: tuple[str, Any], tag: Any, paced: bool = False) -> None:
        assert self.engine is not None
        self.engine.stop_live()
        with self._cond:
            self.live_gen = gen
            self._credit = 1 if paced else math.inf  # paced: one picture in flight until the parent painted it
            self._held = None
        try:
            self.counted = CountedSource(open_spec(spec))
        except Exception as e:  # noqa: BLE001 — a camera in use, a damaged video: one sentence in the tab
            self.counted = None
            error = e if isinstance(e, SourceError) else SourceError(f"{type(e).__name__}: {e}")
            self.send(("outcome", self._wire(Outcome(tag=tag, error=error, live=True, ended=True))))
            return
        self.engine.start_live(self.counted, tag)

    def _render(self, rid: int, ref: int, key: OverlayKey | None) -> None:
        """A drawing the parent asked for (a toggle changed), or (key None) the frame a result was predicted on:
        answered on this thread, not behind the engine."""
        with self._kept_lock:
            p = self._kept.get(ref)
        if key is not None:
            self.overlay = key
        if p is None:
            self.send(("rendered", rid, None, "this result is no longer kept: predict again to draw it"))
            return
        try:
            image = p.render(**overlay_kwargs(key)) if key is not None else p.results.orig_img
        except Exception as e:  # noqa: BLE001
            self.send(("rendered", rid, None, f"could not draw the overlay: {type(e).__name__}: {e}"))
            return
        self.send(("rendered", rid, image, None))

    # ------------------------------------------------------------- outcomes
    def _on_outcome(self, o: Outcome) -> None:
        """The engine's callback (its thread): queue for the relay. A live result goes as a picture only against a
        credit (the parent painted the previous one); without one it is held, replacing the one held before, and
        only its counters travel. The held one goes before an "ended", so a run's last frame always arrives."""
        with self._cond:
            if o.live and o.prediction is not None and o.error is None and not o.ended:
                stale = [q for q in self._queue if isinstance(q, Outcome) and q.live and q.prediction is not None
                         and not q.ended]
                for q in stale:
                    self._queue.remove(q)  # the tab paints the newest anyway
                if self._credit >= 1 or stale:  # a replaced unsent picture's credit passes to this one
                    self._credit -= 0 if stale else 1
                    self._held = None
                    self._queue.append(o)
                else:
                    self._held = o
                    self._queue = deque(q for q in self._queue if not (isinstance(q, tuple) and q[0] == "stats"))
                    self._queue.append(("stats", o))  # its counters are read when sent: they never go back
            else:
                if o.live and o.ended and self._held is not None:
                    self._queue.append(self._held)  # the run's last frame, whatever the credit
                    self._held = None
                self._queue.append(o)
            self._cond.notify_all()

    def _grant(self, gen: int) -> None:
        """The parent painted a live picture of run ``gen``: send the held result now, or the next one."""
        with self._cond:
            if gen != self.live_gen:
                return  # a credit for a run stopped since
            if self._held is not None:
                self._queue.append(self._held)
                self._held = None
            else:
                self._credit = min(self._credit + 1, 1)  # never more than one picture ahead of the painting
            self._cond.notify_all()

    def _stats(self, o: Outcome) -> tuple[Any, ...]:
        """A live result's counters without its picture: frames done and read, FPS, dropped, latency."""
        engine = self.engine
        return ("stats", self.live_gen, engine.frames_done if engine else 0, self.counted.n if self.counted else 0,
                o.fps, o.dropped, o.latency_ms)

    def _relay(self) -> None:
        """Draw and send each outcome: drawing overlaps the engine's next inference instead of delaying it."""
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait(0.5)
                if self._closing:
                    return
                item = self._queue.popleft()
            self.send(self._stats(item[1]) if isinstance(item, tuple) else ("outcome", self._wire(item)))

    def _wire(self, o: Outcome) -> dict[str, Any]:
        pred = None
        if o.prediction is not None:
            ref = next(self._refs)
            with self._kept_lock:
                self._kept[ref] = o.prediction
                while len(self._kept) > KEPT_RESULTS:
                    self._kept.popitem(last=False)
            pred = RemotePrediction.of(o.prediction, ref)
            key = self.overlay
            if key is not None:
                try:
                    pred.drawn[key] = o.prediction.render(**overlay_kwargs(key))
                except Exception:  # noqa: BLE001 — drawn on request instead, where the error reaches the tab
                    pass
        tag = o.tag
        engine = self.engine
        wire = {f.name: getattr(o, f.name) for f in fields(Outcome)}  # every field, those added later too
        # a still picture's pixels are the parent's already; a live frame with its drawing travels as the drawing
        # only (the frame itself on request: RemotePrediction.original), one 640 picture fewer per paint
        wire.update(prediction=pred, error=pack_error(o.error),
                    image=o.image if o.live and (pred is None or not pred.drawn) else None)
        wire["_request"] = tag[1] if isinstance(tag, tuple) and len(tag) == 2 and tag[0] == REQUEST else None
        wire["_gen"] = self.live_gen if o.live else 0
        wire["_frames_done"] = engine.frames_done if engine else 0
        wire["_frames_read"] = self.counted.n if self.counted else 0
        return wire
