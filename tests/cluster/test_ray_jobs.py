"""Jobs on a Ray worker: a real Ray head with token auth, its Jobs API reached through an SSH tunnel (real sshd)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import psutil
import pytest

from app.jobs.events import read_all
from app.jobs.manager import JobManager
from app.jobs.placement import waiting_note
from tests.helpers import (
    assert_export_landed_verified, assert_trained_remotely, tidy_manager, tiny_train_request, until, wait_for_event,
)


@pytest.fixture
def manager(lib, ray_box):
    with tidy_manager(lib) as m:
        yield m


def submission(job) -> str:
    return str(json.loads((Path(job.run_dir) / "remote.json").read_text())["ray_submission"])


def agents_of(job) -> list[psutil.Process]:
    """Processes running this job's spec (the agent) on the head — this machine."""
    spec = f"jobs/{job.id}/spec.json"
    return [p for p in psutil.process_iter(["cmdline", "status"])
            if p.info["status"] != psutil.STATUS_ZOMBIE and spec in " ".join(p.info["cmdline"] or [])]


def test_a_training_runs_as_a_ray_job_into_the_library(manager, lib, tiny_data, ray_head):
    notes: list[str | None] = []
    manager.listeners.append(lambda row: notes.append(waiting_note(row.result)))  # what the Jobs panel is told
    job = manager.submit_train(tiny_train_request(tiny_data["detect"]), worker="raycluster")
    job = manager.wait(job.id, 240)
    assert job.status == "Completed", job.error
    # PENDING while Ray sets the carried agent up: Ray's own message on the row, gone once it runs
    pending = [n for n in notes if n and n.startswith("Pending in Ray: ")]
    assert pending and "runtime environment" in pending[0] and notes[-1] is None
    sub_id = submission(job)
    assert sub_id == f"yolodesk-{job.id}" and ray_head.status(sub_id) == "SUCCEEDED"
    info = ray_head.client().get_job_info(sub_id)
    assert "remote_agent run" in info.entrypoint and info.runtime_env["working_dir"].startswith("gcs://")
    # device=cpu asks Ray for nothing (Ray's PENDING words mention resources only when some were asked for):
    # the head runs it, where its folder is, with no GPU held
    assert "waiting for resources" not in pending[0]
    assert json.loads((Path(job.run_dir) / "remote.json").read_text())["ray_asks"] is None
    assert_trained_remotely(lib, job)


def test_a_job_asking_for_a_gpu_waits_in_ray_saying_so_until_cancelled(manager, lib, tiny_data, ray_head):
    """The head has no GPU: device=1 asks Ray for one GPU (it would run as device 0: the only one Ray shows it),
    and the row says what it asks and Ray's words while Ray keeps it pending; Cancel is stop_job, nothing left."""
    req = dataclasses.replace(tiny_train_request(tiny_data["detect"]), device="1")
    job = manager.submit_train(req, worker="raycluster")
    prefix = "Pending in Ray (asks 1 GPU): "
    until(lambda: (waiting_note(manager.store.get(job.id).result) or "").startswith(prefix), 60,
          "no pending note with what the job asks")
    assert "waiting for resources" in waiting_note(manager.store.get(job.id).result)  # Ray's: it was asked for some
    assert json.loads((Path(job.run_dir) / "spec.remote.json").read_text())["args"]["device"] == "0"
    time.sleep(3)  # long past a runtime-env setup: it waits for the GPU, not for Ray to get ready
    assert ray_head.status(submission(job)) == "PENDING" and manager.store.get(job.id).status == "Starting"
    started = time.monotonic()
    manager.cancel(job.id)
    job = manager.wait(job.id, 60)
    # Ray itself stops a pending job only once its resources free up (it says PENDING until then), and nothing of
    # it runs meanwhile: the row ends now, and the folder's marker keeps the agent from ever starting
    assert job.status == "Cancelled" and time.monotonic() - started < 15, job.error
    assert ray_head.status(submission(job)) in ("PENDING", "STOPPED")
    assert not agents_of(job)


def test_cancel_is_stop_job_and_leaves_no_agent(manager, tiny_data, ray_head):
    job = manager.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=50), worker="raycluster")
    wait_for_event(job, "started", timeout=120)
    until(lambda: agents_of(job), 10, "the agent is not running on the head")
    manager.cancel(job.id)
    job = manager.wait(job.id, 60)
    assert job.status == "Cancelled", job.error
    until(lambda: ray_head.status(submission(job)) == "STOPPED", 15, "Ray does not say STOPPED")
    until(lambda: not agents_of(job), 15, "an agent process outlived stop_job")


def test_a_restarted_app_reattaches_by_the_submission_id(lib, ray_box, tiny_data, ray_head):
    first = JobManager(lib, poll_interval=0.05)
    job = first.submit_train(tiny_train_request(tiny_data["detect"], epochs=2), worker="raycluster")
    wait_for_event(job, "started", timeout=120)
    first.shutdown()  # the app closes; the Ray job goes on
    assert ray_head.status(submission(job)) in ("RUNNING", "SUCCEEDED")
    second = JobManager(lib, poll_interval=0.05)
    try:
        assert job.id in second.recover()
        job = second.wait(job.id, 180)
        assert job.status == "Completed", job.error
        assert [e["type"] for e in read_all(job.events_path)].count("started") == 1
        assert ray_head.status(submission(job)) == "SUCCEEDED"
    finally:
        second.shutdown()


def test_onnx_export_through_ray_lands_verified(manager, lib, checkpoints, ray_head):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    model = getattr(model, "model", model)
    job = manager.submit_export(model.id, "onnx", {}, worker="raycluster")
    job = manager.wait(job.id, 240)
    assert job.status == "Completed", job.error
    assert ray_head.status(submission(job)) == "SUCCEEDED"
    assert_export_landed_verified(lib, job)
