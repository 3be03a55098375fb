"""An any-GPU job waiting in the Jobs panel and on the Train tab (its row as the real placer wrote it), and the
"Any GPU worker" choice in the New Model and Validate choosers."""

from __future__ import annotations

from app.jobs.placement import ANY_GPU, ANY_GPU_LABEL, waiting_note
from app.qt.jobs_rows import load_job_rows
from app.views.jobs_panel import COLUMNS, JobsPanel
from app.views.train_tab import TrainTab
from tests.helpers import tidy_manager, until

NO_WORKERS = "Waiting for a GPU with ≥ 8 GiB free: no workers yet: add one under Workers (yolodesk workers add)"


def test_a_waiting_any_gpu_job_says_where_and_why(qtbot, lib):
    model = lib.create_pending_model(lib.default_project_id, "anywhere", task="detect", status="Queued")
    with tidy_manager(lib) as m:
        job = m.new_job("train", {"args": {}}, lib.default_project_id, model.id, worker="any-gpu:8")
        m.schedule()  # the placer looks (a probe thread), then writes why on the row
        until(lambda: waiting_note(m.store.get(job.id).result) == NO_WORKERS, 20, "no reason on the row")
        panel = JobsPanel()
        qtbot.addWidget(panel)
        panel.show_rows(load_job_rows(lib))
        assert panel.table.item(0, COLUMNS.index("Progress")).text() == NO_WORKERS
        assert panel.table.item(0, COLUMNS.index("Where")).text() == "any GPU worker (≥ 8 GiB)"
        tab = TrainTab()
        qtbot.addWidget(tab)
        tab.show_model(lib.model(model.id), m.store.get(job.id))
        assert tab.title.text() == NO_WORKERS
        tab.stop_stream()


def test_the_choosers_offer_any_gpu_worker_once_there_are_workers(qtbot):
    from app.jobs.workers import WorkerRecord
    from app.views.new_model_dialog import split_device, worker_devices
    from app.views.validation.validate_dialog import ValidateDialog

    assert worker_devices([]) == []  # no worker: nothing to place on, no such choice
    cpu_box = WorkerRecord(1, "box", "box.example", None, None, None, "agent", "python3", {"cuda_devices": []},
                           None, None)  # a tested box without a GPU, as its agent's info says
    choices = worker_devices([cpu_box])
    assert choices[-1] == ("worker:any-gpu:", ANY_GPU_LABEL) and split_device(choices[-1][0]) == (ANY_GPU, "")
    dialog = ValidateDialog(None, ["box"], None)
    qtbot.addWidget(dialog)
    dialog.where.setCurrentIndex(dialog.where.findText(ANY_GPU_LABEL))
    assert dialog.request().worker == ANY_GPU


def test_add_worker_dialog_sets_how_many_jobs_a_cluster_may_hold(qtbot):
    from app.views.workers_page import AddWorkerDialog

    dialog = AddWorkerDialog()
    qtbot.addWidget(dialog)
    fields = dialog.kind_fields
    assert not fields._form.isRowVisible(fields.max_submissions)  # an SSH box runs one training at a time
    dialog.name.setText("hpc")
    dialog.host.setText("login.example")
    fields.kind.setCurrentIndex(fields.kind.findData("slurm"))
    assert fields._form.isRowVisible(fields.max_submissions) and fields.max_submissions.value() == 8
    fields.max_submissions.setValue(16)
    dialog._on_buttons_accepted()
    assert dialog.values is not None and dialog.values["options"] == {"max_submissions": 16}


def test_the_export_tab_offers_any_gpu_worker_where_a_gpu_may_come_free(lib):
    from app.jobs.workers import WorkerStore
    from app.views.export_controller import export_targets

    workers = WorkerStore(lib)
    workers.add("box", "box.example")  # never tested: its GPUs are unknown, so it offers nothing yet
    assert export_targets(lib) == []
    workers.add("hpc", "login.example", kind="slurm")  # a cluster: its nodes' GPUs come free as Slurm says
    assert export_targets(lib) == [(ANY_GPU, "", ANY_GPU_LABEL, True)]
