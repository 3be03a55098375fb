"""The SSH local port forward to a worker's endpoint, through the real sshd fixture to a real server on the
worker's loopback (the worker here is this machine, as in tests/remote)."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app.deploy.tunnel import Tunnel, TunnelError
from tests.remote import conftest as remote

# the real sshd and its worker "box", as tests/remote has them (fixtures of another folder's conftest)
sshd, workers, box, _no_user_ssh_config = remote.sshd, remote.workers, remote.box, remote._no_user_ssh_config


class Echo(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + 4))
        self.end_headers()
        self.wfile.write(b"got:" + body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_requests_reach_the_workers_loopback_through_the_tunnel(workers, box, loopback_server: int) -> None:
    client = workers.client(box)
    tunnel = Tunnel(client, loopback_server)
    try:
        assert tunnel.local_port != loopback_server and tunnel.local_url.startswith("http://127.0.0.1:")
        bodies = [f"picture {i}".encode() * 2000 for i in range(32)]  # 20 KB each, 8 at once

        def post(body: bytes) -> bytes:
            return httpx.post(f"{tunnel.local_url}/predict", content=body, timeout=30).content

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(post, bodies))
        assert answers == [b"got:" + b for b in bodies]
    finally:
        tunnel.close()
        client.close()
    with socket.socket() as s:  # closed: nothing listens on the local port any more
        assert s.connect_ex(("127.0.0.1", tunnel.local_port)) != 0


def test_a_local_port_in_use_is_a_clear_refusal(workers, box, tmp_path: Path) -> None:
    client = workers.client(box)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(TunnelError, match=r"cannot listen on 127.0.0.1:\d+ here"):
            Tunnel(client, 9, local_port=busy.getsockname()[1])
    client.close()
