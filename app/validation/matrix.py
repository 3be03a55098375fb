"""Re-thresholding a captured confusion matrix at another confidence, and the images behind one of its cells.

The matching is ultralytics' own (``ConfusionMatrix.process_batch``, 8.4), replayed from the capture's per-image
data, so that ``confusion_at(capture, c)`` equals the matrix a fresh ``val conf=c`` gives:

- a prediction counts when its confidence is *strictly* above ``c``, compared in float32 as torch compares a
  float32 tensor with a Python number (ties at exactly ``c`` are out, as in NMS and the matrix);
- candidates are the kept predictions with an IoU above the matching threshold (``matrix_iou``, 0.45) with some
  truth, taken by descending confidence, equal confidences in their NMS order (numpy's stable argsort);
- each takes the unclaimed truth it overlaps most (equal IoUs: the first truth in label order), if above 0.45;
- a matched pair adds to [pred class, true class]; an unmatched truth to [background, true class]; an unmatched
  kept prediction to [pred class, background].

The IoUs are those the agent computed with ultralytics' ``box_iou`` / ``batch_probiou`` on the tensors the matrix
matched (``overlaps``: [truth index, prediction index, IoU], only pairs above the threshold), so no box geometry is
redone here. Predictions below the run's own ``conf`` (``args.conf``, 0.001 by default) were never kept: asking
for less gives the matrix at that ``conf``. The stored matrix itself is at ``matrix_conf`` (0.25 unless val ran
with a higher ``conf``), as ultralytics' validator counted it.
Classification ignores the confidence: its matrix is top-1 class against true class, as ultralytics counts it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from app.validation.store import ValidationError

DEFAULT_MATCH_IOU = 0.45


def as_float32(value: float) -> float:
    """``value`` rounded to the nearest float32, as torch rounds a Python number compared with a float32 tensor."""
    return float(struct.unpack("f", struct.pack("f", float(value)))[0])


def _box_iou(a: list[float], b: list[float]) -> float:
    """IoU of two ``[x1, y1, x2, y2]`` boxes (for a capture made without ``overlaps``; not OBB)."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / (union + 1e-7)


def _overlaps(image: dict[str, Any], iou_thres: float, task: str) -> list[list[float]]:
    if "overlaps" in image:
        return image["overlaps"]
    if task == "obb":
        raise ValidationError(f"{image.get('file')}: this capture has no overlaps, and rotated boxes are not re-matched")
    return [[t, p, iou] for t, tr in enumerate(image["truth"]) for p, pr in enumerate(image["pred"])
            if (iou := _box_iou(tr["box"], pr["box"])) > iou_thres]


def match_image(image: dict[str, Any], conf: float, iou_thres: float = DEFAULT_MATCH_IOU,
                task: str = "detect") -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(matched (truth, pred) index pairs, unmatched truth indices, unmatched kept pred indices) at ``conf``."""
    thr = as_float32(conf)
    preds, truth = image["pred"], image["truth"]
    kept = [i for i, p in enumerate(preds) if p["conf"] > thr]
    if not truth:
        return [], [], kept
    keep = set(kept)
    by_pred: dict[int, list[tuple[int, float]]] = {}
    for t, p, iou in _overlaps(image, iou_thres, task):
        if int(p) in keep and iou > iou_thres:
            by_pred.setdefault(int(p), []).append((int(t), float(iou)))
    candidates = sorted((p for p in kept if p in by_pred), key=lambda p: -preds[p]["conf"])  # sorted() is stable
    claimed: dict[int, int] = {}
    for p in candidates:
        free = [(t, iou) for t, iou in by_pred[p] if t not in claimed]
        if free:
            best = max(iou for _, iou in free)
            claimed[min(t for t, iou in free if iou == best)] = p  # argmax: the first truth of the best IoU
    matched = sorted(claimed.items())
    used = set(claimed.values())
    return matched, [t for t in range(len(truth)) if t not in claimed], [p for p in kept if p not in used]


def run_conf(capture: dict[str, Any]) -> float:
    """The ``conf`` the validation ran with: no prediction below it was kept."""
    return float((capture.get("args") or {}).get("conf") or 0.0)


def _n_classes(capture: dict[str, Any]) -> int:
    return len(capture["names"])


def confusion_at(capture: dict[str, Any], conf: float) -> list[list[int]]:
    """The confusion matrix ([predicted][true]) at confidence ``conf``, from the capture's per-image data."""
    nc = _n_classes(capture)
    task = capture["task"]
    if task == "classify":
        matrix = [[0] * nc for _ in range(nc)]
        for image in capture["images"]:
            if image["pred"] and image["truth"]:
                matrix[image["pred"][0]["cls"]][image["truth"][0]["cls"]] += 1
        return matrix
    conf = max(float(conf), run_conf(capture))
    iou_thres = float(capture.get("matrix_iou", DEFAULT_MATCH_IOU))
    matrix = [[0] * (nc + 1) for _ in range(nc + 1)]
    for image in capture["images"]:
        matched, lone_truth, lone_pred = match_image(image, conf, iou_thres, task)
        truth, preds = image["truth"], image["pred"]
        for t, p in matched:
            matrix[preds[p]["cls"]][truth[t]["cls"]] += 1
        for t in lone_truth:
            matrix[nc][truth[t]["cls"]] += 1
        for p in lone_pred:
            matrix[preds[p]["cls"]][nc] += 1
    return matrix


def _cell_parts(capture: dict[str, Any], image: dict[str, Any], conf: float, predicted: int,
                true: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The (truth, pred) entries of one image that count in cell [predicted][true]."""
    nc = _n_classes(capture)
    truth, preds = image["truth"], image["pred"]
    if capture["task"] == "classify":
        hit = bool(preds and truth and preds[0]["cls"] == predicted and truth[0]["cls"] == true)
        return (truth, preds[:1]) if hit else ([], [])
    conf = max(float(conf), run_conf(capture))
    matched, lone_truth, lone_pred = match_image(image, conf, float(capture.get("matrix_iou", DEFAULT_MATCH_IOU)),
                                                 capture["task"])
    if predicted == nc:
        return [truth[t] for t in lone_truth if truth[t]["cls"] == true], []
    if true == nc:
        return [], [preds[p] for p in lone_pred if preds[p]["cls"] == predicted]
    pairs = [(t, p) for t, p in matched if preds[p]["cls"] == predicted and truth[t]["cls"] == true]
    return [truth[t] for t, _ in pairs], [preds[p] for _, p in pairs]


def _cells(capture: dict[str, Any], conf: float, predicted: int, true: int) -> Iterator[dict[str, Any]]:
    for image in capture["images"]:
        truth, pred = _cell_parts(capture, image, conf, predicted, true)
        count = max(len(truth), len(pred))
        if count:
            yield {"file": image["file"], "shape": image["shape"], "truth": truth, "pred": pred, "count": count}


def cell_images(capture: dict[str, Any], conf: float, predicted: int, true: int) -> list[dict[str, Any]]:
    """The images behind cell [predicted][true] at ``conf``: each with only the boxes that count there.

    ``count`` is how much the image adds to the cell; the counts sum to ``confusion_at(capture, conf)[p][t]``.
    The background row / column is index ``len(names)`` (detect, segment, pose, obb).
    """
    size = _n_classes(capture) + (0 if capture["task"] == "classify" else 1)
    if not (0 <= predicted < size and 0 <= true < size):
        raise ValidationError(f"no cell [{predicted}][{true}] in a {size} x {size} matrix")
    return list(_cells(capture, conf, predicted, true))
