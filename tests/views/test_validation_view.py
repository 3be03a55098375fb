"""The Validation view on real captures (``val_captures`` in tests/views/conftest.py: the agent's ``run_val``).

The heat map's ImageItem holds exactly the matrix (or its per-true-column shares), the slider recounts through
``matrix.confusion_at``, a cell click shows that cell's images, the curves' class toggles hide and show their lines,
the table sorts by number, and the exports hold what the capture holds.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

def load(path: Path) -> dict:
    return json.loads(path.read_text())


def with_distinct_curves(capture: dict) -> dict:
    """The capture with each class's curve rows made different (the tiny models' rows are all equal, mostly 0),
    so that a line drawn for the wrong class, or a mean that is one class's row, shows."""
    for curve in capture["curves"].values():
        x = np.asarray(curve["x"])
        curve["y"] = {name: (x ** (i + 1)).tolist() for i, name in enumerate(curve["y"])}
    return capture


@pytest.fixture
def view(qtbot: Any) -> Any:
    from app.views.validation.validation_view import ValidationView

    v = ValidationView()
    v.resize(1100, 650)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_heat_map_cells_are_the_matrix_and_normalize_per_true_column(view: Any, val_captures: dict) -> None:
    capture = load(val_captures["detect"])
    view.show_capture(capture)
    matrix = np.array(capture["confusion_matrix"], dtype=float)
    assert matrix.shape == (3, 3) and matrix.sum() > 0  # 2 classes + background
    np.testing.assert_array_equal(view.matrix.heatmap.image.image, matrix)
    assert view.matrix.heatmap.names == [*capture["names"], "background"]
    view.matrix.normalized_button.setChecked(True)
    shares = matrix / (matrix.sum(0, keepdims=True) + 1e-9)
    np.testing.assert_allclose(view.matrix.heatmap.image.image, shares)
    assert not np.allclose(shares, matrix)
    view.matrix.counts_button.setChecked(True)
    np.testing.assert_array_equal(view.matrix.heatmap.image.image, matrix)


def test_hover_names_the_cell_under_the_pointer_with_count_and_share(view: Any, val_captures: dict) -> None:
    capture = load(val_captures["detect"])
    view.show_capture(capture)
    heat = view.matrix.heatmap
    m = capture["confusion_matrix"]
    r, c = len(capture["names"]), 0  # off the diagonal (missed truths of class 0): a swapped row and column shows
    assert m[r][c] > 0
    pos = heat.scene_pos_of(r, c)
    pixel = heat.image.mapFromScene(pos)  # the drawn image's own pixel under that point: image[row, col]
    assert (int(np.floor(pixel.y())), int(np.floor(pixel.x()))) == (r, c)
    assert heat.cell_at(pos) == (r, c)  # the pointer maps back to the same cell
    column = sum(row[c] for row in m)
    text = heat.hover_text(r, c)
    names = heat.names
    assert f"Predicted {names[r]} · true {names[c]}" in text
    assert f"{m[r][c]} of {column} ({m[r][c] / column:.1%}" in text


def test_slider_recounts_the_cells_at_the_new_confidence(qtbot: Any, view: Any, val_captures: dict) -> None:
    from app.validation.matrix import confusion_at

    capture = load(val_captures["detect"])
    view.show_capture(capture)
    stored = np.array(capture["confusion_matrix"])
    confs = sorted(p["conf"] for im in capture["images"] for p in im["pred"])
    conf = round(confs[-3], 2) - 0.005  # keeps only the few most confident predictions: the cells must change
    expected = np.array(confusion_at(capture, conf))
    assert not np.array_equal(expected, stored)
    view.matrix.slider.setValue(conf)
    qtbot.waitUntil(lambda: bool(np.array_equal(view.matrix.heatmap.image.image, expected)), timeout=3000)
    assert view.matrix.conf == pytest.approx(conf, abs=0.006)


