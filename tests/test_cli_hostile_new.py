"""Hostile input to this round's commands (datasets add, val): a one-line verdict, never a traceback, hang or blow-up.

Every case runs the real command line in its own process (tests/cli_attack.py) on a real library; the data sets are
real files (app.demo_data's synthetic images and labels) with one thing made hostile each.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.cli_attack import Outcome, yolodesk

# Eight levels of nine-fold YAML aliases: 400 bytes that str() to ~200 MB, one level more to ~2 GB
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{a}: &{a} [{', '.join([f'*{p}'] * 9)}]\n" for p, a in zip("abcdefg", "bcdefgh", strict=True))
NAMES = "names:\n  0: square\n  1: disc\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A tiny real detect data set (4 train, 2 val images) to copy and spoil."""
    from app.demo_data import write_dataset

    return write_dataset(tmp_path_factory.mktemp("hostile_new") / "det", "detect", n_train=4, n_val=2, size=32).parent


@pytest.fixture(scope="module")
def ds_home(tmp_path_factory) -> Path:
    """A library home that exists already (its first opening writes the Default project)."""
    home = tmp_path_factory.mktemp("hostile_new_ds") / "home"
    assert yolodesk(home, "datasets").code == 0
    return home


@pytest.fixture(scope="module")
def model_home(tmp_path_factory, checkpoints) -> tuple[Path, str]:
    """(home, model id): a library holding the real tiny detector (2 classes)."""
    home = tmp_path_factory.mktemp("hostile_new_lib") / "home"
    out = yolodesk(home, "import", "--json", str(checkpoints[0] / "detect_yolo26n.pt"))
    assert out.code == 0, out.err
    return home, json.loads(out.out)[0]["id"]


def _copy(base: Path, dest: Path, yaml_text: str = f"train: images/train\nval: images/val\n{NAMES}") -> Path:
    shutil.copytree(base / "images", dest / "images")
    shutil.copytree(base / "labels", dest / "labels")
    (dest / "data.yaml").write_text(yaml_text)
    return dest / "data.yaml"


def _add(home: Path, target: Path) -> Outcome:
    o = yolodesk(home, "datasets", "add", str(target), timeout=30)
    assert not o.problems, (o.problems, o.err[-2000:])
    return o


def _refused(o: Outcome, code: int, *words: str) -> None:
    lines = [line for line in o.err.splitlines() if line.strip()]
    assert o.code == code, (o.code, o.err[-2000:])
    assert len(lines) == 1 and all(w in o.err for w in words), o.err[-2000:]
    assert "internal error" not in o.err and len(o.err) < 400, o.err[-2000:]
    assert not o.changed, o.changed


def test_nan_infinite_and_huge_label_values_are_problems_of_their_lines(tmp_path, ds_home, base):
    yaml_path = _copy(base, tmp_path / "ds")
    label = tmp_path / "ds" / "labels" / "train" / "0000.txt"
    label.write_text("nan 0.5 0.5 0.1 0.1\ninf 0.5 0.5 0.1 0.1\n0 nan 0.5 0.1 0.1\n0 0.5 0.5 inf 0.1\n"
                     "1e308 0.5 0.5 0.1 0.1\n")
    o = _add(ds_home, yaml_path)
    assert o.code == 0, o.err
    for n in (1, 2, 3, 4):  # NaN coordinates passed as inside 0…1 before; a NaN class id was an internal error
        assert f"{label}: line {n}: a value is NaN or infinite" in o.out, o.out
    assert "line 5: class id 1e308 ≥ nc (2 classes)" in o.out, o.out


def test_names_that_are_an_alias_bomb_are_refused_without_filling_the_library(tmp_path, ds_home, base):
    o = _add(ds_home, _copy(base, tmp_path / "ds", ALIAS_BOMB + "train: images/train\nval: images/val\nnames: *h\n"))
    _refused(o, 1, "`names:` entries must be class names")
    assert (ds_home / "library.db").stat().st_size < 2**22  # the 9 names of 23 MB each were stored before


