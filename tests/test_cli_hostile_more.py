"""Hostile states of the library (issue 14/15 trust rules): a damaged original, a trashed model, a data set rooted at /.

Each refusal is one line and writes nothing; every case runs the real command line in its own process on a real library.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.cli_attack import Outcome, yolodesk


@pytest.fixture
def lib_home(tmp_path, checkpoints) -> tuple[Path, str]:
    """(home, model id): a library holding the real tiny detector and a second project, Other."""
    home = tmp_path / "home"
    out = yolodesk(home, "import", "--json", str(checkpoints[0] / "detect_yolo26n.pt"))
    assert out.code == 0, out.err
    assert yolodesk(home, "projects", "add", "Other").code == 0
    return home, json.loads(out.out)[0]["id"]


def _refused(o: Outcome, *words: str) -> None:
    lines = [line for line in o.err.splitlines() if line.strip()]
    assert o.code == 1, (o.code, o.err[-2000:])
    assert len(lines) == 1 and all(w in o.err for w in words), o.err[-2000:]
    assert "internal error" not in o.err and len(o.err) < 400, o.err[-2000:]
    assert not o.changed, o.changed


def test_a_clone_of_damaged_weights_is_refused_and_writes_nothing(lib_home):
    home, model = lib_home
    weights = home / "models" / model / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: a hard link would spread it under the recorded sha256
    weights.write_bytes(bytes(data))
    folders = sorted((home / "models").iterdir())
    _refused(yolodesk(home, "clone", model, "--project", "Other"),
             "changed on disk (run yolodesk check --deep)", "nothing was cloned")
    assert sorted((home / "models").iterdir()) == folders and weights.read_bytes() == bytes(data)


def test_a_trashed_model_is_not_deployed_nor_made_public(lib_home):
    home, model = lib_home
    assert yolodesk(home, "delete", model).code == 0
    _refused(yolodesk(home, "deploy", model, timeout=60), "is in the trash; restore it first")
    _refused(yolodesk(home, "visibility", model, "public"), "is in the trash; restore it first")


def test_a_data_set_rooted_at_slash_is_sized_within_a_cap_not_by_walking_the_disk(tmp_path, checkpoints):
    from app.demo_data import write_dataset
    from app.library.dataset_scan import MAX_FILES_SIZED

    base = write_dataset(tmp_path / "det", "detect", n_train=2, n_val=1, size=32).parent
    yaml_path = tmp_path / "root.yaml"
    yaml_path.write_text(f"path: /\ntrain: {base / 'images' / 'train'}\nval: {base / 'images' / 'val'}\n"
                         "names:\n  0: square\n  1: disc\n")
    started = time.monotonic()
    o = yolodesk(tmp_path / "home", "datasets", "add", str(yaml_path), timeout=60)
    seconds = time.monotonic() - started
    assert o.code == 0, o.err[-2000:]
    assert seconds < 30, f"{seconds:.1f} s for {MAX_FILES_SIZED} files"  # 36 s here before the cap
    assert "images" in o.out and len(o.out) < 2000, o.out


def test_the_size_walk_stops_at_its_cap_and_says_the_bytes_are_a_lower_bound(tmp_path, monkeypatch):
    from app.demo_data import write_dataset
    from app.library import dataset_scan

    yaml_path = write_dataset(tmp_path / "det", "detect", n_train=4, n_val=2, size=32)
    whole = dataset_scan.scan_dataset(yaml_path)
    assert whole.size_counted and whole.size > 0
    monkeypatch.setattr(dataset_scan, "MAX_FILES_SIZED", 3)  # the tree holds 12 images and labels and the YAML
    capped = dataset_scan.scan_dataset(yaml_path)
    assert not capped.size_counted and 0 < capped.size < whole.size
    assert capped.stats()["size_counted"] is False


def test_the_cli_says_a_capped_size_is_more_than_what_was_counted(tmp_path, monkeypatch, capsys):
    from app.cli.entry import main
    from app.demo_data import write_dataset
    from app.library import dataset_scan

    yaml_path = write_dataset(tmp_path / "det", "detect", n_train=4, n_val=2, size=32)
    monkeypatch.setenv("YOLODESK_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(dataset_scan, "MAX_FILES_SIZED", 3)
    assert main(["datasets", "add", str(yaml_path)]) == 0
    assert " (not all counted)" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    assert " >" in capsys.readouterr().out
