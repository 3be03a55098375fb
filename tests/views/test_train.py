"""The Train tab and New Model, driven as a user would, with real events and a real training."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QTextCursor

from app.views.train_tab import TrainTab
from app.widgets.ansi_console import AnsiConsole
from tests.helpers import FAST


# ------------------------------------------------------------------ console
def _char_format(console: AnsiConsole, text: str):  # noqa: ANN202
    pos = console.toPlainText().index(text)
    c = QTextCursor(console.document())
    c.setPosition(pos + 1)
    return c.charFormat()


def test_console_renders_ansi_colours_and_bold(qtbot):
    console = AnsiConsole()
    qtbot.addWidget(console)
    console.append_text("plain \x1b[34m\x1b[1mengine/trainer: \x1b[0mback to plain\n")
    assert console.toPlainText() == "plain engine/trainer: back to plain\n"
    fmt = _char_format(console, "engine")
    assert fmt.foreground().color() == QColor("#60a5fa") and fmt.fontWeight() > 400
    assert _char_format(console, "back").fontWeight() == 400


def test_console_redraws_carriage_return_progress_in_place(qtbot):
    console = AnsiConsole()
    qtbot.addWidget(console)
    console.append_text("Epoch 1/3\n")
    for i in range(300):  # a progress bar redrawn 300 times, as ultralytics' TQDM writes it
        console.append_text(f"\r\x1b[K  1/3  {i / 3:.0f}% ━━━━")
    console.append_text("\nEpoch 2/3\n")
    assert console.toPlainText().splitlines() == ["Epoch 1/3", "  1/3  100% ━━━━", "Epoch 2/3"]
    assert console.document().blockCount() == 4


def test_console_keeps_escape_codes_split_across_chunks_and_caps_lines(qtbot):
    console = AnsiConsole(max_lines=50)
    qtbot.addWidget(console)
    console.append_text("a \x1b[3")
    console.append_text("1mred\x1b[0m b\n")
    assert console.toPlainText() == "a red b\n"
    assert _char_format(console, "red").foreground().color() == QColor("#f87171")
    console.append_text("".join(f"line {i}\n" for i in range(500)))
    assert console.document().blockCount() <= 50 and "line 499" in console.toPlainText()


# ------------------------------------------------------------------ Train tab, live events
def test_train_tab_follows_a_live_events_file(qtbot, lib, tmp_path):
    from app.jobs.store import JobStore

    store = JobStore(lib)
    model = lib.create_pending_model(lib.default_project_id, "live", task="detect", status="Training")
    job = store.create("train", {"args": {}}, lib.default_project_id, model.id, owner_pid=1)
    job = store.set(job.id, status="Running")
    job.events_path.parent.mkdir(parents=True)  # what the transport does when it starts an agent
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.show_model(lib.model(model.id), job)

    def write(ev: dict) -> None:
        with open(job.events_path, "a") as f:
            f.write(json.dumps({"job": job.id, "t": time.time(), **ev}) + "\n")

    write({"type": "started", "protocol": "1.0", "pid": 1, "pgid": 1})
    write({"type": "log", "text": "\x1b[34mtrain:\x1b[0m scanning\n"})
    for e in (1, 2, 3):
        write({"type": "log", "text": "".join(f"\r\x1b[K  {e}/3  {p}%" for p in range(0, 101, 5)) + "\n"})
        write({"type": "epoch", "epoch": e, "epochs": 3, "metrics": {
            "train/box_loss": 2.0 / e, "val/box_loss": 2.5 / e, "metrics/mAP50(B)": 0.2 * e,
            "metrics/mAP50-95(B)": 0.1 * e, "lr/pg0": 0.01 / e}})
    write({"type": "system", "cpu": 55.0, "ram": 40.0, "ram_used": 2**33, "ram_total": 2**34, "disk": 70.0,
           "disk_free": 2**36, "gpus": [{"index": 0, "name": "NVIDIA H100", "util": 87, "mem_used": 2**34,
                                         "mem_total": 2**36, "temp": 61}]})
    qtbot.waitUntil(lambda: tab.charts.epochs_shown() == 3, timeout=5000)
    assert tab.title.text() == "Epoch 3/3"
    assert tab.charts.charts["metrics"].values_at(2) == {"mAP50(B)": pytest.approx(0.4), "mAP50-95(B)": pytest.approx(0.2)}
    assert tab.charts.charts["train"].values_at(1) == {"box": 2.0}
    assert tab.charts.charts["lr"].values_at(3) == {"pg0": pytest.approx(0.01 / 3)}
    lines = tab.console.toPlainText().splitlines()
    assert lines[0] == "train: scanning" and lines[1:4] == ["  1/3  100%", "  2/3  100%", "  3/3  100%"]
    qtbot.waitUntil(lambda: "GPU 0 util" in tab.meters.meters, timeout=5000)
    assert tab.meters.meters["CPU"].bar.value() == 55 and tab.meters.meters["GPU 0 util"].bar.value() == 87
    assert "61 °C" in tab.meters.meters["GPU 0 temp"].reading.text()

    write({"type": "failed", "error": "RuntimeError", "message": "CUDA out of memory"})
    tab.update_job(store.set(job.id, status="Failed", error="RuntimeError: CUDA out of memory"))
    qtbot.waitUntil(lambda: not tab.banner.isHidden(), timeout=5000)
    assert "CUDA out of memory" in tab.banner.text()
    assert not tab.retry_button.isHidden() and tab.cancel_button.isHidden()
    tab.stop_stream()


# ------------------------------------------------------------------ New Model → training, in the window
@pytest.fixture
def window(job_window):
    return job_window


def test_new_model_dialog_shows_problems_next_to_the_fields(qtbot, window, tmp_path):
    window.open_new_model_dialog()
    dialog = window._dialog
    dialog.family.setCurrentText("YOLOv5u")
    dialog.task.setCurrentText("segment")
    assert dialog._errors["model"].isVisible() and "no segment model" in dialog._errors["model"].text()
    assert not dialog.start.isEnabled()
    dialog.task.setCurrentText("detect")
    assert dialog.start.isEnabled() and "yolov5nu.yaml" in dialog.base_note.text()
    dialog.data.setCurrentText(str(tmp_path / "nowhere.yaml"))
    dialog.imgsz.setValue(100)
    dialog.start.click()
    qtbot.waitUntil(lambda: dialog._errors["dataset"].isVisible(), timeout=5000)
    assert "does not exist" in dialog._errors["dataset"].text()
    assert "multiple of 32" in dialog._errors["imgsz"].text()
    assert dialog.isVisible() and window.jobs.store.list() == []
    dialog.reject()


@pytest.mark.slow  # trains a real model
def test_new_model_trains_live_and_lands_in_the_library(qtbot, window, lib, monkeypatch):
    import app.demo_data
    from app.jobs.spec import TrainRequest

    gui_thread = threading.current_thread()
    ran_on: dict[str, list[threading.Thread]] = {}  # every thread the data-set work ran on: wrapped, not replaced
    write_dataset, validate = app.demo_data.write_dataset, TrainRequest.validate

    def recording_write_dataset(*a, **kw):
        ran_on.setdefault("write_dataset", []).append(threading.current_thread())
        return write_dataset(*a, **kw)

    def recording_validate(self, *a, **kw):
        ran_on.setdefault("validate", []).append(threading.current_thread())
        return validate(self, *a, **kw)

    monkeypatch.setattr(app.demo_data, "write_dataset", recording_write_dataset)
    monkeypatch.setattr(TrainRequest, "validate", recording_validate)
    window.open_new_model_dialog()
    dialog = window._dialog
    dialog.family.setCurrentText("YOLO26")
    dialog.demo.click()  # writes the demo data set off the GUI thread
    qtbot.waitUntil(lambda: bool(dialog.data.currentText()), timeout=30000)
    assert Path(dialog.data.currentText()).name == "data.yaml" and dialog.imgsz.value() == 128
    dialog.imgsz.setValue(64)
    dialog.epochs.setValue(2)
    dialog.batch.setValue(8)
    dialog.workers.setValue(0)
    dialog.plots.setChecked(False)
    dialog.name.setText("gui-trained")
    dialog.start.click()
    qtbot.waitUntil(lambda: window.current_model_id is not None, timeout=20000)
    assert set(ran_on) == {"write_dataset", "validate"}, ran_on  # both data-set steps ran, neither on the GUI thread
    assert all(gui_thread not in threads for threads in ran_on.values()), ran_on
    train = window.model_page.train
    assert window.model_page.tabs.currentWidget() is train
    qtbot.waitUntil(lambda: train.job is not None and train.job.status == "Completed", timeout=240000)
    qtbot.waitUntil(lambda: train.charts.epochs_shown() == 2, timeout=5000)
    assert "Epoch" in train.console.toPlainText() and "\x1b" not in train.console.toPlainText()
    assert train.meters.meters["CPU"].reading.text() != "—"
    qtbot.waitUntil(lambda: any(r.name == "gui-trained" and r.status == "Completed"
                                for r in window.project_page.table_model.records()), timeout=10000)
    m = next(r for r in lib.models() if r.name == "gui-trained")
    assert m.has_weights and m.architecture == "YOLO26n" and m.dataset is not None


@pytest.mark.slow  # trains a real model
def test_cancel_and_retry_from_the_train_tab(qtbot, window, lib, tiny_data):
    from app.jobs.spec import TrainRequest

    job = window.jobs.submit_train(TrainRequest(model="yolo26n.yaml", task="detect", data=str(tiny_data["detect_big"]),
                                                epochs=100, imgsz=64, batch=4, extra=dict(FAST)))
    window.open_model(job.model_id)
    window.ops.wait_idle()  # the window reads on its library thread
    train = window.model_page.train
    window.model_page.tabs.setCurrentWidget(train)
    qtbot.waitUntil(lambda: train.charts.epochs_shown() >= 1, timeout=120000)
    assert train.cancel_button.isVisible()
    train.cancel_button.click()
    qtbot.waitUntil(lambda: train.job.status == "Cancelled", timeout=60000)
    assert train.retry_button.isVisible()
    train.retry_button.click()
    qtbot.waitUntil(lambda: train.job is not None and train.job.retry_of == job.id, timeout=20000)
    window.jobs.cancel(train.job.id)
    qtbot.waitUntil(lambda: train.job.status == "Cancelled", timeout=60000)
