"""Name a model's architecture the way users do (``YOLO26n``, ``YOLOv8m-seg``, ``YOLOv5nu``).

The model's ``yaml`` dict (kept inside every ultralytics model) carries the file it was
built from (``yaml_file``) and, since 8.0.50 or so, its ``scale``. Older files named the
scale in the file (``yolov8n.yaml``) or only through depth/width multiples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

_STEM = re.compile(
    r"^(?P<fam>yolov\d+|yolo\d+|yoloe-?v?\d*|yolo-?world|rtdetr)(?P<scale>[nsmlxtcbe]?)(?P<u>u?)(?P<rest>(-[a-z0-9]+)*)$"
)
_TASK_SUFFIX = {"segment": "-seg", "pose": "-pose", "obb": "-obb", "classify": "-cls", "semantic": "-sem", "depth": "-depth"}
# (depth_multiple, width_multiple) → scale, as in the v8-era scale tables
_MULTIPLES = {(0.33, 0.25): "n", (0.33, 0.5): "s", (0.67, 0.75): "m", (1.0, 1.0): "l", (1.0, 1.25): "x",
              (0.5, 0.25): "n", (0.5, 0.5): "s", (0.5, 1.0): "m", (1.0, 1.5): "x"}


@dataclass(frozen=True)
class Architecture:
    """A model's architecture name, family and scale (any may be unknown)."""

    name: str | None
    family: str | None
    scale: str | None


def family_display(fam: str, u: bool = False) -> str:
    """``yolov8`` → ``YOLOv8``, ``yolo26`` → ``YOLO26``, ``rtdetr`` → ``RT-DETR``."""
    fam = fam.lower()
    if fam == "rtdetr":
        return "RT-DETR"
    if fam.startswith("yoloe"):
        return "YOLOE" + fam[5:]
    if fam.replace("-", "") == "yoloworld":
        return "YOLO-World"
    if fam.startswith("yolov"):
        return "YOLOv" + fam[5:] + ("u" if u else "")
    return "YOLO" + fam[4:]


def _scale_from_multiples(yaml: dict[str, Any]) -> str | None:
    try:
        key = (round(float(yaml["depth_multiple"]), 2), round(float(yaml["width_multiple"]), 2))
    except (KeyError, TypeError, ValueError):
        return None
    return _MULTIPLES.get(key)


def architecture_from_yaml(yaml: dict[str, Any], task: str | None) -> Architecture:
    """Work out the architecture from a model's yaml dict (``yaml_file``, ``scale``, multiples)."""
    yaml_file = yaml.get("yaml_file")
    scale = yaml.get("scale") if isinstance(yaml.get("scale"), str) else None
    stem = PurePath(str(yaml_file)).stem.lower() if yaml_file else ""
    m = _STEM.match(stem) if stem else None
    if not m:
        scale = scale or _scale_from_multiples(yaml)
        if stem:
            return Architecture(stem, None, scale)
        return Architecture(None, None, scale)
    fam, file_scale, u, rest = m.group("fam"), m.group("scale"), bool(m.group("u")), m.group("rest") or ""
    scale = file_scale or scale or _scale_from_multiples(yaml) or ""
    if fam.startswith("yoloe") and not fam[5:].strip("-v"):
        fam = "yoloe"
    display = family_display(fam)
    if fam == "rtdetr":
        return Architecture(f"RT-DETR{rest or ('-' + scale if scale else '')}", "RT-DETR", scale or rest.strip("-") or None)
    suffix = rest
    if not suffix and task in _TASK_SUFFIX and _TASK_SUFFIX[task] not in stem:
        suffix = ""  # the yaml names the head; a detect yaml with another task is left as named
    name = f"{display}{scale}{'u' if u else ''}{suffix}"
    return Architecture(name, family_display(fam, u), scale or None)