def test_clicking_a_cell_shows_its_images(qtbot: Any, view: Any, val_captures: dict) -> None:
    from PySide6.QtCore import Qt

    from app.validation.matrix import cell_images

    capture = load(val_captures["detect"])
    view.show_capture(capture)
    heat = view.matrix.heatmap
    background = len(capture["names"])
    expected = cell_images(capture, capture["matrix_conf"], background, 0)  # missed truths of class 0
    assert expected
    pos = heat.mapFromScene(heat.scene_pos_of(background, 0))
    qtbot.mouseClick(heat.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: view.matrix.thumbs.grid.count() == len(expected) and not view.matrix.thumbs.loading,
                    timeout=5000)
    cell = capture["confusion_matrix"][background][0]
    assert f"{cell} in {len(expected)} image" in view.matrix.thumbs.heading.text()
    assert {view.matrix.thumbs.grid.item(i).toolTip() for i in range(len(expected))} == {e["file"] for e in expected}


def test_class_toggle_hides_and_shows_its_lines(view: Any, val_captures: dict) -> None:
    from PySide6.QtCore import Qt

    from app.views.validation.curves_panel import KINDS

    capture = with_distinct_curves(load(val_captures["detect"]))
    view.show_capture(capture)
    curves = view.curves
    assert set(curves.lines) == set(capture["curves"])
    # titles without ultralytics' "(B)" suffix, which clipped "Precision-Confidence(" at 1280 px
    assert [curves.plots[k].getPlotItem().titleLabel.text for k in KINDS] == list(KINDS)
    name = capture["names"][0]
    item = next(curves.classes.item(i) for i in range(curves.classes.count()) if curves.classes.item(i).text() == name)
    line = curves.lines["Precision-Recall(B)"][name]
    for curve_name, curve in capture["curves"].items():  # each class's line is that class's row, never another's
        for cls in capture["names"]:
            np.testing.assert_allclose(curves.lines[curve_name][cls].getData()[1], curve["y"][cls])
    mean = curves.lines["Precision-Recall(B)"]["all classes"]
    np.testing.assert_allclose(mean.getData()[1],
                               np.mean(list(capture["curves"]["Precision-Recall(B)"]["y"].values()), axis=0))
    assert mean.opts["pen"].width() > line.opts["pen"].width()  # the mean is the bold line
    assert line.isVisible()
    item.setCheckState(Qt.CheckState.Unchecked)
    assert not line.isVisible() and not curves.lines["F1-Confidence(B)"][name].isVisible()
    assert curves.lines["Precision-Recall(B)"]["all classes"].isVisible()
    item.setCheckState(Qt.CheckState.Checked)
    assert line.isVisible()


def test_per_class_table_sorts_by_number_not_text(view: Any, val_captures: dict) -> None:
    from PySide6.QtCore import Qt

    capture = load(val_captures["detect"])
    figures = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "map50": 0.5, "map50_95": 0.3, "images": 3}
    capture["per_class"] = {"a": {**figures, "instances": 10}, "b": {**figures, "instances": 9},
                            "c": {**figures, "instances": 100}}  # as text "10" < "100" < "9"
    view.show_capture(capture)
    table = view.table
    col = 2
    assert table.horizontalHeaderItem(col).text() == "Instances"
    table.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    assert table.column_values(col) == ["9", "10", "100"] and table.column_values(0) == ["b", "a", "c"]
    table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    assert table.column_values(col) == ["100", "10", "9"]


def test_per_class_names_fit_and_numbers_are_as_narrow_as_their_contents(qtbot: Any, view: Any,
                                                                          val_captures: dict) -> None:
    from PySide6.QtWidgets import QHeaderView

    capture = load(val_captures["detect"])
    figures = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "map50": 0.5, "map50_95": 0.3, "images": 3, "instances": 9}
    fits, too_long = "squirrel_monkey_juvenile", "a_class_name_far_longer_than_any_table_should_make_room_for"
    capture["per_class"] = {"sq": figures, fits: figures, too_long: figures}
    view.show_capture(capture)
    table = view.table
    view.side.setCurrentWidget(table)
    view.resize(760, 650)  # narrow: the name used to be squeezed to "squ…" by the stretching numbers' neighbour
    qtbot.waitUntil(lambda: table.width() < 500)
    header = table.horizontalHeader()
    text_width = table.fontMetrics().horizontalAdvance(fits)
    assert len(fits) == 24 and table.columnWidth(0) >= text_width
    assert table.columnWidth(0) < table.fontMetrics().horizontalAdvance(too_long)  # capped: the tooltip says it all
    assert table.item(2, 0).toolTip() == too_long
    numeric = range(1, table.columnCount())
    assert [header.sectionResizeMode(c) for c in numeric] == [QHeaderView.ResizeMode.ResizeToContents] * 7
    assert table.horizontalScrollBar().maximum() > 0  # narrower than its columns: it scrolls instead of cutting
    view.resize(1900, 650)  # wide: the name column takes the rest, nothing scrolls
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() == 0)
    others = sum(table.columnWidth(c) for c in numeric)
    assert table.columnWidth(0) + others >= table.viewport().width() - 1


