"""The settings table: one JSON value per key. Which keys exist and their defaults live in `app.settings`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlite_utils


def read_settings(db: sqlite_utils.Database, keys: Iterable[str] = (), prefix: str | None = None) -> dict[str, Any]:
    """Every stored setting, or (given `keys` or `prefix`) only those keys and the keys starting with `prefix`:
    the app keeps large values there too (the last figures, for the next start) that settings need not parse."""
    wanted = sorted(keys)
    if not wanted and prefix is None:
        rows = db.query("SELECT key, value FROM settings")
    else:
        where = f"key IN ({', '.join('?' * len(wanted))})" if wanted else "0"
        params: list = wanted
        if prefix is not None:
            where += " OR substr(key, 1, ?) = ?"
            params = [*wanted, len(prefix), prefix]
        rows = db.query(f"SELECT key, value FROM settings WHERE {where}", params)
    return {row["key"]: json.loads(row["value"]) for row in rows}


def read_setting(db: sqlite_utils.Database, key: str, default: Any = None) -> Any:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return default if row is None else json.loads(row[0])


def write_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value)],
    )


def delete_setting(db: sqlite_utils.Database, key: str) -> None:
    db.execute("DELETE FROM settings WHERE key = ?", [key])
