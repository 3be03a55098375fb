"""A real single-node Ray cluster (``ray start --head``) with token auth, its dashboard on 127.0.0.1 only.

Used by the ``ray_head`` fixture (tests/cluster/conftest.py) and bench/cluster_overhead.py. The head gets
free ports, its own ``--temp-dir`` (its sockets and logs) and a generated token (``RAY_AUTH_MODE=token``:
the Jobs API answers 401 without it); ``ray stop --force`` ends it and nothing of it may be left running.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

RAY = Path(sys.executable).with_name("ray")  # the venv's ray CLI (the test extra installs ray[default])


@dataclass(frozen=True)
class RayHead:
    """The running head: its folder, the dashboard port on its loopback and the token the Jobs API wants."""

    root: Path
    dashboard_port: int
    token: str

    def client(self):  # type: ignore[no-untyped-def]
        """A Jobs API client straight to the dashboard (the test's own view of the cluster, not the app's)."""
        from ray.job_submission import JobSubmissionClient

        return JobSubmissionClient(f"http://127.0.0.1:{self.dashboard_port}",
                                   headers={"Authorization": f"Bearer {self.token}"})

    def status(self, submission_id: str) -> str:
        """Ray's JobStatus of a submission (PENDING, RUNNING, STOPPED, SUCCEEDED, FAILED)."""
        return str(self.client().get_job_status(submission_id).value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def processes_of(root: Path) -> list[psutil.Process]:
    """Ray's processes for this head (each is started with a path under its temp dir)."""
    out = []
    for p in psutil.process_iter(["cmdline", "status"]):
        if p.info["status"] != psutil.STATUS_ZOMBIE and str(root) in " ".join(p.info["cmdline"] or []):
            out.append(p)
    return out


@contextmanager
def start_ray_head(num_cpus: int = 2) -> Iterator[RayHead]:
    """``ray start --head`` with token auth on free ports; ``ray stop --force`` afterwards, nothing left."""
    # Ray's AF_UNIX sockets live under --temp-dir: a short path under /tmp keeps them under the 107-byte limit
    root = Path(tempfile.mkdtemp(prefix="ydray-", dir="/tmp"))
    token = secrets.token_hex(32)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0"}
    port = _free_port()
    command = [str(RAY), "start", "--head", f"--num-cpus={num_cpus}", "--node-ip-address=127.0.0.1",
               "--dashboard-host=127.0.0.1", f"--dashboard-port={port}", f"--port={_free_port()}",
               f"--ray-client-server-port={_free_port()}", f"--dashboard-agent-listen-port={_free_port()}",
               f"--temp-dir={root}", "--include-dashboard=true", "--disable-usage-stats"]
    try:
        started = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        if started.returncode != 0:
            raise RuntimeError(f"ray start failed (exit {started.returncode}): {started.stderr[-2000:]}")
        head = RayHead(root, port, token)
        deadline = time.monotonic() + 60
        while True:  # the dashboard's job module comes up a little after `ray start` returns
            try:
                head.client().list_jobs()
                break
            except Exception:  # noqa: BLE001 — not answering yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield head
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)
        deadline = time.monotonic() + 15
        while processes_of(root) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = processes_of(root)
        for p in left:
            p.kill()
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"Ray processes left after ray stop --force: {[p.info['cmdline'][:2] for p in left]}"


def ray_missing() -> str | None:
    """Why Ray cannot be started here, or None."""
    if not RAY.exists():
        return f"Ray is not installed in this environment ({RAY} missing): pip install 'ray[default]'"
    return None
