"""Changing a running endpoint without a restart, from separate ``yolodesk`` processes: ``endpoint rotate-token``
(the same agent refuses the old token at once) then ``endpoint replace`` under load (zero failed requests, the new
model answers; refusals in one line) — one deploy for both."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.deploy.test_app_endpoints import cli, deployed, listing, predict
from tests.helpers import PredictLoad

pytestmark = pytest.mark.slow
__all__ = ["deployed"]  # the fixture, shared


def _job(home: Path, endpoint_id: str) -> tuple[str | None, int | None]:
    from app.deploy.store import EndpointStore
    from app.jobs.store import JobStore
    from app.library.repository import Library

    lib = Library(home)
    try:
        job_id = EndpointStore(lib).get(endpoint_id).job_id
        return job_id, JobStore(lib).get(job_id or "").pid
    finally:
        lib.close()


def test_rotate_token_then_replace_under_load_in_the_same_agent(deployed, task_weights: dict[str, Path],
                                                               task_images: dict[str, Path]) -> None:
    home, info = deployed
    before = _job(home, info["id"])
    rotated = cli(home, "endpoint", "rotate-token", info["id"])
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.split("new token: ", 1)[1].split()[0]
    assert new != info["token"] and len(new) >= 43
    assert _job(home, info["id"]) == before  # no restart: the same job, the same agent process
    assert not (next((home / "runs").iterdir()) / "control" / "token").exists()  # taken by the agent
    assert listing(home)[0]["url"] == info["url"]
    assert predict(info["url"], task_images["detect"], info["token"]).status_code == 403
    assert predict(info["url"], task_images["detect"], new).status_code == 200
    logs = cli(home, "endpoint", "logs", info["id"])
    assert logs.returncode == 0 and "[endpoint] Ready" in logs.stdout
    assert new not in logs.stdout and info["token"] not in logs.stdout
    info = dict(info, token=new)  # the replace below runs with the new token
    other = task_weights["detect"].parent / "yolov5nu_untrained.pt"
    assert cli(home, "import", str(other)).returncode == 0
    before = _job(home, info["id"])
    with PredictLoad(info["url"], task_images["detect"], info["token"]) as load:
        out = cli(home, "endpoint", "replace", info["id"], "yolov5nu_untrained")
        n = len(load.answers)
        deadline = time.monotonic() + 60
        while len(load.answers) < n + 3 and time.monotonic() < deadline:  # a few from the new model
            threading.Event().wait(0.05)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "now serves yolov5nu_untrained" in out.stdout
    statuses = [s for s, _ in load.answers]
    models = [m for _, m in load.answers]
    assert len(statuses) > 5 and set(statuses) == {200}, statuses
    assert models[0] == "detect_yolo26n" and models[-1] == "yolov5nu_untrained"
    assert _job(home, info["id"]) == before  # the same agent: swapped, not restarted
    row = listing(home)[0]
    assert row["model"] == "yolov5nu_untrained" and row["url"] == info["url"] and row["state"] == "Ready"
    assert predict(info["url"], task_images["detect"], info["token"]).status_code == 200  # the token stays
    # Refusals are one line and change nothing: another task, or no model named.
    assert cli(home, "import", str(task_weights["classify"])).returncode == 0
    wrong = cli(home, "endpoint", "replace", info["id"], "classify_yolo11n")
    assert wrong.returncode == 1 and "is a classify model" in wrong.stderr and "Traceback" not in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    bare = cli(home, "endpoint", "replace", info["id"])
    assert bare.returncode == 1 and "which model?" in bare.stderr
    assert listing(home)[0]["model"] == "yolov5nu_untrained"
