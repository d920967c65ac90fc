"""Writers wait for each other: another process holding the write lock delays a write instead of failing it.

Every lock here is held by a real second process (`BEGIN IMMEDIATE` on the same file), as another copy of
the monitor or another program would. A write transaction must wait for it, within the busy timeout, and
a lock that outlasts the timeout must end as a plain StorageError (and an `error:` line from the command
line) with nothing of the write stored.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storage import DatabaseBusyError, StorageError, open_db, write_transaction
from storage.db import BUSY_TIMEOUT_ENV
from storage.migrations import MIGRATIONS
from tests.conftest import ROOT
from tests.report_files import state_of_file

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


class WriteLock:
    """Another process holding the database's write lock from `with` until `release()` (or the end)."""

    def __init__(self, path: Path):
        self.path = path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> WriteLock:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(self.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "held"
        return self

    def release(self) -> None:
        if self.process.returncode is None:
            self.process.communicate("\n", timeout=60)
        assert self.process.returncode == 0

    def __exit__(self, *exc) -> None:
        self.release()


def main_py(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_until_waiting(process: subprocess.Popen, path: Path) -> None:
    """Until `process` has opened the database and got to its write (where it waits for the lock).

    It must still be running then: failing at once is what a deferred transaction does.
    """
    fds = Path(f"/proc/{process.pid}/fd")
    if fds.parent.is_dir():
        target = os.path.realpath(path)
        deadline = time.monotonic() + 60
        while not _has_open(fds, target):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the command never opened the database"
            time.sleep(0.02)
        time.sleep(0.7)  # from opening to its first write takes milliseconds
    else:
        time.sleep(3)
    assert process.poll() is None, f"it did not wait for the lock: {process.communicate()}"


def _has_open(fds: Path, target: str) -> bool:
    try:
        return any(os.readlink(fd) == target for fd in fds.iterdir())
    except OSError:  # a descriptor closed while listing
        return False


def new_database(path: Path) -> Path:
    open_db(path).close()
    return path


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
    finally:
        conn.close()


# --- write_transaction in this process ----------------------------------------------------------------------


def test_a_write_waits_for_another_process_holding_the_lock(db_path):
    db = open_db(new_database(db_path))
    try:
        with WriteLock(db_path) as lock:
            releaser = threading.Timer(1.0, lock.release)
            started = time.monotonic()
            releaser.start()
            try:
                with write_transaction(db):
                    # Reading first is what turns a deferred transaction's wait into an immediate failure.
                    assert db.execute("SELECT count(*) FROM settings").fetchone() == (0,)
                    db.execute("INSERT INTO settings (key, value) VALUES ('after_the_lock', '1')")
            finally:
                releaser.join()
            waited = time.monotonic() - started
        assert waited >= 0.9
        assert count(db_path, "settings") == 1  # committed, seen by another connection
    finally:
        db.close()


def test_a_lock_outlasting_the_timeout_is_a_clear_error_and_stores_nothing(db_path):
    db = open_db(new_database(db_path), busy_timeout_s=0.3)
    ran = []
    try:
        with WriteLock(db_path):
            started = time.monotonic()
            with pytest.raises(DatabaseBusyError) as caught, write_transaction(db):
                ran.append(True)
                db.execute("INSERT INTO settings (key, value) VALUES ('never', '1')")
            waited = time.monotonic() - started
        message = str(caught.value)
        assert message.startswith("The database is busy: another program (or another copy of the monitor)")
        assert str(db_path) in message and "over 0.3 s" in message and "Try again" in message
        assert waited >= 0.25  # it waited for the timeout: it did not fail at once
        assert ran == [] and not db.conn.in_transaction
        assert count(db_path, "settings") == 0
        with write_transaction(db):  # the lock gone, the same connection writes again
            db.execute("INSERT INTO settings (key, value) VALUES ('later', '1')")
        assert count(db_path, "settings") == 1
    finally:
        db.close()


def test_a_nested_write_transaction_undoes_only_its_own_block(db):
    def keys() -> list[str]:
        return [row[0] for row in db.execute("SELECT key FROM settings ORDER BY key")]

    with write_transaction(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        with pytest.raises(ValueError), write_transaction(db):
            db.execute("INSERT INTO settings (key, value) VALUES ('b', '1')")
            raise ValueError("the inner block fails")
        with write_transaction(db):
            db.execute("INSERT INTO settings (key, value) VALUES ('c', '1')")
    assert keys() == ["a", "c"]

    with pytest.raises(ValueError), write_transaction(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('d', '1')")
        with write_transaction(db):
            db.execute("INSERT INTO settings (key, value) VALUES ('e', '1')")
        raise ValueError("the outer block fails after the inner one succeeded")
    assert keys() == ["a", "c"]
    assert not db.conn.in_transaction


def test_a_fault_of_the_program_passes_unchanged_and_rolls_back(db):
    with pytest.raises(sqlite3.IntegrityError), write_transaction(db):
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '1')")
        db.execute("INSERT INTO settings (key, value) VALUES ('a', '2')")
    assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 0
    assert not db.conn.in_transaction


def test_the_busy_timeout_comes_from_the_environment(db_path, monkeypatch):
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "0.25")
    db = open_db(db_path)
    try:
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 250
    finally:
        db.close()
    monkeypatch.setenv(BUSY_TIMEOUT_ENV, "soon")
    with pytest.raises(StorageError, match=BUSY_TIMEOUT_ENV):
        open_db(db_path)


# --- the command line, in separate processes -----------------------------------------------------------------


def test_an_import_waits_for_another_process_and_succeeds(samples, db_path):
    new_database(db_path)
    with WriteLock(db_path) as lock:
        importing = main_py("import", "--db", str(db_path), str(samples / "claims.csv"))
        wait_until_waiting(importing, db_path)
        lock.release()
        out, err = importing.communicate(timeout=120)
    assert importing.returncode == 0, err
    assert "12 added" in out
    assert count(db_path, "claims") == 12


def test_two_imports_at_once_both_succeed(samples, db_path):
    new_database(db_path)
    with WriteLock(db_path) as lock:
        orders = main_py("import", "--db", str(db_path), str(samples / "all-orders.txt"))
        feedback = main_py("import", "--db", str(db_path), str(samples / "seller-feedback.txt"))
        wait_until_waiting(orders, db_path)
        wait_until_waiting(feedback, db_path)
        lock.release()  # both want the lock now: one writes, the other waits for it
        results = [process.communicate(timeout=120) for process in (orders, feedback)]
    assert [orders.returncode, feedback.returncode] == [0, 0], results
    assert count(db_path, "orders") > 0 and count(db_path, "feedback") > 0
    conn = sqlite3.connect(db_path)
    try:
        logged = sorted(conn.execute("SELECT file_name, outcome FROM import_log"))
    finally:
        conn.close()
    assert logged == [("all-orders.txt", "imported"), ("seller-feedback.txt", "imported")]


def test_an_import_gives_up_with_a_message_when_the_lock_outlasts_the_timeout(samples, db_path):
    new_database(db_path)
    before = state_of_file(db_path)
    with WriteLock(db_path):
        importing = main_py("import", "--db", str(db_path), str(samples / "claims.csv"), env={BUSY_TIMEOUT_ENV: "0.5"})
        out, err = importing.communicate(timeout=120)
    assert importing.returncode == 2
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "claims.csv was not imported" in err
    assert "The database is busy: another program (or another copy of the monitor)" in err
    assert "over 0.5 s" in err
    assert out == ""
    assert state_of_file(db_path) == before  # nothing of the file, not even a line in the import log


def test_copies_of_the_app_opening_a_new_database_at_once_all_succeed(tmp_path):
    """Several processes creating the same new file: one switches it to WAL and migrates it, the others
    wait for that and find the schema in place (neither "database is locked" nor "table already exists")."""
    path = tmp_path / "new.db"
    path.touch(mode=0o600)
    with WriteLock(path) as lock:  # holds every opener back until all have started
        openers = [main_py("config", "get", "timezone", "--db", str(path)) for _ in range(6)]
        for opener in openers:
            wait_until_waiting(opener, path)
        lock.release()
        results = [opener.communicate(timeout=120) for opener in openers]
    assert [opener.returncode for opener in openers] == [0] * 6, results
    assert {out.strip() for out, _err in results} == {'"UTC"'}
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(MIGRATIONS)
    finally:
        conn.close()
