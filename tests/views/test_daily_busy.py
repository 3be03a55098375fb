"""Issue 13 item 8: slow work (opening a model, the first model page) shows a busy cue, cleared when done."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from app.views.main_window import MainWindow


def test_opening_a_model_shows_the_busy_cue_then_clears_it(qtbot, lib, checkpoints, monkeypatch):
    folder, _ = checkpoints
    m = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    w.ops.wait_idle()
    seen: list[tuple[str, bool]] = []
    from app.views import busy_cue

    real = busy_cue.BusyCue.start_now

    def noting(cue, what):  # noqa: ANN001, ANN202 (the real cue; what it shows is noted as it shows)
        real(cue, what)
        seen.append((cue.label.text(), cue.bar.isVisible() and QApplication.overrideCursor() is not None))

    monkeypatch.setattr(busy_cue.BusyCue, "start_now", noting)
    w.open_model(m.id)
    w.ops.wait_idle()
    assert w.stack.currentWidget() is w.model_page
    assert seen and seen[0][1] and seen[0][0] in ("Opening the model…", "Preparing the model page…")
    assert not w.busy.shown and QApplication.overrideCursor() is None and w.busy.going == {}


def test_quick_work_shows_no_cue(qtbot, lib):
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    w.ops.wait_idle()
    w.busy.start("Quick")
    qtbot.wait(50)
    w.busy.stop("Quick")
    qtbot.wait(250)
    assert not w.busy.shown and QApplication.overrideCursor() is None
    w.busy.start("Slow")
    qtbot.waitUntil(lambda: w.busy.shown, timeout=1000)
    assert w.busy.label.text() == "Slow…" and QApplication.overrideCursor() is not None
    w.busy.stop("Slow")
    assert not w.busy.shown and QApplication.overrideCursor() is None
    w.ops.wait_idle()


def test_loading_a_model_for_predict_shows_the_busy_cue_until_it_is_ready(qtbot, lib, checkpoints):
    """The first prediction of a model loads torch and ultralytics (seconds): the status bar says so meanwhile."""
    from app.views.predict_tab import LOADING

    folder, _ = checkpoints
    m = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    w.ops.wait_idle()
    w.open_model(m.id)
    w.ops.wait_idle()
    page = w.model_page
    page.tabs.setCurrentWidget(page.predict)
    qtbot.waitUntil(lambda: w.busy.going.get(LOADING, 0) > 0, timeout=20000)  # a bool: None would pass at once
    qtbot.waitUntil(lambda: page.predict.readout.text().endswith("ready"), timeout=60000)
    assert LOADING not in w.busy.going and not w.busy.shown
    w.queue.shutdown()
