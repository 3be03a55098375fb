"""The Predict tab's controls: which backend runs the model, conf, IoU, imgsz, and what the overlay draws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QWidget

from app.predict.session import BackendChoice


CONF_DEFAULT, IOU_DEFAULT = 25, 70  # slider steps of 0.01: ultralytics' own defaults, 0.25 and 0.7
IMGSZ_DEFAULT = 640  # ultralytics' own, for a checkpoint that does not say what it was trained at


def model_input_size(imgsz: Any) -> int:  # noqa: ANN401 — the record's JSON value: an int, [h, w] or None
    """The size a model was trained at, as its record holds it (the Overview's "Input size"); [h, w]: the larger."""
    if isinstance(imgsz, int) and imgsz > 0:
        return imgsz
    if isinstance(imgsz, list) and imgsz and all(isinstance(v, int) and v > 0 for v in imgsz):
        return max(imgsz)  # ultralytics trains a square of the larger side
    return IMGSZ_DEFAULT


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setFixedWidth(90)  # the row fits 1024 px at 150 %
    return s


class ControlsBar(QWidget):
    """One row of controls; says when the backend, the parameters or the overlay toggles change."""

    backendChanged = Signal()
    paramsChanged = Signal()  # conf, IoU or imgsz: the model runs again
    togglesChanged = Signal()  # labels, confidence, boxes, masks: only the drawing changes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = QComboBox()
        # the combo's text ("PyTorch · weights.pt  (fastest here)") must not widen the window
        self.backend.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.backend.setMinimumContentsLength(20)  # "ONNX Runtime 45.5 ms": the measured figure stays in sight
        self.backend.currentIndexChanged.connect(self._on_backend_changed)
        self.task = "detect"
        self.conf = _slider(0, 100, CONF_DEFAULT)  # 0 means 0.001: every box an untrained model finds
        self.conf_label = QLabel("0.25")
        self.iou = _slider(1, 100, IOU_DEFAULT)
        self.iou_label = QLabel("0.70")
        self.conf_title, self.iou_title = QLabel("conf"), QLabel("IoU")
        for s in (self.conf, self.iou):
            s.valueChanged.connect(self._on_params_changed)
        self.imgsz = QSpinBox()
        self.imgsz.setRange(32, 1920)
        self.imgsz.setSingleStep(32)
        self.imgsz.setValue(640)
        self.imgsz.setKeyboardTracking(False)
        self.imgsz.valueChanged.connect(self._on_params_changed)
        self.show_labels = QCheckBox("labels")
        self.show_conf = QCheckBox("conf")
        self.show_boxes = QCheckBox("boxes")
        self.show_masks = QCheckBox("masks")
        for c in (self.show_labels, self.show_conf, self.show_boxes, self.show_masks):
            c.setChecked(True)
            c.toggled.connect(self._on_toggles_changed)
        params = QHBoxLayout(self)
        params.setContentsMargins(0, 0, 0, 0)  # laid out as a row of the tab, not a framed box
        params.addWidget(QLabel("Backend"))
        params.addWidget(self.backend)
        params.addSpacing(8)
        params.addWidget(self.conf_title)
        params.addWidget(self.conf)
        params.addWidget(self.conf_label)
        params.addWidget(self.iou_title)
        params.addWidget(self.iou)
        params.addWidget(self.iou_label)
        params.addWidget(QLabel("imgsz"))
        params.addWidget(self.imgsz)
        params.addSpacing(8)
        for c in (self.show_labels, self.show_conf, self.show_boxes, self.show_masks):
            params.addWidget(c)
        params.addStretch(1)

    def set_task(self, task: str) -> None:
        """Offer only what acts on ``task``: a classifier has no thresholds, boxes or masks; masks are segment's."""
        self.task = task
        classify = task == "classify"
        for w in (self.conf_title, self.conf, self.conf_label, self.iou_title, self.iou, self.iou_label,
                  self.show_conf, self.show_boxes):
            w.setVisible(not classify)  # ultralytics' classifier ignores conf and IoU, and draws no boxes
        self.show_masks.setVisible(task == "segment")
        self.show_labels.setText("top-5" if classify else "labels")

    def reset_params(self) -> None:
        """The thresholds back to their defaults (a new model starts afresh), without a change signal."""
        for slider, value in ((self.conf, CONF_DEFAULT), (self.iou, IOU_DEFAULT)):
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)
        self._show_values()

    def conf_value(self) -> float:
        """The confidence threshold (the slider's 0 is 0.001)."""
        return max(self.conf.value() / 100, 0.001)

    def iou_value(self) -> float:
        """The IoU threshold of non-maximum suppression."""
        return self.iou.value() / 100

    def overlay(self) -> dict[str, bool]:
        """What ultralytics' drawing should show, as ``Prediction.render`` takes it."""
        if self.task == "classify":  # its only drawing is the top-5 text
            return {"labels": False, "conf": False, "boxes": False, "masks": False,
                    "probs": self.show_labels.isChecked()}
        return {"labels": self.show_labels.isChecked(), "conf": self.show_conf.isChecked(),
                "boxes": self.show_boxes.isChecked(),
                "masks": self.task == "segment" and self.show_masks.isChecked(), "probs": False}

    def show_backend_note(self, text: str) -> None:
        """A line in place of the backends (looking them up, or none to run), without a change signal."""
        self.backend.blockSignals(True)
        self.backend.clear()
        self.backend.addItem(text, None)
        self.backend.blockSignals(False)

    def list_backends(self, choices: list[BackendChoice], ms: dict[str, float] | None = None) -> None:
        """Offer the backends that run here, the fastest first (``ms``: measured per format); no change signal."""
        self.backend.blockSignals(True)
        self.backend.clear()
        for c in choices:
            suffix = "  (fastest here)" if c is choices[0] and len(choices) > 1 else ""
            timed = f" {ms[c.format]:.1f} ms" if ms and c.format in ms else ""  # before the file: the combo elides
            self.backend.addItem(f"{c.name}{timed} · {Path(c.path).name}{suffix}", c)
        if not choices:
            self.backend.addItem("no weights to run", None)
        self.backend.blockSignals(False)

    def fit_imgsz(self, fixed: int | None, default: int) -> None:
        """An export runs at the size it was built for (imgsz locked to it); the ``.pt`` at ``default``."""
        self.imgsz.setEnabled(fixed is None)
        if fixed:
            self.imgsz.blockSignals(True)
            self.imgsz.setValue(fixed)
            self.imgsz.blockSignals(False)
            self.imgsz.setToolTip(f"This export was built for {fixed} px")
        else:
            self.imgsz.setValue(default)  # signalled: a changed size runs the model again
            self.imgsz.setToolTip("")

    # ------------------------------------------------------------------ slots
    def _on_backend_changed(self, _i: int) -> None:
        self.backendChanged.emit()

    def _show_values(self) -> None:
        conf = self.conf_value()
        self.conf_label.setText(f"{conf:.3f}" if conf < 0.01 else f"{conf:.2f}")
        self.iou_label.setText(f"{self.iou_value():.2f}")

    def _on_params_changed(self) -> None:
        self._show_values()
        self.paramsChanged.emit()

    def _on_toggles_changed(self) -> None:
        self.togglesChanged.emit()
