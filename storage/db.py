"""Opening the monitor's SQLite database: where it lives, who may read it, WAL, migrations.

One connection per thread: `open_db` returns a new `sqlite_utils.Database` whose connection refuses
use from any other thread (sqlite3's default `check_same_thread`), so a worker thread opens its own.

A file the app cannot use is left exactly as it was: a newer schema is refused before the journal mode or
the permissions change, and a file its owner may not write is never made writable behind the seller's
back; it can be opened read-only instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import stat
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import platformdirs
import sqlite_utils

from storage.errors import SQLITE_BUSY, ReadOnlyDatabaseError, StorageError, translate
from storage.migrations import MIGRATIONS, migrate, refuse_newer, schema_version
from storage.transaction import environment_error, write_transaction

APP_NAME = "account-health-monitor"
DB_ENV = "AHM_DB"
DB_FILE_NAME = "health.db"
BUSY_TIMEOUT_ENV = "AHM_BUSY_TIMEOUT_S"
DEFAULT_BUSY_TIMEOUT_S = 30.0

__all__ = [
    "APP_NAME",
    "BUSY_TIMEOUT_ENV",
    "DB_ENV",
    "busy_timeout_from_env",
    "default_db_path",
    "environment_error",
    "is_read_only",
    "open_db",
    "write_transaction",
]


def default_db_path() -> Path:
    """The database path: `$AHM_DB` when set, else the platform's per-user data folder."""
    configured = os.environ.get(DB_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / DB_FILE_NAME


def busy_timeout_from_env() -> float:
    """How long a write waits for another writer: `$AHM_BUSY_TIMEOUT_S` seconds when set, else 30."""
    text = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds >= 0):
        raise StorageError(f"{BUSY_TIMEOUT_ENV}={text!r} is not a number of seconds (0 or more).")
    return seconds


# A file beside the database that every process with it open holds a shared lock on, so that removing a
# seller account can tell that a window, an import or a command still has its database open (deleting a
# file in use loses what that process writes next). A lock on a file of its own: opening or closing the
# database file itself a second time would drop SQLite's own locks (sqlite.org/howtocorrupt.html §2.2).
OPEN_LOCK_SUFFIX = ".lock"
# Where flock is emulated with POSIX locks (NFS), closing any descriptor of the lock file drops the lock: the
# lock file is never opened as a report either.
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal", OPEN_LOCK_SUFFIX)


class DatabaseInUse(StorageError):
    """The database is being removed, or (`exclusive_use`) another process has it open."""


def hold_open_lock(db: sqlite_utils.Database, path: Path, *, create: bool = True) -> None:
    """Hold the database's shared open-lock as long as the connection (POSIX; Windows has no shared flock).

    A lock file that cannot be made (a read-only folder) only leaves the database unguarded. A reader
    (`create` False) makes none, so a read-only look leaves nothing behind: it writes nothing a removal
    could lose."""
    try:
        import fcntl
    except ImportError:
        return
    try:
        descriptor = os.open(f"{path}{OPEN_LOCK_SUFFIX}", os.O_RDWR | (os.O_CREAT if create else 0), 0o600)
    except OSError:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        raise DatabaseInUse(
            f"The database {path} is being removed with its account; it cannot be opened now."
        ) from None
    released = False
    close = db.close

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            os.close(descriptor)

    def close_and_release() -> None:
        try:
            close()
        finally:
            release()

    db.close = close_and_release
    weakref.finalize(db, release)


@contextlib.contextmanager
def exclusive_use(path: Path) -> Iterator[None]:
    """The database to this process alone while the block runs, or DatabaseInUse when another process has
    it open (POSIX; elsewhere the block runs unguarded)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    descriptor = os.open(f"{path}{OPEN_LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DatabaseInUse(f"The database {path} is open in another process.") from None
        yield
    finally:
        os.close(descriptor)


class DatabaseFiles:
    """The database at `db_path` and SQLite's files beside it (-wal, -shm, -journal), recognised by name or
    as the same file under another name (a hard link, another path to the folder).

    Opening and closing any of these in a process that has a connection drops all that process's SQLite
    locks (sqlite.org/howtocorrupt.html §2.2), so the monitor never reads them as reports. Only `stat` is
    used: recognising a file opens nothing.
    """

    def __init__(self, db_path: str | Path):
        self.names = {os.path.realpath(f"{db_path}{suffix}") for suffix in DATABASE_SUFFIXES}
        self.identities = set()
        for name in self.names:
            try:
                found = os.stat(name)
            except OSError:  # not there (yet): known by its name
                continue
            self.identities.add((found.st_dev, found.st_ino))

    def holds(self, path: str | Path, stat: os.stat_result | None = None) -> bool:
        if os.path.realpath(path) in self.names:
            return True
        try:
            stat = stat or os.stat(path)
        except OSError:
            return False
        return (stat.st_dev, stat.st_ino) in self.identities


def is_read_only(path: str | Path) -> bool:
    """Whether the file's owner lacks the write permission bit (False when there is no file).

    The bits, not os.access(): for root every file is writable, yet a seller who ran `chmod 0444` on the
    database meant it to stay unchanged.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StorageError(f"Cannot open the database {path}: {error.strerror or error}") from error
    return not mode & stat.S_IWUSR


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


