"""The Datasets page and a data set's page, in a real window over a real library: listing, Add with progress and
Cancel, the sample grid of each task (painted items counted against the label files), the histogram, lineage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.demo_data import TASKS, write_dataset
from app.library.dataset_scan import label_path
from app.library.datasets import add_dataset
from app.widgets.label_overlay import class_color
from tests.helpers import shown_window


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("page_sets")
    return {t: write_dataset(root / t, t, n_train=6, n_val=3, size=48) for t in TASKS}


@pytest.fixture
def window(qtbot: Any, lib: Any) -> Iterator[Any]:
    with shown_window(qtbot, lib) as w:
        yield w


def _cells(page: Any) -> list[list[str]]:
    t = page.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_the_page_lists_and_adds_with_progress(qtbot, window, lib, sets, tmp_path):
    add_dataset(lib, sets["detect"], name="boxes")
    page = window.show_page("datasets")
    window.ops.wait_idle()
    assert page.table.isVisible() and not page.empty.isVisible()
    on_disk = sum(f.stat().st_size for f in sets["detect"].parent.rglob("*") if f.is_file())
    assert 1000 <= on_disk < 100_000  # the tiny set: shown in kB
    assert _cells(page) == [["boxes", "detect", "2", "6", "3", f"{on_disk / 1e3:.0f} kB", "0", "—", "Ready"]]
    seen: list[tuple[int, int, bool]] = []
    page._relay.progressed.connect(lambda d, t, _w: seen.append((d, t, page.progress_row.isVisible())))
    with qtbot.waitSignal(page.scanFinished, timeout=20000):
        page.add_path(sets["pose"])
    assert seen and seen[-1] == (9, 9, True) and not page.progress_row.isVisible()
    window.ops.wait_idle()
    assert [row[0] for row in _cells(page)] == ["boxes", "pose"] and page.verdict.text().startswith("Added pose")
    broken = write_dataset(tmp_path / "broken", "detect", n_train=3, n_val=2, size=32)
    (broken.parent / "labels" / "train" / "0000.txt").write_text("9 0.5 0.5 0.2 0.2\n")
    with qtbot.waitSignal(page.scanFinished, timeout=20000):
        page.add_path(broken)
    assert [page.problems.item(i).text() for i in range(page.problems.count())] == [
        f"✖  {broken.parent / 'labels' / 'train' / '0000.txt'}: line 1: class id 9 ≥ nc (2 classes)"]
    with qtbot.waitSignal(page.scanFinished, timeout=20000) as outcome:
        page.add_path(tmp_path / "nothing-here")
    assert "does not exist" in page.verdict.text() and type(outcome.args[0]).__name__ == "DatasetUnusable"


def test_cancel_stops_the_check_and_adds_nothing(qtbot, window, lib, tmp_path):
    big = write_dataset(tmp_path / "big", "detect", n_train=300, n_val=20, size=32)
    page = window.show_page("datasets")
    window.ops.wait_idle()

    def empty_box_shown() -> bool:  # the centred box in place of the table, not a line under an empty table
        return (page.empty.isVisible() and not page.table.isVisible()
                and bool(page.empty.alignment() & Qt.AlignmentFlag.AlignHCenter))

    assert empty_box_shown() and "No data sets yet" in page.empty.text()
    with qtbot.waitSignal(page.scanFinished, timeout=30000) as outcome:
        page.add_path(big)
        page.cancel_button.click()
    assert type(outcome.args[0]).__name__ == "ScanCancelled" and page.verdict.text() == "Cancelled; nothing was added."
    window.ops.wait_idle()
    assert page.table.rowCount() == 0 and page.add_button.isEnabled() and empty_box_shown()


def _label_lines(images: list[str]) -> list[list[str]]:
    return [ln.split() for im in images for ln in label_path(Path(im)).read_text().splitlines() if ln.strip()]


@pytest.mark.parametrize("task", TASKS)
def test_the_grid_draws_every_label_of_each_task(qtbot, window, lib, sets, task):
    info = add_dataset(lib, sets[task]).info
    page = window.show_page("datasets")
    with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
        dpage = page.open_dataset(info.record.id)
    samples = info.stats["samples"]["train"]
    assert len(dpage.thumbs) == len(samples) == 6
    drawn = Counter()
    for t in dpage.thumbs:
        drawn.update({k: v for k, v in vars(t.drawn).items() if v})
    key = [f"color:{class_color(i).name()}'>■</span> {n}" for i, n in enumerate(info.record.class_names)]
    assert len(key) == 2  # the note says which box colour is which class; classify draws no boxes, so no key
    assert [k in dpage.grid_note.text() for k in key] == [task != "classify"] * 2
    if task == "classify":
        assert drawn == {"captions": 6}
        return
    lines = _label_lines(samples)
    assert lines
    expected = {"detect": {"boxes": len(lines)}, "segment": {"polygons": len(lines)},
                "obb": {"oriented": len(lines)},
                "pose": {"boxes": len(lines), "keypoints": 4 * len(lines), "bones": 4 * len(lines)}}[task]
    assert drawn == expected


def test_histogram_bars_are_the_counts(qtbot, window, lib, sets):
    info = add_dataset(lib, sets["segment"]).info
    page = window.show_page("datasets")
    with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
        dpage = page.open_dataset(info.record.id)
    for split in ("train", "val"):
        want = [info.stats["splits"][split]["instances"][n] for n in ("square", "disc")]
        assert list(dpage.histogram.bars[split].opts["height"]) == want and sum(want) > 0


def test_models_on_the_page_open_and_the_overview_card_opens_the_page(qtbot, window, lib, sets):
    info = add_dataset(lib, sets["obb"]).info
    model = lib.create_pending_model(lib.default_project_id, "obb-model", task="obb", dataset_id=info.record.id,
                                     dataset_ref=info.record.location)
    page = window.show_page("datasets")
    with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
        dpage = page.open_dataset(info.record.id)
    item = dpage.models_list.item(0)
    assert item.text() == "obb-model  ·  Default"
    rect = dpage.models_list.visualItemRect(item)
    qtbot.mouseClick(dpage.models_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.current_model_id == model.id, timeout=10000)
    window.ops.wait_idle()
    overview = window._model_page.overview
    assert overview.dataset_open.isVisible()
    with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
        qtbot.mouseClick(overview.dataset_open, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is page and page.stack.currentWidget() is dpage
    assert dpage.title.text() == info.record.name


def test_a_vanished_data_set_shows_missing(qtbot, window, lib, sets, tmp_path):
    y = write_dataset(tmp_path / "gone", "detect", n_train=2, n_val=1, size=32)
    info = add_dataset(lib, y).info
    for f in sorted(y.parent.rglob("*"), reverse=True):
        f.unlink() if f.is_file() else f.rmdir()
    page = window.show_page("datasets")
    window.ops.wait_idle()
    assert _cells(page)[0][-1] == "Missing"
    with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
        dpage = page.open_dataset(info.record.id)
    assert dpage.state.text() == "Missing" and "is gone" in dpage.problems_list.item(0).text()
    assert {vars(t.drawn)["boxes"] for t in dpage.thumbs} == {0}  # grey tiles, no crash


def test_no_statement_runs_on_the_gui_thread_and_writes_go_through_the_library_thread(qtbot, window, lib, sets):
    import threading

    from sqlalchemy import event

    seen: list[tuple[str, str]] = []

    def record(_conn, _cursor, statement, *_rest) -> None:  # noqa: ANN001
        seen.append((threading.current_thread().name, statement))

    event.listen(lib.engine, "before_cursor_execute", record)
    try:
        page = window.show_page("datasets")
        with qtbot.waitSignal(page.scanFinished, timeout=20000):
            page.add_path(sets["classify"])
        window.ops.wait_idle()
        with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
            page.open_dataset(page.rows[0].record.id)
        with qtbot.waitSignal(page.scanFinished, timeout=20000):
            page.dataset_page.rescan_button.click()
        window.ops.wait_idle()
    finally:
        event.remove(lib.engine, "before_cursor_execute", record)
    assert page.verdict.text().startswith("Checked again classify: classify, 2 classes, train 6 images, val 3 images")
    writes = {thread for thread, sql in seen if sql.startswith(("INSERT INTO datasets", "UPDATE datasets"))}
    assert writes == {"library-ops"}
    assert [sql for thread, sql in seen if thread == threading.main_thread().name] == []


def test_a_size_not_all_counted_shows_more_than_with_a_tooltip(qtbot, window, lib, sets, monkeypatch):
    import app.library.dataset_scan as dataset_scan

    monkeypatch.setattr(dataset_scan, "MAX_FILES_SIZED", 3)  # the bounded walk stops, as it would on `path: /`
    info = add_dataset(lib, sets["detect"], name="capped").info
    assert info.stats["size_counted"] is False and info.record.size
    page = window.show_page("datasets")
    window.ops.wait_idle()
    cell = page.table.item(0, 5)
    assert cell.text() == f">{info.record.size / 1e3:.0f} kB" and cell.toolTip() == "not all files were counted"
    with qtbot.waitSignal(page.dataset_page.gridReady, timeout=20000):
        dpage = page.open_dataset(info.record.id)
    assert f" · >{info.record.size / 1e3:.0f} kB · " in dpage.facts.text()
    assert dpage.facts.toolTip() == "not all files were counted"


def test_a_data_set_never_scanned_shows_unknown_counts_not_zero(qtbot, window, lib, sets):
    from app.views.datasets_page import NOT_COUNTED

    lib.add_dataset(str(sets["detect"]), "linked", "detect", ["square", "disc"])  # as a training or val job links it
    page = window.show_page("datasets")
    window.ops.wait_idle()
    (row,) = _cells(page)
    assert row[3:5] == ["—", "—"] and row[-1] == "Not checked"
    assert page.table.item(0, 3).toolTip() == NOT_COUNTED
