"""One validation shown whole: the overall figures, the matrix (left), the curves and per-class table (right),
and Export (matrix / curves as CSV or JSON, the view as PNG).

It is given a capture dict (the agreed validation format, ``app/validation/store.load_capture``); it reads no file
and no database itself. Exports are written on the thread pool; ``exported`` says where, ``exportFailed`` why not.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMenu, QSplitter, QTabWidget, QToolButton,
                               QVBoxLayout, QWidget)

from app.qt.tasks import run_in_background
from app.views.validation.class_table import ClassTable, summary_text
from app.views.validation.curves_panel import CurvesPanel
from app.views.validation.export import write_atomically, writer_for
from app.views.validation.matrix_panel import MatrixPanel

EXPORTS = (("matrix-csv", "Matrix as CSV…", "CSV (*.csv)", ".csv"),
           ("matrix-json", "Matrix as JSON…", "JSON (*.json)", ".json"),
           ("curves-csv", "Curves as CSV…", "CSV (*.csv)", ".csv"),
           ("curves-json", "Curves as JSON…", "JSON (*.json)", ".json"),
           ("png", "View as PNG…", "PNG image (*.png)", ".png"))


class ValidationView(QWidget):
    """The figures of one capture; ``export_to(kind, path)`` writes one of EXPORTS off the GUI thread."""

    exported = Signal(str)
    exportFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.capture: dict[str, Any] = {}
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setStyleSheet("QToolButton { padding-right: 14px; }")  # the menu arrow sat on the "t"
        menu = QMenu(self.export_button)
        self.export_actions = {}
        for kind, label, pattern, suffix in EXPORTS:
            action = menu.addAction(label)
            action.triggered.connect(lambda _c=False, k=kind, p=pattern, s=suffix: self._on_export_chosen(k, p, s))
            self.export_actions[kind] = action
        self.export_button.setMenu(menu)
        self.matrix = MatrixPanel()
        self.curves = CurvesPanel()
        self.table = ClassTable()
        self.side = QTabWidget()
        self.side.setDocumentMode(True)
        self.side.addTab(self.curves, "Curves")
        self.side.addTab(self.table, "Per class")
        split = self.split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.matrix)
        split.addWidget(self.side)
        split.setStretchFactor(0, 4)  # the curves' 2×2 grid needs a little more room than the square matrix
        split.setStretchFactor(1, 5)
        split.setChildrenCollapsible(False)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(split, 1)

    def show_capture(self, capture: dict) -> None:
        """Show a capture (the agreed validation format)."""
        self.capture = capture
        self.summary.setText(summary_text(capture))
        self.matrix.show_capture(capture)
        self.curves.show_capture(capture)
        self.table.show_capture(capture)
        has_curves = bool(capture.get("curves"))
        for kind in ("curves-csv", "curves-json"):
            self.export_actions[kind].setEnabled(has_curves)
        # a classifier has no curves: its table is the more useful side
        self.side.setCurrentWidget(self.curves if has_curves else self.table)
        self.split.setSizes([4000, 5000] if has_curves else [5000, 4000])  # proportions: the matrix or the curves

    def export_to(self, kind: str, path: str) -> None:
        """Write ``kind`` (one of EXPORTS) to ``path`` on the thread pool; ``exported`` / ``exportFailed`` follow."""
        if kind == "png":
            image = self.grab().toImage()  # drawn on the GUI thread; a QImage may be saved from any thread

            def make() -> str:
                if not image.save(path, "PNG"):
                    raise OSError(f"could not write {path}")
                return path
        else:
            text = writer_for(kind, self.capture, self.heatmap_counts(), self.matrix.heatmap.names,
                              self.matrix.conf)

            def make() -> str:
                return str(write_atomically(path, text()))

        run_in_background(make, self.exported.emit, lambda e: self.exportFailed.emit(f"Export failed: {e}"))

    def heatmap_counts(self) -> list[list[int]]:
        """The counts shown now (after any re-threshold)."""
        return [[int(v) for v in row] for row in self.matrix.heatmap.counts]

    def _on_export_chosen(self, kind: str, pattern: str, suffix: str) -> None:
        stem = f"validation-{self.capture.get('task', 'model')}-{kind.split('-')[0]}"
        path, _ = QFileDialog.getSaveFileName(self, "Export", stem + suffix, pattern)
        if path:
            self.export_to(kind, path if path.endswith(suffix) else path + suffix)
