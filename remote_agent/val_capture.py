"""What a ``val`` job keeps of ultralytics' validator: raw numbers, not pictures (the capture format, version 1).

The validator class of the model's task is subclassed at run time (:func:`capturing_validator`): every image the
confusion matrix sees is recorded with its ground truth and *all* its predictions (NMS output at the run's low
``conf``, in NMS order), boxes in original-image pixels, plus the IoU of each (truth, prediction) pair above the
matrix's matching threshold, computed by ultralytics' own ``box_iou`` / ``batch_probiou`` on the very tensors the
matrix matched. With those, ``app/validation/matrix.py`` re-thresholds the matrix at any higher confidence and gets
what a fresh ``val`` at that confidence gives, without re-running the model. Plots are not drawn: the numbers are
the product. No imports from ``app`` (the agent travels alone to workers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MATRIX_IOU = 0.45  # ultralytics' ConfusionMatrix.process_batch default, used by every detection validator
# The stored matrix's confidence: ultralytics' long-time matrix default, not val's 0.001 (a matrix of every faint
# box is all background); a higher val conf= wins. Views re-threshold from the per-image data at any other.
MATRIX_CONF = 0.25
ARG_KEYS = ("conf", "iou", "imgsz", "batch", "max_det", "split", "device", "single_cls", "agnostic_nms", "half")


def _num(value: Any) -> Any:
    """A JSON-safe Python number from a numpy / torch scalar (NaN becomes None)."""
    v = float(value)
    return None if v != v else v


def _boxes_in_original(validator: Any, boxes: Any, pbatch: dict[str, Any], rotated: bool) -> list[Any]:
    """Letterboxed boxes → original-image pixels: ``[x1, y1, x2, y2]``, or 4 corners ``[[x, y] × 4]`` for OBB."""
    from ultralytics.utils import ops

    if boxes.shape[0] == 0:
        return []
    scaled = ops.scale_boxes(pbatch["imgsz"], boxes[:, :5 if rotated else 4].clone().float(), pbatch["ori_shape"],
                             ratio_pad=pbatch["ratio_pad"], xywh=rotated)
    if rotated:
        return [[[float(x), float(y)] for x, y in quad] for quad in ops.xywhr2xyxyxyxy(scaled).cpu().tolist()]
    return [[float(v) for v in b] for b in scaled.cpu().tolist()]


def detection_image(validator: Any, detections: dict[str, Any], pbatch: dict[str, Any],
                    iou_thres: float) -> dict[str, Any]:
    """One image's entry: truth and predictions in pixels, and the IoU pairs (truth, pred, iou) above ``iou_thres``."""
    from ultralytics.utils.metrics import batch_probiou, box_iou

    gt_cls, gt_boxes = pbatch["cls"], pbatch["bboxes"]
    rotated = gt_boxes.shape[1] == 5 if gt_boxes.ndim == 2 and gt_boxes.shape[0] else validator.args.task == "obb"
    pred_boxes = detections["bboxes"]
    truth_px = _boxes_in_original(validator, gt_boxes, pbatch, rotated) if gt_cls.shape[0] else []
    pred_px = _boxes_in_original(validator, pred_boxes, pbatch, rotated)
    overlaps: list[list[float]] = []
    if gt_cls.shape[0] and pred_boxes.shape[0]:
        iou = (batch_probiou(gt_boxes, pred_boxes) if rotated else box_iou(gt_boxes, pred_boxes)).cpu()
        for t, p in (iou > iou_thres).nonzero().tolist():
            overlaps.append([t, p, float(iou[t, p])])  # float32 → double is exact: ties stay ties
    h, w = (int(v) for v in pbatch["ori_shape"])
    return {
        "file": str(Path(pbatch["im_file"]).resolve()),
        "shape": [h, w],
        "truth": [{"cls": int(c), "box": b} for c, b in zip(gt_cls.int().tolist(), truth_px, strict=True)],
        "pred": [{"cls": int(c), "conf": float(s), "box": b}
                 for c, s, b in zip(detections["cls"].int().tolist(), detections["conf"].tolist(), pred_px,
                                                 strict=True)],
        "overlaps": overlaps,
    }


def split_folder(data: str, split: str) -> Path | None:
    """The class folders' parent of a classification data set's split, as ultralytics picks it (None: not a folder)."""
    root = Path(data)
    if not root.is_dir():
        return None
    for name in (split,) if split != "val" else ("val", "valid", "test"):
        if (root / name).is_dir():
            return root / name
    return None


def refuse_foreign_classes(data: str, split: str, names: list[str]) -> None:
    """Raise a one-line ``ValueError`` when none of a classification split's class folders is one of the model's
    classes: ultralytics then numbers the folders in their own sorted order, and every truth would be counted as
    the model's class of that number (a folder ``cat`` as the model's class 0) without a word."""
    folder = split_folder(data, split)
    if folder is None:
        return
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir())
    if classes and not set(classes) & set(names):
        raise ValueError(f"{folder} has the classes {', '.join(classes)}; the model's are {', '.join(names)}: "
                         "none is the same, so no truth could be matched to a prediction by name")


def matrix_conf(validator: Any) -> float:
    """The confidence the stored detection matrix is counted at: the asked one (:data:`MATRIX_CONF` by default),
    never below val's ``conf`` (nothing under it was kept)."""
    return max(float(validator.args.conf), float(validator.matrix_conf))


