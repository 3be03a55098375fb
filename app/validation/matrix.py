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
redone here. The matching is greedy in descending confidence, so the matching at a higher ``c`` is the prefix of the
matching at the run's own ``conf``: it is done once per capture (:func:`prepared`), and a threshold is then a mask
over flat numpy arrays (a slider step on a COCO-sized capture is a few milliseconds, not a Python loop per image). Predictions below the run's own ``conf`` (``args.conf``, 0.001 by default) were never kept: asking
for less gives the matrix at that ``conf``. The stored matrix itself is at ``matrix_conf`` (0.25 unless val ran
with a higher ``conf``), as ultralytics' validator counted it.
Classification ignores the confidence: its matrix is top-1 class against true class, as ultralytics counts it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.validation.store import ValidationError

DEFAULT_MATCH_IOU = 0.45
_PREPARED_KEEP = 4  # captures whose flat arrays are kept: the view holds one or two (Compare) at a time


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


def _claims(image: dict[str, Any], thr: float, iou_thres: float, task: str) -> dict[int, int]:
    """Truth index → the prediction that claimed it, greedily by descending confidence among those above ``thr``."""
    preds = image["pred"]
    if not image["truth"] or not preds:
        return {}
    by_pred: dict[int, list[tuple[int, float]]] = {}
    for t, p, iou in _overlaps(image, iou_thres, task):  # only the predictions that overlap: not all the kept ones
        if iou > iou_thres and preds[int(p)]["conf"] > thr:
            by_pred.setdefault(int(p), []).append((int(t), float(iou)))
    claimed: dict[int, int] = {}
    for p in sorted(by_pred, key=lambda p: (-preds[p]["conf"], p)):  # equal confidences: NMS order
        free = [(t, iou) for t, iou in by_pred[p] if t not in claimed]
        if free:
            best = max(iou for _, iou in free)
            claimed[min(t for t, iou in free if iou == best)] = p  # argmax: the first truth of the best IoU
    return claimed


def match_image(image: dict[str, Any], conf: float, iou_thres: float = DEFAULT_MATCH_IOU,
                task: str = "detect") -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(matched (truth, pred) index pairs, unmatched truth indices, unmatched kept pred indices) at ``conf``."""
    thr = as_float32(conf)
    claimed = _claims(image, thr, iou_thres, task)
    used = set(claimed.values())
    kept = [i for i, p in enumerate(image["pred"]) if p["conf"] > thr]
    return (sorted(claimed.items()), [t for t in range(len(image["truth"])) if t not in claimed],
            [p for p in kept if p not in used])


def run_conf(capture: dict[str, Any]) -> float:
    """The ``conf`` the validation ran with: no prediction below it was kept."""
    return float((capture.get("args") or {}).get("conf") or 0.0)


def _n_classes(capture: dict[str, Any]) -> int:
    return len(capture["names"])


@dataclass(frozen=True)
class PreparedMatches:
    """A detection capture's greedy matching at the run's ``conf``, as flat arrays over all its images."""

    pred_conf: np.ndarray  # float64 holding each kept prediction's float32 confidence exactly
    pred_cls: np.ndarray
    pred_truth_cls: np.ndarray  # the class of the truth the prediction claimed, -1 when it claimed none
    truth_cls: np.ndarray
    truth_claim_conf: np.ndarray  # the confidence of the prediction that claimed the truth, -inf when none did


_prepared: dict[int, tuple[dict[str, Any], int, PreparedMatches]] = {}


def _prepare(capture: dict[str, Any]) -> PreparedMatches:
    task, floor = capture["task"], as_float32(run_conf(capture))
    iou_thres = float(capture.get("matrix_iou", DEFAULT_MATCH_IOU))
    pred_conf, pred_cls, pred_truth, truth_cls, truth_claim = [], [], [], [], []
    for image in capture["images"]:
        truth, preds = image["truth"], image["pred"]
        claim = [-1] * len(preds)
        claimed_by = [float("-inf")] * len(truth)
        for t, p in _claims(image, floor, iou_thres, task).items():
            claim[p] = truth[t]["cls"]
            claimed_by[t] = preds[p]["conf"]
        pred_conf += [p["conf"] for p in preds]
        pred_cls += [p["cls"] for p in preds]
        pred_truth += claim
        truth_cls += [t["cls"] for t in truth]
        truth_claim += claimed_by
    return PreparedMatches(np.asarray(pred_conf, dtype=np.float64), np.asarray(pred_cls, dtype=np.int64),
                           np.asarray(pred_truth, dtype=np.int64), np.asarray(truth_cls, dtype=np.int64),
                           np.asarray(truth_claim, dtype=np.float64))


def prepared(capture: dict[str, Any]) -> PreparedMatches:
    """The flat matching arrays of a detection capture, made on first use and kept for this capture object."""
    key = id(capture)
    hit = _prepared.get(key)
    if hit is not None and hit[0] is capture and hit[1] == len(capture["images"]):
        return hit[2]
    arrays = _prepare(capture)
    _prepared[key] = (capture, len(capture["images"]), arrays)
    while len(_prepared) > _PREPARED_KEEP:
        del _prepared[next(iter(_prepared))]  # dicts keep insertion order: the oldest goes
    return arrays


def confusion_at(capture: dict[str, Any], conf: float) -> list[list[int]]:
    """The confusion matrix ([predicted][true]) at confidence ``conf``, from the capture's per-image data."""
    nc = _n_classes(capture)
    if capture["task"] == "classify":
        matrix = [[0] * nc for _ in range(nc)]
        for image in capture["images"]:
            if image["pred"] and image["truth"]:
                matrix[image["pred"][0]["cls"]][image["truth"][0]["cls"]] += 1
        return matrix
    thr = as_float32(max(float(conf), run_conf(capture)))
    m = prepared(capture)
    size = nc + 1
    kept = m.pred_conf > thr
    # a kept prediction's claim stands at thr (the prefix rule); its row is its class, its column the claimed
    # truth's class, or background when it claimed none
    cols = np.where(m.pred_truth_cls[kept] >= 0, m.pred_truth_cls[kept], nc)
    cells = m.pred_cls[kept] * size + cols
    lone_truth = ~(m.truth_claim_conf > thr)
    cells = np.concatenate((cells, nc * size + m.truth_cls[lone_truth]))
    return np.bincount(cells, minlength=size * size).reshape(size, size).tolist()


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