def _connect(target: str | Path, timeout: float, *, uri: bool = False) -> sqlite_utils.Database:
    conn = sqlite3.connect(target, timeout=timeout, uri=uri)
    try:
        conn.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")
        return sqlite_utils.Database(conn)
    except BaseException:
        conn.close()
        raise


def _use_wal(db: sqlite_utils.Database, timeout: float) -> None:
    """Switch the file to WAL, waiting up to `timeout` for other connections.

    The switch needs the file to itself, and SQLite fails it at once, without its busy handler, while
    another process is reading the file (as several copies of the app opening a new database at the same
    moment do): retry until the timeout instead.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while db.journal_mode != "wal":
        try:
            with db.ensure_autocommit_on():
                db.conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", 0) & 0xFF != SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


def open_db(
    path: str | Path | None = None,
    *,
    migrate_schema: bool = True,
    read_only: bool = False,
    busy_timeout_s: float | None = None,
) -> sqlite_utils.Database:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    `read_only`: open an existing file without changing anything in it: no migration, no change of
    permissions or journal mode; every write through the connection fails. `busy_timeout_s`: how long a
    write waits for another writer before failing with DatabaseBusyError (default: `busy_timeout_from_env`).

    Raises:
        ReadOnlyDatabaseError: opened for writing, but the file's owner has no write permission.
        StorageError: the file cannot be created, opened, is damaged, is not a database of this app, is
            from a newer version, or (read-only) has an older schema that only a writable open updates.
    """
    path = Path(path) if path is not None else default_db_path()
    timeout = busy_timeout_from_env() if busy_timeout_s is None else busy_timeout_s
    if read_only:
        return _open_read_only(path, timeout)
    db = None
    try:
        if is_read_only(path):
            raise ReadOnlyDatabaseError(
                f"The database {path} is read-only: its owner has no permission to write to it, so nothing "
                "can be changed in it. Make it writable (for example chmod u+w) to change it."
            )
        _create_private_file(path)
        db = _connect(path, timeout)
        refuse_newer(db, path)
        hold_open_lock(db, path)
        os.chmod(path, 0o600)
        _use_wal(db, timeout)
        db.conn.execute("PRAGMA foreign_keys = ON")
        db.conn.execute("PRAGMA synchronous = NORMAL")
        if migrate_schema:
            migrate(db)
        return db
    except BaseException as error:
        _give_up_opening(error, db, path, timeout)


def check_usable(path: str | Path) -> None:
    """Whether the monitor could use `path` as its database, asked without changing anything: an existing
    file must be empty or a database of this monitor no newer than this version; a new file needs a folder.

    Raises:
        StorageError: it cannot be used; the message says why.
    """
    path = Path(path)
    if not path.exists():
        if not path.parent.is_dir():
            raise StorageError(f"Cannot create the database {path}: the folder {path.parent} does not exist.")
        return
    if not path.is_file():
        raise StorageError(f"{path} is not a file.")
    if path.stat().st_size == 0:
        return
    db = None
    try:
        db = _connect(f"{path.resolve().as_uri()}?mode=ro", 0, uri=True)
        refuse_newer(db, path)
        if not db.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'").fetchone():
            raise StorageError(f"{path} is a database of another program, not of this monitor; nothing was changed.")
    except BaseException as error:
        _give_up_opening(error, db, path, 0)
    db.close()


def _open_read_only(path: Path, timeout: float) -> sqlite_utils.Database:
    if not path.is_file():
        raise StorageError(f"There is no database at {path}.")
    # A read-only connection to a WAL file creates -wal and -shm files beside it. When the seller made the
    # file read-only and no -wal or -journal file exists, every committed change is in the main file and
    # nothing will write it (open_db refuses to): `immutable` reads it without leaving files behind.
    pending = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
    query = "mode=ro&immutable=1" if is_read_only(path) and not pending else "mode=ro"
    db = None
    try:
        db = _connect(f"{path.resolve().as_uri()}?{query}", timeout, uri=True)
        hold_open_lock(db, path, create=False)
        refuse_newer(db, path)
        version = schema_version(db)
        if version < len(MIGRATIONS):
            raise StorageError(
                f"The database {path} has the schema of an older version of the monitor (version {version}, "
                f"this version needs {len(MIGRATIONS)}), and it was opened read-only, so it cannot be updated. "
                "Open it once with write permission to update it; nothing was changed."
            )
        db.conn.execute("PRAGMA query_only = ON")
        return db
    except BaseException as error:
        _give_up_opening(error, db, path, timeout)


def _give_up_opening(error: BaseException, db: sqlite_utils.Database | None, path: Path, timeout: float) -> NoReturn:
    """Close what was opened, then raise `error` as the seller's StorageError, or as it is (a bug)."""
    if db is not None:
        db.close()
    converted = _open_error(error, path, timeout)
    if converted is None:
        raise error
    raise converted from error


def _open_error(error: BaseException, path: Path, timeout: float) -> StorageError | None:
    """The StorageError to raise for a failure while opening; None to let `error` pass as it is."""
    if isinstance(error, sqlite3.Error):
        return translate(error, path, timeout) or StorageError(
            f"Cannot open the database {path}: {error}. It may not be a database of this app."
        )
    if isinstance(error, OSError):
        return StorageError(f"Cannot create the database {path}: {error.strerror or error}")
    return None
