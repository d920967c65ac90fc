"""Importing report files into the database: the use-case behind `main.py import` and the Import dialog.

Each report is imported in one transaction: all of its readable rows or nothing. Rows that cannot be
read are rejected with their line number and the rest still import; a file that cannot be read as a
report at all is refused and leaves the database exactly as it was. Every outcome, refusals included,
is written to the import log.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlite_utils

from app import demo_state
from app.importers import (
    ImportOptions,
    Rejection,
    ReportError,
    ReportKind,
    ReportSource,
    UnknownReport,
    first_encoding,
    next_encoding,
    open_sources,
    recognise,
)
from app.importers.ahead import parse_maybe_ahead
from app.importers.common import Note
from app.importers.source import read_prefix
from app.settings import load_settings
from storage import order_counts
from storage.db import DatabaseFiles
from storage.migrations import MARKETPLACE_TABLES
from storage.queries import order_marketplaces_of, set_marketplace, unknown_orders
from storage.transaction import database_path, write_transaction
from storage.writer import TableWriter, latest_per_key

BATCH_ROWS = 5000
IMPORT_CACHE_KIB = 64 * 1024  # the page cache while a report imports
KEPT_REJECTIONS = 1000


class ImportCancelled(Exception):
    """The seller cancelled the import; the file's transaction was rolled back."""


@dataclass
class Progress:
    """How far an import has got (for the progress bar)."""

    file: str
    rows: int
    bytes_read: int
    total_bytes: int


@dataclass
class FileResult:
    """What importing one report did."""

    file: str
    outcome: str  # "imported" | "no_rows" | "refused" | "cancelled"
    kind: str | None = None
    kind_label: str | None = None
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    ignored: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    message: str | None = None
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None
    sha256: str | None = None
    # The marketplace chosen for the file, and how many of its rows took it because their order is unknown.
    marketplace: str | None = None
    unknown_order_rows: int = 0

    @property
    def recognised(self) -> bool:
        return self.outcome != "refused"

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + self.rejected + self.ignored

    @property
    def unknown_order_words(self) -> str | None:
        """Which marketplace the file's rows of orders not imported yet were given, for the seller (None:
        no such row)."""
        rows = self.unknown_order_rows
        if not rows:
            return None
        return (
            f"{rows} {'row' if rows == 1 else 'rows'} for orders not among your imported orders: given the "
            f"{self.marketplace} marketplace (each moves to its order's marketplace once that order is imported)"
        )

    def to_json(self) -> dict:
        data = asdict(self)
        data["rejections"] = [{"line": r.line, "reason": r.reason} for r in self.rejections]
        return data


ProgressCallback = Callable[[Progress], None]


def import_files(
    db: sqlite_utils.Database,
    paths: Iterable[str | Path],
    *,
    progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
    now: Callable[[], float] = time.time,
    marketplace: str | None = None,
) -> list[FileResult]:
    """Import each file (each member of a zip archive separately); one result per report.

    The monitor's own database (or its -wal, -shm, -journal file) is refused before it is opened: reading
    it here would drop this process's SQLite locks on it (sqlite.org/howtocorrupt.html §2.2).
    """
    results: list[FileResult] = []
    own = DatabaseFiles(database_path(db))
    for path in paths:
        try:
            if own.holds(path):
                raise ReportError(
                    f"{Path(path).name} is the monitor's own database, not a report: it is never imported"
                )
            sources = open_sources(path)
        except ReportError as error:
            result = FileResult(file=Path(path).name, outcome="refused", message=str(error))
            _log(db, result, now)
            results.append(result)
            continue
        for source in sources:
            results.append(
                import_source(db, source, progress=progress, cancelled=cancelled, now=now, marketplace=marketplace)
            )
    return results


def import_source(
    db: sqlite_utils.Database,
    source: ReportSource,
    *,
    progress: ProgressCallback | None = None,
    cancelled: Callable[[], bool] | None = None,
    now: Callable[[], float] = time.time,
    marketplace: str | None = None,
) -> FileResult:
    try:
        kind = recognise(source)
        encoding = first_encoding(read_prefix(source))
    except ReportError as error:
        result = FileResult(file=source.name, outcome="refused", message=str(error))
        _log(db, result, now)
        return result
    settings = load_settings(db)
    # A file imported for another marketplace is read as that marketplace writes it (its feedback dates).
    mine = settings.for_marketplace(marketplace) if marketplace else settings
    options = ImportOptions(
        date_order=mine.date_order,
        marketplace=mine.marketplace,
        file_marketplace=mine.marketplace,
        order_marketplaces=lambda order_ids: order_marketplaces_of(db, order_ids),
    )
    with _larger_cache(db):
        return _import_source(db, source, kind, encoding, options, progress, cancelled, now)


@contextmanager
def _larger_cache(db: sqlite_utils.Database) -> Iterator[None]:
    """SQLite's page cache raised to IMPORT_CACHE_KIB for the import: a large report's rows go into the
    orders' and items' key indexes all over them, and with the default 2 MB cache each batch reads and
    writes back the same pages again."""
    conn = db.conn
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {before}")


