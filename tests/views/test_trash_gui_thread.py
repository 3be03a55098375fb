"""The trash's window work — its page, Undo, the badge, deleting a project with its trash — runs no SQL on the
GUI thread: every read and write goes through the window's library thread."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QMessageBox
from sqlalchemy import event

from app.views.main_window import MainWindow


def test_the_trash_runs_no_statement_on_the_gui_thread(qtbot, lib, checkpoints, monkeypatch):
    folder, _ = checkpoints
    p = lib.create_project("Drones")
    a = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    b = lib.import_checkpoint(folder / "classify_yolo11n.pt").model
    c = lib.import_checkpoint(folder / "pose_yolo11n.pt", p.id).model
    lib.trash_model(b.id)
    lib.trash_model(c.id)
    seen: list[tuple[threading.Thread, str]] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        seen.append((threading.current_thread(), statement))

    event.listen(lib.engine, "before_cursor_execute", record)
    try:
        w = MainWindow(lib)
        w.confirm_close = False
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
        page = w.show_page("trash")
        qtbot.waitUntil(lambda: page.table.rowCount() == 2)
        page.table.selectRow(next(r for r in range(2) if page.table.item(r, 0).text() == b.name))
        page.restore_button.click()
        qtbot.waitUntil(lambda: page.table.rowCount() == 1)
        w.sidebar.deleteProjectRequested.emit(p.id)  # Drones holds only the trashed pose model
        qtbot.waitUntil(lambda: page.table.rowCount() == 0, timeout=5000)
        w.show_project_page()
        w.ops.wait_idle()
        w.model_actions.trash(next(m for m in w.project_models if m.id == a.id))
        qtbot.waitUntil(lambda: w.model_actions.undo.isVisible())
        w.model_actions.undo.button.click()
        qtbot.waitUntil(lambda: a.id in [m.id for m in w.project_models], timeout=5000)
        w.open_model(a.id)
        qtbot.waitUntil(lambda: w.shown_model is not None and w.shown_model.id == a.id)
        w.model_page.visibility.click()
        qtbot.waitUntil(lambda: "Public" in w.model_page.visibility.text(), timeout=5000)
        w.ops.wait_idle()
        w.queue.shutdown()
    finally:
        event.remove(lib.engine, "before_cursor_execute", record)
    gui = threading.current_thread()
    on_gui = [sql for thread, sql in seen if thread is gui]
    assert on_gui == [], f"{len(on_gui)} statement(s) ran on the GUI thread, the first: {on_gui[:1]}"
    assert any("DELETE FROM projects" in sql for _t, sql in seen)  # the listener saw the window's writes
    assert lib.model(a.id).visibility == "public" and lib.trashed() == [] and lib.check().clean
    assert "Drones" not in [x.name for x in lib.projects()]
