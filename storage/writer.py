"""Writing imported records idempotently, counting what each row did.

Each record is first inserted if its natural key is new (`ON CONFLICT DO NOTHING`), then updated if its
key exists and any reported column differs (and, where the record carries a version, it is not older
than the stored one). Both statements run through `executemany` over a batch, and SQLite's change
counter tells how many rows each touched, so a million-row report is counted without reading it back.
Columns the seller sets by hand (removal status, responses, flags) are not in the record and are never
overwritten by a re-import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils


@dataclass
class WriteCounts:
    added: int = 0
    updated: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.added += other.added
        self.updated += other.updated
        return self


class TableWriter:
    """Inserts and updates one table's records; `spec` is an `app.records.RecordSpec`-shaped object."""

    def __init__(self, db: sqlite_utils.Database, spec):
        self.conn = db.conn
        self.spec = spec
        columns = spec.columns
        number = {name: index for index, name in enumerate(columns, start=1)}
        quoted = ", ".join(f"[{name}]" for name in columns)
        params = ", ".join(f"?{number[name]}" for name in columns)
        self.insert_sql = f"INSERT INTO [{spec.table}] ({quoted}) VALUES ({params}) ON CONFLICT DO NOTHING"
        others = [name for name in columns if name not in spec.key]
        if not others:
            self.update_sql = None
            return
        assignments = ", ".join(f"[{name}] = ?{number[name]}" for name in others)
        where_key = " AND ".join(f"[{name}] = ?{number[name]}" for name in spec.key)
        differs = " OR ".join(f"[{name}] IS NOT ?{number[name]}" for name in others)
        newer = f" AND ?{number[spec.version]} >= [{spec.version}]" if spec.version else ""
        self.update_sql = f"UPDATE [{spec.table}] SET {assignments} WHERE {where_key}{newer} AND ({differs})"

    def write(self, rows: Sequence[tuple]) -> WriteCounts:
        if not rows:
            return WriteCounts()
        conn = self.conn
        before = conn.total_changes
        conn.executemany(self.insert_sql, rows)
        inserted = conn.total_changes
        if self.update_sql:
            conn.executemany(self.update_sql, rows)
        return WriteCounts(added=inserted - before, updated=conn.total_changes - inserted)


def latest_per_key(spec, rows: Sequence[tuple]) -> list[tuple]:
    """One record per key, the newest (by version, then by position): for records written beside the
    counted ones (an order repeats on each of its item rows), so each is written once per batch."""
    key_positions = [spec.columns.index(name) for name in spec.key]
    version = spec.columns.index(spec.version) if spec.version else None
    latest: dict = {}
    for row in rows:
        key = row[key_positions[0]] if len(key_positions) == 1 else tuple(row[i] for i in key_positions)
        held = latest.get(key)
        if held is None or version is None or row[version] >= held[version]:
            latest[key] = row
    return list(latest.values())
