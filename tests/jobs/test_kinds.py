"""A job kind added from outside the job manager: one handler registered here, its runner in a real agent process.

The ``echo`` kind's agent side is ``tests/jobs/echo_agent_kind.py``, loaded by the agent through
``YOLODESK_AGENT_KINDS``; nothing in the scheduler knows it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.jobs.events import read_all
from app.jobs.job_kind import JobContext, JobKind, KindFailure, localize
from app.jobs.kinds import UnknownKind, handler_for, register, registered, unregister
from app.jobs.store import JobRecord
from app.jobs.transport import Transport
from app.library.repository import LibraryError


class EchoKind(JobKind):
    """The app side of ``echo``: its words checked at submit, the agent's file kept in the library's home."""

    name = "echo"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def submit(self, ctx: JobContext, words: list[str], pause: float = 0.0, python: str | None = None) -> JobRecord:
        if not words or not all(isinstance(w, str) and w for w in words):
            raise LibraryError("echo: give at least one word")
        spec: dict[str, Any] = {"args": {"words": words, "pause": pause}}
        if python:
            spec["python"] = python
        return ctx.enqueue(ctx.new_job(self.name, spec, ctx.lib.default_project_id, None))

    def started(self, ctx: JobContext, job: JobRecord) -> None:
        self.calls.append(("started", job.id, job.status))

    def complete(self, ctx: JobContext, job: JobRecord, state: str, result: dict[str, Any],
                 transport: Transport) -> dict[str, Any]:
        self.calls.append(("complete", job.id, state))
        if state == "cancelled":
            return result
        kept = ctx.lib.home / "echoes" / f"{job.id}.txt"
        kept.parent.mkdir(exist_ok=True)
        try:
            shutil.copyfile(localize(job, transport, result["path"]), kept)
        except (OSError, KeyError) as e:
            raise KindFailure(f"echo finished but its file could not be kept: {e}", result) from e
        return {**result, "kept": str(kept)}

    def ended(self, ctx: JobContext, job: JobRecord, status: str, error: str | None) -> None:
        self.calls.append(("ended", job.id, status))


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("YOLODESK_AGENT_KINDS", "tests.jobs.echo_agent_kind")  # the agent's extension point
    kind = register(EchoKind())
    yield kind
    unregister(kind.name)


def wait_status(manager, job_id: str, status: str, timeout: float = 30) -> JobRecord:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = manager.store.get(job_id)
        if job.status == status:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never became {status} (it is {manager.store.get(job_id).status})")


def test_a_registered_kind_runs_through_the_queue_into_the_library(manager, lib, echo):
    seen: list[str] = []
    manager.listeners.append(lambda j: seen.append(j.status))
    job = echo.submit(manager, ["alpha", "beta", "gamma"])
    done = manager.wait(job.id, 60)
    assert done.status == "Completed", done.error
    assert Path(done.result["kept"]).read_text() == "alpha beta gamma"  # what the handler put in the library
    assert done.result["words"] == ["alpha", "beta", "gamma"]
    assert seen[0] == "Queued" and "Starting" in seen and "Running" in seen and seen[-1] == "Completed"
    assert echo.calls == [("started", job.id, "Starting"), ("complete", job.id, "completed")]
    events = read_all(done.events_path)
    assert [e["label"] for e in events if e["type"] == "progress"] == ["alpha", "beta", "gamma"]
    assert events[0]["type"] == "started" and events[0]["kind"] == "echo" and events[-1]["type"] == "completed"

    again = manager.retry(job.id)  # the base handler's retry: the same arguments, a new row
    assert again.retry_of == job.id and again.kind == "echo" and again.spec["args"] == job.spec["args"]
    assert manager.wait(again.id, 60).status == "Completed"


def test_a_kind_runs_within_its_own_limit(manager, echo):
    first = echo.submit(manager, ["one", "two", "three", "four"], pause=0.4)
    second = echo.submit(manager, ["five"])
    wait_status(manager, first.id, "Running")
    assert manager.store.get(second.id).status == "Queued"  # JobKind.default_limit: one echo at a time
    a, b = manager.wait(first.id, 60), manager.wait(second.id, 60)
    assert (a.status, b.status) == ("Completed", "Completed"), (a.error, b.error)
    assert b.started_at >= a.finished_at


def test_failure_and_cancel_reach_the_kinds_handler(manager, echo):
    failed = manager.wait(echo.submit(manager, ["fine", "boom"]).id, 60)
    assert failed.status == "Failed" and failed.error == "RuntimeError: asked to fail after 1 word(s)"
    assert ("ended", failed.id, "Failed") in echo.calls

    running = echo.submit(manager, [f"w{i}" for i in range(200)], pause=0.1)
    queued = echo.submit(manager, ["never"])
    wait_status(manager, running.id, "Running")
    assert manager.cancel(queued.id).status == "Cancelled"
    assert ("ended", queued.id, "Cancelled") in echo.calls  # cancelled before it ran: its rows are the kind's
    manager.cancel(running.id)
    stopped = manager.wait(running.id, 60)
    assert stopped.status == "Cancelled" and 0 < len(stopped.result["words"]) < 200  # SIGTERM between words
    assert ("complete", running.id, "cancelled") in echo.calls


def test_the_agent_refuses_a_kind_it_does_not_run(manager, echo, monkeypatch):
    monkeypatch.delenv("YOLODESK_AGENT_KINDS")  # the app knows echo; this agent does not
    job = manager.wait(echo.submit(manager, ["alpha"]).id, 60)
    assert job.status == "Failed"
    assert job.error == "ValueError: unknown job kind 'echo'; this agent runs: train, export, serve, val"
    assert ("ended", job.id, "Failed") in echo.calls


def test_a_job_that_cannot_start_leaves_no_run_folder(manager, lib, echo, tmp_path):
    job = manager.wait(echo.submit(manager, ["alpha"], python=str(tmp_path / "no-such-python")).id, 30)
    assert job.status == "Failed" and job.error.startswith("the agent could not be started: ")
    assert "no-such-python" in job.error
    assert not Path(job.run_dir).exists() and list(lib.runs_dir.iterdir()) == []
    assert ("ended", job.id, "Failed") in echo.calls


def test_the_registry_names_its_kinds_and_refuses_a_second_echo(echo):
    assert {"train", "export", "echo"} <= set(registered()) and handler_for("echo") is echo
    with pytest.raises(ValueError, match="registered already"):
        register(EchoKind())
    with pytest.raises(UnknownKind, match=r"does not run jobs of kind 'nope' \(it runs: echo, export, serve, train, val"):
        handler_for("nope")


def test_the_agents_extra_kinds_cannot_replace_a_builtin(tmp_path, monkeypatch):
    from remote_agent.run import KINDS, kinds

    (tmp_path / "hijack_kind.py").write_text("AGENT_KINDS = {'train': print}\n")
    (tmp_path / "tableless_kind.py").write_text("KINDS = {}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("YOLODESK_AGENT_KINDS", "tests.jobs.echo_agent_kind")
    assert set(kinds()) == {*KINDS, "echo"}
    monkeypatch.setenv("YOLODESK_AGENT_KINDS", "tests.jobs.echo_agent_kind, hijack_kind")
    with pytest.raises(ValueError, match="may not replace the built-in kind 'train'"):
        kinds()
    monkeypatch.setenv("YOLODESK_AGENT_KINDS", "tableless_kind")
    with pytest.raises(ValueError, match="has no AGENT_KINDS table"):
        kinds()


def test_a_reused_owner_pid_is_not_taken_for_the_owner(manager, lib, echo):
    """The owner is its pid *and* its start time: a later process holding that pid does not keep a job alive."""
    import psutil

    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        now = psutil.Process(stranger.pid).create_time()
        live, reused = (manager.store.create("train", {"args": {}}, lib.default_project_id, None,
                                             owner_pid=stranger.pid, owner_started=t) for t in (now, now - 3600))
        for job in (live, reused):
            manager.store.set(job.id, status="Running", pid=gone.pid)  # its agent is gone too
        manager.list_jobs()
        assert manager.store.get(live.id).status == "Running"  # its owner runs: left to it
        assert manager.store.get(reused.id).status == "Failed"  # its owner is gone, whatever holds the pid now

        queued = manager.store.create("echo", {"args": {"words": ["hi"]}}, lib.default_project_id, None,
                                      owner_pid=stranger.pid, owner_started=now - 3600)
        manager.schedule()
        assert manager.wait(queued.id, 60).status == "Completed"  # not left for an owner that is not there
    finally:
        stranger.kill()
        stranger.wait()
