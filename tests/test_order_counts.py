"""Orders counted per quarter hour of purchase stay exact whatever writes the orders: an import, a newer report
cancelling or moving orders, orders written straight into the table, edits, deletions, the demo loaded and
cleared. After each, the days counted from the buckets are the days counted one order at a time."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from app import demo_state
from app.demo import load_demo
from app.imports import import_files
from app.timeutil import day_start, end_of_day, offset_segments
from storage import order_counts, queries
from storage.queries import Market
from tests.builders import Seller
from tests.report_files import Flat
from tests.ui_support import SAMPLE_NOW

ZONES = ("UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe")
MARKETS = (None, Market("US", "US"), Market("UK", "US"), Market("UK", "UK"))
FIRST, LAST = date(2026, 5, 1), date(2026, 12, 31)


def assert_days_counted_exactly(db) -> None:
    assert not order_counts.differences(db)
    for name in ZONES:
        zone = ZoneInfo(name)
        segments = offset_segments(zone, FIRST, LAST)
        start, end = day_start(FIRST, zone), end_of_day(LAST, zone)
        for market in MARKETS:
            fast = queries.order_counts_by_day(db, segments, start, end, market)
            slow = queries._counted_one_by_one(db, segments, start, end, market)
            assert sorted(fast) == sorted(slow), (name, market)


def newer_orders(samples, tmp_path, changes: dict[int, dict[str, str]]):
    """The sample All Orders report with rows changed and dated a day later than anything in it."""
    report = Flat.read(samples / "all-orders.txt")
    for row, values in changes.items():
        for name, value in {"last-updated-date": "2026-12-01T00:00:00+00:00", **values}.items():
            report.set(row, name, value)
    return report.only_rows(changes).write(tmp_path / "newer-orders.txt")


def test_an_import_counts_its_orders_into_the_buckets(sample_db):
    last_rowid = sample_db.execute("SELECT max(rowid) FROM orders").fetchone()[0]
    assert order_counts.counted_through(sample_db) == last_rowid
    assert sample_db.execute("SELECT sum(orders) FROM order_counts").fetchone()[0] > 0
    assert_days_counted_exactly(sample_db)


def test_a_newer_report_cancelling_and_moving_counted_orders(sample_db, samples, tmp_path):
    report = newer_orders(
        samples,
        tmp_path,
        {
            0: {"order-status": "Cancelled", "item-status": "Cancelled"},
            1: {"purchase-date": "2026-09-30T23:59:00+00:00"},
            2: {"sales-channel": "Amazon.co.uk", "currency": "GBP"},
            3: {"sales-channel": "Non-Amazon"},
        },
    )
    results = import_files(sample_db, [report])
    assert [result.outcome for result in results] == ["imported"], [result.message for result in results]
    assert_days_counted_exactly(sample_db)


def test_orders_written_straight_into_the_table_count_before_and_after_the_mark(sample_db):
    seller = Seller(sample_db)
    written = [seller.order(f"2026-10-{day:02d} 23:50", sales_channel="Amazon.co.uk") for day in range(1, 20)]
    assert order_counts.counted_through(sample_db) < sample_db.execute("SELECT max(rowid) FROM orders").fetchone()[0]
    assert_days_counted_exactly(sample_db)  # counted one by one beside the buckets
    order_counts.catch_up(sample_db)
    assert_days_counted_exactly(sample_db)
    sample_db.execute("UPDATE orders SET status = 'Cancelled' WHERE order_id = ?", [written[0]])
    sample_db.execute("UPDATE orders SET purchased_at = purchased_at + 600 WHERE order_id = ?", [written[1]])
    sample_db.execute("UPDATE orders SET marketplace = NULL WHERE order_id = ?", [written[2]])
    sample_db.execute("UPDATE orders SET channel = 'FBA' WHERE order_id = ?", [written[3]])
    sample_db.execute("UPDATE orders SET status = 'Shipped' WHERE order_id = ?", [written[0]])
    assert_days_counted_exactly(sample_db)


def test_deleting_the_newest_orders_leaves_no_later_order_uncounted(sample_db):
    newest = sample_db.execute("SELECT order_id FROM orders ORDER BY rowid DESC LIMIT 3").fetchall()
    for (order_id,) in newest:
        sample_db.execute("DELETE FROM orders WHERE order_id = ?", [order_id])
    assert_days_counted_exactly(sample_db)
    # A new order takes the rowid after the largest left: under the old mark, had the mark not come down.
    Seller(sample_db).order("2026-10-05 10:00")
    assert_days_counted_exactly(sample_db)
    order_counts.catch_up(sample_db)
    assert_days_counted_exactly(sample_db)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_the_demo_loaded_cleared_and_loaded_again(db, zone):
    Seller(db).setting("timezone", zone)
    load_demo(db, lambda: SAMPLE_NOW)
    assert order_counts.counted_through(db) == db.execute("SELECT max(rowid) FROM orders").fetchone()[0]
    assert_days_counted_exactly(db)
    demo_state.clear(db)
    assert db.execute("SELECT coalesce(sum(orders), 0) FROM order_counts").fetchone()[0] == 0
    assert_days_counted_exactly(db)
    load_demo(db, lambda: SAMPLE_NOW)
    assert_days_counted_exactly(db)


def test_a_range_whose_days_do_not_fall_on_quarter_hours_is_counted_one_by_one(sample_db):
    """Before 1970, or in a zone's old local mean time, a local midnight is not on a quarter hour of UTC."""
    zone = ZoneInfo("Asia/Kathmandu")
    old = offset_segments(zone, date(1960, 1, 1), date(1960, 1, 31))
    assert not queries._whole_buckets(old, day_start(date(1960, 1, 1), zone), end_of_day(date(1960, 1, 31), zone))
    segments = offset_segments(zone, FIRST, LAST)
    assert queries._whole_buckets(segments, day_start(FIRST, zone), end_of_day(LAST, zone))


