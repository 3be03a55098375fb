"""Jobs on a worker through the SSH transport, against a real sshd on 127.0.0.1: the same agent, the same events."""

from __future__ import annotations

import hashlib
import json
import posixpath
import sys
import time
from pathlib import Path

import pytest

from app.jobs.events import read_all
from app.jobs.manager import JobManager
from app.jobs.ssh_transport import Link, upload_file
from app.jobs.workers import Layout, probe
from app.library.repository import LibraryError
from tests.helpers import assert_export_landed_verified, tidy_manager, tiny_train_request, wait_for_event


@pytest.fixture
def manager(lib, box):
    with tidy_manager(lib) as m:
        yield m


def released(job, timeout: float = 60) -> dict:
    """Wait until the job's folder on the worker is deleted (after the job ends); the proof it recorded."""
    record = Path(job.run_dir) / "remote.json"
    deadline = time.monotonic() + timeout
    while "released" not in json.loads(record.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    info = json.loads(record.read_text())
    assert "released" in info, "the job's folder on the worker was not released"
    assert not Path(info["remote_dir"]).exists()  # (the worker is this machine's sshd)
    return info["released"]


def test_bootstrap_puts_the_agent_there_and_reads_its_info(workers, box, sshd):
    assert box.info["protocol"] == "1.0" and box.info["ultralytics"] and box.info["torch"]
    assert box.info["executable"] == sys.executable and box.tested_at and box.last_error is None
    link = Link(workers, box)
    link.client()
    layout: Layout = link.layout
    names = link.sftp().listdir(posixpath.join(layout.agent, "remote_agent"))
    assert {"__main__.py", "run.py", "jobctl.py", "info.py"} <= set(names)
    cfg = posixpath.join(layout.config_root, "Ultralytics")
    assert {"Arial.ttf", "Arial.Unicode.ttf", "settings.json"} <= set(link.sftp().listdir(cfg))
    settings = json.loads(link.sftp().open(posixpath.join(cfg, "settings.json")).read())
    assert settings["sync"] is False and settings["runs_dir"].startswith(layout.base)
    link.close()


def test_worker_with_a_missing_package_says_exactly_what(workers, sshd, box):
    workers.add("bare", "127.0.0.1", sshd.port, box.user, box.key_path, python="/usr/bin/python3")
    result = probe(workers, "bare")  # the host key is known from `box` (same server)
    assert not result.ok
    text = "\n".join(result.problems)
    assert "torch is not installed for /usr/bin/python3" in text
    assert "ultralytics is not installed" in text and "ultralytics==" in text
    workers.add("nopython", "127.0.0.1", sshd.port, box.user, box.key_path, python="/opt/none/bin/python3")
    result = probe(workers, "nopython")
    assert not result.ok and "'/opt/none/bin/python3' was not found on the worker" in result.problems[0]


def test_remote_onnx_export_lands_verified_in_the_library(manager, lib, checkpoints):
    folder, _ = checkpoints
    model = lib.import_checkpoint(folder / "detect_yolo26n.pt")
    model = getattr(model, "model", model)
    job = manager.submit_export(model.id, "onnx", {}, worker="box")
    assert job.worker == "box"
    job = manager.wait(job.id, 300)
    assert job.status == "Completed", job.error
    assert_export_landed_verified(lib, job)
    released(job)  # its folder on the worker is gone once the export is in the library
    from remote_agent import jobctl

    assert jobctl.forget(str(Path(job.run_dir)))["forgotten"] is False  # never a folder outside the agent's jobs/
    with pytest.raises(LibraryError, match="needs an NVIDIA GPU and box has none"):
        manager.submit_export(model.id, "engine", {}, worker="box")
    with pytest.raises(LibraryError, match="needs tensorflow in box's Python.*'tensorflow' toolchain"):
        manager.submit_export(model.id, "saved_model", {}, worker="box")  # toolchains live here, not on workers


@pytest.mark.slow  # trains a real model
def test_remote_training_end_to_end_and_the_link_cut_mid_job(manager, lib, tiny_data, workers, box, sshd):
    """A training completes into the library although its links were cut six times: every event arrives once."""
    job = manager.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=3), worker="box")
    wait_for_event(job, "epoch", timeout=180)
    cuts = 0
    for _ in range(6):  # kill the per-connection sshd processes, again and again: the job goes on there
        cuts += sshd.cut_connections()  # (whatever the mirror is doing: a read, `alive`, a reconnect)
        time.sleep(0.35)
    assert cuts >= 2
    job = manager.wait(job.id, 300)
    assert job.status == "Completed", job.error
    local = job.events_path.read_bytes()
    # Byte for byte what the worker wrote (nothing lost, nothing repeated): the folder there is deleted only then.
    assert released(job)["events_sha256"] == hashlib.sha256(local).hexdigest()
    events = read_all(job.events_path)
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3]
    assert [e["type"] for e in events].count("started") == 1 and events[-1]["type"] == "completed"
    transport = manager.transport_for("box")
    assert transport.link.connects >= 2  # it did reconnect
    m = lib.model(job.model_id)
    assert m.status == "Completed" and m.has_weights and m.results["epoch"] == [1, 2, 3]
    assert m.dataset and m.dataset.location == str(tiny_data["detect_big"])  # the local data set, not the copy


