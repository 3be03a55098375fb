"""The model page's Validation tab in the real window: empty state, a real val job started from the tab (the agent
in a child process through the job manager) landing in the picker and the view, and a damaged capture file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def open_validation_tab(window: Any, model_id: str) -> Any:
    window.open_model(model_id)
    window.ops.wait_idle()
    page = window.model_page
    page.tabs.setCurrentWidget(page.validation)
    window.ops.wait_idle()
    return page.validation


def test_validate_from_the_tab_shows_the_new_validation(qtbot: Any, job_window: Any, lib: Any,
                                                        checkpoints: Any) -> None:
    folder, manifest = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    tab = open_validation_tab(job_window, model.id)
    assert tab.stack.currentWidget() is tab.empty and "No validations yet" in tab.empty.text()
    assert tab.picker.count() == 0

    tab.start(manifest["detect_yolo26n.pt"]["data"], "val", "local")
    qtbot.waitUntil(lambda: tab.stack.currentWidget() is tab.view, timeout=120_000)
    job_window.ops.wait_idle()
    assert tab.picker.count() == 1 and "data.yaml · val · " in tab.picker.itemText(0)
    from app.validation.store import list_validations, load_capture

    (record,) = list_validations(lib, model.id)
    capture = load_capture(record)
    np.testing.assert_array_equal(tab.view.matrix.heatmap.image.image, np.array(capture["confusion_matrix"]))
    assert tab.progress.isHidden()


def test_a_damaged_capture_is_one_line_and_nothing_else_changes(qtbot: Any, two_model_window: Any, lib: Any,
                                                                tmp_path: Path) -> None:
    from app.validation.store import Validation

    model = next(m for m in lib.models() if m.task == "detect")
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with lib.write() as s:  # a row whose file was damaged after it landed (add_validation refuses damaged files)
        s.add(Validation(id="damaged0001", model_id=model.id, job_id=None, data="/x/data.yaml", split="val",
                         args={}, summary={}, path=str(bad)))
    tab = open_validation_tab(two_model_window, model.id)
    qtbot.waitUntil(lambda: "damaged" in tab.status.text(), timeout=5000)
    assert tab.status.text().startswith("⚠") and "\n" not in tab.status.text()
    assert tab.picker.count() == 1 and tab.stack.currentWidget() is tab.empty
    assert json.dumps(tab.view.capture) == "{}"
