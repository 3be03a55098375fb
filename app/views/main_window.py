"""The main window: sidebar (projects, models) and a stack of the project page and the model page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QStackedWidget, QWidget,
)

from app.jobs.manager import JobManager
from app.jobs.store import ACTIVE, JobRecord
from app.library.records import ModelRecord
from app.library.repository import Library, LibraryError
from app.qt.import_queue import ImportQueue, UploadItem
from app.qt.jobs_bridge import JobsBridge
from app.qt.tasks import run_in_background
from app.views.project_page import ProjectPage
from app.views.sidebar import Sidebar
from app.widgets.drop_filter import FileDropFilter


def _agent_info() -> dict:
    """Ask the agent what this machine offers (CUDA devices): a child process, since it imports torch."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "remote_agent", "info", "--json"], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout)


class DropOverlay(QLabel):
    """Shown over the window while files are dragged over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("dropOverlay")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def show_for(self, project: str) -> None:
        self.setText(f"Drop .pt files or folders to add them to “{project}”")
        self.setGeometry(self.parentWidget().rect().adjusted(12, 12, -12, -12))
        self.raise_()
        self.show()


class MainWindow(QMainWindow):
    """Wires the library and the upload queue to the views."""

    confirm_close = True  # ask what to do with running trainings (tests turn it off)

    def __init__(self, lib: Library, jobs: JobManager | None = None) -> None:
        super().__init__()
        self.lib = lib
        self.setWindowTitle("YOLO Desk")
        self.resize(1280, 820)
        self.queue = ImportQueue(lib, self)
        self.jobs = jobs or JobManager(lib)
        self.jobs_bridge = JobsBridge(self.jobs, self)
        self._devices: list[tuple[str, str]] | None = None
        self._dialog = None
        self.current_project_id = lib.default_project_id
        self.current_model_id: str | None = None
        self._model_page = None
        self._workers_page = None

        self.sidebar = Sidebar()
        self.project_page = ProjectPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.project_page)
        splitter = QSplitter()
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 1030])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self.overlay = DropOverlay(splitter)

        self.drops = FileDropFilter(self)
        for w in (self, self.project_page, self.sidebar, self.sidebar.models.viewport(),
                  self.project_page.table.viewport()):
            self.drops.install(w)
        self.drops.filesDropped.connect(self._on_drops_files_dropped)
        self.drops.dragActive.connect(self._on_drops_drag_active)

        self.sidebar.projectSelected.connect(self._on_sidebar_project_selected)
        self.sidebar.modelSelected.connect(self.open_model)
        self.sidebar.createProjectRequested.connect(self._on_sidebar_create_project)
        self.sidebar.renameProjectRequested.connect(self._on_sidebar_rename_project)
        self.sidebar.deleteProjectRequested.connect(self._on_sidebar_delete_project)
        self.sidebar.workersRequested.connect(self.show_workers_page)
        self.project_page.modelActivated.connect(self.open_model)
        self.project_page.addFilesRequested.connect(self.add_paths)
        self.project_page.uploads.clearRequested.connect(self._on_uploads_clear_requested)
        self.queue.itemAdded.connect(self._on_queue_item_added)
        self.queue.itemChanged.connect(self._on_queue_item_changed)
        self.queue.libraryChanged.connect(self.refresh)
        self.project_page.newModelRequested.connect(self.open_new_model_dialog)
        self.jobs_bridge.jobChanged.connect(self._on_jobs_job_changed)
        self._refresh_soon = QTimer(self)
        self._refresh_soon.setSingleShot(True)
        self._refresh_soon.setInterval(150)
        self._refresh_soon.timeout.connect(self.refresh)
        self._poll = QTimer(self)  # jobs run by other processes (a `yolodesk train` in a terminal)
        self._poll.setInterval(1500)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._poll.start()
        run_in_background(self.jobs.recover, on_success=lambda adopted: adopted and self.refresh())

        add_action = self.menuBar().addMenu("&File").addAction("Add models…")
        add_action.setShortcut(QKeySequence.StandardKey.Open)
        add_action.triggered.connect(self._on_add_action_triggered)
        self.statusBar().showMessage(f"Library: {lib.home}")
        self.refresh()

    # ------------------------------------------------------------------ public
    def add_paths(self, paths: list[str]) -> None:
        """Queue files and folders for import into the current project."""
        self.queue.add_paths(paths, self.current_project_id)

    def refresh(self) -> None:
        """Reload projects and models from the library (after any change)."""
        projects = self.lib.projects()
        if self.current_project_id not in {p.id for p in projects}:
            self.current_project_id = projects[0].id
        self.sidebar.set_projects(projects, self.current_project_id)
        project = next(p for p in projects if p.id == self.current_project_id)
        models = self.lib.models(project.id)
        self.sidebar.set_models(models, self.current_model_id)
        self.project_page.show_project(project, models)
        if self.current_model_id and self._model_page is not None:
            try:
                record = self.lib.model(self.current_model_id)
            except LibraryError:
                self.show_project_page()
                return
            self.model_page.show_record(record, self._latest_train_job(record.id))
            self.refresh_exports()

    @property
    def model_page(self):  # noqa: ANN201 (created on first use: keeps pyqtgraph out of start-up)
        if self._model_page is None:
            from app.views.model_page import ModelPage

            self._model_page = ModelPage()
            self._model_page.backRequested.connect(self.show_project_page)
            ov = self._model_page.overview
            ov.renameRequested.connect(self._on_overview_rename_requested)
            ov.downloadRequested.connect(self._on_overview_download_requested)
            ov.trashRequested.connect(self._on_overview_trash_requested)
            self._model_page.train.cancelRequested.connect(self._on_train_cancel_requested)
            from app.views.export_controller import ExportController

            self.exports = ExportController(self, self._model_page.export)
            self._model_page.train.retryRequested.connect(self._on_train_retry_requested)
            self._model_page.predict.backendsRequested.connect(self._on_predict_backends_requested)
            self._model_page.predict.trustRequested.connect(self._on_predict_trust_requested)
            self.drops.install(self._model_page)
            self.stack.addWidget(self._model_page)
        return self._model_page

    def open_model(self, model_id: str) -> None:
        try:
            record = self.lib.model(model_id)
        except LibraryError as e:
            self.statusBar().showMessage(str(e), 8000)
            return
        self.current_model_id = model_id
        self.model_page.show_record(record, self._latest_train_job(model_id))
        self.model_page.predict.show_model(record, self.lib.is_trusted(record.sha256))
        self.refresh_exports()
        self.model_page.tabs.setCurrentIndex(0)
        self.stack.setCurrentWidget(self.model_page)
        self.sidebar.set_models(self.lib.models(self.current_project_id), model_id)

    def open_new_model_dialog(self) -> None:
        """New Model: pick a base and a data set; the training starts as a job."""
        from app.views.new_model_dialog import NewModelDialog, devices_from_info

        dialog = NewModelDialog(self.lib.models(), self.lib.datasets(), self.lib.home / "weights", self._devices,
                                self.current_project_id, self)
        self._dialog = dialog
        dialog.demoDataRequested.connect(self._on_dialog_demo_data_requested)
        if self._devices is None:
            def got_info(info: dict) -> None:
                from app.jobs.workers import WorkerStore
                from app.views.new_model_dialog import worker_devices

                self._devices = devices_from_info(info) + worker_devices(WorkerStore(self.lib).list())
                if self._dialog is not None:
                    self._dialog.set_devices(self._devices)

            run_in_background(_agent_info, got_info, lambda e: dialog.set_devices([]))
        dialog.finished.connect(self._on_dialog_finished)
        dialog.open()

    def _on_dialog_finished(self, result: int) -> None:
        dialog, self._dialog = self._dialog, None
        if dialog is None or not result or dialog.request is None:
            return
        req = dialog.request
        self.statusBar().showMessage("Starting the training…")
        run_in_background(lambda: self.jobs.submit_train(req), self._on_job_submitted,
                          lambda e: QMessageBox.warning(self, "New Model", f"The training could not start: {e}"))

    def _on_job_submitted(self, job: JobRecord) -> None:
        self.statusBar().showMessage(f"Training job {job.id} {job.status.lower()}", 8000)
        self.refresh()
        if job.model_id:
            self.open_model(job.model_id)
            self.model_page.tabs.setCurrentWidget(self.model_page.train)

    def _on_dialog_demo_data_requested(self, task: str) -> None:
        from app.demo_data import write_dataset

        target = self.lib.home / "datasets" / f"demo-{task}"

        def done(path: Path) -> None:
            if self._dialog is not None:
                self._dialog.demo_ready(str(path))

        run_in_background(lambda: write_dataset(target, task, n_train=64, n_val=16, size=128), done,
                          lambda e: QMessageBox.warning(self, "Demo data", str(e)))

    def _latest_train_job(self, model_id: str) -> JobRecord | None:
        jobs = [j for j in self.jobs.store.list(model_id=model_id) if j.kind == "train"]
        return jobs[0] if jobs else None

    def refresh_exports(self) -> None:
        if self._model_page is not None:
            self.exports.refresh()

    def _on_jobs_job_changed(self, job: JobRecord) -> None:
        if job.kind == "export":
            if job.model_id == self.current_model_id:
                self.refresh_exports()
            return
        if self._model_page is not None and self.current_model_id and job.model_id == self.current_model_id:
            train = self.model_page.train
            if train.job is None or train.job.id != job.id:
                self._refresh_soon.start()  # a new job for this model (retry): show it
            else:
                train.update_job(job)
        if job.finished or job.status == "Queued":
            self._refresh_soon.start()

    def _on_poll_timeout(self) -> None:
        if self._model_page is not None and self.current_model_id and self.model_page.export.isVisible():
            if any(e.status in ACTIVE for e in self.model_page.export.exports.values()):
                self.refresh_exports()  # the elapsed time of running exports
        if self._model_page is not None and self.current_model_id:
            train = self.model_page.train
            if train.job is not None and train.job.status in ACTIVE:
                try:
                    job = self.jobs.store.get(train.job.id)
                except LibraryError:
                    return
                if job.status != train.job.status:
                    train.update_job(job)
                    self._refresh_soon.start()
        shown = {r.id: r.status for r in self.project_page.table_model.records()}
        if any(s in ("Queued", "Training") for s in shown.values()):
            now = {m.id: m.status for m in self.lib.models(self.current_project_id)}
            if now != shown:  # only a change is worth a refresh (it rebuilds the table and the open page)
                self._refresh_soon.start()

    def _on_train_cancel_requested(self, job_id: str) -> None:
        run_in_background(lambda: self.jobs.cancel(job_id), lambda job: self.model_page.train.update_job(job))

    def _on_train_retry_requested(self, job_id: str) -> None:
        run_in_background(lambda: self.jobs.retry(job_id), lambda _job: self.refresh(),
                          lambda e: QMessageBox.warning(self, "Retry", str(e)))

    def _on_predict_backends_requested(self) -> None:
        """Which runtimes can run the shown model here (imports torch to ask for CUDA: off the GUI thread)."""
        from app.exporters.store import ExportStore
        from app.predict.session import backend_choices
        from app.predict.sources import list_cameras

        tab = self.model_page.predict
        m = tab.model
        if m is None:
            return
        exports = ExportStore(self.lib).for_model(m.id)
        imgsz = m.imgsz if isinstance(m.imgsz, int) else None

        def done(result: tuple) -> None:
            choices, cameras = result
            if tab.model is not None and tab.model.id == m.id:
                tab.set_cameras(cameras)
                tab.set_backends(choices)

        run_in_background(lambda: (backend_choices(m.weights_path, exports, imgsz), list_cameras()), done,
                          tab._show_error)

    def _on_predict_trust_requested(self, sha256: str, name: str) -> None:
        if sha256:
            self.lib.trust_checkpoint(sha256, name)

    @property
    def workers_page(self):  # noqa: ANN201 (created on first use)
        if self._workers_page is None:
            from app.views.workers_page import WorkersPage

            self._workers_page = WorkersPage(self.lib)
            self._workers_page.workersChanged.connect(self._on_workers_changed)
            self.stack.addWidget(self._workers_page)
        return self._workers_page

    def show_workers_page(self) -> None:
        self.workers_page.refresh()
        self.stack.setCurrentWidget(self.workers_page)

    def _on_workers_changed(self) -> None:
        self._devices = None  # New Model lists the workers' GPUs afresh
        if self._model_page is not None:
            self.exports.refresh_targets()

    def show_project_page(self) -> None:
        self.current_model_id = None
        self.stack.setCurrentWidget(self.project_page)
        self.refresh()

    # ------------------------------------------------------------------ slots
    def _on_drops_files_dropped(self, paths: list[str]) -> None:
        self.add_paths(paths)

    def _on_drops_drag_active(self, active: bool) -> None:
        if active:
            project = next((p.name for p in self.lib.projects() if p.id == self.current_project_id), "")
            self.overlay.show_for(project)
        else:
            self.overlay.hide()

    def _on_add_action_triggered(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add models", "", "PyTorch checkpoints (*.pt);;All files (*)")
        if files:
            self.add_paths(files)

    def _on_queue_item_added(self, item: UploadItem) -> None:
        self.project_page.uploads.add_item(item)

    def _on_queue_item_changed(self, item: UploadItem) -> None:
        self.project_page.uploads.update_item(item)
        if item.state == "rejected":
            self.statusBar().showMessage(f"{Path(item.path).name}: {item.message}", 10000)

    def _on_uploads_clear_requested(self) -> None:
        self.queue.clear_finished()
        self.project_page.uploads.remove_finished(set(self.queue.items))

    def _on_sidebar_project_selected(self, project_id: int) -> None:
        self.current_project_id = project_id
        self.show_project_page()

    def _on_sidebar_create_project(self) -> None:
        name, ok = QInputDialog.getText(self, "New project", "Project name:")
        if ok and name.strip():
            try:
                p = self.lib.create_project(name)
            except LibraryError as e:
                QMessageBox.warning(self, "New project", str(e))
                return
            self.current_project_id = p.id
            self.show_project_page()

    def _on_sidebar_rename_project(self, project_id: int) -> None:
        old = next((p.name for p in self.lib.projects() if p.id == project_id), "")
        name, ok = QInputDialog.getText(self, "Rename project", "Project name:", text=old)
        if ok and name.strip() and name.strip() != old:
            try:
                self.lib.rename_project(project_id, name)
            except LibraryError as e:
                QMessageBox.warning(self, "Rename project", str(e))
            self.refresh()

    def _on_sidebar_delete_project(self, project_id: int) -> None:
        try:
            self.lib.delete_project(project_id)
        except LibraryError as e:
            QMessageBox.information(self, "Delete project", f"The project was not deleted: {e}.")
            return
        self.refresh()

    def _on_overview_rename_requested(self, model_id: str, name: str) -> None:
        try:
            self.lib.rename_model(model_id, name)
        except LibraryError as e:
            self.statusBar().showMessage(str(e), 8000)
        self.refresh()

    def _on_overview_trash_requested(self, model_id: str) -> None:
        m = self.lib.model(model_id)
        answer = QMessageBox.question(
            self, "Move to trash", f"Move “{m.name}” to the trash? It is kept for 30 days and can be restored "
            f"with `yolodesk restore {m.id}`.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.lib.trash_model(model_id)
            self.statusBar().showMessage(f"Moved “{m.name}” to the trash", 8000)
            self.show_project_page()

    def _on_overview_download_requested(self, model_id: str) -> None:
        m = self.lib.model(model_id)
        dest, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", m.original_filename or f"{m.name}.pt",
                                              "PyTorch checkpoint (*.pt)")
        if dest:
            self.save_model_file(m, dest)

    def save_model_file(self, m: ModelRecord, dest: str) -> None:
        """Copy a model's weights to ``dest`` off the GUI thread; report in the status bar."""
        from app.library.storage import atomic_copy

        self.statusBar().showMessage(f"Saving “{m.name}” to {dest}…")
        run_in_background(
            lambda: atomic_copy(m.weights_path, Path(dest)),
            on_success=lambda _r: self.statusBar().showMessage(f"Saved “{m.name}” to {dest}", 8000),
            on_failure=lambda e: QMessageBox.warning(self, "Download", f"Could not save {dest}: {e}"),
        )

    # ------------------------------------------------------------------ Qt events
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            QTimer.singleShot(0, self.refresh)  # pick up changes made by the CLI meanwhile
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        running = [j for j in self.jobs.store.list(ACTIVE) if j.owner_pid == self.jobs.pid]
        if running and self.confirm_close:
            box = QMessageBox(self)
            box.setWindowTitle("Training in progress")
            box.setText(f"{len(running)} training job(s) are running or queued. They keep running without the "
                        "window; YOLO Desk picks them up again when it starts.")
            keep = box.addButton("Keep training and close", QMessageBox.ButtonRole.AcceptRole)
            stop = box.addButton("Cancel the training and close", QMessageBox.ButtonRole.DestructiveRole)
            box.addButton("Don't close", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() not in (keep, stop):
                event.ignore()
                return
            if box.clickedButton() is stop:
                for j in running:
                    self.jobs.cancel(j.id)
        if self._model_page is not None:
            self.model_page.train.stop_stream()
            self.model_page.predict.shutdown()  # stops the camera and the model's thread
        self.jobs_bridge.detach()
        self.jobs.shutdown()
        self.queue.shutdown()  # drops queued files; running copies are atomic and end in a moment
        super().closeEvent(event)
