"""Use-cases that combine storage and the domain: what the command line and the window both call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlite_utils

from app import demo_state
from app.clocks import Clock, clocks_at
from app.metrics import daily_series, metrics_as_of
from app.reconcile import reconcile
from app.settings import Settings, load_settings
from app.snapshot import load_snapshot
from app.timeutil import local_day

SERIES_DAYS = 180


def today(settings: Settings, now: Callable[[], float] = time.time) -> date:
    """The current day in the marketplace time zone."""
    return local_day(now(), settings.zone)


def compute_metrics(db: sqlite_utils.Database, as_of: date, settings: Settings | None = None) -> dict:
    """Every figure as of the end of `as_of`, with Amazon's latest report beside the ODR."""
    settings = settings or load_settings(db)
    figures = metrics_as_of(load_snapshot(db, as_of, as_of, settings), as_of)
    figures["reconciliation"] = reconcile(db, settings)
    return figures


def compute_series(
    db: sqlite_utils.Database, last: date, days: int = SERIES_DAYS, settings: Settings | None = None
) -> list[dict]:
    """The daily figures for the `days` days ending on `last` (for the charts)."""
    settings = settings or load_settings(db)
    first = last - timedelta(days=days - 1)
    return daily_series(load_snapshot(db, first, last, settings), first, last)


def open_clocks(db: sqlite_utils.Database, at: float, settings: Settings | None = None) -> list[Clock]:
    return clocks_at(db, at, settings)


@dataclass(frozen=True)
class MonitorState:
    """Everything the window shows, computed together off the GUI thread."""

    computed_at: float
    as_of: date
    timezone: str
    metrics: dict
    series: list[dict]
    clocks: list[Clock]
    has_orders: bool
    demo: bool
    settings: Settings = field(repr=False, default_factory=Settings)


def refresh(
    db: sqlite_utils.Database, now: Callable[[], float] = time.time, series_days: int = SERIES_DAYS
) -> MonitorState:
    """The figures as of today, the daily series for the charts and the clocks open right now."""
    settings = load_settings(db)
    at = now()
    as_of = today(settings, lambda: at)
    return MonitorState(
        computed_at=at,
        as_of=as_of,
        timezone=settings.timezone,
        metrics=compute_metrics(db, as_of, settings),
        series=compute_series(db, as_of, series_days, settings),
        clocks=open_clocks(db, at, settings),
        has_orders=db.execute("SELECT EXISTS (SELECT 1 FROM orders)").fetchone()[0] == 1,
        demo=demo_state.is_active(db),
        settings=settings,
    )


def mark_replied(db: sqlite_utils.Database, message_id: str, at: float) -> None:
    """The seller answered a buyer message outside the imported mail: record a manual reply in its thread."""
    row = db.execute("SELECT thread_key, order_id FROM messages WHERE message_id = ?", [message_id]).fetchone()
    if row is None:
        raise LookupError(f"no buyer message {message_id}")
    with db.atomic():
        db.execute(
            "INSERT OR IGNORE INTO replies (message_id, thread_key, order_id, sent_at, automatic, source) "
            "VALUES (?, ?, ?, ?, 0, 'manual')",
            [f"manual:{message_id}", row[0], row[1], int(at)],
        )


def mark_no_response_needed(db: sqlite_utils.Database, message_id: str, at: float) -> None:
    """The seller marked a message *no response needed*: it leaves the reply clock and LRR."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE messages SET no_response_needed_at = ? WHERE message_id = ? AND no_response_needed_at IS NULL",
            [int(at), message_id],
        )
    if cursor.rowcount == 0 and not db.execute("SELECT 1 FROM messages WHERE message_id = ?", [message_id]).fetchone():
        raise LookupError(f"no buyer message {message_id}")
