"""The Predict tab, used as a user would: pictures for every task, sliders, toggles, live frames, URLs, trust."""

from __future__ import annotations

import json
import time

import cv2
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.predict.sources import SyntheticFrames
from tests.helpers import picture

TASKS = {"detect": "detect_yolo26n.pt", "segment": "segment_yolov8n.pt", "pose": "pose_yolo11n.pt",
         "obb": "obb_yolo26n.pt", "classify": "classify_yolo11n.pt"}


def open_predict(qtbot, window, lib, path):
    model = lib.import_checkpoint(path).model
    window.open_model(model.id)
    window.ops.wait_idle()  # the window reads on its library thread
    page = window.model_page
    page.tabs.setCurrentWidget(page.predict)
    tab = page.predict
    qtbot.waitUntil(lambda: tab.readout.text().endswith("ready"), timeout=60000)
    return model, tab


@pytest.mark.parametrize("task", list(TASKS))
def test_each_task_draws_its_overlay_and_lists_its_results(qtbot, job_window, lib, checkpoints, task, tmp_path):
    folder, _ = checkpoints
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS[task])
    assert tab.backend.currentText().startswith("PyTorch")
    tab.conf.setValue(0)  # 0.001: an untrained model's boxes show
    tab.imgsz.setValue(64)
    img = picture(256)
    tab.predict_image(img, "shapes.png")
    qtbot.waitUntil(lambda: tab.prediction is not None and tab.view.painted > 0, timeout=30000)
    p = tab.prediction
    assert p.task == task
    rows = tab.table.rowCount()
    if task == "classify":
        assert rows == len(p.top5) == 2 and "Top 5" in tab.count.text()
    else:
        assert rows == len(p.detections) > 0 and f"{rows} detection(s)" == tab.count.text()
        assert tab.table.item(0, 0).text() in ("square", "disc")
        tab.table.cellEntered.emit(0, 0)  # hovering a row outlines that detection
        assert tab.view.marker.isVisible()
        if task == "obb":
            assert "°" in tab.table.item(0, 2).text()
    assert "PyTorch" in tab.readout.text() and "inference" in tab.readout.text()
    data = json.loads(tab.json_text())
    assert data["task"] == task and data["source"] == "shapes.png"
    painted = tab.view.painted
    tab.show_boxes.setChecked(False)  # a toggle redraws without running the model again
    assert tab.view.painted == painted + 1 and tab.prediction is p
    out = tmp_path / "saved.png"
    tab.save_image(str(out))
    assert cv2.imread(str(out)).shape == img.shape


def test_slider_reruns_on_the_newest_value(qtbot, job_window, lib, checkpoints):
    folder, _ = checkpoints
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["detect"])
    tab.imgsz.setValue(64)
    # This fixture's boxes all score under 0.01: only the slider's bottom (0.001) shows them, any other step none.
    tab.conf.setValue(0)
    tab.predict_image(picture(128), "a.png")
    qtbot.waitUntil(lambda: tab.prediction is not None, timeout=30000)
    boxes = len(tab.prediction.detections)
    assert boxes > 0 and max(d.confidence for d in tab.prediction.detections) < 0.01
    tab.conf.setValue(30)
    qtbot.waitUntil(lambda: tab.prediction.detections == [] and tab.engine.params.conf == 0.30, timeout=30000)
    for v in range(29, -1, -1):
        tab.conf.setValue(v)  # dragged quickly down to the bottom: only the newest value finds boxes
    qtbot.waitUntil(lambda: tab.pacer.idle and tab.engine.params.conf == 0.001,
                    timeout=30000)
    qtbot.waitUntil(lambda: len(tab.prediction.detections) == boxes, timeout=30000)
    qtbot.wait(800)  # and no older answer paints over it afterwards
    assert len(tab.prediction.detections) == boxes and tab.count.text() == f"{boxes} detection(s)"


def test_live_frames_stay_smooth_drop_stale_frames_and_stop_when_the_tab_is_left(qtbot, job_window, lib, checkpoints):
    folder, _ = checkpoints
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["detect"])
    tab.imgsz.setValue(320)
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    source = SyntheticFrames(size=320, fps=120)  # a camera far faster than the model on this CPU
    tab.start_frames(source, "synthetic camera")
    t0 = time.perf_counter()
    qtbot.wait(4000)
    elapsed = time.perf_counter() - t0
    timer.stop()
    assert tab.engine.live and "FPS" in tab.readout.text() and "skipped" in tab.readout.text()
    assert "ms from capture" in tab.readout.text() and tab.live_latency_ms > 0  # capture → paint, next to FPS
    assert tab.live_button.text() == "Stop" and tab.live_button.isEnabled()  # with no camera on this machine too
    assert tab.engine.frames_done >= 5
    assert tab.engine.frames_done < tab.engine.frames_read / 2  # most frames were dropped (read in the helper)
    assert tab.view.painted <= elapsed * 1000 / 33 + 3  # repaints throttled
    fills = tab.results.fills
    assert 2 <= fills <= elapsed * 4 + 2 < tab.view.painted, (fills, tab.view.painted)  # the rows: 4 times a second
    assert max(gaps[5:]) < 0.25, f"the GUI thread was blocked for {max(gaps[5:]) * 1000:.0f} ms"
    page = job_window.model_page
    page.tabs.setCurrentWidget(page.overview)  # leaving the tab releases the camera
    assert not tab.engine.live
    qtbot.waitUntil(lambda: tab.engine.source_released is True, timeout=5000)  # the helper let go of the source
    qtbot.waitUntil(lambda: tab.results.prediction is tab.prediction, timeout=2000)  # the rows: the frame shown


