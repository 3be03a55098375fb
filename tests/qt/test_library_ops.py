"""The window's library executor: one thread, in order; changes carry ids, also for another process's commits."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from app.qt.library_changes import Changes
from app.qt.library_ops import LibraryOps, Reloader

ROOT = Path(__file__).resolve().parents[2]


def test_operations_run_on_one_thread_in_order(qtbot, lib):
    ops = LibraryOps(lib)
    ran: list[tuple[int, str]] = []
    results: list[int] = []
    for i in range(20):
        ops.submit(lambda i=i: ran.append((i, threading.current_thread().name)) or i, results.append)
    assert ops.wait_idle()
    ops.stop()
    assert [i for i, _ in ran] == list(range(20)) and results == list(range(20))
    assert {name for _, name in ran} == {"library-ops"}


def test_a_commit_by_another_process_arrives_as_the_ids_it_changed(qtbot, lib, checkpoints):
    folder, _ = checkpoints
    ops = LibraryOps(lib, watch_seconds=0.05)
    seen: list[Changes] = []
    ops.changed.connect(seen.append)
    assert ops.wait_idle()  # the first look takes the baseline
    env = {**os.environ, "YOLODESK_HOME": str(lib.home)}
    out = subprocess.run([sys.executable, "-m", "app", "import", "--json", str(folder / "detect_yolo26n.pt")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import json

    model_id = json.loads(out.stdout)[0]["id"]
    qtbot.waitUntil(lambda: any(model_id in c.models for c in seen), timeout=5000)
    merged = Changes()
    for c in seen:
        merged = merged | c
    assert merged.models == {model_id} and merged.projects == {lib.default_project_id}  # its count moved
    assert merged.touches_model(model_id) and not merged.touches_model("another")
    ops.stop()


def test_reload_requests_while_one_is_in_flight_fold_into_one_more(qtbot, lib):
    ops = LibraryOps(lib)
    gate = threading.Event()
    loads: list[int] = []
    shown: list[int] = []

    def load():  # noqa: ANN202
        def read() -> int:
            gate.wait(5)
            loads.append(1)
            return len(loads)
        return read

    reload = Reloader(ops, load, shown.append, "test")
    for _ in range(10):
        reload.request()
    gate.set()
    assert ops.wait_idle()
    ops.stop()
    assert shown == [1, 2]  # the first read, then one for the nine asked meanwhile
