"""Opening the monitor's SQLite database: where it lives, who may read it, WAL, migrations.

One connection per thread: `open_db` returns a new `sqlite_utils.Database` whose connection refuses
use from any other thread (sqlite3's default `check_same_thread`), so a worker thread opens its own.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs
import sqlite_utils

from storage.errors import StorageError
from storage.migrations import migrate

APP_NAME = "account-health-monitor"
DB_ENV = "AHM_DB"
DB_FILE_NAME = "health.db"


def default_db_path() -> Path:
    """The database path: `$AHM_DB` when set, else the platform's per-user data folder."""
    configured = os.environ.get(DB_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILE_NAME


def _create_private_file(path: Path) -> None:
    """Create the database file readable by its owner only.

    SQLite gives its -wal and -shm files the database file's permissions, so creating the main file
    with 0600 before SQLite touches it keeps all three private without changing the process umask.
    """
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def open_db(path: str | Path | None = None, *, migrate_schema: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    Raises:
        StorageError: the file cannot be created, opened or is not a database of this app.
    """
    path = Path(path) if path is not None else default_db_path()
    try:
        _create_private_file(path)
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        db = sqlite_utils.Database(conn)
        if db.journal_mode != "wal":
            with db.ensure_autocommit_on():
                conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        if migrate_schema:
            migrate(db)
        return db
    except sqlite3.DatabaseError as error:
        raise StorageError(f"Cannot open the database {path}: {error}") from error
    except OSError as error:
        raise StorageError(f"Cannot create the database {path}: {error.strerror or error}") from error
