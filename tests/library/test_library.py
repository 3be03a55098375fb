"""The library store: import, duplicates, atomic writes, rejection without side effects, check/repair, schema."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from app.library import importer
from app.library.db import HEAD, REVISIONS, SchemaTooNew
from app.library.repository import Library, LibraryError
from tests.library.hostile import hostile_payloads, torch_zip


def _snapshot(home: Path) -> dict[str, str]:
    """Every file under models/ with its hash, plus the rows of the models table."""
    files = {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((home / "models").rglob("*")) if p.is_file()}
    con = sqlite3.connect(home / "library.db")
    rows = con.execute("SELECT id, name, sha256 FROM models ORDER BY id").fetchall()
    con.close()
    files["__rows__"] = json.dumps(rows)
    return files


def test_new_library_has_default_project_and_schema(lib, home):
    projects = lib.projects()
    assert [p.name for p in projects] == ["Default"]
    con = sqlite3.connect(home / "library.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    con.close()


def test_revisions_list_matches_alembic_scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from app.library.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_current_head() == HEAD
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == REVISIONS


def test_import_copies_atomically_and_records_everything(lib, checkpoints):
    folder, manifest = checkpoints
    src = folder / "pose_yolo11n.pt"
    r = lib.import_checkpoint(src)
    assert r.state == "added", r.message
    m = r.model
    assert m.weights_path == lib.models_dir / m.id / "weights.pt"
    assert m.weights_path.read_bytes() == src.read_bytes()
    assert m.sha256 == hashlib.sha256(src.read_bytes()).hexdigest() and m.size == src.stat().st_size
    assert (m.task, m.architecture, m.family, m.scale) == ("pose", "YOLO11n-pose", "YOLO11", "n")
    assert m.class_names == manifest["pose_yolo11n.pt"]["names"] and m.nc == 2 and m.imgsz == 64
    assert m.params == manifest["pose_yolo11n.pt"]["params"]
    assert "metrics/mAP50-95(P)" in m.metrics and m.results["epoch"] == [1]
    assert m.train_args["epochs"] == 1 and m.ultralytics_version and m.checkpoint_date
    assert m.original_filename == "pose_yolo11n.pt" and m.status == "Ready" and m.visibility == "private"
    assert m.dataset_ref == manifest["pose_yolo11n.pt"]["data"] and m.dataset is None
    assert sorted(p.name for p in (lib.models_dir / m.id).iterdir()) == ["weights.pt"]  # no temp or sidecar left


def test_same_file_twice_in_one_project_is_reported_not_duplicated(lib, checkpoints):
    folder, _ = checkpoints
    first = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    again = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    assert again.state == "duplicate" and again.model.id == first.model.id
    assert "already in this project" in again.message
    assert len(lib.models()) == 1 and len(list(lib.models_dir.iterdir())) == 1
    other = lib.create_project("Other")
    assert lib.import_checkpoint(folder / "detect_yolo26n.pt", other.id).state == "added"


def test_concurrent_imports_of_one_file_add_it_once(lib, checkpoints):
    folder, _ = checkpoints
    results = []
    threads = [threading.Thread(target=lambda: results.append(lib.import_checkpoint(folder / "obb_yolo26n.pt")))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.state for r in results) == ["added", "duplicate", "duplicate"]
    assert len(list(lib.models_dir.iterdir())) == 1


def test_run_folder_names_models_after_the_run(lib, checkpoints):
    folder, _ = checkpoints
    r = lib.import_checkpoint(folder / "runs" / "detect_yolo26n" / "weights" / "last.pt")
    assert r.model.name == "detect_yolo26n-last"


def test_bad_inputs_write_nothing(lib, home, checkpoints, tmp_path):
    folder, _ = checkpoints
    lib.import_checkpoint(folder / "classify_yolo11n.pt")
    before = _snapshot(home)
    marker = tmp_path / "pwned"
    bad = [torch_zip(tmp_path / f"evil{i}.pt", p) for i, p in enumerate(hostile_payloads(marker).values())]
    bad += [folder / n for n in ("state_dict.pt", "legacy.pt", "torchscript.pt", "yolov5_original.pt")]
    (tmp_path / "notes.pt").write_text("hello")
    bad += [tmp_path / "notes.pt", tmp_path / "vanished.pt", tmp_path / "model.onnx"]
    for path in bad:
        r = lib.import_checkpoint(path)
        assert r.state == "rejected" and r.message, path
    assert not marker.exists()
    assert _snapshot(home) == before


def test_disk_full_while_copying_leaves_nothing(lib, home, checkpoints, monkeypatch):
    folder, _ = checkpoints

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(importer, "copy_to_temp", full)
    before = _snapshot(home)
    r = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    assert r.state == "rejected" and r.code == "disk_full" and "is full" in r.message
    assert _snapshot(home) == before


def test_check_finds_and_repairs_a_crash_between_file_and_row(lib, checkpoints, monkeypatch):
    folder, _ = checkpoints
    keep = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    gone = lib.import_checkpoint(folder / "segment_yolov8n.pt").model

    # Crash after the weights were renamed into place but before the row was committed.
    def crash(*_a, **_k):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(importer, "fsync_dir", crash)
    with pytest.raises(KeyboardInterrupt):
        lib.import_checkpoint(folder / "pose_yolo11n.pt")
    monkeypatch.undo()
    # The importer's cleanup ran for the interrupt; simulate a real crash by recreating what it would leave.
    orphan = lib.models_dir / "0123456789ab"
    orphan.mkdir()
    shutil.copyfile(folder / "pose_yolo11n.pt", orphan / "weights.pt")
    (orphan / importer.SIDECAR).write_text(json.dumps({"source": "/data/pose.pt", "project_id": lib.default_project_id,
                                                       "name": "pose-run"}))
    (lib.models_dir / keep.id / ".weights.pt.deadbeef.tmp").write_bytes(b"half")
    pip_temp = lib.home / "toolchains" / "ncnn" / "lib" / ".record.abc.tmp"  # another program's temp: not ours to delete
    pip_temp.parent.mkdir(parents=True)
    pip_temp.write_bytes(b"pip")
    gone.weights_path.unlink()
    junk = lib.models_dir / "fedcba987654"
    junk.mkdir()
    (junk / "weights.pt").write_bytes(b"garbage")

    report = lib.check()
    assert report.missing_files == [(gone.id, str(gone.weights_path))]
    assert sorted(report.orphan_files) == sorted([str(orphan), str(junk)])
    assert len(report.temp_files) == 1
    repaired = lib.check(repair=True)
    assert len(repaired.repaired) == 4
    after = lib.check()
    assert after.clean and after.marked == [(gone.id, gone.name, "Missing")]
    # Nothing is lost: the row whose weights are gone is kept and marked, the junk folder is moved aside.
    assert sorted((m.name, m.status) for m in lib.models()) == [
        ("detect_yolo26n", "Ready"), ("pose-run", "Ready"), ("segment_yolov8n", "Missing")]
    assert not junk.exists() and (lib.home / "damaged" / junk.name / "weights.pt").read_bytes() == b"garbage"
    assert pip_temp.read_bytes() == b"pip"


def test_schema_newer_than_app_is_refused_untouched(home, checkpoints):
    Library(home).close()
    db = home / "library.db"
    con = sqlite3.connect(db)
    con.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    con.commit()
    con.close()
    for f in home.glob("library.db-*"):
        f.unlink()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNew, match="newer YOLO Desk"):
        Library(home)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # (a reader's -shm file may appear; no write)
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "9999_from_the_future"
    con.close()


def test_trash_restore_and_purge(lib, checkpoints):
    folder, _ = checkpoints
    m = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    lib.trash_model(m.id)
    assert lib.models() == [] and [t.id for t in lib.models(trashed=True)] == [m.id]
    assert lib.import_checkpoint(folder / "detect_yolo26n.pt").state == "added"  # the trash does not block re-adding
    with pytest.raises(LibraryError, match="already in the project"):
        lib.restore_model(m.id)
    assert lib.purge_trash(older_than=timedelta(days=30)) == []
    assert lib.purge_trash(older_than=timedelta(0)) == [m.id]
    assert not (lib.models_dir / m.id).exists()


def test_projects_create_rename_delete_empty_only(lib, checkpoints):
    folder, _ = checkpoints
    p = lib.create_project("Drones")
    with pytest.raises(LibraryError):
        lib.create_project("Drones")
    lib.rename_project(p.id, "Aerial")
    assert "Aerial" in [x.name for x in lib.projects()]
    lib.import_checkpoint(folder / "detect_yolo26n.pt", p.id)
    with pytest.raises(LibraryError, match="still holds 1 model"):
        lib.delete_project(p.id)
    empty = lib.create_project("Empty")
    lib.delete_project(empty.id)
    assert "Empty" not in [x.name for x in lib.projects()]


def test_find_model_by_id_or_unique_name(lib, checkpoints):
    folder, _ = checkpoints
    a = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    assert lib.find_model(a.id).id == a.id and lib.find_model("detect_yolo26n").id == a.id
    other = lib.create_project("Other")
    lib.import_checkpoint(folder / "detect_yolo26n.pt", other.id)
    with pytest.raises(LibraryError, match="2 models are named"):
        lib.find_model("detect_yolo26n")


def test_dataset_link_when_the_dataset_is_in_the_library(lib, checkpoints):
    folder, manifest = checkpoints
    m = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    ds = lib.add_dataset(manifest["detect_yolo26n.pt"]["data"], "shapes", "detect", ["square", "disc"])
    assert lib.model(m.id).dataset == ds


def test_weights_written_with_fsync_and_replace(lib, checkpoints, monkeypatch):
    folder, _ = checkpoints
    calls = []
    real_replace, real_fsync = os.replace, os.fsync
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append(("replace", Path(a).name, Path(b).name)),
                                                      real_replace(a, b))[1])
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(("fsync",)), real_fsync(fd))[1])
    lib.import_checkpoint(folder / "classify_yolo11n.pt")
    replaces = [c for c in calls if c[0] == "replace" and c[2] == "weights.pt"]
    assert len(replaces) == 1 and replaces[0][1].startswith(".weights.pt.") and replaces[0][1].endswith(".tmp")
    first_replace = calls.index(replaces[0])
    assert ("fsync",) in calls[:first_replace]
