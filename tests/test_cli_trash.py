"""`yolodesk trash`, `trash empty`, `trash delete`, `visibility`: JSON shapes and exit codes on a real library."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from app.cli import main
from app.library.repository import Library


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def two(home, checkpoints):
    folder, _ = checkpoints
    lib = Library(home)
    a = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    b = lib.import_checkpoint(folder / "classify_yolo11n.pt").model
    yield lib, a, b
    lib.close()


def test_trash_json_lists_each_trashed_model(capsys, two):
    lib, a, b = two
    assert run(capsys, "trash", "--json")[:2] == (0, "[]\n")
    assert run(capsys, "trash")[1] == "the trash is empty\n"
    assert run(capsys, "delete", a.id)[0] == 0
    code, out, _ = run(capsys, "trash", "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["id"] for d in data] == [a.id]
    assert set(data[0]) == {"id", "name", "project", "deleted_at", "days_left"}
    assert (data[0]["name"], data[0]["project"], data[0]["days_left"]) == (a.name, "Default", 29)
    assert datetime.fromisoformat(data[0]["deleted_at"]).tzinfo is not None
    code, out, _ = run(capsys, "trash")
    assert code == 0 and a.id in out and "29" in out


def test_trash_delete_and_empty_delete_for_ever(capsys, two):
    lib, a, b = two
    run(capsys, "delete", a.id)
    run(capsys, "delete", b.id)
    code, _, err = run(capsys, "trash", "delete", "no-such-model")
    assert code == 1 and err.count("\n") == 1 and "no single trashed model" in err
    code, out, _ = run(capsys, "trash", "delete", a.id)
    assert code == 0 and "for ever" in out and not (lib.models_dir / a.id).exists()
    code, out, _ = run(capsys, "trash", "empty")
    assert (code, out) == (0, "deleted 1 model(s) for ever\n")
    assert lib.trashed() == [] and lib.check().clean
    assert run(capsys, "check")[0] == 0


def test_trash_usage_errors_exit_2(capsys, two):
    assert run(capsys, "trash", "empty", "x")[0] == 2
    assert run(capsys, "trash", "delete")[0] == 2
    with pytest.raises(SystemExit) as e:
        main(["trash", "burn"])
    assert e.value.code == 2


def test_visibility_sets_it_and_refuses_another_word(capsys, two):
    lib, a, _b = two
    code, out, _ = run(capsys, "visibility", a.id, "public")
    assert code == 0 and "is public" in out and lib.model(a.id).visibility == "public"
    code, _, _ = run(capsys, "visibility", a.id, "private")
    assert code == 0 and lib.model(a.id).visibility == "private"
    with pytest.raises(SystemExit) as e:
        main(["visibility", a.id, "secret"])
    assert e.value.code == 2 and lib.model(a.id).visibility == "private"
    capsys.readouterr()
    code, _, err = run(capsys, "visibility", "nobody", "public")
    assert code == 1 and "no model" in err
