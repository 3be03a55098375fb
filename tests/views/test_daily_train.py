"""Issue 13 item 3: the Train tab says only true things — reset charts, a busy bar before the first batch,
whole-epoch ticks and legends off the lines."""

from __future__ import annotations

import json
import time


from app.views.train_tab import TrainTab
from app.widgets.train_charts import TrainCharts


def _job(lib, store, name: str, status: str):  # noqa: ANN202
    model = lib.create_pending_model(lib.default_project_id, name, task="detect", status="Training")
    job = store.create("train", {"args": {}}, lib.default_project_id, model.id, owner_pid=1)
    job = store.set(job.id, status=status)
    job.events_path.parent.mkdir(parents=True, exist_ok=True)
    return lib.model(model.id), job


def _write(job, ev: dict) -> None:  # noqa: ANN001
    with open(job.events_path, "a") as f:
        f.write(json.dumps({"job": job.id, "t": time.time(), **ev}) + "\n")


def test_progress_is_busy_and_names_the_phase_until_the_first_batch(qtbot, lib):
    from app.jobs.store import JobStore

    store = JobStore(lib)
    done_model, done_job = _job(lib, store, "done", "Completed")
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.show_model(done_model, done_job)
    assert (tab.progress.minimum(), tab.progress.maximum(), tab.progress.value()) == (0, 1000, 1000)

    model, job = _job(lib, store, "next", "Queued")
    tab.show_model(model, job)  # the finished job's full bar must not carry over
    assert tab.progress.maximum() == 0 and "Waiting for a free slot" in tab.progress.toolTip()
    job = store.set(job.id, status="Running")
    tab.update_job(job)
    assert tab.progress.maximum() == 0 and tab.title.text() == "Preparing data…"
    assert tab.progress.toolTip() == "Preparing data…"
    _write(job, {"type": "progress", "done": 3, "total": 12, "epochs": 3})
    qtbot.waitUntil(lambda: tab.progress.maximum() == 1000, timeout=5000)
    assert tab.progress.value() == 250
    tab.update_job(store.set(job.id, status="Running"))  # a later poll keeps the measured bar
    assert tab.progress.maximum() == 1000
    tab.stop_stream()


def test_failed_before_the_first_batch_leaves_no_busy_bar(qtbot, lib):
    from app.jobs.store import JobStore

    store = JobStore(lib)
    model, job = _job(lib, store, "fails", "Starting")
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.show_model(model, job)
    assert tab.progress.maximum() == 0
    tab.update_job(store.set(job.id, status="Failed", error="boom"))
    assert (tab.progress.maximum(), tab.progress.value()) == (1000, 0)
    tab.stop_stream()


def test_cleared_charts_forget_the_last_models_axes(qtbot):
    charts = TrainCharts()
    qtbot.addWidget(charts)
    charts.show()
    charts.set_results({"epoch": list(range(1, 41)), "train/box_loss": [50.0 + i for i in range(40)]})
    vb = charts.charts["train"].getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] > 35 and vb.viewRange()[1][1] > 80, timeout=3000)
    charts.clear()
    qtbot.wait(50)  # a redraw: an auto-range left pending would show itself here
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x1 < 11 and y1 < 1.1 and charts.charts["train"].legend.text() == ""


def test_epoch_axis_ticks_only_at_whole_epochs(qtbot):
    charts = TrainCharts()
    qtbot.addWidget(charts)
    axis = charts.charts["metrics"].getPlotItem().getAxis("bottom")
    for lo, hi in ((1, 2), (1, 3), (0.8, 5.2), (1, 40)):
        ticks = [v for _, values in axis.tickValues(lo, hi, 400) for v in values]
        assert ticks and all(float(v).is_integer() for v in ticks), (lo, hi, ticks)


def test_legend_is_a_row_of_its_own_not_over_the_plot(qtbot):
    charts = TrainCharts()
    qtbot.addWidget(charts)
    charts.resize(900, 600)
    charts.show()
    charts.add_epoch(1, {"metrics/mAP50(B)": 0.4, "metrics/precision(B)": 0.5})
    chart = charts.charts["metrics"]
    assert "mAP50(B)" in chart.legend.text() and "precision(B)" in chart.legend.text()
    assert chart.getPlotItem().legend is None  # no legend item inside the plot
    legend_top = chart.legend.mapTo(charts, chart.legend.rect().topLeft()).y()
    assert chart.legend.isVisible() and legend_top >= chart.mapTo(charts, chart.rect().bottomLeft()).y()

