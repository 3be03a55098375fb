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
    labels = {"overall.precision": "Precision", "overall.recall": "Recall", "overall.map50": "mAP50",
              "overall.map50_95": "mAP50-95", "overall.fitness": "Fitness", "speed.preprocess": "Preprocess (ms)",
              "speed.inference": "Inference (ms)", "speed.postprocess": "Postprocess (ms)"}
    want = sorted((labels[k], names[mid]) for k, best in expected["best"].items() if len(best) < len(names)
                  for mid in best)  # a row where every model ties highlights nothing
    assert sorted(compare.metrics.best_cells()) == want
    inference = {m["id"]: m["validation"]["speed"]["inference"] for m in expected["models"]}
    assert inference[ids[0]] != inference[ids[1]]  # the faster one alone is highlighted in that row
    faster = min(inference, key=inference.get)
    assert [n for label, n in compare.metrics.best_cells() if label == "Inference (ms)"] == [names[faster]]

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
