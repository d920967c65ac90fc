"""The settings table: one JSON value per key. Which keys exist and their defaults live in `app.settings`."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils


def read_settings(db: sqlite_utils.Database) -> dict[str, Any]:
    return {row["key"]: json.loads(row["value"]) for row in db.query("SELECT key, value FROM settings")}


def write_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value)],
    )


def delete_setting(db: sqlite_utils.Database, key: str) -> None:
    db.execute("DELETE FROM settings WHERE key = ?", [key])
