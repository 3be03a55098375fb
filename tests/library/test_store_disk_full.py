"""A full disk during the copy or during the database write: a clear verdict, nothing half-written."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from app.library.repository import Library


def _mount(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root and mount permission): {r.stderr.strip()}")


def _fill(folder: Path) -> None:
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC


@pytest.fixture
def mounts():
    made: list[Path] = []
    yield lambda where, size: (_mount(where, size), made.append(where))
    for where in reversed(made):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _library_state(home: Path) -> tuple[list[str], list[tuple]]:
    files = sorted(str(p.relative_to(home)) for p in (home / "models").rglob("*"))
    con = sqlite3.connect(home / "library.db")
    rows = con.execute("SELECT id FROM models").fetchall()
    con.close()
    return files, rows


def test_disk_full_while_copying_the_file(tmp_path, checkpoints, mounts):
    home = tmp_path / "home"
    mounts(home, "3m")  # room for the database, not for a 5 MB checkpoint
    lib = Library(home)
    try:
        before = _library_state(home)
        r = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt")
        assert r.state == "rejected" and r.code == "disk_full", r.message
        assert r.message.startswith(f"the disk holding {home / 'models'} is full (") and "MB free" in r.message
        assert _library_state(home) == before  # no temp file, no folder, no row
        assert lib.check().clean
    finally:
        lib.close()


def test_disk_full_while_writing_the_database(tmp_path, checkpoints, mounts):
    home = tmp_path / "home"
    mounts(home, "2m")
    lib = Library(home)
    mounts(home / "models", "64m")  # the copy has room; the database's disk has none
    lib.close()
    con = sqlite3.connect(home / "library.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the next write must grow the WAL file
    con.close()
    lib = Library(home)
    try:
        _fill(home)
        r = lib.import_checkpoint(checkpoints[0] / "detect_yolo26n.pt")
        assert r.state == "rejected" and r.code == "disk_full", r.message
        assert f"the disk holding {home / 'library.db'} is full (0.0 MB free)" in r.message
        assert list((home / "models").iterdir()) == []
        (home / "filler").unlink()
        assert lib.models() == [] and lib.check().clean
    finally:
        lib.close()


def test_cli_says_disk_full_with_exit_1(tmp_path, checkpoints, mounts, monkeypatch, capsys):
    from app.cli import main

    home = tmp_path / "home"
    mounts(home, "3m")
    monkeypatch.setenv("YOLODESK_HOME", str(home))
    assert main(["import", str(checkpoints[0] / "segment_yolov8n.pt")]) == 1
    out = capsys.readouterr().out
    assert "✗" in out and "is full (" in out and "MB free" in out and "Traceback" not in out
    assert os.listdir(home / "models") == []
