"""Helpers shared across the test folders, loaded once as a plugin (``pytest_plugins`` in tests/conftest.py).

Fixtures defined here are visible to every test; plain functions and constants are imported from
``tests.helpers``. Conftests hold only their own folder's fixtures and are never imported from.
Qt and the app are imported inside the helpers, so a Qt-free test does not load Qt.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from collections.abc import Iterator
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


# ------------------------------------------------------------------ the window
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
    for job in w.jobs.store.list(("Queued", "Starting", "Running")):  # never leave an agent behind
        w.jobs.cancel(job.id)
        w.jobs.wait(job.id, 60)


@pytest.fixture
def two_model_window(qtbot: Any, lib: Any, checkpoints: Any) -> Iterator[Any]:
    """The main window, shown and active, over a library holding a detector and a classifier."""
    from app.views.main_window import MainWindow

    folder, _ = checkpoints
    for name in ("detect_yolo26n.pt", "classify_yolo11n.pt"):
        lib.import_checkpoint(folder / name)
    w = MainWindow(lib)
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.ops.wait_idle()
    yield w
    w.queue.shutdown()


def open_export_tab(window: Any, lib: Any, checkpoint: Path) -> tuple[Any, Any]:
    """Import ``checkpoint``, open its model page on the Export tab: (model record, tab)."""
    model = lib.import_checkpoint(checkpoint).model
    window.open_model(model.id)
    window.ops.wait_idle()  # the window reads on its library thread
    page = window.model_page
    page.tabs.setCurrentWidget(page.export)
    return model, page.export
