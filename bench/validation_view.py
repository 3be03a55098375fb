"""The Validation view's confidence slider at 80 classes: one recount (``matrix.confusion_at``) on the whole capture,
and the slider's step (``MatrixPanel.set_conf``: the recount and the heat map's redraw), on captures the size of COCO val (500 and 5,000 images).

The captures are synthetic but in the agreed format with ultralytics' shapes: per image 7 truths, 100 kept
predictions (val's conf 0.001 keeps many; max_det is 300) with confidences skewed low, and the IoU pairs above
0.45 that the agent stores. The first recount of a capture also does its one-time matching (reported apart).
Usage: QT_QPA_PLATFORM=offscreen python bench/validation_view.py [--images 500 5000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from common import save

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

NC = 80
TRUTHS, PREDS = 7, 100
CONFS = (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)


def synthetic_capture(n_images: int, seed: int = 0) -> dict:
    """An 80-class detection capture of ``n_images`` images in the agreed format (boxes are not drawn here)."""
    rng = random.Random(seed)
    images = []
    for i in range(n_images):
        truth = [{"cls": rng.randrange(NC), "box": [0.0, 0.0, 10.0, 10.0]} for _ in range(TRUTHS)]
        preds = sorted(({"cls": rng.randrange(NC), "conf": rng.random() ** 3, "box": [0.0, 0.0, 10.0, 10.0]}
                        for _ in range(PREDS)), key=lambda p: -p["conf"])
        overlaps = [[t, p, 0.45 + 0.5 * rng.random()] for t in range(TRUTHS) for p in rng.sample(range(PREDS), 3)]
        images.append({"file": f"/data/{i:05d}.jpg", "shape": [480, 640], "truth": truth, "pred": preds,
                       "overlaps": overlaps})
    names = [f"class{i}" for i in range(NC)]
    capture = {"version": 1, "task": "detect", "names": names, "matrix_conf": 0.25, "matrix_iou": 0.45,
               "curves": {}, "per_class": {}, "overall": {}, "speed": {}, "images": images,
               "args": {"conf": 0.001}}  # as val runs: the recount's floor is the run's conf
    from app.validation.matrix import confusion_at

    capture["confusion_matrix"] = confusion_at(capture, 0.25)
    return capture


def first_recount_ms(capture: dict) -> float:
    """The first recount of a capture just opened: the one-time greedy matching into flat arrays, then the mask."""
    from app.validation.matrix import confusion_at

    fresh = dict(capture)  # a new object: its arrays are not prepared yet
    t = time.perf_counter()
    confusion_at(fresh, 0.25)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, nargs="+", default=[500, 5000])
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from app.validation.matrix import confusion_at
    from app.views.validation.matrix_panel import MatrixPanel

    rows = []
    for n in args.images:
        capture = synthetic_capture(n)
        panel = MatrixPanel()
        panel.resize(700, 600)
        panel.show()
        panel.show_capture(capture)
        app.processEvents()
        recount, slider = [], []
        for conf in CONFS:
            t = time.perf_counter()
            confusion_at(capture, conf)
            recount.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            panel.set_conf(conf)
            app.processEvents()  # the redraw
            slider.append((time.perf_counter() - t) * 1000)
        row = {"classes": NC, "images": n, "predictions": n * PREDS, "confusion_at_ms_median": statistics.median(recount),
               "confusion_at_ms_max": max(recount), "slider_ms_median": statistics.median(slider),
               "slider_ms_max": max(slider)}
        row["first_recount_ms"] = first_recount_ms(capture)
        rows.append(row)
        print(f"{NC} classes, {n:>5} images ({n * PREDS:>7} predictions): confusion_at median "
              f"{row['confusion_at_ms_median']:.0f} ms (max {row['confusion_at_ms_max']:.0f}); slider step "
              f"median {row['slider_ms_median']:.0f} ms (max {row['slider_ms_max']:.0f}); first recount of a "
              f"capture (matching once) {row['first_recount_ms']:.0f} ms")
        panel.close()
    save("validation_view", rows)


if __name__ == "__main__":
    main()
