"""A full local disk while an artifact is fetched from a worker (a real sshd on 127.0.0.1): one verdict, no .part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.jobs.ssh_link import Link, download
from app.library.disk_space import DiskFullError
from tests.exporters.test_disk_full import fill, mounts  # noqa: F401  (fixture)
from tests.remote.conftest import box, sshd, workers  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _no_user_ssh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLODESK_SSH_CONFIG", str(tmp_path / "no-ssh-config"))


def test_fetching_onto_a_full_disk_fails_at_once_and_leaves_no_part(workers, box, mounts, tmp_path):  # noqa: F811
    remote = tmp_path / "on-worker" / "model.onnx"  # the worker is this machine's sshd
    remote.parent.mkdir()
    remote.write_bytes(os.urandom(3 * 2**20))
    here = mounts(tmp_path / "from-worker", "2m")
    fill(here, leave=256 * 1024)
    link = Link(workers, box)
    try:
        with pytest.raises(DiskFullError) as info:
            link.retrying(lambda: download(link, str(remote), here / "model.onnx"), give_up_s=60)
    finally:
        link.close()
    assert str(info.value).startswith(f"the disk holding {here} is full (") and " MB free)" in str(info.value)
    assert sorted(p.name for p in here.iterdir()) == ["filler"]  # no model.onnx, no model.onnx.part
