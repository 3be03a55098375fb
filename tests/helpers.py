"""Helpers shared across the test folders, loaded once as a plugin (``pytest_plugins`` in tests/conftest.py).

Fixtures defined here are visible to every test; plain functions and constants are imported from
``tests.helpers``. Conftests hold only their own folder's fixtures and are never imported from.
Qt and the app are imported inside the helpers, so a Qt-free test does not load Qt.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Training arguments that keep a real training short and quiet on a CPU.
FAST = {"workers": 0, "plots": False, "amp": False}


# ------------------------------------------------------------------ jobs
def wait_for_event(job: Any, kind: str, timeout: float = 120) -> dict:
    """Block until the job's events file holds an event of ``kind``."""
    from app.jobs.events import read_all

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in read_all(job.events_path):
            if ev.get("type") == kind:
                return ev
        time.sleep(0.1)
    raise AssertionError(f"no {kind!r} event within {timeout} s")


def tiny_train_request(data: Path, epochs: int = 1) -> Any:
    """A detect training from scratch on ``data`` that a CPU finishes in seconds (a TrainRequest)."""
    from app.jobs.spec import TrainRequest

    return TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=epochs, imgsz=64, batch=4,
                        extra=dict(FAST))


@contextmanager
def tidy_manager(lib: Any) -> Iterator[Any]:
    """A JobManager on ``lib`` that cancels what a test left running and shuts down after it."""
    from app.jobs.manager import JobManager

    m = JobManager(lib, poll_interval=0.05)
    try:
        yield m
    finally:  # a failed test too: nothing it started runs on into the next one
        for job in m.store.list(("Queued", "Starting", "Running")):
            m.cancel(job.id)
        time.sleep(0.5)
        m.shutdown()


def until(what: Callable[[], Any], timeout: float, why: str) -> Any:
    """``what()`` once it is truthy (polled every 0.1 s); AssertionError saying ``why`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out: {why}")


def assert_trained_remotely(lib: Any, job: Any) -> None:
    """A one-epoch remote training landed: its model, its mirrored events, and its worker folder released whole."""
    from app.jobs.events import read_all

    model = lib.model(job.model_id)
    assert model.status == "Completed" and Path(lib.home / "models" / model.id / "weights.pt").is_file()
    events = read_all(job.events_path)
    assert events[0]["type"] == "started" and events[-1]["type"] == "completed"
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1]
    assert any(e["type"] == "system" for e in events)  # the meters' feed, mirrored like the SSH worker's
    record = Path(job.run_dir) / "remote.json"
    until(lambda: "released" in json.loads(record.read_text()), 30, "the job folder was not released")
    assert json.loads(record.read_text())["released"]["events_sha256"] == hashlib.sha256(
        job.events_path.read_bytes()).hexdigest()  # the whole events file arrived before the folder went


def assert_export_landed_verified(lib: Any, job: Any) -> None:
    """A completed ONNX export job's file is in the library, verified, with the bytes the worker reported."""
    from app.exporters.store import ExportStore

    rec = ExportStore(lib).by_job(job.id)
    assert rec.status == "Completed" and rec.verified, rec.verification
    path = Path(rec.path)
    assert path.is_file() and path.suffix == ".onnx" and str(path).startswith(str(lib.home))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == rec.sha256  # the bytes the worker reported
    assert lib.check().clean


def group_gone(pgid: int, timeout: float = 30) -> bool:
    """Whether the process group ``pgid`` has ended within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


# ------------------------------------------------------------------ pictures, videos, HTTP
def picture(size: int = 256) -> np.ndarray:
    """The agent's own test picture (squares and discs), BGR, ``size`` × ``size``."""
    from remote_agent.export import test_image

    return test_image(size)


