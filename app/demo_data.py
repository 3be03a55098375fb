"""Small synthetic data sets, written in code, so that something real can be trained offline.

Each image holds a few coloured shapes on a noisy background: ``square`` (class 0) and
``disc`` (class 1). The same shapes give labels for every task ultralytics trains:
boxes (detect), polygons (segment), four corner keypoints (pose), rotated boxes (obb)
and one folder per class (classify).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASS_NAMES = ("square", "disc")
TASKS = ("detect", "segment", "pose", "obb", "classify")


@dataclass(frozen=True)
class Shape:
    """One shape in an image: its class and its outline in pixels."""

    cls: int
    polygon: list[tuple[float, float]]


def _rotated_rect(cx: float, cy: float, w: float, h: float, angle: float) -> list[tuple[float, float]]:
    c, s = math.cos(angle), math.sin(angle)
    pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]


def _disc(cx: float, cy: float, r: float, n: int = 16) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n)]


def _draw_image(rng: np.random.Generator, size: int, shapes_per_image: int, rotate: bool) -> tuple[Image.Image, list[Shape]]:
    noise = rng.integers(40, 90, size=(size, size, 3), dtype=np.uint8)
    img = Image.fromarray(noise, "RGB")
    draw = ImageDraw.Draw(img)
    shapes: list[Shape] = []
    for _ in range(shapes_per_image):
        cls = int(rng.integers(0, len(CLASS_NAMES)))
        r = float(rng.uniform(size * 0.12, size * 0.22))
        cx = float(rng.uniform(r + 1, size - r - 1))
        cy = float(rng.uniform(r + 1, size - r - 1))
        if cls == 0:
            angle = float(rng.uniform(0, math.pi / 2)) if rotate else 0.0
            poly = _rotated_rect(cx, cy, 1.4 * r, 1.4 * r, angle)
            colour = (230, 60, 60)
        else:
            poly = _disc(cx, cy, r)
            colour = (60, 120, 240)
        draw.polygon(poly, fill=colour)
        shapes.append(Shape(cls, poly))
    return img, shapes


def _bbox(poly: list[tuple[float, float]], size: int) -> tuple[float, float, float, float]:
    xs = [min(max(p[0], 0), size) for p in poly]
    ys = [min(max(p[1], 0), size) for p in poly]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return (x0 + x1) / 2 / size, (y0 + y1) / 2 / size, (x1 - x0) / size, (y1 - y0) / size


def _corners(poly: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Four keypoints of a shape: its extreme points (left, top, right, bottom)."""
    return [min(poly, key=lambda p: p[0]), min(poly, key=lambda p: p[1]), max(poly, key=lambda p: p[0]), max(poly, key=lambda p: p[1])]


def _min_area_rect(poly: list[tuple[float, float]]) -> list[tuple[float, float]]:
    import cv2

    rect = cv2.minAreaRect(np.array(poly, dtype=np.float32))
    return [(float(x), float(y)) for x, y in cv2.boxPoints(rect)]


def _label_line(task: str, shape: Shape, size: int) -> str:
    def norm(points: list[tuple[float, float]]) -> str:
        return " ".join(f"{min(max(x / size, 0), 1):.6f} {min(max(y / size, 0), 1):.6f}" for x, y in points)

    if task == "detect":
        return f"{shape.cls} " + " ".join(f"{v:.6f}" for v in _bbox(shape.polygon, size))
    if task == "segment":
        return f"{shape.cls} {norm(shape.polygon)}"
    if task == "obb":
        return f"{shape.cls} {norm(_min_area_rect(shape.polygon))}"
    if task == "pose":
        box = " ".join(f"{v:.6f}" for v in _bbox(shape.polygon, size))
        kpts = " ".join(f"{x / size:.6f} {y / size:.6f} 2" for x, y in _corners(shape.polygon))
        return f"{shape.cls} {box} {kpts}"
    raise ValueError(f"no label format for task {task!r}")


def write_dataset(root: Path, task: str = "detect", n_train: int = 16, n_val: int = 8, size: int = 96, seed: int = 0) -> Path:
    """Write a synthetic data set for ``task`` under ``root``.

    Returns the path to train with: the ``data.yaml`` for detect/segment/pose/obb, the
    folder itself for classify.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    rng = np.random.default_rng(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", n_train), ("val", n_val)):
        for i in range(count):
            if task == "classify":
                cls = i % len(CLASS_NAMES)
                img, _ = _draw_image(rng, size, 0, rotate=False)
                draw = ImageDraw.Draw(img)
                r = size * 0.3
                poly = _rotated_rect(size / 2, size / 2, 1.4 * r, 1.4 * r, 0) if cls == 0 else _disc(size / 2, size / 2, r)
                draw.polygon(poly, fill=(230, 60, 60) if cls == 0 else (60, 120, 240))
                out = root / split / CLASS_NAMES[cls]
                out.mkdir(parents=True, exist_ok=True)
                img.save(out / f"{i:04d}.png")
                continue
            img, shapes = _draw_image(rng, size, int(rng.integers(1, 4)), rotate=task == "obb")
            (root / "images" / split).mkdir(parents=True, exist_ok=True)
            (root / "labels" / split).mkdir(parents=True, exist_ok=True)
            img.save(root / "images" / split / f"{i:04d}.png")
            lines = [_label_line(task, s, size) for s in shapes]
            (root / "labels" / split / f"{i:04d}.txt").write_text("\n".join(lines) + "\n")
    if task == "classify":
        return root
    yaml_lines = [f"path: {root.resolve()}", "train: images/train", "val: images/val", "names:"]
    yaml_lines += [f"  {i}: {n}" for i, n in enumerate(CLASS_NAMES)]
    if task == "pose":
        yaml_lines += ["kpt_shape: [4, 3]", "flip_idx: [2, 1, 0, 3]"]
    data_yaml = root / "data.yaml"
    data_yaml.write_text("\n".join(yaml_lines) + "\n")
    return data_yaml