def test_a_split_that_is_an_alias_bomb_is_a_problem_not_a_giant_path(tmp_path, ds_home, base):
    o = _add(ds_home, _copy(base, tmp_path / "ds", ALIAS_BOMB + f"train: images/train\nval: images/val\ntest: *h\n{NAMES}"))
    assert o.code == 0, o.err[-500:]
    assert "a split lists a list or mapping" in o.out and len(o.out) < 5000, o.out[-2000:]


def test_an_nc_of_two_billion_is_refused(tmp_path, ds_home, base):
    o = _add(ds_home, _copy(base, tmp_path / "ds", "train: images/train\nval: images/val\nnc: 2000000000\n"))
    _refused(o, 1, "`nc: 2000000000` is more than 100000 classes", "nothing was added")


@pytest.mark.parametrize("kpt", ["[x, y]", "[1, 0]"])
def test_a_kpt_shape_that_is_no_shape_is_refused(tmp_path, ds_home, base, kpt):
    o = _add(ds_home, _copy(base, tmp_path / "ds", f"train: images/train\nval: images/val\n{NAMES}kpt_shape: {kpt}\n"))
    _refused(o, 1, "`kpt_shape:` must be [keypoints, 2 or 3]")


def test_a_fifo_in_place_of_a_label_or_image_is_a_problem_not_a_hang(tmp_path, ds_home, base):
    yaml_path = _copy(base, tmp_path / "ds", f"train: list.txt\nval: images/val\n{NAMES}")
    label = tmp_path / "ds" / "labels" / "train" / "0000.txt"
    label.unlink()
    os.mkfifo(label)
    os.mkfifo(tmp_path / "ds" / "images" / "train" / "pipe.jpg")
    images = sorted((tmp_path / "ds" / "images" / "train").iterdir())
    (tmp_path / "ds" / "list.txt").write_text("".join(f"{p}\n" for p in images))
    o = _add(ds_home, yaml_path)
    assert o.code == 0, o.err
    assert f"{label}: the label cannot be read: 0000.txt is not a regular file" in o.out, o.out
    assert "pipe.jpg: not a regular file" in o.out, o.out


def test_a_fifo_named_data_yaml_is_refused_not_waited_on(tmp_path, ds_home):
    (tmp_path / "ds").mkdir()
    os.mkfifo(tmp_path / "ds" / "data.yaml")
    _refused(_add(ds_home, tmp_path / "ds" / "data.yaml"), 1, "data.yaml is not a regular file")


def test_a_yaml_syntax_error_is_one_line(tmp_path, ds_home, base):
    o = _add(ds_home, _copy(base, tmp_path / "ds", "train: images/train\nval: [images/val\n" + NAMES))
    _refused(o, 1, "data.yaml is not valid YAML")


def test_a_data_yaml_of_many_megabytes_is_refused_before_parsing(tmp_path, ds_home, base):
    o = _add(ds_home, _copy(base, tmp_path / "ds", f"train: images/train\nval: images/val\n{NAMES}" +
                             "# padding\n" * 900_000))
    _refused(o, 1, "data.yaml is 8.6 MB: not a data.yaml")


def test_a_zip_of_many_small_bombs_is_refused_before_unpacking(tmp_path, ds_home):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.yaml", f"train: a\nval: b\n{NAMES}")
        for i in range(8):  # each member under the per-member 1 MiB floor; 8 MiB from ~8 kB in all
            zf.writestr(f"pad/{i}.bin", b"\0" * (1024**2 - 1))
    _refused(_add(ds_home, archive), 1, "bomb.zip is compressed", "(a zip bomb)")
    assert not any((ds_home / "datasets").iterdir())


def test_a_zip_without_a_data_set_is_a_verdict_not_an_internal_error(tmp_path, ds_home):
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("\x1b[31mred\x07.txt", "x")
    _refused(_add(ds_home, archive), 1, "odd.zip: the archive holds no data.yaml")
    assert not any((ds_home / "datasets").iterdir())


