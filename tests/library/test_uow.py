"""The library's unit of work (``read()`` / ``write()`` / ``record()``) and what ``check --repair`` may delete.

Real SQLite through SQLAlchemy, real files, and a real second process running the repair.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.exporters.store import ExportStore
from app.library.orm import Job, Model, utcnow
from app.library.repository import Library

ROOT = Path(__file__).resolve().parents[2]


def test_write_commits_at_the_end_of_the_block_and_not_on_an_error(lib: Library) -> None:
    model = lib.create_pending_model(lib.default_project_id, "first")
    with lib.write() as s:
        s.get(Model, model.id).name = "renamed"
    assert lib.model(model.id).name == "renamed"
    with pytest.raises(RuntimeError):
        with lib.write() as s:
            s.get(Model, model.id).name = "lost"
            raise RuntimeError("a failure half way")
    assert lib.model(model.id).name == "renamed"  # rolled back, not half written


def test_read_commits_nothing_and_record_is_a_frozen_copy(lib: Library) -> None:
    model = lib.create_pending_model(lib.default_project_id, "looked at")
    with lib.read() as s:
        row = s.get(Model, model.id)
        row.name = "changed in a read"
        record = lib.record(s, row)
    assert record.name == "changed in a read" and record.project == "Default"
    assert lib.model(model.id).name == "looked at"
    with pytest.raises(AttributeError):
        record.name = "x"  # type: ignore[misc]  # a frozen record: no ORM object leaves the session


def test_writes_of_two_threads_never_interleave(lib: Library) -> None:
    """One writer at a time: a read-modify-write in each of two threads loses no update."""
    model = lib.create_pending_model(lib.default_project_id, "counter", train_args={"n": 0})

    def bump() -> None:
        for _ in range(25):
            with lib.write() as s:
                m = s.get(Model, model.id)
                n = m.train_args["n"]
                time.sleep(0.001)  # a window in which another writer would read the same n
                m.train_args = {"n": n + 1}

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lib.model(model.id).train_args == {"n": 50}


_REPAIR_LOOP = r"""
import json, sys, time
from pathlib import Path
from app.library.repository import Library
lib = Library(Path(sys.argv[1]))
stop = Path(sys.argv[2])
rounds = busy = removed = 0
while not stop.exists():
    report = lib.check(repair=True)
    rounds += 1
    busy += sum(1 for p in report.busy if "exports" in p)
    removed += sum(1 for line in report.repaired if "exports" in line)
print(json.dumps({"rounds": rounds, "busy": busy, "removed": removed}))
"""


def _artifact(folder: Path, files: int = 40) -> Path:
    """A folder artifact like OpenVINO's: many files, so that a copy takes a while."""
    folder.mkdir()
    for i in range(files):
        (folder / f"part{i}.bin").write_bytes(bytes([i]) * 65536)
    return folder


def test_check_repair_in_another_process_never_deletes_an_export_being_copied_in(lib: Library, tmp_path) -> None:
    model = lib.create_pending_model(lib.default_project_id, "exported")  # a row: its folder is no orphan
    src = _artifact(tmp_path / "yolo_openvino_model")
    stop = tmp_path / "stop"
    repair = subprocess.Popen([sys.executable, "-c", _REPAIR_LOOP, str(lib.home), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        store = ExportStore(lib)
        time.sleep(1.0)  # the repair loop is running before the first copy starts
        for _ in range(15):
            placed = store.place(model.id, "openvino", src)
            assert sorted(p.name for p in placed.iterdir()) == sorted(p.name for p in src.iterdir())
            assert (placed / "part7.bin").read_bytes() == bytes([7]) * 65536
    finally:
        stop.touch()
        out, err = repair.communicate(timeout=60)
    assert repair.returncode == 0, err[-2000:]
    seen = json.loads(out)
    assert seen["rounds"] > 1 and seen["busy"] > 0  # the repair ran during the copies and met a temp in flight
    assert seen["removed"] == 0


def test_a_temp_file_in_the_run_folder_of_an_unfinished_job_is_kept(lib: Library) -> None:
    with lib.write() as s:
        s.add(Job(id="job1", kind="export", spec={}, project_id=lib.default_project_id))
    run = lib.runs_dir / "job1"
    run.mkdir()
    temp = run / ".spec.json.abcd1234.tmp"
    temp.write_text("{}")
    report = lib.check(repair=True)
    assert temp.exists() and str(temp) in report.busy and str(temp) not in report.temp_files
    with lib.write() as s:
        s.get(Job, "job1").finished_at = utcnow()
    report = lib.check(repair=True)
    assert not temp.exists() and report.temp_files == [str(temp)]
