"""The Jobs panel: every job, local and remote, the way an IDE lists its background tasks.

Rows come from :func:`app.qt.jobs_rows.load_job_rows` on the library thread (the window asks when
``ops.changed`` names jobs, and every few seconds while one runs, for its epoch); the panel only draws.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from app.jobs.store import ACTIVE
from app.qt.jobs_rows import JobRow

COLUMNS = ("Kind", "Model", "State", "Progress", "Elapsed", "Where")
ID_ROLE = Qt.ItemDataRole.UserRole


def format_elapsed(seconds: float | None) -> str:
    """``1:02:03`` / ``2:03``; a dash before the job started."""
    if seconds is None:
        return "—"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def format_progress(row: JobRow) -> str:
    """Epochs done of all, or the phase when there are none yet (a Slurm job's wait, with Slurm's reason)."""
    if row.note:
        return row.note
    if row.progress is not None:
        done, total = row.progress
        return f"epoch {done}/{total}"
    return {"Queued": "waiting", "Starting": "starting"}.get(row.status, "")


class JobsPanel(QDockWidget):
    """A dock listing jobs; Cancel and Open console act on the selected one."""

    cancelRequested = Signal(str)  # job id
    consoleRequested = Signal(str, str)  # model id, tab ("train" / "export")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Jobs", parent)
        self.setObjectName("jobsPanel")
        self.rows: list[JobRow] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(60)
        self.table.itemSelectionChanged.connect(self._on_table_selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self._on_console_clicked())
        self.summary = QLabel("No jobs yet")
        self.summary.setObjectName("muted")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the selected job (a training stops after the current batch)")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.console_button = QPushButton("Open console")
        self.console_button.setToolTip("Show the selected job's model on its Train or Export tab")
        self.console_button.clicked.connect(self._on_console_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.console_button)
        buttons.addWidget(self.cancel_button)
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(8, 4, 8, 8)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        self.setWidget(body)
        self._on_table_selection_changed()

    def show_rows(self, rows: list[JobRow]) -> None:
        """Draw ``rows``, keeping the selected job selected."""
        keep = self.selected()
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            texts = (row.kind, row.model, row.status, format_progress(row), format_elapsed(row.elapsed_seconds()),
                     row.worker)
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, row.id)
                if c == 2 and row.error:
                    item.setToolTip(row.error)
                if c == 3 and row.note:
                    item.setToolTip(row.note)
                self.table.setItem(r, c, item)
            if keep is not None and row.id == keep.id:
                self.table.selectRow(r)
        if any(row.note for row in rows):  # a Slurm wait's reason is read whole, not elided…
            progress = COLUMNS.index("Progress")
            self.table.resizeColumnToContents(progress)
            self.table.resizeColumnToContents(COLUMNS.index("Where"))  # "any GPU worker (≥ 8 GiB)" whole too
            widest = max(320, int(self.table.viewport().width() * 0.45))  # …up to a point: a Ray message is long
            if self.table.columnWidth(progress) > widest:
                self.table.setColumnWidth(progress, widest)  # elided; the whole of it is the cell's tooltip
        running = sum(row.status in ACTIVE for row in rows)
        self.summary.setText(f"{running} running or queued · {len(rows)} in all" if rows else "No jobs yet")
        self._on_table_selection_changed()

    def redraw_elapsed(self) -> None:
        """Tick the running jobs' elapsed time (nothing is read)."""
        for r, row in enumerate(self.rows):
            if row.status in ACTIVE and (item := self.table.item(r, COLUMNS.index("Elapsed"))) is not None:
                item.setText(format_elapsed(row.elapsed_seconds()))

    def selected(self) -> JobRow | None:
        """The selected job's row, if any."""
        picked = self.table.selectionModel().selectedRows()
        if not picked:
            return None
        job_id = self.table.item(picked[0].row(), 0).data(ID_ROLE)
        return next((row for row in self.rows if row.id == job_id), None)

    def select_job(self, job_id: str) -> bool:
        """Select the row of ``job_id``; False when it is not listed."""
        for r, row in enumerate(self.rows):
            if row.id == job_id:
                self.table.selectRow(r)
                return True
        return False

    def any_active(self) -> bool:
        return any(row.status in ACTIVE for row in self.rows)

    def _on_table_selection_changed(self) -> None:
        row = self.selected()
        self.cancel_button.setEnabled(row is not None and row.status in ACTIVE)
        self.console_button.setEnabled(row is not None and row.model_id is not None)

    def _on_cancel_clicked(self) -> None:
        row = self.selected()
        if row is not None and row.status in ACTIVE:
            self.cancel_button.setEnabled(False)  # once; the next read shows Cancelled
            self.cancelRequested.emit(row.id)

    def _on_console_clicked(self) -> None:
        row = self.selected()
        if row is not None and row.model_id is not None:
            self.consoleRequested.emit(row.model_id, "export" if row.kind == "export" else "train")
