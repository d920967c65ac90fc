"""Downloads that real sellers produce beyond Amazon's own files: Excel's semicolon CSV, an mbox inside a
zip, and an empty report arriving while the demo data is shown."""

from __future__ import annotations

import zipfile

from app import demo_state
from app.demo import load_demo
from app.imports import import_files
from tests.ui_support import SAMPLE_NOW


def test_claims_saved_by_a_european_excel_use_semicolons(db, samples, tmp_path):
    plain = samples / "claims.csv"
    lines = plain.read_text(encoding="utf-8").splitlines()
    # Excel writes the decimal comma and separates cells with semicolons.
    semicolons = [line.replace(",", ";") for line in lines]
    semicolons = [";".join(cell.replace(".", ",") for cell in line.split(";")) for line in semicolons]
    target = tmp_path / "claims-excel.csv"
    target.write_text("\n".join(semicolons) + "\n", encoding="cp1252")
    result = import_files(db, [target])[0]
    assert (result.kind, result.added, result.rejected) == ("claims", len(lines) - 1, 0)
    amounts = dict(db.execute("SELECT order_id || '/' || type, amount FROM claims").fetchall())
    first = lines[1].split(",")
    assert amounts[f"{first[0]}/{first[1]}"] == float(first[5])


def test_an_mbox_inside_a_zip_imports_like_the_plain_file(db, new_db, samples, tmp_path):
    archive = tmp_path / "mail.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(samples / "Inbox.mbox", "Inbox.mbox")
    zipped = import_files(db, [archive])[0]
    plain = import_files(new_db("plain.db"), [samples / "Inbox.mbox"])[0]
    assert (zipped.kind, zipped.added, zipped.rejected) == (plain.kind, plain.added, plain.rejected) == ("mail", 20, 0)


def test_a_cancelled_report_does_not_clear_the_demo(db, tmp_path):
    load_demo(db, lambda: SAMPLE_NOW)
    cancelled = tmp_path / "orders.txt"
    cancelled.write_text("CANCELLED\n")
    assert import_files(db, [cancelled])[0].outcome == "no_rows"
    assert demo_state.is_active(db) and db["orders"].count > 0
