"""The window's one serial library executor: every read and write the window makes runs on one thread.

Anki's ops: an operation is a function run on the ``library-ops`` thread; its result (or error) and
what changed reach the GUI thread through one queued signal, then ``changed`` tells views what to
refresh. Between operations the thread watches SQLite's ``PRAGMA data_version`` (it moves when any
other connection commits: another process, the job manager, the import pool) and, when it moves,
diffs a snapshot of the library to say which models, projects, jobs and workers changed. The GUI
thread never opens a connection, so a long write elsewhere can delay a result but never freeze it.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal

from app.library.repository import Library
from app.qt import gui_thread_gc
from app.qt.library_changes import Changes, Snapshot, diff, take_snapshot
from app.qt.tasks import background_errors

WATCH_SECONDS = 0.25  # how soon a change made by another process shows


@dataclass
class _Op:
    fn: Callable[[], Any]
    on_success: Callable[[Any], None] | None
    on_failure: Callable[[Exception], None] | None
    what: str


@dataclass
class _Outcome:
    op: _Op | None  # None: the watcher noticed a change on its own
    result: Any = None
    error: Exception | None = None
    changes: Changes = Changes()


class LibraryOps(QObject):
    """A single background thread for the window's library work; results and changes come back as signals."""

    changed = Signal(object)  # Changes: the one signal views refresh from
    _delivered = Signal(object)  # _Outcome, emitted on the library thread, received on the GUI thread

    def __init__(self, lib: Library, parent: QObject | None = None, watch_seconds: float = WATCH_SECONDS) -> None:
        super().__init__(parent)
        gui_thread_gc.install()  # a cycle holding a Qt object must never be collected on this class's thread
        self.lib = lib
        self._watch_seconds = watch_seconds
        self._queue: queue.Queue[_Op | None] = queue.Queue()
        self._pending = 0  # submitted, not yet delivered (GUI thread only)
        self._delivered.connect(self._on_delivered)
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="library-ops", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ GUI thread
    def submit(self, fn: Callable[[], Any], on_success: Callable[[Any], None] | None = None,
               on_failure: Callable[[Exception], None] | None = None, what: str = "") -> None:
        """Run ``fn`` on the library thread; ``on_success(result)`` / ``on_failure(error)`` run on the GUI thread.

        Without ``on_failure`` an error goes to the window's status bar (:func:`background_errors`).
        """
        if self._stopped:
            return
        self._pending += 1
        self._queue.put(_Op(fn, on_success, on_failure, what))

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def wait_idle(self, timeout: float = 15.0) -> bool:
        """Deliver everything queued, and what it queues in turn, within ``timeout`` s (tests, benches, close).

        False at once once stopped: the thread is gone, nothing queued will be delivered (a closed window)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopped:
            done: list[bool] = []
            self.submit(lambda: None, done.append)  # a barrier; a change check follows it
            while not done and time.monotonic() < deadline and not self._stopped:
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            QCoreApplication.processEvents()
            if done and self._pending == 0:
                return True
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the queued operations (their callbacks are dropped) and end the thread."""
        self._stopped = True
        self._queue.put(None)
        self._thread.join(timeout)

    def _on_delivered(self, out: _Outcome) -> None:
        if out.op is not None:
            self._pending -= 1
            if out.error is not None:
                if out.op.on_failure is not None:
                    out.op.on_failure(out.error)
                else:
                    background_errors().report(out.error, out.op.what)
            elif out.op.on_success is not None:
                out.op.on_success(out.result)
        if out.changes:
            self.changed.emit(out.changes)

    # ------------------------------------------------------------------ library thread
    def _run(self) -> None:
        watch = _Watcher(self.lib)
        while True:
            try:
                op = self._queue.get(timeout=self._watch_seconds)
            except queue.Empty:
                op = _IDLE
            if op is None:
                watch.close()
                return
            out = _Outcome(None) if op is _IDLE else self._execute(op)
            try:
                out.changes = watch.check()
            except Exception as e:  # a failed look must not end the thread; it is shown once per kind
                watch.report(e)
            if out.op is not None or out.changes:
                self._delivered.emit(out)

    def _execute(self, op: _Op) -> _Outcome:
        try:
            return _Outcome(op, op.fn())
        except Exception as e:  # relayed to the GUI thread with its traceback, never swallowed
            e.__yd_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            return _Outcome(op, error=e)


_IDLE = _Op(lambda: None, None, None, "watch")


class _Watcher:
    """Notices commits by other connections through ``PRAGMA data_version`` on a read-only connection of its own."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self._con: sqlite3.Connection | None = None
        self._version: int | None = None
        self._snapshot: Snapshot | None = None
        self._reported: set[str] = set()

    def check(self) -> Changes:
        """Changes since the last check (empty when nothing was committed meanwhile)."""
        if self._con is None:
            self._con = sqlite3.connect(f"file:{self.lib.home / 'library.db'}?mode=ro", uri=True, timeout=1)
        version = self._con.execute("PRAGMA data_version").fetchone()[0]
        if version == self._version and self._snapshot is not None:
            return Changes()
        self._version = version
        new = take_snapshot(self.lib)
        old, self._snapshot = self._snapshot, new
        return Changes() if old is None else diff(old, new)

    def report(self, error: Exception) -> None:
        key = type(error).__name__
        if key not in self._reported:
            self._reported.add(key)
            error.__yd_traceback__ = traceback.format_exc()  # type: ignore[attr-defined]
            background_errors().report(error, "Watching the library")  # queued to the GUI thread by the signal

    def close(self) -> None:
        if self._con is not None:
            self._con.close()


class Reloader:
    """One view's reload through the executor: at most one in flight; requests meanwhile fold into one more."""

    def __init__(self, ops: LibraryOps, load: Callable[[], Callable[[], Any]], apply: Callable[[Any], None],
                 what: str) -> None:
        self._ops, self._load, self._apply, self._what = ops, load, apply, what
        self._busy = False
        self._again = False

    def request(self) -> None:
        """Reload soon; ``load()`` runs now on the GUI thread to capture ids, its result on the library thread."""
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._ops.submit(self._load(), self._on_done, self._on_failed, self._what)

    def _on_done(self, result: Any) -> None:
        self._finish()
        self._apply(result)

    def _on_failed(self, error: Exception) -> None:
        self._finish()
        background_errors().report(error, self._what)

    def _finish(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.request()
