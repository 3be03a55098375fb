"""The predict engine in a helper process, behind :class:`~app.predict.engine.PredictEngine`'s interface.

:class:`ProcessPredictEngine` is what the Predict tab holds: ``load``, ``pick``, ``submit``, ``set_params``,
``start_live``, ``stop_live``, ``live``, ``close``, ``frames_done``, and ``on_result(Outcome)`` called on a reader
thread, as the in-process engine does. The engine itself runs in :mod:`app.predict.engine_host`, so this process
never imports torch, ultralytics or a runtime: no GIL stall while they import or a model first loads.

Nothing here blocks the calling thread on the helper except :meth:`RemotePrediction.render` for a combination of
toggles not yet drawn (one round trip, bounded). Requests go through a sender thread: the helper may still be
importing torch, and a pipe write of a picture would wait for it. A helper that dies is reported once (in the
request that was waiting, or as a plain error) and the next request starts a fresh one, which loads the model
again first. So does one that falls silent: the helper says "alive" every second from its own thread, and one
silent for ``hung_after_s`` (a stopped process, a call stuck holding the GIL) is killed and reported as stuck. ``close()`` ends it; the helper also ends by itself when this process's end of the pipe goes away.
"""

from __future__ import annotations

import itertools
import multiprocessing
import pickle
import queue
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from typing import Any

import numpy as np

from app.predict.engine import Outcome, Params
from app.predict.engine_wire import OverlayKey, RemotePrediction, source_spec, unpack_error
from app.predict.runtime_timing import TimingCache
from app.predict.session import BackendChoice, PredictError

RENDER_WAIT_S = 3.0  # a toggle's redraw waits this long for the helper at most (a drawing takes ~10 ms)
READY_WAIT_S = 120.0  # the helper's imports on a busy machine: cuda_available() waits this long
STOP_WAIT_S = 1.0  # close(): SIGTERM, then this long, then SIGKILL
HUNG_AFTER_S = 30.0  # a ready helper says "alive" every second: this long without a word, and it is ended
KEPT_REQUESTS = 16  # still pictures not yet answered (the engine answers only the newest of a burst)
_LOADS = ("load", "pick")
_STARTS_HELPER = ("load", "pick", "submit", "live", "ping")  # the others mean nothing to a helper not yet running


@dataclass
class _Helper:
    """One helper process and the parent's end of its pipe."""

    number: int
    process: Any  # multiprocessing's SpawnProcess
    conn: Any  # multiprocessing.connection.Connection
    ready: threading.Event = field(default_factory=threading.Event)
    info: dict[str, Any] = field(default_factory=dict)
    dead: bool = False
    closing: bool = False
    hung: float = 0.0  # seconds of silence after which the parent ended it (0: it was not ended for that)


@dataclass
class _Render:
    """A drawing asked of the helper, waited for by the caller."""

    helper: int
    done: threading.Event = field(default_factory=threading.Event)
    image: np.ndarray | None = None
    error: str | None = None


