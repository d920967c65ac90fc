"""Errors of the storage layer, and what SQLite's failures of the environment mean for the seller."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StorageError(Exception):
    """The environment failed (locked, unreadable, corrupt, disk full, too new): shown to the seller as is."""


class DatabaseBusyError(StorageError):
    """Another connection held the write lock for longer than the busy timeout."""


class DiskFullError(StorageError):
    """The disk (or the file system holding the database) is full; the transaction was rolled back."""


class DatabaseDamagedError(StorageError):
    """The file is not a readable SQLite database: damaged, truncated, or something else altogether."""


class ReadOnlyDatabaseError(StorageError):
    """The database file may not be written: its owner has no write permission, or the disk is read-only."""


# Primary result codes (the low byte of an extended code): https://www.sqlite.org/rescode.html
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_NOMEM = 7
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_PROTOCOL = 15
SQLITE_NOLFS = 22
SQLITE_AUTH = 23
SQLITE_NOTADB = 26


def _damaged_message(path: Path | str, detail: object) -> str:
    return (
        f"The database {path} is damaged ({detail}). Restore it from a backup, or move it aside and import "
        "your reports again into a new database."
    )


def _not_a_database_message(path: Path | str, detail: object) -> str:
    return (
        f"{path} is not a database of this app, or its first page is damaged ({detail}). If it is the "
        "right file, restore it from a backup, or move it aside and import "
        "your reports again into a new database."
    )


def translate(error: sqlite3.Error, path: Path | str, busy_timeout_s: float) -> StorageError | None:
    """The seller's message for an error of the environment, or None for an error of the program itself
    (a constraint, a misuse, bad SQL), which must stay a crash with its traceback."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    detail = str(error)
    if primary in (SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL):
        return DatabaseBusyError(
            f"The database is busy: another program (or another copy of the monitor) has been writing to {path} "
            f"for over {busy_timeout_s:g} s. Try again when it has finished."
        )
    if primary == SQLITE_FULL:
        return DiskFullError(
            f"The disk is full: the database {path} could not grow, and nothing of this change was kept. "
            "Free some space, then try again."
        )
    if primary == SQLITE_CORRUPT:
        return DatabaseDamagedError(_damaged_message(path, detail))
    if primary == SQLITE_NOTADB:
        return DatabaseDamagedError(_not_a_database_message(path, detail))
    if primary == SQLITE_READONLY:
        return ReadOnlyDatabaseError(
            f"The database {path} cannot be written ({detail}): the file or its disk is read-only. Nothing was changed."
        )
    if primary == SQLITE_IOERR:
        return StorageError(
            f"The database {path} could not be read or written ({detail}). Check the disk it is on "
            "(a removed drive, a network folder that went away), then try again."
        )
    if primary in (SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH, SQLITE_NOLFS):
        return StorageError(f"Cannot open the database {path} ({detail}). Check the file and its folder.")
    if primary == SQLITE_NOMEM:
        return StorageError(f"Out of memory while using the database {path}. Close other programs and try again.")
    return None
