"""Compare in the real window: two real detectors with real validations, selected in the project's table →
Compare → metrics side by side with the best highlighted, overlaid curves, speed per backend; a mix of tasks is one
line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.helpers import shown_window


@pytest.fixture
def compare_window(qtbot: Any, lib: Any, checkpoints: Any, val_captures: dict) -> Iterator[tuple[Any, list]]:
    from remote_agent.val import summary_of

    from app.validation.store import add_validation

    folder, _ = checkpoints
    models = []
    for name, key in (("detect_yolo26n.pt", "detect"), ("last_mid.pt", "detect_mid")):
        model = lib.import_checkpoint(folder / name).model
        capture = json.loads(val_captures[key].read_text())
        add_validation(lib, model.id, val_captures[key], job_id=None, data=capture["data"], split="val",
                       args=capture["args"], summary=summary_of(capture))
        models.append(model)
    lib.import_checkpoint(folder / "classify_yolo11n.pt")
    with shown_window(qtbot, lib) as w:
        yield w, models


def select_rows(page: Any, model_ids: list[str]) -> None:
    from PySide6.QtCore import QItemSelectionModel

    from app.qt.model_table import RECORD_ROLE

    sel = page.table.selectionModel()
    sel.clearSelection()
    for row in range(page.proxy.rowCount()):
        index = page.proxy.index(row, 0)
        if page.proxy.data(index, RECORD_ROLE).id in model_ids:
            sel.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


def test_compare_two_detectors_highlights_the_best(qtbot: Any, compare_window: Any, lib: Any) -> None:
    from app.validation.compare import compare_models
    from app.validation.store import latest_validation, load_capture

    w, models = compare_window
    page = w.project_page
    ids = [m.id for m in models]
    select_rows(page, ids[:1])
    assert not page.compare.button.isEnabled()  # one model is not a comparison
    select_rows(page, ids)
    assert page.compare.button.isEnabled() and page.compare.button.text() == "Compare 2"
    page.compare.button.click()
    w.ops.wait_idle()
    compare = w.pages.made("compare")
    assert w.stack.currentWidget() is compare and compare.stack.currentWidget() is compare.body

    expected = compare_models(lib, compare.model_ids)
    names = {m["id"]: m["name"] for m in expected["models"]}
    labels = {"overall.precision": "Precision (box)", "overall.recall": "Recall (box)", "overall.map50": "mAP50 (box)",
              "overall.map50_95": "mAP50-95 (box)", "overall.fitness": "Fitness", "speed.preprocess": "Preprocess",
              "speed.inference": "Inference", "speed.postprocess": "Postprocess"}
    want = []  # worked out here from compare_models' figures, compared as the page shows them (3 or 2 decimals)
    for key in expected["best"]:
        group, name = key.split(".")
        shown = {m["id"]: round(m["validation"][group][name], 2 if group == "speed" else 3) for m in expected["models"]}
        top = (min if group == "speed" else max)(shown.values())
        if list(shown.values()).count(top) < len(shown):  # a row where every model ties highlights nothing
            want += [(labels[key], names[mid]) for mid, v in shown.items() if v == top]
    # the two checkpoints' training figures are the same and the model rows are no contest: nothing else lights up
    assert sorted(compare.metrics.best_cells()) == sorted(want)
    inference = {m["id"]: round(m["validation"]["speed"]["inference"], 2) for m in expected["models"]}
    lit = [n for label, n in compare.metrics.best_cells() if label == "Inference"]
    if inference[ids[0]] != inference[ids[1]]:  # the faster one alone is highlighted in that row
        assert lit == [names[min(inference, key=inference.get)]]
    else:  # two real timings may round alike: a tie lights nothing
        assert lit == []
    shown_labels = compare.metrics.row_labels()
    assert not [t for t in shown_labels if "/" in t or "(B)" in t]  # no raw ultralytics column names
    training = set(lib.find_model(ids[0]).metrics) | set(lib.find_model(ids[1]).metrics)
    assert len(shown_labels) >= 8 + len(training)  # every validation, training, speed figure has its row
    assert {"mAP50-95 (box)", "Box loss (val)", "Parameters", "Size on disk", "Epochs trained"} <= set(shown_labels)
    assert "," in compare.metrics.cell("Parameters", names[ids[0]]).text()
    assert compare.tables.tabText(1) == "Curves" and compare.charts.column.currentText() == "mAP50-95 (box)"

    for mid in ids:  # each model's mean PR curve, overlaid in its own colour
        curve = load_capture(latest_validation(lib, mid))["curves"]["Precision-Recall(B)"]
        line = compare.charts.lines["Precision-Recall(B)"][mid]
        np.testing.assert_allclose(line.getData()[1], np.mean(list(curve["y"].values()), axis=0), atol=1e-9)
    pens = {compare.charts.lines["F1-Confidence(B)"][mid].opts["pen"].color().name() for mid in ids}
    assert len(pens) == 2
    assert set(compare.charts.lines["training"]) == set(ids)
    speed = compare.speed
    assert speed.verticalHeaderItem(0).text() == "PyTorch (validation)"
    assert speed.item(0, 0).text().endswith("ms / image")


def test_a_mix_of_tasks_is_one_line(qtbot: Any, compare_window: Any, lib: Any) -> None:
    w, models = compare_window
    classifier = next(m for m in lib.models() if m.task == "classify")
    select_rows(w.project_page, [models[0].id, classifier.id])
    w.project_page.compare.button.click()
    w.ops.wait_idle()
    compare = w.pages.made("compare")
    assert compare.problem.text().startswith("⚠") and "different tasks" in compare.problem.text()
    assert "\n" not in compare.problem.text() and compare.stack.currentWidget() is compare.hint


def test_mean_curves_average_the_classes_rows(val_captures: dict) -> None:
    from app.views.compare.loader import mean_curves
    from tests.views.test_validation_view import with_distinct_curves

    capture = with_distinct_curves(json.loads(val_captures["detect"].read_text()))
    means = mean_curves(capture)
    assert set(means) == {"Precision-Recall(B)", "F1-Confidence(B)"}
    rows = list(capture["curves"]["F1-Confidence(B)"]["y"].values())
    assert not np.allclose(rows[0], rows[1])
    np.testing.assert_allclose(means["F1-Confidence(B)"]["y"], np.mean(rows, axis=0))


def test_rows_name_every_figure_and_say_why_one_is_missing(qtbot: Any, checkpoints: Any) -> None:
    from app.library.checkpoint import inspect_checkpoint
    from app.validation.compare_rows import compare_rows, metric_label

    folder, _ = checkpoints
    seg, pose = (inspect_checkpoint(folder / n) for n in ("segment_yolov8n.pt", "pose_yolo11n.pt"))
    assert metric_label("metrics/mAP50(B)") == "mAP50 (box)" and metric_label("metrics/recall(M)") == "Recall (mask)"
    assert metric_label("metrics/mAP50-95(P)") == "mAP50-95 (pose)" and metric_label("val/seg_loss") == "Mask loss (val)"
    assert metric_label("metrics/accuracy_top1") == "Top-1 accuracy"

    def entry(mid: str, info: Any, validation: Any) -> dict[str, Any]:
        return {"id": mid, "name": mid, "params": info.params, "imgsz": info.imgsz, "validation": validation,
                "training": {"metrics": info.metrics, "results": info.results, "epochs": len(info.results["epoch"])}}

    validated = {"overall": {"map50": 0.5, "map50_95": 0.25}, "speed": {"inference": 3.0, "preprocess": 0.108}}
    seg_metrics = {**seg.metrics, "metrics/mAP50(M)": 0.4}  # one model better at a row: it alone is best
    models = [entry("a", seg, validated), entry("b", seg, None),
              entry("c", pose, {**validated, "speed": {"inference": 2.5, "preprocess": 0.112}})]
    models[0]["training"]["metrics"] = seg_metrics
    result = {"task": "segment", "models": models, "rows": compare_rows({"task": "segment", "models": models},
                                                                           {"a": 3_000_000})}
    rows = {r.key: r for r in result["rows"]}
    labels = {r.label for r in rows.values()}
    assert {"mAP50 (mask)", "mAP50-95 (mask)", "mAP50 (pose)", "Pose loss (val)", "Mask loss (val)"} <= labels
    mask, pose_map = rows["training.metrics/mAP50(M)"], rows["training.metrics/mAP50(P)"]
    assert mask.best == ["a"] and mask.label == "mAP50 (mask)"
    assert pose_map.values["a"] is None and "did not report mAP50 (pose)" in pose_map.missing["a"]
    box = rows["overall.map50"]
    assert box.label == "mAP50 (box)" and "not validated yet" in box.missing["b"] and box.best == []  # a, c tie
    assert rows["model.size"].values == {"a": 3_000_000, "b": None, "c": None} and rows["model.size"].best == []
    assert rows["speed.inference"].best == ["c"] and rows["speed.preprocess"].best == []  # both read 0.11 ms
    assert rows["training.val/pose_loss"].better == "lower" and "overall.precision" not in rows  # none has it: no row

    from app.views.compare.metrics_table import MetricsTable

    table = MetricsTable()
    qtbot.addWidget(table)
    table.show_comparison(result)
    missing = table.cell("mAP50 (pose)", "a")
    assert missing.text() == "—" and "did not report mAP50 (pose)" in missing.toolTip()
    assert table.cell("Size on disk", "a").text() == "3.0 MB" and ("mAP50 (mask)", "a") in table.best_cells()
