"""Clone and move a model between projects: hard links, checked copies, lineage, names, refusals."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from app.exporters.store import ExportStore
from app.library.clone import clone_model
from app.library.repository import LibraryError
from tests.library.clone_helpers import add_exports, add_validations, sha


@pytest.fixture
def detector(lib, checkpoints, tmp_path):
    """A detector in the Default project with two verified exports and one unverified; and a project Target."""
    folder, _ = checkpoints
    m = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    add_exports(lib, m.id, tmp_path / "artifacts")
    lib.create_project("Target")
    return m


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_ino for p in sorted(root.rglob("*")) if p.is_file()}


def test_clone_links_weights_and_verified_exports_and_keeps_lineage(lib, detector):
    before = sha(detector.weights_path)
    c = clone_model(lib, detector.id, "Target")
    assert (c.project, c.name, c.parent_id, c.parent_name) == ("Target", detector.name, detector.id, detector.name)
    assert c.id != detector.id and c.sha256 == detector.sha256 and c.task == "detect"
    # A hard link: the same inode, no space taken
    assert c.weights_path.stat().st_ino == detector.weights_path.stat().st_ino
    exports = {e.format: e for e in ExportStore(lib).for_model(c.id)}
    assert sorted(exports) == ["onnx", "openvino"]  # the unverified torchscript stays behind
    originals = {e.format: e for e in ExportStore(lib).for_model(detector.id)}
    for fmt in ("onnx", "openvino"):
        e, o = exports[fmt], originals[fmt]
        assert Path(e.path).is_relative_to(lib.models_dir / c.id) and Path(e.path).exists()
        assert (e.sha256, e.verified, e.status, e.size) == (o.sha256, True, "Completed", o.size)
    src_files = _files(lib.models_dir / detector.id / "exports" / "openvino")
    new_files = _files(lib.models_dir / c.id / "exports" / "openvino")
    assert len(src_files) == 3 and new_files == src_files  # same relative paths, same inodes
    assert not (lib.models_dir / c.id / "exports" / "torchscript").exists()
    assert not (lib.models_dir / c.id / "import.json").exists()
    assert sha(detector.weights_path) == before and lib.model(detector.id).project == "Default"
    assert lib.check(deep=True).clean


def test_clone_across_filesystems_copies_and_checks_sha256(lib, detector, monkeypatch):
    def no_link(*_a, **_k):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    c = clone_model(lib, detector.id, "Target")
    assert c.weights_path.stat().st_ino != detector.weights_path.stat().st_ino
    assert sha(c.weights_path) == detector.sha256
    for fmt in ("onnx", "openvino"):  # every export file a copy too: compare files' inodes (a folder's never match)
        src_files = _files(lib.models_dir / detector.id / "exports" / fmt)
        new_files = _files(lib.models_dir / c.id / "exports" / fmt)
        assert src_files and sorted(new_files) == sorted(src_files)
        assert not set(new_files.values()) & set(src_files.values()), f"{fmt} was linked, not copied"
    assert lib.check(deep=True).clean


@pytest.mark.parametrize("rotted", ["weights", "onnx", "openvino"])
def test_a_copy_that_does_not_match_the_recorded_sha256_is_refused(lib, detector, monkeypatch, rotted):
    def no_link(*_a, **_k):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    exports = {e.format: Path(e.path) for e in ExportStore(lib).for_model(detector.id)}
    paths = {"weights": detector.weights_path, "onnx": exports["onnx"], "openvino": exports["openvino"] / "model.bin"}
    paths[rotted].write_bytes(b"rotted")  # the original's file no longer matches its row
    folders = sorted(p.name for p in lib.models_dir.iterdir())
    # caught before any copy: the original is hashed first (its copy is still checked against the row)
    with pytest.raises(LibraryError, match=r"changed on disk \(run yolodesk check --deep\); nothing was cloned"):
        clone_model(lib, detector.id, "Target")
    assert sorted(p.name for p in lib.models_dir.iterdir()) == folders
    assert lib.models(lib.project_by_name("Target").id) == []


def test_name_is_deduplicated_in_the_target(lib, detector, checkpoints):
    target = lib.project_by_name("Target").id
    other = lib.import_checkpoint(checkpoints[0] / "classify_yolo11n.pt", target).model
    lib.rename_model(other.id, detector.name)
    c = clone_model(lib, detector.id, target)
    assert c.name == f"{detector.name} (2)"


def test_same_weights_in_the_target_are_refused_and_nothing_is_written(lib, detector):
    first = clone_model(lib, detector.id, "Target")
    folders = sorted(p.name for p in lib.models_dir.iterdir())
    with pytest.raises(LibraryError, match=f"already there as “{first.name}” in “Target”"):
        clone_model(lib, detector.id, "Target")
    with pytest.raises(LibraryError, match="already there as"):  # its own project holds the same weights
        clone_model(lib, detector.id, "Default")
    with pytest.raises(LibraryError, match="already there as"):
        clone_model(lib, detector.id, "Target", move=True)
    assert sorted(p.name for p in lib.models_dir.iterdir()) == folders
    assert len(lib.models()) == 2


def test_clone_of_a_clone_and_a_trashed_model(lib, detector):
    lib.create_project("Third")
    c = clone_model(lib, detector.id, "Target")
    cc = clone_model(lib, c.id, "Third")
    assert cc.parent_id == c.id and lib.model(cc.id).parent_name == detector.name
    lib.trash_model(c.id)
    with pytest.raises(LibraryError, match="is in the trash"):
        clone_model(lib, c.id, "Default")
    with pytest.raises(LibraryError, match="no project named 'Nowhere'"):
        clone_model(lib, detector.id, "Nowhere")


def test_move_rehomes_the_same_model_and_its_exports(lib, detector, checkpoints):
    target = lib.project_by_name("Target").id
    other = lib.import_checkpoint(checkpoints[0] / "classify_yolo11n.pt", target).model
    lib.rename_model(other.id, detector.name)
    files = _files(lib.models_dir / detector.id)
    exports = ExportStore(lib).for_model(detector.id)
    moved = clone_model(lib, detector.id, "Target", move=True)
    assert (moved.id, moved.project_id, moved.name) == (detector.id, target, f"{detector.name} (2)")
    assert _files(lib.models_dir / detector.id) == files  # nothing on disk moved
    assert ExportStore(lib).for_model(detector.id) == exports
    assert [m.id for m in lib.models(lib.default_project_id)] == []
    with pytest.raises(LibraryError, match="is already in “Target”"):
        clone_model(lib, detector.id, "Target", move=True)
    assert lib.check(deep=True).clean


def test_weights_gone_from_disk_are_a_verdict_not_an_io_error(lib, detector):
    detector.weights_path.unlink()
    with pytest.raises(LibraryError, match="the weights of “detect_yolo26n” are not in the library"):
        clone_model(lib, detector.id, "Target")
    assert lib.models(lib.project_by_name("Target").id) == []
    assert sorted(p.name for p in lib.models_dir.iterdir()) == [detector.id]


def test_a_clone_takes_the_originals_validations_and_a_move_keeps_them(lib, detector, tmp_path, monkeypatch):
    from app.validation.store import delete_validation, list_validations, load_capture

    def no_link(*_a, **_k):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    add_validations(lib, detector.id, tmp_path / "captures")
    originals = list_validations(lib, detector.id)
    clones = {}
    for mode in ("link", "copy"):
        if mode == "copy":  # another filesystem: the capture is copied and checked
            monkeypatch.setattr(os, "link", no_link)
        c = clone_model(lib, detector.id, lib.create_project(f"Target {mode}").id)
        clones[mode] = c
        copies = list_validations(lib, c.id)
        assert len(copies) == len(originals) == 2
        for o, v in zip(originals, copies, strict=True):  # newest first, as the original's
            assert (v.data, v.split, v.args, v.summary, v.created_at) == (o.data, o.split, o.args, o.summary,
                                                                          o.created_at)
            assert v.id != o.id and v.model_id == c.id and v.job_id is None and o.job_id is not None
            assert Path(v.path).parent == lib.models_dir / c.id / "validations"
            assert load_capture(v) == load_capture(o)
            same_inode = Path(v.path).stat().st_ino == Path(o.path).stat().st_ino
            assert same_inode == (mode == "link")
    delete_validation(lib, originals[0].id)  # the clones' are their own, the hard-linked one's too
    for c in clones.values():
        kept = list_validations(lib, c.id)
        assert len(kept) == 2 and Path(kept[0].path).exists() and load_capture(kept[0]) is not None
    assert lib.check(deep=True).clean
    moved = clone_model(lib, detector.id, "Target", move=True)
    assert moved.id == detector.id and moved.project_id == lib.project_by_name("Target").id  # it did move
    assert list_validations(lib, moved.id) == originals[1:]
