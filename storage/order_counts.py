"""Countable orders per 15-minute bucket of their purchase instant, per marketplace and channel: a local day's
orders are then added up from at most 96 buckets instead of read one by one (a year of a large seller is
hundreds of thousands of orders, and every refresh of the figures counts them).

Every zone's local midnight and daylight-saving change falls on a quarter hour of UTC, so a bucket lies in
one local day in any zone; the buckets do not depend on the seller's zone or marketplace settings.

Kept exact without slowing an import down by a trigger per written order:
  - `catch_up` counts the orders written since it last ran (rowid above `counted_through`) and moves the
    mark; the importer and the demo call it at the end of their write. Orders above the mark are counted
    from the orders themselves when read (`order_counts_by_day` in storage.queries), so a write path that
    never calls it is slower, never wrong.
  - triggers take an order already counted out of its bucket when it changes (purchase instant, status,
    channel, sales channel, marketplace) or is deleted, and put it back where it now belongs. SQLite gives
    a new row the rowid after the largest one, so an order written later is never under the mark: the
    delete trigger lowers the mark to the largest remaining rowid when the last rows go.

The triggers rely on `PRAGMA recursive_triggers`, which sqlite_utils turns on for every connection the app
opens (`storage.open_db`): without it, the row an `INSERT OR REPLACE INTO orders` replaces is deleted without
the delete trigger, so it stays counted and the new row is counted too. A raw `sqlite3` connection (the
`sqlite3` shell, a script) that replaces counted orders must turn it on first.
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

BUCKET_S = 900
# The marketplace of orders stored without one (a key column cannot be NULL).
NO_MARKETPLACE = ""


def countable(row: str) -> str:
    """SQL: whether the order `row` (`old`, `new`, or a table) counts for the rates; as storage.queries'
    COUNTABLE, and from the epoch on (a bucket is the quotient of a non-negative instant)."""
    return (
        f"lower({row}.status) <> 'cancelled' AND coalesce({row}.sales_channel, '') NOT LIKE 'non-amazon%' "
        f"AND {row}.purchased_at >= 0"
    )


def bucket_key(row: str) -> str:
    return f"CAST({row}.purchased_at AS INTEGER) / {BUCKET_S}, coalesce({row}.marketplace, ''), {row}.channel"


MARK = "(SELECT counted_through FROM order_counts_mark)"

SCHEMA = f"""
CREATE TABLE order_counts (
    bucket INTEGER NOT NULL,
    marketplace TEXT NOT NULL,
    channel TEXT NOT NULL,
    orders INTEGER NOT NULL,
    PRIMARY KEY (bucket, marketplace, channel)
) WITHOUT ROWID;

CREATE TABLE order_counts_mark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counted_through INTEGER NOT NULL
);
INSERT INTO order_counts_mark (id, counted_through) VALUES (1, 0);

CREATE TRIGGER order_counts_on_change
AFTER UPDATE OF purchased_at, status, channel, sales_channel, marketplace ON orders
WHEN old.rowid <= {MARK}
BEGIN
    UPDATE order_counts SET orders = orders - 1
    WHERE {countable("old")} AND (bucket, marketplace, channel) = ({bucket_key("old")});
    INSERT INTO order_counts (bucket, marketplace, channel, orders)
    SELECT {bucket_key("new")}, 1 WHERE {countable("new")}
    ON CONFLICT (bucket, marketplace, channel) DO UPDATE SET orders = orders + 1;
END;

CREATE TRIGGER order_counts_on_delete
AFTER DELETE ON orders
BEGIN
    UPDATE order_counts SET orders = orders - 1
    WHERE old.rowid <= {MARK} AND {countable("old")} AND (bucket, marketplace, channel) = ({bucket_key("old")});
    UPDATE order_counts_mark
    SET counted_through = min(counted_through, coalesce((SELECT max(rowid) FROM orders), 0));
END;
"""


def create(db: sqlite_utils.Database) -> None:
    """The tables and triggers, and every order stored so far counted (a migration, in its transaction)."""
    # executescript would commit the migration's open transaction: the statements go one by one instead.
    statement = ""
    for line in SCHEMA.strip().splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    catch_up(db)


def catch_up(db: sqlite_utils.Database) -> None:
    """Count the orders written since the last count into their buckets and move the mark past them (inside
    the caller's write transaction, so the counts and the mark change together)."""
    through = db.execute("SELECT counted_through FROM order_counts_mark").fetchone()[0]
    last = db.execute("SELECT max(rowid) FROM orders").fetchone()[0] or 0
    if last <= through:
        return
    db.execute(
        "INSERT INTO order_counts (bucket, marketplace, channel, orders) "
        f"SELECT {bucket_key('orders')}, count(*) FROM orders "
        f"WHERE rowid > ? AND rowid <= ? AND {countable('orders')} GROUP BY 1, 2, 3 "
        "ON CONFLICT (bucket, marketplace, channel) DO UPDATE SET orders = orders + excluded.orders",
        [through, last],
    )
    db.execute("UPDATE order_counts_mark SET counted_through = ?", [last])


def counted_through(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT counted_through FROM order_counts_mark").fetchone()[0]


def differences(db: sqlite_utils.Database) -> list[tuple]:
    """(bucket, marketplace, channel, stored, counted afresh) wherever the buckets disagree with the orders
    under the mark counted afresh: empty when the counts are whole (for tests after every write path)."""
    fresh = {
        (bucket, marketplace, channel): number
        for bucket, marketplace, channel, number in db.execute(
            f"SELECT {bucket_key('orders')}, count(*) FROM orders WHERE rowid <= ? AND {countable('orders')} "
            "GROUP BY 1, 2, 3",
            [counted_through(db)],
        )
    }
    stored = {
        (bucket, marketplace, channel): number
        for bucket, marketplace, channel, number in db.execute(
            "SELECT bucket, marketplace, channel, orders FROM order_counts WHERE orders <> 0"
        )
    }
    keys = sorted(set(fresh) | set(stored))
    return [(*key, stored.get(key, 0), fresh.get(key, 0)) for key in keys if stored.get(key, 0) != fresh.get(key, 0)]
