"""The main window: sidebar (projects, models) and a stack of the project page and the model page."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QStackedWidget, QWidget,
)

from app.library.records import ModelRecord
from app.library.repository import Library, LibraryError
from app.qt.import_queue import ImportQueue, UploadItem
from app.qt.tasks import run_in_background
from app.views.project_page import ProjectPage
from app.views.sidebar import Sidebar
from app.widgets.drop_filter import FileDropFilter


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

    def __init__(self, lib: Library) -> None:
        super().__init__()
        self.lib = lib
        self.setWindowTitle("YOLO Desk")
        self.resize(1280, 820)
        self.queue = ImportQueue(lib, self)
        self.current_project_id = lib.default_project_id
        self.current_model_id: str | None = None
        self._model_page = None

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
        self.project_page.modelActivated.connect(self.open_model)
        self.project_page.addFilesRequested.connect(self.add_paths)
        self.project_page.uploads.clearRequested.connect(self._on_uploads_clear_requested)
        self.queue.itemAdded.connect(self._on_queue_item_added)
        self.queue.itemChanged.connect(self._on_queue_item_changed)
        self.queue.libraryChanged.connect(self.refresh)

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
                self.model_page.show_record(self.lib.model(self.current_model_id))
            except LibraryError:
                self.show_project_page()

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
        self.model_page.show_record(record)
        self.model_page.tabs.setCurrentIndex(0)
        self.stack.setCurrentWidget(self.model_page)
        self.sidebar.set_models(self.lib.models(self.current_project_id), model_id)

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
        self.queue.shutdown()  # drops queued files; running copies are atomic and end in a moment
        super().closeEvent(event)
