"""Read queries the metrics and clocks need, shaped so a million orders never cross into Python one by one.

Orders are counted per local day inside SQLite: the marketplace time zone's few UTC-offset changes in
the range become one CASE expression, so no order's instant is converted in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import NamedTuple

import sqlite_utils

from storage.migrations import ROWS_WITH_A_MARKETPLACE
from storage.order_counts import BUCKET_S, NO_MARKETPLACE

# Every order row is written from one of its item rows, so "an order with at least one item" needs
# no join; cancelled orders and multi-channel (non-Amazon) fulfilment orders are not Amazon orders
# for the rates.
COUNTABLE = "lower(status) <> 'cancelled' AND coalesce(sales_channel, '') NOT LIKE 'non-amazon%'"


class Market(NamedTuple):
    """Limits a query to one marketplace. `home`: the marketplace of rows that name none (an order stored
    without one, a row of an unknown order imported before marketplaces)."""

    code: str
    home: str


def order_market_sql(market: Market | None, indexed: bool = True) -> tuple[str, list]:
    """` AND …` keeping only orders of the marketplace (nothing without one). `indexed`: SQLite may find them
    by the marketplace's index; without, it looks only at the rows other conditions find (a range of rowids:
    the index would walk every order of the marketplace)."""
    if market is None:
        return "", []
    # Spelled so SQLite can use the (marketplace, purchased_at) index: coalesce() would hide the column. The
    # importer and the migration give every order its marketplace; an order stored without one is the home's.
    column = "marketplace" if indexed else "+marketplace"
    if market.code == market.home:
        return f" AND ({column} = ? OR {column} IS NULL)", [market.code]
    return f" AND {column} = ?", [market.code]


def effective_marketplace_sql(row: str) -> str:
    """A row's marketplace: its order's when the order is known, else its own, else the home one (the one
    parameter, `?`)."""
    return f"coalesce((SELECT o.marketplace FROM orders o WHERE o.order_id = {row}.order_id), {row}.marketplace, ?)"


def row_market_sql(table: str, market: Market | None) -> tuple[str, list]:
    """` AND …` keeping only rows of the marketplace: their order's when the order is known, else their own."""
    if market is None:
        return "", []
    return f" AND {effective_marketplace_sql(table)} = ?", [market.home, market.code]


def local_day_sql(column: str, segments: list[tuple[int, int]]) -> str:
    """SQL turning a UTC epoch column into its local `YYYY-MM-DD` with the zone's offset pieces."""
    return f"date({column} + {_offset_sql(column, segments)}, 'unixepoch')"


def local_day_number_sql(column: str, segments: list[tuple[int, int]], instant: str | None = None) -> str:
    """SQL turning a UTC epoch column into its local day as days since 1970-01-01 (for instants from then on:
    integer division rounds towards zero, and so does the cast of an instant stored with a fraction). Cheaper
    than formatting a date for every row. `instant`: the SQL of the instant, when `column` is not one itself."""
    instant = instant or f"CAST({column} AS INTEGER)"
    return f"({instant} + {_offset_sql(instant, segments)}) / {DAY_S}"


def _offset_sql(column: str, segments: list[tuple[int, int]]) -> str:
    cases = " ".join(
        f"WHEN {column} < {segments[index + 1][0]} THEN {segments[index][1]}" for index in range(len(segments) - 1)
    )
    return f"CASE {cases} ELSE {segments[-1][1]} END" if cases else str(segments[0][1])