def _import_source(db, source, kind, encoding, options, progress, cancelled, now) -> FileResult:
    while True:
        try:
            with write_transaction(db):
                result = _import_rows(db, source, kind, encoding, options, progress, cancelled)
                order_counts.catch_up(db)
                result.sha256 = source.sha256()
                _log(db, result, now)
            return result
        except UnicodeDecodeError:
            try:
                encoding = next_encoding(source, encoding)
            except ReportError as error:
                return _refuse(db, source, kind, str(error), now)
        except ReportError as error:
            return _refuse(db, source, None if isinstance(error, UnknownReport) else kind, str(error), now)
        except ImportCancelled:
            result = FileResult(
                file=source.name,
                outcome="cancelled",
                kind=kind.key,
                kind_label=kind.label,
                message="Import cancelled: nothing from this file was stored.",
            )
            _log(db, result, now)
            return result


def _refuse(db, source: ReportSource, kind: ReportKind | None, message: str, now) -> FileResult:
    result = FileResult(
        file=source.name,
        outcome="refused",
        kind=kind.key if kind else None,
        kind_label=kind.label if kind else None,
        message=message.rstrip() + ("" if message.rstrip().endswith(".") else ".") + " Nothing from it was stored.",
    )
    _log(db, result, now)
    return result


def _import_rows(db, source, kind: ReportKind, encoding: str, options, progress, cancelled) -> FileResult:
    result = FileResult(file=source.name, outcome="imported", kind=kind.key, kind_label=kind.label, encoding=encoding)
    if demo_state.is_active(db) and kind.specs:  # an empty (cancelled) report brings nothing to replace it
        demo_state.clear(db)
        result.notes.append("The demo data was cleared before this first import of your own reports.")
    writers = [TableWriter(db, spec) for spec in kind.specs]
    counted = [writer for writer in writers if writer.spec.counted]
    marks = [writer.mark() for writer in counted]
    batches: list[list[tuple]] = [[] for _ in kind.specs]
    changed = valid = rows_seen = 0

    def flush() -> None:
        nonlocal changed
        for writer, batch in zip(writers, batches, strict=True):
            if writer.spec.counted:
                changed += writer.write(batch)
            else:
                writer.write(latest_per_key(writer.spec, batch))
            batch.clear()

    order_rows = _OrderRows(kind.specs)
    tracked = order_rows.tracked  # whether any record's order id is looked up afterwards
    appends = [batch.append for batch in batches]
    for _line, payload in parse_maybe_ahead(source, kind, encoding, options):
        payload_type = type(payload)  # one look-up, no isinstance: this loop runs once per row of the file
        if payload_type is Note:  # about the whole file (how its dates were read), not a row
            result.notes.append(payload.text)
            continue
        rows_seen += 1
        if payload_type is Rejection:
            result.rejected += 1
            if len(result.rejections) < KEPT_REJECTIONS:
                result.rejections.append(payload)
        # `None not in payload` settles the common case (every record there) without the slower generator
        elif None not in payload or any(record is not None for record in payload):
            valid += 1
            for append, record in zip(appends, payload, strict=True):
                if record is not None:
                    append(record)
            if tracked:
                order_rows.add(payload)
        else:
            result.ignored += 1
        if rows_seen % BATCH_ROWS == 0:
            flush()
            _report(source, rows_seen, progress, cancelled)
    flush()
    _report(source, rows_seen, progress, cancelled)
    result.marketplace = options.file_marketplace
    result.unknown_order_rows = order_rows.give_marketplace(db, options.file_marketplace)
    result.added = sum(writer.added_since(mark) for writer, mark in zip(counted, marks, strict=True))
    result.updated = changed - result.added
    result.unchanged = valid - changed
    if rows_seen == 0:
        result.outcome = "no_rows"
        result.message = "Amazon cancelled this report: it has no rows." if kind.key == "cancelled" else "No rows."
    return result


class _OrderRows:
    """The order ids of a file's feedback, return, claim and message rows, per table: those whose order is
    unknown are given the file's marketplace (rows of a known order take their order's when figures are
    computed, so theirs is not needed)."""

    def __init__(self, specs):
        self.positions = [
            (spec.table, spec.columns.index("order_id"))
            if spec.table in MARKETPLACE_TABLES and "order_id" in spec.columns
            else None
            for spec in specs
        ]
        self.rows: dict[str, Counter] = {}
        self.tracked = any(place is not None for place in self.positions)

    def add(self, payload: tuple) -> None:
        for place, record in zip(self.positions, payload, strict=True):
            if place is not None and record is not None and record[place[1]]:
                self.rows.setdefault(place[0], Counter())[record[place[1]]] += 1

    def give_marketplace(self, db: sqlite_utils.Database, marketplace: str) -> int:
        """Store `marketplace` on the rows whose order is unknown; how many rows of the file those are."""
        unknown_rows = 0
        for table, counts in self.rows.items():
            unknown = unknown_orders(db, counts)
            unknown_rows += sum(counts[order_id] for order_id in unknown)
            set_marketplace(db, table, unknown, marketplace)
        return unknown_rows


def _report(source: ReportSource, rows: int, progress, cancelled) -> None:
    if cancelled is not None and cancelled():
        raise ImportCancelled
    if progress is not None:
        progress(Progress(source.name, rows, source.bytes_read, source.total_bytes))


def _log(db: sqlite_utils.Database, result: FileResult, now) -> None:
    errors = [[r.line, r.reason] for r in result.rejections]
    db.execute(
        """INSERT INTO import_log (imported_at, file_name, sha256, kind, outcome, added, updated, unchanged,
               rejected, message, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            int(now()),
            result.file,
            result.sha256,
            result.kind,
            result.outcome,
            result.added,
            result.updated,
            result.unchanged,
            result.rejected,
            result.message,
            json.dumps(errors) if errors else None,
        ],
    )
