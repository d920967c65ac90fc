"""Use-cases that combine storage and the domain: what the command line and the window both call."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

import sqlite_utils

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
