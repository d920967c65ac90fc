"""Whether the database holds demo data, and clearing it (the seller's own imports never mix with it)."""

from __future__ import annotations

import sqlite_utils

from storage.settings import delete_setting, read_setting, write_setting
from storage.transaction import write_transaction

DEMO_FLAG = "state.demo_active"
DATA_TABLES = (
    "orders",
    "order_items",
    "feedback",
    "fbm_returns",
    "fba_returns",
    "claims",
    "messages",
    "replies",
    "account_health_snapshots",
)


def is_active(db: sqlite_utils.Database) -> bool:
    return bool(read_setting(db, DEMO_FLAG))


def mark_active(db: sqlite_utils.Database) -> None:
    write_setting(db, DEMO_FLAG, True)


def has_data(db: sqlite_utils.Database) -> bool:
    return any(db.execute(f"SELECT EXISTS (SELECT 1 FROM [{table}])").fetchone()[0] for table in DATA_TABLES)


# What the app derived from the demo seller: its triage sessions and resolutions, its alerts and status
# history. Kept, they would make the seller's first real triage "Triage 2" and compare their first figures
# with the made-up seller's. (The escalation matrix is the seller's own choice and stays.)
DEMO_HISTORY_TABLES = (
    "alerts",
    "metric_status",
    "status_changes",
    "triage_session_items",
    "triage_sessions",
    "triage_resolutions",
    "triage_categories",
)
DEMO_STATE_KEYS = (DEMO_FLAG, "state.last_figures", "state.triage_reminded_at")


def clear(db: sqlite_utils.Database) -> None:
    """Delete every imported record and what was derived from the demo (demo data only ever goes into an
    empty database, so nothing of the seller's is touched)."""
    with write_transaction(db):
        for table in (*DATA_TABLES, *DEMO_HISTORY_TABLES):
            db.execute(f"DELETE FROM [{table}]")
        for key in DEMO_STATE_KEYS:
            delete_setting(db, key)


def remove(db: sqlite_utils.Database) -> None:
    """The seller removes the demo: cleared, and not loaded again at the next start."""
    with write_transaction(db):
        clear(db)
        write_setting(db, "demo_on_empty", False)
