"""The job queue against real trainings: completion into the library, cancel, failure, vanished agents, restarts."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from app.jobs.events import console_text, read_all
from app.jobs.manager import JobManager
from app.jobs.spec import SpecError, TrainRequest
from app.jobs.transport import AgentHandle
from app.library.repository import Library
from tests.helpers import FAST, group_gone, wait_for_event


def request(data: Path, epochs: int = 1, task: str = "detect", model: str = "yolo26n.yaml", **kw) -> TrainRequest:
    return TrainRequest(model=model, task=task, data=str(data), epochs=epochs, imgsz=64, batch=4, extra=dict(FAST), **kw)


@pytest.mark.slow  # trains a real model
def test_training_completes_into_the_library(manager, lib, tiny_data, home):
    seen: list[tuple[str, str]] = []  # (kind, status): the validation queued after the training reports too
    manager.listeners.append(lambda j: seen.append((j.kind, j.status)))
    job = manager.submit_train(request(tiny_data["detect"], epochs=2, name="shapes"))
    model = lib.model(job.model_id)
    assert model.name == "shapes" and model.status in ("Queued", "Training") and not model.has_weights
    job = manager.wait(job.id, 300)
    assert job.status == "Completed", job.error
    trained = [status for kind, status in seen if kind == "train"]
    assert trained[0] == "Queued" and "Running" in trained and trained[-1] == "Completed"
    m = lib.model(job.model_id)
    assert m.status == "Completed" and m.has_weights and m.weights_path.is_file()
    assert (m.task, m.architecture) == ("detect", "YOLO26n")
    assert m.results["epoch"] == [1, 2] and "metrics/mAP50-95(B)" in m.metrics
    assert m.dataset is not None and m.dataset.location == str(tiny_data["detect"]) and m.dataset.task == "detect"
    assert m.parent_id is None
    assert (Path(job.run_dir) / "train" / "results.csv").exists()  # the run folder stays with the job
    assert job.result["best"] and job.started_at and job.finished_at
    assert lib.check().clean

    # After a restart (a new library and manager), the finished job's charts and console are all there.
    lib2 = Library(home)
    again = JobManager(lib2).store.get(job.id)
    events = read_all(again.events_path)
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2]
    assert "Epoch" in console_text(events)
    lib2.close()

    # Fine-tuning the result: the new model's parent is the trained one.
    child = manager.submit_train(request(tiny_data["detect"], model=str(m.weights_path), parent_id=m.id))
    child = manager.wait(child.id, 300)
    assert child.status == "Completed", child.error
    assert lib.model(child.model_id).parent_id == m.id and lib.model(child.model_id).parent_name == "shapes"


@pytest.mark.slow  # trains a real model
def test_cancel_mid_training_keeps_last_pt(manager, lib, tiny_data):
    job = manager.submit_train(request(tiny_data["detect_big"], epochs=100))
    wait_for_event(job, "epoch")
    pid = manager.store.get(job.id).pid
    manager.cancel(job.id)
    job = manager.wait(job.id, 120)
    assert job.status == "Cancelled"
    assert group_gone(pid)
    assert Path(job.result["last"]).is_file()
    assert 1 <= job.result["epochs_done"] < 100
    m = lib.model(job.model_id)
    assert m.status == "Cancelled" and m.has_weights  # the best weights so far are kept
    assert read_all(job.events_path)[-1]["type"] == "cancelled"


def test_bad_dataset_fails_with_a_readable_message(manager, lib, tmp_path):
    bad = tmp_path / "bad"
    (bad / "images" / "train").mkdir(parents=True)
    (bad / "images" / "val").mkdir(parents=True)
    (bad / "labels" / "train").mkdir(parents=True)
    for split in ("train", "val"):
        for i in range(4):
            (bad / "images" / split / f"{i}.png").write_bytes(os.urandom(300))  # not images at all
    (bad / "labels" / "train" / "0.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (bad / "data.yaml").write_text(f"path: {bad}\ntrain: images/train\nval: images/val\nnames:\n  0: thing\n")
    job = manager.submit_train(request(bad / "data.yaml"))
    job = manager.wait(job.id, 300)
    assert job.status == "Failed"
    assert job.error and "Traceback" not in job.error and len(job.error) < 2000
    assert lib.model(job.model_id).status == "Failed"
    retry = manager.retry(job.id)  # Retry: same arguments, same model row
    assert retry.retry_of == job.id and retry.spec["args"] == job.spec["args"] and retry.model_id == job.model_id
    assert manager.wait(retry.id, 300).status == "Failed"


def test_requests_are_checked_before_anything_starts(manager, lib, tiny_data, tmp_path):
    with pytest.raises(SpecError) as e:
        manager.submit_train(request(tmp_path / "nope.yaml"))
    assert "does not exist" in e.value.problems["dataset"]
    with pytest.raises(SpecError) as e:
        manager.submit_train(request(tiny_data["detect"], task="classify", model="yolo11n-cls.yaml"))
    assert "classification model needs a folder" in e.value.problems["dataset"]
    with pytest.raises(SpecError) as e:
        manager.submit_train(request(tiny_data["detect"], task="pose", model="yolo11n-pose.yaml"))
    assert "keypoints" in e.value.problems["dataset"]
    with pytest.raises(SpecError) as e:
        manager.submit_train(TrainRequest(model="yolo26n.yaml", task="detect", data=str(tiny_data["detect"]), imgsz=100))
    assert "multiple of 32" in e.value.problems["imgsz"]
    assert manager.store.list() == [] and lib.models() == []


@pytest.mark.slow  # trains a real model
def test_one_training_at_a_time_and_cancel_while_queued(manager, lib, tiny_data):
    first = manager.submit_train(request(tiny_data["detect_big"], epochs=100))
    second = manager.submit_train(request(tiny_data["detect"], epochs=1))
    assert manager.store.get(second.id).status == "Queued"
    manager.cancel(second.id)
    assert manager.store.get(second.id).status == "Cancelled"
    assert lib.model(second.model_id).status == "Cancelled"
    manager.cancel(first.id)
    assert manager.wait(first.id, 120).status == "Cancelled"


@pytest.mark.slow  # trains a real model
def test_vanished_agent_is_marked_failed_with_the_reason(manager, lib, tiny_data):
    job = manager.submit_train(request(tiny_data["detect_big"], epochs=100))
    wait_for_event(job, "epoch")
    pid = manager.store.get(job.id).pid
    os.killpg(pid, signal.SIGKILL)
    job = manager.wait(job.id, 60)
    assert job.status == "Failed"
    assert "ended without reporting a result" in job.error
    assert lib.model(job.model_id).status == "Failed"


@pytest.mark.slow  # trains a real model
def test_a_restarted_app_reattaches_to_a_running_job(lib, tiny_data, home):
    first = JobManager(lib, poll_interval=0.05)
    job = first.submit_train(request(tiny_data["detect_big"], epochs=100))
    wait_for_event(job, "epoch")
    first.shutdown()  # the window closed: the agent goes on
    pid = first.store.get(job.id).pid
    first.store.set(job.id, owner_pid=2**22 + 12345)  # its owner is gone (a pid that cannot exist)
    assert first.store.get(job.id).status == "Running"

    lib2 = Library(home)
    second = JobManager(lib2, poll_interval=0.05)
    try:
        assert second.recover() == [job.id]
        assert second.store.get(job.id).owner_pid == os.getpid()
        second.cancel(job.id)
        done = second.wait(job.id, 120)
        assert done.status == "Cancelled"
        # The agent is this test process's child (the first "app" started it): reap it as init would.
        first.transport.alive(AgentHandle(pid, pid, 0.0, job.events_path))
        assert group_gone(pid)
    finally:
        second.shutdown()
        lib2.close()
