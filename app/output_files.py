"""Files the monitor writes where the seller chose (the triage list as CSV, the printable report, the settings
file), written so that a wrong choice in a save dialog cannot harm the database.

A save dialog happily offers the database itself, or its `-wal`/`-journal` file: writing there would
overwrite the seller's history, or leave a journal SQLite would later roll into the database
(sqlite.org/howtocorrupt.html §1.3, §2.2). Those names are refused, recognised without opening them. The
text is written to a temporary file beside the target and renamed over it, so a full disk leaves the old
file as it was rather than half a new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from storage.db import DATABASE_SUFFIXES, DatabaseFiles, is_read_only

SQLITE_HEADER = b"SQLite format 3\x00"


class OutputRefused(ValueError):
    """A target the monitor will not write, said so the seller can choose another."""


def check_target(path: str | Path, database: str | Path) -> None:
    """OutputRefused when `path` is the monitor's database, one of SQLite's files beside it, or SQLite's
    companion file of any other database (`x.db-wal` next to `x.db`)."""
    target = Path(path)
    if DatabaseFiles(database).holds(target):
        raise OutputRefused(f"{target.name} is the monitor's own database: choose another file name")
    for suffix in DATABASE_SUFFIXES:
        if suffix and target.name.endswith(suffix) and target.with_name(target.name[: -len(suffix)]).exists():
            raise OutputRefused(f"{target.name} belongs to the database beside it: choose another file name")
    if target.is_dir():
        raise OutputRefused(f"{target} is a folder: choose a file name")
    if target.is_file():
        if is_read_only(target):
            raise OutputRefused(f"{target.name} is read-only: choose another file name")
        if _starts_with(target, SQLITE_HEADER):  # another seller account's database, say
            raise OutputRefused(f"{target.name} is a database: choose another file name")


def _starts_with(path: Path, header: bytes) -> bool:
    """Whether the file begins with `header`. Never called on the monitor's own database (refused above by
    name or identity): opening another file drops no lock on this one."""
    try:
        with open(path, "rb") as existing:
            return existing.read(len(header)) == header
    except OSError:
        return False


def write_text(path: str | Path, text: str, database: str | Path, *, encoding: str = "utf-8") -> None:
    """Write `text` to `path` whole, or not at all; OutputRefused for the database's files, OSError (naming
    `path`) when the disk refuses."""
    check_target(path, database)
    given = Path(path)
    try:
        if given.exists() and not given.is_file():  # a device or a pipe (/dev/stdout): written in place
            with open(given, "w", encoding=encoding, newline="") as out:
                out.write(text)
        else:  # through a link, to the file it names
            _replace_whole(Path(os.path.realpath(given)), text, encoding)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from error


def _replace_whole(target: Path, text: str, encoding: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _mode_of(target))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_of(target: Path) -> int:
    """The mode a replaced file had; a new one is readable by the seller only, like the database."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o600
