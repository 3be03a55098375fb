"""The test panel's drawing reads only the answer's JSON: real ``Results.summary()`` rows of each task (built from
tensors, as the endpoint builds them) drawn on a black picture land where the JSON says, and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtGui import QColor, QImage
from ultralytics.engine.results import Results

from app.views.deploy.response_drawing import draw_response, summary_line, top5_text

SIZE = 120
NAMES = {0: "square", 1: "circle"}


def _answer(result: Results, task: str) -> dict:
    return {"images": [{"shape": [SIZE, SIZE], "speed": {"preprocess": 1.0, "inference": 5.0, "postprocess": 1.0},
                        "results": result.summary()}],
            "metadata": {"imageCount": 1, "classNames": NAMES, "model": "m", "task": task, "version": "x"}}


def _black() -> QImage:
    img = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    img.fill(QColor("black"))
    return img


def _lit(img: QImage, x: int, y: int) -> bool:
    c = img.pixelColor(x, y)
    return c.red() + c.green() + c.blue() > 60


def _results(**kw) -> Results:
    return Results(np.zeros((SIZE, SIZE, 3), np.uint8), path="a.png", names=NAMES, **kw)


@pytest.mark.usefixtures("qapp")
def test_boxes_masks_and_keypoints_drawn_where_the_json_says() -> None:
    mask = torch.zeros(1, SIZE, SIZE)
    mask[0, 70:100, 70:100] = 1
    kpts = torch.tensor([[[40.0, 90.0, 0.9], [0.0, 0.0, 0.9]]])  # the second one is "not seen"
    r = _results(boxes=torch.tensor([[20.0, 20.0, 60.0, 60.0, 0.9, 0], [68.0, 68.0, 102.0, 102.0, 0.8, 1]]),
                 masks=torch.cat([torch.zeros(1, SIZE, SIZE), mask]), keypoints=torch.cat([kpts, kpts]))
    out = draw_response(_black(), _answer(r, "segment"))
    assert _lit(out, 20, 40) and _lit(out, 60, 40)  # the first box's left and right edges
    assert not _lit(out, 40, 40)  # inside a box without a mask: left as it was
    assert _lit(out, 85, 85)  # the second one's mask is filled
    assert _lit(out, 40, 90) and not _lit(out, 1, 1)  # its keypoint; (0, 0) is skipped
    assert not _lit(out, 110, 10)  # nothing where the JSON has nothing
    assert summary_line(_answer(r, "segment")).startswith("2 objects — m (segment), 7 ms")


@pytest.mark.usefixtures("qapp")
def test_obb_corners_are_drawn_rotated() -> None:
    r = _results(obb=torch.tensor([[60.0, 60.0, 60.0, 20.0, 0.785, 0.9, 0]]))  # 45°: a diagonal bar
    answer = _answer(r, "obb")
    assert "x4" in answer["images"][0]["results"][0]["box"]
    out = draw_response(_black(), answer)
    box = answer["images"][0]["results"][0]["box"]
    corner = (int(round(box["x3"])), int(round(box["y3"])))
    assert _lit(out, min(corner[0], SIZE - 1), min(corner[1], SIZE - 1))
    assert not _lit(out, 60, 60)  # the centre of a thin rotated box is not on its outline
    assert not _lit(out, 100, 20)  # an axis-aligned box would have put its corner here


@pytest.mark.usefixtures("qapp")
def test_classification_shows_its_top5_as_text() -> None:
    names = {i: f"class{i}" for i in range(6)}
    r = Results(np.zeros((SIZE, SIZE, 3), np.uint8), path="a.png", names=names,
                probs=torch.tensor([0.05, 0.5, 0.1, 0.2, 0.1, 0.05]))
    answer = _answer(r, "classify")
    assert top5_text(answer["images"][0]["results"]).splitlines()[:2] == ["class1  0.50", "class3  0.20"]
    assert summary_line(answer).startswith("top-1 class1 (0.50)")
    out = draw_response(_black(), answer)
    text_pixels = sum(_lit(out, x, y) for x in range(4, 80) for y in range(4, 40))
    assert text_pixels > 20 and not any(_lit(out, x, y) for x in range(60, SIZE) for y in range(80, SIZE))
