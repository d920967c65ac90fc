"""The worker's last figures, kept for the next recomputation when nothing they were computed from changed.

The cards and charts (metrics, series, has_orders, demo) depend on the seller's records, the settings and
the day (`as_of`), never on the instant within the day. Most of the seller's writes (a triage category, a
reopened item, a completed triage, a matrix edit, a resolution that ends no clock) change only tables the
figures never read, and recomputing them would take seconds on years of orders for the same result.

What changed is observed, not declared: the worker's own writes go through one connection of its own, on
which temporary triggers note every table a statement inserts into, updates or deletes from; a commit by
any other connection (an import, the mailbox, the command line, the clock check) moves SQLite's
`PRAGMA data_version` on that connection. The figures are reused only when:
  - no other connection committed since they began to be computed (`data_version` unchanged since the
    one read before their first read),
  - every table the worker's writes touched since is one the figures never read (`FIGURE_FREE_TABLES`), or
    the order counts caught up (`COUNTED_TABLES`),
  - the settings are equal and the day (`as_of`) is the same.
When the worker's writes touched buyer messages or replies too (a mark, its undo), the triggers on those
tables also note the thread of each row changed; on orders and their items (an import of a few rows, which
runs on this connection: `SMALL_IMPORT_BYTES`), the order of each row changed and its purchase instant
before and after. The figures are then patched rather than recomputed (`changes`,
`services.patched_figures`): the records they were computed from are kept with them, only those threads are
read again, and only the order counts of those purchase days, unless a record the figures were computed from
names one of those orders. Anything else recomputes them from scratch, so a write path nobody thought of is
slow, never wrong.

The clocks and the triage list depend on the instant and are always counted again, but from what was read
for them last (`kept_clocks`, `kept_triage`) while it holds: under the same conditions, and until the first
instant a read could find other rows (`clocks.read_until`), with the threads written to read again, and
read anew when one of their records names an order written to.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.clocks import KeptClockInputs
from app.settings import Settings
from app.triage_inputs import KeptTriageRecords
from storage import open_db

log = logging.getLogger(__name__)

# Read by the triage list, the clocks or the money panel (all recomputed every time), by the alerts, or not
# read at all for the figures: the snapshot, the metrics, the reconciliation and Amazon's own figures read
# the orders, their items, feedback, claims, returns, messages, replies, Amazon's reports and the settings.
FIGURE_FREE_TABLES = frozenset(
    {
        "triage_matrix",
        "triage_sessions",
        "triage_session_items",
        "triage_resolutions",
        "triage_categories",
        "alerts",
        "metric_status",
        "status_changes",
        "import_log",
    }
)
# Tables whose rows name the buyer-message thread they belong to: a write to them is noted by thread too, so the
# figures can be patched (`changes`) rather than computed again.
THREAD_TABLES = frozenset({"messages", "replies"})
# More threads than this changed at once (a bulk write): reading them all again is no faster than the rest.
THREADS_MAX = 200
# Orders and their items: a write to them is noted by order (and purchase instant), so the figures, the clock
# inputs and the triage records are kept when none of their records names the orders written to. The order
# counts are the orders' own, counted by quarter hour (`storage.order_counts`): what they say moves only with
# an order written to, and their catching up (`catch_up`) moves orders into buckets without changing a count.
ORDER_TABLES = frozenset({"orders", "order_items"})
COUNTED_TABLES = frozenset({"order_counts", "order_counts_mark"})
# More orders than this written at once: counting their days again is no faster than the rest.
ORDERS_MAX = 2000
# An import of files this large at most runs on the worker's connection (`app.scheduler`), its rows noted by
# the triggers: a larger one on a connection of its own, without them, and everything is computed again.
SMALL_IMPORT_BYTES = 1_000_000
_TOUCHED = "figure_cache_touched"
_THREADS = "figure_cache_threads"
_ORDERS = "figure_cache_orders"


@dataclass(frozen=True)
class Changes:
    """What the worker's writes changed since the figures were kept, beyond tables the figures never read:
    the buyer-message threads, and the orders with the purchase instants they had before and after."""

    threads: frozenset[str] = frozenset()
    orders: frozenset[str] = frozenset()
    purchases: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.threads or self.orders)


@dataclass(frozen=True)
class Figures:
    """The part of a state that depends on the records, the settings and the day only."""

    settings: Settings
    as_of: date
    metrics: dict
    series: list
    series_by_marketplace: dict
    has_orders: bool
    demo: bool
    # What they were computed from, when it can be patched (`services.FigureRecords`); None: it cannot.
    records: object = None


class FigureCache:
    """One connection for the worker's writes and recomputations, and the figures last computed on it.

    Only the thread that adopted it (the worker) uses it, since SQLite connections stay on their thread; any
    other thread gets a connection of its own and no reuse.
    """

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self._db = None
        self._owner: int | None = None
        self._figures: Figures | None = None
        self._clocks: KeptClockInputs | None = None
        self._triage: KeptTriageRecords | None = None
        self._version: int | None = None  # other connections' commits the kept figures include
        self._seen: int | None = None  # the same, read as the running recomputation began
        self._blind = False  # a table without triggers: its writes would go unseen, so nothing is reused
        self._schema: int | None = None  # the schema the triggers were made for
        self._remade = False  # a table was made since the last `keep`

    def adopt(self) -> None:
        """Make the calling thread (the worker) the one whose connection is kept."""
        self._owner = threading.get_ident()

    @contextmanager
    def connection(self) -> Iterator:
        """The worker's connection (opened on first use), or a fresh one on any other thread."""
        if self._owner != threading.get_ident():
            db = open_db(self.db_path)
            try:
                yield db
            finally:
                db.close()
            return
        if self._db is None:
            self._db = open_db(self.db_path)
            self._watch()
        yield self._db

    def _watch(self) -> None:
        self._blind = not _watch_writes(self._db)
        self._schema = _schema_version(self._db)

    def owns(self, db) -> bool:
        return db is self._db and self._db is not None

    def reusable(self, db, settings: Settings, as_of: date) -> Figures | None:
        """The figures last kept, when nothing they depend on changed since. Called as a recomputation
        begins, before it reads anything: the `data_version` read here is the one `keep` records, so a
        commit by another connection while the figures are computed is seen by the next recomputation."""
        self._seen = _data_version(db) if self.owns(db) else None
        kept = self._current(db, settings, as_of)
        return kept if kept is not None and self._touched(db) <= FIGURE_FREE_TABLES | COUNTED_TABLES else None

    def changes(self, db, settings: Settings, as_of: date) -> tuple[Figures, Changes] | None:
        """The figures last kept and what the worker's writes changed since, when a few buyer-message threads
        and orders are all that changed and the figures can be patched (after `reusable` found them not
        reusable as they are, before `keep`)."""
        kept = self._current(db, settings, as_of)
        if kept is None or kept.records is None:
            return None
        changes = self._changes(db, self._touched(db))
        return (kept, changes) if changes else None

    def kept_clocks(self, db) -> tuple[KeptClockInputs, Changes] | None:
        """The clock inputs last kept and what the worker's writes changed since (threads, orders), when
        nothing else they were read from changed (after `reusable`, before `keep`); whether they can be used
        at an instant is theirs to say (`KeptClockInputs.usable_at`). The money items resolved are read
        again every time (`clocks.with_resolved_money`), so a resolution does not stop their use."""
        kept = self._clocks
        if kept is None or not self._unchanged_elsewhere(db):
            return None
        changes = self._changes(db, self._touched(db))
        return (kept, changes) if changes is not None else None

    def kept_triage(self, db) -> tuple[KeptTriageRecords, Changes] | None:
        """The triage list's records last kept and what was written to since, as `kept_clocks` (the
        decisions, status changes and clocks they go with are read again every time)."""
        kept = self._triage
        if kept is None or not self._unchanged_elsewhere(db):
            return None
        changes = self._changes(db, self._touched(db))
        return (kept, changes) if changes is not None else None

    def keep_triage(self, db, records: KeptTriageRecords | None) -> None:
        """Remember the records of the triage list just made (after `keep`, on the same connection)."""
        self._triage = records if self.owns(db) and self._seen is not None else None

    @staticmethod
    def _changes(db, touched: set[str]) -> Changes | None:
        """The threads and orders the worker's writes changed, when the rest of what they touched is
        figure-free (None: something else changed, or too many threads or orders, or a row without its key)."""
        if not touched <= FIGURE_FREE_TABLES | THREAD_TABLES | ORDER_TABLES | COUNTED_TABLES:
            return None
        threads = {row[0] for row in db.execute(f"SELECT DISTINCT thread_key FROM temp.{_THREADS}")}
        if None in threads or len(threads) > THREADS_MAX:
            return None
        orders = {row[0] for row in db.execute(f"SELECT DISTINCT order_id FROM temp.{_ORDERS}")}
        if None in orders or len(orders) > ORDERS_MAX:
            return None
        purchases = db.execute(
            f"SELECT DISTINCT purchased_at FROM temp.{_ORDERS} WHERE purchased_at IS NOT NULL"
        ).fetchall()
        return Changes(frozenset(threads), frozenset(orders), frozenset(row[0] for row in purchases))

    def _current(self, db, settings: Settings, as_of: date) -> Figures | None:
        """The figures kept, when no other connection committed since and they are of these settings and day."""
        kept = self._figures
        if kept is None or not self._unchanged_elsewhere(db):
            return None
        if kept.settings != settings or kept.as_of != as_of:
            return None
        return kept

    def _unchanged_elsewhere(self, db) -> bool:
        """Whether every write since the last `keep` went through this connection's triggers: no other
        connection committed and no table was made since."""
        if self._blind or not self.owns(db) or self._remade:
            return False
        if _schema_version(db) != self._schema:  # a table made or made again has no trigger yet
            self._watch()
            self._remade = True  # its writes went unseen: nothing kept is used until kept again
            return False
        return self._seen == self._version

    def touched(self, db) -> set[str]:
        """The tables the worker's writes touched since the figures were last kept."""
        return self._touched(db) if self.owns(db) else set()

    @staticmethod
    def _touched(db) -> set[str]:
        return {row[0] for row in db.execute(f"SELECT name FROM temp.{_TOUCHED}")}

    def keep(self, db, figures: Figures | None, clocks: KeptClockInputs | None = None) -> None:
        """Remember `figures` and `clocks` as computed from what `db` held when `reusable` was asked (None:
        forget). Called after the recomputation's own writes (the saved state, the status changes), which are
        its results. Not the `data_version` of now: it would take in what another connection committed while
        the figures were computed, and they would be reused without it for the rest of the day."""
        if not self.owns(db) or db.conn.in_transaction or self._seen is None:
            self.forget()
            return
        db.conn.execute(f"DELETE FROM temp.{_TOUCHED}")
        db.conn.execute(f"DELETE FROM temp.{_THREADS}")
        db.conn.execute(f"DELETE FROM temp.{_ORDERS}")
        db.conn.commit()  # the implicit transaction the DELETE opened, on the temporary database only
        self._figures, self._clocks, self._version = figures, clocks, self._seen
        self._remade = False
        self._triage = None  # kept again after the list (`keep_triage`)

    @contextmanager
    def unnoted(self, db) -> Iterator[None]:
        """A write of the worker's own results, which nothing it computes reads (the figures kept for the next
        start): the tables it touches are not noted as changed, unless something else changed them too."""
        before = self._touched(db) if self.owns(db) else None
        try:
            yield
        finally:
            if before is not None:
                marks = ", ".join("?" * len(before))
                db.conn.execute(f"DELETE FROM temp.{_TOUCHED} WHERE name NOT IN ({marks})", sorted(before))
                if db.conn.in_transaction:
                    db.conn.commit()  # the DELETE's own transaction, on the temporary database only

    def forget(self) -> None:
        """Keep no figures or clock inputs (a computation failed half-way)."""
        self._figures = self._clocks = self._triage = None

    def settle(self, db) -> None:
        """End what a write left open on the worker's connection the way closing a connection of its own
        would have: an uncommitted change is rolled back, never seen by the next recomputation alone."""
        if self.owns(db) and db.conn.in_transaction:
            db.conn.rollback()

    def close(self) -> None:
        """Close the worker's connection (on the worker's thread, as the app stops)."""
        db, self._db = self._db, None
        self.forget()
        self._owner = None
        if db is not None:
            db.close()