def test_every_upsert_names_its_conflict_columns(db, samples):
    """An upsert without its conflict columns is a syntax error before SQLite 3.35 (a Python built on an older
    system SQLite): the migration would fail and no database would open. Checked on the triggers and tables
    made and on every statement an import and a catch-up run."""
    run: list[str] = []
    db.conn.set_trace_callback(run.append)
    import_files(db, [samples / "all-orders.txt"])
    Seller(db).order("2026-10-05 10:00")
    order_counts.catch_up(db)
    db.conn.set_trace_callback(None)
    made = [row[0] for row in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
    upserts = [sql for sql in made + run if "ON CONFLICT" in sql.upper()]
    assert any("order_counts" in sql for sql in upserts)
    assert not [sql for sql in upserts if re.search(r"ON\s+CONFLICT\s+DO", sql, re.IGNORECASE)]


def test_an_order_replaced_on_the_apps_connection_is_counted_once(sample_db):
    """INSERT OR REPLACE deletes the old row through the delete trigger only with recursive triggers on,
    as on every connection the app opens."""
    assert sample_db.execute("PRAGMA recursive_triggers").fetchone()[0] == 1
    oldest = sample_db.execute("SELECT order_id FROM orders ORDER BY rowid LIMIT 2").fetchall()
    for (order_id,), status in zip(oldest, ("Cancelled", "Shipped"), strict=True):
        sample_db.execute(
            "INSERT OR REPLACE INTO orders (order_id, purchased_at, last_updated_at, status, channel, marketplace) "
            "SELECT order_id, purchased_at + 3600, last_updated_at + 1, ?, channel, marketplace FROM orders "
            "WHERE order_id = ?",
            [status, order_id],
        )
    assert_days_counted_exactly(sample_db)
    order_counts.catch_up(sample_db)
    assert_days_counted_exactly(sample_db)
