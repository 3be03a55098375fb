"""What crosses the predict helper's pipe: predictions without ultralytics' Results, errors as their own types,
live sources as specs the helper opens itself.

Both sides import this module, and it imports neither torch nor ultralytics: unpickling what the helper sends must
never load them into the GUI process (a pickled ``Results`` or a torch exception would).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from app.predict.session import NeedsTrust, PredictError, Prediction
from app.predict.sources import FrameSource, SourceError

OverlayKey = tuple[bool, bool, bool, bool, bool]  # Prediction.render's toggles: labels, conf, boxes, masks, probs
OVERLAY_NAMES = ("labels", "conf", "boxes", "masks", "probs")
MAX_DRAWN = 32  # every combination of the five toggles: a picture never holds more drawings than that


def overlay_key(labels: bool = True, conf: bool = True, boxes: bool = True, masks: bool = True,
                probs: bool = True) -> OverlayKey:
    """The toggles of one drawing as a hashable key (the defaults are ``Prediction.render``'s)."""
    return (bool(labels), bool(conf), bool(boxes), bool(masks), bool(probs))


def overlay_kwargs(key: OverlayKey) -> dict[str, bool]:
    """``Prediction.render``'s keyword arguments for ``key``."""
    return dict(zip(OVERLAY_NAMES, key, strict=True))


@dataclass
class RemotePrediction(Prediction):
    """A prediction made in the helper: its ``Results`` stay there; drawings come back as pictures.

    ``drawn`` holds the drawings received so far (the helper draws each result with the toggles last asked for);
    ``draw`` (set on arrival, never pickled) asks the helper for another one, or (key None) for the bare frame.
    """

    ref: int = 0  # the helper's key for the Results it kept
    drawn: dict[OverlayKey, np.ndarray] = field(default_factory=dict, repr=False)
    draw: Callable[[int, OverlayKey | None], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, p: Prediction, ref: int) -> RemotePrediction:
        """``p`` without its Results (they cannot leave the helper without torch), under ``ref``."""
        values = {f.name: getattr(p, f.name) for f in fields(Prediction) if f.name != "results"}
        return cls(**values, results=None, ref=ref)

    def render(self, labels: bool = True, conf: bool = True, boxes: bool = True, masks: bool = True,
               probs: bool = True) -> np.ndarray:
        """The picture with the overlay (drawn by ultralytics in the helper); asks the helper for a new combination."""
        key = overlay_key(labels, conf, boxes, masks, probs)
        if key not in self.drawn:
            if self.draw is None:
                raise PredictError("nothing to draw")
            if len(self.drawn) >= MAX_DRAWN:
                self.drawn.clear()
            self.drawn[key] = self.draw(self.ref, key)
        return self.drawn[key]

    def original(self) -> np.ndarray:
        """The picture this was predicted on, without the overlay: a live frame's stays in the helper until asked
        for (only its drawing travels), e.g. to predict the last frame again once a run stopped."""
        if self.draw is None:
            raise PredictError("the frame is no longer kept")
        return self.draw(self.ref, None)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["draw"] = None  # a bound method of the parent's proxy: it stays in the parent
        return state


def pack_error(e: BaseException | None) -> Any:
    """An engine error in a form that unpickles without importing anything heavy, keeping its type and fields."""
    if e is None:
        return None
    if isinstance(e, NeedsTrust):  # its __init__ takes (path, sha256, detail): pickle's default cannot rebuild it
        return ("trust", str(e), e.path, e.sha256)
    if isinstance(e, SourceError):
        return ("source", str(e))
    if isinstance(e, PredictError):
        return ("predict", str(e))
    if type(e).__module__ == "builtins":
        try:
            return ("pickled", pickle.dumps(e), str(e))
        except Exception:  # noqa: BLE001 — an exception with odd arguments: its message is enough
            pass
    return ("predict", str(e) or type(e).__name__)  # a torch / runtime type would import its module in the GUI


def unpack_error(packed: Any) -> Exception | None:
    """The exception :func:`pack_error` packed: NeedsTrust with its path and sha256, PredictError, SourceError, …"""
    if packed is None:
        return None
    kind, message, *rest = packed
    if kind == "trust":
        e = NeedsTrust.__new__(NeedsTrust)
        Exception.__init__(e, message)  # the very message the helper's NeedsTrust built
        e.path, e.sha256 = rest
        return e
    if kind == "source":
        return SourceError(message)
    if kind == "pickled":
        try:
            restored = pickle.loads(message)
            if isinstance(restored, Exception):
                return restored
        except Exception:  # noqa: BLE001
            pass
        return PredictError(rest[0])
    return PredictError(message)


def source_spec(source: Any) -> tuple[str, Any]:
    """What the helper needs to open ``source`` itself: a capture's path or camera index, else the object (pickled).

    A :class:`FrameSource` opened here is released first: a camera serves one process at a time.
    """
    if isinstance(source, FrameSource):
        source.release()
        return ("capture", source.source)
    return ("object", source)


def open_spec(spec: tuple[str, Any]) -> Any:
    """The frame source ``spec`` names, opened in this process (raises SourceError as FrameSource does)."""
    kind, what = spec
    return FrameSource(what) if kind == "capture" else what


class CountedSource:
    """A frame source that counts what it gave (the parent reports frames read, as a local source's ``n`` did)."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.n = 0
        self.released = False  # the capture thread let go of it (a camera is free again)
        self.is_camera = bool(getattr(source, "is_camera", False))
        self.fps = float(getattr(source, "fps", 30.0) or 30.0)

    def read(self) -> np.ndarray | None:
        """The source's next frame, counted."""
        frame = self.source.read()
        if frame is not None:
            self.n += 1
        return frame

    def release(self) -> None:
        """Release the source (a camera is free for others again)."""
        self.source.release()
        self.released = True
