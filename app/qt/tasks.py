"""Run a function on the thread pool; its result or error arrives on the GUI thread as a callback.

Anki-style background operations: the function never touches widgets; ``on_success`` /
``on_failure`` run on the GUI thread through one queued signal. An error with no ``on_failure``
goes to :func:`background_errors` (the window shows it in its status bar), never nowhere.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger("yolodesk.background")


class BackgroundErrors(QObject):
    """The one place background errors without a handler go: logged with their traceback, then ``reported``."""

    reported = Signal(str)  # one line for the user

    def report(self, error: BaseException, what: str = "") -> None:
        """Log ``error`` (traceback included) and emit its one-line message (call on the GUI thread)."""
        tb = getattr(error, "__yd_traceback__", None) or "".join(traceback.format_exception(error))
        log.error("background %s failed:\n%s", what or "task", tb)
        line = f"{type(error).__name__}: {error}".splitlines()[0]
        self.reported.emit(f"{what} failed — {line}" if what else f"Background task failed — {line}")


_errors: BackgroundErrors | None = None


def background_errors() -> BackgroundErrors:
    """The process-wide :class:`BackgroundErrors` (lives on the GUI thread)."""
    global _errors
    if _errors is None:
        _errors = BackgroundErrors()
        app = QCoreApplication.instance()
        if app is not None:
            _errors.moveToThread(app.thread())
    return _errors


class _Relay(QObject):
    done = Signal(object, object)  # (result, error)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as e:  # relayed to the GUI thread, never swallowed
            e.__yd_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._deliver(None, e)
        else:
            self._deliver(result, None)

    def _deliver(self, result: Any, error: Any) -> None:
        try:
            self._relay.done.emit(result, error)
        except RuntimeError:  # the relay went with the application (closing): there is no one left to tell
            if error is not None:
                log.error("background task failed after the window closed: %s", error)


_live: set[_Relay] = set()


def run_in_background(
    fn: Callable[[], Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[Exception], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn`` off the GUI thread; call ``on_success(result)`` or ``on_failure(error)`` on the GUI thread.

    Without ``on_failure`` an error is reported to :func:`background_errors`.
    """
    relay = _Relay()
    _live.add(relay)
    errors = background_errors()

    @Slot(object, object)
    def finish(result: Any, error: Any) -> None:
        _live.discard(relay)
        relay.deleteLater()
        if error is not None:
            if on_failure:
                on_failure(error)
            else:
                errors.report(error)
        elif on_success:
            on_success(result)

    relay.done.connect(finish)
    (pool or QThreadPool.globalInstance()).start(_Task(fn, relay))
