"""Jobs on a Slurm worker: a real single-node cluster, reached through the real sshd; the same agent, the same events."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import psutil
import pytest

from app.jobs.events import read_all
from app.jobs.manager import JobManager
from app.jobs.slurm_batch import waiting_text
from app.jobs.spec import TrainRequest
from tests.helpers import FAST, wait_for_event


def request(data: Path, epochs: int = 1) -> TrainRequest:
    return TrainRequest(model="yolo26n.yaml", task="detect", data=str(data), epochs=epochs, imgsz=64, batch=4,
                        extra=dict(FAST))


@pytest.fixture
def manager(lib, slurm_box, cluster):
    m = JobManager(lib, poll_interval=0.05)
    yield m
    for job in m.store.list(("Queued", "Starting", "Running")):
        m.cancel(job.id)
    time.sleep(0.5)
    m.shutdown()
    # a test that failed midway may leave its own sbatch job (the blocker holding the node): the next test's
    # job would wait behind it on this session's one node
    cluster.run("scancel", "--user", "root", check=False)


def slurm_id(job) -> str:
    return str(json.loads((Path(job.run_dir) / "remote.json").read_text())["slurm_job"])


def until(what, timeout: float, why: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out: {why}")


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
    job = manager.submit_train(request(tiny_data["detect"]), worker="hpc")
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
    model = lib.model(job.model_id)
    assert model.status == "Completed" and Path(lib.home / "models" / model.id / "weights.pt").is_file()
    events = read_all(job.events_path)
    assert events[0]["type"] == "started" and events[-1]["type"] == "completed"
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1]
    assert any(e["type"] == "system" for e in events)  # the meters' feed, mirrored like the SSH worker's
    record = Path(job.run_dir) / "remote.json"
    until(lambda: "released" in json.loads(record.read_text()), 30, "the job folder was not released")
    assert json.loads(record.read_text())["released"]["events_sha256"] == hashlib.sha256(
        job.events_path.read_bytes()).hexdigest()  # the whole events file arrived before the folder went


def test_cancel_is_scancel_and_leaves_no_agent(manager, tiny_data, cluster):
    job = manager.submit_train(request(tiny_data["detect_big"], epochs=50), worker="hpc")
    wait_for_event(job, "started", timeout=120)
    until(lambda: agents_of(job), 10, "the agent is not running on the node")
    manager.cancel(job.id)
    job = manager.wait(job.id, 60)
    assert job.status == "Cancelled", job.error
    until(lambda: cluster.state(slurm_id(job)) == "CANCELLED", 15, "Slurm does not say CANCELLED")  # after COMPLETING
    until(lambda: not agents_of(job), 15, "an agent process outlived scancel")


def test_a_restarted_app_reattaches_by_the_slurm_id(lib, slurm_box, tiny_data, cluster):
    first = JobManager(lib, poll_interval=0.05)
    job = first.submit_train(request(tiny_data["detect"], epochs=2), worker="hpc")
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
    from app.exporters.store import ExportStore

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    model = getattr(model, "model", model)
    job = manager.submit_export(model.id, "onnx", {}, worker="hpc")
    job = manager.wait(job.id, 240)
    assert job.status == "Completed", job.error
    assert cluster.state(slurm_id(job)) == "COMPLETED"
    rec = ExportStore(lib).by_job(job.id)
    assert rec.status == "Completed" and rec.verified, rec.verification
    path = Path(rec.path)
    assert path.is_file() and path.suffix == ".onnx" and str(path).startswith(str(lib.home))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == rec.sha256
    assert lib.check().clean
