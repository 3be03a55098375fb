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
