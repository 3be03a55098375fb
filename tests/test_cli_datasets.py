"""``yolodesk datasets``: the listing's shape, add's problems and exit codes, show's counts per class and split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.entry import main
from app.demo_data import write_dataset

LIST_KEYS = {"id", "name", "task", "location", "kind", "classes", "names", "train_images", "val_images", "size",
             "models", "last_used", "state", "checked_at"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def pose_set(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("cli") / "pose", "pose", n_train=5, n_val=3, size=48)


def test_list_add_show_shapes_and_exit_codes(capsys, home, pose_set, tmp_path):
    assert run(capsys, "datasets") == (0, "no data sets (yolodesk datasets add PATH adds one)\n", "")
    code, out, err = run(capsys, "datasets", "add", str(pose_set), "--name", "poses")
    assert code == 0 and out.startswith("added: poses (id 1) · pose · 2 classes · train 5, val 3 images") and not err
    code, out, _ = run(capsys, "datasets", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and set(rows[0]) == LIST_KEYS
    assert (rows[0]["train_images"], rows[0]["val_images"], rows[0]["state"]) == (5, 3, "Ready")
    code, out, _ = run(capsys, "datasets", "show", "poses", "--json")
    shown = json.loads(out)
    labels = [ln for f in (pose_set.parent / "labels" / "val").glob("*.txt") for ln in f.read_text().splitlines()]
    assert code == 0 and sum(shown["splits"]["val"]["instances"].values()) == len(labels) > 0
    assert shown["problems"] == [] and shown["kpt_shape"] == [4, 3]
    code, out, _ = run(capsys, "datasets")
    assert code == 0 and out.splitlines()[0].split() == ["ID", "NAME", "TASK", "CLASSES", "TRAIN", "VAL", "SIZE",
                                                         "MODELS", "LAST", "USED", "STATE"]
    assert out.splitlines()[1].split()[:6] == ["1", "poses", "pose", "2", "5", "3"]
    code, out, _ = run(capsys, "datasets", "show", "1")
    assert code == 0 and "square" in out and "(images)" in out


def test_add_prints_problems_per_file_and_still_adds(capsys, home, tmp_path):
    y = write_dataset(tmp_path / "d", "detect", n_train=4, n_val=2, size=48)
    (y.parent / "labels" / "train" / "0001.txt").write_text("5 0.5 0.5 0.2 0.2\n")
    code, out, _ = run(capsys, "datasets", "add", str(y))
    assert code == 0 and "1 problem(s) (1 error(s)" in out
    assert f"  error: {y.parent / 'labels' / 'train' / '0001.txt'}: line 1: class id 5 ≥ nc (2 classes)" in out
    code, out, _ = run(capsys, "datasets", "show", "d")
    assert code == 0 and "1 problem(s):" in out


def test_unusable_inputs_exit_1_with_one_line(capsys, home, tmp_path):
    (tmp_path / "nothing").mkdir()
    for path in (tmp_path / "nothing", tmp_path / "absent.yaml"):
        code, out, err = run(capsys, "datasets", "add", str(path))
        assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("yolodesk datasets add: ")
    assert run(capsys, "datasets", "show", "nope")[0] == 1
    assert run(capsys, "datasets", "--json")[1] == "[]\n"


def test_a_vanished_data_set_lists_as_missing_in_a_real_process(home, tmp_path):
    y = write_dataset(tmp_path / "gone", "detect", n_train=2, n_val=1, size=32)
    cmd = [sys.executable, "-m", "app.cli"]
    assert subprocess.run([*cmd, "datasets", "add", str(y)], capture_output=True, timeout=60).returncode == 0
    for f in sorted(y.parent.rglob("*"), reverse=True):
        f.unlink() if f.is_file() else f.rmdir()
    y.parent.rmdir()
    proc = subprocess.run([*cmd, "datasets", "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["state"] == "Missing"
    proc = subprocess.run([*cmd, "datasets", "rescan", "gone"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.startswith("yolodesk datasets rescan: ") and "Traceback" not in \
        proc.stderr