def test_classify_shows_top1_top5_the_nc_matrix_and_no_curves(view: Any, val_captures: dict) -> None:
    capture = load(val_captures["classify"])
    view.show_capture(capture)
    nc = len(capture["names"])
    np.testing.assert_array_equal(view.matrix.heatmap.image.image, np.array(capture["confusion_matrix"]))
    assert view.matrix.heatmap.image.image.shape == (nc, nc) and "background" not in view.matrix.heatmap.names
    assert view.matrix.slider.isHidden()
    assert "Top-1" in view.summary.text() and "Top-5" in view.summary.text()
    assert view.curves.stack.currentWidget() is view.curves.none_label and "no precision" in view.curves.none_label.text()
    assert not view.export_actions["curves-csv"].isEnabled()
    assert view.table.rowCount() == nc


def test_exports_hold_the_matrix_and_the_curves(qtbot: Any, view: Any, val_captures: dict, tmp_path: Path) -> None:
    capture = with_distinct_curves(load(val_captures["detect"]))
    view.show_capture(capture)
    written = {}
    for kind, name in (("matrix-csv", "m.csv"), ("matrix-json", "m.json"), ("curves-csv", "c.csv"),
                       ("curves-json", "c.json"), ("png", "v.png")):
        with qtbot.waitSignal(view.exported, timeout=5000) as sig:
            view.export_to(kind, str(tmp_path / name))
        written[kind] = Path(sig.args[0])
    rows = list(csv.reader(io.StringIO(written["matrix-csv"].read_text())))
    names = [*capture["names"], "background"]
    assert rows[0][1:] == names and [r[0] for r in rows[1:]] == names
    assert [[int(v) for v in r[1:]] for r in rows[1:]] == capture["confusion_matrix"]
    assert json.loads(written["matrix-json"].read_text())["matrix"] == capture["confusion_matrix"]
    curves = json.loads(written["curves-json"].read_text())
    assert set(curves) == set(capture["curves"])
    pr = capture["curves"]["Precision-Recall(B)"]
    assert curves["Precision-Recall(B)"]["y"] == pr["y"]
    np.testing.assert_allclose(curves["Precision-Recall(B)"]["mean"], np.mean(list(pr["y"].values()), axis=0),
                               atol=1e-6)
    lines = list(csv.reader(io.StringIO(written["curves-csv"].read_text())))
    assert len(lines) == 1 + sum(len(c["x"]) for c in capture["curves"].values())
    row = next(r for r in lines[1:] if r[0] == "Precision-Recall(B)" and float(r[1]) > 0.5)
    i = [round(v, 5) for v in pr["x"]].index(round(float(row[1]), 5))
    for name in capture["names"]:
        assert float(row[lines[0].index(name)]) == pytest.approx(pr["y"][name][i], rel=1e-5)
    assert float(row[-1]) == pytest.approx(np.mean([pr["y"][n][i] for n in capture["names"]]), rel=1e-5)
    assert written["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_export_into_a_missing_folder_says_why_in_one_line(qtbot: Any, view: Any, val_captures: dict,
                                                               tmp_path: Path) -> None:
    view.show_capture(load(val_captures["detect"]))
    with qtbot.waitSignal(view.exportFailed, timeout=5000) as sig:
        view.export_to("matrix-csv", str(tmp_path / "gone" / "m.csv"))
    assert sig.args[0].startswith("Export failed:") and "\n" not in sig.args[0]
    assert not (tmp_path / "gone").exists()

