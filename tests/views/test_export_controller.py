"""The Export tab's controller works without a main window: it is given the library, its ops, the jobs and a parent."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.exporters.store import ExportStore
from app.jobs.manager import JobManager
from app.qt.library_ops import LibraryOps
from app.views.export_controller import ExportController
from app.views.export_tab import ExportTab


def test_the_controller_runs_on_what_it_is_given(qtbot, lib, checkpoints) -> None:
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    parent = QWidget()
    qtbot.addWidget(parent)
    ops = LibraryOps(lib, parent)
    jobs = JobManager(lib)
    tab = ExportTab(parent)
    shown = {"id": model.id}
    said: list[tuple[str, int]] = []
    try:
        controller = ExportController(tab, lib, ops, jobs, parent, lambda: shown["id"],
                                      lambda text, ms: said.append((text, ms)))
        controller.refresh()
        ops.wait_idle()
        qtbot.waitUntil(lambda: controller.shown is not None, timeout=5000)
        assert controller.shown.record.id == model.id and tab.table.rowCount() == 22

        running = ExportStore(lib).create(model.id, "onnx", {})  # Queued: the store refuses to delete it
        tab.deleteRequested.emit(running.id)  # as the Delete button does
        ops.wait_idle()
        qtbot.waitUntil(lambda: bool(said), timeout=5000)
        assert said[0] == ("the export is still running; cancel it first", 8000)  # reached the given status line

        shown["id"] = "another-model"  # the page moved on: an answer for the old model is dropped
        before = controller.shown
        controller.show(before)
        assert controller.shown is before
        controller.shown = None
        controller.show(before)
        assert controller.shown is None
    finally:
        ops.stop()
        jobs.shutdown()
