"""What the model page asks of the library and the job manager: rename, trash (and Undo), visibility, download;
cancel or retry a training."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from app.jobs.manager import JobManager
from app.library.records import ModelRecord
from app.library.repository import Library
from app.library.trash import Restored
from app.qt.library_ops import LibraryOps
from app.qt.tasks import run_in_background
from app.views.clone_actions import CloneActions
from app.views.trash.undo_notice import UndoNotice

if TYPE_CHECKING:
    from app.views.model_page import ModelPage
    from app.views.train_tab import TrainTab


class ModelActions(QObject):
    """Carries out the Overview's and the Train tab's requests on the library thread; reports in the window."""

    def __init__(self, window: QMainWindow, lib: Library, ops: LibraryOps, jobs: JobManager,
                 shown_model: Callable[[], ModelRecord | None], refresh: Callable[[], None],
                 leave_model: Callable[[], None]) -> None:
        super().__init__(window)
        self.window = window
        self.lib = lib
        self.ops = ops
        self.jobs = jobs
        self._shown_model = shown_model  # the record the model page shows now
        self._refresh = refresh
        self._leave_model = leave_model  # back to the project page
        self.page: ModelPage | None = None
        self.clones = CloneActions(window)  # type: ignore[arg-type]  (clone / move: button, menu, drag and drop)
        self.undo = UndoNotice(window)  # "Moved “X” to the trash — Undo" in the status bar
        self.undo.undoRequested.connect(self._on_undo_requested)

    def connect_page(self, page: ModelPage) -> None:
        """Listen to the model page's Overview and Train tabs (the page is made on first use)."""
        self.page = page
        page.overview.renameRequested.connect(self._on_overview_rename_requested)
        page.overview.downloadRequested.connect(self._on_overview_download_requested)
        page.overview.trashRequested.connect(self._on_overview_trash_requested)
        self.clones.connect_page(page)
        page.visibility.visibilityRequested.connect(self._on_visibility_requested)
        page.when_made("train", self._listen_to_train)  # the Train tab is made when first shown

    def _listen_to_train(self, train: TrainTab) -> None:
        train.cancelRequested.connect(self._on_train_cancel_requested)
        train.retryRequested.connect(self._on_train_retry_requested)
        train.trustRetryRequested.connect(self._on_train_trust_retry_requested)

    def save_model_file(self, m: ModelRecord, dest: str) -> None:
        """Copy a model's weights to ``dest`` off the GUI thread; report in the status bar."""
        from app.library.storage import atomic_copy

        status = self.window.statusBar()
        status.showMessage(f"Saving “{m.name}” to {dest}…")
        run_in_background(
            lambda: atomic_copy(m.weights_path, Path(dest)),
            on_success=lambda _r: status.showMessage(f"Saved “{m.name}” to {dest}", 8000),
            on_failure=lambda e: QMessageBox.warning(self.window, "Download", f"Could not save {dest}: {e}"),
        )

    # ------------------------------------------------------------------ slots
    def _on_overview_rename_requested(self, model_id: str, name: str) -> None:
        def failed(e: Exception) -> None:
            self.window.statusBar().showMessage(str(e), 8000)
            self._refresh()  # the name field shows the stored name again

        self.ops.submit(lambda: self.lib.rename_model(model_id, name), None, failed)

    def _on_overview_trash_requested(self, model_id: str) -> None:
        m = self._shown_model()
        if m is not None and m.id == model_id:
            self.trash(m)

    def trash(self, m: ModelRecord) -> None:
        """Ask, then move ``m`` to the trash on the library thread; back to the project if it was shown."""
        model_id = m.id
        answer = QMessageBox.question(
            self.window, "Move to trash", f"Move “{m.name}” to the trash? It is kept for 30 days: restore it from the "
            "Trash page in the sidebar (or Undo, right after).",
        )
        if answer == QMessageBox.StandardButton.Yes:
            def trashed(_r: None) -> None:
                self.undo.offer(model_id, m.name)
                shown = self._shown_model()
                if shown is not None and shown.id == model_id:
                    self._leave_model()

            self.ops.submit(lambda: self.lib.trash_model(model_id), trashed, what="Moving to the trash")

    def _on_undo_requested(self, model_id: str) -> None:
        def restored(back: Restored) -> None:
            note = f" ({back.note})" if back.note else ""
            self.window.statusBar().showMessage(f"Restored “{back.model.name}” to {back.model.project}{note}", 8000)
            self._refresh()

        self.ops.submit(lambda: self.lib.restore(model_id), restored,
                        lambda e: self.window.statusBar().showMessage(f"Not restored: {e}", 8000), "Undo")

    def _on_visibility_requested(self, model_id: str, visibility: str) -> None:
        def done(_r: None) -> None:
            self.window.statusBar().showMessage(f"The model is {visibility} now", 5000)
            self._refresh()

        self.ops.submit(lambda: self.lib.set_visibility(model_id, visibility), done,
                        lambda e: self.window.statusBar().showMessage(str(e), 8000), "Changing the visibility")

    def _on_overview_download_requested(self, model_id: str) -> None:
        m = self._shown_model()
        if m is None or m.id != model_id:
            return
        dest, _ = QFileDialog.getSaveFileName(self.window, "Save checkpoint", m.original_filename or f"{m.name}.pt",
                                              "PyTorch checkpoint (*.pt)")
        if dest:
            self.save_model_file(m, dest)

    def _on_train_cancel_requested(self, job_id: str) -> None:
        if self.page is None:
            return
        train = self.page.train
        self.ops.submit(lambda: self.jobs.cancel(job_id), lambda job: train.update_job(job), what="Cancel")

    def _on_train_retry_requested(self, job_id: str) -> None:
        self.ops.submit(lambda: self.jobs.retry(job_id), lambda _job: self._refresh(),
                        lambda e: QMessageBox.warning(self.window, "Retry", str(e)))

    def _on_train_trust_retry_requested(self, job_id: str) -> None:
        self.ops.submit(lambda: self.jobs.trust_and_retry(job_id), lambda _job: self._refresh(),
                        lambda e: QMessageBox.warning(self.window, "Retry", str(e)))
