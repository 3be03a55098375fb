"""The Predict tab's URL path against a hostile server: an error shows, the status line does not stay 'fetching…'."""

from __future__ import annotations

import pytest

from tests.predict.test_sources_url import hostile  # noqa: F401  (fixture)


@pytest.fixture
def window(qtbot, lib):
    from app.jobs.manager import JobManager
    from app.views.main_window import MainWindow

    w = MainWindow(lib, JobManager(lib, poll_interval=0.05))
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_a_failed_url_fetch_clears_the_fetching_status(qtbot, window, lib, checkpoints, hostile):  # noqa: F811
    base, _ = hostile
    folder, _ = checkpoints
    window.open_model(lib.import_checkpoint(folder / "detect_yolo26n.pt").model.id)
    window.ops.wait_idle()  # the window reads the model on its library thread
    page = window.model_page
    page.tabs.setCurrentWidget(page.predict)
    tab = page.predict
    qtbot.waitUntil(lambda: tab.readout.text().endswith("ready"), timeout=60000)
    tab.imgsz.setValue(64)
    tab.open_url(f"{base}/ok.png")
    qtbot.waitUntil(lambda: tab.prediction is not None and "inference" in tab.readout.text(), timeout=30000)
    shown = tab.readout.text()
    for path, words in (("/to-garbage", "did not answer as a web server"), ("/to-file", "only http://")):
        tab.banner.hide()
        tab.open_url(f"{base}{path}")
        assert tab.readout.text().startswith("fetching")
        qtbot.waitUntil(tab.banner.isVisible, timeout=15000)
        assert words in tab.banner.text()
        assert tab.readout.text() == shown  # the last result's line is back, not "fetching…"