@pytest.mark.parametrize(("yaml_text", "words"), [
    ("train: a\nval: b\nnc: 2000000000\n", "'nc: 2000000000' is more than 100000 classes"),
    (ALIAS_BOMB + f"train: *h\nval: b\n{NAMES}", "'train:' must be a folder or file path, not a list"),
    (ALIAS_BOMB + "train: a\nval: b\nnames: *h\n", "'names:' entries must be class names"),
    (None, "data.yaml is not a regular file"),
    ("half", "half: must be true or false, not 'maybe'"),
])
def test_val_refuses_a_data_yaml_built_to_blow_up_or_hang_and_a_half_that_is_no_boolean(tmp_path, model_home, base,
                                                                                      yaml_text, words):
    home, model = model_home
    target = tmp_path / "data.yaml"
    extra = ["half=maybe"] if yaml_text == "half" else []
    if yaml_text == "half":  # a good data set: only the argument is wrong
        target = base / "data.yaml"
    elif yaml_text is None:
        os.mkfifo(target)
    else:
        target.write_text(yaml_text)
    o = yolodesk(home, "val", model, f"data={target}", *extra, timeout=30)
    assert not o.problems, (o.problems, o.err[-2000:])
    _refused(o, 2, words)


def test_the_sample_grid_skips_a_nan_label_line_instead_of_raising(tmp_path, base):
    from app.library.dataset_labels import read_sample

    _copy(base, tmp_path / "ds")
    label = tmp_path / "ds" / "labels" / "train" / "0000.txt"
    label.write_text("nan 0.5 0.5 0.1 0.1\ninf 0.5 0.5 0.1 0.1\n0 nan 0.5 0.1 0.1\n1 0.5 0.5 0.2 0.2\n")
    sample = read_sample(tmp_path / "ds" / "images" / "train" / "0000.png", "detect", 2)
    assert [(a.cls, a.box) for a in sample.annotations] == [(1, (0.5, 0.5, 0.2, 0.2))]


def test_emptying_the_trash_keeps_a_model_a_running_endpoint_serves(tmp_path, checkpoints):
    home = tmp_path / "home"
    model = json.loads(yolodesk(home, "import", "--json", str(checkpoints[0] / "classify_yolo11n.pt")).out)[0]["id"]
    deployed = yolodesk(home, "deploy", model, timeout=120)
    assert deployed.code == 0, deployed.err[-2000:]
    endpoint = next(line.split()[1] for line in deployed.out.splitlines() if line.startswith("id:"))
    try:
        _refused(yolodesk(home, "delete", model), 1, "is served by endpoint", "stop it first")
        other = json.loads(yolodesk(home, "import", "--json", str(checkpoints[0] / "detect_yolo26n.pt")).out)[0]["id"]
        assert yolodesk(home, "delete", other).code == 0
        _refused(yolodesk(home, "endpoint", "replace", endpoint, other), 1, "is in the trash; restore it first")
        with sqlite3.connect(home / "library.db") as db:  # trashed before `delete` refused served models
            db.execute("UPDATE models SET deleted_at = CURRENT_TIMESTAMP WHERE id = ?", (model,))
        emptied = yolodesk(home, "trash", "empty")  # its endpoint row cascaded away before, the server running on
        assert emptied.code == 0 and "deleted 1 model(s)" in emptied.out, emptied  # the unserved one only
        assert model in yolodesk(home, "trash").out
        _refused(yolodesk(home, "trash", "delete", model), 1, "is served by endpoint", "stop it first")
    finally:
        assert yolodesk(home, "endpoint", "stop", endpoint, timeout=60).code == 0


def test_an_image_of_100_million_pixels_is_a_warning_not_decoded(tmp_path, ds_home, base):
    from PIL import Image

    yaml_path = _copy(base, tmp_path / "ds")
    Image.new("1", (10_000, 10_000)).save(tmp_path / "ds" / "images" / "train" / "huge.png")  # 12 kB on disk
    o = _add(ds_home, yaml_path)
    assert o.code == 0 and "huge.png: a very large image (over 89 M pixels)" in o.out, o.out
    assert "DecompressionBombWarning" not in o.err, o.err  # PIL's multi-line warning, then a 100 MB decode
