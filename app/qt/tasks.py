"""Run a function on the thread pool; its result or error arrives on the GUI thread as a callback.

Anki-style background operations: the function never touches widgets; ``on_success`` /
``on_failure`` run on the GUI thread through one queued signal.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


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
            self._relay.done.emit(None, e)
        else:
            self._relay.done.emit(result, None)


_live: set[_Relay] = set()


def run_in_background(
    fn: Callable[[], Any],
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[Exception], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn`` off the GUI thread; call ``on_success(result)`` or ``on_failure(error)`` on the GUI thread."""
    relay = _Relay()
    _live.add(relay)

    @Slot(object, object)
    def finish(result: Any, error: Any) -> None:
        _live.discard(relay)
        relay.deleteLater()
        if error is not None:
            if on_failure:
                on_failure(error)
        elif on_success:
            on_success(result)

    relay.done.connect(finish)
    (pool or QThreadPool.globalInstance()).start(_Task(fn, relay))