def test_a_stopped_live_runs_last_frame_is_predicted_again_with_new_settings(qtbot, job_window, lib, checkpoints):
    folder, _ = checkpoints
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["detect"])
    tab.imgsz.setValue(64)
    tab.start_frames(SyntheticFrames(size=96, fps=30, count=3000), "synthetic camera")
    qtbot.waitUntil(lambda: tab.view.painted >= 3, timeout=30000)
    tab.stop_live()
    shown = tab.prediction
    assert shown is not None and tab.image is None  # a live picture came drawn; its frame stayed in the helper
    frame = shown.original()
    assert frame.shape == (96, 96, 3) and frame[40:100, :, 2].max() == 230  # the synthetic square is in it
    tab.conf.setValue(0)  # new settings: the last frame is predicted again, fetched from the helper
    qtbot.waitUntil(lambda: tab.prediction is not shown and tab.prediction.source == "synthetic camera",
                    timeout=30000)
    assert tab.image is not None and (tab.image == frame).all() and tab.engine.params.conf == 0.001


def test_url_and_bad_sources_show_a_clear_error(qtbot, job_window, lib, checkpoints, http_root, tmp_path):
    folder, _ = checkpoints
    base, root = http_root
    (root / "tab").mkdir(exist_ok=True)  # the server's folder is shared by the session: keep its top level as others left it
    cv2.imwrite(str(root / "tab" / "web.png"), picture(96))
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["detect"])
    tab.url.setText(f"{base}/tab/web.png")
    tab.url.returnPressed.emit()  # Enter in the URL field
    qtbot.waitUntil(lambda: tab.prediction is not None and tab.prediction.source.endswith("web.png"), timeout=30000)
    tab.open_url(f"{base}/nothing.png")
    qtbot.waitUntil(tab.banner.isVisible, timeout=15000)
    assert "404" in tab.banner.text()
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"not a video at all")
    tab.start_video(str(bad))
    qtbot.waitUntil(lambda: "OpenCV" in tab.banner.text() or "damaged" in tab.banner.text(), timeout=15000)
    assert "not a video OpenCV can read" in tab.banner.text() or "damaged" in tab.banner.text()
    assert not tab.engine.live


def test_a_refused_checkpoint_asks_once_and_is_remembered(qtbot, job_window, lib, checkpoints, tmp_path):
    import argparse

    import torch

    folder, _ = checkpoints
    ck = torch.load(folder / TASKS["detect"], weights_only=False)
    ck["opt"] = argparse.Namespace(epochs=3)
    odd = tmp_path / "odd.pt"
    torch.save(ck, odd)
    model = lib.import_checkpoint(odd).model
    window = job_window
    window.open_model(model.id)
    window.ops.wait_idle()  # the window reads on its library thread
    page = window.model_page
    page.tabs.setCurrentWidget(page.predict)

    def prompt():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                     and w.objectName() == "trustCheckpoint" and w.isVisible()), None)

    qtbot.waitUntil(lambda: prompt() is not None, timeout=60000)
    assert "runs whatever code the file contains" in prompt().text()
    next(b for b in prompt().buttons() if b.text() == "Trust and load").click()
    tab = page.predict
    asked_again: list[str] = []

    def ready_without_asking() -> bool:
        if prompt() is not None:
            asked_again.append(prompt().text())
            prompt().reject()
        return bool(asked_again) or tab.readout.text().endswith("ready")  # asked again: fail at once, below

    qtbot.waitUntil(ready_without_asking, timeout=60000)
    assert lib.is_trusted(model.sha256) and asked_again == []
    other = lib.import_checkpoint(folder / TASKS["obb"]).model  # away to another model, then back: remembered
    window.open_model(other.id)
    window.ops.wait_idle()  # the window reads on its library thread
    page.tabs.setCurrentWidget(page.predict)
    qtbot.waitUntil(lambda: tab.model.id == other.id and tab.readout.text().endswith("ready"), timeout=60000)
    window.open_model(model.id)
    window.ops.wait_idle()  # the window reads on its library thread
    page.tabs.setCurrentWidget(page.predict)
    qtbot.waitUntil(lambda: tab.model.id == model.id and ready_without_asking(), timeout=60000)
    assert asked_again == []
