"""Libraries that cannot be opened: a clear verdict, exit 1, the file untouched; check says what is recoverable."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from app.cli import main
from app.library.db import LibraryUnavailable
from app.library.repository import Library
from tests.library.store_helpers import ROOT, file_state, run_cli


def _not_sqlite(home):
    (home / "library.db").write_bytes(os.urandom(8192))


def _text(home):
    (home / "library.db").write_text("these are my notes, not a database\n" * 50)


def _foreign(home):
    con = sqlite3.connect(home / "library.db")
    con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    con.execute("INSERT INTO invoices (total) VALUES (12.5)")
    con.commit()
    con.close()


def _ours_then(home, checkpoints, damage):
    lib = Library(home)
    for name in ("detect_yolo26n.pt", "classify_yolo11n.pt", "pose_yolo11n.pt"):
        lib.import_checkpoint(checkpoints[0] / name)
    lib.close()
    db = home / "library.db"
    data = bytearray(db.read_bytes())
    db.write_bytes(damage(data))


def _truncated(data):
    return bytes(data[: len(data) // 3])


def _corrupted(data):
    for page in range(2, len(data) // 4096):  # every page but the schema's: rows and indexes garbled
        data[page * 4096 + 8: page * 4096 + 400] = os.urandom(392)
    return bytes(data)


@pytest.mark.parametrize("kind,make,expect", [
    ("random bytes", _not_sqlite, "not an SQLite database"),
    ("text", _text, "not an SQLite database"),
    ("foreign", _foreign, "another program's SQLite database (tables: invoices)"),
])
def test_a_library_db_that_is_not_ours_is_refused_untouched(home, capsys, kind, make, expect):
    home.mkdir(parents=True)
    make(home)
    db = home / "library.db"
    before = file_state(db)
    assert main(["list"]) == 1
    err = capsys.readouterr().err
    assert str(db) in err and expect in err and "The file was not changed." in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert file_state(db) == before
    assert not (home / "library.db-wal").exists()
    if kind == "foreign":
        con = sqlite3.connect(db)
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["invoices"]
        con.close()
    assert main(["check"]) == 1
    out = capsys.readouterr()
    assert "not a YOLO Desk library" in out.out if kind == "foreign" else "move library.db aside" in out.out
    assert file_state(db) == before


@pytest.mark.parametrize("damage", [_truncated, _corrupted])
def test_a_malformed_library_is_refused_and_check_says_what_can_be_recovered(home, checkpoints, capsys, damage):
    _ours_then(home, checkpoints, damage)
    db = home / "library.db"
    before = file_state(db)
    with pytest.raises(LibraryUnavailable) as e:
        Library(home)
    assert e.value.kind == "malformed" and e.value.path == db
    assert main(["import", str(checkpoints[0] / "obb_yolo26n.pt")]) == 1
    err = capsys.readouterr().err
    assert "is malformed" in err and "The file was not changed." in err and "Traceback" not in err
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "recoverable: the model files are intact: 3 model folder(s)" in out, out
    assert "yolodesk check --repair" in out
    assert file_state(db) == before

    # The advice works: the database moved aside, repair adopts every model folder back.
    db.rename(home / "library.db.broken")
    for f in home.glob("library.db-*"):
        f.unlink()
    assert main(["check", "--repair"]) == 0
    lib = Library(home)
    assert sorted(m.architecture for m in lib.models()) == ["YOLO11n-cls", "YOLO11n-pose", "YOLO26n"]
    lib.close()


LOCKER = r"""
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA locking_mode=EXCLUSIVE")
con.execute("BEGIN EXCLUSIVE")
con.execute("CREATE TABLE IF NOT EXISTS held (x)")
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_library_locked_by_another_program_gives_a_verdict_not_a_hang(home):
    Library(home).close()
    db = home / "library.db"
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        assert locker.stdout.readline().strip() == "locked"
        r = run_cli(home, "list", timeout=60)
        assert r.returncode == 1 and "another program holds a lock" in r.stderr and str(db) in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        r = run_cli(home, "check", timeout=60)
        assert r.returncode == 1 and "recoverable: nothing is damaged" in r.stdout, r.stdout + r.stderr
    finally:
        locker.communicate("", timeout=30)
    assert run_cli(home, "list").returncode == 0  # once the lock is gone, the same library opens


def test_window_asks_before_the_main_window_and_quit_exits_cleanly(qtbot, home, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

    from app.gui import CHOOSE_ANOTHER, open_library_or_ask

    home.mkdir(parents=True)
    _text(home)
    before = file_state(home / "library.db")
    seen: list[str] = []

    def answer(choice: str) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, lambda: answer(choice))
            return
        seen.append(box.informativeText())
        for button in box.buttons():
            if button.text() == choice:
                button.click()

    QTimer.singleShot(20, lambda: answer("Quit"))
    assert open_library_or_ask(home) is None
    assert seen and "not an SQLite database" in seen[0] and "The file was not changed." in seen[0]
    assert file_state(home / "library.db") == before

    # "Choose another library folder…": the chosen folder becomes this run's library.
    other = tmp_path / "other"
    other.mkdir()

    def pick() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, QFileDialog):
            QTimer.singleShot(20, pick)
            return
        dlg.setDirectory(str(other))  # in folder mode the dialog answers the folder it shows
        dlg.accept()

    QTimer.singleShot(20, lambda: answer(CHOOSE_ANOTHER))
    QTimer.singleShot(200, pick)
    lib = open_library_or_ask(home)
    try:
        assert lib is not None and lib.home == other and os.environ["YOLODESK_HOME"] == str(other)
    finally:
        lib.close()
    assert file_state(home / "library.db") == before
