"""A job Slurm keeps pending shows why, in the Jobs panel and on the Train tab (rows read from the real library)."""

from __future__ import annotations

from app.jobs.slurm_batch import SlurmState
from app.jobs.store import JobStore
from app.qt.jobs_rows import load_job_rows
from app.views.jobs_panel import COLUMNS, JobsPanel
from app.views.train_tab import TrainTab


def test_pending_reason_in_the_jobs_panel_and_the_train_tab(qtbot, lib):
    store = JobStore(lib)
    model = lib.create_pending_model(lib.default_project_id, "on-hpc", task="detect", status="Queued")
    job = store.create("train", {"args": {}}, lib.default_project_id, model.id, owner_pid=1, worker="hpc")
    # what SlurmTransport writes on the row while the job is queued there
    job = store.set(job.id, status="Starting", result={"slurm": SlurmState("42", "PENDING", "Resources").to_json()})
    panel = JobsPanel()
    qtbot.addWidget(panel)
    panel.show_rows(load_job_rows(lib))
    assert panel.table.item(0, COLUMNS.index("Progress")).text() == "Waiting in Slurm: Resources"
    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.show_model(lib.model(model.id), job)
    assert tab.title.text() == "Waiting in Slurm: Resources (on hpc)"
    job = store.set(job.id, status="Running", result={"slurm": SlurmState("42", "RUNNING", "None").to_json()})
    tab.update_job(job)
    panel.show_rows(load_job_rows(lib))
    assert panel.table.item(0, COLUMNS.index("Progress")).text() == ""  # running, no epoch yet: no wait shown
    assert tab.title.text() == "Preparing data on hpc…"
    tab.stop_stream()


def test_add_worker_dialog_makes_a_slurm_worker(qtbot, lib):
    from app.jobs.workers import WorkerStore
    from app.views.workers_page import AddWorkerDialog

    dialog = AddWorkerDialog()
    qtbot.addWidget(dialog)
    fields = dialog.kind_fields
    form = fields._form
    assert form is not None and not form.isRowVisible(fields.partition)  # SSH first: no Slurm rows
    dialog.name.setText("hpc")
    dialog.host.setText("login.example")
    fields.kind.setCurrentIndex(fields.kind.findData("slurm"))
    assert form.isRowVisible(fields.partition) and form.isRowVisible(fields.env)
    fields.partition.setText("gpu")
    fields.gres.setText("gpu:1")
    fields.time.setText("four hours")
    dialog._on_buttons_accepted()
    assert dialog.values is None and "--time 'four hours' is not a Slurm time" in dialog.error.text()
    fields.time.setText("04:00:00")
    fields.cpus.setValue(8)
    fields.env.setText("SLURM_CONF=/etc/slurm/slurm.conf")
    dialog._on_buttons_accepted()
    assert dialog.values is not None and dialog.values["kind"] == "slurm"
    worker = WorkerStore(lib).add(**dialog.values)
    assert (worker.kind, worker.options) == ("slurm", {"partition": "gpu", "gres": "gpu:1", "time": "04:00:00",
                                                       "cpus": 8, "env": {"SLURM_CONF": "/etc/slurm/slurm.conf"}})