def _schema_version(db) -> int:
    return db.execute("PRAGMA main.schema_version").fetchone()[0]


def _data_version(db) -> int:
    return db.execute("PRAGMA data_version").fetchone()[0]


def _watch_writes(db) -> bool:
    """Temporary triggers (this connection's only) noting each table its statements change; False when a
    table cannot have one (a virtual table)."""
    # No key, and no conflict clause in the triggers: an outer INSERT OR REPLACE would impose its own on them.
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TOUCHED} (name TEXT)")
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_THREADS} (thread_key TEXT)")
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_ORDERS} (order_id TEXT, purchased_at INTEGER)")
    tables = [
        row[0]
        for row in db.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    for table in tables:
        for event in ("INSERT", "UPDATE", "DELETE"):
            name = f"figure_cache_{event.lower()}_{table}"
            try:
                db.execute(
                    f'CREATE TEMP TRIGGER IF NOT EXISTS "{name}" AFTER {event} ON main."{table}" '
                    f"BEGIN INSERT INTO {_TOUCHED} SELECT '{table}' "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {_TOUCHED} WHERE name = '{table}'); "
                    f"{_thread_notes(table, event)}{_order_notes(table, event)}END"
                )
            except sqlite3.DatabaseError:
                log.warning("changes to %s cannot be watched: the figures are recomputed every time", table)
                return False
    return True


_ROWS = {"INSERT": ("NEW",), "DELETE": ("OLD",), "UPDATE": ("OLD", "NEW")}


def _thread_notes(table: str, event: str) -> str:
    """The trigger's statements noting the thread of each row changed (rows before and after an update)."""
    if table not in THREAD_TABLES:
        return ""
    return "".join(f"INSERT INTO {_THREADS} VALUES ({row}.thread_key); " for row in _ROWS[event])


def _order_notes(table: str, event: str) -> str:
    """The trigger's statements noting the order of each row changed, with an order's purchase instant (rows
    before and after an update: the days whose counts it leaves and joins)."""
    if table not in ORDER_TABLES:
        return ""
    instant = "purchased_at" if table == "orders" else None
    return "".join(
        f"INSERT INTO {_ORDERS} VALUES ({row}.order_id, {f'{row}.{instant}' if instant else 'NULL'}); "
        for row in _ROWS[event]
    )
