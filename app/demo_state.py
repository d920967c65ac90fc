"""Whether the database holds demo data, and clearing it (the seller's own imports never mix with it)."""

from __future__ import annotations

import sqlite_utils

from storage.settings import delete_setting, read_settings, write_setting

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
    return bool(read_settings(db).get(DEMO_FLAG))


def mark_active(db: sqlite_utils.Database) -> None:
    write_setting(db, DEMO_FLAG, True)


def has_data(db: sqlite_utils.Database) -> bool:
    return any(db.execute(f"SELECT EXISTS (SELECT 1 FROM [{table}])").fetchone()[0] for table in DATA_TABLES)


def clear(db: sqlite_utils.Database) -> None:
    """Delete every imported record (demo data only ever goes into an empty database)."""
    with db.atomic():
        for table in DATA_TABLES:
            db.execute(f"DELETE FROM [{table}]")
        delete_setting(db, DEMO_FLAG)
