"""The re-threshold against ultralytics' own ``ConfusionMatrix.process_batch`` on made-up images full of ties.

Trained-model validations rarely hit the tie rules (equal confidences, equal IoUs, a confidence exactly at the
threshold), so here ultralytics' matcher and ours see the same boxes, built to hit them, with the overlaps
computed by the agent's own capture code.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from app.validation.matrix import confusion_at

torch = pytest.importorskip("torch")


def _image(truth: list[tuple[int, list[float]]], preds: list[tuple[int, float, list[float]]]) -> tuple:
    from remote_agent.val_capture import MATRIX_IOU, detection_image

    pbatch = {"cls": torch.tensor([float(c) for c, _ in truth]),
              "bboxes": torch.tensor([b for _, b in truth], dtype=torch.float32).reshape(-1, 4),
              "ori_shape": (100, 100), "imgsz": (100, 100), "ratio_pad": ((1.0, 1.0), (0.0, 0.0)), "im_file": "x.png"}
    det = {"cls": torch.tensor([float(c) for c, _, _ in preds]),
           "conf": torch.tensor([s for _, s, _ in preds], dtype=torch.float32),
           "bboxes": torch.tensor([b for _, _, b in preds], dtype=torch.float32).reshape(-1, 4)}
    validator = SimpleNamespace(args=SimpleNamespace(task="detect"))
    return pbatch, det, detection_image(validator, det, pbatch, MATRIX_IOU)


def _both(images: list[tuple], conf: float) -> tuple[list[list[int]], list[list[int]]]:
    from ultralytics.utils.metrics import ConfusionMatrix

    cm = ConfusionMatrix(names={0: "a", 1: "b"})
    for pbatch, det, _ in images:
        cm.process_batch(det, pbatch, conf=conf)
    capture = {"task": "detect", "names": ["a", "b"], "args": {"conf": 0.001}, "matrix_iou": 0.45,
               "images": [entry for _, _, entry in images]}
    return [[int(v) for v in row] for row in cm.matrix.tolist()], confusion_at(capture, conf)


def test_equal_confidences_go_in_prediction_order():
    box = [10.0, 10.0, 50.0, 50.0]
    near = [12.0, 10.0, 52.0, 50.0]  # IoU 0.9 with box
    images = [_image([(0, box)], [(1, 0.6, near), (0, 0.6, box)])]  # the first, of the wrong class, claims the truth
    ours_and_theirs = _both(images, 0.25)
    assert ours_and_theirs[0] == ours_and_theirs[1] == [[0, 0, 1], [1, 0, 0], [0, 0, 0]]


def test_equal_ious_go_to_the_first_truth():
    box = [10.0, 10.0, 50.0, 50.0]
    images = [_image([(1, box), (0, box)], [(0, 0.7, box)])]
    theirs, ours = _both(images, 0.25)
    assert theirs == ours == [[0, 1, 0], [0, 0, 0], [1, 0, 0]]


def test_a_confidence_exactly_at_the_threshold_is_out_in_float32():
    box = [10.0, 10.0, 50.0, 50.0]
    images = [_image([(0, box)], [(0, 0.3, box)])]  # float32(0.3) is just above 0.3 as a double
    theirs, ours = _both(images, 0.3)
    assert theirs == ours == [[0, 0, 0], [0, 0, 0], [1, 0, 0]]


def test_many_random_images_with_ties_agree_at_every_threshold():
    rng = random.Random(7)
    grid = [[x, y, x + 30.0, y + 30.0] for x in (0.0, 10.0, 20.0, 60.0) for y in (0.0, 10.0, 60.0)]
    images = []
    for _ in range(200):
        truth = [(rng.randrange(2), rng.choice(grid)) for _ in range(rng.randrange(4))]
        preds = [(rng.randrange(2), rng.choice((0.1, 0.3, 0.3, 0.5, 0.5, 0.9)), rng.choice(grid))
                 for _ in range(rng.randrange(6))]
        preds.sort(key=lambda p: -p[1])  # NMS hands them over strongest first
        images.append(_image(truth, preds))
    for conf in (0.001, 0.1, 0.25, 0.3, 0.4, 0.5, 0.7):
        theirs, ours = _both(images, conf)
        assert ours == theirs, conf
    assert sum(map(sum, theirs)) > 0