class ProcessPredictEngine:
    """PredictEngine's interface; the engine runs in a helper process started on the first request."""

    def __init__(self, on_result: Callable[[Outcome], None], paced: bool = False,
                 hung_after_s: float = HUNG_AFTER_S) -> None:
        self.on_result = on_result
        self.hung_after_s = hung_after_s  # silence from a ready helper that ends it (before ready: READY_WAIT_S)
        self.paced = paced  # live pictures only as fast as the caller says it took them (frame_taken)
        self.live_stats: dict[str, float] = {}  # the newest live result's fps, dropped, latency_ms, drawn or not
        self.params = Params()
        self.session = None  # the model lives in the helper, never in this process
        self.frames_done = 0  # live frames predicted (the helper's engine counts them)
        self.frames_read = 0  # frames the live source gave (it is read in the helper)
        self.source_released = True  # the helper let go of the last live source (stop_live, then its report)
        self._lock = threading.Lock()
        self._outbox: queue.Queue[tuple | None] = queue.Queue()
        self._helper: _Helper | None = None
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1)
        self._load_msg: tuple | None = None  # the last load or pick: a fresh helper replays it
        self._loading: tuple[bool, BackendChoice | None] = (False, None)  # waiting for a load, and for which choice
        self._overlay: OverlayKey | None = None  # the toggles last drawn with: the helper draws new results so
        self._live = False
        self._live_tag: Any = "live"
        self._live_gen = 0
        self._requests: OrderedDict[int, tuple[Any, np.ndarray]] = OrderedDict()
        self._renders: dict[int, _Render] = {}
        self._closed = False
        self._failed_starts = 0  # helpers that could not start: cuda_available() stops waiting for one
        self.thread = threading.Thread(target=self._send_loop, name="predict-proxy-send", daemon=True)
        self.thread.start()

    # --------------------------------------------------------------- requests
    def load(self, choice: BackendChoice, task: str | None, trusted: Any = False) -> None:
        """Load ``choice`` in the helper; reported as an ``("load", choice)`` outcome."""
        self._post_load(("load", choice, task, trusted), choice)

    def pick(self, choices: list[BackendChoice], task: str | None, trusted: Any, cache: TimingCache,
             model_imgsz: int) -> None:
        """Load the fastest of ``choices`` on this host (timed in the helper); reported as ``("timed", …)``."""
        self._post_load(("pick", choices, task, trusted, cache, model_imgsz), None)

    def _post_load(self, msg: tuple, choice: BackendChoice | None) -> None:
        with self._lock:
            self._load_msg = msg
            self._loading = (True, choice)
        self._post(msg)

    def submit(self, image: np.ndarray, tag: Any = None, source: str = "image") -> None:
        """Predict on ``image`` with the current parameters (the helper's engine keeps only the newest)."""
        rid = next(self._ids)
        with self._lock:
            self._requests[rid] = (tag, image)
            while len(self._requests) > KEPT_REQUESTS:
                self._requests.popitem(last=False)
        self._post(("submit", rid, image, source))

    def set_params(self, **kw: Any) -> None:
        """Confidence, IoU, input size: kept here (a fresh helper gets them) and sent on."""
        for k, v in kw.items():
            setattr(self.params, k, v)
        self._post(("params", kw))

    def start_live(self, source: Any, tag: Any = "live") -> None:
        """Run ``source`` live in the helper: a video file or camera is opened there from its path or index."""
        self.stop_live()
        with self._lock:
            self._live_gen += 1
            self._live, self._live_tag = True, tag
            self.source_released = False
        self._post(("live", self._live_gen, source_spec(source), tag, self.paced))

    def frame_taken(self) -> None:
        """The caller painted the live picture it was given: a paced helper sends the next one (results in between
        travel as counters only, so the helper does not draw and pickle pictures nobody sees)."""
        if self.paced and self._live:
            self._post(("credit", self._live_gen))

    def stop_live(self) -> None:
        """Stop the live loop; what it still sends is dropped (the helper releases the camera)."""
        with self._lock:
            if not self._live:
                return
            self._live = False
            self._live_gen += 1
        self._post(("stop_live",))

    @property
    def live(self) -> bool:
        """Whether a live run is going (cleared at once by stop_live, or when the helper says it ended)."""
        return self._live

    def cuda_available(self, timeout: float = READY_WAIT_S) -> bool:
        """Whether the helper's torch sees an NVIDIA GPU (starts the helper; waits for its imports; not the GUI's)."""
        failed = self._failed_starts
        self._post(("ping",))
        end = time.monotonic() + timeout
        h: _Helper | None = None
        while time.monotonic() < end and not self._closed and self._failed_starts == failed:
            with self._lock:
                h = self._helper or h  # the one that started for this question, even once it is gone
            if h is not None and h.ready.wait(0.1):
                return bool(h.info.get("cuda"))
            if h is not None and h.dead:
                return False  # it died while importing: said in the tab, and no GPU to offer
            time.sleep(0.05)
        return False

    def helper_pid(self) -> int | None:
        """The running helper's process id (None when none runs)."""
        with self._lock:
            h = self._helper
        return h.process.pid if h is not None and not h.dead else None

    def close(self) -> None:
        """Stop the helper (SIGTERM, then SIGKILL) and the sender thread; nothing is left running."""
        with self._lock:
            self._closed, self._live = True, False
            h, self._helper = self._helper, None
        self._outbox.put(None)
        if h is not None:
            h.closing = True
            h.process.terminate()
            h.process.join(STOP_WAIT_S)
            if h.process.is_alive():
                h.process.kill()
                h.process.join(STOP_WAIT_S)
        self.thread.join(STOP_WAIT_S)
        self._fail_renders(None, "the predict helper was closed")

    # ----------------------------------------------------------------- sending
    def _post(self, msg: tuple) -> None:
        if not self._closed:
            self._outbox.put(msg)

    def _send_loop(self) -> None:
        while (msg := self._outbox.get()) is not None:
            if msg[0] == "render" and (self._helper is None or self._helper.number != self._renders_helper(msg)):
                self._answer_render(msg[1], None, "the predict helper restarted: predict again to draw this")
                continue
            try:
                data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001 — a source object that cannot travel: said in the tab
                self._deliver_error(msg, PredictError(f"could not hand this to the predict helper: {e}"))
                continue
            h = self._ensure_helper(msg)
            if h is None:
                continue
            try:
                h.conn.send_bytes(data)
            except (OSError, ValueError):
                pass  # the helper died: its reader reports it, the next request starts a fresh one

    def _renders_helper(self, msg: tuple) -> int:
        with self._lock:
            r = self._renders.get(msg[1])
        return r.helper if r is not None else -1

    def _ensure_helper(self, msg: tuple) -> _Helper | None:
        """The running helper, or a fresh one with the parameters and model load it should have (sender thread)."""
        with self._lock:
            h = self._helper
        if h is not None and not h.dead:
            return h
        if self._closed or msg[0] not in _STARTS_HELPER:
            return None  # parameters and stops reach a fresh helper in its "config" message
        try:
            h = self._start()
        except Exception as e:  # noqa: BLE001 — no process could start (out of memory, no interpreter)
            self._failed_starts += 1
            self._deliver_error(msg, PredictError(f"the predict helper process could not start: {e}"))
            return None
        try:
            h.conn.send(("config", asdict(self.params), self._overlay))
            if self._load_msg is not None and msg[0] not in _LOADS:
                h.conn.send(self._load_msg)  # the model the dead helper had, before this request
        except (OSError, ValueError):
            pass
        return h

    def _start(self) -> _Helper:
        from app.predict.engine_host import host_main  # noqa: PLC0415 — imports nothing heavy; the child's entry

        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: never a fork of the Qt process
        parent_end, child_end = ctx.Pipe()
        process = ctx.Process(target=host_main, args=(child_end,), name="yolodesk-predict", daemon=True)
        process.start()
        child_end.close()
        h = _Helper(next(self._numbers), process, parent_end)
        with self._lock:
            if self._closed:  # closed while starting: nothing may outlive close()
                process.kill()
                raise PredictError("closed")
            self._helper = h
        threading.Thread(target=self._read_loop, args=(h,), name="predict-proxy-read", daemon=True).start()
        return h

    # ----------------------------------------------------------------- reading
    def _read_loop(self, h: _Helper) -> None:
        while True:
            silence = self.hung_after_s if h.ready.is_set() else READY_WAIT_S
            try:
                if not h.conn.poll(silence):
                    self._end_hung(h, silence)
                    continue  # killed: the pipe reads as closed next
                msg = h.conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # noqa: BLE001 — a message that does not unpickle here: skipped, not fatal
                continue
            kind = msg[0]
            if kind == "alive":
                continue
            if kind == "ready":
                h.info = msg[1]
                h.ready.set()
            elif kind == "outcome":
                self._on_wire(h, msg[1])
            elif kind == "rendered":
                self._answer_render(*msg[1:])
            elif kind == "stats":
                self._on_stats(*msg[1:])
            elif kind == "stopped":
                self.frames_read, self.source_released = int(msg[1]), bool(msg[2])
        h.dead = True
        h.process.join(STOP_WAIT_S)
        if not (h.closing or self._closed):
            self._on_death(h)

    def _on_wire(self, h: _Helper, wire: dict[str, Any]) -> None:
        """An outcome from the helper, made whole again (the tag and picture of a still, the drawing callback)."""
        if wire["live"] and wire["_gen"] != self._live_gen:
            return  # a live run stopped since
        tag, image = wire["tag"], wire["image"]
        if wire["_request"] is not None:
            with self._lock:
                found = self._requests.get(wire["_request"])
            if found is None:
                return
            tag, image = found
        pred = wire["prediction"]
        if isinstance(pred, RemotePrediction):
            pred.draw = partial(self._draw, h.number)
        if isinstance(tag, tuple) and tag and tag[0] == "load":
            with self._lock:
                self._loading = (False, None)
        if wire["live"]:
            self.frames_done, self.frames_read = wire["_frames_done"], wire["_frames_read"]
            if pred is not None:  # the "ended" outcome carries no frame's figures
                self.live_stats = {"fps": wire["fps"], "dropped": wire["dropped"], "latency_ms": wire["latency_ms"]}
            if wire["ended"]:
                with self._lock:
                    self._live = False
                self.source_released = True  # the capture thread released it before the engine said "ended"
        names = {f.name for f in fields(Outcome)}
        values = {k: v for k, v in wire.items() if k in names}
        values.update(tag=tag, image=image, prediction=pred, error=unpack_error(wire["error"]))
        self.on_result(Outcome(**values))

    def _on_stats(self, gen: int, done: int, read: int, fps: float, dropped: int, latency_ms: float) -> None:
        """A live result the helper did not send as a picture: it still counts."""
        if gen == self._live_gen:
            self.frames_done, self.frames_read = done, read
            self.live_stats = {"fps": fps, "dropped": dropped, "latency_ms": latency_ms}

    @staticmethod
    def _end_hung(h: _Helper, silence: float) -> None:
        """A helper silent for ``silence`` s (stopped, or stuck holding the GIL): SIGKILL, and its death is said."""
        if not h.closing:
            h.hung = silence
        h.process.kill()

    def _on_death(self, h: _Helper) -> None:
        """Say once that the helper stopped, in the request that waited for it; the next request starts another."""
        code = h.process.exitcode
        if h.hung:
            what = f"stopped answering for {h.hung:g} s and was ended"
        elif code is not None and code < 0:
            try:
                what = f"stopped (killed by {signal.Signals(-code).name})"
            except ValueError:
                what = f"stopped (killed by signal {-code})"
        else:
            what = f"stopped (exit code {code})"
        error = PredictError(f"The predict helper process {what}; a fresh one starts with the next request.")
        self._fail_renders(h.number, str(error))
        with self._lock:
            if self._helper is h:
                self._helper = None
            loading, choice = self._loading
            self._loading = (False, None)
            live, self._live = self._live, False
        if loading:
            self.on_result(Outcome(tag=("load", choice), error=error))
        elif live:
            self.on_result(Outcome(tag=self._live_tag, error=error, live=True, ended=True))
        else:
            self.on_result(Outcome(tag=None, error=error))

    def _deliver_error(self, msg: tuple, error: PredictError) -> None:
        kind = msg[0]
        if kind in _LOADS:
            with self._lock:
                self._loading = (False, None)
            self.on_result(Outcome(tag=("load", msg[1] if kind == "load" else None), error=error))
        elif kind == "live":
            with self._lock:
                self._live = False
            self.on_result(Outcome(tag=msg[3], error=error, live=True, ended=True))
        elif kind == "submit":
            with self._lock:
                tag, image = self._requests.get(msg[1], (None, None))
            self.on_result(Outcome(tag=tag, error=error, image=image))
        elif kind == "render":
            self._answer_render(msg[1], None, str(error))
        elif kind == "ping":
            self.on_result(Outcome(tag=None, error=error))

    # ---------------------------------------------------------------- drawing
    def _draw(self, helper: int, ref: int, key: OverlayKey | None) -> np.ndarray:
        """A drawing of a kept result with other toggles, or (key None) its bare frame (the caller's thread waits,
        at most RENDER_WAIT_S)."""
        if key is not None:
            self._overlay = key  # the next results come drawn this way
        with self._lock:
            h = self._helper
            if h is None or h.dead or h.number != helper:
                raise PredictError("the predict helper restarted since this picture: predict it again to redraw")
            rid = next(self._ids)
            pending = self._renders[rid] = _Render(helper)
        self._post(("render", rid, ref, key))
        if not pending.done.wait(RENDER_WAIT_S):
            with self._lock:
                self._renders.pop(rid, None)
            raise PredictError(f"the predict helper did not draw the overlay within {RENDER_WAIT_S:g} s")
        if pending.error is not None or pending.image is None:
            raise PredictError(pending.error or "nothing to draw")
        return pending.image

    def _answer_render(self, rid: int, image: np.ndarray | None, error: str | None) -> None:
        with self._lock:
            pending = self._renders.pop(rid, None)
        if pending is not None:
            pending.image, pending.error = image, error
            pending.done.set()

    def _fail_renders(self, helper: int | None, error: str) -> None:
        with self._lock:
            failed = [rid for rid, r in self._renders.items() if helper is None or r.helper == helper]
        for rid in failed:
            self._answer_render(rid, None, error)
