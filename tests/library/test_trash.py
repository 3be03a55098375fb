"""The trash on a real library: list, restore (clashes), delete for ever (files gone, check clean), projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.library.orm import Export, Model
from app.library.repository import LibraryError
from app.library.trash import days_left
from app.library.orm import utcnow


def _two(lib, checkpoints, project_id=None):
    folder, _ = checkpoints
    a = lib.import_checkpoint(folder / "detect_yolo26n.pt", project_id).model
    b = lib.import_checkpoint(folder / "classify_yolo11n.pt", project_id).model
    return a, b


def test_trashed_lists_name_project_days_left_and_size(lib, checkpoints):
    a, b = _two(lib, checkpoints)
    lib.trash_model(a.id)
    shown = lib.trashed()
    assert [t.id for t in shown] == [a.id]
    t = shown[0]
    assert (t.name, t.project, t.days_left) == (a.name, "Default", 29)
    assert t.size >= a.size > 0  # the weights at least
    assert set(t.to_json()) == {"id", "name", "project", "deleted_at", "days_left"}
    assert days_left(utcnow() - timedelta(days=31)) == 0


def test_delete_forever_removes_rows_files_and_exports_and_check_is_clean(lib, checkpoints):
    a, b = _two(lib, checkpoints)
    export_dir = lib.models_dir / a.id / "exports" / "onnx"
    export_dir.mkdir(parents=True)
    (export_dir / "model.onnx").write_bytes(b"x" * 100)
    with lib.write() as s:
        s.add(Export(id="e1", model_id=a.id, format="onnx", args={}, status="Completed"))
    with pytest.raises(LibraryError, match="not in the trash"):
        lib.delete_forever([a.id])  # a live model is refused
    assert (lib.models_dir / a.id).is_dir()
    lib.trash_model(a.id)
    assert lib.delete_forever([a.id]) == [a.id]
    assert not (lib.models_dir / a.id).exists()
    assert not list(lib.home.glob(".*.tmp"))
    with lib.read() as s:
        assert s.get(Model, a.id) is None and s.scalars(select(Export)).all() == []
    assert [m.id for m in lib.models()] == [b.id]  # the other one is untouched
    assert lib.check().clean


def test_a_crash_between_the_commit_and_the_removal_leaves_a_temp_check_removes(lib, checkpoints, monkeypatch):
    from app.library import trash

    a, b = _two(lib, checkpoints)
    lib.trash_model(a.id)
    monkeypatch.setattr(trash, "_remove", lambda _lib, _moved: None)  # the process dies right after the commit
    lib.delete_forever([a.id])
    report = lib.check()
    assert not report.orphan_files and len(report.temp_files) == 1  # never adopted back as a live model
    lib.check(repair=True)
    assert lib.check().clean and [m.id for m in lib.models()] == [b.id]


def test_empty_trash_and_purge(lib, checkpoints):
    a, b = _two(lib, checkpoints)
    lib.trash_model(a.id)
    lib.trash_model(b.id)
    assert lib.purge_trash() == []  # not 30 days yet
    with lib.write() as s:
        s.get(Model, a.id).deleted_at = utcnow() - timedelta(days=31)
    assert lib.purge_trash() == [a.id]
    assert [t.id for t in lib.trashed()] == [b.id]
    assert lib.empty_trash() == [b.id]
    assert lib.trashed() == [] and lib.check().clean
    assert list(lib.models_dir.iterdir()) == []


def test_restore_renames_on_a_name_clash_and_says_so(lib, checkpoints):
    a, b = _two(lib, checkpoints)
    lib.trash_model(a.id)
    lib.rename_model(b.id, a.name)
    back = lib.restore(a.id)
    assert back.model.name == f"{a.name} (2)" and "is taken" in back.note
    assert back.model.deleted_at is None


def test_restore_refuses_the_same_weights_twice(lib, checkpoints):
    folder, _ = checkpoints
    a = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    lib.trash_model(a.id)
    lib.import_checkpoint(folder / "detect_yolo26n.pt")
    with pytest.raises(LibraryError, match="already in the project"):
        lib.restore(a.id)
    assert [t.id for t in lib.trashed()] == [a.id]  # still in the trash, nothing lost


def test_a_project_holding_only_trashed_models_is_deleted_with_them(lib, checkpoints):
    p = lib.create_project("Drones")
    a, b = _two(lib, checkpoints, p.id)
    lib.trash_model(a.id)
    with pytest.raises(LibraryError, match="still holds 1 model"):
        lib.delete_project(p.id, with_trash=True)  # a live model still refuses
    assert lib.project_contents(p.id) == (1, 1)
    lib.trash_model(b.id)
    with pytest.raises(LibraryError, match="2 model"):
        lib.delete_project(p.id)  # without consent, the trash is not deleted
    assert lib.delete_project(p.id, with_trash=True) == 2
    assert "Drones" not in [x.name for x in lib.projects()]
    assert lib.trashed() == [] and list(lib.models_dir.iterdir()) == [] and lib.check().clean
