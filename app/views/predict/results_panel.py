"""The Predict tab's results: a table of what the model found, Copy JSON and Save image."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from app.predict.session import Prediction


LIVE_FILL_INTERVAL_MS = 250  # a live run refills the rows at most 4 times a second: readable, and it leaves the CPU


def _fmt_box(b: list[float]) -> str:
    return f"{b[0]:.0f}, {b[1]:.0f}, {b[2]:.0f}, {b[3]:.0f}"


class ResultsPanel(QWidget):
    """One row per detection (or the top 5 classes); hovering or selecting a row asks to outline it."""

    highlightRequested = Signal(object)  # the row's outline in picture coordinates, or None for none
    copyRequested = Signal()
    saveRequested = Signal(str)  # where to write the annotated picture

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prediction: Prediction | None = None  # the one the rows show
        self.fills = 0  # times the rows were filled (a live run's are rationed)
        self._pending: Prediction | None = None  # a live result waiting for the next fill
        self._rationed = QTimer(self)
        self._rationed.setSingleShot(True)
        self._rationed.setInterval(LIVE_FILL_INTERVAL_MS)
        self._rationed.timeout.connect(self._on_rationed_timeout)
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
        self.copy_button.clicked.connect(self.copyRequested.emit)
        self.save_button = QPushButton("Save image…")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.count = QLabel()
        self.count.setObjectName("sectionTitle")
        rl = QVBoxLayout(self)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.count)
        rl.addWidget(self.table, 1)
        rb = QHBoxLayout()
        rb.addWidget(self.copy_button)
        rb.addWidget(self.save_button)
        rl.addLayout(rb)
        self.set_actions_enabled(False)

    def clear(self) -> None:
        """No rows and no count (a new model)."""
        self.prediction = self._pending = None
        self._rationed.stop()
        self.table.setRowCount(0)
        self.count.setText("")

    def show_prediction(self, p: Prediction, live: bool = False) -> None:
        """Fill the rows from ``p``; a live frame's at most every LIVE_FILL_INTERVAL_MS (the newest waiting one
        fills the rows when the interval is over, so the last frame of a run is always the one listed)."""
        if live and self._rationed.isActive():
            self._pending = p
            return
        self._pending = None
        if live:
            self._rationed.start()
        self._fill(p)

    def _on_rationed_timeout(self) -> None:
        if self._pending is not None:
            self.show_prediction(self._pending, live=True)

    def _fill(self, p: Prediction) -> None:
        """The rows from ``p``; the detail column only when some row has masks or keypoints."""
        self.prediction = p
        self.fills += 1
        classify = p.task == "classify"
        self.table.setHorizontalHeaderLabels(["Class", "Confidence" if classify else "Conf", "Box / angle", "Detail"])
        self.table.setColumnHidden(2, classify)  # a class has no place in the picture
        self.table.horizontalHeader().setSectionResizeMode(  # the widest shown column fills the panel
            1, QHeaderView.ResizeMode.Stretch if classify else QHeaderView.ResizeMode.ResizeToContents)
        if classify:
            rows = [(t["name"], t["confidence"], "", "") for t in p.top5]
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
        self.highlightRequested.emit(None)

    def has_selection(self) -> bool:
        """Whether a row is selected (its outline stays when the pointer leaves)."""
        return bool(self.table.selectionModel().selectedRows())

    def set_actions_enabled(self, on: bool) -> None:
        """Copy and Save only once there is a prediction to copy or save."""
        self.copy_button.setEnabled(on)
        self.save_button.setEnabled(on)

    def _geometry(self, row: int) -> list[list[float]] | None:
        p = self.prediction
        if p is None or row < 0 or row >= len(p.detections):
            return None
        d = p.detections[row]
        if d.corners is not None:
            return d.corners
        return [[d.box[0], d.box[1]], [d.box[2], d.box[3]]]

    # ------------------------------------------------------------------ slots
    def _on_table_cell_entered(self, row: int, _col: int) -> None:
        self.highlightRequested.emit(self._geometry(row))

    def _on_table_selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.highlightRequested.emit(self._geometry(rows[0].row()) if rows else None)

    def _on_save_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save annotated image", "prediction.jpg", "Images (*.jpg *.png)")
        if path:
            self.saveRequested.emit(path)
