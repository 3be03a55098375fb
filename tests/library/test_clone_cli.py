"""``yolodesk clone`` and the lineage keys of ``list --json``: JSON shapes, one-line verdicts, exit codes."""

from __future__ import annotations

import json

import pytest

from app.cli import main

OLD_LIST_KEYS = {"id", "project", "name", "task", "architecture", "status", "metrics", "names", "nc", "imgsz",
                 "params", "sha256", "size", "visibility", "created_at", "deleted_at"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _listed(capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    return {m["id"]: m for m in json.loads(out)}


def test_clone_json_is_the_list_entry_and_list_gains_parent_and_dataset(capsys, lib, checkpoints):
    m = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt").model
    assert m.dataset_ref  # the checkpoint names the data it was trained on
    lib.create_project("Target")
    entry = _listed(capsys)[m.id]
    assert set(entry) == OLD_LIST_KEYS | {"parent_id", "dataset"}
    assert (entry["parent_id"], entry["dataset"]) == (None, m.dataset_ref)  # no linked data set: the data ref
    lib.add_dataset(m.dataset_ref, "tiny-detect", "detect", ["a", "b"])
    assert _listed(capsys)[m.id]["dataset"] == "tiny-detect"

    code, out, err = run(capsys, "clone", m.id, "--project", "Target", "--json")
    assert (code, err) == (0, "")
    printed = json.loads(out)
    listed = _listed(capsys)
    assert printed == listed[printed["id"]]
    assert (printed["parent_id"], printed["project"], printed["dataset"]) == (m.id, "Target", "tiny-detect")


def test_clone_verdicts_and_exit_codes(capsys, lib, checkpoints):
    m = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt").model
    lib.create_project("Target")
    lib.create_project("Other")
    code, out, _ = run(capsys, "clone", m.name, "--project", "Target")
    assert code == 0 and out.startswith(f"cloned '{m.name}' [{m.id}] to project 'Target' as '{m.name}' [")
    code, out, err = run(capsys, "clone", m.id, "--project", "Target")
    assert (code, out) == (1, "")
    assert err == f"yolodesk clone: already there as “{m.name}” in “Target”; nothing was written\n"
    code, _, err = run(capsys, "clone", m.id, "--project", "Nowhere")
    assert code == 1 and err == "yolodesk clone: no project named 'Nowhere'\n"
    code, _, err = run(capsys, "clone", "no-such-model", "--project", "Target")
    assert code == 1 and err.count("\n") == 1 and "no-such-model" in err
    code, out, err = run(capsys, "clone", m.id, "--project", "Other", "--move")
    assert (code, err) == (0, "") and out == f"moved '{m.name}' [{m.id}] to project 'Other'\n"
    assert lib.model(m.id).project == "Other"
    with pytest.raises(SystemExit) as usage:
        main(["clone", m.id])  # --project is required
    assert usage.value.code == 2
