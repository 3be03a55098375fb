"""The model page's Validation tab: a picker of the model's validations, Validate…, a running val job's progress,
and the chosen validation shown whole (:class:`ValidationView`).

Every read (the validations, their capture files, the running jobs' events) and the job start run on the window's
library thread (``LibraryOps``); the GUI thread only draws. While a val job of the shown model runs, its progress is
read again every second; when it ends, the list is read again and the newest validation shown.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from app.library.records import ModelRecord
from app.views.validation.validate_dialog import ValidateDialog
from app.views.validation.validation_view import ValidationView

POLL_MS = 1000
ACTIVE = ("Queued", "Starting", "Running")
EMPTY_TEXT = ("<div style='font-size:14pt; font-weight:600'>No validations yet</div>"
              "<p>Press <b>Validate…</b> to measure this model on its linked data set (or any data.yaml):<br>"
              "a confusion matrix, precision–recall curves and per-class figures.<br>"
              "A training validates its best weights by itself when it ends.</p>")


def label_of(record: Any) -> str:  # noqa: ANN401 (app.validation.store.ValidationRecord)
    """A picker line: data set file name, split, date."""
    data = str(record.data or "").rstrip("/").rsplit("/", 1)[-1] or "data set"
    when = record.created_at.strftime("%Y-%m-%d %H:%M") if record.created_at else ""
    return f"{data} · {record.split} · {when}"


def running_val_jobs(lib: Any, model_id: str) -> list[tuple[str, str, int, int]]:  # noqa: ANN401
    """The model's active val jobs as (job id, status, done, total) from their last progress event (library thread)."""
    from app.jobs.events import read_all
    from app.jobs.store import JobStore

    found = []
    for job in JobStore(lib).list(ACTIVE, model_id=model_id):
        if job.kind != "val":
            continue
        done, total = 0, 0
        for ev in read_all(job.events_path) if job.events_path.exists() else []:
            if ev.get("type") == "progress":
                done, total = int(ev.get("done", 0)), int(ev.get("total", 0))
        found.append((job.id, job.status, done, total))
    return found


