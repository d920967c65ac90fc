"""Personal data stays out of the database, and the database file is readable by its owner only.

The feedback report's `Rater Email` and the All Orders report's ship city and postcode are never
stored: the raw bytes of the database (and its WAL) are searched for them, refusals and rejections
included, since the import log keeps messages.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.imports import import_files
from storage import open_db
from tests.conftest import ROOT, SAMPLE_FILES
from tests.report_files import Flat, import_one


def stored_bytes(db_path: Path) -> bytes:
    """Everything SQLite keeps for the database: the file, its WAL and shared-memory index."""
    parts = [Path(f"{db_path}{suffix}") for suffix in ("", "-wal", "-shm")]
    return b"".join(part.read_bytes() for part in parts if part.exists())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rater_emails(samples: Path) -> list[str]:
    emails = Flat.read(samples / "seller-feedback.txt").values("Rater Email")
    assert emails and all("@" in email for email in emails)
    return emails


def test_rater_email_is_nowhere_in_the_database(db, db_path, samples, tmp_path):
    flat = Flat.read(samples / "seller-feedback.txt")
    headerless = tmp_path / "no-header.txt"
    headerless.write_text(flat.only_rows(range(len(flat.rows))).text().split("\n", 1)[1])
    bad_rows = flat.copy().set(0, "Rating", "9").set(1, "Date", "someday")
    bad_rows.rows[2] = bad_rows.rows[2][:-2]
    results = import_files(db, [samples / "seller-feedback.txt", headerless, bad_rows.write(tmp_path / "bad-rows.txt")])
    assert [r.outcome for r in results] == ["imported", "refused", "imported"]
    for email in rater_emails(samples):
        local = email.split("@")[0].encode()
        assert local not in stored_bytes(db_path), email
    db.close()
    for email in rater_emails(samples):
        assert email.split("@")[0].encode() not in stored_bytes(db_path), email


def test_ship_city_and_postcode_are_not_stored(db, db_path, samples, tmp_path):
    flat = Flat.read(samples / "all-orders.txt").copy()
    for index in range(len(flat.rows)):
        flat.set(index, "ship-city", f"CITYMARK{index:05d}").set(index, "ship-postal-code", f"PCMARK{index:05d}")
    assert import_one(db, flat.write(tmp_path / "orders.txt")).rejected == 0
    assert import_one(db, samples / "all-orders.txt").outcome == "imported"
    db.close()
    data = stored_bytes(db_path)
    assert b"CITYMARK" not in data and b"PCMARK" not in data
    cities = set(Flat.read(samples / "all-orders.txt").values("ship-city")) - {""}
    assert cities and not any(city.encode() in data for city in cities)


def test_schema_has_no_address_or_rater_columns(db):
    columns = {column.name for table in db.tables for column in table.columns}
    assert not {name for name in columns if "city" in name or "postal" in name or "email" in name}


def test_database_file_is_private(db, db_path, samples):
    import_files(db, [samples / name for name in SAMPLE_FILES])
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{db_path}{suffix}")
        if suffix == "" or path.exists():
            assert mode(path) == 0o600, path


def test_database_created_by_the_command_line_is_private(samples, tmp_path):
    db_path = tmp_path / "cli" / "health.db"
    completed = subprocess.run(
        [sys.executable, "main.py", "import", "--db", str(db_path), str(samples / "claims.csv")],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert mode(db_path) == 0o600
    assert mode(db_path.parent) == 0o700


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_an_existing_readable_database_is_made_private(tmp_path):
    db_path = tmp_path / "health.db"
    open_db(db_path).close()
    db_path.chmod(0o644)
    open_db(db_path).close()
    assert mode(db_path) == 0o600
