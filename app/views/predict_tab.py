"""The Predict tab: a picture, a URL, a folder, a video or a camera in; the model's overlay and results out.

The model lives in a :class:`~app.predict.engine.PredictEngine` in a helper process
(:class:`~app.predict.engine_proxy.ProcessPredictEngine`: this process never imports torch); its outcomes arrive
through a queued signal and are painted at most every 33 ms, the newest winning (:mod:`app.views.predict.paint_pacer`,
which also paces the helper's live pictures). Leaving the tab, or the window closing, stops the live loop and
releases the camera. Its parts live in :mod:`app.views.predict`.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QSplitter, QVBoxLayout, QWidget

from app.library.records import ModelRecord
from app.predict.engine import Outcome
from app.predict.engine_proxy import ProcessPredictEngine
from app.predict.runtime_timing import RuntimeFigure, TimingCache, describe
from app.predict.session import BackendChoice, NeedsTrust, PredictError, Prediction
from app.predict.sources import Camera
from app.views.predict.controls_bar import ControlsBar, model_input_size
from app.views.predict.paint_pacer import PaintPacer
from app.views.predict.results_panel import ResultsPanel
from app.views.predict.source_bar import SourceBar
from app.views.predict.source_loader import SourceLoader
from app.widgets.image_view import ImageView

LOADING = "Loading the model for Predict"


class _Bridge(QObject):
    outcome = Signal(object)  # emitted on the engine's thread, delivered on the GUI thread


class PredictTab(QWidget):
    """Sources on top, the picture in the middle, results on the right, timings below."""

    trustRequested = Signal(str, str)  # sha256, name: the user chose to load a refused checkpoint
    backendsRequested = Signal()  # the window computes the choices off the GUI thread
    busyChanged = Signal(str, bool)  # what, going: loading a model can take seconds (the window shows a busy cue)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: ModelRecord | None = None
        self.choices: list[BackendChoice] = []
        self.loaded: BackendChoice | None = None
        self.trusted = False
        self.prediction: Prediction | None = None
        self.image = None  # the last picture predicted on (BGR)
        self.source_label = ""
        self._seq = 0
        self._loading = self._load_pending = False  # the window's cue shown; a load asked and not answered yet
        self._backends_asked = False
        self.live_latency_ms = 0.0  # the last painted live frame's capture → paint
        self.bridge = _Bridge(self)
        self.bridge.outcome.connect(self._on_bridge_outcome)
        # torch and the runtimes: another process, which sends a live picture once the previous one is painted
        self.engine = ProcessPredictEngine(self.bridge.outcome.emit, paced=True)
        self.pacer = PaintPacer(self, self._paint_outcome, self.engine.frame_taken)  # ≤ 30 a second, newest wins

        self.loader = SourceLoader(self)
        self.loader.imageRead.connect(self.predict_image)
        self.loader.liveOpening.connect(self.stop_live)
        self.loader.liveOpened.connect(self._start_live)
        self.loader.failed.connect(self.show_error)
        self.loader.folderChanged.connect(self._update_source_buttons)
        self.sources = SourceBar()
        self.sources.pathChosen.connect(self.open_path)
        self.sources.folderChosen.connect(self.open_folder)
        self.sources.videoChosen.connect(self.start_video)
        self.sources.urlEntered.connect(self.open_url)
        self.sources.stepRequested.connect(self.step)
        self.sources.liveClicked.connect(self._on_sources_live_clicked)
        self.controls = ControlsBar()
        self.controls.backendChanged.connect(self._load_current)
        self.controls.paramsChanged.connect(self._on_controls_params_changed)
        self.controls.togglesChanged.connect(self._redraw)  # no new inference: ultralytics redraws the same results
        self.results = ResultsPanel()
        self.results.copyRequested.connect(self._on_results_copy_requested)
        self.results.saveRequested.connect(self.save_image)
        # the widgets that tests and screenshot scripts drive, reachable on the tab as before the split
        self.url, self.camera, self.live_button = self.sources.url, self.sources.camera, self.sources.live_button
        self.backend, self.conf, self.iou, self.imgsz = (self.controls.backend, self.controls.conf,
                                                         self.controls.iou, self.controls.imgsz)
        self.show_boxes = self.controls.show_boxes
        self.table, self.count = self.results.table, self.results.count

        # picture
        self.view = ImageView()
        self.view.filesDropped.connect(self._on_view_files_dropped)
        self.results.highlightRequested.connect(self.view.highlight)
        self.hint = QLabel("Drop an image here, open one, paste a URL, pick a video or start a camera.")
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner = QLabel()
        self.banner.setObjectName("errorBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fee2e2; color:#991b1b; border-radius:6px; padding:6px 10px;")
        self.banner.hide()
        self.figures = QLabel()  # the runtimes' measured ms per frame on this machine
        self.figures.setObjectName("muted")
        self.figures.setWordWrap(True)
        self.figures.hide()
        self.readout = QLabel("—")
        self.readout.setObjectName("muted")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setWordWrap(True)  # a live run's line is long: it wraps rather than widen the page
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.banner)
        ll.addWidget(self.view, 1)
        ll.addWidget(self.hint)
        ll.addWidget(self.readout)
        ll.addWidget(self.figures)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(self.results)
        split.setSizes([760, 340])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 10, 4, 4)
        lay.addWidget(self.sources)
        lay.addWidget(self.controls)
        lay.addWidget(split, 1)
        self._update_source_buttons()

    # ------------------------------------------------------------------ model
    def show_model(self, model: ModelRecord, trusted: bool) -> None:
        """A (new) model: stop what ran, ask the window for its backends (computed off the GUI thread)."""
        if self.model is not None and model.id == self.model.id and model.sha256 == self.model.sha256:
            return
        self.stop_live()
        self.model, self.trusted, self.loaded, self.prediction = model, trusted, None, None
        self.choices = []
        # nothing of the last model's session carries over: its picture, URL, folder or thresholds
        self.image, self.source_label = None, ""
        self.url.clear()
        self.loader.folder, self.loader.folder_index = [], 0
        self._update_source_buttons()
        self.hint.show()
        self.controls.set_task(model.task or "detect")
        self.controls.reset_params()
        self.engine.set_params(conf=self.controls.conf_value(), iou=self.controls.iou_value())
        self.controls.show_backend_note("finding backends…")
        self.figures.hide()
        self.view.clear()
        self.results.clear()
        self.readout.setText("—")
        self.banner.hide()
        self.results.set_actions_enabled(False)
        self._backends_asked = False
        self._set_loading(False)  # the last model's load is no longer what the cue is about
        if not model.has_weights:
            self.controls.show_backend_note("no weights yet (still training?)")
            self._backends_asked = True
            return
        if self.isVisible():
            self._ask_backends()

    def _ask_backends(self) -> None:
        """Backends and cameras are looked up the first time the tab is seen for a model (it may never be)."""
        if self.model is not None and not self._backends_asked:
            self._backends_asked = True
            self.backendsRequested.emit()

    def set_backends(self, choices: list[BackendChoice], timings: TimingCache | None = None) -> None:
        """Offer ``choices`` and load the first; with ``timings`` and a choice to make, the measured fastest."""
        self.choices = choices
        self.controls.list_backends(choices)
        if timings is None or len(choices) < 2 or self.model is None:
            self._load_current()
            return
        self.loaded = None
        self.readout.setText(f"timing {len(choices)} runtimes on this machine…")
        self._set_loading(True)
        imgsz = model_input_size(self.model.imgsz)
        trusted = [self.model.sha256] if self.trusted and self.model.sha256 else []
        self.engine.pick(choices, self.model.task, trusted, timings, imgsz)

    def _on_timed(self, ordered: list[BackendChoice], figures: list[RuntimeFigure], failed: dict[str, str]) -> None:
        """The runtimes were timed (or read from the cache): list them fastest first; the engine loads the first."""
        if self.model is None or {c.path for c in ordered} != {c.path for c in self.choices}:
            return  # another model's answer
        self.choices = ordered
        self.controls.list_backends(ordered, {f.format: f.ms for f in figures})
        self.loaded = ordered[0]
        self.controls.fit_imgsz(self.loaded.imgsz, model_input_size(self.model.imgsz))
        self.engine.set_params(imgsz=self.imgsz.value())
        text = describe(figures) or "the runtimes could not be timed"
        if failed:
            text += " (not timed: " + "; ".join(failed.values()) + ")"
        self.figures.setText(text)
        self.figures.setToolTip("Measured on a few frames at the model's size when it was first used here; "
                                "measured again when an export or this machine changes.")
        self.figures.show()

    def set_cameras(self, cameras: list[Camera]) -> None:
        """List the cameras found on this machine."""
        self.sources.set_cameras(cameras)
        self._update_source_buttons()

    def _load_current(self) -> None:
        choice = self.backend.currentData()
        if choice is None or self.model is None:
            return
        self.loaded = choice
        self.readout.setText(f"loading {choice.name}…")
        self._set_loading(True)
        self.controls.fit_imgsz(choice.imgsz, model_input_size(self.model.imgsz))
        self.engine.set_params(imgsz=self.imgsz.value())
        trusted = [self.model.sha256] if self.trusted and self.model.sha256 else []  # the gate checks these bytes
        self.engine.load(choice, self.model.task, trusted=trusted)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- sources
    def predict_image(self, image: Any, label: str) -> None:
        """Run the model on one picture (the newest request wins)."""
        self.stop_live()
        self.image, self.source_label = image, label
        self.hint.hide()
        self._seq += 1
        self.engine.submit(image, tag=self._seq, source=label)

    def open_path(self, path: str) -> None:
        """A picture, a folder of them or a video, as dropped or picked."""
        self.loader.open_path(path)

    def open_url(self, url: str) -> None:
        """Fetch a picture off the GUI thread and predict on it; the status line says so meanwhile."""
        before = self.readout.text()
        self.readout.setText(f"fetching {url}…")

        def failed(e: Exception) -> None:
            self.readout.setText(before)  # the status line must not keep saying "fetching…" after an error
            self.show_error(e)

        self.loader.open_url(url, failed)

    def open_folder(self, folder: str) -> None:
        """Step through a folder's pictures with ◀ ▶, starting at the first."""
        self.loader.open_folder(folder)

    def step(self, delta: int) -> None:
        """The picture ``delta`` places on in the open folder."""
        self.loader.step(delta)

    def start_video(self, path: str) -> None:
        """Run a video file live."""
        self.loader.open_video(path)

    def start_camera(self, index: int) -> None:
        """Run a camera live."""
        self.loader.open_camera(index)

    def start_frames(self, source: Any, label: str) -> None:
        """Any frame source (tests and benchmarks feed synthetic frames through the camera's path)."""
        self.stop_live()
        self._start_live(source, label)

    def _start_live(self, source: Any, label: str) -> None:
        self.source_label = label
        self.hint.hide()
        self.banner.hide()
        self.engine.start_live(source, tag="live")
        self.sources.show_live(True)
        self._update_source_buttons()  # Stop is enabled on a machine without a camera too

    def stop_live(self) -> None:
        """Stop the video or camera (the camera is released)."""
        if self.engine.live:
            self.engine.stop_live()
        self.sources.show_live(False)
        self._update_source_buttons()

    def shutdown(self) -> None:
        """Stop the model's thread (the window is closing)."""
        self.engine.close()

    # ----------------------------------------------------------------- results
    def _on_bridge_outcome(self, o: Outcome) -> None:
        if isinstance(o.tag, tuple) and o.tag and o.tag[0] == "load":
            self._on_loaded(o)
            return
        if isinstance(o.tag, tuple) and o.tag and o.tag[0] == "timed":
            self._on_timed(*o.tag[1])
            return
        if o.error is not None:
            if o.live:
                self.pacer.drop_live()  # an unpainted live frame would hide this error
            self.show_error(o.error)
            if o.ended:
                self.stop_live()
            return
        if o.ended:
            self.stop_live()
            self.readout.setText(self.readout.text() + "  · ended")
            return
        if not o.live and o.tag != self._seq:
            return  # an older request's answer
        self.pacer.offer(o)

    def _set_loading(self, going: bool) -> None:  # a load asked or answered: cued only while the tab is seen
        self._load_pending = going
        self._show_loading(going and self.isVisible())

    def _show_loading(self, shown: bool) -> None:
        if shown != self._loading:
            self._loading = shown
            self.busyChanged.emit(LOADING, shown)

    def _on_loaded(self, o: Outcome) -> None:
        choice = o.tag[1]
        if choice is self.loaded or choice == self.loaded:
            self._set_loading(False)
        if o.error is None:
            self.readout.setText(f"{choice.name} ready")
            self.banner.hide()
            self._predict_again()
            return
        if isinstance(o.error, NeedsTrust) and self.model is not None:
            self.ask_trust(str(o.error), o.error.sha256)
        else:
            self.show_error(o.error)

    def ask_trust(self, text: str, sha256: str | None = None) -> None:
        """The loading gate refused the file: ask once; trusting it loads it again and tells the window."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Load this checkpoint anyway?", text, parent=self)
        box.setObjectName("trustCheckpoint")
        load = box.addButton("Trust and load", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def done(_r: int) -> None:
            if box.clickedButton() is load and self.model is not None:
                self.trusted = True
                self.trustRequested.emit(sha256 or self.model.sha256 or "", self.model.name)
                self._load_current()
            else:
                self.show_error(Exception("Not loaded: the checkpoint was not trusted."))

        box.finished.connect(done)
        box.open()

    def _paint_outcome(self, o: Outcome) -> None:
        if o.prediction is None:
            return
        self.prediction, self.image = o.prediction, o.image
        self.banner.hide()
        self._redraw()
        self.results.show_prediction(o.prediction, live=o.live)
        s = o.prediction.speed
        parts = [o.prediction.backend]
        if o.live:
            self.live_latency_ms = o.since_capture_ms()  # capture → painted here
            parts += [f"{o.fps:.1f} FPS", f"{self.live_latency_ms:.0f} ms from capture"]
        parts.append(f"pre {s.get('preprocess', 0):.1f} · inference {s.get('inference', 0):.1f} · "
                     f"post {s.get('postprocess', 0):.1f} ms")
        if o.live and o.dropped:
            parts.append(f"{o.dropped} frames skipped (newest frame first)")
        parts.append(self.source_label)
        self.readout.setText("  ·  ".join(parts))
        self.results.set_actions_enabled(True)

    def _rendered(self) -> Any:
        """The picture with the overlay as the toggles ask (drawn by ultralytics)."""
        assert self.prediction is not None
        return self.prediction.render(**self.controls.overlay())

    def _redraw(self) -> None:
        if self.prediction is not None:
            try:
                self.view.show_image(self._rendered())
            except PredictError as e:  # drawn by the predict helper: it may have stopped meanwhile
                self.show_error(e)

    def show_error(self, e: Exception) -> None:
        """Say what went wrong in the banner; the status line keeps the last result, if any."""
        self.banner.setText(str(e))
        self.banner.show()
        self.readout.setText("—" if self.prediction is None else self.readout.text())

    def _update_source_buttons(self) -> None:
        self.sources.update_buttons(len(self.loader.folder), self.engine.live)

    def json_text(self) -> str:
        """The shown prediction as JSON (what Copy JSON puts on the clipboard)."""
        return json.dumps(self.prediction.to_json() if self.prediction else {}, indent=2)

    def save_image(self, path: str) -> None:
        """Write the picture with its overlay to ``path``; a failure shows in the banner."""
        import cv2

        if self.prediction is not None:
            try:
                if not cv2.imwrite(path, self._rendered()):
                    self.show_error(Exception(f"could not write {path}"))
            except PredictError as e:
                self.show_error(e)

    # ------------------------------------------------------------------ slots
    def _on_sources_live_clicked(self) -> None:
        if self.engine.live:
            self.stop_live()
        elif (index := self.sources.camera_index()) is not None:
            self.start_camera(index)

    def _on_view_files_dropped(self, paths: list[str]) -> None:
        first = paths[0]
        if first.startswith(("http://", "https://")):
            self.open_url(first)
        else:
            self.open_path(first)

    def _on_controls_params_changed(self) -> None:
        self.engine.set_params(conf=self.controls.conf_value(), iou=self.controls.iou_value(),
                               imgsz=self.imgsz.value())
        self._predict_again()  # at once (the engine keeps the newest)

    def _predict_again(self) -> None:
        """The last picture again (new parameters or model); a live frame is asked of the helper, where it stayed."""
        if self.engine.live:
            return
        if self.image is None and (original := getattr(self.prediction, "original", None)) is not None:
            try:
                self.image = original()
            except PredictError:
                return  # the helper restarted since: that frame is gone
        if self.image is not None:
            self.predict_image(self.image, self.source_label)

    def _on_results_copy_requested(self) -> None:
        QGuiApplication.clipboard().setText(self.json_text())

    # ------------------------------------------------------------------ Qt events
    def leaveEvent(self, event) -> None:  # noqa: N802, ANN001
        super().leaveEvent(event)
        if not self.results.has_selection():
            self.view.highlight(None)

    def showEvent(self, event) -> None:  # noqa: N802, ANN001
        super().showEvent(event)
        self._show_loading(self._load_pending)  # back on the tab while its model still loads
        self._ask_backends()

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001
        self.stop_live()  # leaving the tab releases the camera
        self._show_loading(False)  # the cue is about this tab: it goes with it (and comes back with it)
        super().hideEvent(event)
