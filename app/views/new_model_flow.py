"""New Model from the window: the dialog, demo data, the devices to train on, and the training's start."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from app.jobs.store import JobRecord
from app.qt.tasks import run_in_background

if TYPE_CHECKING:
    from app.views.main_window import MainWindow


def _agent_info() -> dict:
    """Ask the agent what this machine offers (CUDA devices): a child process, since it imports torch."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "remote_agent", "info", "--json"], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout)


class NewModelFlow(QObject):
    """Opens New Model with the models and data sets the window last read; library work goes through its ops."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: Any = None

    def open(self) -> None:
        """Show the dialog at once, from frozen records; the devices arrive when the agent answers."""
        from app.views.new_model_dialog import NewModelDialog, devices_from_info

        w = self.window
        dialog = NewModelDialog(w.all_models, w.datasets, w.lib.home / "weights", w._devices, w.current_project_id, w,
                                settings_path=w.lib.home / "window.ini")
        self.dialog = dialog
        dialog.demoDataRequested.connect(self._on_dialog_demo_data_requested)
        if w._devices is None:
            def got_workers(local: list, workers: list) -> None:
                from app.views.new_model_dialog import worker_devices

                w._devices = local + worker_devices(workers)
                if self.dialog is not None:
                    self.dialog.set_devices(w._devices)

            def got_info(info: dict) -> None:
                from app.jobs.workers import WorkerStore

                local = devices_from_info(info)
                w.ops.submit(WorkerStore(w.lib).list, lambda workers: got_workers(local, workers),
                             lambda _e: got_workers(local, []))

            run_in_background(_agent_info, got_info, lambda e: dialog.set_devices([]))
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def _on_dialog_finished(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None or not result or dialog.request is None:
            return
        req, w = dialog.request, self.window
        w.statusBar().showMessage("Starting the training…")
        w.ops.submit(lambda: w.jobs.submit_train(req), self._on_job_submitted,
                     lambda e: QMessageBox.warning(w, "New Model", f"The training could not start: {e}"))

    def _on_job_submitted(self, job: JobRecord) -> None:
        self.window.statusBar().showMessage(f"Training job {job.id} {job.status.lower()}", 8000)
        if job.model_id:
            self.window.open_model(job.model_id, tab="train")

    def _on_dialog_demo_data_requested(self, task: str) -> None:
        from app.demo_data import write_dataset

        target = self.window.lib.home / "datasets" / f"demo-{task}"

        def done(path: Path) -> None:
            if self.dialog is not None:
                self.dialog.demo_ready(str(path))

        run_in_background(lambda: write_dataset(target, task, n_train=64, n_val=16, size=128), done,
                          lambda e: QMessageBox.warning(self.window, "Demo data", str(e)))
