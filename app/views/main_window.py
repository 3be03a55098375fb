"""The main window: sidebar (projects, models) and a stack of the project page and the model page.

The window never touches SQLite: every read and write goes through :class:`LibraryOps` (one
library thread); views are drawn from the frozen records it hands back, and redrawn when its
``changed`` signal says what changed — by this window, the job manager, or another process.
"""

from __future__ import annotations


from PySide6.QtCore import QTimer
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMessageBox, QSplitter, QStackedWidget

from app.jobs.manager import JobManager
from app.jobs.store import ACTIVE, JobRecord
from app.library.records import DatasetRecord, ModelRecord, ProjectRecord
from app.library.repository import Library, LibraryError
from app.qt.import_queue import ImportQueue
from app.qt.jobs_bridge import JobsBridge
from app.qt.jobs_rows import load_job_rows
from app.qt.library_changes import Changes
from app.qt.library_ops import LibraryOps, Reloader
from app.qt.tasks import background_errors
from app.qt.view_data import ModelView, ProjectView, load_model_view, load_project_view
from app.views.busy_cue import BusyCue
from app.views.import_flow import ImportFlow
from app.views.jobs_panel import JobsPanel
from app.views.model_actions import ModelActions
from app.views.new_model_flow import NewModelFlow
from app.views.pages import PAGES, SidePages
from app.views.project_page import ProjectPage
from app.views.sidebar import Sidebar
from app.views.trash.project_delete import delete_project_asking
from app.views.warm_imports import warm_up_later
from app.views.window_shortcuts import WindowShortcuts
from app.widgets.drop_overlay import DropOverlay


def _model_view_or_none(lib: Library, model_id: str) -> ModelView | None:
    try:
        return load_model_view(lib, model_id)
    except LibraryError:
        return None  # deleted meanwhile (by the CLI, `check --repair`): the window goes back to the project


