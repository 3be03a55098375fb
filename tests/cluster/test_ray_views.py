"""The Add worker dialog makes a Ray worker: its rows shown only for Ray, the token kept as a secret (not in the DB)."""

from __future__ import annotations

from app.jobs.ray_options import ray_token
from app.jobs.workers import WorkerStore
from app.views.worker_kind_fields import add_worker
from app.views.workers_page import AddWorkerDialog


def test_add_worker_dialog_makes_a_ray_worker_and_keeps_its_token_apart(qtbot, lib):
    dialog = AddWorkerDialog()
    qtbot.addWidget(dialog)
    fields = dialog.kind_fields
    form = fields._form
    assert form is not None and not form.isRowVisible(fields.dashboard_port)  # SSH first: no Ray rows
    dialog.name.setText("rc")
    dialog.host.setText("head.example")
    fields.kind.setCurrentIndex(fields.kind.findData("ray"))
    assert form.isRowVisible(fields.dashboard_port) and form.isRowVisible(fields.ray_token)
    assert not form.isRowVisible(fields.partition)  # nor Slurm's
    fields.dashboard_port.setValue(9123)
    fields.ray_token.setText("s3cret-token")
    dialog._on_buttons_accepted()
    values = dict(dialog.values or {})
    token = values.pop("ray_token")
    assert token == "s3cret-token" and values["kind"] == "ray" and values["auth"] is None
    worker = add_worker(WorkerStore(lib), values, token)
    assert (worker.kind, worker.options) == ("ray", {"dashboard_port": 9123})
    assert ray_token(lib.home, "rc") == "s3cret-token"
    assert not any(b"s3cret-token" in p.read_bytes() for p in lib.home.rglob("*.db*"))


def test_a_cluster_worker_asks_per_job_in_the_dialog_and_offers_gpu_counts_for_training(qtbot, lib):
    dialog = AddWorkerDialog()
    qtbot.addWidget(dialog)
    fields = dialog.kind_fields
    form = fields._form
    assert not form.isRowVisible(fields.ray_gpus) and not form.isRowVisible(fields.cpus)  # SSH: none of it
    fields.kind.setCurrentIndex(fields.kind.findData("slurm"))
    assert form.isRowVisible(fields.cpus) and form.isRowVisible(fields.mem) and not form.isRowVisible(fields.ray_gpus)
    fields.kind.setCurrentIndex(fields.kind.findData("ray"))
    assert form.isRowVisible(fields.ray_gpus) and form.isRowVisible(fields.cpus) and form.isRowVisible(fields.mem)
    dialog.name.setText("rc")
    dialog.host.setText("head.example")
    fields.ray_gpus.setValue(2)
    fields.cpus.setValue(6)
    fields.mem.setText("24G")
    dialog._on_buttons_accepted()
    values = dict(dialog.values or {})
    assert values["options"] == {"dashboard_port": 8265, "gpus": 2, "cpus": 6.0, "memory": "24G"}
    fields.mem.setText("a lot")
    dialog.values = None
    dialog._on_buttons_accepted()
    assert dialog.values is None and "not a memory per job" in dialog.error.text()  # said, nothing added

    from app.views.new_model_dialog import worker_devices

    store = WorkerStore(lib)
    store.add("hpc", "127.0.0.1", 22, "root", kind="slurm")
    store.add("box", "127.0.0.1", 22, "root")
    for name in ("hpc", "box"):  # both tested; neither the login node nor the box has a GPU of its own
        store.update(name, info={"cuda_devices": []})
    store.update("hpc", options={"gres": "gpu:a100:4"})
    choices = dict(worker_devices(store.list()))
    assert choices["worker:hpc:"] == "hpc · its default per job (gres gpu:a100:4)"  # the worker's own, first
    assert list(choices).index("worker:hpc:") < list(choices).index("worker:hpc:0")
    assert choices["worker:hpc:0"] == "hpc · 1 GPU (Slurm picks the node)"
    assert choices["worker:hpc:0,1"] == "hpc · 2 GPUs on one node" and "worker:hpc:cpu" in choices
    assert [k for k in choices if k.startswith("worker:box:")] == ["worker:box:cpu"]  # a box: only what it has


def test_a_long_ray_wait_is_elided_in_the_jobs_panel_and_whole_in_its_tooltip(qtbot, lib):
    from app.jobs.store import JobStore
    from app.qt.jobs_rows import load_job_rows
    from app.views.jobs_panel import COLUMNS, JobsPanel

    store = JobStore(lib)
    model = lib.create_pending_model(lib.default_project_id, "on-ray", task="detect", status="Queued")
    job = store.create("train", {"args": {}}, lib.default_project_id, model.id, owner_pid=1, worker="rc")
    words = ("Job has not started yet. It may be waiting for resources (CPUs, GPUs, memory, custom resources) to "
             "become available. It may be waiting for the runtime environment to be set up.")
    store.set(job.id, status="Starting", result={"ray": {"state": "PENDING", "asks": "1 GPU", "message": words}})
    panel = JobsPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 300)
    panel.show()
    panel.show_rows(load_job_rows(lib))
    progress = COLUMNS.index("Progress")
    cell = panel.table.item(0, progress)
    assert cell.text() == f"Pending in Ray (asks 1 GPU): {words}" and cell.toolTip() == cell.text()
    width = panel.table.columnWidth(progress)
    assert width <= max(320, panel.table.viewport().width() * 0.45) + 1  # the other columns keep their room
    assert width < panel.table.fontMetrics().horizontalAdvance(cell.text())  # elided: it could not fit whole
