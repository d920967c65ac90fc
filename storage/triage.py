"""Triage tables (migration 3): the escalation matrix's edits, completed sessions and the items they
showed, resolutions, category overrides; and the few reads of imported records triage needs.

Plain rows in, plain rows out: what an item is and when it is new lives in `app.triage`.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from storage.queries import chunks


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    return chunks(sorted({value for value in values if value}))


# --- Escalation matrix ------------------------------------------------------------------------------------------


def matrix_rows(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            'SELECT category, "case", action, who, response_hours, amount, template, updated_at FROM triage_matrix '
            'ORDER BY category, "case"'
        )
    )


def upsert_matrix_row(db: sqlite_utils.Database, row: dict) -> None:
    """Store one edited entry ({category, case, action, who, response_hours, amount, updated_at}, and
    `template`: None for the shipped one)."""
    db.execute(
        'INSERT INTO triage_matrix (category, "case", action, who, response_hours, amount, template, updated_at) '
        "VALUES (:category, :case, :action, :who, :response_hours, :amount, :template, :updated_at) "
        'ON CONFLICT (category, "case") DO UPDATE SET action = excluded.action, who = excluded.who, '
        "response_hours = excluded.response_hours, amount = excluded.amount, template = excluded.template, "
        "updated_at = excluded.updated_at",
        {"template": None, **row},
    )


def delete_matrix_rows(db: sqlite_utils.Database, category: str | None = None, case: str | None = None) -> int:
    """Forget the seller's edits: all of them, one category's, or one entry's. Returns how many went."""
    if category is None:
        return db.execute("DELETE FROM triage_matrix").rowcount
    if case is None:
        return db.execute("DELETE FROM triage_matrix WHERE category = ?", [category]).rowcount
    return db.execute('DELETE FROM triage_matrix WHERE category = ? AND "case" = ?', [category, case]).rowcount


# --- Sessions ---------------------------------------------------------------------------------------------------


def sessions(db: sqlite_utils.Database) -> list[dict]:
    """Every completed triage, oldest first."""
    return list(db.query("SELECT * FROM triage_sessions ORDER BY completed_at, id"))


def insert_session(
    db: sqlite_utils.Database,
    completed_at: int,
    window_start: str,
    window_end: str,
    keys: Iterable[str],
    resolved: int,
) -> int:
    keys = sorted(set(keys))
    cursor = db.execute(
        "INSERT INTO triage_sessions (completed_at, window_start, window_end, items, resolved) VALUES (?, ?, ?, ?, ?)",
        [completed_at, window_start, window_end, len(keys), resolved],
    )
    session_id = cursor.lastrowid
    db.conn.executemany(
        "INSERT INTO triage_session_items (session_id, item_key) VALUES (?, ?)", [(session_id, key) for key in keys]
    )
    return session_id


def seen_keys(db: sqlite_utils.Database) -> set[str]:
    """Keys of every item a completed triage showed."""
    return {row[0] for row in db.execute("SELECT DISTINCT item_key FROM triage_session_items")}


def session_keys(db: sqlite_utils.Database, session_id: int) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT item_key FROM triage_session_items WHERE session_id = ? ORDER BY item_key", [session_id]
        )
    ]


# --- Resolutions ------------------------------------------------------------------------------------------------


def active_resolutions(db: sqlite_utils.Database) -> list[dict]:
    """The resolution in force for each resolved item (the latest not ended)."""
    return list(db.query("SELECT * FROM triage_resolutions WHERE ended_at IS NULL ORDER BY resolved_at, id"))


def insert_resolution(db: sqlite_utils.Database, row: dict) -> int:
    """Add a resolution ({item_key, order_id, item_kind, action, note, resolved_at}); an earlier one in force
    for the same item ends as superseded."""
    db.execute(
        "UPDATE triage_resolutions SET ended_at = :resolved_at, ended_by = 'superseded' "
        "WHERE item_key = :item_key AND ended_at IS NULL",
        row,
    )
    cursor = db.execute(
        "INSERT INTO triage_resolutions (item_key, order_id, item_kind, action, note, resolved_at) "
        "VALUES (:item_key, :order_id, :item_kind, :action, :note, :resolved_at)",
        row,
    )
    return cursor.lastrowid


def end_resolution(db: sqlite_utils.Database, key: str, at: int) -> int:
    """Reopen an item: its resolution in force ends as reopened. Returns how many ended (0 or 1)."""
    return db.execute(
        "UPDATE triage_resolutions SET ended_at = ?, ended_by = 'reopened' WHERE item_key = ? AND ended_at IS NULL",
        [at, key],
    ).rowcount


