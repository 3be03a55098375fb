"""A real OpenSSH server on 127.0.0.1 (started here) and a library with it added as a worker."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.remote.sshd import SSHD, Sshd, start_sshd


def _require_sshd() -> None:
    if not (os.path.exists(SSHD) and shutil.which("ssh-keygen")):
        if os.environ.get("CI"):
            pytest.fail("OpenSSH server missing: packaging/bootstrap.sh test installs openssh-server when it may")
        pytest.skip("OpenSSH server (sshd) is not installed: apt-get install -y openssh-server")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Sshd:
    _require_sshd()
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def own_sshd(tmp_path: Path) -> Sshd:
    """A server of the test's own (for tests that change its host key or stop it)."""
    _require_sshd()
    server = start_sshd(tmp_path / "sshd")
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _no_user_ssh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLODESK_SSH_CONFIG", str(tmp_path / "no-ssh-config"))


@pytest.fixture
def workers(lib):
    from app.jobs.workers import WorkerStore

    return WorkerStore(lib)


@pytest.fixture
def box(workers, sshd: Sshd):
    """Worker ``box``: the test sshd, this interpreter (torch + ultralytics), its host key trusted and tested."""
    from app.jobs.workers import probe

    workers.add("box", "127.0.0.1", sshd.port, "root" if os.geteuid() == 0 else os.environ.get("USER"),
                str(sshd.client_key), python=sys.executable)
    result = probe(workers, "box", trust=sshd.fingerprint())
    assert result.ok, result.problems
    return workers.get("box")


@pytest.fixture(autouse=True)
def _tidy_worker_home():
    """The worker here is this machine: remove the job folders a test left in ~/.yolodesk-agent/jobs."""
    jobs = Path.home() / ".yolodesk-agent" / "jobs"
    before = set(jobs.iterdir()) if jobs.is_dir() else set()
    yield
    if jobs.is_dir():
        for folder in set(jobs.iterdir()) - before:
            shutil.rmtree(folder, ignore_errors=True)