@pytest.fixture(scope="session")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-frame MJPG video at 30 fps."""
    import cv2

    path = tmp_path_factory.mktemp("video") / "clip.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 160))
    base = picture(160)
    for i in range(60):
        frame = base.copy()
        frame[20:60, (i * 2) % 100:(i * 2) % 100 + 40] = (60, 230, 60)
        out.write(frame)
    out.release()
    return path


@pytest.fixture(scope="session")
def http_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder: (base URL, folder)."""
    root = tmp_path_factory.mktemp("www")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a: Any) -> None:  # quiet
            pass

        def guess_type(self, path: Any) -> str:
            return "application/x-fake" if str(path).endswith(".bin") else super().guess_type(path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


class PredictLoad:
    """A thread posting the picture to an endpoint's ``url`` until stopped; every (status, served model) kept."""

    def __init__(self, url: str, image: Path, token: str) -> None:
        self.url, self.body, self.token = url, image.read_bytes(), token
        self.answers: list[tuple[int, str | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with httpx.Client(headers={"Authorization": f"Bearer {self.token}"}, timeout=60) as client:
            while not self._stop.is_set():
                try:
                    r = client.post(f"{self.url}/predict", files={"file": ("a.png", self.body, "image/png")})
                    model = r.json()["metadata"]["model"] if r.status_code == 200 else None
                    self.answers.append((r.status_code, model))
                except (httpx.HTTPError, ValueError, KeyError) as e:  # a dropped request is an answer: status 0
                    self.answers.append((0, f"{type(e).__name__}: {e}"))
                    self._stop.wait(0.05)

    def __enter__(self) -> PredictLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


# ------------------------------------------------------------------ the window
@contextmanager
def shown_window(qtbot: Any, lib: Any) -> Iterator[Any]:
    """The main window on ``lib``, shown and done reading; its library thread stops afterwards."""
    from app.views.main_window import MainWindow

    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.ops.wait_idle()  # the window reads on its library thread
    yield w
    w.queue.shutdown()


def answer_questions(monkeypatch: pytest.MonkeyPatch, *answers: Any) -> list[str]:
    """Make QMessageBox.question answer ``answers`` in turn; the questions it was asked, as they come."""
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []
    queue = list(answers)
    monkeypatch.setattr(QMessageBox, "question", lambda _p, _t, text, *a, **k: asked.append(text) or queue.pop(0))
    return asked


@pytest.fixture
def job_window(qtbot: Any, lib: Any) -> Iterator[Any]:
    """A shown main window with a fast-polling job manager; its running jobs are cancelled afterwards."""
    from app.jobs.manager import JobManager
    from app.views.main_window import MainWindow

    w = MainWindow(lib, JobManager(lib, poll_interval=0.05))
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.ops.wait_idle()  # the window reads on its library thread
    yield w
    from app.jobs.transport import process_alive

    # never leave an agent behind. pytest-qt has closed the window by now, and with it the manager stopped
    # supervising (as when the app quits: the next start re-attaches), so nothing marks the rows Cancelled any
    # more: wait for the agents themselves to end (a job's row waited on here used to sit out 60 s in vain)
    for job in w.jobs.store.list(("Queued", "Starting", "Running")):
        w.jobs.cancel(job.id)
        job = w.jobs.store.get(job.id)
        if job.pid and job.worker == "local":
            until(lambda j=job: not process_alive(j.pid, j.pid_started), 60, f"the agent of {job.id} outlived Cancel")
        elif not job.finished:
            w.jobs.wait(job.id, 60)


@pytest.fixture
def two_model_window(qtbot: Any, lib: Any, checkpoints: Any) -> Iterator[Any]:
    """The main window, shown and active, over a library holding a detector and a classifier."""
    folder, _ = checkpoints
    for name in ("detect_yolo26n.pt", "classify_yolo11n.pt"):
        lib.import_checkpoint(folder / name)
    with shown_window(qtbot, lib) as w:
        w.activateWindow()
        yield w


def open_export_tab(window: Any, lib: Any, checkpoint: Path) -> tuple[Any, Any]:
    """Import ``checkpoint``, open its model page on the Export tab: (model record, tab)."""
    model = lib.import_checkpoint(checkpoint).model
    window.open_model(model.id)
    window.ops.wait_idle()  # the window reads on its library thread
    page = window.model_page
    page.tabs.setCurrentWidget(page.export)
    return model, page.export
