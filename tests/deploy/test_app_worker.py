"""An endpoint on a worker (the real sshd fixture; the worker is this machine): deployed by one process, served
on the worker's loopback, reached through the SSH tunnel the app holds, stopped by another process."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import psutil
import pytest

from tests.deploy.test_app_endpoints import cli, listing, port_free, predict
from tests.remote import conftest as remote

sshd, workers, box, _no_user_ssh_config = remote.sshd, remote.workers, remote.box, remote._no_user_ssh_config
pytestmark = pytest.mark.slow


def test_a_workers_endpoint_through_its_tunnel(home: Path, lib, box, task_weights: dict[str, Path],
                                                task_images: dict[str, Path]) -> None:
    from app.deploy.store import EndpointStore

    assert cli(home, "import", str(task_weights["detect"])).returncode == 0
    out = cli(home, "deploy", "detect_yolo26n", "--worker", "box", "--json")
    info = json.loads(out.stdout) if out.returncode == 0 else None
    try:
        assert info is not None, out.stderr + out.stdout
        assert info["state"] == "Ready" and info["url"].startswith("http://127.0.0.1:")
        ep = EndpointStore(lib).get(info["id"])
        assert ep.worker == "box" and ep.tunnel_port and ep.port and ep.tunnel_port != ep.port
        assert info["url"] == f"http://127.0.0.1:{ep.tunnel_port}"  # the local end, not the worker's port
        assert predict(info["url"], task_images["detect"], info["token"]).status_code == 200
        assert predict(info["url"], task_images["detect"], None).status_code == 401
        row = listing(home)[0]
        assert row["worker"] == "box" and row["state"] == "Ready" and row["requests"] == 2
        assert row["url"] == info["url"]  # listing keeps the tunnel's URL, not the worker's own
        tunnel_pid = ep.tunnel_pid
        assert tunnel_pid and psutil.pid_exists(tunnel_pid)
        stopped = cli(home, "endpoint", "stop", info["id"])
        assert stopped.returncode == 0 and "Stopped" in stopped.stdout, stopped.stderr
        assert port_free(ep.tunnel_port)
        with socket.socket() as s:  # the worker's own port is free again too (the worker is this machine)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", ep.port))
        try:
            psutil.Process(tunnel_pid).wait(10)  # the tunnel process is gone with the endpoint
        except psutil.NoSuchProcess:
            pass  # gone (and reaped) already
        assert not psutil.pid_exists(tunnel_pid) or psutil.Process(tunnel_pid).status() == psutil.STATUS_ZOMBIE
    finally:
        if info is not None:
            cli(home, "endpoint", "delete", info["id"])
