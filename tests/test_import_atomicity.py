"""Each report imports in one transaction: all of its rows or none, whatever stops it.

A large All Orders report is generated from the sample's rows (new order IDs). It is killed with
SIGKILL half-way through an import in another process, broken off (truncated gzip) after thousands of
rows were written, re-read in another encoding after a late non-UTF-8 byte, or cancelled by the seller:
each time the database must hold exactly what it held before and no row of the new file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.imports import BATCH_ROWS, import_files
from storage import open_db
from tests.conftest import ROOT, SAMPLE_FILES
from tests.report_files import Flat, gzipped, import_log, import_one, state_of_file, table_state

GENERATED_PREFIX = "999-"


def large_orders(samples: Path, path: Path, rows: int, last_name: str | None = None) -> Path:
    """An All Orders report of `rows` rows made from the sample's, each a new order (IDs `999-…`)."""
    flat = Flat.read(samples / "all-orders.txt")
    position = flat.at("amazon-order-id")
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\t".join(flat.header) + "\n")
        for index in range(rows):
            row = list(flat.rows[index % len(flat.rows)])
            row[position] = f"{GENERATED_PREFIX}{index:07d}-{index:07d}"
            out.write("\t".join(row) + "\n")
    if last_name is not None:
        text = path.read_text(encoding="utf-8").splitlines(keepends=True)
        last = text[-1].split("\t")
        last[flat.at("product-name")] = last_name
        text[-1] = "\t".join(last)
        path.write_bytes("".join(text[:-1]).encode("ascii", errors="replace") + text[-1].encode("cp1252"))
    return path


def generated_rows(db) -> int:
    return db.execute("SELECT count(*) FROM orders WHERE order_id LIKE ?", [GENERATED_PREFIX + "%"]).fetchone()[0]


def test_killed_import_leaves_the_previous_contents(samples, tmp_path):
    db_path = tmp_path / "health.db"
    db = open_db(db_path)
    assert all(r.outcome == "imported" for r in import_files(db, [samples / n for n in SAMPLE_FILES]))
    db.close()
    before = state_of_file(db_path)
    big = large_orders(samples, tmp_path / "big.txt", 200_000)

    wal = Path(f"{db_path}-wal")
    process = subprocess.Popen(
        [sys.executable, "main.py", "import", "--db", str(db_path), str(big)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not (wal.exists() and wal.stat().st_size > 4 * 1024 * 1024):
            assert process.poll() is None, "the import finished before it could be killed"
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.01)
        assert process.poll() is None, "the import finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    assert state_of_file(db_path) == before  # integrity_check is ok, and every table as it was
    db = open_db(db_path)
    try:
        assert generated_rows(db) == 0
        assert import_one(db, samples / "claims.csv").outcome == "imported"  # still usable afterwards
    finally:
        db.close()


def test_truncated_gzip_after_many_written_rows_stores_none_of_them(sample_db, samples, tmp_path):
    rows = 4 * BATCH_ROWS
    compressed = gzipped(large_orders(samples, tmp_path / "big.txt", rows), tmp_path / "big.gz").read_bytes()
    truncated = tmp_path / "orders.gz"
    truncated.write_bytes(compressed[: len(compressed) * 9 // 10])
    before = table_state(sample_db)
    result = import_one(sample_db, truncated)
    assert (result.outcome, result.kind) == ("refused", "all_orders")
    assert "truncated" in result.message
    assert table_state(sample_db) == before
    assert generated_rows(sample_db) == 0
    assert import_log(sample_db)[-1]["outcome"] == "refused"


def test_late_windows_1252_byte_rereads_without_double_counting(sample_db, samples, tmp_path):
    rows = 3 * BATCH_ROWS
    path = large_orders(samples, tmp_path / "big.txt", rows, last_name="Crème brûlée set")
    result = import_one(sample_db, path)
    assert (result.outcome, result.encoding) == ("imported", "cp1252")
    assert (result.added, result.updated, result.unchanged, result.rejected) == (rows, 0, 0, 0)
    assert generated_rows(sample_db) == rows
    names = sample_db.execute("SELECT count(*) FROM order_items WHERE product_name = 'Crème brûlée set'").fetchone()
    assert names == (1,)


def test_cancelled_import_stores_nothing_and_is_logged(sample_db, samples, tmp_path):
    path = large_orders(samples, tmp_path / "big.txt", 3 * BATCH_ROWS)
    before = table_state(sample_db)
    progress = []
    (result,) = import_files(sample_db, [path], progress=progress.append, cancelled=lambda: len(progress) >= 1)
    assert result.outcome == "cancelled"
    assert progress and progress[0].rows == BATCH_ROWS  # it was cancelled after rows were written
    assert table_state(sample_db) == before
    assert generated_rows(sample_db) == 0
    logged = import_log(sample_db)[-1]
    assert (logged["file_name"], logged["outcome"], logged["added"]) == (path.name, "cancelled", 0)