class ValidationTab(QWidget):
    """The Validation tab; ``attach`` gives it the window's library thread and job manager."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: ModelRecord | None = None
        self.records: list[Any] = []
        self.running: list[tuple[str, str, int, int]] = []
        self._lib: Any = None
        self._ops: Any = None
        self._jobs: Any = None
        self._shown_id: str | None = None  # the validation whose capture is shown
        self._lister: Any = None  # a Reloader: one read in flight, requests meanwhile fold into one more
        self.picker = QComboBox()
        self.picker.setMinimumWidth(280)
        self.picker.setToolTip("This model's validations: data set, split, date")
        self.picker.currentIndexChanged.connect(self._on_picker_index_changed)
        self.validate_button = QPushButton("Validate…")
        self.validate_button.setObjectName("primary")
        self.validate_button.clicked.connect(self._on_validate_button_clicked)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        head = QHBoxLayout()
        head.addWidget(QLabel("Validation"))
        head.addWidget(self.picker)
        head.addWidget(self.validate_button)
        head.addWidget(self.progress)
        head.addWidget(self.status, 1)
        self.view = ValidationView()
        self.view.exported.connect(lambda path: self.status.setText(f"Saved {path}"))
        self.view.exportFailed.connect(self.status.setText)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.stack, 1)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.reload)

    def attach(self, lib: Any, ops: Any, jobs: Any) -> None:  # noqa: ANN401 (Library, LibraryOps, JobManager)
        """The window's library, its library thread and job manager (all reads and the job start go through ops)."""
        from app.qt.library_ops import Reloader

        self._lib, self._ops, self._jobs = lib, ops, jobs
        self._lister = Reloader(ops, self._list_loader, self._on_listed, "Reading the validations")

    def show_model(self, m: ModelRecord) -> None:
        """Show ``m``'s validations (read again: a change of the model may be a validation that just landed)."""
        if self.model is None or self.model.id != m.id:
            self._shown_id = None
            self.records = []
            self.picker.clear()
            self.stack.setCurrentWidget(self.empty)
            self.status.setText("")
        self.model = m
        self.reload()

    def reload(self) -> None:
        """Read the model's validations and running val jobs on the library thread."""
        if self._lister is not None and self.model is not None:
            self._lister.request()

    def _list_loader(self):  # noqa: ANN202 (a loader for the library thread)
        from app.validation.store import list_validations

        lib, model_id = self._lib, self.model.id if self.model else ""
        return lambda: (model_id, list_validations(lib, model_id), running_val_jobs(lib, model_id))

    def _on_listed(self, result: tuple[str, list[Any], list[tuple[str, str, int, int]]]) -> None:
        model_id, records, running = result
        if self.model is None or model_id != self.model.id:
            return  # another model was opened meanwhile
        finished = bool(self.running) and not running
        self.running = running
        self._show_running()
        newest_first = sorted(records, key=lambda r: (r.created_at is not None, r.created_at, r.id), reverse=True)
        if [r.id for r in newest_first] != [r.id for r in self.records]:
            self.records = newest_first
            keep = None if finished else self._shown_id  # a validation just finished: show it
            self.picker.blockSignals(True)
            self.picker.clear()
            for r in self.records:
                self.picker.addItem(label_of(r), r.id)
            index = next((i for i, r in enumerate(self.records) if r.id == keep), 0)
            self.picker.setCurrentIndex(index if self.records else -1)
            self.picker.blockSignals(False)
            if self.records:
                self._open(self.records[index])
        if not self.records:
            self.stack.setCurrentWidget(self.empty)

    def _show_running(self) -> None:
        if not self.running:
            if not self.progress.isHidden():
                self.status.setText("Validation finished.")
            self.progress.hide()
            self._poll.stop()
            return
        job_id, status, done, total = self.running[0]
        self.progress.setRange(0, max(total, 1) if total else 0)  # no total yet: a busy bar
        self.progress.setValue(done)
        self.progress.show()
        self.status.setText(f"Validating ({status.lower()}, job {job_id[:8]})…")
        if not self._poll.isActive():
            self._poll.start()

    def _open(self, record: Any) -> None:  # noqa: ANN401
        from app.validation.store import load_capture

        self._shown_id = record.id
        self._ops.submit(lambda: (record.id, load_capture(record)), self._on_capture_loaded, self._on_failed,
                         "Reading the validation")

    def _on_capture_loaded(self, result: tuple[str, dict]) -> None:
        record_id, capture = result
        if record_id != self._shown_id:
            return
        self.view.show_capture(capture)
        self.stack.setCurrentWidget(self.view)

    def _on_failed(self, error: Exception) -> None:
        self.status.setText(f"⚠ {error}")  # one line (a damaged capture file says which); nothing else changes

    def _on_picker_index_changed(self, index: int) -> None:
        if 0 <= index < len(self.records):
            self._open(self.records[index])

    def _on_validate_button_clicked(self) -> None:
        if self._ops is None or self.model is None:
            return
        from app.jobs.workers import WorkerStore  # paramiko loads when workers are listed, not at start

        lib = self._lib
        self._ops.submit(lambda: [w.name for w in WorkerStore(lib).list()], self._ask, self._on_failed,
                         "Listing the workers")

    def _ask(self, workers: list[str]) -> None:
        m = self.model
        if m is None:
            return
        dialog = ValidateDialog(m.dataset.location if m.dataset else None, workers, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.start(dialog.request().data, dialog.request().split, dialog.request().worker)

    def start(self, data: str | None, split: str, worker: str) -> None:
        """Start a val job of the shown model (on the library thread); its progress shows in the header."""
        from app.validation.val_job import start_validation

        lib, jobs, model_id = self._lib, self._jobs, self.model.id if self.model else ""
        self.status.setText("Starting the validation…")
        self._ops.submit(lambda: start_validation(lib, jobs, model_id, data=data, split=split, worker=worker),
                         lambda job: self.reload(), self._on_failed, "Starting a validation")
