"""Open the library database: SQLite in WAL mode with foreign keys, migrated by Alembic at start-up.

A database whose schema revision this app does not know was written by a newer YOLO
Desk: it is refused before anything touches it (no pragma, no migration).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Every revision this app knows, oldest first; the last one is head (a test checks it against Alembic's scripts).
REVISIONS = ["0001_initial", "0002_jobs", "0003_exports", "0004_workers", "0005_trusted"]
HEAD = REVISIONS[-1]


class SchemaTooNew(Exception):
    """The database was written by a newer YOLO Desk."""


def stored_revision(db_path: Path) -> str | None:
    """The Alembic revision stored in ``db_path`` (read-only look), or None for a new database."""
    if not db_path.exists():
        return None
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None  # no alembic_version table yet: a new, empty database
    finally:
        con.close()
    return row[0] if row else None


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


def open_engine(db_path: Path) -> Engine:
    """Open (and create or upgrade) the library database at ``db_path``."""
    current = stored_revision(db_path)
    if current is not None and current not in REVISIONS:
        raise SchemaTooNew(
            f"{db_path} was written by a newer YOLO Desk (schema {current}; this version knows up to {HEAD}). "
            "It was left untouched: update YOLO Desk to open it."
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    if current != HEAD:
        migrate(engine)
    return engine
