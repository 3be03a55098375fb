"""The test panel's client says in one sentence why an endpoint did not answer: nothing listening (a stopped
endpoint), a server that accepts and never answers (a timeout), a file that cannot be read. Real sockets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.deploy.predict_client import PredictRefused, send_picture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_stopped_endpoint_and_a_silent_one_are_one_sentence(tmp_path: Path) -> None:
    picture = tmp_path / "a.png"
    picture.write_bytes(b"\x89PNG not really")
    with pytest.raises(PredictRefused, match=r"does not answer \(is it stopped\?\)") as stopped:
        send_picture(f"http://127.0.0.1:{_free_port()}", "t" * 43, picture, timeout=5)
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(PredictRefused, match=r"no answer from .* within 0.5 s") as slow:
            send_picture(f"http://127.0.0.1:{silent.getsockname()[1]}", "t" * 43, picture, timeout=0.5)
    with pytest.raises(PredictRefused, match=r"cannot read gone.png") as missing:
        send_picture("http://127.0.0.1:1", None, tmp_path / "gone.png")
    assert all("\n" not in str(e.value) for e in (stopped, slow, missing))
