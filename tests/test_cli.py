"""The yolodesk command line: exit codes, JSON shapes, import/list/check against a real library."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main

INSPECT_KEYS = {"path", "ok", "error", "task", "architecture", "names", "nc", "imgsz", "params", "metrics", "epochs",
                "train_args", "ultralytics_version", "date", "sha256", "size"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_json_for_good_and_bad_files(capsys, home, checkpoints, tmp_path):
    folder, manifest = checkpoints
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00" * 100)
    code, out, _ = run(capsys, "inspect", "--json", str(folder / "detect_yolo26n.pt"), str(junk))
    assert code == 1
    data = json.loads(out)
    assert [d["ok"] for d in data] == [True, False]
    good, bad = data
    assert INSPECT_KEYS <= set(good) and INSPECT_KEYS - {"task", "architecture", "names", "nc", "imgsz", "params",
                                                          "metrics", "epochs", "train_args", "ultralytics_version",
                                                          "date"} <= set(bad)
    want = manifest["detect_yolo26n.pt"]
    assert (good["task"], good["architecture"], good["names"], good["nc"]) == ("detect", "YOLO26n", want["names"], 2)
    assert good["params"] == want["params"] and good["epochs"] == 2 and good["error"] is None
    assert len(good["sha256"]) == 64 and good["size"] > 0
    assert bad["error"].startswith("not a PyTorch checkpoint") and bad["size"] == 100
    assert not (home / "library.db").exists()  # inspect never touches the library


def test_inspect_all_good_exits_0_and_prints_a_summary(capsys, home, checkpoints):
    folder, _ = checkpoints
    code, out, _ = run(capsys, "inspect", str(folder / "pose_yolo11n.pt"))
    assert code == 0
    assert "YOLO11n-pose" in out and "square, disc" in out


def test_import_folder_list_json_and_exit_codes(capsys, home, checkpoints, tmp_path):
    folder, _ = checkpoints
    runs = tmp_path / "runs" / "detect" / "train" / "weights"
    runs.mkdir(parents=True)
    shutil.copyfile(folder / "detect_yolo26n.pt", runs / "best.pt")
    shutil.copyfile(folder / "obb_yolo26n.pt", runs / "last.pt")
    (runs.parent / "results.csv").write_text("epoch\n1\n")
    code, out, _ = run(capsys, "import", str(tmp_path / "runs"))
    assert code == 0, out
    assert "added as 'train-best'" in out and "added as 'train-last'" in out
    code, out, _ = run(capsys, "import", str(runs / "best.pt"))
    assert code == 0 and "already in this project" in out  # a duplicate is not an error
    code, out, _ = run(capsys, "import", str(folder / "state_dict.pt"), str(runs.parent / "results.csv"))
    assert code == 1 and "weights without a model definition" in out and "not a .pt file" in out

    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    models = json.loads(out)
    assert {"id", "project", "name", "task", "architecture", "status", "metrics"} <= set(models[0])
    assert sorted(m["name"] for m in models) == ["train-best", "train-last"]
    assert {m["task"] for m in models} == {"detect", "obb"}

    code, _, err = run(capsys, "list", "--project", "Nope")
    assert code == 1 and "no project named" in err


def test_import_into_named_project_and_model_commands(capsys, home, checkpoints, tmp_path):
    folder, _ = checkpoints
    assert run(capsys, "projects", "add", "Drones")[0] == 0
    code, out, _ = run(capsys, "import", "--project", "Drones", str(folder / "classify_yolo11n.pt"))
    assert code == 0
    code, out, _ = run(capsys, "list", "--project", "Drones", "--json")
    (model,) = json.loads(out)
    assert model["project"] == "Drones" and model["architecture"] == "YOLO11n-cls"
    assert run(capsys, "rename", model["id"], "shape-classifier")[0] == 0
    dest = tmp_path / "out.pt"
    assert run(capsys, "download", "shape-classifier", str(dest))[0] == 0
    assert dest.read_bytes() == (folder / "classify_yolo11n.pt").read_bytes()
    assert run(capsys, "delete", "shape-classifier")[0] == 0
    assert json.loads(run(capsys, "list", "--json")[1]) == []
    assert run(capsys, "restore", model["id"])[0] == 0
    assert run(capsys, "rename", "no-such-model", "x")[0] == 1


def test_check_and_repair_exit_codes(capsys, home, checkpoints):
    folder, _ = checkpoints
    run(capsys, "import", str(folder / "detect_yolo26n.pt"))
    assert run(capsys, "check")[0] == 0
    tmp = next((home / "models").iterdir()) / ".weights.pt.cafe.tmp"
    tmp.write_bytes(b"x")
    code, out, _ = run(capsys, "check")
    assert code == 1 and "half-written file" in out
    assert run(capsys, "check", "--repair")[0] == 0
    assert run(capsys, "check")[0] == 0 and not tmp.exists()


def test_usage_errors_exit_2(capsys, home):
    for argv in (["bogus"], ["inspect"], ["list", "--nope"], ["projects", "rename", "only-one"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
    capsys.readouterr()


def test_console_script_runs_without_qt_or_torch(home, checkpoints):
    folder, _ = checkpoints
    exe = Path(sys.executable).with_name("yolodesk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app"]
    env = dict(os.environ, YOLODESK_HOME=str(home))
    proc = subprocess.run([*cmd, "inspect", "--json", str(folder / "obb_yolo26n.pt")], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["architecture"] == "YOLO26n-obb"
    probe = ("import sys, runpy; sys.argv=['yolodesk','list']; "
             "import app.cli as c; c.main(['list']); print('MODS', 'PySide6' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60).stdout
    assert "MODS False False" in out
