"""Clone across real filesystems (a tmpfs under the original's folder: os.link says EXDEV itself) and onto a full disk."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.exporters.store import ExportStore
from app.library.clone import clone_model
from app.library.repository import Library, LibraryError
from tests.library.clone_helpers import add_exports, sha


def _mount(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and mount permission): {r.stderr.strip()}")


@pytest.fixture
def mounts():
    made: list[Path] = []
    yield lambda where, size: (_mount(where, size), made.append(where))
    for where in reversed(made):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _on_its_own_disk(lib: Library, model_id: str, mounts) -> Path:  # noqa: ANN001
    """The original's folder moved onto a tmpfs of its own (its files put back in place, bytes unchanged)."""
    folder = lib.models_dir / model_id
    aside = folder.with_name(folder.name + ".aside")
    shutil.copytree(folder, aside)
    shutil.rmtree(folder)
    mounts(folder, "64m")
    shutil.copytree(aside, folder, dirs_exist_ok=True)
    shutil.rmtree(aside)
    return folder


def test_a_clone_across_filesystems_is_a_checked_copy(lib, checkpoints, tmp_path, mounts):
    m = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt").model
    add_exports(lib, m.id, tmp_path / "artifacts")
    folder = _on_its_own_disk(lib, m.id, mounts)
    assert os.stat(folder).st_dev != os.stat(lib.models_dir).st_dev
    with pytest.raises(OSError) as link:  # what the clone meets: the kernel refuses a link across filesystems
        os.link(m.weights_path, lib.models_dir / "probe")
    assert link.value.errno == errno.EXDEV
    lib.create_project("Target")
    c = clone_model(lib, m.id, "Target")
    assert os.stat(c.weights_path).st_dev != os.stat(m.weights_path).st_dev
    assert sha(c.weights_path) == m.sha256 == sha(m.weights_path)
    exports = {e.format: e for e in ExportStore(lib).for_model(c.id)}
    assert sorted(exports) == ["onnx", "openvino"] and all(Path(e.path).exists() for e in exports.values())
    assert lib.check(deep=True).clean


def test_a_full_disk_during_the_copy_is_one_verdict_and_leaves_nothing(tmp_path, checkpoints, mounts, monkeypatch):
    home = tmp_path / "home"
    mounts(home, "24m")
    monkeypatch.setenv("YOLODESK_HOME", str(home))
    lib = Library(home)
    try:
        m = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt").model
        lib.create_project("Target")
        _on_its_own_disk(lib, m.id, mounts)
        filler = home / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as e:
                assert e.errno == errno.ENOSPC
        with open(filler, "r+b") as f:  # room for the sidecar and the database, not for 5 MB of weights
            f.truncate(os.path.getsize(filler) - 1_000_000)
        before = sorted(p.name for p in lib.models_dir.iterdir())
        with pytest.raises(LibraryError, match=r"^the disk holding .* is full \(.* MB free\); nothing was written$"):
            clone_model(lib, m.id, "Target")
        assert sorted(p.name for p in lib.models_dir.iterdir()) == before
        assert lib.models(lib.project_by_name("Target").id) == [] and sha(m.weights_path) == m.sha256
        assert lib.check().clean
    finally:
        lib.close()
