"""Fixtures for the job engine: tiny data sets, a manager, and one real training shared by the module's tests."""

from __future__ import annotations

import os
import signal
import time

import pytest

from app.jobs.events import read_all

FAST = {"workers": 0, "plots": False, "amp": False}


@pytest.fixture
def manager(lib):
    from app.jobs.manager import JobManager

    m = JobManager(lib, poll_interval=0.05)
    yield m
    for job in m.store.list(("Queued", "Starting", "Running")):  # never leave an agent behind
        m.cancel(job.id)
        if job.pid:
            try:
                os.killpg(job.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    m.shutdown()


def wait_for_event(job, kind: str, timeout: float = 120) -> dict:
    """Block until the job's events file holds an event of ``kind``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in read_all(job.events_path):
            if ev.get("type") == kind:
                return ev
        time.sleep(0.1)
    raise AssertionError(f"no {kind!r} event within {timeout} s")


def group_gone(pgid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
