"""The GUI thread never runs SQL: every statement the window causes runs on its library thread.

A SQLAlchemy ``before_cursor_execute`` listener records the thread of each statement while the
window opens, switches project, takes dropped files, opens, renames and trashes a model, and while
another process (``yolodesk import``) adds models that the window must then show by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from sqlalchemy import event

from app.qt.gui_thread_gc import collect_all
from app.views.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def _drop(widget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    actions = Qt.DropAction.CopyAction
    QApplication.sendEvent(widget, QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))
    QApplication.sendEvent(widget, QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))


@pytest.fixture
def statements(lib):
    """(thread, SQL) of every statement run through the library's engine."""
    seen: list[tuple[threading.Thread, str]] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        seen.append((threading.current_thread(), statement))

    event.listen(lib.engine, "before_cursor_execute", record)
    yield seen
    event.remove(lib.engine, "before_cursor_execute", record)


@pytest.fixture
def window(qtbot, lib, statements):
    w = MainWindow(lib)  # built after the listener: its start-up counts too
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.queue.shutdown()


def _names(w: MainWindow) -> list[str]:
    return sorted(r.name for r in w.project_page.table_model.records())


def _yolodesk(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "YOLODESK_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_no_statement_runs_on_the_gui_thread(qtbot, window, lib, statements, checkpoints, monkeypatch):
    folder, _ = checkpoints
    gui = threading.current_thread()
    w = window
    qtbot.waitUntil(lambda: w.sidebar.projects.count() == 1, timeout=10000)

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Drones", True)))
    w.sidebar.createProjectRequested.emit()
    qtbot.waitUntil(lambda: w.project_page.title.text() == "Drones" and w.sidebar.projects.count() == 2)
    w.sidebar.projectSelected.emit(lib.default_project_id)  # the id is an attribute: no statement
    qtbot.waitUntil(lambda: w.project_page.title.text() == "Default")

    _drop(w.project_page, [folder / "detect_yolo26n.pt", folder / "classify_yolo11n.pt"])
    qtbot.waitUntil(lambda: _names(w) == ["classify_yolo11n", "detect_yolo26n"], timeout=20000)

    detect = next(r for r in w.project_page.table_model.records() if r.name == "detect_yolo26n")
    w.sidebar.modelSelected.emit(detect.id)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w._model_page and w.shown_model is not None)
    ov = w.model_page.overview
    assert ov.name_edit.text() == "detect_yolo26n"
    ov.name_edit.setText("shapes-v1")
    ov.name_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: _names(w) == ["classify_yolo11n", "shapes-v1"], timeout=10000)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    ov.trashRequested.emit(detect.id)
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.project_page and _names(w) == ["classify_yolo11n"])

    # Another process adds models: the window notices by itself (no focus change, no click).
    proc = _yolodesk(lib.home, "import", str(folder / "segment_yolov8n.pt"), str(folder / "pose_yolo11n.pt"))
    assert proc.wait(120) == 0, proc.stdout.read()
    qtbot.waitUntil(lambda: _names(w) == ["classify_yolo11n", "pose_yolo11n", "segment_yolov8n"], timeout=5000)
    assert w.sidebar.models.count() == 3

    on_gui = [sql for thread, sql in statements if thread is gui]
    assert on_gui == [], f"{len(on_gui)} statement(s) ran on the GUI thread, the first: {on_gui[:1]}"
    threads = {thread.name for thread, _ in statements}
    assert "library-ops" in threads and len(statements) > 20  # the listener saw the window's reads


def test_an_error_without_a_handler_reaches_the_status_bar(qtbot, window):
    from app.qt.tasks import run_in_background

    run_in_background(lambda: 1 / 0)  # no on_failure: it must not vanish
    qtbot.waitUntil(lambda: "ZeroDivisionError" in window.statusBar().currentMessage(), timeout=5000)
    window.ops.submit(lambda: window.lib.model("no-such-model"), what="Reading a model")
    qtbot.waitUntil(lambda: "no model with id no-such-model" in window.statusBar().currentMessage(), timeout=5000)
    assert window.statusBar().currentMessage().startswith("⚠ Reading a model failed")


def _hold_write_lock(db: Path, seconds: float) -> subprocess.Popen:
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            f"time.sleep({seconds})\n"
            "c.execute('ROLLBACK')\n")
    return subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)


def test_the_window_stays_responsive_while_another_process_holds_the_write_lock(qtbot, window, lib, checkpoints):
    folder, _ = checkpoints
    w = window
    _drop(w.project_page, [folder / "obb_yolo26n.pt"])
    qtbot.waitUntil(lambda: _names(w) == ["obb_yolo26n"], timeout=20000)
    rec = w.project_page.table_model.records()[0]
    w.open_model(rec.id)
    qtbot.waitUntil(lambda: w.shown_model is not None)

    # the suite's heap (~500,000 objects by now) takes 0.2-1 s to collect in full, and the GUI-thread collector may
    # owe one: paid here, before the probe, which measures waiting on the lock, not the test run's garbage
    collect_all()
    locker = _hold_write_lock(lib.home / "library.db", 5)
    assert locker.stdout.readline().strip() == "locked"
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)
    probe.start()
    ov = w.model_page.overview
    ov.name_edit.setText("renamed-under-lock")  # a write: it waits for the lock on the library thread
    ov.name_edit.editingFinished.emit()
    end = time.monotonic() + 5.5
    while time.monotonic() < end:
        w.refresh()  # reads keep being asked for meanwhile
        w.sidebar.projectSelected.emit(lib.default_project_id)
        qtbot.wait(50)
    probe.stop()
    assert locker.wait(10) == 0
    qtbot.waitUntil(lambda: _names(w) == ["renamed-under-lock"], timeout=10000)  # landed once the lock went
    assert len(gaps) > 200  # the probe really ran for the whole 5 s
    assert max(gaps) < 200, f"the event loop stalled {max(gaps)} ms"
