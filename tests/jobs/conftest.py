"""Fixtures for the job engine: a manager whose agents are never left behind."""

from __future__ import annotations

import os
import signal

import pytest

# Transitional: tests written in parallel may still import these from here; tests.helpers is their home.
from tests.helpers import FAST, group_gone, wait_for_event  # noqa: F401


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
