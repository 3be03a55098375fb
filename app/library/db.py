"""Open the library database: SQLite in WAL mode with foreign keys, migrated by Alembic at start-up.

Before anything writes to it (no pragma, no migration), the file is looked at read-only:
a database whose schema revision this app does not know was written by a newer YOLO Desk
(:class:`SchemaTooNew`); a file that is not SQLite, is malformed, belongs to another
program or is locked by one is refused as :class:`LibraryUnavailable`. Creation and
migration are serialized across processes by ``flock`` on ``library.db.lock``: one
migrates, the others wait and then find head.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Every revision this app knows, oldest first; the last one is head (a test checks it against Alembic's scripts).
REVISIONS = ["0001_initial", "0002_jobs", "0003_exports", "0004_workers", "0005_trusted", "0006_owner_started",
             "0007_endpoints", "0008_validations", "0009_dataset_stats", "0010_worker_kind"]
HEAD = REVISIONS[-1]


SQLITE_MAGIC = b"SQLite format 3\x00"
OUR_TABLES = {"projects", "models"}  # present in every revision since 0001
READ_TIMEOUT_S = 3.0  # how long start-up waits on a lock before calling the library locked (GUI: bounded)


class SchemaTooNew(Exception):
    """The database was written by a newer YOLO Desk."""


class LibraryUnavailable(Exception):
    """``library.db`` cannot be used (not SQLite, malformed, another program's, locked); it was left untouched."""

    def __init__(self, path: Path, reason: str, kind: str) -> None:
        super().__init__(f"the library database {path} cannot be opened: {reason}. The file was not changed.")
        self.path = Path(path)
        self.reason = reason
        self.kind = kind  # "not_sqlite" | "malformed" | "foreign" | "locked" | "disk_full" | "unreadable"


def _readonly(db_path: Path, timeout: float = READ_TIMEOUT_S) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=timeout)


def examine(db_path: Path) -> str | None:
    """Look at ``db_path`` read-only; raise :class:`LibraryUnavailable` if it cannot be ours. Returns its revision."""
    try:
        with open(db_path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise LibraryUnavailable(db_path, f"it cannot be read ({e.strerror or e})", "unreadable") from e
    if not head:
        return None  # an empty file: SQLite treats it as a new database
    if head != SQLITE_MAGIC:
        raise LibraryUnavailable(db_path, f"it is not an SQLite database (it starts with {head[:8]!r})", "not_sqlite")
    try:
        con = _readonly(db_path)
    except sqlite3.Error as e:
        raise _classified(db_path, e) from e
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        problems = [r[0] for r in con.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise LibraryUnavailable(db_path, f"it is malformed ({'; '.join(problems)[:300]})", "malformed")
        revision = None
        if "alembic_version" in tables:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.Error as e:
        raise _classified(db_path, e) from e
    finally:
        con.close()
    user_tables = sorted(t for t in tables if not t.startswith("sqlite_"))
    if user_tables and not OUR_TABLES <= tables:
        listed = ", ".join(user_tables[:6]) + (" …" if len(user_tables) > 6 else "")
        raise LibraryUnavailable(db_path, f"it is another program's SQLite database (tables: {listed}), not a "
                                 "YOLO Desk library", "foreign")
    return revision


def _classified(db_path: Path, e: sqlite3.Error) -> LibraryUnavailable:
    text = str(e)
    if "locked" in text or "busy" in text:
        return LibraryUnavailable(db_path, "another program holds a lock on it (an exclusive SQLite lock); close "
                                  "that program and try again", "locked")
    free = _free_bytes(db_path.parent)
    # SQLite says "disk I/O error" when a full disk stops it creating the WAL index: that file is not malformed
    if "full" in text or ("disk I/O" in text and free is not None and free < 1_000_000):
        return LibraryUnavailable(db_path, f"the disk holding it is full ({(free or 0) / 1e6:.1f} MB free)",
                                  "disk_full")
    return LibraryUnavailable(db_path, f"it is malformed ({text})", "malformed")


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


@contextmanager
def creation_lock(db_path: Path) -> Iterator[None]:
    """Hold ``library.db.lock`` (flock) so that one process at a time creates or migrates the database."""
    lock = db_path.with_name(db_path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # the file stays: removing it would let a waiter and a newcomer hold two different locks


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head with Alembic (imported only when there is work to do)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _refuse_newer(db_path: Path, current: str | None) -> None:
    if current is not None and current not in REVISIONS:
        raise SchemaTooNew(
            f"{db_path} was written by a newer YOLO Desk (schema {current}; this version knows up to {HEAD}). "
            "It was left untouched: update YOLO Desk to open it."
        )


def open_engine(db_path: Path) -> Engine:
    """Open (and create or upgrade) the library database at ``db_path``.

    Raises :class:`SchemaTooNew` or :class:`LibraryUnavailable`, in both cases without writing to the file.
    """
    try:
        current = examine(db_path)
    except LibraryUnavailable as e:
        if e.kind not in ("foreign", "malformed"):
            raise
        # A library another process is creating or migrating right now looks half-made (only alembic_version, or
        # some of our tables): judge it again once that process has let go of the creation lock.
        with creation_lock(db_path):
            current = examine(db_path)
    _refuse_newer(db_path, current)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    if current != HEAD:
        try:
            with creation_lock(db_path):
                current = examine(db_path)  # another process may have created or migrated it while we waited
                _refuse_newer(db_path, current)
                if current != HEAD:
                    migrate(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine
