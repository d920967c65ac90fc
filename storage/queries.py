"""Read queries the metrics and clocks need, shaped so a million orders never cross into Python one by one.

Orders are counted per local day inside SQLite: the marketplace time zone's few UTC-offset changes in
the range become one CASE expression, so no order's instant is converted in Python.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

# Every order row is written from one of its item rows, so "an order with at least one item" needs
# no join; cancelled orders and multi-channel (non-Amazon) fulfilment orders are not Amazon orders
# for the rates.
COUNTABLE = "lower(status) <> 'cancelled' AND coalesce(sales_channel, '') NOT LIKE 'non-amazon%'"


def local_day_sql(column: str, segments: list[tuple[int, int]]) -> str:
    """SQL turning a UTC epoch column into its local `YYYY-MM-DD` with the zone's offset pieces."""
    cases = " ".join(
        f"WHEN {column} < {segments[index + 1][0]} THEN {segments[index][1]}" for index in range(len(segments) - 1)
    )
    offset = f"CASE {cases} ELSE {segments[-1][1]} END" if cases else str(segments[0][1])
    return f"date({column} + {offset}, 'unixepoch')"


def order_counts_by_day(
    db: sqlite_utils.Database, segments: list[tuple[int, int]], start: int, end: int
) -> list[tuple[str, str, int]]:
    """(local day, channel, countable orders) for orders purchased in [start, end)."""
    day = local_day_sql("purchased_at", segments)
    sql = (
        f"SELECT {day} AS day, channel, count(*) FROM orders "
        f"WHERE purchased_at >= ? AND purchased_at < ? AND {COUNTABLE} GROUP BY day, channel"
    )
    return [tuple(row) for row in db.execute(sql, [start, end]).fetchall()]


def first_order_at(db: sqlite_utils.Database) -> int | None:
    """The first purchase instant imported (a lone min(), answered from the index). The last day orders cover
    is `latest_seen`'s, which counts only what existed by the day asked about."""
    return db.execute("SELECT min(purchased_at) FROM orders").fetchone()[0]


LATEST_SEEN = {  # (query, whether the column holds an instant rather than a local day)
    "orders": ("SELECT max(purchased_at) FROM orders WHERE purchased_at < ?", True),
    "feedback": ("SELECT max(feedback_date) FROM feedback WHERE feedback_date <= ?", False),
    "fbm_returns": ("SELECT max(request_date) FROM fbm_returns WHERE request_date <= ?", False),
    "fba_returns": ("SELECT max(returned_at) FROM fba_returns WHERE returned_at < ?", True),
    "messages": ("SELECT max(received_at) FROM messages WHERE received_at < ?", True),
    "claims": ("SELECT max(filed_on) FROM claims WHERE filed_on <= ?", False),
}


def latest_seen(db: sqlite_utils.Database, until_day: str, until_instant: int) -> dict[str, object]:
    """The latest date or instant seen in each kind of data up to a day (None when there is none): what
    came later does not exist for that day's figures. Each is a max() SQLite answers from an index."""
    return {
        kind: db.execute(sql, [until_instant if instant else until_day]).fetchone()[0]
        for kind, (sql, instant) in LATEST_SEEN.items()
    }


def orders_by_id(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[dict]:
    """Purchase instant, channel and status of the given orders (chunked to stay under SQLite's limits)."""
    ids = sorted({order_id for order_id in order_ids if order_id})
    rows: list[dict] = []
    for index in range(0, len(ids), 500):
        chunk = ids[index : index + 500]
        marks = ", ".join("?" * len(chunk))
        rows += db.query(
            f"SELECT order_id, purchased_at, channel, status, sales_channel FROM orders WHERE order_id IN ({marks})",
            chunk,
        )
    return rows


def negative_feedback(db: sqlite_utils.Database, first_day: str, last_day: str) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM feedback WHERE rating <= 2 AND feedback_date >= ? AND feedback_date <= ?",
            [first_day, last_day],
        )
    )


def feedback_between(db: sqlite_utils.Database, first_day: str, last_day: str) -> list[dict]:
    return list(
        db.query("SELECT * FROM feedback WHERE feedback_date >= ? AND feedback_date <= ?", [first_day, last_day])
    )


def all_feedback_for(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[dict]:
    ids = sorted(set(order_ids))
    rows: list[dict] = []
    for index in range(0, len(ids), 500):
        chunk = ids[index : index + 500]
        rows += db.query(f"SELECT * FROM feedback WHERE order_id IN ({', '.join('?' * len(chunk))})", chunk)
    return rows


def claims(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM claims"))


def messages_between(db: sqlite_utils.Database, start: int, end: int) -> list[dict]:
    return list(
        db.query("SELECT * FROM messages WHERE received_at >= ? AND received_at < ? ORDER BY received_at", [start, end])
    )


def replies_since(db: sqlite_utils.Database, thread_keys: Iterable[str], since: int) -> list[dict]:
    keys = sorted(set(thread_keys))
    rows: list[dict] = []
    for index in range(0, len(keys), 500):
        chunk = keys[index : index + 500]
        marks = ", ".join("?" * len(chunk))
        rows += db.query(
            f"SELECT thread_key, order_id, sent_at, automatic FROM replies WHERE thread_key IN ({marks}) "
            "AND sent_at >= ? ORDER BY sent_at",
            [*chunk, since],
        )
    return rows


def unanswered_messages(db: sqlite_utils.Database, at: int) -> list[dict]:
    """Messages received by `at` with no real reply in their thread by then (candidates for reply clocks)."""
    return list(
        db.query(
            """SELECT m.* FROM messages m
               WHERE m.received_at <= :at
                 AND (m.no_response_needed_at IS NULL OR m.no_response_needed_at > :at)
                 AND NOT EXISTS (
                     SELECT 1 FROM replies r
                     WHERE r.thread_key = m.thread_key AND r.automatic = 0
                       AND r.sent_at >= m.received_at AND r.sent_at <= :at
                       AND (r.order_id IS NULL OR m.order_id IS NULL OR r.order_id = m.order_id))
               ORDER BY m.received_at""",
            {"at": at},
        )
    )


def returns_between(db: sqlite_utils.Database, first_day: str, last_day: str) -> list[dict]:
    return list(
        db.query("SELECT * FROM fbm_returns WHERE request_date >= ? AND request_date <= ?", [first_day, last_day])
    )


def pending_returns(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM fbm_returns WHERE lower(status) LIKE 'pending%' AND responded_at IS NULL"))


def health_snapshots(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT sha256, imported_at, report_json FROM account_health_snapshots ORDER BY imported_at"))
