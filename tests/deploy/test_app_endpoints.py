"""The app's endpoints end to end: ``yolodesk deploy`` / ``endpoints`` / ``endpoint …`` as separate processes,
each over the same library, against the real agent serving a real checkpoint on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """One ``yolodesk`` process over the library at ``home`` (it exits before the next one starts)."""
    env = dict(os.environ, YOLODESK_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def listing(home: Path) -> list[dict]:
    out = cli(home, "endpoints", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # can a server listen there (TIME_WAIT aside)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def deployed(tmp_path: Path, task_weights: dict[str, Path]):
    """A library with the detect checkpoint and an endpoint of it, deployed by a process that has exited."""
    home = tmp_path / "home"
    added = cli(home, "import", str(task_weights["detect"]))
    assert added.returncode == 0, added.stderr
    out = cli(home, "deploy", task_weights["detect"].stem, "--json")
    assert out.returncode == 0, out.stderr + out.stdout
    info = json.loads(out.stdout)
    yield home, info
    cli(home, "endpoint", "delete", info["id"])  # never leave an agent behind


def predict(url: str, image: Path, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with open(image, "rb") as f:
        return httpx.post(f"{url}/predict", files={"file": (image.name, f, "image/png")}, headers=headers,
                          timeout=60)


def test_deploy_ready_serves_with_the_token_only(deployed, task_images: dict[str, Path]) -> None:
    home, info = deployed
    assert set(info) == {"id", "url", "token", "state"} and info["state"] == "Ready"
    assert info["url"].startswith("http://127.0.0.1:")
    ok = predict(info["url"], task_images["detect"], info["token"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["metadata"]["task"] == "detect" and len(ok.json()["images"]) == 1
    assert predict(info["url"], task_images["detect"], None).status_code == 401
    # the token is handed over in a 0600 file of the run folder, never in the spec
    run_dir = next((home / "runs").iterdir())
    assert info["token"] not in (run_dir / "spec.json").read_text()
    assert (run_dir / "token").stat().st_mode & 0o077 == 0


def test_listing_counts_requests_and_a_new_process_stops_it(deployed, task_images: dict[str, Path]) -> None:
    home, info = deployed
    for _ in range(3):
        assert predict(info["url"], task_images["detect"], info["token"]).status_code == 200
    rows = listing(home)
    assert [r["id"] for r in rows] == [info["id"]]
    row = rows[0]
    assert row["state"] == "Ready" and row["url"] == info["url"] and row["backend"] == "pt"
    assert row["worker"] == "local" and row["model"] == "detect_yolo26n"
    assert row["requests"] == 3 and row["p95_ms"] is not None
    port = int(info["url"].rsplit(":", 1)[1])
    assert not port_free(port)
    stopped = cli(home, "endpoint", "stop", info["id"])  # not the process that deployed it
    assert stopped.returncode == 0, stopped.stderr
    assert "Stopped" in stopped.stdout
    assert port_free(port)
    assert listing(home)[0]["state"] == "Stopped"
    run_dir = next((home / "runs").iterdir())
    assert not (run_dir / "token").exists()
    started = cli(home, "endpoint", "start", info["id"])
    assert started.returncode == 0, started.stderr
    assert info["url"] in started.stdout  # the same port: the URL stays
    assert predict(info["url"], task_images["detect"], info["token"]).status_code == 200


def test_delete_stops_it_and_forgets_it(deployed) -> None:
    home, info = deployed
    port = int(info["url"].rsplit(":", 1)[1])
    out = cli(home, "endpoint", "delete", info["id"])
    assert out.returncode == 0, out.stderr
    assert port_free(port)
    assert listing(home) == []
    assert not (home / "endpoint-tokens" / info["id"]).exists()
    again = cli(home, "endpoint", "stop", info["id"])
    assert again.returncode == 1 and "no endpoint" in again.stderr and "Traceback" not in again.stderr


def test_an_agent_killed_shows_failed_with_the_reason(deployed) -> None:
    from app.deploy.store import EndpointStore
    from app.jobs.store import JobStore
    from app.library.repository import Library

    home, info = deployed
    lib = Library(home)
    try:
        job = JobStore(lib).get(EndpointStore(lib).get(info["id"]).job_id or "")
    finally:
        lib.close()
    os.killpg(job.pid or 0, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = listing(home)[0]
        if row["state"] != "Ready":
            break
        time.sleep(0.5)
    assert row["state"] == "Failed", row
    assert row["error"] and "agent process ended without reporting a result" in row["error"]


def test_ctrl_c_before_ready_leaves_nothing_serving(tmp_path: Path, task_weights: dict[str, Path]) -> None:
    home = tmp_path / "home"
    assert cli(home, "import", str(task_weights["detect"])).returncode == 0
    env = dict(os.environ, YOLODESK_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "deploy", "detect_yolo26n"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((home / "runs").glob("*/events.jsonl")):
        time.sleep(0.05)  # the agent has started: now interrupt the wait for Ready
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 130, proc.stderr.read() if proc.stderr else ""
    rows = listing(home)
    assert [r["state"] for r in rows] == ["Stopped"]
    from app.jobs.store import JobStore
    from app.library.repository import Library

    lib = Library(home)
    try:
        job = JobStore(lib).list()[0]
    finally:
        lib.close()
    assert job.status == "Cancelled" and job.pid and not _alive(job.pid)


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
