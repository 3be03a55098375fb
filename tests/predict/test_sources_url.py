"""Pictures from URLs against hostile local servers: one overall deadline, a byte cap, few redirects, only http(s)."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import pytest

from app.predict.sources import SourceError, fetch_url
from tests.predict.conftest import picture

PNG = cv2.imencode(".png", picture(64))[1].tobytes()


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Each path is one way a server can misbehave."""

    garbage_port = 0

    def log_message(self, *a):  # quiet
        pass

    def _head(self, status: int, ctype: str = "image/png", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        try:
            self._answer()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _answer(self) -> None:
        path = self.path
        if path == "/ok.png":
            self._head(200, Content_Length=str(len(PNG)))
            self.wfile.write(PNG)
        elif path == "/drip.png":  # a body one byte at a time, for ever (each read alone is quick)
            self._head(200, Content_Length=str(10_000_000))
            while True:
                self.wfile.write(b"\x89")
                self.wfile.flush()
                time.sleep(0.2)
        elif path == "/drip-headers":  # headers that never end
            self.wfile.write(b"HTTP/1.0 200 OK\r\n")
            while True:
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(0.2)
        elif path == "/loop":
            self._head(302, Location="/loop")
        elif path.startswith("/hops"):
            n = int(path[5:] or 0)
            self._head(302, Location=f"/hops{n + 1}" if n < 2 else "/ok.png")
        elif path == "/to-garbage":
            self._head(302, Location=f"http://127.0.0.1:{self.garbage_port}/x.png")
        elif path == "/to-file":
            self._head(302, Location="file:///etc/passwd")
        elif path == "/to-ftp":
            self._head(301, Location="ftp://127.0.0.1/x.png")
        elif path == "/to-data":
            self._head(307, Location="data:image/png;base64,AAAA")
        elif path == "/huge.png":  # no Content-Length: only the cap stops it
            self._head(200)
            for _ in range(64):
                self.wfile.write(b"\0" * 65536)
        elif path == "/huge-declared.png":
            self._head(200, Content_Length=str(50 * 2**20))
        elif path == "/page.html":
            body = b"<html>hello</html>"
            self._head(200, "text/html", Content_Length=str(len(body)))
            self.wfile.write(body)
        else:
            self._head(404, "text/plain", Content_Length="0")


def _garbage_server() -> tuple[int, threading.Event]:
    """A raw TCP port that answers every connection with bytes that are not HTTP."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"\x00\xff\xfeSSH-2.0-not-a-web-server\r\n\x1b[2J garbage\r\n\r\n")
        srv.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1], stop


@pytest.fixture(scope="module")
def hostile():
    garbage_port, stop = _garbage_server()
    _Hostile.garbage_port = garbage_port
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", garbage_port
    server.shutdown()
    stop.set()


def _refused(url: str, **kw) -> tuple[str, float]:
    t0 = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch_url(url, **kw)
    return str(info.value), time.monotonic() - t0


def test_a_good_picture_and_a_few_redirects_still_load(hostile):
    base, _ = hostile
    assert fetch_url(f"{base}/ok.png").shape == (64, 64, 3)
    assert fetch_url(f"{base}/hops0").shape == (64, 64, 3)  # 3 redirects: the most followed


def test_a_dripping_body_ends_at_the_overall_deadline(hostile):
    base, _ = hostile
    message, took = _refused(f"{base}/drip.png", timeout=1.5)
    assert "did not send the picture within 1.5 s" in message
    assert took < 2.5, f"{took:.1f} s"


def test_headers_that_never_end_stop_at_the_deadline_too(hostile):
    base, _ = hostile
    message, took = _refused(f"{base}/drip-headers", timeout=1.5)
    assert "within 1.5 s" in message and took < 2.5, (message, took)


def test_a_redirect_loop_is_cut_after_three(hostile):
    base, _ = hostile
    message, took = _refused(f"{base}/loop")
    assert "redirects more than 3 times" in message and took < 5


@pytest.mark.parametrize("path, where", [("/to-file", "file:///etc/passwd"), ("/to-ftp", "ftp://"),
                                         ("/to-data", "data:")])
def test_a_redirect_away_from_the_web_is_refused(hostile, path, where):
    base, _ = hostile
    message, _ = _refused(f"{base}{path}")
    assert where in message and "only http:// and https:// addresses are followed" in message


def test_a_redirect_to_something_that_is_not_a_web_server(hostile):
    base, garbage_port = hostile
    message, _ = _refused(f"{base}/to-garbage")
    assert f"127.0.0.1:{garbage_port}" in message and "did not answer as a web server" in message
    message, _ = _refused(f"http://127.0.0.1:{garbage_port}/x.png")
    assert "did not answer as a web server" in message


def test_404_huge_and_wrong_type_say_so(hostile):
    base, _ = hostile
    assert "404" in _refused(f"{base}/missing.png")[0]
    assert "over the 1 MB limit" in _refused(f"{base}/huge.png", max_bytes=2**20)[0]  # 4 MB sent, no length
    assert "50 MB: over the 25 MB limit" in _refused(f"{base}/huge-declared.png")[0]
    assert "is not an image (the server says it is text/html)" in _refused(f"{base}/page.html")[0]


def test_cli_predict_from_a_hostile_url_is_one_line_and_exit_1(hostile, checkpoints, home):
    base, _ = hostile
    folder, _ = checkpoints
    env = dict(os.environ, YOLODESK_HOME=str(home))
    for path, words in (("/to-garbage", "did not answer as a web server"), ("/to-file", "only http://")):
        proc = subprocess.run([sys.executable, "-m", "app", "predict", str(Path(folder) / "detect_yolo26n.pt"),
                               f"{base}{path}"], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and words in lines[0] and lines[0].startswith("yolodesk predict:"), proc.stderr
