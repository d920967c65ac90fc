"""Importing is idempotent and newer-wins: the same report twice changes nothing, a later row updates.

An All Orders report by last update repeats an order item whose status changed: the later row updates
it (Pending -> Shipped -> Cancelled) and an older row imported afterwards (a report by order date
downloaded earlier) does not turn it back. What the seller set by hand survives every re-import.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import SAMPLE_FILES
from tests.report_files import Flat, counts, gzipped, import_one, rows_by, table_state


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_same_report_twice_changes_nothing(name, db, samples):
    first = import_one(db, samples / name)
    before, stored = table_state(db), counts(db)
    again = import_one(db, samples / name)
    assert (again.outcome, again.added, again.updated) == ("imported", 0, 0)
    assert again.unchanged == first.added + first.updated + first.unchanged > 0
    assert (table_state(db), counts(db)) == (before, stored)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_same_rows_in_another_file_shape_change_nothing(name, db, samples, tmp_path):
    import_one(db, samples / name)
    before = table_state(db)
    crlf = tmp_path / name
    crlf.write_bytes((samples / name).read_bytes().replace(b"\n", b"\r\n"))
    for variant in (gzipped(samples / name, tmp_path / "again.gz"), crlf):
        result = import_one(db, variant)
        assert (result.added, result.updated, result.rejected) == (0, 0, 0)
    assert table_state(db) == before


STATUSES = ["Pending", "Shipped", "Cancelled"]


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def order_versions(flat: Flat, order_id: str, statuses: list[str]) -> list[Flat]:
    """One single-row All Orders report per status, each updated an hour after the previous one."""
    row = next(i for i, status in enumerate(flat.values("order-status")) if status == "Shipped")
    purchased = datetime.fromisoformat(flat.rows[row][flat.at("purchase-date")])
    versions = []
    for step, status in enumerate(statuses, start=1):
        version = flat.only_rows([row]).set(0, "amazon-order-id", order_id)
        version.set(0, "order-status", status).set(0, "item-status", status)
        versions.append(version.set(0, "last-updated-date", stamp(purchased + timedelta(hours=step))))
    return versions


def status_of(db, order_id: str) -> tuple[str, str]:
    (order,) = db.execute("SELECT status FROM orders WHERE order_id = ?", [order_id]).fetchall()
    (item,) = db.execute("SELECT item_status FROM order_items WHERE order_id = ?", [order_id]).fetchall()
    return order[0], item[0]


def test_later_rows_update_an_order_and_older_ones_do_not_turn_it_back(sample_db, samples, tmp_path):
    order_id = "119-0000001-0000001"
    flat = Flat.read(samples / "all-orders.txt")
    versions = order_versions(flat, order_id, STATUSES)
    files = [version.write(tmp_path / f"{status}.txt") for version, status in zip(versions, STATUSES, strict=True)]
    rows_before = counts(sample_db)

    first = import_one(sample_db, files[0])
    assert (first.added, first.updated, status_of(sample_db, order_id)) == (1, 0, ("Pending", "Pending"))
    for path, status in zip(files[1:], STATUSES[1:], strict=True):
        result = import_one(sample_db, path)
        assert (result.added, result.updated, result.unchanged) == (0, 1, 0)
        assert status_of(sample_db, order_id) == (status, status)
    settled = table_state(sample_db)

    for older in files[:2]:
        result = import_one(sample_db, older)
        assert (result.added, result.updated, result.unchanged) == (0, 0, 1)
    assert status_of(sample_db, order_id) == ("Cancelled", "Cancelled")
    assert table_state(sample_db) == settled
    assert counts(sample_db)["orders"] == rows_before["orders"] + 1


def test_versions_in_one_report_in_any_order_keep_the_latest(db, samples, tmp_path):
    order_id = "119-0000002-0000002"
    pending, shipped, cancelled = order_versions(Flat.read(samples / "all-orders.txt"), order_id, STATUSES)
    mixed = Flat(pending.header, [cancelled.rows[0], pending.rows[0], shipped.rows[0]])
    result = import_one(db, mixed.write(tmp_path / "by-last-update.txt"))
    assert (result.outcome, result.rejected, result.added) == ("imported", 0, 1)
    assert status_of(db, order_id) == ("Cancelled", "Cancelled")


def test_a_report_by_order_date_imported_later_does_not_undo_an_update(sample_db, samples, tmp_path):
    flat = Flat.read(samples / "all-orders.txt")
    row = flat.values("order-status").index("Pending")
    order_id = flat.rows[row][flat.at("amazon-order-id")]
    later = datetime.fromisoformat(flat.rows[row][flat.at("last-updated-date")]) + timedelta(days=1)
    update = flat.only_rows([row]).set(0, "order-status", "Shipped").set(0, "item-status", "Shipped")
    update.set(0, "last-updated-date", stamp(later))
    assert import_one(sample_db, update.write(tmp_path / "update.txt")).updated == 1
    again = import_one(sample_db, samples / "all-orders.txt")
    assert (again.added, again.updated) == (0, 0)
    assert rows_by(sample_db, "orders", "order_id")[order_id]["status"] == "Shipped"


def test_claim_status_changes_update_the_claim(sample_db, samples, tmp_path):
    flat = Flat.read(samples / "claims.csv")
    row = flat.values("status").index("open")
    changed = flat.copy().set(row, "status", "granted").set(row, "decided-date", "2026-11-02")
    before = counts(sample_db)
    result = import_one(sample_db, changed.write(tmp_path / "claims.csv"))
    assert (result.added, result.updated, result.unchanged) == (0, 1, len(flat.rows) - 1)
    key = (flat.rows[row][flat.at("order-id")], flat.rows[row][flat.at("type")])
    stored = sample_db["claims"].get(key)
    assert (stored["status"], stored["decided_on"]) == ("granted", "2026-11-02")
    assert counts(sample_db) == before


def test_what_the_seller_set_by_hand_survives_a_reimport(sample_db, samples, tmp_path):
    flat = Flat.read(samples / "seller-feedback.txt")
    order_id = flat.rows[0][flat.at("Order ID")]
    sample_db["feedback"].update(order_id, {"removal_status": "removed", "removed_on": "2026-11-01"})
    changed = flat.copy().set(0, "Your Response", "We are sorry")
    result = import_one(sample_db, changed.write(tmp_path / "feedback.txt"))
    assert (result.updated, result.added) == (1, 0)
    stored = sample_db["feedback"].get(order_id)
    assert (stored["response"], stored["removal_status"], stored["removed_on"]) == (
        "We are sorry",
        "removed",
        "2026-11-01",
    )
