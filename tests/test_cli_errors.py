"""Every command meets a failing environment with one `error:` line and a non-zero exit, never a traceback.

Each command runs as the seller runs it, `python main.py …` in its own process, against a damaged file, a
file from a newer version, a read-only file (chmod 0444; the tests run as root, so what is checked is what
the app does, not what the system refused), a full disk, a closed pipe, a day out of range, a file that
cannot be written. A fault of the program itself must still crash with its traceback.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from tests.conftest import ROOT, SAMPLES
from tests.report_files import state_of_file
from tests.test_import_atomicity import large_orders
from tests.test_storage_faults import damage, journal_mode, mode, newer_database, siblings

AS_OF = "2026-11-08"
AT = "2026-11-09T00:00:00Z"
IMPORT = ("import", str(SAMPLES / "claims.csv"))
READING = {
    "metrics": ("metrics", "--as-of", AS_OF, "--json"),
    "clocks": ("clocks", "--at", AT, "--json"),
    "triage": ("triage", "--as-of", AS_OF, "--since", "2026-09-01", "--json"),
    "config get": ("config", "get", "timezone"),
}
WRITING = {
    "import": IMPORT,
    "demo": ("demo",),
    "config set": ("config", "set", "timezone", "Europe/Berlin"),
    "triage complete": ("triage", "complete"),
}
EVERY_COMMAND = READING | WRITING


def run(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args, "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def assert_clear_error(done: subprocess.CompletedProcess, *says: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
    for text in says:
        assert text in done.stderr


# --- the database file ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(EVERY_COMMAND.values()), ids=list(EVERY_COMMAND))
def test_a_damaged_database_is_named_with_what_to_do(seller_copy, command):
    damage(seller_copy, schema_too=False)
    before = seller_copy.read_bytes()
    done = run(seller_copy, *command)
    assert_clear_error(done, f"The database {seller_copy} is damaged (database disk image is malformed)", "backup")
    assert seller_copy.read_bytes() == before


@pytest.mark.parametrize("command", [READING["metrics"], IMPORT], ids=["metrics", "import"])
def test_a_file_that_is_no_database_is_named(seller_copy, command):
    with open(seller_copy, "r+b") as handle:
        handle.write(b"this is no database, just junk...")
    before = seller_copy.read_bytes()
    assert_clear_error(run(seller_copy, *command), f"{seller_copy} is not a database of this app")
    assert seller_copy.read_bytes() == before


@pytest.mark.parametrize("command", list(EVERY_COMMAND.values()), ids=list(EVERY_COMMAND))
def test_a_newer_database_is_refused_and_left_as_it_was(tmp_path, command):
    path = newer_database(tmp_path / "future.db")
    before = path.read_bytes()
    assert_clear_error(run(path, *command), str(path), "newer than this app understands", "Update the app")
    assert path.read_bytes() == before
    assert journal_mode(path) == "delete"
    assert mode(path) == 0o644
    assert siblings(path) == ["future.db"]


@pytest.mark.parametrize("command", list(READING.values()), ids=list(READING))
def test_reading_commands_read_a_read_only_file_as_it_is(seller_file, seller_copy, command):
    expected = run(seller_file, *command)
    assert expected.returncode == 0, expected.stderr
    seller_copy.chmod(0o444)
    before = seller_copy.read_bytes()
    done = run(seller_copy, *command)
    assert (done.returncode, done.stdout, done.stderr) == (0, expected.stdout, "")
    assert mode(seller_copy) == 0o444
    assert seller_copy.read_bytes() == before
    assert siblings(seller_copy) == ["health.db"]


@pytest.mark.parametrize("command", list(WRITING.values()), ids=list(WRITING))
def test_writing_commands_say_the_file_is_read_only(seller_copy, command):
    seller_copy.chmod(0o444)
    before = seller_copy.read_bytes()
    done = run(seller_copy, *command)
    assert_clear_error(done, f"The database {seller_copy} is read-only", "chmod u+w", "metrics, clocks")
    assert done.stdout == ""
    assert mode(seller_copy) == 0o444
    assert seller_copy.read_bytes() == before


def test_a_full_disk_during_an_import_keeps_nothing_of_the_file(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        db_path = small / "health.db"
        assert run(db_path, *IMPORT).returncode == 0
        before = state_of_file(db_path)
        big = large_orders(SAMPLES, tmp_path / "big-orders.txt", 20_000)  # several MB of rows: more than fits
        done = run(db_path, "import", str(big))
        assert_clear_error(done, f"The disk is full: {big}", "nothing of this file was kept", "Free some space")
        assert state_of_file(db_path) == before
    finally:
        subprocess.run(["umount", "-l", str(small)], check=True)


# --- the options and the output -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("metrics", "--as-of", "9999-12-31"),
        ("metrics", "--as-of", "0001-01-01", "--json"),
        ("triage", "--as-of", "9999-12-31"),
        ("triage", "--since", "0001-01-01", "--json"),
    ],
)
def test_a_day_out_of_range_says_which_days_are_accepted(seller_copy, command):
    done = run(seller_copy, *command)
    assert_clear_error(done, f"'{command[2]}' is out of range", "days from 2000-01-01 to 2999-12-31")
    assert done.stdout == ""


def test_an_instant_out_of_range_says_which_are_accepted(seller_copy):
    done = run(seller_copy, "clocks", "--at", "9999-12-31T23:59:59Z")
    assert_clear_error(done, "instants from 2000-01-01T00:00:00Z to 2999-12-31T23:59:59Z")


@pytest.mark.parametrize(
    "command",
    [
        ("metrics", "--as-of", "2000-01-01", "--json"),
        ("metrics", "--as-of", "2999-12-31", "--json"),
        ("triage", "--as-of", "2999-12-31", "--since", "2000-01-01", "--json"),
        ("triage", "--as-of", "2000-01-01", "--json"),
        ("clocks", "--at", "2000-01-01T00:00:00Z", "--json"),
        ("clocks", "--at", "2999-12-31T23:59:59Z", "--json"),
    ],
)
def test_the_first_and_last_accepted_days_work(seller_copy, command):
    done = run(seller_copy, *command)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("command", list(READING.values()), ids=list(READING))
def test_a_closed_pipe_ends_the_command_quietly(seller_copy, command):
    """`main.py metrics | head` where head has already gone: no traceback, no "Exception ignored"."""
    process = subprocess.Popen(
        [sys.executable, "main.py", *command, "--db", str(seller_copy)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.close()  # before the command has written anything
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 1
    assert stderr == ""


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux's /proc")
def test_triage_says_when_it_cannot_write_its_csv(seller_copy):
    done = run(seller_copy, "triage", "--as-of", AS_OF, "--csv", "/proc/self/triage.csv")
    assert_clear_error(done, "cannot write /proc/self/triage.csv: ")


def test_triage_leaves_a_read_only_file_as_it_is(seller_copy):
    done = run(seller_copy, "triage", "--as-of", AS_OF, "--csv", "/proc/version")
    assert_clear_error(done, "version is read-only: choose another file name")


def test_triage_says_when_the_folder_for_its_report_is_missing(seller_copy, tmp_path):
    target = tmp_path / "no such folder" / "report.html"
    done = run(seller_copy, "triage", "--as-of", AS_OF, "--html", str(target))
    assert_clear_error(done, f"cannot write {target}: No such file or directory")


# --- faults of the program stay loud --------------------------------------------------------------------------


def _command_failing_with(error: BaseException):
    def handler(args: argparse.Namespace) -> int:
        raise error

    return handler


def _sqlite_error(*statements: str) -> sqlite3.Error:
    conn = sqlite3.connect(":memory:")
    try:
        for statement in statements:
            conn.execute(statement)
    except sqlite3.Error as error:
        return error
    finally:
        conn.close()
    raise AssertionError("the statements did not fail")


@pytest.mark.parametrize(
    "error",
    [
        _sqlite_error("CREATE TABLE t (k PRIMARY KEY)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)"),
        _sqlite_error("SELECT * FROM no_such_table"),
        OverflowError("date value out of range"),
    ],
    ids=["constraint", "bad SQL", "overflow"],
)
def test_a_fault_of_the_program_is_not_turned_into_a_message(monkeypatch, tmp_path, error):
    monkeypatch.setitem(cli.COMMANDS, "metrics", _command_failing_with(error))
    args = argparse.Namespace(command="metrics", db=tmp_path / "health.db")
    with pytest.raises(type(error)):
        cli.run_command(args)


def test_an_environment_error_from_anywhere_becomes_the_message(monkeypatch, tmp_path, capsys):
    full = _sqlite_error("PRAGMA max_page_count = 1", "CREATE TABLE t (x)", "INSERT INTO t VALUES (zeroblob(10000))")
    assert full.sqlite_errorname == "SQLITE_FULL"
    monkeypatch.setitem(cli.COMMANDS, "metrics", _command_failing_with(full))
    args = argparse.Namespace(command="metrics", db=tmp_path / "health.db")
    assert cli.run_command(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The disk is full:") and err.count("\n") == 1


# --- settings far out of any window ---------------------------------------------------------------------------

YEAR_LONG = {
    "feedback_removal_days": "365",
    "fba_reimbursement_days": "365",
    "safet_claim_days": "365",
    "a_to_z_response_hours": "8760",
}


@pytest.mark.parametrize("key", list(YEAR_LONG))
def test_a_window_longer_than_a_year_is_refused(seller_copy, key):
    """A million days would put a window's end past the last date Python holds: every recomputation failed."""
    done = run(seller_copy, "config", "set", key, "1000000")
    assert_clear_error(done, "must be at most", "(a year)")


def test_windows_of_a_year_still_give_every_figure_clock_and_item(seller_copy):
    for key, most in YEAR_LONG.items():
        assert run(seller_copy, "config", "set", key, most).returncode == 0
    assert run(seller_copy, "config", "set", "alert_thresholds_hours", "[8760, 2]").returncode == 0
    for command in READING.values():
        done = run(seller_copy, *command)
        assert (done.returncode, done.stderr) == (0, ""), command
        assert done.stdout


def test_a_window_stored_before_windows_stopped_at_a_year_is_read_as_a_year(seller_copy):
    """A million days set through an older version's command line: every recomputation failed on it."""
    with sqlite3.connect(seller_copy) as conn:
        conn.execute("UPDATE settings SET value = '1000000' WHERE key = 'feedback_removal_days'")
        if not conn.total_changes:
            conn.execute("INSERT INTO settings (key, value) VALUES ('feedback_removal_days', '1000000')")
    conn.close()
    done = run(seller_copy, "config", "get", "feedback_removal_days")
    assert (done.returncode, done.stdout.split()[-1]) == (0, "365"), (done.stdout, done.stderr)
    for command in READING.values():
        done = run(seller_copy, *command)
        assert (done.returncode, done.stderr) == (0, ""), command
