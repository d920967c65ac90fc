"""Delivered alerts and the last status of each metric (tables of migration 2).

Plain rows in, plain rows out: what an alert is and when one is due lives in `app.alerts`.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from storage.queries import chunks
from storage.transaction import write_transaction


def delivered_keys(db: sqlite_utils.Database, keys: Iterable[str]) -> set[str]:
    """The subset of `keys` already recorded as delivered."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for chunk in chunks(wanted):
        placeholders = ", ".join("?" * len(chunk))
        found.update(row[0] for row in db.execute(f"SELECT key FROM alerts WHERE key IN ({placeholders})", chunk))
    return found


def insert_delivered(db: sqlite_utils.Database, rows: Iterable[dict]) -> None:
    """Record alert rows (key, kind, title, body, order_id, item_id, delivered_at); a known key keeps its first row."""
    with write_transaction(db):
        for row in rows:
            db.execute(
                "INSERT INTO alerts (key, kind, title, body, order_id, item_id, delivered_at) "
                "VALUES (:key, :kind, :title, :body, :order_id, :item_id, :delivered_at) "
                "ON CONFLICT (key) DO NOTHING",
                row,
            )


def metric_statuses(db: sqlite_utils.Database) -> dict[str, dict]:
    """metric -> {status, rate, changed_at}."""
    return {
        row["metric"]: {"status": row["status"], "rate": row["rate"], "changed_at": row["changed_at"]}
        for row in db.query("SELECT metric, status, rate, changed_at FROM metric_status")
    }


def write_metric_statuses(db: sqlite_utils.Database, rows: Iterable[dict], at: int) -> None:
    """Save each {metric, status, rate}; a new or changed status also gets a row in status_changes."""
    with write_transaction(db):
        current = metric_statuses(db)
        for row in rows:
            before = current.get(row["metric"])
            if before is not None and before["status"] == row["status"]:
                db.execute("UPDATE metric_status SET rate = ? WHERE metric = ?", [row["rate"], row["metric"]])
                continue
            db.execute(
                "INSERT INTO metric_status (metric, status, rate, changed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (metric) DO UPDATE SET status = excluded.status, rate = excluded.rate, "
                "changed_at = excluded.changed_at",
                [row["metric"], row["status"], row["rate"], at],
            )
            db.execute(
                "INSERT INTO status_changes (at, metric, old_status, new_status, rate) VALUES (?, ?, ?, ?, ?)",
                [at, row["metric"], before["status"] if before else None, row["status"], row["rate"]],
            )


def status_changes(db: sqlite_utils.Database) -> list[dict]:
    """Every recorded status change, oldest first."""
    return list(db.query("SELECT at, metric, old_status, new_status, rate FROM status_changes ORDER BY at, id"))


def defect_rows(db: sqlite_utils.Database) -> list[tuple[str, str, str]]:
    """(source, order_id, day) for every stored 1–2 star feedback and every claim, whatever its state.

    `source` is "feedback" or the claim's type ("a-to-z", "chargeback"); `day` is the report's ISO date
    (feedback date, filing date).
    """
    rows = db.execute(
        "SELECT 'feedback', order_id, feedback_date FROM feedback WHERE rating <= 2 "
        "UNION ALL SELECT type, order_id, filed_on FROM claims"
    ).fetchall()
    return [tuple(row) for row in rows]


def latest_day(db: sqlite_utils.Database) -> str | None:
    """The ISO day of the newest dated record: orders, feedback, claims, returns, messages, replies.

    Instants are read as UTC days: a day's difference at midnight only moves a defect between "history"
    and "news" for the import that straddles it.
    """
    row = db.execute(
        "SELECT MAX(day) FROM ("
        " SELECT date(MAX(purchased_at), 'unixepoch') AS day FROM orders"
        " UNION ALL SELECT MAX(feedback_date) FROM feedback"
        " UNION ALL SELECT MAX(filed_on) FROM claims"
        " UNION ALL SELECT MAX(request_date) FROM fbm_returns"
        " UNION ALL SELECT date(MAX(returned_at), 'unixepoch') FROM fba_returns"
        " UNION ALL SELECT date(MAX(received_at), 'unixepoch') FROM messages"
        " UNION ALL SELECT date(MAX(sent_at), 'unixepoch') FROM replies)"
    ).fetchone()
    return row[0] if row and row[0] else None
