"""The val agent's capture: its shape for every task, labels by name, and re-thresholding against a fresh val."""

from __future__ import annotations

import json
import math

import pytest

from app.validation.matrix import cell_images, confusion_at
from app.validation.store import ValidationError, check_capture, read_capture_file

CURVES = ["Precision-Recall", "F1-Confidence", "Precision-Confidence", "Recall-Confidence"]
SUFFIXES = {"detect": ["B"], "obb": ["B"], "segment": ["B", "M"], "pose": ["B", "P"], "classify": []}


@pytest.mark.parametrize("task", list(SUFFIXES))
def test_capture_shape_for_every_task(captures, task):
    cap = check_capture(captures[task], task)
    names = cap["names"]
    nc = len(names)
    size = nc if task == "classify" else nc + 1
    assert cap["task"] == task and nc == 2
    assert len(cap["confusion_matrix"]) == size and all(len(r) == size for r in cap["confusion_matrix"])
    expected_curves = [f"{c}({s})" for s in SUFFIXES[task] for c in CURVES]
    assert sorted(cap["curves"]) == sorted(expected_curves)
    for curve in cap["curves"].values():
        assert len(curve["x"]) == 1000 and curve["xlabel"] and curve["ylabel"]
        assert set(curve["y"]) == set(names) and all(len(y) == 1000 for y in curve["y"].values())
    if task == "classify":
        assert cap["per_class"] == {} and set(cap["overall"]) == {"top1", "top5"}
        assert sum(map(sum, cap["confusion_matrix"])) == len(cap["images"]) == 4
        for image in cap["images"]:
            assert len(image["truth"]) == 1 and 1 <= len(image["pred"]) <= 5
            confs = [p["conf"] for p in image["pred"]]
            assert confs == sorted(confs, reverse=True)
    else:
        assert set(cap["per_class"]) == set(names)
        for m in cap["per_class"].values():
            assert set(m) == {"precision", "recall", "f1", "map50", "map50_95", "images", "instances"}
            assert m["instances"] > 0 and m["images"] > 0
        assert {"precision", "recall", "map50", "map50_95", "fitness"} == set(cap["overall"])
        labels = sum(len(im["truth"]) for im in cap["images"])
        assert labels == sum(m["instances"] for m in cap["per_class"].values())
        assert sum(cap["confusion_matrix"][i][nc] for i in range(nc + 1)) + \
            sum(sum(r[:nc]) for r in cap["confusion_matrix"]) >= labels
        box = cap["images"][0]["truth"][0]["box"]
        if task == "obb":
            assert len(box) == 4 and all(len(pt) == 2 for pt in box)  # 4 corners
        else:
            h, w = cap["images"][0]["shape"]
            assert len(box) == 4 and 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h  # original pixels
    assert set(cap["speed"]) == {"preprocess", "inference", "postprocess"}
    assert all(isinstance(v, float) and math.isfinite(v) for v in cap["speed"].values())
    json.dumps(cap, allow_nan=False)  # plain JSON: no numpy scalars, no NaN
    # the stored matrix is what the per-image data re-thresholds to at its own confidence
    assert confusion_at(cap, cap["matrix_conf"]) == cap["confusion_matrix"]


def test_a_class_without_validation_labels_shifts_no_names(relabeled):
    cap = relabeled["missing"]
    disc = cap["names"].index("disc")
    truth = [t["cls"] for im in cap["images"] for t in im["truth"]]
    assert truth and set(truth) == {disc}  # the data set really lacks class 0 ("square")
    assert list(cap["per_class"]) == ["disc"]
    assert cap["per_class"]["disc"]["instances"] == len(truth)
    for curve in cap["curves"].values():
        assert list(curve["y"]) == ["disc"]
    square = cap["names"].index("square")
    assert sum(row[square] for row in cap["confusion_matrix"]) == 0  # nothing is truly a square


def test_rethreshold_equals_a_fresh_val_at_that_confidence(relabeled):
    low, at_x, at_half, x = relabeled["low"], relabeled["at_x"], relabeled["at_half"], relabeled["x"]
    nc = len(low["names"])
    fresh = at_x["confusion_matrix"]
    assert at_x["matrix_conf"] == pytest.approx(x)
    # the labels were built so that X gives every kind of cell: hits, a confusion, misses and false alarms
    assert sum(fresh[i][i] for i in range(nc)) > 0
    assert sum(fresh[i][j] for i in range(nc) for j in range(nc) if i != j) > 0
    assert sum(fresh[nc][:nc]) > 0 and sum(fresh[i][nc] for i in range(nc)) > 0
    assert confusion_at(low, x) == fresh
    assert confusion_at(low, 0.5) == at_half["confusion_matrix"]
    # and within one run: ultralytics' matrix at the run's own conf, replayed; it differs from the one at X
    assert low["matrix_conf"] == 0.001
    assert confusion_at(low, 0.001) == low["confusion_matrix"] != fresh


def test_cell_images_add_up_to_the_cell(relabeled):
    low, x = relabeled["low"], relabeled["x"]
    matrix = confusion_at(low, x)
    size = len(matrix)
    checked = 0
    for p in range(size):
        for t in range(size):
            images = cell_images(low, x, p, t)
            assert sum(im["count"] for im in images) == matrix[p][t]
            for im in images:
                assert all(b["cls"] == p for b in im["pred"]) and all(b["cls"] == t for b in im["truth"])
                assert all(b["conf"] > x for b in im["pred"])
            checked += matrix[p][t]
    assert checked > 0
    with pytest.raises(ValidationError, match=r"no cell \[3\]\[0\] in a 3 x 3 matrix"):
        cell_images(low, x, 3, 0)


def test_a_damaged_or_missing_capture_is_one_clear_line(tmp_path, captures):
    with pytest.raises(ValidationError, match="is missing"):
        read_capture_file(tmp_path / "gone.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValidationError, match="is damaged"):
        read_capture_file(tmp_path / "bad.json")
    cut = {k: v for k, v in captures["detect"].items() if k != "images"}
    (tmp_path / "cut.json").write_text(json.dumps(cut))
    with pytest.raises(ValidationError, match=r"not a validation capture \(no images\)"):
        read_capture_file(tmp_path / "cut.json")
