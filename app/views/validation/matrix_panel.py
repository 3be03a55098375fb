"""The confusion-matrix half of the Validation view: the heat map, counts / normalized, the confidence slider,
and the thumbnails of a clicked cell.

Re-thresholding works on the capture held in memory (``matrix.confusion_at`` over its per-image predictions),
so it touches no file and no database; a slider drag is folded into one recount per 40 ms.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QRadioButton, QSplitter, QVBoxLayout, QWidget
from superqt import QLabeledDoubleSlider

from app.views.validation.thumbnails import ThumbnailStrip
from app.widgets.heatmap import HeatMap

RECOUNT_MS = 40  # a drag recounts at most this often


def axis_names(capture: dict) -> list[str]:
    """The matrix's row/column names: the classes, plus "background" for every task but classify."""
    names = list(capture.get("names", []))
    return names if capture.get("task") == "classify" else [*names, "background"]


class MatrixPanel(QWidget):
    """The heat map and its controls for one capture (``show_capture``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.capture: dict[str, Any] = {}
        self.conf = 0.25
        self.heatmap = HeatMap()
        self.heatmap.setMinimumSize(260, 220)
        self.heatmap.cellClicked.connect(self._on_heatmap_cell_clicked)
        self.counts_button = QRadioButton("Counts")
        self.normalized_button = QRadioButton("Normalized")
        self.normalized_button.setToolTip("Each true class's column divided by its total, as ultralytics plots it")
        self.counts_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.counts_button)
        group.addButton(self.normalized_button)
        self.normalized_button.toggled.connect(self.heatmap.set_normalized)
        self.conf_label = QLabel("Confidence")
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0.0, 1.0)
        self.slider.setDecimals(2)
        self.slider.setSingleStep(0.01)
        self.slider.setToolTip("Count only predictions at or above this confidence (no new validation is run)")
        self.slider.setMinimumWidth(120)
        self._recount = QTimer(self)
        self._recount.setSingleShot(True)
        self._recount.setInterval(RECOUNT_MS)
        self._recount.timeout.connect(lambda: self.recount_in_background(self.slider.value()))
        self._recounting = False  # a recount is on the pool; a newer slider value waits in _wanted
        self._wanted: float | None = None
        self.slider.valueChanged.connect(lambda _v: self._recount.start())
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)  # a narrow window wraps it instead of widening the page
        self.thumbs = ThumbnailStrip()
        controls = QHBoxLayout()
        controls.addWidget(self.counts_button)
        controls.addWidget(self.normalized_button)
        controls.addSpacing(16)
        controls.addWidget(self.conf_label)
        controls.addWidget(self.slider, 1)
        controls.addStretch(0)  # keeps the toggles at the left when a classifier hides the slider
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.heatmap)
        split.addWidget(self.thumbs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(controls)
        lay.addWidget(self.note)
        lay.addWidget(split, 1)

    def show_capture(self, capture: dict) -> None:
        """Show the capture's stored matrix at the confidence it was computed at."""
        self.capture = capture
        self.conf = float(capture.get("matrix_conf", 0.25))
        classify = capture.get("task") == "classify"
        for w in (self.conf_label, self.slider):
            w.setVisible(not classify)  # a classifier's matrix is top-1, whatever the confidence
        self.slider.blockSignals(True)
        self.slider.setValue(self.conf)
        self.slider.blockSignals(False)
        self.heatmap.set_matrix(capture.get("confusion_matrix", []), axis_names(capture))
        n_images = len(capture.get("images", []))
        self.note.setText(("Top-1 class against the true class, " if classify else
                           f"Boxes matched at IoU 0.45, predictions ≥ {self.conf:.2f}, ")
                          + f"{n_images} images. Hover a cell for its share; click it for its images.")
        self.thumbs.show_cell("", [], [])

    def set_conf(self, conf: float) -> None:
        """Recount the matrix at ``conf`` from the capture's per-image predictions and redraw it (here, now)."""
        from app.validation.matrix import confusion_at

        self._show_counts(conf, confusion_at(self.capture, conf))

    def recount_in_background(self, conf: float) -> None:
        """As :meth:`set_conf`, the recount on the thread pool (a big capture takes longer than a frame); values
        asked for meanwhile fold into the newest one."""
        from app.qt.tasks import run_in_background
        from app.validation.matrix import confusion_at

        if self._recounting:
            self._wanted = conf
            return
        self._recounting = True
        capture = self.capture

        def done(counts: list[list[int]]) -> None:
            self._recounting = False
            if capture is self.capture:  # not a capture shown since
                self._show_counts(conf, counts)
            wanted, self._wanted = self._wanted, None
            if wanted is not None and wanted != conf:
                self.recount_in_background(wanted)

        def failed(error: Exception) -> None:
            self._recounting = False
            self.note.setText(f"⚠ Could not recount: {error}")

        run_in_background(lambda: confusion_at(capture, conf), done, failed)

    def _show_counts(self, conf: float, counts: list[list[int]]) -> None:
        self.conf = conf
        self.heatmap.counts = self._as_array(counts)
        self.heatmap.set_normalized(self.heatmap.normalized)  # redraws the new counts in the current mode
        self.note.setText(f"Predictions ≥ {conf:.2f} (recounted from {len(self.capture.get('images', []))} images, "
                          "no new validation). Click a cell for its images.")

    def _as_array(self, counts: Any):  # noqa: ANN202 (numpy array)
        import numpy as np

        n = len(self.heatmap.names)
        return np.asarray(counts, dtype=np.int64).reshape(n, n)

    def _on_heatmap_cell_clicked(self, predicted: int, true: int) -> None:
        from app.validation.matrix import cell_images

        names = axis_names(self.capture)
        entries = cell_images(self.capture, self.conf, predicted, true)
        self.thumbs.show_cell(f"Predicted {names[predicted]}, true {names[true]}", entries,
                              list(self.capture.get("names", [])))