class MainWindow(QMainWindow):
    """Wires the library (through its executor) and the upload queue to the views."""

    confirm_close = True  # ask what to do with running trainings (tests turn it off)

    def __init__(self, lib: Library, jobs: JobManager | None = None) -> None:
        super().__init__()
        self.lib = lib
        self.setWindowTitle("YOLO Desk")
        self.resize(1280, 820)
        self.ops = LibraryOps(lib, self)
        self.queue = ImportQueue(lib, self)
        self.jobs = jobs or JobManager(lib)
        self.jobs_bridge = JobsBridge(self.jobs, self)
        self._devices: list[tuple[str, str]] | None = None
        self.current_project_id = lib.default_project_id
        self.current_model_id: str | None = None
        self.projects: list[ProjectRecord] = []  # as last read, with the shown project's models
        self.project_models: list[ModelRecord] = []
        self.all_models: list[ModelRecord] = []
        self.datasets: list[DatasetRecord] = []
        self.shown_model: ModelRecord | None = None
        self._model_page = None
        self._closing = False
        self._closed = False
        self._ticks = 0

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
        self.overlay = DropOverlay(self)  # over the window, not in the splitter (which would make it a third pane)

        self.imports = ImportFlow(self, self.queue, self.project_page.uploads, self.overlay, self._current_project)
        for w in (self, self.project_page, self.sidebar, self.sidebar.models.viewport(),
                  self.project_page.table.viewport()):
            self.imports.watch(w)
        self.model_actions = ModelActions(self, lib, self.ops, self.jobs, lambda: self.shown_model, self.refresh,
                                          self.show_project_page)

        self.sidebar.projectSelected.connect(self._on_sidebar_project_selected)
        self.sidebar.modelSelected.connect(self.open_model)
        self.sidebar.createProjectRequested.connect(self._on_sidebar_create_project)
        self.sidebar.renameProjectRequested.connect(self._on_sidebar_rename_project)
        self.sidebar.deleteProjectRequested.connect(self._on_sidebar_delete_project)
        self.pages = SidePages(self)  # Workers, Trash, Datasets…: app/views/pages.py
        for spec in PAGES:
            self.sidebar.add_link(spec.key, spec.link, spec.tooltip)
        self.sidebar.pageRequested.connect(self.show_page)
        self.sidebar.jobsRequested.connect(self.show_jobs_panel)
        self.jobs_panel = JobsPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.jobs_panel)
        self.jobs_panel.hide()  # on demand (sidebar, View menu, Ctrl+J): the pages keep the height
        self.jobs_panel.visibilityChanged.connect(lambda shown: shown and self._jobs_view.request())
        self.jobs_panel.cancelRequested.connect(self._on_jobs_panel_cancel_requested)
        self.jobs_panel.consoleRequested.connect(self.open_model)
        self.project_page.modelActivated.connect(self.open_model)
        self.project_page.addFilesRequested.connect(self.add_paths)
        self.new_model = NewModelFlow(self)
        self.project_page.newModelRequested.connect(self.open_new_model_dialog)
        self.jobs_bridge.jobChanged.connect(self._on_jobs_job_changed)
        self.ops.changed.connect(self._on_ops_changed)
        background_errors().reported.connect(self._on_background_error)
        self._project_view = Reloader(self.ops, self._project_load, self._show_project_view, "Reading the library")
        self._model_view = Reloader(self.ops, self._model_load, self._show_model_view, "Reading the model")
        self._jobs_view = Reloader(self.ops, lambda: lambda: load_job_rows(lib), self.jobs_panel.show_rows,
                                   "Reading the jobs")
        self._redraw = QTimer(self)  # running exports' elapsed time: drawn again, nothing read
        self._redraw.setInterval(1000)
        self._redraw.timeout.connect(self._on_redraw_timeout)
        self._redraw.start()
        self.ops.submit(self.jobs.recover, lambda adopted: adopted and self.refresh(), what="Re-attaching jobs")

        self.shortcuts = WindowShortcuts(self)
        self.busy = BusyCue(self.statusBar())
        self.statusBar().showMessage(f"Library: {lib.home}")
        self.refresh()
        warm_up_later(self)  # the model page's pyqtgraph and superqt, imported on a thread (its first open: no wait)

    # ------------------------------------------------------------------ public
    def add_paths(self, paths: list[str]) -> None:
        """Queue files and folders for import into the current project."""
        self.imports.add_paths(paths)

    def refresh(self) -> None:
        """Read projects, models and the open model again (on the library thread) and redraw."""
        self._project_view.request()
        if self.current_model_id and self._model_page is not None:
            self._model_view.request()

    def open_model(self, model_id: str, tab: str | None = None) -> None:
        """Read a model on the library thread, then show its page (on ``tab``, else the Overview)."""
        lib = self.lib
        self.busy.start("Opening the model")

        def failed(e: Exception) -> None:
            self.busy.stop("Opening the model")
            self.statusBar().showMessage(str(e), 8000)

        self.ops.submit(lambda: load_model_view(lib, model_id), lambda view: self._on_model_opened(view, tab), failed,
                        "Opening the model")

    def open_new_model_dialog(self) -> None:
        """New Model: pick a base and a data set; the training starts as a job."""
        self.new_model.open()

    @property
    def _dialog(self):  # noqa: ANN202 (the open New Model dialog, as tests and screenshot scripts reach it)
        return self.new_model.dialog

    def show_project_page(self) -> None:
        self.current_model_id = None
        self.stack.setCurrentWidget(self.project_page)
        self.refresh()

    def show_jobs_panel(self) -> None:
        """Show the Jobs panel (its rows are read on the library thread as it appears)."""
        self.jobs_panel.show()
        self.jobs_panel.raise_()
        self._jobs_view.request()

    def refresh_all(self) -> None:
        """F5: read the project, the open model and the jobs again."""
        self.refresh()
        if self.jobs_panel.isVisible():
            self._jobs_view.request()

    def go_back(self) -> None:
        """Alt+Left: from a model or the workers back to the project."""
        if self.stack.currentWidget() is not self.project_page:
            self.show_project_page()

    def focus_filter(self) -> None:
        """Ctrl+F: the project page's filter, text selected to type over."""
        self.go_back()
        self.project_page.search.setFocus(Qt.FocusReason.ShortcutFocusReason)  # this reason selects the text

    def step_tab(self, step: int) -> None:
        """Ctrl+Tab / Ctrl+Shift+Tab: the model page's next / previous enabled tab, wrapping."""
        if self._model_page is None or self.stack.currentWidget() is not self._model_page:
            return
        tabs = self._model_page.tabs
        i = tabs.currentIndex()
        for _ in range(tabs.count()):
            i = (i + step) % tabs.count()
            if tabs.isTabEnabled(i):
                tabs.setCurrentIndex(i)
                return

    def trash_selected_model(self) -> None:
        """Delete: the shown model, or the project table's selected one, to the trash (after asking)."""
        if self._model_page is not None and self.stack.currentWidget() is self._model_page:
            model = self.shown_model
        elif self.stack.currentWidget() is self.project_page:
            model = self.project_page.selected_model()
        else:
            model = None
        if model is not None:
            self.model_actions.trash(model)

    def show_page(self, key: str):  # noqa: ANN201 (the page's own type)
        """Show a side page (see app/views/pages.py), made on first use."""
        self.current_model_id = None
        return self.pages.show(key)

    def show_workers_page(self) -> None:
        self.show_page("workers")

    def refresh_exports(self) -> None:
        if self._model_page is not None:
            self.exports.refresh()

    @property
    def model_page(self):  # noqa: ANN201 (created on first use: keeps pyqtgraph out of start-up)
        if self._model_page is None:
            self.busy.start_now("Preparing the model page")  # ~1 s the first time (pyqtgraph, the tabs)
            from app.views.model_page import ModelPage

            self._model_page = ModelPage()
            self._model_page.backRequested.connect(self.show_project_page)
            self.model_actions.connect_page(self._model_page)
            from app.views.export_controller import ExportController
            from app.views.predict.backend_finder import BackendFinder

            self.exports = ExportController(self._model_page.export, self.lib, self.ops, self.jobs, self,
                                            lambda: self.current_model_id, self.statusBar().showMessage)
            self.backends = BackendFinder(self._model_page.predict, self.lib, self.ops, self)
            self._model_page.attach(self.lib, self.ops, self.jobs)  # Deploy's, Validation's work: the library thread
            self._model_page.predict.busyChanged.connect(self._on_predict_busy_changed)
            self.imports.watch(self._model_page)
            self.stack.addWidget(self._model_page)
            self.busy.stop("Preparing the model page")
        return self._model_page

    def _on_predict_busy_changed(self, what: str, going: bool) -> None:
        (self.busy.start if going else self.busy.stop)(what)

    @property
    def workers_page(self):  # noqa: ANN201 (created on first use)
        return self.pages.get("workers")

    def save_model_file(self, m: ModelRecord, dest: str) -> None:
        """Copy a model's weights to ``dest`` off the GUI thread; report in the status bar."""
        self.model_actions.save_model_file(m, dest)

    def _current_project(self) -> tuple[int, str]:
        """The shown project's id and name (where dropped files land)."""
        return self.current_project_id, next((p.name for p in self.projects if p.id == self.current_project_id), "")

    # ------------------------------------------------------------------ reads and what they draw
    def _project_load(self):  # noqa: ANN202 (a loader for the library thread)
        lib, pid = self.lib, self.current_project_id
        return lambda: (load_project_view(lib, pid), lib.models(), lib.datasets())

    def _show_project_view(self, loaded: tuple[ProjectView, list[ModelRecord], list[DatasetRecord]]) -> None:
        view, self.all_models, self.datasets = loaded
        if view.project.id != self.current_project_id and any(p.id == self.current_project_id for p in view.projects):
            return  # read for a project no longer shown; the newer read follows
        self.projects, self.project_models = view.projects, view.models
        self.current_project_id = view.project.id
        self.sidebar.set_projects(view.projects, view.project.id)
        self.sidebar.set_models(view.models, self.current_model_id)
        self.project_page.show_project(view.project, view.models)

    def _model_load(self):  # noqa: ANN202 (a loader for the library thread)
        lib, model_id = self.lib, self.current_model_id or ""
        return lambda: _model_view_or_none(lib, model_id)

    def _show_model_view(self, view: ModelView | None) -> None:
        if self._model_page is None or self.current_model_id is None:
            return
        if view is None:
            self.show_project_page()
        elif view.record.id == self.current_model_id:
            self.shown_model = view.record
            self.model_page.show_record(view.record, view.train_job)
            self.exports.show(view.exports)

    def _on_model_opened(self, view: ModelView, tab: str | None) -> None:
        try:
            self._show_opened_model(view, tab)
        finally:
            self.busy.stop("Opening the model")

    def _show_opened_model(self, view: ModelView, tab: str | None) -> None:
        self.current_model_id = view.record.id
        page = self.model_page
        self._show_model_view(view)
        page.predict.show_model(view.record, view.trusted)
        page.tabs.setCurrentWidget(getattr(page, tab) if tab else page.overview)
        page.tabs.scroll_to_top()  # a model opened starts at the top, not at the previous one's scroll
        self.stack.setCurrentWidget(page)
        self.sidebar.set_models(self.project_models, view.record.id)

    def _on_ops_changed(self, changes: Changes) -> None:
        if changes.jobs and self.jobs_panel.isVisible():
            self._jobs_view.request()
        if changes.models or changes.projects:
            self._project_view.request()
        if self._model_page is not None and changes.touches_model(self.current_model_id):
            self._model_view.request()
        if changes.workers:
            self._on_workers_changed()
            if (workers := self.pages.made("workers")) is not None:
                workers.refresh()
        self.pages.on_changes(changes)

    def _on_background_error(self, message: str) -> None:
        self.statusBar().showMessage(f"⚠ {message}", 15000)

    def _on_jobs_job_changed(self, job: JobRecord) -> None:
        # The shown training follows its job live; every other redraw comes from ``ops.changed``.
        if self._model_page is not None and job.model_id == self.current_model_id:
            train = self._model_page.made("train")  # a Train tab not made yet shows the job when it is
            if train is not None and train.job is not None and train.job.id == job.id:
                train.update_job(job)

    def _on_jobs_panel_cancel_requested(self, job_id: str) -> None:
        self.ops.submit(lambda: self.jobs.cancel(job_id), lambda _job: self._jobs_view.request(), what="Cancel")

    def _on_redraw_timeout(self) -> None:
        self._ticks += 1
        if self.jobs_panel.isVisible():
            self.jobs_panel.redraw_elapsed()
            if self._ticks % 3 == 0 and self.jobs_panel.any_active():
                self._jobs_view.request()  # epochs are in the events file, not the database: read them now and then
        if self._model_page is not None and self.current_model_id and self.model_page.export.isVisible():
            if any(e.status in ACTIVE for e in self.model_page.export.exports.values()):
                self.exports.redraw()

    # ------------------------------------------------------------------ slots
    def _on_workers_changed(self) -> None:
        self._devices = None  # New Model lists the workers' GPUs afresh
        if self._model_page is not None:
            self.exports.refresh_targets()

    def _on_sidebar_project_selected(self, project_id: int) -> None:
        self.current_project_id = project_id
        self.show_project_page()

    def _on_sidebar_create_project(self) -> None:
        name, ok = QInputDialog.getText(self, "New project", "Project name:")
        if ok and name.strip():
            self.ops.submit(lambda: self.lib.create_project(name), self._on_project_created,
                            lambda e: QMessageBox.warning(self, "New project", str(e)))

    def _on_project_created(self, p: ProjectRecord) -> None:
        self.current_project_id = p.id
        self.show_project_page()

    def _on_sidebar_rename_project(self, project_id: int) -> None:
        old = next((p.name for p in self.projects if p.id == project_id), "")
        name, ok = QInputDialog.getText(self, "Rename project", "Project name:", text=old)
        if ok and name.strip() and name.strip() != old:
            self.ops.submit(lambda: self.lib.rename_project(project_id, name), None,
                            lambda e: QMessageBox.warning(self, "Rename project", str(e)))

    def _on_sidebar_delete_project(self, project_id: int) -> None:
        delete_project_asking(self, project_id)  # its trashed models go too, after asking (app/views/trash)

    # ------------------------------------------------------------------ Qt events
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self._closed:
            super().closeEvent(event)
            return
        if self.confirm_close and not self._closing:
            event.ignore()  # which trainings run is read on the library thread; the answer closes or not
            store, pid = self.jobs.store, self.jobs.pid
            self.ops.submit(lambda: [j for j in store.list(ACTIVE) if j.owner_pid == pid], self._on_close_jobs_read,
                            what="Closing")
            return
        self._closed = True
        if self._model_page is not None:
            self._model_page.shutdown()  # Train's stream, the camera and the model's thread
        background_errors().reported.disconnect(self._on_background_error)
        self._redraw.stop()
        self.jobs_bridge.detach()
        self.jobs.shutdown()
        self.queue.shutdown()  # drops queued files; running copies are atomic and end in a moment
        self.ops.stop()
        super().closeEvent(event)

    def _on_close_jobs_read(self, running: list[JobRecord]) -> None:
        if running:
            box = QMessageBox(self)
            box.setWindowTitle("Training in progress")
            box.setText(f"{len(running)} training job(s) are running or queued. They keep running without the "
                        "window; YOLO Desk picks them up again when it starts.")
            keep = box.addButton("Keep training and close", QMessageBox.ButtonRole.AcceptRole)
            stop = box.addButton("Cancel the training and close", QMessageBox.ButtonRole.DestructiveRole)
            box.addButton("Don't close", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() not in (keep, stop):
                return
            if box.clickedButton() is stop:
                ids = [j.id for j in running]
                self.ops.submit(lambda: [self.jobs.cancel(i) for i in ids], lambda _r: self._close_now(),
                                what="Cancelling the trainings")
                return
        self._close_now()

    def _close_now(self) -> None:
        self._closing = True
        self.close()