def capturing_validator(base: type, stored_matrix_conf: float = MATRIX_CONF) -> type:
    """A subclass of the task's validator that records every image the confusion matrix sees, and draws no plots."""

    class CapturingValidator(base):  # type: ignore[misc, valid-type]
        captured_images: list[dict[str, Any]]
        matrix_conf = stored_matrix_conf

        def init_metrics(self, model: Any) -> None:
            super().init_metrics(model)
            self.captured_images = []
            self._seen_files = 0
            matrix = self.confusion_matrix
            matrix.plot = lambda *a, **k: None  # the numbers are kept; the PNGs would only cost time
            if matrix.task == "classify":
                return
            process = matrix.process_batch

            def process_batch(detections: dict[str, Any], batch: dict[str, Any], conf: float = 0.25,
                              iou_thres: float = MATRIX_IOU) -> None:
                self.captured_images.append(detection_image(self, detections, batch, iou_thres))
                process(detections, batch, conf=matrix_conf(self), iou_thres=iou_thres)

            matrix.process_batch = process_batch

        def update_metrics(self, preds: Any, batch: dict[str, Any]) -> None:
            super().update_metrics(preds, batch)
            if self.confusion_matrix.task == "classify":
                self._capture_classes(preds, batch)

        def _capture_classes(self, preds: Any, batch: dict[str, Any]) -> None:
            from PIL import Image

            samples = self.dataloader.dataset.samples  # val loader does not shuffle: batches follow this order
            n5 = min(len(self.names), 5)
            probs = preds.float()  # the Classify head's eval output is softmax already
            cls = probs.argsort(1, descending=True)[:, :n5]  # as the validator ranks them: the same top-1
            conf = probs.gather(1, cls)
            index = {str(name): i for i, name in self.names.items()}
            for k, true in enumerate(batch["cls"].int().tolist()):
                file = str(Path(samples[self._seen_files][0]).resolve())
                self._seen_files += 1
                with Image.open(file) as im:  # the header only: the size, not the pixels
                    w, h = im.size
                # the truth is the class its folder names, in the model's numbering: a folder the model lacks
                # keeps ultralytics' id (single_cls or numbered folders)
                truth = int(true) if self.args.single_cls else index.get(Path(file).parent.name, int(true))
                self.captured_images.append({
                    "file": file, "shape": [h, w], "truth": [{"cls": truth}],
                    "pred": [{"cls": int(c), "conf": float(s)} for c, s in zip(cls[k].tolist(), conf[k].tolist(),
                                                                                    strict=True)],
                })

        def plot_val_samples(self, batch: dict[str, Any], ni: int) -> None:
            return None

        def plot_predictions(self, *args: Any, **kwargs: Any) -> None:
            return None

        def get_stats(self) -> dict[str, Any]:
            plots, self.args.plots = self.args.plots, False  # curves are computed either way; only drawing is skipped
            try:
                return super().get_stats()
            finally:
                self.args.plots = plots

    CapturingValidator.__name__ = f"Capturing{base.__name__}"
    return CapturingValidator


def _curves(metrics: Any, names: list[str]) -> dict[str, Any]:
    """Curve name → x, labels and one y row per class, by name through ``ap_class_index`` (never row position)."""
    out: dict[str, Any] = {}
    classes = [int(c) for c in getattr(metrics, "ap_class_index", [])]
    for name, (x, ys, xlabel, ylabel) in zip(metrics.curves, metrics.curves_results, strict=True):
        rows = [list(map(_num, row)) for row in ys] if len(ys) else []
        if len(rows) != len(classes):
            raise ValueError(f"{name}: {len(rows)} curve rows for {len(classes)} classes with labels")
        out[name] = {"x": [_num(v) for v in x], "xlabel": xlabel, "ylabel": ylabel,
                     "y": {names[c]: row for c, row in zip(classes, rows, strict=True)}}
    return out


def _per_class(metrics: Any, names: list[str]) -> dict[str, Any]:
    """Box metrics of each class that has validation labels, keyed by its name."""
    box = metrics.box
    out: dict[str, Any] = {}
    for i, c in enumerate(int(c) for c in metrics.ap_class_index):
        out[names[c]] = {"precision": _num(box.p[i]), "recall": _num(box.r[i]), "f1": _num(box.f1[i]),
                         "map50": _num(box.ap50[i]), "map50_95": _num(box.ap[i]),
                         "images": int(metrics.nt_per_image[c]), "instances": int(metrics.nt_per_class[c])}
    return out


def build_capture(validator: Any, metrics: Any, task: str, names: list[str], data: str, split: str) -> dict[str, Any]:
    """The capture (format version 1) of a finished validation."""
    args = {k: getattr(validator.args, k) for k in ARG_KEYS if getattr(validator.args, k, None) is not None}
    args = {k: (v if isinstance(v, (bool, int, float, str)) else str(v)) for k, v in args.items()}
    matrix = [[int(v) for v in row] for row in metrics.confusion_matrix.matrix.tolist()]
    if task == "classify":
        curves: dict[str, Any] = {}
        per_class: dict[str, Any] = {}
        overall = {"top1": _num(metrics.top1), "top5": _num(metrics.top5)}
    else:
        curves, per_class = _curves(metrics, names), _per_class(metrics, names)
        box = metrics.box
        overall = {"precision": _num(box.mp), "recall": _num(box.mr), "map50": _num(box.map50),
                   "map50_95": _num(box.map), "fitness": _num(metrics.fitness)}
    speed = {k: _num(metrics.speed.get(k, 0.0)) for k in ("preprocess", "inference", "postprocess")}
    root = (getattr(validator, "data", None) or {}).get("path") or data  # a classification folder has no "path"
    return {
        "version": FORMAT_VERSION, "task": task, "names": names, "data": data, "split": split, "args": args,
        "data_root": str(Path(root).resolve()),
        "matrix_conf": _num(validator.args.conf if task == "classify" else matrix_conf(validator)),
        "matrix_iou": MATRIX_IOU, "confusion_matrix": matrix,
        "curves": curves, "per_class": per_class, "overall": overall, "speed": speed,
        "images": validator.captured_images,
    }
