"""The Predict tab's library side: which runtimes can run the shown model here, and trusting a refused file."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.library.repository import Library
from app.qt.library_ops import LibraryOps
from app.qt.tasks import run_in_background
from app.views.predict_tab import PredictTab


class BackendFinder(QObject):
    """Answers the tab's ``backendsRequested`` off the GUI thread and remembers the checkpoints the user trusts."""

    def __init__(self, tab: PredictTab, lib: Library, ops: LibraryOps, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab = tab
        self.lib = lib
        self.ops = ops
        tab.backendsRequested.connect(self._on_tab_backends_requested)
        tab.trustRequested.connect(self._on_tab_trust_requested)

    def _on_tab_backends_requested(self) -> None:
        """The model's exports read (library thread), then the predict helper asked for CUDA, and cameras (pool)."""
        from app.exporters.store import ExportStore
        from app.predict.runtime_timing import TIMINGS_FILE, TimingCache
        from app.predict.session import backend_choices
        from app.predict.sources import list_cameras

        tab = self.tab
        m = tab.model
        if m is None:
            return
        imgsz = m.imgsz if isinstance(m.imgsz, int) else None

        timings = TimingCache(self.lib.home / TIMINGS_FILE)

        def done(result: tuple) -> None:
            choices, cameras = result
            if tab.model is not None and tab.model.id == m.id:  # still the model asked about
                tab.set_cameras(cameras)
                tab.set_backends(choices, timings)  # the engine times them (once per host) and loads the fastest

        def choose(exports: list) -> None:  # waits for the predict helper's CUDA answer: the thread pool
            cuda = tab.engine.cuda_available  # asked of the helper process: torch never loads in this one
            run_in_background(lambda: (backend_choices(m.weights_path, exports, imgsz, cuda=cuda()), list_cameras()),
                              done, tab.show_error)

        lib = self.lib
        self.ops.submit(lambda: ExportStore(lib).for_model(m.id), choose, tab.show_error)

    def _on_tab_trust_requested(self, sha256: str, name: str) -> None:
        if sha256:
            self.ops.submit(lambda: self.lib.trust_checkpoint(sha256, name), what="Trusting the checkpoint")
