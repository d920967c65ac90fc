"""Amazon's account-health reports as kept: the snapshots, and migration 5's `amazon_health_reports` view
of them (one row per imported report and marketplace).

Plain rows out; what the figures in `metrics_json` mean is read in `app.amazon`.
"""

from __future__ import annotations

from datetime import date

import sqlite_utils

COLUMNS = ("sha256", "position", "marketplace_id", "imported_at", "reported_through", "account_status", "metrics_json")
# Each kept report, dated by the latest day any of its marketplaces reports on (NULL: it gives no date, or
# has no marketplace entry).
REPORTS = """WITH report AS (
    SELECT snapshot.sha256 AS sha256, max(entry.reported_through) AS reported_through,
           snapshot.imported_at AS imported_at, snapshot.rowid AS stored
    FROM account_health_snapshots AS snapshot
    LEFT JOIN amazon_health_reports AS entry ON entry.sha256 = snapshot.sha256
    GROUP BY snapshot.sha256)"""
# A report reporting on days after `as_of` did not exist yet at the end of that day; one without dates could
# have, so it counts.
EXISTED_BY = "(:as_of IS NULL OR report.reported_through IS NULL OR report.reported_through <= :as_of)"
# A report is as new as the latest day it reports on: importing last month's report after this month's must
# not make it the current one. A report giving no date at all ranks before every dated one. Then the import
# instant, then the order they were stored in (two reports imported within a second).
OLDEST_FIRST = "report.reported_through IS NOT NULL, report.reported_through, report.imported_at, report.stored"
NEWEST_FIRST = (
    "report.reported_through IS NOT NULL DESC, report.reported_through DESC, report.imported_at DESC, "
    "report.stored DESC"
)


def _day(as_of: date | None) -> str | None:
    return as_of.isoformat() if as_of else None


def newest_report(db: sqlite_utils.Database, as_of: date | None = None) -> str | None:
    """The digest of the newest report that existed by the end of `as_of` (of any report when None)."""
    row = db.execute(
        f"{REPORTS} SELECT report.sha256 FROM report WHERE {EXISTED_BY} ORDER BY {NEWEST_FIRST} LIMIT 1",
        {"as_of": _day(as_of)},
    ).fetchone()
    return row[0] if row else None


def snapshot(db: sqlite_utils.Database, sha256: str) -> dict | None:
    """The kept report itself: {sha256, imported_at, report_json}."""
    rows = list(
        db.query("SELECT sha256, imported_at, report_json FROM account_health_snapshots WHERE sha256 = ?", [sha256])
    )
    return rows[0] if rows else None


def report_rows(db: sqlite_utils.Database, sha256: str) -> list[dict]:
    """One report's marketplaces, in the report's order."""
    columns = ", ".join(COLUMNS)
    return list(db.query(f"SELECT {columns} FROM amazon_health_reports WHERE sha256 = ? ORDER BY position", [sha256]))


def history_rows(db: sqlite_utils.Database, marketplace_id: str | None = None, as_of: date | None = None) -> list[dict]:
    """Each report's row for one marketplace (every row when None), oldest report first; with `as_of`, only
    the reports that existed by the end of that day."""
    columns = ", ".join(f"entry.{name} AS {name}" for name in COLUMNS)
    where = EXISTED_BY + (" AND entry.marketplace_id = :marketplace" if marketplace_id is not None else "")
    return list(
        db.query(
            f"""{REPORTS} SELECT {columns}
                FROM report JOIN amazon_health_reports AS entry ON entry.sha256 = report.sha256
                WHERE {where} ORDER BY {OLDEST_FIRST}, entry.position""",
            {"as_of": _day(as_of), "marketplace": marketplace_id},
        )
    )