def reopened_since(db: sqlite_utils.Database, since: int) -> set[str]:
    """Keys reopened after `since` and not resolved again."""
    return {
        row[0]
        for row in db.execute(
            "SELECT DISTINCT item_key FROM triage_resolutions r WHERE ended_by = 'reopened' AND ended_at > ? "
            "AND NOT EXISTS (SELECT 1 FROM triage_resolutions a WHERE a.item_key = r.item_key AND a.ended_at IS NULL)",
            [since],
        )
    }


def resolutions_for_order(db: sqlite_utils.Database, order_id: str) -> list[dict]:
    """Every resolution ever recorded on an order's items, reopened ones included, oldest first."""
    return list(db.query("SELECT * FROM triage_resolutions WHERE order_id = ? ORDER BY resolved_at, id", [order_id]))


def resolutions_for_key(db: sqlite_utils.Database, key: str) -> list[dict]:
    return list(db.query("SELECT * FROM triage_resolutions WHERE item_key = ? ORDER BY resolved_at, id", [key]))


# --- Category overrides -----------------------------------------------------------------------------------------


def category_overrides(db: sqlite_utils.Database) -> dict[str, str]:
    return {row[0]: row[1] for row in db.execute("SELECT item_key, category FROM triage_categories")}


def set_category_override(db: sqlite_utils.Database, key: str, category: str, at: int) -> None:
    db.execute(
        "INSERT INTO triage_categories (item_key, category, set_at) VALUES (?, ?, ?) "
        "ON CONFLICT (item_key) DO UPDATE SET category = excluded.category, set_at = excluded.set_at",
        [key, category, at],
    )


def delete_category_override(db: sqlite_utils.Database, key: str) -> None:
    db.execute("DELETE FROM triage_categories WHERE item_key = ?", [key])


# --- Imported records triage reads ------------------------------------------------------------------------------


def fba_returns_between(db: sqlite_utils.Database, start: int, end: int) -> list[dict]:
    """FBA customer returns processed in [start, end) (epoch seconds)."""
    return list(
        db.query(
            "SELECT * FROM fba_returns WHERE returned_at >= ? AND returned_at < ? ORDER BY returned_at", [start, end]
        )
    )


def claims_filed_between(db: sqlite_utils.Database, first_day: str, last_day: str) -> list[dict]:
    return list(db.query("SELECT * FROM claims WHERE filed_on >= ? AND filed_on <= ?", [first_day, last_day]))


def unfavourable_feedback_between(db: sqlite_utils.Database, first_day: str, last_day: str) -> list[dict]:
    """Feedback of 1 to 3 stars dated `first_day`..`last_day` (the triage lists no other; most are 5 stars)."""
    return list(
        db.query(
            "SELECT * FROM feedback WHERE feedback_date >= ? AND feedback_date <= ? AND rating <= 3",
            [first_day, last_day],
        )
    )


_ORDER_ITEMS = "SELECT order_id, product_name, sku, item_price, quantity, currency FROM order_items WHERE order_id IN "