@pytest.mark.slow  # trains a real model
def test_cancel_on_the_worker_leaves_no_process_behind(manager, lib, tiny_data, workers, box):
    job = manager.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=100), worker="box")
    wait_for_event(job, "epoch", timeout=180)
    link = Link(workers, box)
    pgid = link.run("alive", json.loads((Path(job.run_dir) / "remote.json").read_text())["remote_dir"])["pid"]
    link.close()
    manager.cancel(job.id)
    job = manager.wait(job.id, 120)
    assert job.status == "Cancelled", job.error
    released(job)  # `forget` deletes the folder only once no process of the job's group is left there
    from remote_agent.jobctl import _group_members

    assert _group_members(pgid) == []  # no agent, no data-loader worker left (the worker is this machine)
    assert lib.model(job.model_id).status == "Cancelled"


@pytest.mark.slow  # trains a real model
def test_a_restarted_app_reattaches_to_a_remote_job(lib, tiny_data, box, home):
    from app.library.repository import Library

    first = JobManager(lib, poll_interval=0.05)
    job = first.submit_train(tiny_train_request(tiny_data["detect_big"], epochs=2), worker="box")
    wait_for_event(job, "started", timeout=120)
    first.shutdown()  # the app closes; the job goes on on the worker
    lib2 = Library(home)
    second = JobManager(lib2, poll_interval=0.05)
    second.pid = first.pid + 1_000_000  # another process (the first one's pid is this test's)
    from app.jobs.store import JobStore

    JobStore(lib2).set(job.id, owner_pid=None)
    assert job.id in second.recover()
    done = second.wait(job.id, 300)
    assert done.status == "Completed", done.error
    events = read_all(done.events_path)
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2]
    assert [e["type"] for e in events].count("started") == 1
    second.shutdown()
    lib2.close()


def test_upload_resumes_a_partial_file_and_refuses_a_damaged_one(workers, box, tmp_path):
    import os

    from app.jobs.ssh_transport import TransferError, file_sha256

    data = os.urandom(3 << 20)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    link = Link(workers, box)
    link.client()
    target = link.layout.cache(f"test-{file_sha256(src)}.bin")
    with link.sftp().open(target + ".part", "wb") as f:  # what a dropped link leaves behind
        f.write(data[: 1 << 20])
    seen = []
    upload_file(link, src, target, progress=lambda done, total: seen.append(done))
    assert seen[0] > 1 << 20 and seen[-1] == len(data)  # it carried on from the first MiB
    assert link.run("digest", target)["sha256"] == file_sha256(src)
    target2 = link.layout.cache("test-damaged.bin")
    with link.sftp().open(target2 + ".part", "wb") as f:
        f.write(b"x" * (1 << 20))  # a partial file that does not match the source
    with pytest.raises(TransferError, match="arrived damaged"):
        upload_file(link, src, target2)
    upload_file(link, src, target2)  # sent again from scratch
    assert link.run("digest", target2)["sha256"] == file_sha256(src)
    for t in (target, target2):
        link.sftp().remove(t)
    link.close()
