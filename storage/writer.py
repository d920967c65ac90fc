"""Writing imported records idempotently, counting what each row did.

Each batch of records goes through one `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE` statement: a
new natural key is inserted; an existing one is updated only if a reported column differs (and, where
the record carries a version, it is not older than the stored one). SQLite's change counter tells how
many rows were inserted or updated, and the rows past the table's largest rowid before the import tell
which were added, so a million-row report is counted without reading anything back row by row.
Columns the seller sets by hand (removal status, responses, flags) are not in the record and are never
overwritten by a re-import.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils


class TableWriter:
    """Inserts and updates one table's records; `spec` is an `app.records.RecordSpec`-shaped object."""

    def __init__(self, db: sqlite_utils.Database, spec):
        self.conn = db.conn
        self.spec = spec
        columns = spec.columns
        quoted = ", ".join(f"[{name}]" for name in columns)
        params = ", ".join("?" * len(columns))
        key = ", ".join(f"[{name}]" for name in spec.key)
        self.sql = f"INSERT INTO [{spec.table}] ({quoted}) VALUES ({params}) ON CONFLICT ({key}) DO "
        others = [name for name in columns if name not in spec.key]
        if not others:
            self.sql += "NOTHING"
            return
        kept = getattr(spec, "kept", ())
        value = {name: _kept_value(name) if name in kept else f"excluded.[{name}]" for name in others}
        assignments = ", ".join(f"[{name}] = {value[name]}" for name in others)
        differs = " OR ".join(f"[{name}] IS NOT {value[name]}" for name in others)
        newer = f"excluded.[{spec.version}] >= [{spec.version}] AND " if spec.version else ""
        self.sql += f"UPDATE SET {assignments} WHERE {newer}({differs})"

    def write(self, rows: Sequence[tuple]) -> int:
        """Write a batch; returns how many rows were inserted or changed."""
        if not rows:
            return 0
        before = self.conn.total_changes
        self.conn.executemany(self.sql, rows)
        return self.conn.total_changes - before

    def mark(self) -> int:
        """The table's largest rowid, taken before an import: every row the import adds gets a larger one
        (SQLite gives a new row the rowid after the largest, and an import deletes nothing)."""
        return self.conn.execute(f"SELECT coalesce(max(rowid), 0) FROM [{self.spec.table}]").fetchone()[0]

    def added_since(self, mark: int) -> int:
        """Rows added since `mark` (a rowid range: no count of every row of a table of millions)."""
        sql = f"SELECT count(*) FROM [{self.spec.table}] WHERE rowid > ?"
        return self.conn.execute(sql, [mark]).fetchone()[0]


def _kept_value(name: str) -> str:
    """The new value of a column a report may leave out: the stored one when the report says nothing."""
    return (
        f"CASE WHEN coalesce(excluded.[{name}], '') = '' AND coalesce([{name}], '') != '' "
        f"THEN [{name}] ELSE coalesce(excluded.[{name}], [{name}]) END"
    )


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
