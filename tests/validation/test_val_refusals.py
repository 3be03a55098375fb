"""``yolodesk val`` refuses, before any job exists, a data set whose labels or classes the model cannot be counted
against: box-only labels for a segment or pose model, classes in another order, class folders of other names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.jobs.manager import JobManager
from app.library.repository import Library
from tests.validation.test_val_job import _import, run


def _swapped_names(data_yaml: Path, out: Path) -> Path:
    """A copy of ``data_yaml`` over the same images whose class names are listed the other way round."""
    text = data_yaml.read_text()
    assert "0: square\n  1: disc" in text
    out.write_text(text.replace("0: square\n  1: disc", "0: disc\n  1: square"))
    return out


def _foreign_folders(folder: Path, out: Path) -> Path:
    shutil.copytree(folder, out)
    for split in ("train", "val"):
        (out / split / "disc").rename(out / split / "circle")
        (out / split / "square").rename(out / split / "tile")
    return out


@pytest.mark.parametrize(("model_file", "data", "verdict"), [
    ("segment_yolov8n.pt", "detect", "the labels are boxes; a segmentation model needs polygon labels"),
    ("pose_yolo11n.pt", "detect", "a pose model needs a data set with keypoints ('kpt_shape' in data.yaml)"),
    ("obb_yolo26n.pt", "detect", "an OBB model needs rotated-box labels"),
    ("detect_yolo26n.pt", "swapped", "class 0 is 'disc' there and 'square' in the model"),
    ("classify_yolo11n.pt", "foreign", "its classes are circle, tile, the model's disc, square: none is the same"),
])
def test_cli_val_refuses_labels_or_classes_the_model_cannot_be_counted_on(capsys, home, checkpoints, tmp_path,
                                                                          model_file, data, verdict):
    folder, manifest = checkpoints
    location = {"detect": lambda: Path(manifest["detect_yolo26n.pt"]["data"]),
                "swapped": lambda: _swapped_names(Path(manifest["detect_yolo26n.pt"]["data"]), tmp_path / "d.yaml"),
                "foreign": lambda: _foreign_folders(Path(manifest["classify_yolo11n.pt"]["data"]), tmp_path / "c"),
                }[data]()
    (model,) = _import(home, folder / model_file)
    code, out, err = run(capsys, "val", model, f"data={location}")
    assert code == 2 and verdict in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    lib = Library(home)
    try:
        assert JobManager(lib).store.list() == []  # refused before a job existed
    finally:
        lib.close()
