"""Setting a worker up: installing packages into its venv, the CLI, ProxyJump, and failures with their reasons."""

from __future__ import annotations

import json
import os
import posixpath
import sys
import time
import zipfile
from pathlib import Path

import pytest

from app.cli import main
from app.jobs.manager import JobManager
from app.jobs.spec import TrainRequest
from app.jobs.ssh_transport import Link, SSHTransport
from app.jobs.workers import probe
from tests.helpers import FAST, wait_for_event

USER = "root" if os.geteuid() == 0 else os.environ.get("USER")


def tiny_wheel(folder: Path) -> Path:
    """A real, minimal wheel (pip installs it offline with --no-index)."""
    whl = folder / "yolodesk_probe-1.0-py3-none-any.whl"
    files = {
        "yolodesk_probe.py": "ANSWER = 42\n",
        "yolodesk_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: yolodesk-probe\nVersion: 1.0\n",
        "yolodesk_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(whl, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr("yolodesk_probe-1.0.dist-info/RECORD", "".join(f"{n},,\n" for n in files)
                   + "yolodesk_probe-1.0.dist-info/RECORD,,\n")
    return whl


def test_install_packages_makes_a_venv_that_still_sees_the_workers_torch(workers, box, tmp_path):
    from app.jobs.workers import install_packages

    whl = tiny_wheel(tmp_path)
    link = Link(workers, box)
    link.client()
    link.shell(f"rm -rf {link.layout.venv}")  # a fresh venv (the worker's home outlives test runs)
    link.close()
    lines: list[str] = []
    w = install_packages(workers, "box", lines.append, packages=["--no-index", str(whl)])
    text = "".join(lines)
    assert "Successfully installed yolodesk-probe-1.0" in text  # pip's output was streamed
    assert w.python.endswith("/.yolodesk-agent/venv/bin/python") and w.python != box.python
    result = probe(workers, "box")  # the venv's interpreter, with the worker's own torch and ultralytics
    assert result.ok, result.problems
    assert result.info["executable"] == w.python and result.info["torch"]
    link = Link(workers, workers.get("box"))
    assert link.shell(f"{w.python} -c 'import yolodesk_probe; print(yolodesk_probe.ANSWER)'")[1] == "42\n"
    link.close()
    workers.update("box", python=sys.executable)


