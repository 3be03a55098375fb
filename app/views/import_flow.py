"""Files into the library from the window: drops anywhere on it, File ▸ Add models…, the upload list's progress."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMainWindow, QWidget

from app.qt.import_queue import ImportQueue, UploadItem
from app.widgets.drop_filter import FileDropFilter
from app.widgets.drop_overlay import DropOverlay
from app.widgets.upload_list import UploadList


class ImportFlow(QObject):
    """Queues dropped or picked files for the current project and shows each file's progress in the upload list."""

    def __init__(self, window: QMainWindow, queue: ImportQueue, uploads: UploadList, overlay: DropOverlay,
                 current_project: Callable[[], tuple[int, str]]) -> None:
        super().__init__(window)
        self.window = window
        self.queue = queue
        self.uploads = uploads
        self.overlay = overlay
        self._current_project = current_project  # (id, name) of the project shown now
        self.drops = FileDropFilter(window)
        self.drops.filesDropped.connect(self._on_drops_files_dropped)
        self.drops.dragActive.connect(self._on_drops_drag_active)
        uploads.clearRequested.connect(self._on_uploads_clear_requested)
        queue.itemAdded.connect(self._on_queue_item_added)
        queue.itemChanged.connect(self._on_queue_item_changed)

    def watch(self, widget: QWidget) -> None:
        """Accept files dropped on ``widget``."""
        self.drops.install(widget)

    def add_paths(self, paths: list[str]) -> None:
        """Queue files and folders for import into the current project."""
        self.queue.add_paths(paths, self._current_project()[0])

    def choose_files(self) -> None:
        """File ▸ Add models…: pick checkpoints in a dialog and queue them."""
        files, _ = QFileDialog.getOpenFileNames(self.window, "Add models", "",
                                                "PyTorch checkpoints (*.pt);;All files (*)")
        if files:
            self.add_paths(files)

    # ------------------------------------------------------------------ slots
    def _on_drops_files_dropped(self, paths: list[str]) -> None:
        self.add_paths(paths)

    def _on_drops_drag_active(self, active: bool) -> None:
        if active:
            self.overlay.show_for(self._current_project()[1])
        else:
            self.overlay.hide()

    def _on_queue_item_added(self, item: UploadItem) -> None:
        self.uploads.add_item(item)

    def _on_queue_item_changed(self, item: UploadItem) -> None:
        self.uploads.update_item(item)
        if item.state == "rejected":
            self.window.statusBar().showMessage(f"{Path(item.path).name}: {item.message}", 10000)

    def _on_uploads_clear_requested(self) -> None:
        self.queue.clear_finished()
        self.uploads.remove_finished(set(self.queue.items))