def order_item_rows(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[tuple]:
    """`order_items` as tuples in its column order (tens of thousands of rows: a dict each costs more than
    the read)."""
    rows: list[tuple] = []
    for chunk in _chunks(order_ids):
        rows += db.conn.execute(_ORDER_ITEMS + f"({', '.join('?' * len(chunk))})", chunk).fetchall()
    return rows


def order_items(db: sqlite_utils.Database, order_ids: Iterable[str]) -> list[dict]:
    """order_id, product_name, sku, item_price, quantity, currency of the given orders' items."""
    rows: list[dict] = []
    for chunk in _chunks(order_ids):
        marks = ", ".join("?" * len(chunk))
        rows += db.query(_ORDER_ITEMS + f"({marks})", chunk)
    return rows


def lookup_record(db: sqlite_utils.Database, table: str, column: str, value: str) -> dict | None:
    """One row of a record table by its key column (table and column come from code, never from input)."""
    rows = list(db.query(f"SELECT * FROM [{table}] WHERE [{column}] = ? LIMIT 1", [value]))
    return rows[0] if rows else None


def claim_row(db: sqlite_utils.Database, order_id: str, claim_type: str) -> dict | None:
    rows = list(db.query("SELECT * FROM claims WHERE order_id = ? AND type = ?", [order_id, claim_type]))
    return rows[0] if rows else None


# --- What the list must reach back to ---------------------------------------------------------------------------


def first_shown(db: sqlite_utils.Database) -> dict[str, int]:
    """Key -> the instant of the first completed triage that showed it."""
    return {
        row[0]: row[1]
        for row in db.execute(
            "SELECT i.item_key, MIN(s.completed_at) FROM triage_session_items i "
            "JOIN triage_sessions s ON s.id = i.session_id GROUP BY i.item_key"
        )
    }


def earliest_undecided_claim(db: sqlite_utils.Database, as_of: str) -> str | None:
    """The filing day of the oldest claim or chargeback not decided by the end of `as_of`."""
    row = db.execute(
        "SELECT MIN(filed_on) FROM claims WHERE filed_on <= ? AND (status = 'open' OR decided_on > ?)", [as_of, as_of]
    ).fetchone()
    return row[0] if row else None


_KEY_DAYS = {
    "feedback": ("SELECT MIN(feedback_date) FROM feedback WHERE order_id IN ({})", "day"),
    "return": ("SELECT MIN(request_date) FROM fbm_returns WHERE return_id IN ({})", "day"),
    "message": ("SELECT MIN(received_at) FROM messages WHERE message_id IN ({})", "instant"),
    "fba_return": ("SELECT MIN(returned_at) FROM fba_returns WHERE return_key IN ({})", "instant"),
}


def earliest_of_keys(db: sqlite_utils.Database, keys: Iterable[str]) -> tuple[list[str], list[int]]:
    """The oldest record date (days, as stored) and instant (epoch seconds) among the items `keys` name."""
    by_prefix: dict[str, list[str]] = {}
    for key in keys:
        prefix, _, rest = key.partition(":")
        by_prefix.setdefault(prefix, []).append(rest)
    days: list[str] = []
    instants: list[int] = []
    for prefix, (sql, unit) in _KEY_DAYS.items():
        for chunk in _chunks(by_prefix.get(prefix, [])):
            value = db.execute(sql.format(", ".join("?" * len(chunk))), chunk).fetchone()[0]
            if value is not None:
                (days if unit == "day" else instants).append(value)
    claim_orders = [rest.rsplit(":", 1)[0] for rest in by_prefix.get("claim", []) if ":" in rest]
    for chunk in _chunks(claim_orders):
        marks = ", ".join("?" * len(chunk))
        value = db.execute(f"SELECT MIN(filed_on) FROM claims WHERE order_id IN ({marks})", chunk).fetchone()[0]
        if value is not None:
            days.append(value)
    instants += [
        int(rest.rpartition(":")[2]) for rest in by_prefix.get("status", []) if rest.rpartition(":")[2].isdigit()
    ]
    return days, instants


# --- Closing an item's clock on its record ----------------------------------------------------------------------


def record_claim_response(db: sqlite_utils.Database, order_id: str, claim_type: str, at: int) -> int:
    return db.execute(
        "UPDATE claims SET responded_at = ? WHERE order_id = ? AND type = ? "
        "AND (responded_at IS NULL OR responded_at > ?)",
        [at, order_id, claim_type, at],
    ).rowcount


def record_return_response(db: sqlite_utils.Database, return_id: str, at: int) -> int:
    return db.execute(
        "UPDATE fbm_returns SET responded_at = ? WHERE return_id = ? AND (responded_at IS NULL OR responded_at > ?)",
        [at, return_id, at],
    ).rowcount


def record_removal_request(db: sqlite_utils.Database, order_id: str, day: str) -> int:
    return db.execute(
        "UPDATE feedback SET removal_requested_on = ? WHERE order_id = ? "
        "AND (removal_requested_on IS NULL OR removal_requested_on > ?)",
        [day, order_id, day],
    ).rowcount


def record_reply(db: sqlite_utils.Database, message_id: str, at: int) -> int:
    """A reply the seller recorded in triage, in the message's thread (as `app.marks.mark_replied` does)."""
    row = db.execute("SELECT thread_key, order_id FROM messages WHERE message_id = ?", [message_id]).fetchone()
    if row is None:
        return 0
    return db.execute(
        "INSERT OR IGNORE INTO replies (message_id, thread_key, order_id, sent_at, automatic, source) "
        "VALUES (?, ?, ?, ?, 0, 'manual')",
        [f"triage:{message_id}:{at}", row[0], row[1], at],
    ).rowcount
