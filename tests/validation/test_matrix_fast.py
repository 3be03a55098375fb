"""The vectorised re-threshold against the per-image greedy matcher (``match_image``) on random captures, and the
flat arrays kept per capture object."""

from __future__ import annotations

import random
from typing import Any

from app.validation.matrix import confusion_at, match_image, prepared


def _reference(capture: dict[str, Any], conf: float) -> list[list[int]]:
    """The matrix counted image by image from ``match_image``, the loop the vectorised recount replaced."""
    nc = len(capture["names"])
    conf = max(conf, capture["args"]["conf"])
    matrix = [[0] * (nc + 1) for _ in range(nc + 1)]
    for image in capture["images"]:
        matched, lone_truth, lone_pred = match_image(image, conf, capture["matrix_iou"], capture["task"])
        for t, p in matched:
            matrix[image["pred"][p]["cls"]][image["truth"][t]["cls"]] += 1
        for t in lone_truth:
            matrix[nc][image["truth"][t]["cls"]] += 1
        for p in lone_pred:
            matrix[image["pred"][p]["cls"]][nc] += 1
    return matrix


def _capture(seed: int, n_images: int = 150, nc: int = 4) -> dict[str, Any]:
    rng = random.Random(seed)
    levels = [0.1, 0.25, 0.3, 0.5, 0.75]  # few distinct confidences and IoUs: ties everywhere
    images = []
    for i in range(n_images):
        n_truth, n_pred = rng.randrange(0, 5), rng.randrange(0, 8)
        preds = sorted(({"cls": rng.randrange(nc), "conf": rng.choice(levels) if rng.random() < 0.5 else rng.random(),
                         "box": [0.0, 0.0, 1.0, 1.0]} for _ in range(n_pred)), key=lambda p: -p["conf"])
        overlaps = [[t, p, rng.choice([0.5, 0.6, 0.9])] for t in range(n_truth) for p in range(n_pred)
                    if rng.random() < 0.4]
        images.append({"file": f"/x/{i}.jpg", "shape": [10, 10], "overlaps": overlaps, "pred": preds,
                       "truth": [{"cls": rng.randrange(nc), "box": [0.0, 0.0, 1.0, 1.0]} for _ in range(n_truth)]})
    return {"task": "detect", "names": [f"c{k}" for k in range(nc)], "matrix_iou": 0.45, "args": {"conf": 0.001},
            "images": images}


def test_vectorised_recount_equals_the_per_image_matcher():
    for seed in range(6):
        capture = _capture(seed)
        for conf in (0.0, 0.001, 0.1, 0.2, 0.25, 0.3, 0.4999, 0.5, 0.75, 0.9, 1.0):
            expected = _reference(capture, conf)
            assert sum(map(sum, expected)) > 0 or conf >= 0.75
            assert confusion_at(capture, conf) == expected, (seed, conf)


def test_flat_arrays_are_made_once_per_capture_and_not_shared():
    a, b = _capture(1), _capture(2)
    assert prepared(a) is prepared(a)  # the slider's next step reuses them
    assert prepared(b) is not prepared(a)
    assert confusion_at(a, 0.3) == _reference(a, 0.3) and confusion_at(b, 0.3) == _reference(b, 0.3)
    before = confusion_at(a, 0.3)
    a["images"].append({"file": "/x/new.jpg", "shape": [10, 10], "overlaps": [], "pred": [],
                        "truth": [{"cls": 0, "box": [0.0, 0.0, 1.0, 1.0]}]})  # one missed truth more
    after = confusion_at(a, 0.3)  # a capture that grew is prepared again, not counted from stale arrays
    assert after == _reference(a, 0.3) and after[4][0] == before[4][0] + 1
