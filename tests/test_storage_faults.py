"""When the file or the disk fails, storage says so plainly and leaves the seller's file as it was.

A full disk (SQLite's page limit stands in for it) rolls a whole import back; a damaged file, a file from
a newer version and a file its owner made read-only (chmod 0444) are refused with a message naming the
file, before anything about it changes: bytes, permissions and journal mode. Tests run as root, whom
permissions do not stop, so they check what the app does, not what the system refused.
"""

from __future__ import annotations

import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest

from app.imports import BATCH_ROWS, import_files
from storage import (
    DatabaseDamagedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StorageError,
    environment_error,
    open_db,
    write_transaction,
)
from storage.migrations import MIGRATIONS
from tests.conftest import SAMPLES
from tests.report_files import import_one, state_of_file, table_state
from tests.test_import_atomicity import generated_rows, large_orders

PAGE = 4096


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def journal_mode(path: Path) -> str:
    """From the header (bytes 18 and 19: 1 rollback journal, 2 WAL), without opening the file."""
    return {1: "delete", 2: "wal"}[path.read_bytes()[18]]


def damage(path: Path, *, schema_too: bool = True) -> None:
    """Overwrite with junk every page after the first, or (`schema_too=False`) the root page of every table
    and index, which leaves the schema readable: the file opens, and reading any record fails."""
    pages: range | list[int] = range(1, path.stat().st_size // PAGE)
    if not schema_too:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            pages = [row[0] - 1 for row in conn.execute("SELECT rootpage FROM sqlite_master WHERE rootpage > 1")]
        finally:
            conn.close()
    junk = random.Random(7)
    with open(path, "r+b") as handle:
        for page in pages:
            handle.seek(page * PAGE)
            handle.write(junk.randbytes(PAGE))


def newer_database(path: Path) -> Path:
    """A rollback-journal (DELETE) database written by a future version of the app."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 7}")
        conn.commit()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    path.chmod(0o644)
    return path


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


# --- a full disk --------------------------------------------------------------------------------------------


def test_a_full_disk_rolls_the_whole_import_back(seller_copy, tmp_path):
    big = large_orders(SAMPLES, tmp_path / "big.txt", 3 * BATCH_ROWS)
    db = open_db(seller_copy)
    try:
        before = table_state(db)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 20}")  # room for a few batches' log, not for the file
        with pytest.raises(DiskFullError) as caught:
            import_files(db, [big])
        message = str(caught.value)
        assert message.startswith("The disk is full:")
        assert str(seller_copy) in message and "nothing of this change was kept" in message
        assert not db.conn.in_transaction
        assert table_state(db) == before
        assert generated_rows(db) == 0
        db.execute("PRAGMA max_page_count = 1073741823")  # space again: the same connection goes on
        assert import_one(db, SAMPLES / "claims.csv").outcome == "imported"
    finally:
        db.close()
    state_of_file(seller_copy)  # integrity_check is ok


# --- a damaged file -----------------------------------------------------------------------------------------


def test_a_file_with_a_junk_header_is_refused_untouched(seller_copy):
    with open(seller_copy, "r+b") as handle:
        handle.write(b"this is no database, just junk...")
    before = seller_copy.read_bytes()
    with pytest.raises(DatabaseDamagedError) as caught:
        open_db(seller_copy)
    assert str(seller_copy) in str(caught.value) and "not a database" in str(caught.value)
    assert "backup" in str(caught.value)
    assert seller_copy.read_bytes() == before


def test_a_file_damaged_throughout_is_refused_on_opening(seller_copy):
    damage(seller_copy)
    before = seller_copy.read_bytes()
    with pytest.raises(DatabaseDamagedError) as caught:
        open_db(seller_copy)
    assert str(caught.value).startswith(f"The database {seller_copy} is damaged (database disk image is malformed)")
    assert "Restore it from a backup" in str(caught.value)
    assert seller_copy.read_bytes() == before


def test_a_damaged_table_is_a_storage_error_naming_the_file(seller_copy):
    damage(seller_copy, schema_too=False)
    before = seller_copy.read_bytes()
    db = open_db(seller_copy)  # the schema is intact: opening works, reading the tables does not
    try:
        with pytest.raises(sqlite3.DatabaseError) as caught:
            db.execute("SELECT count(*) FROM orders").fetchone()
        translated = environment_error(caught.value, db)
        assert isinstance(translated, DatabaseDamagedError)
        assert str(translated).startswith(f"The database {seller_copy} is damaged (database disk image is malformed)")
        with pytest.raises(DatabaseDamagedError), write_transaction(db):
            db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        assert not db.conn.in_transaction
    finally:
        db.close()
    assert seller_copy.read_bytes() == before


# --- a file from a newer version ----------------------------------------------------------------------------


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_database_is_refused_before_anything_changes(tmp_path, read_only):
    path = newer_database(tmp_path / "future.db")
    before = path.read_bytes()
    with pytest.raises(StorageError) as caught:
        open_db(path, read_only=read_only)
    message = str(caught.value)
    assert str(path) in message and "newer than this app understands" in message and "Update the app" in message
    assert journal_mode(path) == "delete"  # not switched to WAL
    assert path.read_bytes() == before
    assert mode(path) == 0o644  # not made private either: the file is not the app's to change
    assert siblings(path) == ["future.db"]


# --- a read-only file ---------------------------------------------------------------------------------------


def test_a_read_only_file_is_not_made_writable(seller_copy):
    seller_copy.chmod(0o444)
    before = seller_copy.read_bytes()
    with pytest.raises(ReadOnlyDatabaseError) as caught:
        open_db(seller_copy)
    assert str(caught.value).startswith(f"The database {seller_copy} is read-only")
    assert mode(seller_copy) == 0o444
    assert seller_copy.read_bytes() == before
    assert siblings(seller_copy) == ["health.db"]


def test_a_read_only_file_opens_read_only_as_it_is(seller_file, seller_copy):
    expected = state_of_file(seller_file)
    seller_copy.chmod(0o444)
    before = seller_copy.read_bytes()
    db = open_db(seller_copy, read_only=True)
    try:
        assert table_state(db) == expected
        with pytest.raises(sqlite3.OperationalError) as caught:
            db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        assert isinstance(environment_error(caught.value, db), ReadOnlyDatabaseError)
    finally:
        db.close()
    assert mode(seller_copy) == 0o444
    assert seller_copy.read_bytes() == before
    assert journal_mode(seller_copy) == "wal"
    assert siblings(seller_copy) == ["health.db"]  # no -wal or -shm left beside it


def test_a_read_only_file_with_an_older_schema_asks_to_be_opened_writable_once(tmp_path):
    path = tmp_path / "old.db"
    old = open_db(path, migrate_schema=False)
    try:
        MIGRATIONS[0][1](old)
        old.execute("PRAGMA user_version = 1")
    finally:
        old.close()
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(StorageError) as caught:
        open_db(path, read_only=True)
    message = str(caught.value)
    assert str(path) in message and "older version" in message and "once with write permission" in message
    assert path.read_bytes() == before and mode(path) == 0o444

    path.chmod(0o600)  # what the message asks for: then it is brought up to date
    open_db(path).close()
    path.chmod(0o444)
    open_db(path, read_only=True).close()


def test_reading_read_only_needs_an_existing_file(tmp_path):
    with pytest.raises(StorageError, match="There is no database"):
        open_db(tmp_path / "missing.db", read_only=True)
    assert not (tmp_path / "missing.db").exists()


def test_choosing_another_programs_database_is_refused_and_leaves_it_as_it_was(tmp_path):
    from storage.db import check_usable

    other = tmp_path / "bookmarks.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.execute("INSERT INTO bookmarks VALUES ('https://example.com')")
    conn.commit()
    conn.close()
    os.chmod(other, 0o644)
    before = other.read_bytes()
    with pytest.raises(StorageError, match="another program"):
        check_usable(other)
    assert other.read_bytes() == before and stat.S_IMODE(other.stat().st_mode) == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bookmarks.sqlite"]
    with pytest.raises(StorageError, match="does not exist"):
        check_usable(tmp_path / "no-such-folder" / "health.db")
    check_usable(tmp_path / "new.db")  # a new file in an existing folder is fine, and is not created yet
    assert not (tmp_path / "new.db").exists()
    own = tmp_path / "health.db"
    open_db(own).close()
    check_usable(own)
