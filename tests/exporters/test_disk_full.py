"""A full disk (a real, small tmpfs) while a job's run folder is made or an export artifact is stored.

The job fails with "the disk holding … is full (N MB free)" and nothing half-written is left behind.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from app.exporters.store import ExportStore
from app.library.disk_space import DiskFullError


def mount_tmpfs(where: Path, size: str) -> None:
    """A small tmpfs at ``where`` (root only); the test is skipped, saying why, where mounting is refused."""
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and mount permission): {r.stderr.strip()}")


def fill(folder: Path, leave: int = 0) -> None:
    """Write a filler file until the disk is full, then give back ``leave`` bytes."""
    path = folder / "filler"
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC
    if leave:
        os.truncate(path, max(0, path.stat().st_size - leave))


@pytest.fixture
def mounts():
    made: list[Path] = []

    def mount(where: Path, size: str) -> Path:
        mount_tmpfs(where, size)
        made.append(where)
        return where

    yield mount
    for where in reversed(made):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _left_over(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name != "filler")


@pytest.mark.parametrize("as_folder", [False, True])
def test_an_export_artifact_on_a_full_disk_is_refused_and_leaves_nothing(lib, mounts, tmp_path, as_folder):
    models = mounts(lib.models_dir, "4m")
    (models / "m1" / "exports").mkdir(parents=True)
    fill(models, leave=512 * 1024)
    src = tmp_path / ("model_openvino_model" if as_folder else "model.onnx")
    if as_folder:
        src.mkdir()
        (src / "model.xml").write_bytes(b"<xml/>")
        (src / "model.bin").write_bytes(os.urandom(2 * 2**20))
    else:
        src.write_bytes(os.urandom(2 * 2**20))  # 2 MB into 0.5 MB free
    with pytest.raises(DiskFullError) as info:
        ExportStore(lib).place("m1", "onnx", src)
    message = str(info.value)
    assert message.startswith(f"the disk holding {models / 'm1' / 'exports'} is full (") and " MB free)" in message
    assert float(message.split("(")[1].split(" MB")[0]) >= 0.4  # the temp copy was removed: its space is back
    assert _left_over(models) == ["m1", "m1/exports"]  # no temp folder, no half artifact


def test_a_run_folder_on_a_full_disk_fails_the_job_with_the_reason(lib, mounts, checkpoints):
    from app.jobs.manager import JobManager

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    runs = mounts(lib.home / "runs", "1m")
    fill(runs)
    manager = JobManager(lib, poll_interval=0.05)
    try:
        job = manager.wait(manager.submit_export(model.id, "torchscript", {"imgsz": 64}).id, 60)
    finally:
        manager.shutdown()
    assert job.status == "Failed"
    assert f"the disk holding {runs} is full (0.0 MB free)" in job.error, job.error
    assert "Errno" not in job.error and "Traceback" not in job.error
    assert _left_over(runs) == []  # the run folder is made when the agent starts: it failed, so none is left
    assert ExportStore(lib).for_model(model.id)[0].status == "Failed"
