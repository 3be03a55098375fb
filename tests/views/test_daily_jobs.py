"""Issue 13 item 7: the Jobs panel lists jobs the CLI started (running and failed fast); Cancel stops one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.views.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def _cli(home: Path, *args: str, **kw) -> subprocess.Popen[str]:  # noqa: ANN003
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True, **kw)


def _junk_dataset(root: Path) -> Path:
    """A data set the CLI accepts (images are there by name) that ultralytics rejects at once (none decode)."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        for i in range(2):
            (root / "images" / split / f"{i}.jpg").write_text("not a picture")
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames: {{0: a}}\n")
    return root / "data.yaml"


def _kill_agents(lib) -> None:  # noqa: ANN001
    """A failed test leaves no agent training on (each runs in a process group of its own)."""
    from app.jobs.store import ACTIVE, JobStore

    for job in JobStore(lib).list(ACTIVE):
        if job.pid:
            try:
                os.killpg(job.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _row(window: MainWindow, status: str):  # noqa: ANN202
    return next((r for r in window.jobs_panel.rows if r.status == status), None)


@pytest.mark.slow  # trains a real model (and fails one)
def test_cli_jobs_appear_and_cancel_from_the_panel_stops_one(qtbot, lib, home, tiny_data, tmp_path):
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    w.ops.wait_idle()
    qtbot.mouseClick(w.sidebar.jobs_button, Qt.MouseButton.LeftButton)
    assert w.jobs_panel.isVisible()
    w.ops.wait_idle()
    assert w.jobs_panel.rows == [] and w.jobs_panel.summary.text() == "No jobs yet"

    failing = _cli(home, "train", f"data={_junk_dataset(tmp_path / 'junk')}", "model=yolo26n.yaml", "epochs=1",
                   "imgsz=64", "workers=0", "plots=False", "amp=False", "--name", "broken")
    assert failing.wait(180) != 0
    qtbot.waitUntil(lambda: _row(w, "Failed") is not None, timeout=10_000)  # seen through ops.changed alone
    failed = _row(w, "Failed")
    assert failed.kind == "train" and failed.worker == "local" and "No valid images" in (failed.error or "")

    training = _cli(home, "train", f"data={tiny_data['detect_big']}", "model=yolo26n.yaml", "epochs=500", "imgsz=64",
                    "batch=4", "workers=0", "plots=False", "amp=False", "--name", "long")
    try:
        qtbot.waitUntil(lambda: _row(w, "Running") is not None, timeout=120_000)
        running = _row(w, "Running")
        assert running.model == "long"
        assert running.progress is None or running.progress[1] == 500  # epochs, once the first one is reported
        assert w.jobs_panel.select_job(running.id)
        assert w.jobs_panel.cancel_button.isEnabled()
        qtbot.mouseClick(w.jobs_panel.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: any(r.id == running.id and r.status == "Cancelled" for r in w.jobs_panel.rows),
                        timeout=90_000)
        assert training.wait(60) != 0  # the CLI that started it ends with the job
    finally:
        if training.poll() is None:
            training.kill()
            _kill_agents(lib)
    texts = [w.jobs_panel.table.item(r, 2).text() for r in range(w.jobs_panel.table.rowCount())]
    assert sorted(texts) == ["Cancelled", "Failed"]

    assert w.jobs_panel.select_job(failed.id)  # its console: the model's Train tab
    qtbot.mouseClick(w.jobs_panel.console_button, Qt.MouseButton.LeftButton)
    w.ops.wait_idle()
    assert w.stack.currentWidget() is w.model_page and w.model_page.tabs.currentWidget() is w.model_page.train
    assert w.current_model_id == failed.model_id
    w.jobs.shutdown()
