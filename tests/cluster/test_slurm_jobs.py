"""Jobs on a Slurm worker: a real single-node cluster, reached through the real sshd; the same agent, the same events."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from app.jobs.events import read_all
from app.jobs.manager import JobManager
from app.jobs.slurm_batch import waiting_text
from tests.helpers import (
    assert_export_landed_verified, assert_trained_remotely, tidy_manager, tiny_train_request, until, wait_for_event,
)


@pytest.fixture
def manager(lib, slurm_box, cluster):
    with tidy_manager(lib) as m:
        yield m
    # a test that failed midway may leave its own sbatch job (the blocker holding the node): the next test's
    # job would wait behind it on this session's one node
    cluster.run("scancel", "--user", "root", check=False)


def slurm_id(job) -> str:
    return str(json.loads((Path(job.run_dir) / "remote.json").read_text())["slurm_job"])


def agents_of(job) -> list[psutil.Process]:
    """Processes running this job's spec (the agent) on the node — this machine."""
    spec = f"jobs/{job.id}/spec.json"
    return [p for p in psutil.process_iter(["cmdline"]) if spec in " ".join(p.info["cmdline"] or [])]


def test_pending_for_resources_says_why_then_trains_into_the_library(manager, lib, tiny_data, workers, cluster):
    """The node is held by another job: ours waits with Slurm's reason on its row; freed, it trains to Completed."""
    workers.update("hpc", options={**workers.get("hpc").options, "cpus": 2})  # the whole node, as the blocker has
    blocker = cluster.run("sbatch", "--parsable", "--cpus-per-task=2", "--time=2", "--output=/dev/null", "--wrap",
                          "sleep 120").stdout.strip()
    until(lambda: cluster.state(blocker) == "RUNNING", 20, "the blocking job did not start")
    seen: list[str] = []
    manager.listeners.append(lambda job: seen.append(waiting_text(job.result) or ""))
    job = manager.submit_train(tiny_train_request(tiny_data["detect"]), worker="hpc")
    # just submitted, Slurm gives no reason yet ("Waiting in Slurm"); its scheduler's first pass names it
    until(lambda: waiting_text(manager.store.get(job.id).result) == "Waiting in Slurm: Resources", 20,
          "no Slurm reason on the job row")
    assert "Waiting in Slurm: Resources" in seen  # the manager told its listeners (the Jobs panel, the Train tab)
    sid = slurm_id(job)
    script = (Path.home() / ".yolodesk-agent" / "jobs" / job.id / "job.sbatch").read_text()
    assert f"#SBATCH --job-name=yolodesk-{job.id}" in script and "#SBATCH --cpus-per-task=2" in script
    assert "#SBATCH --time=00:10:00" in script and "remote_agent run" in script
    assert cluster.state(sid) == "PENDING" and manager.store.get(job.id).status == "Starting"
    cluster.run("scancel", blocker)
    job = manager.wait(job.id, 240)
    assert job.status == "Completed", job.error
    assert cluster.state(sid) == "COMPLETED"
    assert_trained_remotely(lib, job)


def test_cancel_is_scancel_and_leaves_no_agent(manager, tiny_data, cluster):
    job = manager.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=50), worker="hpc")
    wait_for_event(job, "started", timeout=120)
    until(lambda: agents_of(job), 10, "the agent is not running on the node")
    manager.cancel(job.id)
    job = manager.wait(job.id, 60)
    assert job.status == "Cancelled", job.error
    until(lambda: cluster.state(slurm_id(job)) == "CANCELLED", 15, "Slurm does not say CANCELLED")  # after COMPLETING
    until(lambda: not agents_of(job), 15, "an agent process outlived scancel")


def test_a_restarted_app_reattaches_by_the_slurm_id(lib, slurm_box, tiny_data, cluster):
    first = JobManager(lib, poll_interval=0.05)
    job = first.submit_train(tiny_train_request(tiny_data["detect"], epochs=2), worker="hpc")
    wait_for_event(job, "started", timeout=120)
    sid = slurm_id(job)
    first.shutdown()  # the app closes; the Slurm job goes on
    assert cluster.state(sid) in ("RUNNING", "COMPLETING", "COMPLETED")
    second = JobManager(lib, poll_interval=0.05)
    try:
        assert job.id in second.recover()
        job = second.wait(job.id, 180)
        assert job.status == "Completed", job.error
        assert job.pid == int(sid)  # the row keeps the Slurm job id it was submitted with
        assert [e["type"] for e in read_all(job.events_path)].count("started") == 1
    finally:
        second.shutdown()


def test_onnx_export_through_slurm_lands_verified(manager, lib, checkpoints, cluster):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    model = getattr(model, "model", model)
    job = manager.submit_export(model.id, "onnx", {}, worker="hpc")
    job = manager.wait(job.id, 240)
    assert job.status == "Completed", job.error
    assert cluster.state(slurm_id(job)) == "COMPLETED"
    assert_export_landed_verified(lib, job)
