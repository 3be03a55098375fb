"""Data sets as library items: the scan of each task against what write_dataset wrote, broken data, zips, state."""

from __future__ import annotations

import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from app.demo_data import CLASS_NAMES, TASKS, write_dataset
from app.library.dataset_scan import scan_dataset
from app.library.datasets import (
    DatasetUnusable, ScanCancelled, add_dataset, dataset_info, find_dataset, list_datasets, rescan_dataset,
)


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sets")
    return {t: write_dataset(root / t, t, n_train=6, n_val=3, size=48) for t in TASKS}


def _written_counts(task: str, location: Path) -> dict[str, tuple[int, Counter]]:
    """(images, instances per class name) per split, read straight from the files write_dataset made."""
    out = {}
    for split in ("train", "val"):
        if task == "classify":
            files = list((location / split).rglob("*.png"))
            out[split] = (len(files), Counter(f.parent.name for f in files))
            continue
        root = location.parent
        images = list((root / "images" / split).glob("*.png"))
        lines = [ln for f in (root / "labels" / split).glob("*.txt") for ln in f.read_text().splitlines() if ln]
        out[split] = (len(images), Counter(CLASS_NAMES[int(ln.split()[0])] for ln in lines))
    return out


@pytest.mark.parametrize("task", TASKS)
def test_scan_counts_match_what_was_written(sets, task):
    scan = scan_dataset(sets[task])
    assert scan.task == task and scan.names == sorted(CLASS_NAMES) if task == "classify" else list(CLASS_NAMES)
    assert scan.problems == [] and scan.usable
    for split, (images, instances) in _written_counts(task, sets[task]).items():
        assert images > 0 and sum(instances.values()) > 0
        assert scan.splits[split].images == images
        assert {k: v for k, v in scan.splits[split].instances.items() if v} == dict(instances)
    assert scan.size == sum(f.stat().st_size for f in Path(scan.root).rglob("*") if f.is_file())
    if task == "pose":
        assert scan.kpt_shape == [4, 3]


def _copy(sets, task, tmp_path) -> Path:
    shutil.copytree(sets[task].parent if task != "classify" else sets[task], tmp_path / task)
    if task == "classify":
        return tmp_path / task
    y = tmp_path / task / "data.yaml"
    y.write_text(y.read_text().replace(str(sets[task].parent.resolve()), str((tmp_path / task).resolve())))
    return y


def test_broken_files_are_named_one_by_one(sets, tmp_path):
    y = _copy(sets, "detect", tmp_path)
    labels = y.parent / "labels" / "train"
    (labels / "0000.txt").unlink()  # a missing label
    first = (labels / "0001.txt").read_text().splitlines()
    (labels / "0001.txt").write_text("\n".join(["2 0.5 0.5 0.1 0.1", *first[1:]]) + "\n")  # class id = nc
    (labels / "0002.txt").write_text("0 0.5 0.5 0.1\n")  # a column short
    (labels / "0003.txt").write_text("1 1.5 0.5 0.1 0.1\n")  # not normalised
    (y.parent / "images" / "train" / "0099.jpg").write_bytes(b"not a jpeg at all")  # does not decode
    scan = scan_dataset(y)
    by_file: dict[str, list[tuple[str, str]]] = {}
    for p in scan.problems:
        by_file.setdefault(Path(p.file).name, []).append((p.severity, p.message))
    assert by_file["0000.png"] == [("warning", "no label file (0000.txt): trained as background")]
    assert by_file["0001.txt"] == [("error", "line 1: class id 2 ≥ nc (2 classes)")]
    assert by_file["0002.txt"] == [("error", "line 1: 4 columns, a detect label has 5 (class x y w h)")]
    assert by_file["0003.txt"] == [("error", "line 1: coordinates outside 0…1 (labels must be normalised)")]
    assert [s for s, _ in by_file["0099.jpg"]] == ["error", "warning"] and "does not decode" in by_file["0099.jpg"][0][1]
    assert scan.problem_count == 6 and scan.splits["train"].images == 7 and scan.splits["train"].background == 2
    assert scan.usable  # bad files are skipped in training, the set is still usable


def test_pose_and_segment_column_rules(sets, tmp_path):
    y = _copy(sets, "pose", tmp_path)
    (y.parent / "labels" / "val" / "0000.txt").write_text("0 0.5 0.5 0.2 0.2 0.1 0.1 2\n")  # 1 keypoint, not 4
    scan = scan_dataset(y)
    assert [Path(p.file).name for p in scan.problems] == ["0000.txt"]
    assert "a pose label has 17" in scan.problems[0].message


def test_add_stores_the_scan_and_links_models_both_ways(lib, sets):
    loc = str(sets["detect"])
    model = lib.create_pending_model(lib.default_project_id, "m", task="detect", dataset_ref=loc)
    outcome = add_dataset(lib, sets["detect"], name="shapes")
    info = outcome.info
    assert outcome.added and info.record.name == "shapes" and info.record.kind == "yaml" and info.state == "Ready"
    assert info.record.size == outcome.scan.size > 0 and info.record.checked_at is not None
    assert [m.id for m in info.models] == [model.id] and info.last_used == model.created_at
    assert lib.model(model.id).dataset.id == info.record.id  # the model now links the row
    again = add_dataset(lib, sets["detect"], name="other")
    assert not again.added and [i.record.name for i in list_datasets(lib)] == ["shapes"]
    assert find_dataset(lib, "shapes").record.id == find_dataset(lib, str(info.record.id)).record.id


