"""``yolodesk`` against a hostile or careless user: a one-line verdict, an exit code of 0/1/2, no rows for refused input.

Every case runs the real command line in its own process (tests/cli_attack.py) on a real library holding one
imported model, and fails on a traceback, another exit code, a row written for a refused input, or a hang.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli_attack import Outcome, row_counts, yolodesk

UNDECODABLE = os.fsencode("caf\udcff\udcfe")  # a name that is not UTF-8, as a shell passes it
TOO_LONG = "x" * 5000  # over NAME_MAX and PATH_MAX: every stat of it raises ENAMETOOLONG


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, checkpoints) -> tuple[Path, str, Path]:
    """(home, model id, scratch folder): a library holding one real imported checkpoint."""
    folder, _ = checkpoints
    root = tmp_path_factory.mktemp("hostile")
    home = root / "home"
    out = yolodesk(home, "import", "--json", str(folder / "detect_yolo26n.pt"))
    assert out.code == 0, out.err
    scratch = root / "scratch"
    scratch.mkdir()
    os.mkfifo(scratch / "pipe.pt")
    return home, json.loads(out.out)[0]["id"], scratch


def _run(seeded: tuple[Path, str, Path], *argv: str | bytes, timeout: float = 20) -> Outcome:
    home, _, scratch = seeded
    o = yolodesk(home, *argv, timeout=timeout, cwd=scratch)
    assert not o.problems, (o.problems, o.err[-2000:])
    return o


def _one_line_verdict(o: Outcome, code: int, *words: str) -> None:
    lines = [line for line in o.err.splitlines() if line.strip()]
    assert o.code == code, (o.code, o.err)
    assert lines and all(w in o.err for w in words), o.err
    assert not o.changed, o.changed


@pytest.mark.parametrize("name", ["..", "../..", "../../.."])
def test_toolchains_remove_of_a_path_is_refused_and_the_library_stays(seeded, name):
    home, model_id, _ = seeded
    o = _run(seeded, "toolchains", "remove", name)
    _one_line_verdict(o, 1, "unknown toolchain")
    assert (home / "library.db").is_file() and (home / "models" / model_id).is_dir()


@pytest.mark.parametrize("argv", [("inspect", "{pipe}"), ("inspect", "--json", "{pipe}"), ("inspect", "/dev/zero"),
                                  ("inspect", "--json", "/dev/zero")])
def test_inspect_of_a_fifo_or_device_answers_at_once(seeded, argv):
    pipe = str(seeded[2] / "pipe.pt")
    o = _run(seeded, *(a.format(pipe=pipe) for a in argv), timeout=15)
    assert o.code == 1 and "not a regular file" in o.out
    if "--json" in argv:
        assert json.loads(o.out)[0]["sha256"] is None


def test_import_of_an_empty_path_does_not_import_the_current_folder(seeded, checkpoints):
    home, _, scratch = seeded
    (scratch / "mine.pt").write_bytes((checkpoints[0] / "pose_yolo11n.pt").read_bytes())
    try:
        o = _run(seeded, "import", "")
    finally:
        (scratch / "mine.pt").unlink()
    assert o.code == 1 and "empty path" in o.out and not o.changed


def test_import_json_prints_only_json_when_inputs_are_skipped(seeded):
    o = _run(seeded, "import", "--json", "notes.txt", "")
    assert o.code == 1
    assert [r["state"] for r in json.loads(o.out)] == ["skipped", "skipped"]


@pytest.mark.parametrize("argv", [
    ("delete", UNDECODABLE), ("rename", UNDECODABLE, "new"), ("exports", UNDECODABLE),
    ("exports", UNDECODABLE, "--json"), ("export", UNDECODABLE, "format=onnx"), ("download", UNDECODABLE, "out.pt"),
    ("cancel", UNDECODABLE), ("logs", UNDECODABLE), ("logs", UNDECODABLE, "--follow"),
    ("predict", UNDECODABLE, "/etc/passwd"), ("workers", "test", UNDECODABLE), ("workers", "remove", UNDECODABLE),
    ("train", b"model=" + UNDECODABLE, b"data=nosuch.yaml"),
])
def test_a_name_that_is_not_utf8_is_looked_up_not_a_traceback(seeded, argv):
    o = _run(seeded, *argv)
    assert o.code in (1, 2) and "Unicode" not in o.err and not o.changed
    assert "caf\\xff\\xfe" in o.err or "caf" in o.err, o.err


def test_a_model_named_from_an_undecodable_file_is_found_by_those_bytes(checkpoints, tmp_path):
    src = tmp_path / os.fsdecode(b"odd\xff.pt")
    src.write_bytes((checkpoints[0] / "segment_yolov8n.pt").read_bytes())
    own = (tmp_path / "home", "", tmp_path)
    model_id = json.loads(_run(own, "import", "--json", str(src)).out)[0]["id"]
    o = _run(own, "rename", b"odd\xff", "plain")
    assert o.code == 0 and model_id in o.out


@pytest.mark.parametrize("argv", [("import", TOO_LONG), ("import", "--json", TOO_LONG), ("predict", TOO_LONG, "x.jpg"),
                                  ("train", f"model={TOO_LONG}", "data=x.yaml"), ("toolchains", "remove", TOO_LONG),
                                  (TOO_LONG,)])
def test_a_path_too_long_for_the_system_is_one_line(seeded, argv):
    o = _run(seeded, *argv)
    assert o.code in (1, 2) and not o.changed
    assert len(o.err.strip().splitlines()) <= 2, o.err  # argparse's usage line and its error, or our one line


@pytest.mark.parametrize("port", ["0", "-1", "65536", "99999"])
def test_workers_add_with_a_port_out_of_range_is_a_usage_error_and_adds_nothing(seeded, port):
    o = _run(seeded, "workers", "add", "w1", "127.0.0.1", "--port", port)
    assert o.code == 2 and "--port" in o.err and not o.changed


@pytest.mark.parametrize("pair", ["conf=abc", "conf=2", "conf=nan", "conf=-0.5", "iou=-1", "iou=inf", "imgsz=99999999",
                                  "imgsz=0", "imgsz=abc", "imgsz=64.5", "conf=true"])
def test_predict_values_are_refused_before_a_model_loads(seeded, pair):
    home, model_id, scratch = seeded
    (scratch / "pic.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    o = _run(seeded, "predict", model_id, str(scratch / "pic.jpg"), pair)
    assert o.code == 2 and pair.split("=")[0] in o.err and "torch" not in o.err


@pytest.mark.parametrize("source", ["{pipe}", "/dev/zero", "camera:abc", "camera:-1"])
def test_predict_source_that_cannot_be_read_is_refused_at_once(seeded, source):
    home, model_id, scratch = seeded
    o = _run(seeded, "predict", model_id, source.format(pipe=scratch / "pipe.pt"), timeout=15)
    _one_line_verdict(o, 1, "yolodesk predict:")


def test_no_refused_input_above_left_a_row(seeded):
    counts = row_counts(seeded[0])
    assert counts["models"] == 1 and counts.get("jobs", 0) == 0 and counts.get("workers", 0) == 0


@pytest.mark.parametrize("layout", ["home-is-a-file", "home-under-a-file"])
@pytest.mark.parametrize("command", [("list",), ("check",), ("import", "x.pt"), ("train", "model=yolo26n.yaml", "data=d.yaml")])
def test_a_file_where_the_library_folder_goes_is_named_in_one_line(tmp_path, layout, command):
    blocker = tmp_path / "home"
    blocker.write_text("my notes")
    home = blocker if layout == "home-is-a-file" else blocker / "library"
    o = yolodesk(home, *command, timeout=20, cwd=tmp_path)
    assert not o.problems, o.problems
    assert o.code == 1 and ("which is a file" in o.err or "is a file, not a folder" in o.err), o.err
    assert blocker.read_text() == "my notes"


def test_a_full_disk_under_the_database_is_not_called_malformed(tmp_path):
    import shutil
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and mount permission): {r.stderr.strip()}")
    try:
        home = disk / "home"
        assert yolodesk(home, "projects", "add", "mine", cwd=tmp_path).code == 0
        before = (home / "library.db").read_bytes()
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)  # fill what is left of the disk
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        assert shutil.disk_usage(disk).free < 100_000
        listed = yolodesk(home, "list", cwd=tmp_path)
        checked = yolodesk(home, "check", cwd=tmp_path)
        for o in (listed, checked):
            assert not o.problems and o.code == 1, (o.problems, o.err)
            assert "the disk holding it is full" in o.err and "malformed" not in o.err, o.err
        assert "free some space" in checked.out and "move library.db aside" not in checked.out, checked.out
        assert (home / "library.db").read_bytes() == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize("fmt", ["nonsense", "ONNX2", "../onnx"])
def test_export_to_an_unknown_format_is_a_usage_error_without_a_job(seeded, fmt):
    o = _run(seeded, "export", seeded[1], f"format={fmt}")
    _one_line_verdict(o, 2, "yolodesk export: unknown export format")
