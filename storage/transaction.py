"""Write transactions that wait for other writers instead of failing at once.

sqlite-utils' `atomic()` opens a deferred `BEGIN`: the transaction reads first and asks for the write lock
only at its first write. If another connection holds that lock then, SQLite cannot wait for it (its
snapshot may already be stale) and reports "database is locked" at once, whatever the busy timeout.
`BEGIN IMMEDIATE` takes the write lock first, so the busy timeout applies and the transaction waits.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

from storage.errors import StorageError, translate


def database_path(db: sqlite_utils.Database) -> str:
    """The main database file of the connection (for messages)."""
    try:
        for _seq, name, file in db.conn.execute("PRAGMA database_list"):
            if name == "main":
                return file or "(in memory)"
    except sqlite3.Error:
        pass
    return "(unknown file)"


def busy_timeout_s(db: sqlite_utils.Database) -> float:
    try:
        return db.conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
    except sqlite3.Error:
        return 0.0


def environment_error(error: sqlite3.Error, db: sqlite_utils.Database) -> StorageError | None:
    """`error` as the seller's StorageError, or None when it is a fault of the program (see `translate`)."""
    return translate(error, database_path(db), busy_timeout_s(db))


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """Run the block in one write transaction: all of it is committed, or nothing when it raises.

    Starts with `BEGIN IMMEDIATE`, waiting up to the connection's busy timeout for another writer.
    Inside a transaction already open, the block becomes a savepoint of it: its failure undoes only the
    block, and the outer transaction decides about the rest.

    Raises:
        StorageError: the environment failed (the lock outlasted the timeout, the disk is full, the file
            is damaged or read-only); the transaction was rolled back. Other errors pass unchanged.
    """
    conn = db.conn
    if conn.in_transaction:
        yield from _savepoint(db)
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        _raise_converted(error, db)
        raise
    try:
        yield db
        conn.execute("COMMIT")
    except BaseException as error:
        _undo(conn, "ROLLBACK")
        if isinstance(error, sqlite3.Error):
            _raise_converted(error, db)
        raise


def _savepoint(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    conn = db.conn
    name = f"ahm_{secrets.token_hex(8)}"
    try:
        conn.execute(f"SAVEPOINT {name}")
    except sqlite3.Error as error:
        _raise_converted(error, db)
        raise
    try:
        yield db
        conn.execute(f"RELEASE SAVEPOINT {name}")
    except BaseException as error:
        # Some failures (SQLITE_FULL, an IO error) end the whole transaction and its savepoints with it.
        if conn.in_transaction:
            _undo(conn, f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")
        if isinstance(error, sqlite3.Error):
            _raise_converted(error, db)
        raise


def _undo(conn: sqlite3.Connection, *statements: str) -> None:
    # A rollback that fails too must not hide the error that caused it.
    try:
        for statement in statements:
            if conn.in_transaction:
                conn.execute(statement)
    except sqlite3.Error:
        pass


def _raise_converted(error: sqlite3.Error, db: sqlite_utils.Database) -> None:
    """Raise the StorageError for `error` if the environment caused it; return for a fault of the program."""
    converted = environment_error(error, db)
    if converted is not None:
        raise converted from error