def test_a_vanished_folder_shows_missing_and_never_crashes(lib, sets, tmp_path):
    y = _copy(sets, "segment", tmp_path)
    ds = add_dataset(lib, y).info
    shutil.rmtree(y.parent)
    assert dataset_info(lib, ds.record.id).state == "Missing"
    assert [i.state for i in list_datasets(lib)] == ["Missing"]
    with pytest.raises(DatasetUnusable, match="does not exist"):
        rescan_dataset(lib, ds.record.id)
    assert dataset_info(lib, ds.record.id).images("train") == 6  # the last scan is kept


def test_unusable_and_hostile_inputs_store_nothing(lib, sets, tmp_path):
    y = _copy(sets, "detect", tmp_path)
    for f in (y.parent / "images" / "val").iterdir():
        f.unlink()
    with pytest.raises(DatasetUnusable, match="no images in val") as caught:
        add_dataset(lib, y)
    assert caught.value.scan is not None and caught.value.scan.splits["train"].images == 6
    bad = tmp_path / "fetch.yaml"
    bad.write_text("train: images/train\nval: images/val\nnames: [a]\ndownload: import os; os.system('touch x')\n")
    with pytest.raises(DatasetUnusable, match="download"):
        add_dataset(lib, bad)
    with pytest.raises(DatasetUnusable, match="neither a classification folder"):
        (tmp_path / "empty").mkdir()
        add_dataset(lib, tmp_path / "empty")
    assert list_datasets(lib) == [] and not (tmp_path / "x").exists()


def _zip_of(folder: Path, out: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f"shapes/{f.relative_to(folder)}")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


def test_a_zip_is_unpacked_into_the_library(lib, sets, tmp_path):
    y = _copy(sets, "obb", tmp_path)
    y.write_text(y.read_text().replace(f"path: {y.parent.resolve()}", "path: ."))
    z = _zip_of(y.parent, tmp_path / "obb.zip")
    info = add_dataset(lib, z).info
    assert info.record.kind == "zip" and info.record.name == "obb" and info.record.task == "obb"
    assert Path(info.record.location).is_relative_to(lib.home / "datasets") and info.images("val") == 3
    assert info.stats["source"] == str(z)


@pytest.mark.parametrize("member, why", [("../x", "'..' path"), ("/abs/x", "absolute path")])
def test_a_hostile_zip_is_refused_whole(lib, sets, tmp_path, member, why):
    z = _zip_of(sets["classify"], tmp_path / "evil.zip", {member: b"owned"})
    with pytest.raises(DatasetUnusable, match=why):
        add_dataset(lib, z)
    assert not (tmp_path / "x").exists() and not Path("/abs/x").exists()
    assert list((lib.home / "datasets").iterdir()) == [] and list_datasets(lib) == []


def test_links_and_zip_bombs_are_refused(lib, tmp_path):
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("train/a/evil")
        info.external_attr = (0o120777 << 16)  # a symlink's mode
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetUnusable, match="link or special file"):
        add_dataset(lib, link)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("train/a/zeros.png", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(DatasetUnusable, match="zip bomb"):
        add_dataset(lib, bomb)
    assert list((lib.home / "datasets").iterdir()) == []


def test_progress_reaches_the_end_and_cancel_stores_nothing(lib, sets, tmp_path):
    seen: list[tuple[int, int]] = []
    add_dataset(lib, sets["pose"], progress=lambda done, total, what: seen.append((done, total)))
    assert seen[-1] == (9, 9) and seen[0][0] == 0
    z = _zip_of(sets["classify"], tmp_path / "c.zip")
    with pytest.raises(ScanCancelled):
        add_dataset(lib, z, cancel=lambda: True)
    assert [i.record.task for i in list_datasets(lib)] == ["pose"]
    assert list((lib.home / "datasets").iterdir()) == []


def test_a_zip_whose_header_lies_about_a_size_is_refused(lib, tmp_path):
    liar = tmp_path / "liar.zip"
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("train/a/big.png", bytes(range(256)) * 8192)  # 2 MiB, declared below as 1000 bytes
    data = bytearray(liar.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers' uncompressed size
        at = data.index(sig) + offset
        data[at:at + 4] = (1000).to_bytes(4, "little")
    liar.write_bytes(bytes(data))
    with pytest.raises(DatasetUnusable, match="does not unpack as its header says"):
        add_dataset(lib, liar)
    assert list((lib.home / "datasets").iterdir()) == []


def test_a_split_path_that_lists_too_many_files_is_refused(sets, monkeypatch):
    import app.library.dataset_scan as dataset_scan

    monkeypatch.setattr(dataset_scan, "MAX_FILES_LISTED", 4)  # the detect set's train folder holds 6 images
    with pytest.raises(DatasetUnusable, match="holds more than 4 files: is the split's path right"):
        scan_dataset(sets["detect"])
