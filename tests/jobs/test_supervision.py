"""A job whose owner and agent are both gone is never left Running, and the queue moves on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.jobs.conftest import group_gone

ROOT = Path(__file__).resolve().parents[2]


def yd(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout)


def jobs(home: Path) -> list[dict]:
    return json.loads(yd(home, "jobs", "--json").stdout)


def start_training(home: Path, data: Path, name: str) -> subprocess.Popen[str]:
    env = dict(os.environ, YOLODESK_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "app", "train", f"data={data}", "model=yolo26n.yaml", "epochs=500",
                             "imgsz=64", "batch=4", "workers=0", "plots=False", "amp=False", "--name", name],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)


def wait_until(predicate, timeout: float, step: float = 0.3):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(step)
    return None


def test_killed_cli_and_agent_end_failed_and_the_queue_moves_on(home, tiny_data):
    from app.jobs.store import JobStore
    from app.library.repository import Library

    first = start_training(home, tiny_data["detect"], "first")
    second = None
    agents: list[int] = []
    try:
        running = wait_until(lambda: [j for j in jobs(home) if j["status"] == "Running"], 120)
        assert running, "the first training never ran"
        lib = Library(home)
        row = JobStore(lib).get(running[0]["id"])
        agents.append(row.pid)
        second = start_training(home, tiny_data["detect"], "second")  # one local training at a time: it waits
        assert wait_until(lambda: len(jobs(home)) == 2, 60)
        assert [j["status"] for j in jobs(home)] == ["Queued", "Running"]

        os.kill(first.pid, signal.SIGKILL)  # the terminal running `yolodesk train` …
        first.wait(10)
        os.kill(row.pid, signal.SIGKILL)  # … then its agent
        failed = wait_until(lambda: [j for j in jobs(home) if j["id"] == row.id and j["status"] == "Failed"], 10)
        assert failed, "the killed training stayed Running"
        listed = {j["id"]: j for j in jobs(home)}
        assert "ended without reporting a result" in listed[row.id]["error"]
        newer = next(j for j in listed.values() if j["id"] != row.id)
        started = wait_until(lambda: next(j for j in jobs(home) if j["id"] == newer["id"])["status"] == "Running", 60)
        assert started, "the queued training never started after the first one was settled"
        agents.append(JobStore(lib).get(newer["id"]).pid)
        lib.close()
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        for pid in agents:
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                assert group_gone(pid)


def test_the_watchdog_settles_a_job_lost_while_this_manager_waits(manager, lib, tiny_data):
    """No listing, no new submission: a manager with a queued job of its own notices the dead one by itself."""
    import psutil

    from app.jobs.spec import TrainRequest

    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    agent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        orphan = manager.store.create("train", {"args": {}}, lib.default_project_id, None, owner_pid=owner.pid)
        manager.store.set(orphan.id, status="Running", pid=agent.pid,
                          pid_started=psutil.Process(agent.pid).create_time())
        manager.limits = {"train": 1, "export": 1}
        req = TrainRequest(model="yolo26n.yaml", task="detect", data=str(tiny_data["detect"]), epochs=1, imgsz=64,
                           batch=4, extra={"workers": 0, "plots": False, "amp": False})
        job = manager.submit_train(req)
        assert manager.store.get(job.id).status == "Queued"  # behind the other process's training
        for p in (owner, agent):
            p.kill()
            p.wait()
        assert wait_until(lambda: manager.store.get(orphan.id).status == "Failed", 10)
        assert manager.wait(job.id, 180).status == "Completed"
    finally:
        for p in (owner, agent):
            if p.poll() is None:
                p.kill()


def test_a_live_agent_whose_owner_died_is_adopted_not_failed(manager, lib):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    agent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"], start_new_session=True)
    import psutil

    orphan = manager.store.create("train", {"args": {}}, lib.default_project_id, None, owner_pid=dead.pid)
    manager.store.set(orphan.id, status="Running", pid=agent.pid, pid_started=psutil.Process(agent.pid).create_time())
    assert manager.list_jobs()[0].status == "Running"  # a listing leaves a live agent alone …
    assert manager.store.get(orphan.id).owner_pid == dead.pid  # … to a manager that stays to follow it
    manager.schedule()
    assert manager.store.get(orphan.id).owner_pid == os.getpid()  # adopted: followed from here
    assert manager.store.get(orphan.id).status == "Running"
    agent.wait()
    assert wait_until(lambda: manager.store.get(orphan.id).status == "Failed", 10)


def test_a_queued_job_whose_owner_died_is_picked_up(manager, lib, checkpoints):
    from app.exporters.store import ExportStore

    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt").model
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    spec = {"args": {"model": str(model.weights_path), "format": "torchscript", "device": "cpu", "imgsz": 64},
            "task": "detect", "verify": False}
    job = manager.store.create("export", spec, model.project_id, model.id, owner_pid=dead.pid)
    ExportStore(lib).create(model.id, "torchscript", {"imgsz": 64}, job_id=job.id)
    manager.schedule()
    assert manager.store.get(job.id).status != "Queued"
    assert manager.wait(job.id, 180).status == "Completed"
