"""Bad input: files that are not reports are refused, bad rows are rejected with their line number.

A refusal leaves the database exactly as it was (every table compared) and is written to the import log
with its reason; a rejected row leaves the rest of its file to import as if the row were not there.
The command line exits 0 when every file was recognised and 1 when any was refused.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.importers import ACCEPTED
from app.imports import import_files
from storage import open_db
from tests.conftest import ROOT, SAMPLE_FILES
from tests.report_files import Flat, import_log, import_one, table_state

# --- files that are not reports: one builder each, from the samples ----------------------------------


def truncated_gzip(samples: Path, folder: Path) -> Path:
    data = gzip.compress((samples / "all-orders.txt").read_bytes())
    path = folder / "all-orders.txt.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def truncated_gzip_after_the_first_64_kib(samples: Path, folder: Path) -> Path:
    data = gzip.compress((samples / "all-orders.txt").read_bytes())
    path = folder / "orders.gz"
    path.write_bytes(data[:-200])
    with pytest.raises(EOFError):
        gzip.decompress(path.read_bytes())
    return path


def binary_file(samples: Path, folder: Path) -> Path:
    """A real binary file: a SQLite database, named like a report."""
    import sqlite3

    path = folder / "report.txt"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (?)", [(samples / "claims.csv").read_bytes()])
    conn.commit()
    conn.close()
    return path


def html_error_page(samples: Path, folder: Path) -> Path:
    path = folder / "all-orders.txt"
    path.write_text(
        "\ufeff<!DOCTYPE html>\r\n<html><head><title>Amazon Sign-In</title></head>\r\n"
        "<body><p>We're sorry, an error occurred. Please sign in again.</p></body></html>\r\n",
        encoding="utf-8",
    )
    return path


def unknown_report(samples: Path, folder: Path) -> Path:
    """An inventory report: tab-separated and from Amazon, but not one this app reads."""
    path = folder / "all-orders.txt"
    path.write_text("sku\tfnsku\tasin\tproduct-name\tcondition\tyour-price\nMUG-11OZ\tX00\tB07\tMug\tNew\t14.99\n")
    return path


def empty_file(samples: Path, folder: Path) -> Path:
    path = folder / "seller-feedback.txt"
    path.write_bytes(b"")
    return path


def blank_lines_only(samples: Path, folder: Path) -> Path:
    path = folder / "seller-feedback.txt"
    path.write_bytes(b"\xef\xbb\xbf\r\n  \r\n\t\r\n")
    return path


def mixed_utf8_and_windows_1252(samples: Path, folder: Path) -> Path:
    lines = (samples / "all-orders.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    path = folder / "all-orders.txt"
    data = "".join(lines[:half]).encode("utf-8") + "".join(lines[half:]).encode("cp1252")
    path.write_bytes(data)
    return path


def windows_1252_then_utf8(samples: Path, folder: Path) -> Path:
    lines = (samples / "all-orders.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    path = folder / "all-orders.txt"
    path.write_bytes("".join(lines[:half]).encode("cp1252") + "".join(lines[half:]).encode("utf-8"))
    return path


def bom_then_windows_1252(samples: Path, folder: Path) -> Path:
    path = folder / "all-orders.txt"
    path.write_bytes(b"\xef\xbb\xbf" + (samples / "all-orders.txt").read_text(encoding="utf-8").encode("cp1252"))
    return path


def invalid_json(samples: Path, folder: Path) -> Path:
    data = (samples / "account-health.json").read_bytes()
    path = folder / "account-health.json"
    path.write_bytes(data[: len(data) // 2])
    return path


def json_of_another_kind(samples: Path, folder: Path) -> Path:
    return shutil.copy(samples / "expected.json", folder / "account-health.json")


def truncated_zip(samples: Path, folder: Path) -> Path:
    path = folder / "reports.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(samples / "all-orders.txt", "all-orders.txt")
    path.write_bytes(path.read_bytes()[:-300])
    return path


def empty_zip(samples: Path, folder: Path) -> Path:
    path = folder / "reports.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("folder/", b"")
    return path


def missing_file(samples: Path, folder: Path) -> Path:
    return folder / "not-downloaded.txt"


def folder_instead_of_file(samples: Path, folder: Path) -> Path:
    path = folder / "reports"
    path.mkdir()
    return path


REFUSALS = {
    truncated_gzip: "truncated",
    truncated_gzip_after_the_first_64_kib: "truncated",
    binary_file: "binary",
    html_error_page: "web page",
    unknown_report: ACCEPTED,
    empty_file: "empty",
    blank_lines_only: "empty",
    mixed_utf8_and_windows_1252: "is not valid UTF-8 although other lines are",
    windows_1252_then_utf8: "is not valid UTF-8 although other lines are",
    bom_then_windows_1252: "announces",
    invalid_json: "not valid JSON at line",
    json_of_another_kind: "not an account health report",
    truncated_zip: "zip",
    empty_zip: "holds no files",
    missing_file: "no such file",
    folder_instead_of_file: "folder",
}


@pytest.mark.parametrize("build", list(REFUSALS), ids=lambda build: build.__name__)
def test_refused_file_leaves_the_database_as_it_was(build, sample_db, samples, tmp_path):
    before, logged_before = table_state(sample_db), len(import_log(sample_db))
    path = build(samples, tmp_path)
    (result,) = import_files(sample_db, [path])
    assert (result.outcome, result.recognised, result.added, result.updated) == ("refused", False, 0, 0)
    assert REFUSALS[build] in result.message
    assert path.name in result.message
    assert table_state(sample_db) == before
    log = import_log(sample_db)
    assert len(log) == logged_before + 1
    assert (log[-1]["file_name"], log[-1]["outcome"], log[-1]["message"]) == (result.file, "refused", result.message)


def test_unknown_report_names_every_accepted_kind(db, samples, tmp_path):
    result = import_one(db, unknown_report(samples, tmp_path))
    for kind in ("All Orders", "Seller Feedback", "FBM returns", "FBA customer returns", "account health", "claims"):
        assert kind in result.message
    assert "«sku\tfnsku\tasin" in result.message  # it shows the first line it found


def test_refusal_does_not_stop_the_other_files(db, samples, tmp_path):
    paths = [html_error_page(samples, tmp_path), samples / "claims.csv", missing_file(samples, tmp_path)]
    results = import_files(db, paths)
    assert [r.outcome for r in results] == ["refused", "imported", "refused"]
    assert [row["outcome"] for row in import_log(db)] == ["refused", "imported", "refused"]


# --- bad rows: rejected with their line number, the rest imports ------------------------------------

BAD_ROWS = {
    "all-orders.txt": [
        ("purchase-date", "03/10/2026 14:05", "is not a date and time"),
        ("amazon-order-id", "", "missing amazon-order-id"),
        ("amazon-order-id", " ", "missing amazon-order-id"),
        ("fulfillment-channel", "Seller", "is not Amazon or Merchant"),
        ("quantity", "two", "is not a whole number"),
        ("item-price", "n/a", "is not an amount"),
    ],
    "seller-feedback.txt": [
        ("Date", "13/45/26", "13/45/26"),
        ("Date", "yesterday", "is not a date"),
        ("Order ID", "", "missing Order ID"),
        ("Rating", "6", "is not 1 to 5"),
    ],
    "fbm-returns.txt": [
        ("Return request date", "32-Jul-2026", "is not a date like 10-Jul-2026"),
        ("Order ID", "", "missing Order ID"),
        ("Return request status", "", "missing Return request status"),
    ],
    "fba-customer-returns.txt": [
        ("return-date", "2026-13-01T00:00:00+00:00", "is not a date and time"),
        ("order-id", "", "missing order-id"),
    ],
    "claims.csv": [
        ("filed-date", "22/09/2026", "is not a date like 2026-10-03"),
        ("order-id", "", "missing order-id"),
        ("status", "won", "is not one of"),
        ("type", "refund", "is not one of"),
    ],
}
CASES = [(name, *case) for name, cases in BAD_ROWS.items() for case in cases]


@pytest.mark.parametrize(("name", "column", "value", "reason"), CASES)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bad_cell_rejects_its_row_only(name, column, value, reason, newline, samples, tmp_path, db, new_db):
    flat = Flat.read(samples / name)
    bad = len(flat.rows) // 2
    broken = flat.copy().set(bad, column, value)
    result = import_one(db, broken.write(tmp_path / "report.txt", bom=True, newline=newline))
    assert (result.outcome, result.rejected) == ("imported", 1)
    ((line, why),) = result.rejections
    assert line == bad + 2  # the header is line 1
    assert reason in why
    reference = new_db("reference.db")
    import_one(reference, flat.only_rows(i for i in range(len(flat.rows)) if i != bad).write(tmp_path / "rest.txt"))
    assert table_state(db) == table_state(reference)
    assert json.loads(import_log(db)[-1]["errors"]) == [[line, why]]


@pytest.mark.parametrize("name", list(BAD_ROWS))
@pytest.mark.parametrize("change", [-1, +1], ids=["missing-field", "extra-field"])
def test_row_with_the_wrong_field_count_is_rejected(name, change, samples, tmp_path, db, new_db):
    flat = Flat.read(samples / name)
    bad = len(flat.rows) // 3
    broken = flat.copy()
    # An All Orders row that only lacks optional trailing cells is read (a spreadsheet trims them, see
    # tests/test_orders_quirks.py): there the row is cut before columns every row needs.
    keep = 4 if name == "all-orders.txt" and change < 0 else len(flat.header) + change
    broken.rows[bad] = broken.rows[bad][:keep] if change < 0 else [*broken.rows[bad], "stray"]
    result = import_one(db, broken.write(tmp_path / "report.txt"))
    assert result.outcome == "imported"
    assert [r.line for r in result.rejections] == [bad + 2]
    assert result.rejections[0].reason.startswith(f"expected {len(flat.header)} fields as in the header, found {keep}")
    reference = new_db("reference.db")
    import_one(reference, flat.only_rows(i for i in range(len(flat.rows)) if i != bad).write(tmp_path / "rest.txt"))
    assert table_state(db) == table_state(reference)


@pytest.mark.parametrize("name", ["all-orders.txt", "fbm-returns.txt", "fba-customer-returns.txt"])
def test_rows_padded_with_a_trailing_tab_are_not_rejected(name, samples, tmp_path, db, new_db):
    padded = tmp_path / "report.txt"
    padded.write_bytes((samples / name).read_bytes().replace(b"\n", b"\t\n").replace(b"\t\n", b"\n", 1))
    result = import_one(db, padded)
    assert (result.outcome, result.rejected) == ("imported", 0)
    reference = new_db("reference.db")
    import_one(reference, samples / name)
    assert table_state(db) == table_state(reference)


@pytest.mark.parametrize("name", list(BAD_ROWS))
def test_blank_lines_before_the_header_keep_line_numbers(name, samples, tmp_path, db):
    flat = Flat.read(samples / name).copy()
    column, value, _ = BAD_ROWS[name][0]
    flat.set(3, column, value)
    path = tmp_path / "report.txt"
    path.write_bytes(b"\xef\xbb\xbf\r\n \r\n" + flat.text("\r\n").encode())
    result = import_one(db, path)
    assert (result.outcome, result.added) == ("imported", len(flat.rows) - 1)
    assert [r.line for r in result.rejections] == [3 + 2 + 2]  # two blank lines, the header, then rows


def test_several_bad_rows_in_one_file_keep_their_own_lines(samples, tmp_path, db):
    flat = Flat.read(samples / "all-orders.txt").copy()
    bad = {5: ("purchase-date", "soon"), 40: ("amazon-order-id", ""), 400: ("quantity", "1.5")}
    for row, (column, value) in bad.items():
        flat.set(row, column, value)
    flat.rows[41] = flat.rows[41][:3]
    result = import_one(db, flat.write(tmp_path / "orders.txt", newline="\r\n"))
    assert [r.line for r in result.rejections] == [7, 42, 43, 402]
    assert result.added == len(flat.rows) - 4
    assert db["order_items"].count == len(flat.rows) - 4


@pytest.mark.parametrize("name", ["Inbox.mbox", "Sent.mbox"])
def test_e_mail_with_an_unreadable_date_is_rejected_at_its_line(name, samples, tmp_path, db, new_db):
    lines = (samples / name).read_bytes().splitlines(keepends=True)
    separators = [number for number, line in enumerate(lines, start=1) if line.startswith(b"From ")]
    date_line = next(n for n, line in enumerate(lines, start=1) if n > separators[2] and line.startswith(b"Date:"))
    lines[date_line - 1] = b"Date: the day after tomorrow\n"
    broken = tmp_path / name
    broken.write_bytes(b"".join(lines))
    result = import_one(db, broken)
    assert (result.outcome, result.rejected, result.added) == ("imported", 1, len(separators) - 1)
    ((line, why),) = result.rejections
    assert line == separators[2] + 1  # the e-mail's first header line
    assert "the day after tomorrow" in why


# --- the command line --------------------------------------------------------------------------------


def run_import(db_path: Path, *files: Path) -> tuple[int, dict]:
    completed = subprocess.run(
        [sys.executable, "main.py", "import", "--db", str(db_path), "--json", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return completed.returncode, json.loads(completed.stdout)


def test_cli_exits_0_when_every_file_is_recognised(samples, tmp_path):
    cancelled = tmp_path / "cancelled.txt"
    cancelled.write_text("CANCELLED\n")
    status, output = run_import(tmp_path / "cli.db", *(samples / name for name in SAMPLE_FILES), cancelled)
    assert status == 0
    assert [f["outcome"] for f in output["files"]] == ["imported"] * len(SAMPLE_FILES) + ["no_rows"]


def test_cli_exits_0_with_rejected_rows(samples, tmp_path):
    flat = Flat.read(samples / "claims.csv").copy().set(0, "status", "won")
    status, output = run_import(tmp_path / "cli.db", flat.write(tmp_path / "claims.csv"))
    assert status == 0
    assert output["files"][0]["rejections"] == [{"line": 2, "reason": output["files"][0]["rejections"][0]["reason"]}]


def test_cli_exits_1_when_any_file_is_refused(samples, tmp_path):
    page = html_error_page(samples, tmp_path)
    status, output = run_import(tmp_path / "cli.db", samples / "claims.csv", page)
    assert status == 1
    assert [(f["file"], f["outcome"]) for f in output["files"]] == [("claims.csv", "imported"), (page.name, "refused")]
    assert "web page" in output["files"][1]["message"]


def test_the_monitors_own_database_is_never_read_as_a_report(db, db_path, samples):
    # Opening and closing the database's files in the process that holds its connection would drop that
    # process's SQLite locks: the import refuses them by name, before anything is opened.
    import_files(db, [samples / "claims.csv"])
    for name in (db_path, f"{db_path}-wal", f"{db_path}-shm"):
        (result,) = import_files(db, [name])
        assert result.outcome == "refused" and "own database" in result.message
    assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 12


def test_the_worker_weighs_and_refuses_the_monitors_own_database_without_opening_it(db_path, samples, tmp_path):
    """The Import dialog given the database's own files: the worker sizes the reports to choose its connection,
    and neither that nor the import opens any of them (closing one would drop the process's SQLite locks)."""
    import os

    from app.alerts import RecordingSink
    from app.importers import source
    from app.scheduler import MonitorScheduler
    from tests.recording import RecordingListener
    from tests.ui_support import SAMPLE_NOW, FixedClock

    open_db(db_path).close()
    listener = RecordingListener()
    worker = MonitorScheduler(db_path, listener, RecordingSink(), now=FixedClock(SAMPLE_NOW))
    worker.figures.adopt()
    opened = []
    os_open = os.open

    def noting(path, *args, **kwargs):
        opened.append(os.path.realpath(path))
        return os_open(path, *args, **kwargs)

    own = [str(db_path), f"{db_path}-wal", f"{db_path}-shm"]
    try:
        with pytest.MonkeyPatch.context() as patches:
            patches.setattr(source.os, "open", noting)
            worker._run_import([samples / "claims.csv", *own], lambda: False)
    finally:
        worker.figures.close()
    assert not {os.path.realpath(name) for name in own} & set(opened), opened
    assert str(samples / "claims.csv") in {str(path) for path in opened}  # sized and read as a report
    (results,) = listener.finished
    assert [result.outcome for result in results] == ["imported", "refused", "refused", "refused"]
    db = open_db(db_path)
    try:
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 12
    finally:
        db.close()
