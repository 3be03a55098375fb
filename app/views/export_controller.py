"""The Export tab's actions: queue exports (one, or all that are ready), cancel, download, delete."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.exporters.registry import FORMATS
from app.exporters.availability import availability
from app.exporters.store import ExportStore
from app.exporters.toolchains import TOOLCHAINS, Toolchains
from app.jobs.placement import ANY_GPU, ANY_GPU_LABEL, CLUSTER_KINDS
from app.library.repository import LibraryError
from app.library.storage import atomic_copy
from app.qt.tasks import run_in_background
from app.qt.view_data import ExportView, load_export_view
from app.views.export_tab import ExportTab, suggested_export_name

if TYPE_CHECKING:
    from app.jobs.manager import JobManager
    from app.library.repository import Library
    from app.qt.library_ops import LibraryOps


class ExportController(QObject):
    """Connects an :class:`ExportTab` to the job manager and the export store of a library.

    It is given what it uses: the library, the ops that run every read and write off the GUI
    thread, the job manager, the widget its dialogs belong to, the id of the model shown
    (asked each time: the window changes it) and where a one-line status goes.
    """

    installLine = Signal(str)  # pip's output, from the installing thread

    def __init__(self, tab: ExportTab, lib: Library, ops: LibraryOps, jobs: JobManager, parent: QWidget,
                 shown_model_id: Callable[[], str | None], say: Callable[[str, int], None]) -> None:
        super().__init__(parent)
        self.tab = tab
        self.lib = lib
        self.ops = ops
        self.jobs = jobs
        self.parent_widget = parent
        self.shown_model_id = shown_model_id
        self.say = say
        self.store = ExportStore(lib)
        self.shown: ExportView | None = None
        self.availability = {f.argument: availability(f, home=lib.home) for f in FORMATS}
        tab.exportRequested.connect(self._on_tab_export_requested)
        tab.exportAllRequested.connect(self._on_tab_export_all_requested)
        tab.deleteAllRequested.connect(self._on_tab_delete_all_requested)
        tab.deleteRequested.connect(self._on_tab_delete_requested)
        tab.downloadRequested.connect(self._on_tab_download_requested)
        tab.cancelRequested.connect(self._on_tab_cancel_requested)
        tab.installToolchainRequested.connect(self._on_tab_install_toolchain_requested)
        tab.removeToolchainRequested.connect(self._on_tab_remove_toolchain_requested)
        tab.trustRetryRequested.connect(self._on_tab_trust_retry_requested)
        self.installLine.connect(tab.show_install_progress)
        self.refresh_targets()

    def refresh_targets(self) -> None:
        """Offer each tested worker (its GPUs, then its CPU) under "Run on"."""
        lib = self.lib
        self.ops.submit(lambda: export_targets(lib), self.tab.set_targets, what="Listing the workers")

    def refresh(self) -> None:
        """Read the shown model's exports on the library thread, then show them."""
        model_id = self.shown_model_id()
        if not model_id:
            return
        lib = self.lib
        self.ops.submit(lambda: load_export_view(lib, lib.model(model_id)), self.show,
                        lambda _e: None)  # the model is gone: the window leaves its page on its own

    def show(self, view: ExportView) -> None:
        """Show exports read on the library thread (the window's model view carries them too)."""
        if view.record.id != self.shown_model_id():
            return  # an answer for a model no longer shown
        self.shown = view
        self.tab.where = view.where
        self.tab.show_model(view.record, view.exports, self.availability)

    def redraw(self) -> None:
        """Draw the shown exports again (their elapsed time runs on) without reading the library."""
        if self.shown is not None:
            self.show(self.shown)

    def _on_tab_export_requested(self, fmt: str, args: dict, worker: str) -> None:
        model_id = self.shown_model_id()
        if not model_id:
            return
        self.ops.submit(lambda: self.jobs.submit_export(model_id, fmt, args, worker=worker),
                        lambda _j: self.refresh(),
                          lambda e: QMessageBox.warning(self.parent_widget, "Export", str(e)))

    def _on_tab_export_all_requested(self) -> None:
        model_id = self.shown_model_id() or ""
        ready = [f.argument for f in FORMATS if f.cpu and self.tab.availability.get(f.argument, ("", ""))[0] == "ready"]

        def queue_all() -> list[str]:
            problems = []
            for fmt in ready:
                try:
                    self.jobs.submit_export(model_id, fmt, {})
                except (LibraryError, KeyError) as e:
                    problems.append(f"{fmt}: {e}")
            return problems

        def done(problems: list[str]) -> None:
            self.refresh()
            if problems:
                self.say("Not queued — " + "; ".join(problems), 12000)

        self.ops.submit(queue_all, done, what="Export All")

    def _on_tab_delete_all_requested(self) -> None:
        active = ("Queued", "Starting", "Running")
        doomed = [e for e in self.tab.exports.values() if e.status not in active]  # as shown: no read here
        if not doomed:
            return
        answer = QMessageBox.question(self.parent_widget, "Delete All", f"Delete all {len(doomed)} exports of this model? "
                                      "The exported files are removed from the library.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        ids = [e.id for e in doomed]
        self.ops.submit(lambda: [self.store.delete(i) for i in ids], lambda _r: self.refresh(),  # removes folders
                        lambda e: (self.say(str(e), 8000), self.refresh()))

    def _on_tab_delete_requested(self, export_id: str) -> None:
        self.ops.submit(lambda: self.store.delete(export_id), lambda _r: self.refresh(),  # removes a folder
                        lambda e: (self.say(str(e), 8000), self.refresh()))

    def _on_tab_install_toolchain_requested(self, name: str) -> None:
        tcs = Toolchains(self.lib.home)

        def failed(e: Exception) -> None:
            self.tab.install_finished()
            self.refresh()
            QMessageBox.warning(self.parent_widget, "Toolchain", f"The {name} toolchain could not be installed:\n{e}")

        run_in_background(lambda: tcs.install(name, log=self.installLine.emit),
                          lambda _m: self._toolchain_changed(f"The {name} toolchain is installed"), failed)

    def _toolchain_changed(self, message: str) -> None:
        self.availability = {f.argument: availability(f, home=self.lib.home) for f in FORMATS}
        self.tab.install_finished()
        self.refresh()
        self.say(message, 8000)

    def _on_tab_remove_toolchain_requested(self, name: str) -> None:
        tc = TOOLCHAINS[name]
        store = self.jobs.store
        self.ops.submit(lambda: [j for j in store.list(("Queued", "Starting", "Running"), kind="export")
                                 if j.spec.get("args", {}).get("format") in tc.formats and j.worker == "local"],
                        lambda busy: self._remove_toolchain(name, busy), what="Removing the toolchain")

    def _remove_toolchain(self, name: str, busy: list) -> None:
        tc = TOOLCHAINS[name]
        if busy:
            self.tab.install_finished()
            self.say(f"An export with the {name} toolchain is running: cancel it first", 8000)
            return
        answer = QMessageBox.question(self.parent_widget, "Remove toolchain", f"Remove the {name} toolchain "
                                      f"(about {tc.download_mb:,} MB)? Exports made with it stay in the library; "
                                      f"{', '.join(tc.formats)} will need it installed again to export.")
        if answer != QMessageBox.StandardButton.Yes:
            self.tab.install_finished()
            return
        tcs = Toolchains(self.lib.home)
        run_in_background(lambda: tcs.remove(name), lambda _r: self._toolchain_changed(f"The {name} toolchain is removed"),
                          lambda e: (self.tab.install_finished(), self.say(str(e), 8000)))

    def _on_tab_trust_retry_requested(self, job_id: str) -> None:
        self.ops.submit(lambda: self.jobs.trust_and_retry(job_id), lambda _j: self.refresh(),
                        lambda e: QMessageBox.warning(self.parent_widget, "Export", str(e)))

    def _on_tab_cancel_requested(self, job_id: str) -> None:
        self.ops.submit(lambda: self.jobs.cancel(job_id), lambda _j: self.refresh(), what="Cancel")

    def _on_tab_download_requested(self, export_id: str) -> None:
        rec = next((e for e in self.tab.exports.values() if e.id == export_id), None)  # as shown: no read here
        if rec is None:
            return
        src = Path(rec.path or "")
        model_name = self.tab.model.name if self.tab.model is not None else src.stem
        name = suggested_export_name(model_name, rec.format, src.name, src.is_dir())
        if src.is_dir():
            dest = QFileDialog.getExistingDirectory(self.parent_widget, f"Save the {rec.format} export into…")
            target = Path(dest) / name if dest else None
        else:
            dest, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save export", name)
            target = Path(dest) if dest else None
        if target is not None:
            self.save(src, target)

    def save(self, src: Path, target: Path) -> None:
        """Copy an export (file or folder) off the GUI thread."""
        def copy() -> Path:
            if src.is_dir():
                shutil.copytree(src, target, dirs_exist_ok=True)
            else:
                atomic_copy(src, target)
            return target

        run_in_background(copy, lambda t: self.say(f"Saved {t}", 8000),
                          lambda e: QMessageBox.warning(self.parent_widget, "Download", f"Could not save: {e}"))


def export_targets(lib: Library) -> list[tuple[str, str, str, bool]]:
    """(worker, device, label, has GPU + tensorrt) for "Run on": each tested worker's GPUs and CPU, then any GPU
    worker where a GPU may come free (a Slurm or Ray worker's, or a GPU box's). Runs on the library thread."""
    from app.jobs.workers import WorkerStore, gpu_choices  # paramiko loads when workers are listed, not at start

    found = []
    workers = WorkerStore(lib).list()
    for w in workers:
        if w.info is None:
            continue
        trt = w.has_package("tensorrt")
        found += [(name, device, label, trt) for name, device, label in gpu_choices([w])]
        found.append((w.name, "cpu", f"{w.name}, CPU", False))
    clusters = any(w.kind in CLUSTER_KINDS for w in workers)
    if clusters or any(device != "cpu" for _n, device, _l, _t in found):
        found.append((ANY_GPU, "", ANY_GPU_LABEL, clusters or any(t for *_x, t in found)))
    return found
