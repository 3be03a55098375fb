"""The Datasets side page: every data set of the library in a table, *Add data set…* (a data.yaml, a classification
folder or a .zip of either) checked off the GUI thread with a progress bar and Cancel, then its problems per file;
a row opens the data set's own page (:class:`app.views.dataset_page.DatasetPage`) in this page's stack.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem, QMenu,
    QProgressBar, QPushButton, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from app.library.datasets import (
    AddOutcome, DatasetInfo, DatasetUnusable, PreparedScan, ScanCancelled, list_datasets, prepare_dataset,
    prepare_rescan, store_prepared,
)
from app.library.repository import Library
from app.qt.library_ops import LibraryOps
from app.qt.tasks import run_in_background
from app.views.dataset_page import DatasetPage, size_text

NOT_COUNTED = "Not counted yet: open the data set and press Check again to scan its files"
COLUMNS = ("Name", "Task", "Classes", "Train images", "Val images", "Size", "Models", "Last used", "State")


class _Progress(QObject):
    """Carries the scan's progress from the pool thread to the GUI thread (a queued signal)."""

    progressed = Signal(int, int, str)


class DatasetsPage(QWidget):
    """The table of data sets, the add flow, and the page of one data set."""

    scanFinished = Signal(object)  # AddOutcome, DatasetUnusable or ScanCancelled: what the last add/check ended in

    def __init__(self, lib: Library, ops: LibraryOps, open_model: Any, parent: QWidget | None = None) -> None:  # noqa: ANN401
        super().__init__(parent)
        self.lib, self.ops = lib, ops
        self.rows: list[DatasetInfo] = []
        self._cancel: threading.Event | None = None
        self._relay = _Progress(self)
        self._relay.progressed.connect(self._on_relay_progressed)

        title = QLabel("Datasets")
        title.setObjectName("pageTitle")
        self.add_button = QPushButton("Add data set…")
        self.add_button.setObjectName("primary")
        menu = QMenu(self.add_button)
        menu.addAction("A data.yaml or a .zip…", self._on_add_file_chosen)
        menu.addAction("A classification folder…", self._on_add_folder_chosen)
        self.add_button.setMenu(menu)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.add_button)
        hint = QLabel("Data sets you train on: a data.yaml (detect, segment, pose, obb), a classification folder "
                      "(train/ and val/ with a folder per class), or a .zip of either. Each is checked file by file.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        self.empty = QLabel(
            "<div style='font-size:15pt; font-weight:600'>No data sets yet</div>"
            "<p>Trainings add the data sets they use;<br><b>Add data set…</b> checks one file by file.</p>"
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("emptyState")
        self.table_or_empty = QStackedWidget()  # the centred box in the table's place: a line under it was missed
        self.table_or_empty.addWidget(self.empty)
        self.table_or_empty.addWidget(self.table)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.progress_row = QWidget()
        prow = QHBoxLayout(self.progress_row)
        prow.setContentsMargins(0, 0, 0, 0)
        prow.addWidget(self.progress_label)
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        self.progress_row.setVisible(False)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.setVisible(False)

        listing = QWidget()
        lay = QVBoxLayout(listing)
        lay.setContentsMargins(20, 14, 20, 14)
        lay.addLayout(head)
        lay.addWidget(hint)
        lay.addWidget(self.progress_row)
        lay.addWidget(self.verdict)
        lay.addWidget(self.problems)
        lay.addWidget(self.table_or_empty, 1)

        self.dataset_page = DatasetPage(lib, ops, open_model)
        self.dataset_page.backRequested.connect(self.show_list)
        self.dataset_page.rescan_button.clicked.connect(self._on_rescan_clicked)
        self.stack = QStackedWidget()
        self.stack.addWidget(listing)
        self.stack.addWidget(self.dataset_page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

    # ------------------------------------------------------------------------------------------- the list
    def refresh(self) -> None:
        """Read the data sets on the library thread and fill the table (the open data set is read again too)."""
        self.ops.submit(lambda: list_datasets(self.lib), self._show_rows, what="Reading the data sets")
        if self.stack.currentWidget() is self.dataset_page and self.dataset_page.info is not None:
            self.dataset_page.load(self.dataset_page.info.record.id)

    def on_changes(self, changes: Any) -> None:  # noqa: ANN401 (app.qt.library_changes.Changes)
        if changes.models:  # a training linked a model (or a model went): the counts and last-used move
            self.refresh()

    def _show_rows(self, rows: list[DatasetInfo]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, info in enumerate(rows):
            rec = info.record
            used = info.last_used.strftime("%Y-%m-%d") if info.last_used else "—"
            size, size_tip = size_text(info)
            counted = bool(info.stats)  # a data set linked by a training, never scanned: its counts are unknown, not 0
            train, val = (str(info.images(s)) if counted else "—" for s in ("train", "val"))
            cells = (rec.name, rec.task or "?", str(len(rec.class_names)), train, val, size, str(len(info.models)),
                     used, info.state)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (3, 4, 8) and not counted:
                    item.setToolTip(NOT_COUNTED)
                if c == 0:
                    item.setData(Qt.ItemDataRole.UserRole, rec.id)
                    item.setToolTip(rec.location)
                elif c in (2, 3, 4, 5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 5 and size_tip:
                    item.setToolTip(size_tip)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table_or_empty.setCurrentWidget(self.table if rows else self.empty)

    def show_list(self) -> None:
        self.stack.setCurrentIndex(0)
        self.refresh()

    def open_dataset(self, dataset_id: int) -> DatasetPage:
        """Show the page of one data set (read on the library thread)."""
        self.stack.setCurrentWidget(self.dataset_page)
        self.dataset_page.load(dataset_id)
        return self.dataset_page

    # ------------------------------------------------------------------------------------------- adding
    def add_path(self, path: str | Path) -> None:
        """Check ``path`` and add it, on the thread pool, with progress and Cancel; problems are listed after."""
        home = self.lib.home
        self._start(lambda progress, cancel: prepare_dataset(home, path, progress=progress, cancel=cancel),
                    f"Checking {Path(path).name}")

    def _start(self, work: Any, label: str) -> None:  # noqa: ANN401
        if self._cancel is not None:
            return  # one check at a time
        cancel = self._cancel = threading.Event()
        relay = self._relay
        self.progress.setRange(0, 0)
        self.progress_label.setText(label)
        self.progress_row.setVisible(True)
        self.add_button.setEnabled(False)
        self.dataset_page.rescan_button.setEnabled(False)
        self.verdict.clear()
        self.problems.clear()
        self.problems.setVisible(False)
        # the files are read on the pool; the row is written by the window's one library thread
        run_in_background(lambda: work(lambda d, t, what: relay.progressed.emit(d, t, what), cancel.is_set),
                          self._on_scan_prepared, self._on_scan_failed)

    def _on_scan_prepared(self, prepared: PreparedScan) -> None:
        self.progress_label.setText(f"Saving {prepared.name}")
        self.ops.submit(lambda: store_prepared(self.lib, prepared), self._on_scan_done, self._on_scan_failed,
                        what="Adding the data set")

    def _on_relay_progressed(self, done: int, total: int, what: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total}")

    def _finish(self) -> None:
        self._cancel = None
        self.progress_row.setVisible(False)
        self.add_button.setEnabled(True)
        self.dataset_page.rescan_button.setEnabled(True)

    def _on_scan_done(self, outcome: AddOutcome) -> None:
        self._finish()
        scan, rec = outcome.scan, outcome.info.record
        verb = "Added" if outcome.added else "Checked again"
        self.verdict.setText(f"{verb} {rec.name}: {rec.task}, {len(rec.class_names)} classes, "
                             + ", ".join(f"{s} {v.images} images" for s, v in scan.splits.items())
                             + (f" — {scan.problem_count} problem(s):" if scan.problem_count else " — no problems."))
        self._list_problems(scan)
        self.refresh()
        self.scanFinished.emit(outcome)

    def _on_scan_failed(self, error: Exception) -> None:
        self._finish()
        if isinstance(error, ScanCancelled):
            self.verdict.setText("Cancelled; nothing was added.")
        elif isinstance(error, DatasetUnusable):
            self.verdict.setText(f"Not added: {error}")
            if error.scan is not None:
                self._list_problems(error.scan)
        else:
            self.verdict.setText(f"The check failed: {type(error).__name__}: {error}".splitlines()[0])
        self.scanFinished.emit(error)

    def _list_problems(self, scan: Any) -> None:  # noqa: ANN401 (a ScanResult)
        for p in scan.problems:
            item = QListWidgetItem(f"{'⚠' if p.severity == 'warning' else '✖'}  {p.file}: {p.message}")
            self.problems.addItem(item)
        if scan.problem_count > len(scan.problems):
            self.problems.addItem(f"… and {scan.problem_count - len(scan.problems)} more")
        self.problems.setVisible(bool(scan.problems))
        rows = min(self.problems.count(), 8)  # as tall as its lines, up to eight: the table stays in view
        self.problems.setMaximumHeight(self.problems.sizeHintForRow(0) * rows + 2 * self.problems.frameWidth() + 4)

    # ------------------------------------------------------------------------------------------- slots
    def _on_add_file_chosen(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a data set", "", "Data sets (*.yaml *.yml *.zip)")
        if path:
            self.add_path(path)

    def _on_add_folder_chosen(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a classification folder")
        if path:
            self.add_path(path)

    def _on_cancel_button_clicked(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _on_table_cell_double_clicked(self, row: int, _column: int) -> None:
        dataset_id = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        self.open_dataset(int(dataset_id))

    def _on_rescan_clicked(self) -> None:
        info = self.dataset_page.info
        if info is None:
            return
        self.stack.setCurrentIndex(0)  # the progress and the verdict live on the list
        self._start(lambda progress, cancel: prepare_rescan(info, progress, cancel),
                    f"Checking {info.record.name} again")
