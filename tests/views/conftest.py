"""A main window with a fast-polling job manager, for tests that run real jobs from the window."""

from __future__ import annotations

import pytest

from app.jobs.manager import JobManager
from app.views.main_window import MainWindow


@pytest.fixture
def job_window(qtbot, lib):
    w = MainWindow(lib, JobManager(lib, poll_interval=0.05))
    w.confirm_close = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    for job in w.jobs.store.list(("Queued", "Starting", "Running")):  # never leave an agent behind
        w.jobs.cancel(job.id)
        w.jobs.wait(job.id, 60)
