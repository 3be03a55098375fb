"""The Predict tab: a picture, a URL, a folder, a video or a camera in; the model's overlay and results out.

The model lives in a :class:`~app.predict.engine.PredictEngine` thread (never the GUI thread);
its outcomes arrive through a queued signal and are painted at most every 33 ms (the newest
wins). Leaving the tab, or the window closing, stops the live loop and releases the camera.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
    QPushButton, QSlider, QSpinBox, QSplitter, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget,
)

from app.library.records import ModelRecord
from app.predict.engine import Outcome, PredictEngine
from app.predict.session import BackendChoice, NeedsTrust, Prediction
from app.predict.sources import IMAGE_EXTS, VIDEO_EXTS, Camera
from app.widgets.image_view import ImageView

PAINT_INTERVAL_MS = 33


class _Bridge(QObject):
    outcome = Signal(object)  # emitted on the engine's thread, delivered on the GUI thread


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setFixedWidth(120)
    return s


class PredictTab(QWidget):
    """Sources on top, the picture in the middle, results on the right, timings below."""

    trustRequested = Signal(str, str)  # sha256, name: the user chose to load a refused checkpoint
    backendsRequested = Signal()  # the window computes the choices off the GUI thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: ModelRecord | None = None
        self.choices: list[BackendChoice] = []
        self.loaded: BackendChoice | None = None
        self.trusted = False
        self.prediction: Prediction | None = None
        self.image = None  # the last picture predicted on (BGR)
        self.source_label = ""
        self.folder: list[Path] = []
        self.folder_index = 0
        self._seq = 0
        self._backends_asked = False
        self._latest: Outcome | None = None
        self.bridge = _Bridge(self)
        self.bridge.outcome.connect(self._on_bridge_outcome)
        self.engine = PredictEngine(self.bridge.outcome.emit)
        self._paint = QTimer(self)
        self._paint.setSingleShot(True)
        self._paint.setInterval(PAINT_INTERVAL_MS)
        self._paint.timeout.connect(self._on_paint_timeout)

        # sources
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.prev_button = QToolButton()
        self.prev_button.setText("◀")
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button = QToolButton()
        self.next_button.setText("▶")
        self.next_button.clicked.connect(lambda: self.step(1))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://… image URL, Enter to fetch")
        self.url.returnPressed.connect(self._on_url_return_pressed)
        self.video_button = QPushButton("Video…")
        self.video_button.clicked.connect(self._on_video_clicked)
        self.camera = QComboBox()
        self.camera.setMinimumWidth(150)
        self.live_button = QPushButton("Start camera")
        self.live_button.setObjectName("primary")
        self.live_button.clicked.connect(self._on_live_clicked)
        bar = QHBoxLayout()
        for w in (self.open_button, self.folder_button, self.prev_button, self.next_button):
            bar.addWidget(w)
        bar.addWidget(self.url, 1)
        for w in (self.video_button, self.camera, self.live_button):
            bar.addWidget(w)

        # parameters
        self.backend = QComboBox()
        self.backend.setMinimumWidth(220)
        self.backend.currentIndexChanged.connect(self._on_backend_changed)
        self.conf = _slider(0, 100, 25)  # 0 means 0.001: every box an untrained model finds
        self.conf_label = QLabel("0.25")
        self.iou = _slider(1, 100, 70)
        self.iou_label = QLabel("0.70")
        for s in (self.conf, self.iou):
            s.valueChanged.connect(self._on_params_changed)
        self.imgsz = QSpinBox()
        self.imgsz.setRange(32, 1920)
        self.imgsz.setSingleStep(32)
        self.imgsz.setValue(640)
        self.imgsz.setKeyboardTracking(False)
        self.imgsz.valueChanged.connect(self._on_params_changed)
        self.show_labels = QCheckBox("labels")
        self.show_conf = QCheckBox("confidence")
        self.show_boxes = QCheckBox("boxes")
        self.show_masks = QCheckBox("masks")
        for c in (self.show_labels, self.show_conf, self.show_boxes, self.show_masks):
            c.setChecked(True)
            c.toggled.connect(self._on_toggles_changed)
        params = QHBoxLayout()
        params.addWidget(QLabel("Backend"))
        params.addWidget(self.backend)
        params.addSpacing(12)
        params.addWidget(QLabel("conf"))
        params.addWidget(self.conf)
        params.addWidget(self.conf_label)
        params.addWidget(QLabel("IoU"))
        params.addWidget(self.iou)
        params.addWidget(self.iou_label)
        params.addWidget(QLabel("imgsz"))
        params.addWidget(self.imgsz)
        params.addSpacing(12)
        for c in (self.show_labels, self.show_conf, self.show_boxes, self.show_masks):
            params.addWidget(c)
        params.addStretch(1)

        # picture, results
        self.view = ImageView()
        self.view.filesDropped.connect(self._on_view_files_dropped)
        self.hint = QLabel("Drop an image here, open one, paste a URL, pick a video or start a camera.")
        self.hint.setObjectName("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner = QLabel()
        self.banner.setObjectName("errorBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background:#fee2e2; color:#991b1b; border-radius:6px; padding:6px 10px;")
        self.banner.hide()
        self.readout = QLabel("—")
        self.readout.setObjectName("muted")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.banner)
        ll.addWidget(self.view, 1)
        ll.addWidget(self.hint)
        ll.addWidget(self.readout)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Class", "Conf", "Box / angle", "Detail"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.ResizeToContents,
                                    QHeaderView.ResizeMode.Stretch, QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(col, mode)
        self.table.setMouseTracking(True)
        self.table.cellEntered.connect(self._on_table_cell_entered)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.copy_button = QPushButton("Copy JSON")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.save_button = QPushButton("Save image…")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.count = QLabel()
        self.count.setObjectName("sectionTitle")
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.count)
        rl.addWidget(self.table, 1)
        rb = QHBoxLayout()
        rb.addWidget(self.copy_button)
        rb.addWidget(self.save_button)
        rl.addLayout(rb)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([760, 340])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 10, 4, 4)
        lay.addLayout(bar)
        lay.addLayout(params)
        lay.addWidget(split, 1)
        self._set_result_actions(False)
        self._update_source_buttons()

    # ------------------------------------------------------------------ model
    def show_model(self, model: ModelRecord, trusted: bool) -> None:
        """A (new) model: stop what ran, ask the window for its backends (computed off the GUI thread)."""
        if self.model is not None and model.id == self.model.id and model.sha256 == self.model.sha256:
            return
        self.stop_live()
        self.model, self.trusted, self.loaded, self.prediction = model, trusted, None, None
        self.choices = []
        self.backend.blockSignals(True)
        self.backend.clear()
        self.backend.addItem("finding backends…", None)
        self.backend.blockSignals(False)
        self.view.clear()
        self.table.setRowCount(0)
        self.count.setText("")
        self.readout.setText("—")
        self.banner.hide()
        self._set_result_actions(False)
        self._backends_asked = False
        if not model.has_weights:
            self.backend.blockSignals(True)
            self.backend.clear()
            self.backend.addItem("no weights yet (still training?)", None)
            self.backend.blockSignals(False)
            self._backends_asked = True
            return
        if self.isVisible():
            self._ask_backends()

    def _ask_backends(self) -> None:
        """Backends and cameras are looked up the first time the tab is seen for a model (it may never be)."""
        if self.model is not None and not self._backends_asked:
            self._backends_asked = True
            self.backendsRequested.emit()

    def set_backends(self, choices: list[BackendChoice]) -> None:
        self.choices = choices
        self.backend.blockSignals(True)
        self.backend.clear()
        for c in choices:
            suffix = "  (fastest here)" if c is choices[0] and len(choices) > 1 else ""
            self.backend.addItem(f"{c.name} · {Path(c.path).name}{suffix}", c)
        if not choices:
            self.backend.addItem("no weights to run", None)
        self.backend.blockSignals(False)
        self._load_current()

    def set_cameras(self, cameras: list[Camera]) -> None:
        self.camera.clear()
        for cam in cameras:
            self.camera.addItem(f"{cam.index}: {cam.name}", cam.index)
        if not cameras:
            self.camera.addItem("no camera found", None)
        self._update_source_buttons()

    def _load_current(self) -> None:
        choice = self.backend.currentData()
        if choice is None or self.model is None:
            return
        self.loaded = choice
        self.readout.setText(f"loading {choice.name}…")
        self.imgsz.setEnabled(choice.imgsz is None)
        if choice.imgsz:
            self.imgsz.blockSignals(True)
            self.imgsz.setValue(choice.imgsz)
            self.imgsz.blockSignals(False)
            self.imgsz.setToolTip(f"This export was built for {choice.imgsz} px")
        else:
            self.imgsz.setValue(self.model.imgsz if isinstance(self.model.imgsz, int) else 640)
            self.imgsz.setToolTip("")
        self.engine.set_params(imgsz=self.imgsz.value())
        trusted = [self.model.sha256] if self.trusted and self.model.sha256 else []  # the gate checks these bytes
        self.engine.load(choice, self.model.task, trusted=trusted)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- sources
    def predict_image(self, image: Any, label: str) -> None:
        self.stop_live()
        self.image, self.source_label = image, label
        self.hint.hide()
        self._seq += 1
        self.engine.submit(image, tag=self._seq, source=label)

    def open_path(self, path: str) -> None:
        p = Path(path)
        if p.is_dir():
            self.open_folder(str(p))
        elif p.suffix.lower() in VIDEO_EXTS:
            self.start_video(str(p))
        else:
            self._read_off_thread(lambda: _load(p), str(p))

    def open_url(self, url: str) -> None:
        from app.predict.sources import fetch_url

        from app.qt.tasks import run_in_background

        before = self.readout.text()
        self.readout.setText(f"fetching {url}…")

        def failed(e: Exception) -> None:
            self.readout.setText(before)  # the status line must not keep saying "fetching…" after an error
            self._show_error(e)

        run_in_background(lambda: fetch_url(url), lambda img: self.predict_image(img, url), failed)

    def _read_off_thread(self, read: Any, label: str) -> None:
        from app.qt.tasks import run_in_background

        run_in_background(read, lambda img: self.predict_image(img, label), self._show_error)

    def open_folder(self, folder: str) -> None:
        from app.predict.sources import folder_images
        from app.qt.tasks import run_in_background

        def listed(images: list[Path]) -> None:
            self.folder, self.folder_index = images, 0
            self._update_source_buttons()
            self.step(0)

        run_in_background(lambda: folder_images(folder), listed, self._show_error)  # a big folder, a slow disk

    def step(self, delta: int) -> None:
        if not self.folder:
            return
        self.folder_index = (self.folder_index + delta) % len(self.folder)
        self._update_source_buttons()
        path = self.folder[self.folder_index]
        self._read_off_thread(lambda: _load(path), f"{path}  ({self.folder_index + 1}/{len(self.folder)})")

    def start_video(self, path: str) -> None:
        self._open_live(path, Path(path).name)

    def start_camera(self, index: int) -> None:
        self._open_live(index, f"camera {index}")

    def _open_live(self, what: str | int, label: str) -> None:
        """Open a video file or a camera off the GUI thread (a camera can take a second), then run it live."""
        from app.predict.sources import FrameSource
        from app.qt.tasks import run_in_background

        self.stop_live()
        run_in_background(lambda: FrameSource(what), lambda source: self._start_live(source, label), self._show_error)

    def start_frames(self, source: Any, label: str) -> None:
        """Any frame source (tests and benchmarks feed synthetic frames through the camera's path)."""
        self.stop_live()
        self._start_live(source, label)

    def _start_live(self, source: Any, label: str) -> None:
        self.source_label = label
        self.hint.hide()
        self.banner.hide()
        self.engine.start_live(source, tag="live")
        self.live_button.setText("Stop")
        self.live_button.setObjectName("danger")
        self.live_button.style().polish(self.live_button)

    def stop_live(self) -> None:
        if self.engine.live:
            self.engine.stop_live()
        self.live_button.setText("Start camera")
        self.live_button.setObjectName("primary")
        self.live_button.style().polish(self.live_button)
        self._update_source_buttons()

    def shutdown(self) -> None:
        self.engine.close()

    # ----------------------------------------------------------------- results
    def _on_bridge_outcome(self, o: Outcome) -> None:
        if isinstance(o.tag, tuple) and o.tag and o.tag[0] == "load":
            self._on_loaded(o)
            return
        if o.error is not None:
            self._show_error(o.error)
            if o.ended:
                self.stop_live()
            return
        if o.ended:
            self.stop_live()
            self.readout.setText(self.readout.text() + "  · ended")
            return
        if not o.live and o.tag != self._seq:
            return  # an older request's answer
        self._latest = o
        if not self._paint.isActive():
            self._paint.start()

    def _on_loaded(self, o: Outcome) -> None:
        choice = o.tag[1]
        if o.error is None:
            self.readout.setText(f"{choice.name} ready")
            self.banner.hide()
            if self.image is not None and not self.engine.live:
                self.predict_image(self.image, self.source_label)
            return
        if isinstance(o.error, NeedsTrust) and self.model is not None:
            self.ask_trust(str(o.error), o.error.sha256)
        else:
            self._show_error(o.error)

    def ask_trust(self, text: str, sha256: str | None = None) -> None:
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
                self._show_error(Exception("Not loaded: the checkpoint was not trusted."))

        box.finished.connect(done)
        box.open()

    def _on_paint_timeout(self) -> None:
        o, self._latest = self._latest, None
        if o is None or o.prediction is None:
            return
        self.prediction, self.image = o.prediction, o.image
        self.banner.hide()
        self._redraw()
        self._fill_table(o.prediction)
        s = o.prediction.speed
        parts = [o.prediction.backend]
        if o.live:
            parts.append(f"{o.fps:.1f} FPS")
        parts.append(f"pre {s.get('preprocess', 0):.1f} · inference {s.get('inference', 0):.1f} · "
                     f"post {s.get('postprocess', 0):.1f} ms")
        if o.live and o.dropped:
            parts.append(f"{o.dropped} frames skipped (newest frame first)")
        parts.append(self.source_label)
        self.readout.setText("  ·  ".join(parts))
        self._set_result_actions(True)

    def _rendered(self) -> Any:
        """The picture with the overlay as the toggles ask (drawn by ultralytics)."""
        assert self.prediction is not None
        return self.prediction.render(labels=self.show_labels.isChecked(), conf=self.show_conf.isChecked(),
                                      boxes=self.show_boxes.isChecked(), masks=self.show_masks.isChecked())

    def _redraw(self) -> None:
        if self.prediction is not None:
            self.view.show_image(self._rendered())

    def _fill_table(self, p: Prediction) -> None:
        if p.task == "classify":
            rows = [(t["name"], t["confidence"], "top-5", f"class {t['class']}") for t in p.top5]
            self.count.setText(f"Top 5 of {len(p.results.names) if p.results is not None else '?'} classes")
        else:
            rows = []
            for d in p.detections:
                if d.corners is not None:
                    geo = f"{_fmt_box(d.box)} · {d.angle * 57.2958:.0f}°"
                else:
                    geo = _fmt_box(d.box)
                detail = f"{len(d.keypoints)} keypoints" if d.keypoints else (
                    f"mask, {len(d.polygon)} points" if d.polygon else "")
                rows.append((d.name, d.confidence, geo, detail))
            self.count.setText(f"{len(rows)} detection(s)")
        self.table.setColumnHidden(3, not any(r[3] for r in rows))  # detail: masks, keypoints
        self.table.setRowCount(len(rows))
        for r, (name, conf, geo, detail) in enumerate(rows):
            for c, text in enumerate((name, f"{conf:.2f}", geo, detail)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.view.highlight(None)

    def _geometry(self, row: int) -> list[list[float]] | None:
        p = self.prediction
        if p is None or row < 0 or row >= len(p.detections):
            return None
        d = p.detections[row]
        if d.corners is not None:
            return d.corners
        return [[d.box[0], d.box[1]], [d.box[2], d.box[3]]]

    def _on_table_cell_entered(self, row: int, _col: int) -> None:
        self.view.highlight(self._geometry(row))

    def _on_table_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.view.highlight(self._geometry(rows[0].row()) if rows else None)

    def leaveEvent(self, event) -> None:  # noqa: N802, ANN001
        super().leaveEvent(event)
        if not self.table.selectionModel().selectedRows():
            self.view.highlight(None)

    def _show_error(self, e: Exception) -> None:
        self.banner.setText(str(e))
        self.banner.show()
        self.readout.setText("—" if self.prediction is None else self.readout.text())

    def _set_result_actions(self, on: bool) -> None:
        self.copy_button.setEnabled(on)
        self.save_button.setEnabled(on)

    def _update_source_buttons(self) -> None:
        several = len(self.folder) > 1
        self.prev_button.setEnabled(several)
        self.next_button.setEnabled(several)
        self.live_button.setEnabled(self.engine.live or self.camera.currentData() is not None)

    def json_text(self) -> str:
        return json.dumps(self.prediction.to_json() if self.prediction else {}, indent=2)

    # ------------------------------------------------------------------ slots
    def _on_open_clicked(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(IMAGE_EXTS))
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", f"Images ({exts})")
        if path:
            self.open_path(path)

    def _on_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images")
        if folder:
            self.open_folder(folder)

    def _on_video_clicked(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        path, _ = QFileDialog.getOpenFileName(self, "Open video", "", f"Videos ({exts})")
        if path:
            self.start_video(path)

    def _on_url_return_pressed(self) -> None:
        if self.url.text().strip():
            self.open_url(self.url.text().strip())

    def _on_live_clicked(self) -> None:
        if self.engine.live:
            self.stop_live()
        elif self.camera.currentData() is not None:
            self.start_camera(int(self.camera.currentData()))

    def _on_view_files_dropped(self, paths: list[str]) -> None:
        first = paths[0]
        if first.startswith(("http://", "https://")):
            self.open_url(first)
        else:
            self.open_path(first)

    def _on_backend_changed(self, _i: int) -> None:
        self._load_current()

    def _on_params_changed(self) -> None:
        conf = max(self.conf.value() / 100, 0.001)
        self.conf_label.setText(f"{conf:.3f}" if conf < 0.01 else f"{conf:.2f}")
        self.iou_label.setText(f"{self.iou.value() / 100:.2f}")
        self.engine.set_params(conf=conf, iou=self.iou.value() / 100, imgsz=self.imgsz.value())
        if self.image is not None and not self.engine.live:
            self.predict_image(self.image, self.source_label)  # re-run at once (the engine keeps the newest)

    def _on_toggles_changed(self) -> None:
        self._redraw()  # no new inference: ultralytics redraws the same results

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.json_text())

    def _on_save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save annotated image", "prediction.jpg", "Images (*.jpg *.png)")
        if path:
            self.save_image(path)

    def save_image(self, path: str) -> None:
        import cv2

        if self.prediction is not None:
            if not cv2.imwrite(path, self._rendered()):
                self._show_error(Exception(f"could not write {path}"))

    # ------------------------------------------------------------------ Qt events
    def showEvent(self, event) -> None:  # noqa: N802, ANN001
        super().showEvent(event)
        self._ask_backends()

    def hideEvent(self, event) -> None:  # noqa: N802, ANN001
        self.stop_live()  # leaving the tab releases the camera
        super().hideEvent(event)


def _load(path: Path) -> Any:
    from app.predict.sources import load_image

    return load_image(path)


def _fmt_box(b: list[float]) -> str:
    return f"{b[0]:.0f}, {b[1]:.0f}, {b[2]:.0f}, {b[3]:.0f}"
