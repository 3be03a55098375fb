"""The labels of one sample image, parsed for drawing: boxes, polygons, keypoints, oriented boxes or a class name.

Qt-free: the dataset page reads samples here off the GUI thread and only paints what comes back. Lines the scan
called broken are skipped here (the problems list names them); coordinates stay normalised (0…1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from app.library.dataset_scan import label_path

# ultralytics' COCO-pose skeleton (1-based keypoint pairs), used when a set has 17 keypoints
COCO_SKELETON = [(16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9), (8, 10),
                 (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7)]


@dataclass
class Annotation:
    """One labelled object: its class and the shapes to draw (normalised coordinates)."""

    cls: int
    box: tuple[float, float, float, float] | None = None  # x_center, y_center, w, h
    polygon: list[tuple[float, float]] | None = None  # a segment's outline
    corners: list[tuple[float, float]] | None = None  # an oriented box's four corners
    keypoints: list[tuple[float, float, float]] | None = None  # (x, y, visibility)


@dataclass
class Sample:
    """An image and what its label file says (``class_name`` for a classification image)."""

    image: str
    annotations: list[Annotation] = field(default_factory=list)
    class_name: str | None = None


def skeleton(kpt_shape: list[int] | None) -> list[tuple[int, int]]:
    """The keypoint pairs to join (0-based): COCO's for 17 keypoints, else each to the next, closed."""
    if not kpt_shape:
        return []
    n = kpt_shape[0]
    if n == 17:
        return [(a - 1, b - 1) for a, b in COCO_SKELETON]
    return [(i, (i + 1) % n) for i in range(n)] if n > 1 else []


def read_sample(image: str | Path, task: str, nc: int, kpt_shape: list[int] | None = None) -> Sample:
    """The sample at ``image`` with its labels for ``task`` (a missing or unreadable label file: none)."""
    image = Path(image)
    if task == "classify":
        return Sample(str(image), class_name=image.parent.name)
    sample = Sample(str(image))
    try:
        text = label_path(image).read_text(errors="replace")
    except OSError:
        return sample
    for line in text.splitlines():
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            continue
        if not values or not all(map(math.isfinite, values)) or values[0] != int(values[0]) or not 0 <= values[0] < nc:
            continue
        ann = _annotation(int(values[0]), values[1:], task, kpt_shape)
        if ann is not None:
            sample.annotations.append(ann)
    return sample


def _pairs(values: list[float]) -> list[tuple[float, float]]:
    return [(values[i], values[i + 1]) for i in range(0, len(values) - 1, 2)]


def _annotation(cls: int, v: list[float], task: str, kpt_shape: list[int] | None) -> Annotation | None:
    if task == "detect" and len(v) == 4:
        return Annotation(cls, box=(v[0], v[1], v[2], v[3]))
    if task == "obb" and len(v) == 8:
        return Annotation(cls, corners=_pairs(v))
    if task == "segment" and len(v) >= 6 and len(v) % 2 == 0:
        return Annotation(cls, polygon=_pairs(v))
    if task == "segment" and len(v) == 4:
        return Annotation(cls, box=(v[0], v[1], v[2], v[3]))
    if task == "pose" and len(v) > 4:
        n, ndim = kpt_shape if kpt_shape else ((len(v) - 4) // 3, 3)
        rest = v[4:]
        if len(rest) != n * ndim:
            return None
        kpts = [(rest[i * ndim], rest[i * ndim + 1], rest[i * ndim + 2] if ndim == 3 else 2.0) for i in range(n)]
        return Annotation(cls, box=(v[0], v[1], v[2], v[3]), keypoints=kpts)
    return None