DAY_S = 86400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def order_counts_by_day(
    db: sqlite_utils.Database, segments: list[tuple[int, int]], start: int, end: int, market: Market | None = None
) -> list[tuple[date, str, int]]:
    """(local day, channel, countable orders) for orders purchased in [start, end)."""
    if not _whole_buckets(segments, start, end):
        return _counted_one_by_one(db, segments, start, end, market)
    where, params = order_market_sql(market, indexed=False)
    bucket_where, bucket_params = _bucket_market_sql(market)
    # The buckets hold the orders under the mark; those written since are counted one by one beside them.
    sql = (
        f"SELECT day, channel, sum(number) FROM ("
        f"SELECT {local_day_number_sql('bucket', segments, f'bucket * {BUCKET_S}')} AS day, channel, "
        f"orders AS number FROM order_counts WHERE bucket >= ? AND bucket < ?{bucket_where} "
        f"UNION ALL SELECT {local_day_number_sql('purchased_at', segments)}, channel, 1 FROM orders "
        f"WHERE rowid > (SELECT counted_through FROM order_counts_mark) "
        f"AND +purchased_at >= ? AND +purchased_at < ? AND {COUNTABLE}{where}"
        f") GROUP BY day, channel HAVING sum(number) <> 0"
    )
    rows = db.execute(sql, [start // BUCKET_S, end // BUCKET_S, *bucket_params, start, end, *params]).fetchall()
    return [(date.fromordinal(EPOCH_ORDINAL + day), channel, number) for day, channel, number in rows]


def _whole_buckets(segments: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether every local midnight and offset change of the range falls on a bucket's edge (true of every
    zone since the 1970s; a range reaching earlier is counted one by one)."""
    edges = [start, end, *(instant for instant, _ in segments), *(offset for _, offset in segments)]
    return start + min(offset for _, offset in segments) >= 0 and all(edge % BUCKET_S == 0 for edge in edges)


def _bucket_market_sql(market: Market | None) -> tuple[str, list]:
    if market is None:
        return "", []
    if market.code == market.home:
        return " AND marketplace IN (?, ?)", [market.code, NO_MARKETPLACE]
    return " AND marketplace = ?", [market.code]


def _counted_one_by_one(
    db: sqlite_utils.Database, segments: list[tuple[int, int]], start: int, end: int, market: Market | None
) -> list[tuple[date, str, int]]:
    where, params = order_market_sql(market)
    before_1970 = start + min(offset for _, offset in segments) < 0
    day = local_day_sql("purchased_at", segments) if before_1970 else local_day_number_sql("purchased_at", segments)
    sql = (
        f"SELECT {day} AS day, channel, count(*) FROM orders "
        f"WHERE purchased_at >= ? AND purchased_at < ? AND {COUNTABLE}{where} GROUP BY day, channel"
    )
    rows = db.execute(sql, [start, end, *params]).fetchall()
    if before_1970:
        return [(date.fromisoformat(day), channel, number) for day, channel, number in rows]
    return [(date.fromordinal(EPOCH_ORDINAL + day), channel, number) for day, channel, number in rows]


def first_order_at(db: sqlite_utils.Database, market: Market | None = None) -> int | None:
    """The first purchase instant imported (a lone min(), answered from an index). The last day orders cover
    is `latest_seen`'s, which counts only what existed by the day asked about."""
    if market is None:
        return db.execute("SELECT min(purchased_at) FROM orders").fetchone()[0]
    # One index lookup per marketplace value: an OR would make SQLite read every order of the marketplace.
    wanted = [("marketplace = ?", [market.code])]
    if market.code == market.home:
        wanted.append(("marketplace IS NULL", []))
    found = [
        db.execute(f"SELECT min(purchased_at) FROM orders WHERE {where}", params).fetchone()[0]
        for where, params in wanted
    ]
    found = [value for value in found if value is not None]
    return min(found) if found else None


def order_marketplaces(db: sqlite_utils.Database, home: str) -> list[str]:
    """The marketplaces that have orders, each found by one index lookup rather than a scan of every order."""
    found = []
    if db.execute("SELECT EXISTS (SELECT 1 FROM orders WHERE marketplace IS NULL)").fetchone()[0]:
        found.append(home)
    code = db.execute("SELECT min(marketplace) FROM orders").fetchone()[0]
    while code is not None:
        found.append(code)
        code = db.execute("SELECT min(marketplace) FROM orders WHERE marketplace > ?", [code]).fetchone()[0]
    return sorted(set(found))


def only_home_marketplace(db: sqlite_utils.Database, home: str) -> bool:
    """Whether every order and every row of an unknown order is the home marketplace's (a seller selling in
    one marketplace: nothing needs to be told apart)."""
    if any(code != home for code in order_marketplaces(db, home)):
        return False
    # Two ranges of each table's marketplace index (migration 10) rather than a scan for `<>`.
    others = " OR ".join(
        f"EXISTS (SELECT 1 FROM {table} WHERE marketplace < :home OR marketplace > :home)"
        for table in ROWS_WITH_A_MARKETPLACE
    )
    return not db.execute(f"SELECT {others}", {"home": home}).fetchone()[0]


ROW_DAYS = {"feedback": "feedback_date", "fbm_returns": "request_date", "claims": "filed_on"}


def row_marketplaces(
    db: sqlite_utils.Database, first_day: str, last_day: str, start: int, end: int, home: str, known: set[str]
) -> set[str]:
    """The marketplaces beyond `known` (those with orders) of feedback, returns and claims dated
    `first_day`..`last_day` and of messages received in [start, end) whose order is unknown: a marketplace
    can have such rows and no orders. Rows of a known order are not looked at one by one: they are in
    their order's marketplace, already known."""
    unknown = "NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = t.order_id)"
    # A row without a marketplace of its own is the home marketplace's: looked for only when that is new.
    own = "t.marketplace IS NOT NULL" if home in known else "1"
    found: set[str] = set()
    for table, column in ROW_DAYS.items():
        sql = (
            f"SELECT DISTINCT coalesce(t.marketplace, ?) FROM {table} t "
            f"WHERE {column} BETWEEN ? AND ? AND {own} AND {unknown}"
        )
        found.update(row[0] for row in db.execute(sql, [home, first_day, last_day]))
    sql = (
        "SELECT DISTINCT coalesce(t.marketplace, ?) FROM messages t WHERE received_at >= ? AND received_at < ? "
        f"AND {own} AND (t.order_id IS NULL OR {unknown})"
    )
    found.update(row[0] for row in db.execute(sql, [home, start, end]))
    return found - known


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


# SQLite's limit on host parameters is 999 in older builds: lists of keys go to `IN (…)` in pieces under it.
CHUNK = 500


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for index in range(0, len(values), size):
        yield values[index : index + size]


def unknown_orders(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[str]:
    """The ids among `order_ids` of no imported order."""
    ids = sorted(set(order_ids))
    known: set[str] = set()
    for chunk in chunks(ids):
        marks = ", ".join("?" * len(chunk))
        known.update(row[0] for row in db.execute(f"SELECT order_id FROM orders WHERE order_id IN ({marks})", chunk))
    return [order_id for order_id in ids if order_id not in known]


def orders_with_feedback_or_claims(db: sqlite_utils.Database, order_ids: Iterable[str]) -> bool:
    """Whether a feedback or a claim is on any of `order_ids` (each found by its key's index)."""
    for chunk in chunks(sorted(set(order_ids))):
        marks = ", ".join("?" * len(chunk))
        for table in ("feedback", "claims"):
            if db.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE order_id IN ({marks}))", chunk).fetchone()[0]:
                return True
    return False


def order_marketplaces_of(db: sqlite_utils.Database, order_ids: Iterable[str]) -> dict[str, str]:
    """The stored marketplace of each imported order among `order_ids` (orders stored with none left out)."""
    found: dict[str, str] = {}
    for chunk in chunks(sorted(set(order_ids))):
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT order_id, marketplace FROM orders WHERE marketplace IS NOT NULL AND order_id IN ({marks})"
        found.update(db.execute(sql, chunk).fetchall())
    return found


def set_marketplace(db: sqlite_utils.Database, table: str, order_ids: list[str], marketplace: str) -> None:
    for chunk in chunks(order_ids):
        marks = ", ".join("?" * len(chunk))
        db.execute(f"UPDATE [{table}] SET marketplace = ? WHERE order_id IN ({marks})", [marketplace, *chunk])


def negative_feedback(
    db: sqlite_utils.Database, first_day: str, last_day: str, market: Market | None = None
) -> list[dict]:
    where, params = row_market_sql("feedback", market)
    return list(
        db.query(
            f"SELECT * FROM feedback WHERE rating <= 2 AND feedback_date >= ? AND feedback_date <= ?{where}",
            [first_day, last_day, *params],
        )
    )


def all_feedback_for(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[dict]:
    ids = sorted(set(order_ids))
    rows: list[dict] = []
    for chunk in chunks(ids):
        rows += db.query(f"SELECT * FROM feedback WHERE order_id IN ({', '.join('?' * len(chunk))})", chunk)
    return rows


def claims_that_may_be_on_a_clock(db: sqlite_utils.Database, decided_after: str, granted_from: str) -> list[dict]:
    """The claims still open, decided after `decided_after` (open until then), or granted on `granted_from` or
    later (their appeal may still run): the others can be on no clock from the day after `decided_after` on."""
    return list(
        db.query(
            "SELECT * FROM claims WHERE status = 'open' OR decided_on > ? OR (status = 'granted' AND decided_on >= ?)",
            [decided_after, granted_from],
        )
    )


def claims(db: sqlite_utils.Database, market: Market | None = None) -> list[dict]:
    where, params = row_market_sql("claims", market)
    return list(db.query(f"SELECT * FROM claims WHERE 1{where}", params))


# --- Rows as tuples, for the figures -------------------------------------------------------------------------------
# The snapshot reads tens of thousands of rows: a dict per row costs more than SQLite's reading of it, so these
# queries hand back plain tuples of the fields below, in this order, and the readers take them by position.

FEEDBACK_FIELDS = (
    "order_id",
    "feedback_date",
    "rating",
    "comments",
    "struck_through",
    "removal_status",
    "removed_on",
    "removal_requested_on",
)
CLAIM_FIELDS = (
    "order_id",
    "type",
    "filed_on",
    "status",
    "reason",
    "decided_on",
    "buy_shipping_protected",
    "amount",
    "responded_at",
    "appeal_filed_on",
)
MESSAGE_FIELDS = (
    "message_id",
    "thread_key",
    "order_id",
    "received_at",
    "kind",
    "topic",
    "subject",
    "body",
    "no_response_needed_at",
)
RETURN_FIELDS = (
    "return_id",
    "order_id",
    "request_date",
    "status",
    "reason",
    "negative_return_feedback",
    "incorrectly_closed",
    "responded_at",
)
REPLY_FIELDS = ("thread_key", "order_id", "sent_at", "automatic")
# A record's order, joined to it: these follow the record's own fields (all None when the order is unknown).
ORDER_FIELDS = ("order_id", "purchased_at", "channel", "status", "sales_channel")


def _record_rows(
    db: sqlite_utils.Database,
    table: str,
    fields: tuple[str, ...],
    where: str,
    params: list,
    market: Market | None,
    with_order: bool = False,
    order_by: str = "",
) -> list[tuple]:
    """`fields` of the rows of `table` (as `t`) matching `where`, each followed by its order's ORDER_FIELDS
    with `with_order`: one join rather than a second read of the orders by id."""
    columns = ", ".join(f"t.{name}" for name in fields)
    joined = ""
    if with_order:
        columns += ", " + ", ".join(f"o.{name}" for name in ORDER_FIELDS)
        joined = " LEFT JOIN orders o ON o.order_id = t.order_id"
    if market is not None:
        # The joined order's marketplace is the one effective_marketplace_sql would look up.
        mine = "coalesce(o.marketplace, t.marketplace, ?)" if with_order else effective_marketplace_sql("t")
        where += f" AND {mine} = ?"
        params = [*params, market.home, market.code]
    sql = f"SELECT {columns} FROM {table} t{joined} WHERE {where}{order_by}"
    return db.execute(sql, params).fetchall()


def negative_feedback_rows(
    db: sqlite_utils.Database, first_day: str, last_day: str, market: Market | None = None
) -> list[tuple]:
    """FEEDBACK_FIELDS + ORDER_FIELDS of the 1-2 star feedback dated `first_day`..`last_day`."""
    where = "t.rating <= 2 AND t.feedback_date >= ? AND t.feedback_date <= ?"
    return _record_rows(db, "feedback", FEEDBACK_FIELDS, where, [first_day, last_day], market, with_order=True)


# Feedback nobody removed or struck through is on the record from its own day on (`rules.visible_interval`):
# NFR needs only how many there are per day, not a record each. The two conditions split the feedback in two.
# The importers store struck_through as 0 or 1; anything else is read as the records read it (taken off).
ON_RECORD = "t.struck_through = 0 AND coalesce(t.removal_status, '') NOT IN ('removed', 'struck_through')"
TAKEN_OFF = f"NOT ({ON_RECORD})"


def taken_off_feedback_rows(
    db: sqlite_utils.Database, first_day: str, last_day: str, market: Market | None = None
) -> list[tuple]:
    """FEEDBACK_FIELDS of the feedback dated `first_day`..`last_day` that was removed or struck through."""
    where = f"t.feedback_date >= ? AND t.feedback_date <= ? AND {TAKEN_OFF}"
    return _record_rows(db, "feedback", FEEDBACK_FIELDS, where, [first_day, last_day], market)


def feedback_counts_between(
    db: sqlite_utils.Database, first_day: str, last_day: str, market: Market | None = None
) -> list[tuple[str, int, int, int]]:
    """(day, ratings, negative, positive) per day of the feedback dated `first_day`..`last_day` that stays on
    the record: the rest of what `taken_off_feedback_rows` leaves out."""
    where = f"t.feedback_date >= ? AND t.feedback_date <= ? AND {ON_RECORD}"
    params: list = [first_day, last_day]
    if market is not None:
        where += f" AND {effective_marketplace_sql('t')} = ?"
        params += [market.home, market.code]
    return db.execute(
        "SELECT t.feedback_date, count(*), sum(t.rating <= 2), sum(t.rating >= 4) "
        f"FROM feedback t WHERE {where} GROUP BY t.feedback_date",
        params,
    ).fetchall()


def feedback_counts_by_marketplace(
    db: sqlite_utils.Database, first_day: str, last_day: str, home: str
) -> list[tuple[str, str, int, int, int]]:
    """`feedback_counts_between` of every marketplace at once: (day, marketplace, ratings, negative, positive),
    each row in its effective marketplace (`effective_marketplace_sql`)."""
    return db.execute(
        f"SELECT t.feedback_date, {effective_marketplace_sql('t')} AS market, count(*), sum(t.rating <= 2), "
        f"sum(t.rating >= 4) FROM feedback t WHERE t.feedback_date >= ? AND t.feedback_date <= ? AND {ON_RECORD} "
        "GROUP BY t.feedback_date, market",
        [home, first_day, last_day],
    ).fetchall()


def claim_rows(db: sqlite_utils.Database, purchased_from: int, market: Market | None = None) -> list[tuple]:
    """CLAIM_FIELDS + ORDER_FIELDS of every claim on an order purchased at or after `purchased_from`, or on an
    order not imported. A claim on an older order is in no window the figures look at, however late it came."""
    where = "(o.order_id IS NULL OR o.purchased_at >= ?)"
    return _record_rows(db, "claims", CLAIM_FIELDS, where, [purchased_from], market, with_order=True)


def message_rows_between(
    db: sqlite_utils.Database, start: int, end: int, market: Market | None = None, with_order: bool = True
) -> list[tuple]:
    """MESSAGE_FIELDS (+ ORDER_FIELDS `with_order`) of the messages received in [start, end), oldest first."""
    where = "t.received_at >= ? AND t.received_at < ?"
    order_by = " ORDER BY t.received_at"
    return _record_rows(db, "messages", MESSAGE_FIELDS, where, [start, end], market, with_order, order_by)


def message_rows_of_threads(db: sqlite_utils.Database, thread_keys: Iterable[str], start: int, end: int) -> list[tuple]:
    """MESSAGE_FIELDS of the messages of `thread_keys` received in [start, end): what `message_rows_between`
    gives of those threads (without their orders, over every marketplace)."""
    columns = ", ".join(f"t.{name}" for name in MESSAGE_FIELDS)
    rows: list[tuple] = []
    for chunk in chunks(sorted(set(thread_keys))):
        marks = ", ".join("?" * len(chunk))
        rows += db.execute(
            f"SELECT {columns} FROM messages t WHERE t.thread_key IN ({marks}) "
            "AND t.received_at >= ? AND t.received_at < ? ORDER BY t.received_at",
            [*chunk, start, end],
        ).fetchall()
    return rows


def return_rows_between(
    db: sqlite_utils.Database, first_day: str, last_day: str, market: Market | None = None
) -> list[tuple]:
    """RETURN_FIELDS of the seller-fulfilled return requests made `first_day`..`last_day`."""
    where = "t.request_date >= ? AND t.request_date <= ?"
    return _record_rows(db, "fbm_returns", RETURN_FIELDS, where, [first_day, last_day], market)


def reply_rows_since(db: sqlite_utils.Database, thread_keys: Iterable[str], since: int) -> list[tuple]:
    """REPLY_FIELDS of the replies in `thread_keys` sent at or after `since`, oldest first in each chunk."""
    rows: list[tuple] = []
    for chunk in chunks(sorted(set(thread_keys))):
        marks = ", ".join("?" * len(chunk))
        rows += db.execute(
            f"SELECT {', '.join(REPLY_FIELDS)} FROM replies WHERE thread_key IN ({marks}) "
            "AND sent_at >= ? ORDER BY sent_at",
            [*chunk, since],
        ).fetchall()
    return rows


def order_rows_by_id(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[tuple]:
    """ORDER_FIELDS of the given orders (chunked to stay under SQLite's limits)."""
    rows: list[tuple] = []
    for chunk in chunks(sorted({order_id for order_id in order_ids if order_id})):
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT {', '.join(ORDER_FIELDS)} FROM orders WHERE order_id IN ({marks})"
        rows += db.execute(sql, chunk).fetchall()
    return rows


def unanswered_message_rows(
    db: sqlite_utils.Database, at: int, message_id: str | None = None, threads: Iterable[str] | None = None
) -> list[tuple]:
    """MESSAGE_FIELDS of the messages received by `at` with no real reply in their thread by then (candidates
    for reply clocks), oldest first; `message_id`: only that message; `threads`: only those threads'."""
    if threads is not None:
        rows: list[tuple] = []
        for chunk in chunks(sorted(set(threads))):
            marks = ", ".join(f":t{index}" for index in range(len(chunk)))
            params = {f"t{index}": key for index, key in enumerate(chunk)}
            rows += _unanswered(db, at, f"AND m.thread_key IN ({marks})", params)
        return rows
    only = "" if message_id is None else "AND m.message_id = :message_id"
    return _unanswered(db, at, only, {"message_id": message_id})


def _unanswered(db: sqlite_utils.Database, at: int, only: str, params: dict) -> list[tuple]:
    columns = ", ".join(f"m.{name}" for name in MESSAGE_FIELDS)
    return db.execute(
        f"""SELECT {columns} FROM messages m
               WHERE m.received_at <= :at {only}
                 AND (m.no_response_needed_at IS NULL OR m.no_response_needed_at > :at)
                 AND NOT EXISTS (
                     SELECT 1 FROM replies r
                     WHERE r.thread_key = m.thread_key AND r.automatic = 0
                       AND r.sent_at >= m.received_at AND r.sent_at <= :at
                       AND (r.order_id IS NULL OR m.order_id IS NULL OR r.order_id = m.order_id))
               ORDER BY m.received_at""",
        {"at": at, **params},
    ).fetchall()


def returns_between(
    db: sqlite_utils.Database, first_day: str, last_day: str, market: Market | None = None
) -> list[dict]:
    where, params = row_market_sql("fbm_returns", market)
    return list(
        db.query(
            f"SELECT * FROM fbm_returns WHERE request_date >= ? AND request_date <= ?{where}",
            [first_day, last_day, *params],
        )
    )


def pending_returns(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM fbm_returns WHERE lower(status) LIKE 'pending%' AND responded_at IS NULL"))


def health_snapshots(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT sha256, imported_at, report_json FROM account_health_snapshots ORDER BY imported_at"))


# The column that identifies a row of each table that records belong to an order through.
ROW_KEYS = {
    "feedback": "order_id",
    "messages": "message_id",
    "fbm_returns": "return_id",
    "fba_returns": "return_key",
    "claims": "order_id",
    "replies": "message_id",
}
# Tables whose rows carry no marketplace of their own: a reply is its order's.
NO_OWN_MARKETPLACE = {"replies"}


def marketplaces_of(db: sqlite_utils.Database, table: str, keys: Iterable[str], home: str) -> dict[str, str]:
    """The marketplace of each row named by `keys`: its order's when the order is known, else its own."""
    column = ROW_KEYS[table]
    found: dict[str, str] = {}
    effective = effective_marketplace_sql("t")
    if table in NO_OWN_MARKETPLACE:
        effective = "coalesce((SELECT o.marketplace FROM orders o WHERE o.order_id = t.order_id), ?)"
    for chunk in chunks(sorted(set(keys))):
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT t.{column}, {effective} FROM {table} t WHERE t.{column} IN ({marks})"
        found.update(db.execute(sql, [home, *chunk]).fetchall())
    return found
