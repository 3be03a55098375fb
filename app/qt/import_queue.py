"""The upload queue: files and folders dropped on the window are imported, at most 3 at once.

Folder scanning, inspection, hashing and copying all happen on pool threads; the GUI
thread only receives state changes (queued → reading → copying → added / duplicate /
rejected / skipped) and one ``libraryChanged`` signal per finished import.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.library.importer import iter_pt_files
from app.library.repository import Library

MAX_PARALLEL = 3
FINAL_STATES = ("added", "duplicate", "rejected", "skipped")


@dataclass
class UploadItem:
    """One file in the upload list, as the view shows it."""

    key: int
    path: str
    project_id: int
    state: str = "queued"
    message: str = ""
    model_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES


class _Signals(QObject):
    state = Signal(int, str, str, object)  # key, state, message, model id
    scanned = Signal(int, object)  # project id, [(path, skip reason)]


class _ImportRun(QRunnable):
    def __init__(self, lib: Library, item: UploadItem, signals: _Signals) -> None:
        super().__init__()
        self._lib, self._item, self._signals = lib, item, signals

    def run(self) -> None:
        key = self._item.key
        try:
            result = self._lib.import_checkpoint(
                self._item.path, self._item.project_id, on_state=lambda s: self._signals.state.emit(key, s, "", None)
            )
        except Exception as e:  # a library bug must still end the item, with its message
            self._signals.state.emit(key, "rejected", f"internal error: {type(e).__name__}: {e}", None)
            return
        self._signals.state.emit(key, result.state, result.message, result.model.id if result.model else None)


class _ScanRun(QRunnable):
    def __init__(self, paths: list[str], project_id: int, signals: _Signals) -> None:
        super().__init__()
        self._paths, self._project_id, self._signals = paths, project_id, signals

    def run(self) -> None:
        found = [(str(p), skip) for p, skip in iter_pt_files(self._paths)]
        self._signals.scanned.emit(self._project_id, found)


class ImportQueue(QObject):
    """Imports files into a project in the background and reports each file's state."""

    itemAdded = Signal(object)  # UploadItem
    itemChanged = Signal(object)  # UploadItem
    libraryChanged = Signal()
    idle = Signal()

    def __init__(self, lib: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lib = lib
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(MAX_PARALLEL)
        self._scan_pool = QThreadPool(self)
        self._scan_pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.state.connect(self._on_worker_state)
        self._signals.scanned.connect(self._on_scan_done)
        self._keys = itertools.count(1)
        self.items: dict[int, UploadItem] = {}
        self._pending_scans = 0

    @property
    def active(self) -> int:
        return sum(1 for i in self.items.values() if not i.finished) + self._pending_scans

    def add_paths(self, paths: list[str], project_id: int) -> None:
        """Queue files and folders (folders are searched for ``*.pt`` off the GUI thread)."""
        if not paths:
            return
        self._pending_scans += 1
        self._scan_pool.start(_ScanRun([str(Path(p)) for p in paths], project_id, self._signals))

    def clear_finished(self) -> None:
        for key in [k for k, i in self.items.items() if i.finished]:
            del self.items[key]

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pools are drained (tests and shutdown only)."""
        return self._scan_pool.waitForDone(msecs) and self._pool.waitForDone(msecs)

    def shutdown(self, msecs: int = 10000) -> None:
        """Forget files not started yet and wait briefly for the running ones (window closing)."""
        self._pool.clear()
        self._scan_pool.clear()
        self.wait(msecs)

    def _on_scan_done(self, project_id: int, found: list[tuple[str, str | None]]) -> None:
        self._pending_scans -= 1
        for path, skip in found:
            item = UploadItem(next(self._keys), path, project_id)
            if skip:
                item.state, item.message = "skipped", skip
            self.items[item.key] = item
            self.itemAdded.emit(item)
            if not skip:
                self._pool.start(_ImportRun(self._lib, item, self._signals))
        self._maybe_idle()

    def _on_worker_state(self, key: int, state: str, message: str, model_id: str | None) -> None:
        item = self.items.get(key)
        if item is None:
            return
        item.state = state
        item.message = message or item.message
        item.model_id = model_id
        self.itemChanged.emit(item)
        if state in ("added",):
            self.libraryChanged.emit()
        if item.finished:
            self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self.active == 0:
            self.idle.emit()
