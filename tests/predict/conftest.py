"""Pictures and videos made in code, and a local HTTP server, for the predict tests."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import numpy as np
import pytest


def picture(size: int = 256) -> np.ndarray:
    from remote_agent.export import test_image

    return test_image(size)


@pytest.fixture(scope="session")
def video(tmp_path_factory) -> Path:
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
def http_root(tmp_path_factory):
    """A local HTTP server over a folder: (base URL, folder)."""
    root = tmp_path_factory.mktemp("www")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a):  # quiet
            pass

        def guess_type(self, path):
            return "application/x-fake" if str(path).endswith(".bin") else super().guess_type(path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
