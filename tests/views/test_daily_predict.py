"""The Predict tab follows the model's task, draws labels sized to the picture, and forgets the last model's session."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from app.predict.session import PredictSession
from tests.helpers import picture
from tests.views.test_predict_tab import TASKS, open_predict


def _predict(qtbot, tab, size: int) -> None:
    tab.conf.setValue(0)  # 0.001: an untrained model's boxes show
    tab.imgsz.setValue(64)
    tab.predict_image(picture(size), "shapes.png")
    qtbot.waitUntil(lambda: tab.prediction is not None and tab.view.painted > 0, timeout=30000)


def test_a_classifier_gets_class_and_confidence_only_and_the_next_model_starts_afresh(
        qtbot, job_window, lib, checkpoints, http_root):
    folder, _ = checkpoints
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["classify"])
    for w in (tab.iou, tab.controls.show_boxes, tab.controls.show_masks, tab.controls.show_conf):
        assert w.isHidden(), w
    assert not tab.controls.show_labels.isHidden()
    tab.url.setText("http://example.invalid/cat.png")
    _predict(qtbot, tab, 128)
    shown = [tab.table.horizontalHeaderItem(c).text() for c in range(tab.table.columnCount())
             if not tab.table.isColumnHidden(c)]
    assert shown == ["Class", "Confidence"]
    cells = [tab.table.item(r, c).text() for r in range(tab.table.rowCount()) for c in range(4)]
    assert len(cells) == 8 and "top-5" not in cells
    assert tab.controls.overlay()["probs"] and not tab.controls.overlay()["boxes"]

    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["detect"])  # the next model
    assert not tab.iou.isHidden() and not tab.controls.show_boxes.isHidden()
    assert tab.controls.show_masks.isHidden()  # a detector draws no masks
    assert tab.url.text() == "" and tab.image is None and tab.conf.value() == 25
    assert tab.engine.params.conf == 0.25 and not tab.hint.isHidden()
    _predict(qtbot, tab, 128)
    assert not tab.table.isColumnHidden(2) and tab.table.horizontalHeaderItem(2).text() == "Box / angle"
    base, _ = http_root
    tab.open_url(f"{base}/missing.png")  # after a 404 the status line says the error, not "fetching…"
    qtbot.waitUntil(tab.banner.isVisible, timeout=15000)
    assert "404" in tab.banner.text() and "fetching" not in tab.readout.text()


def test_labels_on_a_small_picture_are_drawn_small(qtbot, job_window, lib, checkpoints):
    folder, _ = checkpoints
    _, tab = open_predict(qtbot, job_window, lib, folder / TASKS["detect"])
    _predict(qtbot, tab, 96)
    assert tab.prediction.detections
    # ultralytics' Results stay in the predict helper, which draws with Prediction.render: the same call, here
    full = PredictSession(tab.loaded, "detect").predict(picture(96), conf=tab.engine.params.conf, imgsz=64)
    assert len(full.detections) == len(tab.prediction.detections)  # what the helper found, found again
    drawn_there = tab._rendered()  # the helper's own drawing, as the view shows it
    assert drawn_there.shape == picture(96).shape
    assert np.array_equal(drawn_there, full.render(**tab.controls.overlay()))  # the helper draws with these sizes
    p = replace(full, results=full.results[:1])  # one box: its label's size shows
    ours = p.render(**tab.controls.overlay())
    theirs = p.results.plot()  # ultralytics' own sizes: at least 2-px lines and ~15-px text
    original = picture(96)
    covered = np.any(ours != original, axis=2).mean()
    covered_default = np.any(theirs != original, axis=2).mean()
    assert covered < 0.5 * covered_default, (covered, covered_default)
