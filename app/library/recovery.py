"""What can be saved from a library whose ``library.db`` cannot be opened (``yolodesk check`` on it).

Everything here reads: the database through a read-only SQLite connection, the model
folders by listing them. Nothing is written; the user is told what is recoverable and how.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from app.library.db import LibraryUnavailable


def _weights_folders(home: Path) -> list[Path]:
    models = home / "models"
    if not models.is_dir():
        return []
    return sorted(d for d in models.iterdir() if (d / "weights.pt").is_file())


def _readable_model_rows(db_path: Path) -> tuple[int, int] | None:
    """(rows read, rows the table claims) of the models table, reading row by row past damage; None if none."""
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    read = 0
    try:
        try:
            total = con.execute("SELECT max(rowid) FROM models").fetchone()[0] or 0
        except sqlite3.Error:
            return None
        for rowid in range(1, min(total, 1_000_000) + 1):
            try:
                if con.execute("SELECT id, name, sha256 FROM models WHERE rowid = ?", (rowid,)).fetchone():
                    read += 1
            except sqlite3.Error:
                continue
        return read, total
    finally:
        con.close()


def _integrity(db_path: Path) -> str | None:
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            lines = [r[0] for r in con.execute("PRAGMA integrity_check(10)")]
        finally:
            con.close()
    except sqlite3.Error as e:
        return str(e)
    return None if lines == ["ok"] else "; ".join(lines)[:400]


def recovery_advice(home: Path, err: LibraryUnavailable) -> list[str]:
    """Lines for the user: whether the data is recoverable, and the steps."""
    db = err.path
    folders = _weights_folders(home)
    adopt = (f"the model files are intact: {len(folders)} model folder(s) under {home / 'models'} hold weights. "
             f"Move {db.name} aside (e.g. `mv {db} {db}.broken`) and run `yolodesk check --repair`: it adopts each "
             "folder back as a model (metrics, classes and training arguments are read again from the checkpoint; "
             "names, projects and job history from the old database are not)")
    if err.kind == "locked":
        return ["recoverable: nothing is damaged; another program holds a lock on the database. Close it "
                f"(`fuser {db}` names it) and run the command again"]
    if err.kind == "disk_full":
        return [f"recoverable: free some space on the disk holding {db.parent} and run the command again"]
    if err.kind == "foreign":
        return [f"not a YOLO Desk library: {db} belongs to another program and was left as it is. Set YOLODESK_HOME "
                "to another folder (or move that file away) to start a library"]
    lines: list[str] = []
    if err.kind == "malformed":
        problem = _integrity(db)
        if problem:
            lines.append(f"integrity check (read-only): {problem}")
        rows = _readable_model_rows(db)
        if rows is not None:
            lines.append(f"partly recoverable: {rows[0]} of {rows[1]} model row(s) can still be read")
            if shutil.which("sqlite3"):
                lines.append(f"to save what is readable: `sqlite3 {db} .recover | sqlite3 {db}.recovered` "
                             "(then inspect the copy before using it)")
    if folders:
        lines.append("recoverable: " + adopt)
    else:
        lines.append(f"no model folders with weights under {home / 'models'}: nothing else to recover; "
                     f"move {db.name} aside to start an empty library")
    return lines
