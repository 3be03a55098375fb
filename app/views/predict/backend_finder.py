"""The Predict tab's library side: which runtimes can run the shown model here, and trusting a refused file."""

from __future__ import annotations

from PySide6.QtCore import QObject

from app.library.repository import Library
from app.qt.library_ops import LibraryOps
from app.qt.tasks import run_in_background
from app.views.predict.controls_bar import model_input_size
from app.views.predict_tab import PredictTab

STARTING_HELPER = "starting the predict helper…"
STARTING_HELPER_WHY = ("starting the predict helper: the process that runs the model imports torch first "
                       "(several seconds, once a session)…")
FINDING_BACKENDS = "finding backends…"


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
        tab.controls.fit_imgsz(None, model_input_size(m.imgsz))  # its own size at once, not 640 until it loads

        timings = TimingCache(self.lib.home / TIMINGS_FILE)

        def done(result: tuple) -> None:
            choices, cameras = result
            if tab.model is not None and tab.model.id == m.id:  # still the model asked about
                tab.set_cameras(cameras)
                tab.set_backends(choices, timings)  # the engine times them (once per host) and loads the fastest

        def listed(exports: list, cuda: bool) -> None:  # the helper is up: what is left is quick
            if tab.model is not None and tab.model.id == m.id:
                tab.controls.show_backend_note(FINDING_BACKENDS)
                if tab.readout.text() == STARTING_HELPER_WHY:
                    tab.readout.setText("—")  # it started: the line must not go on saying so
                run_in_background(lambda: (backend_choices(m.weights_path, exports, imgsz, cuda=cuda),
                                           list_cameras()), done, tab.show_error)

        def choose(exports: list) -> None:
            if tab.engine.helper_pid() is None:  # its start and torch import are the long part: say so
                tab.controls.show_backend_note(STARTING_HELPER)
                tab.readout.setText(STARTING_HELPER_WHY)
            # asked of the helper process (torch never loads in this one); waits for it: the thread pool
            run_in_background(tab.engine.cuda_available, lambda cuda: listed(exports, cuda), tab.show_error)

        lib = self.lib
        self.ops.submit(lambda: ExportStore(lib).for_model(m.id), choose, tab.show_error)

    def _on_tab_trust_requested(self, sha256: str, name: str) -> None:
        if sha256:
            self.ops.submit(lambda: self.lib.trust_checkpoint(sha256, name), what="Trusting the checkpoint")
