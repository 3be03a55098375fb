"""The window, driven as a user would: drop real files, watch their states, open a model's Overview."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.views.main_window import MainWindow
from tests.library.hostile import hostile_payloads, torch_zip


def drop_files(widget, paths: list[Path]) -> None:
    """Deliver a real drag-enter and drop with file URLs, as a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


@pytest.fixture
def window(qtbot, lib):
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.ops.wait_idle()  # the window reads on its library thread
    yield w
    w.queue.shutdown()


def test_opens_on_an_empty_default_project(window):
    assert window.sidebar.projects.count() == 1
    assert window.sidebar.projects.currentItem().text().startswith("Default")
    assert window.project_page.stack.currentWidget() is window.project_page.empty
    assert window.project_page.new_button.isEnabled()


def test_dropping_three_files_fills_the_list_and_the_overview_shows_them(qtbot, window, checkpoints, monkeypatch):
    folder, manifest = checkpoints
    names = ["detect_yolo26n.pt", "segment_yolov8n.pt", "classify_yolo11n.pt"]
    gui_thread = threading.current_thread()
    from app.library import checkpoint as ck

    seen_threads = []
    real = ck.inspect_checkpoint

    def spy(*a, **k):
        seen_threads.append(threading.current_thread())
        return real(*a, **k)

    monkeypatch.setattr("app.library.importer.inspect_checkpoint", spy)
    drop_files(window.project_page, [folder / n for n in names])
    qtbot.waitUntil(lambda: window.project_page.table_model.rowCount() == 3, timeout=20000)
    qtbot.waitUntil(lambda: all(window.project_page.uploads.state_of(str(folder / n)) == "added" for n in names))
    assert gui_thread not in seen_threads  # the GUI thread never read a checkpoint
    assert window.sidebar.models.count() == 3
    records = {r.name: r for r in window.project_page.table_model.records()}
    assert records["segment_yolov8n"].architecture == "YOLOv8n-seg"

    # Open one model: the Overview shows what the checkpoint holds.
    row = [r.name for r in window.project_page.table_model.records()].index("detect_yolo26n")
    index = window.project_page.proxy.mapFromSource(window.project_page.table_model.index(row, 0))
    window.project_page.table.clicked.emit(index)
    window.ops.wait_idle()  # the window reads on its library thread
    page = window.model_page
    assert window.stack.currentWidget() is page
    ov = page.overview
    want = manifest["detect_yolo26n.pt"]
    assert ov.name_edit.text() == "detect_yolo26n"
    assert ov.arch_label.text() == "YOLO26n" and ov.task_badge.text() == "detect"
    assert ov._fact_labels["Input size"].text() == "64 px"
    assert f"{want['params']:,}" in ov._fact_labels["Parameters"].text()
    assert ov.classes.count() == 2 and ov.classes.item(0).text() == "0  square"
    assert ov.args_table.rowCount() == len(records["detect_yolo26n"].train_args)
    tiles = [ov.metrics_grid.itemAt(i).widget() for i in range(ov.metrics_grid.count())]
    assert len(tiles) == 4 and all(len(t.spark.values()) == 2 for t in tiles)  # 2 epochs per sparkline
    assert ov._file_labels["SHA-256"].text() == records["detect_yolo26n"].sha256
    assert "Not in the library" in ov.dataset_note.text()
    tabs = page.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Overview", "Train", "Predict", "Export", "Validation",
                                                                "Deploy"]
    enabled = {tabs.tabText(i): tabs.isTabEnabled(i) for i in range(tabs.count())}
    assert enabled == {"Overview": True, "Train": True, "Predict": True, "Export": True, "Validation": True,
                       "Deploy": True}
    # An uploaded model's Train tab rebuilds its charts from the stored per-epoch results.
    assert page.train.job is None and page.train.charts.epochs_shown() == 2

    # Rename from the Overview.
    ov.name_edit.setText("shapes-v1")
    ov.name_edit.editingFinished.emit()
    window.ops.wait_idle()  # the window reads on its library thread
    assert window.lib.model(records["detect_yolo26n"].id).name == "shapes-v1"
    assert "shapes-v1" in [window.sidebar.models.item(i).text() for i in range(window.sidebar.models.count())]


def test_folder_with_bad_and_foreign_files_gets_a_state_for_each(qtbot, window, checkpoints, tmp_path):
    folder, _ = checkpoints
    weights = tmp_path / "runs" / "detect" / "train" / "weights"
    weights.mkdir(parents=True)
    shutil.copyfile(folder / "pose_yolo11n.pt", weights / "best.pt")
    marker = tmp_path / "pwned"
    torch_zip(weights / "evil.pt", hostile_payloads(marker)["os.system"])
    (weights / "notes.pt").write_text("not weights")
    readme = tmp_path / "README.md"
    readme.write_text("hi")
    drop_files(window.sidebar, [tmp_path / "runs", readme])
    up = window.project_page.uploads
    qtbot.waitUntil(lambda: up.tree.topLevelItemCount() == 4 and window.queue.active == 0, timeout=20000)
    window.ops.wait_idle()  # the window reads on its library thread
    assert up.state_of(str(weights / "best.pt")) == "added"
    assert up.state_of(str(weights / "evil.pt")) == "rejected"
    assert up.state_of(str(weights / "notes.pt")) == "rejected"
    assert up.state_of(str(readme)) == "skipped"
    messages = {up.tree.topLevelItem(i).toolTip(0): up.tree.topLevelItem(i).text(2) for i in range(4)}
    assert messages[str(weights / "evil.pt")].startswith("contains executable code")
    assert messages[str(weights / "notes.pt")].startswith("not a PyTorch checkpoint")
    assert not marker.exists()
    assert [r.name for r in window.project_page.table_model.records()] == ["train-best"]
    up._on_clear_clicked()
    assert up.tree.topLevelItemCount() == 0 and not up.isVisible()


def test_projects_from_the_sidebar(qtbot, window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Drones", True)))
    window.sidebar.createProjectRequested.emit()
    window.ops.wait_idle()  # the window reads on its library thread
    assert window.project_page.title.text() == "Drones"
    assert window.sidebar.projects.count() == 2
    pid = window.current_project_id
    window.sidebar.deleteProjectRequested.emit(pid)
    window.ops.wait_idle()  # the window reads on its library thread
    assert window.sidebar.projects.count() == 1


def test_download_copies_the_original_file_off_the_gui_thread(qtbot, window, checkpoints, tmp_path, monkeypatch):
    import app.library.storage
    import app.views.main_window

    folder, _ = checkpoints
    rec = window.lib.import_checkpoint(folder / "obb_yolo26n.pt").model
    dest = tmp_path / "saved.pt"
    copied_on: list[threading.Thread] = []
    atomic_copy = app.library.storage.atomic_copy

    def recording_atomic_copy(*a, **kw):  # the real copy, with the thread it ran on noted
        copied_on.append(threading.current_thread())
        return atomic_copy(*a, **kw)

    monkeypatch.setattr(app.library.storage, "atomic_copy", recording_atomic_copy)
    monkeypatch.setattr(app.views.main_window, "atomic_copy", recording_atomic_copy, raising=False)
    window.save_model_file(rec, str(dest))
    qtbot.waitUntil(lambda: dest.exists() and "Saved" in window.statusBar().currentMessage(), timeout=10000)
    assert dest.read_bytes() == (folder / "obb_yolo26n.pt").read_bytes()
    assert len(copied_on) == 1 and copied_on[0] is not threading.main_thread(), copied_on
