"""The Compare page's rows: every figure any compared model has, under a human name, best of each row marked, and
for a model without it a one-line reason (Qt-free, plain data).

Figures come from three places ``compare_models`` already read: the newest validation (overall metrics, speed),
the checkpoint's final training metrics (``metrics/mAP50(M)``, ``val/box_loss``, …) and the model itself (parameters,
size on disk, epochs). Raw ultralytics column names never reach the page: :func:`metric_label` turns them into
"mAP50 (mask)", "Box loss (val)".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SUFFIX_NAMES = {"B": "box", "M": "mask", "P": "pose", "O": "obb"}  # ultralytics' (B)/(M)/(P) metric suffixes
BASE_NAMES = {"precision": "Precision", "recall": "Recall", "mAP50": "mAP50", "mAP50-95": "mAP50-95",
              "accuracy_top1": "Top-1 accuracy", "accuracy_top5": "Top-5 accuracy", "fitness": "Fitness",
              "mIoU": "mIoU", "delta1": "δ1"}
VALIDATION_KEYS = (("precision", "Precision"), ("recall", "Recall"), ("map50", "mAP50"), ("map50_95", "mAP50-95"),
                   ("fitness", "Fitness"), ("top1", "Top-1 accuracy"), ("top5", "Top-5 accuracy"))
SPEED_KEYS = (("preprocess", "Preprocess"), ("inference", "Inference"), ("postprocess", "Postprocess"))
SECTIONS = ("Validation (newest run)", "Training (final epoch)", "Speed (ms per image, validation)", "Model")
LOSS_NAMES = {"cls": "Class", "dfl": "DFL", "seg": "Mask", "kobj": "Keypoint objectness", "l1": "L1",
              "sem": "Semantic"}  # ultralytics' loss abbreviations; others read as they are ("box", "pose", "angle")
_SUFFIXED = re.compile(r"^(?P<base>.+?)\((?P<suffix>[A-Z])\)$")


def metric_label(raw: str) -> str:
    """A human name for an ultralytics metric column: ``metrics/mAP50(B)`` → "mAP50 (box)", ``val/seg_loss`` →
    "Mask loss (val)"; an unknown name keeps its own words."""
    prefix, _, name = raw.rpartition("/")
    m = _SUFFIXED.match(name)
    base, kind = (m["base"], SUFFIX_NAMES.get(m["suffix"], m["suffix"])) if m else (name, None)
    if base.endswith("_loss"):
        words = base[: -len("_loss")]
        words = LOSS_NAMES.get(words, words.replace("_", " ").capitalize())
        return f"{words} loss ({prefix or 'val'})"
    text = BASE_NAMES.get(base, base.replace("_", " "))
    return f"{text} ({kind})" if kind else text


def higher_is_better(raw: str) -> bool:
    """Whether a bigger value of this training column is the better one (losses and times are the others)."""
    return not raw.endswith("_loss")


@dataclass
class CompareRow:
    """One row of the table: ``values[model id]`` (None where missing, with ``missing[model id]`` saying why)."""

    section: str
    label: str
    key: str
    better: str | None  # "higher", "lower" or None (a figure that is no contest: parameters, size)
    unit: str = ""
    values: dict[str, float | int | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    best: list[str] = field(default_factory=list)


def _validation_rows(models: list[dict[str, Any]], group: str, box_suffix: bool) -> list[CompareRow]:
    """Rows of the newest validations' ``overall`` (higher is better) or ``speed`` (lower is better) figures."""
    keys, section, better, unit = ((VALIDATION_KEYS, SECTIONS[0], "higher", "") if group == "overall"
                                   else (SPEED_KEYS, SECTIONS[2], "lower", "ms"))
    rows = []
    for key, label in keys:
        if not any(key in ((m["validation"] or {}).get(group) or {}) for m in models):
            continue  # a figure no compared model has is no row
        shown = f"{label} (box)" if box_suffix and group == "overall" and key != "fitness" else label
        row = CompareRow(section, shown, f"{group}.{key}", better, unit)
        for m in models:
            value = ((m["validation"] or {}).get(group) or {}).get(key)
            row.values[m["id"]] = value if isinstance(value, int | float) else None
            if row.values[m["id"]] is None:
                row.missing[m["id"]] = (f"{m['name']} is not validated yet (Validation tab → Validate…)"
                                        if m["validation"] is None
                                        else f"{m['name']}'s newest validation has no {shown}")
        rows.append(row)
    return rows


def _training_rows(models: list[dict[str, Any]]) -> list[CompareRow]:
    columns: list[str] = []
    for m in models:  # in the checkpoint's own order (metrics, then losses), first seen first
        columns += [c for c in m["training"]["metrics"] if c not in columns]
    rows = []
    for column in columns:
        row = CompareRow(SECTIONS[1], metric_label(column), f"training.{column}",
                         "higher" if higher_is_better(column) else "lower")
        for m in models:
            value = m["training"]["metrics"].get(column)
            row.values[m["id"]] = value if isinstance(value, int | float) else None
            if row.values[m["id"]] is None:
                row.missing[m["id"]] = (f"{m['name']}'s checkpoint records no final training metrics"
                                        if not m["training"]["metrics"]
                                        else f"{m['name']}'s training did not report {row.label}")
        rows.append(row)
    return rows


def _model_rows(models: list[dict[str, Any]], sizes: dict[str, int | None]) -> list[CompareRow]:
    figures = (("Parameters", "model.params", lambda m: m.get("params"), "", "not counted in its checkpoint"),
               ("Size on disk", "model.size", lambda m: sizes.get(m["id"]), "bytes", "its weights are not on disk"),
               ("Image size", "model.imgsz", lambda m: m.get("imgsz") if isinstance(m.get("imgsz"), int) else None,
                "px", "its checkpoint records no image size"),
               ("Epochs trained", "model.epochs", lambda m: m["training"]["epochs"] or None, "",
                "its checkpoint holds no training results"))
    rows = []
    for label, key, read, unit, why in figures:
        row = CompareRow(SECTIONS[3], label, key, None, unit)
        for m in models:
            value = read(m)
            row.values[m["id"]] = value if isinstance(value, int | float) else None
            if row.values[m["id"]] is None:
                row.missing[m["id"]] = f"{m['name']}: {why}"
        if any(v is not None for v in row.values.values()):
            rows.append(row)
    return rows


def shown_digits(unit: str) -> int:
    """Decimals a figure is shown with: times to 2, shares and losses to 3 (the page and the best marks agree)."""
    return 2 if unit == "ms" else 3


def _mark_best(row: CompareRow) -> None:
    # Compared as shown: 0.108 and 0.112 ms both read 0.11, and one highlighted of two equal numbers is a puzzle.
    have = {mid: round(v, shown_digits(row.unit)) for mid, v in row.values.items() if v is not None}
    if row.better is None or len(have) < 2:
        return
    top = (max if row.better == "higher" else min)(have.values())
    best = [mid for mid, v in have.items() if v == top]
    row.best = best if len(best) < len(have) else []  # all that have it tie: nothing stands out


def compare_rows(result: dict[str, Any], sizes: dict[str, int | None] | None = None) -> list[CompareRow]:
    """The rows of a ``compare_models`` result, section by section; ``sizes`` (model id → bytes) adds the size row."""
    models = result["models"]
    box_suffix = result["task"] not in ("classify",)  # "(box)" tells a box mAP from a mask or pose one
    rows = (_validation_rows(models, "overall", box_suffix) + _training_rows(models)
            + _validation_rows(models, "speed", box_suffix) + _model_rows(models, sizes or {}))
    for row in rows:
        _mark_best(row)
    return rows