def test_cli_workers_add_test_list_remove(capsys, home, sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("YOLODESK_SSH_CONFIG", str(tmp_path / "none"))
    args = ["workers", "add", "cli-box", "127.0.0.1", "--port", str(sshd.port), "--user", USER,
            "--key", str(sshd.client_key), "--python", sys.executable]
    code = main(args)  # not a terminal: an unknown host key is refused with the command that trusts it
    out, err = capsys.readouterr()
    assert code == 1 and sshd.fingerprint() in err and f"--trust {sshd.fingerprint()}" in err
    code = main(["workers", "test", "cli-box", "--trust", sshd.fingerprint()])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "✓ cli-box is ready" in out and "ultralytics 8." in out
    assert main(["workers", "test", "cli-box"]) == 0  # trusted from now on
    capsys.readouterr()
    assert main(["workers", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "cli-box" and rows[0]["info"]["protocol"] == "1.0" and rows[0]["port"] == sshd.port
    assert "password" not in json.dumps(rows).lower()
    assert main(["workers", "add", "cli-box", "127.0.0.1"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["workers", "remove", "cli-box"]) == 0
    capsys.readouterr()
    assert main(["workers", "test", "cli-box"]) == 1
    assert "no worker named 'cli-box'" in capsys.readouterr().err


def test_proxy_jump_through_a_bastion(sshd, tmp_path, monkeypatch):
    """ProxyJump in ~/.ssh/config: the link to the worker is tunnelled through the jump host."""
    from app.jobs.ssh import KnownHosts, connect, resolve, run

    cfg = tmp_path / "config"
    cfg.write_text(f"Host bastion\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {USER}\n  IdentityFile {sshd.client_key}\n"
                   f"Host inner\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User {USER}\n  IdentityFile {sshd.client_key}\n"
                   "  ProxyJump bastion\n")
    monkeypatch.setenv("YOLODESK_SSH_CONFIG", str(cfg))
    known = KnownHosts(tmp_path / "known_hosts", user_file=tmp_path / "none")
    connect(resolve("bastion"), known, trust=sshd.fingerprint()).close()
    client = connect(resolve("inner"), known)
    assert run(client, "echo through")[1] == "through\n"
    assert client._yolodesk_jump.get_transport().is_active()
    client.close()


def test_the_workers_own_pythonpath_is_kept(lib, workers, tmp_path):
    """A box that keeps packages on PYTHONPATH (set by its login) still finds them next to the agent."""
    from app.jobs.workers import agent_command
    from tests.remote.sshd import start_sshd

    extra = tmp_path / "site"
    extra.mkdir()
    (extra / "yd_site_probe.py").write_text("WHERE = 'login PYTHONPATH'\n")
    server = start_sshd(tmp_path / "sshd", extra=(f"SetEnv PYTHONPATH={extra}",))
    try:
        workers.add("pp", "127.0.0.1", server.port, USER, str(server.client_key), python=sys.executable)
        assert probe(workers, "pp", trust=server.fingerprint()).ok
        link = Link(workers, workers.get("pp"))
        link.client()
        cmd = agent_command(link.worker, link.layout, "info").replace(
            "-m remote_agent info", "-c 'import remote_agent, yd_site_probe; print(yd_site_probe.WHERE)'")
        assert link.shell(cmd)[:2] == (0, "login PYTHONPATH\n")
        link.close()
    finally:
        server.stop()


def _request(data: Path, epochs: int) -> TrainRequest:
    return TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=epochs, imgsz=64, batch=4,
                        extra=dict(FAST))


@pytest.mark.slow  # trains a real model
def test_agent_killed_on_the_worker_fails_the_job_with_the_reason(lib, box, workers, tiny_data):
    manager = JobManager(lib, poll_interval=0.05)
    job = manager.submit_train(_request(tiny_data["detect_big"], 100), worker="box")
    wait_for_event(job, "epoch", timeout=180)
    remote = json.loads((Path(job.run_dir) / "remote.json").read_text())
    link = Link(workers, box)
    link.shell(f"kill -9 -- -{remote['pid']}")  # the OOM killer, or a reboot, as far as the job can tell
    job = manager.wait(job.id, 60)
    assert job.status == "Failed" and "ended without reporting a result" in job.error
    assert lib.model(job.model_id).status == "Failed"
    link.close()
    manager.shutdown()


@pytest.mark.slow  # trains a real model
def test_worker_unreachable_for_long_fails_the_job_saying_it_may_still_run(lib, workers, own_sshd, tiny_data):
    workers.add("flaky", "127.0.0.1", own_sshd.port, USER, str(own_sshd.client_key), python=sys.executable)
    probe(workers, "flaky", trust=own_sshd.fingerprint())
    manager = JobManager(lib, poll_interval=0.05)
    manager._remote["flaky"] = SSHTransport(workers, workers.get("flaky"), give_up_s=3)
    job = manager.submit_train(_request(tiny_data["detect_big"], 100), worker="flaky")
    wait_for_event(job, "epoch", timeout=180)
    remote = json.loads((Path(job.run_dir) / "remote.json").read_text())
    own_sshd.vanish()
    t0 = time.monotonic()
    job = manager.wait(job.id, 120)
    assert job.status == "Failed" and "lost the connection to the worker for too long" in job.error
    assert posixpath.basename(remote["remote_dir"]) in job.error and time.monotonic() - t0 < 90
    os.killpg(remote["pid"], 9)  # (the same machine here) the job went on there
    manager.shutdown()


@pytest.fixture(autouse=True)
def _settle():
    yield
    time.sleep(0.1)
