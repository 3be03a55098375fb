"""The model page's Train tab: the training job's state, live charts, console and system meters."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from app.jobs.placement import is_target, waiting_note
from app.jobs.store import JobRecord
from app.jobs.trust import refused_by_gate
from app.library.records import ModelRecord
from app.qt.jobs_bridge import JobEventStream
from app.views.trust_prompt import ask_trust
from app.widgets.ansi_console import AnsiConsole
from app.widgets.badge import Badge
from app.widgets.eliding_title import ElidingTitle
from app.widgets.system_meters import SystemMeters
from app.widgets.train_charts import TrainCharts


def _elapsed(job: JobRecord) -> str:
    if job.started_at is None:
        return ""
    end = job.finished_at or datetime.now(timezone.utc)
    s = int((end - job.started_at).total_seconds())
    return f"{s // 3600:d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class TrainTab(QWidget):
    """Shows one model's training: its job (live or finished) or, for an uploaded model, its stored results."""

    cancelRequested = Signal(str)
    retryRequested = Signal(str)
    trustRetryRequested = Signal(str)  # job id: the user trusts the weights the loading gate refused; run it again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job: JobRecord | None = None
        self.model: ModelRecord | None = None
        self.stream: JobEventStream | None = None
        self.epochs_total: int | None = None
        self.last_epoch = 0
        self._measured = False  # a progress event has given the bar a measure (before it, the bar is busy)

        self.status = Badge("status")
        self.title = ElidingTitle()
        self.title.setObjectName("sectionTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # elided, never widening
        self.title_detail = QLabel()  # the whole title, wrapped, while the head is too narrow for it (a wait reason)
        self.title_detail.setObjectName("muted")
        self.title_detail.setWordWrap(True)
        self.title_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title_detail.hide()
        self.title.overflowChanged.connect(self._on_title_overflow_changed)
        self.elapsed = QLabel()
        self.elapsed.setObjectName("muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("danger")
        self.cancel_button.setToolTip("Stop after the current batch; the last checkpoint is kept")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Start the training again with the same arguments")
        self.retry_button.clicked.connect(self._on_retry_clicked)
        head = QHBoxLayout()
        head.addWidget(self.status)
        head.addWidget(self.title, 1)
        head.addStretch(1)
        head.addWidget(self.elapsed)
        head.addWidget(self.cancel_button)
        head.addWidget(self.retry_button)

        self.banner = QLabel()
        self.banner.setObjectName("errorBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        self.charts = TrainCharts()
        self.console = AnsiConsole()
        copy = QToolButton()
        copy.setText("Copy as text")
        copy.clicked.connect(self.console.copy_all)
        console_page = QWidget()
        cl = QVBoxLayout(console_page)
        cl.setContentsMargins(0, 6, 0, 0)
        bar = QHBoxLayout()
        self.console_note = QLabel()
        self.console_note.setObjectName("muted")
        bar.addWidget(self.console_note)
        bar.addStretch(1)
        bar.addWidget(copy)
        cl.addLayout(bar)
        cl.addWidget(self.console, 1)
        self.meters = SystemMeters()
        self.inner = QTabWidget()
        self.inner.addTab(self.charts, "Charts")
        self.inner.addTab(console_page, "Console")
        self.inner.addTab(self.meters, "System")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 10, 4, 4)
        lay.addLayout(head)
        lay.addWidget(self.title_detail)
        lay.addWidget(self.progress)
        lay.addWidget(self.banner)
        lay.addWidget(self.inner, 1)
        self._pending: list[dict[str, Any]] = []
        self._drain = QTimer(self)
        self._drain.setInterval(0)
        self._drain.timeout.connect(self._on_drain_timeout)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_clock_timeout)

    # ------------------------------------------------------------------ show
    def show_model(self, model: ModelRecord, job: JobRecord | None) -> None:
        same = job is not None and self.job is not None and job.id == self.job.id and self.stream is not None
        self.model = model
        if same:
            self.update_job(job)  # type: ignore[arg-type]
            return
        self.stop_stream()
        self._pending.clear()
        self.charts.clear()
        self.console.reset()
        self.meters.clear()
        self.banner.hide()
        self.job, self.epochs_total, self.last_epoch, self._measured = job, None, 0, False
        self._set_progress(None if job is not None and job.status in ("Queued", "Starting", "Running") else 0)
        if job is None:
            self._show_uploaded(model)
            return
        self.console_note.setText(f"job {job.id} · {job.worker} · run folder {job.run_dir}")
        self.update_job(job)
        self.stream = JobEventStream(job.events_path, self)
        self.stream.eventsArrived.connect(self._on_stream_events_arrived)

    def _show_uploaded(self, m: ModelRecord) -> None:
        self.status.set_text(m.status)
        epochs = len(m.results.get("epoch", [])) if m.results else 0
        self.title.setText(f"Uploaded checkpoint · {epochs} epochs recorded" if epochs else "Uploaded checkpoint")
        self.elapsed.setText("")
        self._set_progress(1000 if epochs else 0)
        self.cancel_button.hide()
        self.retry_button.hide()
        if m.results:
            self.charts.set_results(m.results)
        self.console_note.setText("")
        self.console.append_text("This model was added from a file: its training console was not recorded.\n"
                                 "The charts are rebuilt from the per-epoch results stored in the checkpoint.\n")
        self.meters.note.setText("System meters are recorded for trainings run by YOLO Desk.")

    def update_job(self, job: JobRecord) -> None:
        if self.job is not None and job.id != self.job.id:
            return
        self.job = job
        self.status.set_text(job.status)
        active = job.status in ("Queued", "Starting", "Running")
        self.cancel_button.setVisible(active)
        self.retry_button.setVisible(job.status in ("Failed", "Cancelled"))
        self.retry_button.setText("Trust this file and retry" if refused_by_gate(job) else "Retry")
        self.elapsed.setText(_elapsed(job))
        self._update_title()
        if job.status == "Failed":
            self.banner.setText(f"Training failed: {job.error or 'no reason given'}")
            self.banner.show()
        if job.status == "Completed":
            self._set_progress(1000)
        elif active and not self._measured:
            self._set_progress(None)
        elif not active and self.progress.maximum() == 0:  # ended before its first batch: no busy bar left behind
            self._set_progress(0)
        if active:
            self._clock.start()
        else:
            self._clock.stop()
            self.reset_cancel_button()

    def _set_progress(self, value: int | None) -> None:
        """``None``: busy with no measure yet (queued, starting, preparing data); else 0–1000."""
        if value is None:
            self.progress.setRange(0, 0)  # indeterminate: a full bar would claim work that is not done
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(value)
        self.progress.setToolTip(self.title.text() if value is None else f"{value / 10:.0f} %")

    def _update_title(self) -> None:
        if self.job is None:
            return
        remote = self.job.worker != "local"
        on = f" on {self.job.worker}" if remote else ""
        if self.job.status == "Queued" and (waiting := waiting_note(self.job.result)):  # no GPU free yet: why
            self.title.setText(waiting)
        elif self.job.status == "Queued" and is_target(self.job.worker):
            self.title.setText("Looking for a worker with a free GPU…")
        elif self.job.status == "Queued":
            self.title.setText(f"Waiting for a free slot (one training at a time on {self.job.worker if remote else 'this machine'})")
        elif waiting := waiting_note(self.job.result):  # queued by Slurm or Ray on the worker's cluster, and why
            self.title.setText(f"{waiting} (on {self.job.worker})")
        elif self.epochs_total:
            self.title.setText(f"Epoch {self.last_epoch}/{self.epochs_total}{on}")
        else:
            starting = f"Uploading to {self.job.worker} and starting the agent…" if remote else "Starting the agent…"
            self.title.setText({"Starting": starting, "Running": f"Preparing data{on}…"}.get(
                self.job.status, self.job.status))
        if self.progress.maximum() == 0:
            self.progress.setToolTip(self.title.text())  # the busy bar names the phase it waits on

    def _on_title_overflow_changed(self, whole: str) -> None:
        self.title_detail.setText(whole)
        self.title_detail.setVisible(bool(whole))

    def stop_stream(self) -> None:
        if self.stream is not None:
            self.stream.stop()
            self.stream.deleteLater()
            self.stream = None
        self._clock.stop()

    # ------------------------------------------------------------------ events
    def _on_stream_events_arrived(self, batch: list[dict[str, Any]]) -> None:
        text: list[str] = []
        for ev in batch:
            kind = ev.get("type")
            if kind == "log":
                text.append(ev.get("text", ""))
            elif kind == "epoch":
                self.last_epoch = int(ev.get("epoch") or 0)
                self.epochs_total = int(ev.get("epochs") or 0) or self.epochs_total
                self._pending.append(ev)
            elif kind == "progress":
                total = ev.get("total") or 0
                self.epochs_total = int(ev.get("epochs") or total or 0) or self.epochs_total
                if total:
                    self._measured = True
                    self._set_progress(int(1000 * float(ev.get("done") or 0) / float(total)))
            elif kind == "system":
                self._pending.append(ev)
            elif kind == "failed":
                self.banner.setText(f"Training failed: {ev.get('error', 'Error')}: {ev.get('message', '')}")
                self.banner.show()
        if text:
            self.console.append_text("".join(text))
        self._update_title()
        if self._pending:
            self._drain.start()

    def _on_drain_timeout(self) -> None:
        """Charts and meters one event per event-loop turn, so a burst never blocks the window for long."""
        if not self._pending:
            self._drain.stop()
            return
        ev = self._pending.pop(0)
        if ev.get("type") == "epoch":
            self.charts.add_epoch(int(ev.get("epoch") or 0), ev.get("metrics") or {})
        else:
            self.meters.add_sample(ev)

    def _on_clock_timeout(self) -> None:
        if self.job is not None:
            self.elapsed.setText(_elapsed(self.job))

    def _on_cancel_clicked(self) -> None:
        if self.job is not None:
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")
            self.cancelRequested.emit(self.job.id)

    def _on_retry_clicked(self) -> None:
        if self.job is not None and refused_by_gate(self.job):
            job_id = self.job.id
            ask_trust(self, self.job.error or "", "Trust and retry", lambda: self.trustRetryRequested.emit(job_id))
        elif self.job is not None:
            self.retryRequested.emit(self.job.id)

    def reset_cancel_button(self) -> None:
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
