"""Use-cases that combine storage and the domain: what the command line and the window both call."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from operator import attrgetter
from pathlib import Path

import sqlite_utils

from app import demo_state, output_files, triage, triage_report
from app.amazon import amazon_block
from app.clocks import (
    A_TO_Z_RESPONSE,
    CHARGEBACK_RESPONSE,
    FBA_REIMBURSEMENT_CLAIM,
    FEEDBACK_REMOVAL,
    RETURN_RESPONSE,
    SAFET_FILING,
    Clock,
    clocks_at,
    item_clocks,
    load_clock_inputs,
)
from app.clocks import open_clocks as clocks_open_at
from app.figure_cache import Changes
from app.marketplace_filter import inputs_by_marketplace, item_marketplaces
from app.metrics import (
    combine_series,
    daily_series,
    marketplace_block,
    metrics_as_of,
    over_marketplaces,
    with_lrr_series,
    with_order_counts,
)
from app.money import MoneySummary, month_summary
from app.reconcile import reconcile
from app.rules import first_day_ending_at_or_after
from app.settings import Settings, load_settings
from app.snapshot import (
    LRR_MAX_DAYS,
    SellerSnapshot,
    contacts_of,
    data_through,
    feedback_counted_by_marketplace,
    load_snapshot,
    message_from_values,
    narrowed,
    snapshot_marketplaces,
    with_days_counted_again,
)
from app.timeutil import day_start, earliest_local_day, end_of_day, local_day, to_iso
from app.triage_inputs import TriageReads, load_matrix, load_resolutions, load_triage_inputs, resolution_from_row
from storage import queries
from storage import triage as triage_store
from storage.queries import Market, message_rows_of_threads, only_home_marketplace
from storage.settings import read_setting, write_setting
from storage.transaction import database_path, write_transaction

SERIES_DAYS = 180


def today(settings: Settings, now: Callable[[], float] = time.time) -> date:
    """The current day in the marketplace time zone."""
    return local_day(now(), settings.zone)


def compute_metrics(
    db: sqlite_utils.Database, as_of: date, settings: Settings | None = None, only: str | None = None
) -> dict:
    """Every figure as of the end of `as_of`; Amazon's own figures from its newest report of that time
    (`amazon`, apart from the monitor's) and that report's ODR beside the monitor's (`reconciliation`).
    `only`: one marketplace's figures."""
    settings = settings or load_settings(db)
    return with_amazons_figures(db, metrics_by_marketplace(db, as_of, settings, only), as_of, settings)


def with_amazons_figures(db: sqlite_utils.Database, figures: dict, as_of: date, settings: Settings) -> dict:
    figures["reconciliation"] = reconcile(db, settings, as_of)
    figures["amazon"] = amazon_block(db, as_of, settings)
    return figures


def metrics_by_marketplace(db: sqlite_utils.Database, as_of: date, settings: Settings, only: str | None = None) -> dict:
    """Every figure as of the end of `as_of` in each marketplace's own days (`marketplaces`), and over all of
    them; `only`: one marketplace's figures alone (its block is then the whole)."""
    codes = [only] if only else snapshot_marketplaces(db, as_of, as_of, settings)
    return figures_of(db, marketplace_snapshots(db, codes, as_of, as_of, settings, only), as_of, settings)


def marketplace_snapshots(
    db: sqlite_utils.Database, codes: list[str], first: date, last: date, settings: Settings, only: str | None = None
) -> dict[str, SellerSnapshot]:
    """Each marketplace's records for the figures of `first`..`last`, read in its own zone."""
    if len(codes) == 1:
        # Every record belongs to this one marketplace: read them as before, unfiltered (the same figures,
        # as fast), in its own zone.
        market = Market(codes[0], settings.marketplace) if only else None
        return {codes[0]: load_snapshot(db, first, last, settings.for_marketplace(codes[0]), market)}
    counted = feedback_counted_by_marketplace(db, first, last, settings.marketplace)
    return {
        code: load_snapshot(
            db, first, last, settings.for_marketplace(code), Market(code, settings.marketplace), counted[code]
        )
        for code in codes
    }


def figures_of(
    db: sqlite_utils.Database, snapshots: dict[str, SellerSnapshot], as_of: date, settings: Settings
) -> dict:
    """The figures as of the end of `as_of` from each marketplace's snapshot (ending on `as_of`)."""
    parts = {code: metrics_as_of(narrowed(snapshot, as_of), as_of) for code, snapshot in snapshots.items()}
    if len(parts) == 1:
        [(code, figures)] = parts.items()
        figures["marketplaces"] = {code: marketplace_block(figures)}
        return figures
    figures = over_marketplaces(parts, settings)
    through = data_through(db, settings.zone, as_of)
    figures["data_through"] = {source: day.isoformat() if day else None for source, day in through.items()}
    return figures


def compute_series(
    db: sqlite_utils.Database,
    last: date,
    days: int = SERIES_DAYS,
    settings: Settings | None = None,
    only: str | None = None,
) -> list[dict]:
    """The daily figures for the `days` days ending on `last` (for the charts); `only`: one marketplace's
    own, each day counted in its days."""
    settings = settings or load_settings(db)
    first = last - timedelta(days=days - 1)
    if only:
        mine, market = settings.for_marketplace(only), Market(only, settings.marketplace)
        return daily_series(load_snapshot(db, first, last, mine, market), first, last)
    return daily_series(load_snapshot(db, first, last, settings), first, last)


def compute_series_by_marketplace(
    db: sqlite_utils.Database,
    last: date,
    codes: list[str],
    days: int = SERIES_DAYS,
    settings: Settings | None = None,
) -> dict[str, list[dict]]:
    """Each of `codes`' own daily figures when there are several (Amazon judges each marketplace on its own
    line); nothing for one marketplace, whose own figures are the whole series already."""
    if len(codes) < 2:
        return {}
    settings = settings or load_settings(db)
    return {code: compute_series(db, last, days, settings, only=code) for code in codes}


def window_series(
    db: sqlite_utils.Database, last: date, codes: list[str], days: int = SERIES_DAYS, settings: Settings | None = None
) -> tuple[list[dict], dict[str, list[dict]]]:
    """The charts' daily figures: of every marketplace together, and (with several) of each one.

    With several marketplaces the line of all of them is their days added up, as the cards add them up: the
    chart and the card agree, and no marketplace's records are read twice."""
    settings = settings or load_settings(db)
    own = compute_series_by_marketplace(db, last, codes, days, settings)
    return (combine_series(own) if own else compute_series(db, last, days, settings)), own


def open_clocks(
    db: sqlite_utils.Database, at: float, settings: Settings | None = None, only: str | None = None
) -> list[Clock]:
    """Every clock open at `at`, most urgent first, each dated in its marketplace's days (a return request's
    48 hours start at midnight where it was made) and naming its marketplace when the seller's records are
    not all the home marketplace's; `only`: one marketplace's clocks."""
    settings = settings or load_settings(db)
    if only_home_marketplace(db, settings.marketplace):  # one marketplace: no clock to tell apart
        return clocks_at(db, at, settings) if only in (None, settings.marketplace) else []
    return _clocks_of(db, at, settings, only)


# Two zones' days at one instant are at most this many days apart (every zone is within 14 h of UTC).
ZONES_DAYS_APART = 2


def _clocks_of(db: sqlite_utils.Database, at: float, settings: Settings, only: str | None) -> list[Clock]:
    """One read of what may be on a clock, split by the marketplace of each record; each marketplace's part
    dated in its own days and zone."""
    inputs = load_clock_inputs(db, at, settings, spread_days=ZONES_DAYS_APART)
    clocks = []
    for code, part in inputs_by_marketplace(db, inputs, settings.marketplace).items():
        if only in (None, code):
            mine = settings.for_marketplace(code)
            clocks += [replace(clock, marketplace=code) for clock in clocks_open_at(part.in_zone(mine.zone), at, mine)]
    return sorted(clocks, key=lambda clock: (clock.due_at, clock.kind, clock.item_id))


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
    # With several marketplaces, each one's own daily figures by code (empty with one).
    series_by_marketplace: dict[str, list[dict]] = field(repr=False, default_factory=dict)
    # The dashboard's money panel: the month's claims on Amazon and what came back (None: not computed yet).
    money: MoneySummary | None = None


LAST_STATE_KEY = "state.last_figures"
CLOCK_FIELDS = tuple(Clock.__dataclass_fields__)
_clock_row = attrgetter(*CLOCK_FIELDS)


def save_last_state(db: sqlite_utils.Database, state: MonitorState) -> None:
    """Keep the latest figures so the next start shows them at once (labelled as not yet updated) instead
    of an empty window while a large history is recomputed."""
    payload = {
        "computed_at": state.computed_at,
        "as_of": state.as_of.isoformat(),
        "timezone": state.timezone,
        "metrics": state.metrics,
        "series": state.series,
        "series_by_marketplace": state.series_by_marketplace,
        # Rows, not objects: a seller with years of unanswered history has thousands of clocks.
        "clocks": [_clock_row(clock) for clock in state.clocks],
        "has_orders": state.has_orders,
        "demo": state.demo,
        "settings": asdict(state.settings),
        "money": state.money.to_json() if state.money else None,
    }
    with write_transaction(db):
        write_setting(db, LAST_STATE_KEY, payload)


def has_last_state(db: sqlite_utils.Database) -> bool:
    """Whether figures were saved by a recomputation (of this version or another)."""
    return db.execute("SELECT EXISTS (SELECT 1 FROM settings WHERE key = ?)", [LAST_STATE_KEY]).fetchone()[0] == 1


def load_last_state(db: sqlite_utils.Database) -> MonitorState | None:
    """The figures saved by the last recomputation, or None (never computed, or saved by another version)."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [LAST_STATE_KEY]).fetchone()
    if row is None:
        return None
    try:
        payload = json.loads(row[0])
        return MonitorState(
            computed_at=payload["computed_at"],
            as_of=date.fromisoformat(payload["as_of"]),
            timezone=payload["timezone"],
            metrics=payload["metrics"],
            series=payload["series"],
            # A row saved before clocks named their marketplace is one shorter: the field's default fills it.
            clocks=[Clock(*row) for row in payload["clocks"]],
            has_orders=payload["has_orders"],
            demo=payload["demo"],
            settings=Settings(**payload["settings"]),
            # Figures saved before marketplaces had charts of their own: the charts draw them together
            # until the first recomputation.
            series_by_marketplace=payload.get("series_by_marketplace") or {},
            money=MoneySummary.from_json(payload["money"]) if payload.get("money") else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def refresh(
    db: sqlite_utils.Database,
    now: Callable[[], float] = time.time,
    series_days: int = SERIES_DAYS,
    records: list | None = None,
    clocks: bool | list[Clock] = True,
) -> MonitorState:
    """The figures as of today, the daily series for the charts and the clocks open right now. `records`,
    `clocks`: as `state_as_of`'s."""
    settings = load_settings(db)
    at = now()
    return state_as_of(db, today(settings, lambda: at), at, series_days, settings, clocks=clocks, records=records)


def state_as_of(
    db: sqlite_utils.Database,
    as_of: date,
    at: float,
    series_days: int = SERIES_DAYS,
    settings: Settings | None = None,
    clocks: bool | list[Clock] = False,
    kept=None,
    records: list | None = None,
) -> MonitorState:
    """The figures and the series as they stood at the end of `as_of` (the seller's look at a past day);
    with `clocks`, the clocks open at `at` too (the window's live state; a list: those clocks, counted by the
    caller). `kept`: the cards and charts of an
    earlier state of the same records, settings and day (`app.figure_cache.Figures`), taken as they are.
    `records`: a list the `FigureRecords` the figures were computed from are added to, when they can be
    patched later (`patched_figures`)."""
    settings = settings or load_settings(db)
    if kept is None:
        metrics, series, own = _figures_and_series(db, as_of, series_days, settings, records)
        has_orders, demo = has_orders_imported(db), demo_state.is_active(db)
    else:
        metrics, series, own = kept.metrics, kept.series, kept.series_by_marketplace
        has_orders, demo = kept.has_orders, kept.demo
    return MonitorState(
        computed_at=at,
        as_of=as_of,
        timezone=settings.timezone,
        metrics=metrics,
        series=series,
        clocks=clocks if isinstance(clocks, list) else open_clocks(db, at, settings) if clocks else [],
        has_orders=has_orders,
        demo=demo,
        settings=settings,
        series_by_marketplace=own,
        # A past day's month as it stood at that day's end; today's as of now.
        money=month_summary(db, min(at, end_of_day(as_of, settings.zone) - 1), settings),
    )


def has_orders_imported(db: sqlite_utils.Database) -> bool:
    return db.execute("SELECT EXISTS (SELECT 1 FROM orders)").fetchone()[0] == 1


def _figures_and_series(
    db: sqlite_utils.Database, as_of: date, series_days: int, settings: Settings, records: list | None = None
) -> tuple[dict, list[dict], dict[str, list[dict]]]:
    """`compute_metrics` and `window_series` of `as_of`, each marketplace's records read once for both: the
    series' snapshot ends on `as_of`, and the figures take their own day's records out of it."""
    codes = snapshot_marketplaces(db, as_of, as_of, settings)
    first = as_of - timedelta(days=series_days - 1)
    if len(codes) == 1 and settings.for_marketplace(codes[0]) != settings:
        # The series of one marketplace is counted in the home zone, its figures in the marketplace's own: two
        # reads, as before.
        metrics = compute_metrics(db, as_of, settings)
        return metrics, *window_series(db, as_of, codes, series_days, settings)
    snapshots = marketplace_snapshots(db, codes, min(first, as_of), as_of, settings)
    metrics = with_amazons_figures(db, figures_of(db, snapshots, as_of, settings), as_of, settings)
    own = {code: daily_series(snapshot, first, as_of) for code, snapshot in snapshots.items()} if len(codes) > 1 else {}
    series = combine_series(own) if own else daily_series(snapshots[codes[0]], first, as_of)
    if records is not None and len(codes) == 1 and first <= as_of and not settings.csba_periods:
        records.append(FigureRecords(codes[0], snapshots[codes[0]], first))
    return metrics, series, own


@dataclass(frozen=True)
class FigureRecords:
    """The records one marketplace's cards and charts were computed from (its snapshot, from the series' first
    day), kept so that a write to a few buyer-message threads is counted by reading those threads alone.

    Only for a seller in one marketplace without Customer Service by Amazon periods: their snapshot reads the
    messages without their orders, so a thread's messages and replies are all its contacts depend on."""

    code: str
    snapshot: SellerSnapshot
    first: date


def patched_figures(
    db: sqlite_utils.Database,
    kept: FigureRecords,
    series: list[dict],
    changes: Changes,
    as_of: date,
    settings: Settings,
) -> tuple[dict, list[dict], FigureRecords] | None:
    """The figures and series of `as_of` after writes that changed only the buyer messages and replies of a few
    threads and a few orders (`changes`), from the records they were computed from (`kept`, of `as_of`) and
    `series`, drawn from them: those threads' contacts read again and LRR counted again, the orders of the
    days those orders were and are purchased on counted again, the rest as it was. None when the write may
    have changed more than that (a marketplace appeared, an order a claim or a feedback is on changed)."""
    if snapshot_marketplaces(db, as_of, as_of, settings) != [kept.code]:
        return None
    if changes.orders and queries.orders_with_feedback_or_claims(db, changes.orders):
        return None  # which defects count, on which days and in which channel, follows their orders
    snapshot = kept.snapshot
    if changes.threads:
        snapshot, stale, fresh = _threads_read_again(db, snapshot, changes.threads)
        series = with_lrr_series(series, snapshot, stale, fresh, kept.first, as_of)
    if changes.orders:  # one marketplace's records, read unfiltered (`marketplace_snapshots`): counted so again
        snapshot = with_days_counted_again(db, snapshot, changes.purchases, market=None)
        series = with_order_counts(series, snapshot, kept.first, as_of)
    # A message received or an order written (or no longer there) may move the day the data is known to run to.
    snapshot = replace(snapshot, data_through=data_through(db, snapshot.zone, snapshot.last_day))
    metrics = with_amazons_figures(db, figures_of(db, {kept.code: snapshot}, as_of, settings), as_of, settings)
    return metrics, series, replace(kept, snapshot=snapshot)


def _threads_read_again(
    db: sqlite_utils.Database, snapshot: SellerSnapshot, threads: frozenset[str]
) -> tuple[SellerSnapshot, list, list]:
    """`snapshot` with the contacts of `threads` read again; with the contacts taken out and those put in."""
    zone = snapshot.zone
    start = day_start(snapshot.first_day - timedelta(days=LRR_MAX_DAYS - 1), zone)
    rows = message_rows_of_threads(db, threads, start, end_of_day(snapshot.last_day, zone))
    fresh = contacts_of(db, [message_from_values(row) for row in rows], snapshot.orders, snapshot.settings)
    kept_contacts, stale = [], []
    for contact in snapshot.contacts:
        (stale if contact.message.thread_key in threads else kept_contacts).append(contact)
    return replace(snapshot, contacts=kept_contacts + fresh), stale, fresh


# --- Triage -----------------------------------------------------------------------------------------------------
# The use-cases behind the triage view and `main.py triage`. The list is recomputed from the records each
# time; what the seller decides (resolutions, categories, matrix edits, completed sessions) is stored.

REMINDED_AT = "state.triage_reminded_at"
_ITEM_TABLES = {
    "feedback": ("feedback", "order_id", triage.FEEDBACK),
    "message": ("messages", "message_id", triage.MESSAGE),
    "return": ("fbm_returns", "return_id", triage.RETURN_REQUEST),
    "fba_return": ("fba_returns", "return_key", triage.FBA_RETURN),
    "fba_reimbursement": ("fba_returns", "return_key", triage.FBA_REIMBURSEMENT),
    "safet": ("fbm_returns", "return_id", triage.SAFET_CLAIM),
    "reply": ("replies", "message_id", triage.REPLY),
}


def load_triage(
    db: sqlite_utils.Database,
    at: float,
    since: date | None = None,
    settings: Settings | None = None,
    clocks: list[Clock] | None = None,
    marketplace: str | None = None,
    reads: TriageReads | None = None,
) -> triage.TriageList:
    """The triage list as of the instant `at`: every item still open whatever its age (a clock running or
    overdue, an undecided claim, a removable feedback), every item a completed triage showed and nobody
    resolved since (carried over), and the items new since the last completed triage (or the last 7 days
    the first time, or since the day `since` when given), with the session and counts.

    Items resolved in the current session stay listed, marked resolved, until `complete_session`; items
    reopened since the last completed triage are listed again. `clocks`: the clocks open at `at` when the
    caller has them already (a recomputation does), so they are not computed twice. `reads`: the records
    of the last list, when the caller kept them (the worker does), and where those of this one are kept.
    `marketplace`: only that marketplace's items, in its days. Each item names its marketplace when the
    seller's records are not all the home marketplace's (a status change names none: it is about a figure
    over every marketplace).
    """
    settings = settings or load_settings(db)
    home = settings.marketplace
    if marketplace:
        clocks = open_clocks(db, at, settings, only=marketplace)
        listing = _triage_list(db, at, since, settings.for_marketplace(marketplace), clocks)
    else:
        listing = _triage_list(db, at, since, settings, clocks, reads)
    one_marketplace = only_home_marketplace(db, home)
    if one_marketplace and not marketplace:
        return listing
    named = item_marketplaces(db, listing.items, home)
    items = [item for item in listing.items if not marketplace or named[item.key] == marketplace]
    if not one_marketplace:
        items = [replace(item, marketplace=named[item.key]) for item in items]
    return replace(listing, items=items)


def _triage_list(
    db: sqlite_utils.Database,
    at: float,
    since: date | None,
    settings: Settings,
    clocks: list[Clock] | None,
    reads: TriageReads | None = None,
) -> triage.TriageList:
    zone = settings.zone
    # The day `at` ends (metrics.md's as_of): the end of 8 Nov is 9 Nov 00:00, still 8 Nov.
    as_of = first_day_ending_at_or_after(at, zone)
    sessions = triage_store.sessions(db)
    last_completed = sessions[-1]["completed_at"] if sessions else None
    first, last, reason = triage.triage_window(as_of, zone, last_completed, since)
    shown = {key: when for key, when in triage_store.first_shown(db).items() if when <= at}
    seen: set[str] = set()
    late_from = None
    if since is None and last_completed is not None:
        seen = set(shown)
        covered_from = date.fromisoformat(sessions[0]["window_start"])
        late_from = max(covered_from, first - timedelta(days=triage.LATE_ARRIVAL_DAYS))
    since_completed = last_completed if last_completed is not None else -1
    resolutions = load_resolutions(db)
    keep = {key for key, r in resolutions.items() if r.resolved_at > since_completed}
    keep |= triage_store.reopened_since(db, since_completed)
    clocks = open_clocks(db, at, settings) if clocks is None else clocks
    carried = [key for key in shown if key not in resolutions]
    reach = min(triage.load_from(first, late_from, keep), _open_reach(db, as_of, settings, clocks, carried))
    if reads is None:
        inputs = load_triage_inputs(db, at, settings, reach, last, clocks)
    else:
        inputs = reads.inputs(db, at, settings, reach, last, clocks)
    items = triage.triage_items(
        inputs, at, settings, first, last, seen=seen, keep=keep, late_from=late_from, shown=shown
    )
    return triage.TriageList(
        at=at,
        as_of=as_of,
        window_start=first,
        window_end=last,
        window_reason=reason,
        last_completed_at=last_completed,
        session_number=len(sessions) + 1,
        timezone=settings.timezone,
        items=items,
    )


def _open_reach(db: sqlite_utils.Database, as_of: date, settings: Settings, clocks: list[Clock], carried) -> date:
    """The oldest day an open or carried item is dated: the records must be read from there, or an old
    overdue clock or an undecided claim would never reach the list."""
    zone = settings.zone
    earliest_clock = earliest_local_day([clock.started_at for clock in clocks], zone)
    days = [earliest_clock] if earliest_clock else []
    undecided = triage_store.earliest_undecided_claim(db, as_of.isoformat())
    if undecided:
        days.append(date.fromisoformat(undecided))
    # An appeal clock starts at the decision, its claim's item is dated by the filing: read from the record.
    # A message's clock starts at the instant its item is dated by, already counted above.
    on_record = [_clock_key(clock) for clock in clocks if clock.kind not in triage.MESSAGE_CLOCKS]
    stored_days, instants = triage_store.earliest_of_keys(db, [*carried, *on_record])
    days += [date.fromisoformat(day) for day in stored_days]
    days += [local_day(instant, zone) for instant in instants]
    return min(days, default=as_of)


def resolve_item(
    db: sqlite_utils.Database, key: str, action: str, note: str = "", at: float | None = None
) -> triage.Resolution:
    """Record what the seller did about an item (kept for good in the order's history), and end the clock
    it is on the way that clock ends (metrics.md, "Clocks"): a reply for a buyer message, a response for a
    claim, chargeback or return request, the removal request for a removable feedback (the path the matrix
    gives it). A clock that ends only on Amazon's side or on a record filed there (an appeal window) keeps
    running, and the item says so (`TriageItem.clock_note`).

    Resolving an item already resolved replaces the resolution in force (the earlier one is kept, marked
    superseded). Raises LookupError for a key that names no record, ValueError without an action.
    """
    action, note = (action or "").strip(), (note or "").strip()
    if not action:
        raise ValueError("say what action was taken")
    if len(action) > triage.MAX_TEXT or len(note) > 4 * triage.MAX_TEXT:
        raise ValueError("the action or note is too long")
    kind, order_id = _item_subject(db, key)
    when = int(time.time() if at is None else at)
    settings = load_settings(db)
    running = [clock for clock in item_clocks(db, key, when, settings) if _clock_key(clock) == key]
    row = {"item_key": key, "order_id": order_id, "item_kind": kind, "action": action, "note": note}
    with write_transaction(db):
        triage_store.insert_resolution(db, row | {"resolved_at": when})
        for clock in running:
            _end_clock(db, clock, when, settings)
    return triage.Resolution(key, action, note, when, order_id, kind)


def _clock_key(clock: Clock) -> str:
    """The key of the triage item a clock belongs to."""
    if clock.kind in triage.MESSAGE_CLOCKS:
        return f"message:{clock.item_id}"
    if clock.kind == RETURN_RESPONSE:
        return f"return:{clock.item_id}"
    if clock.kind == FEEDBACK_REMOVAL:
        return f"feedback:{clock.item_id}"
    if clock.kind == FBA_REIMBURSEMENT_CLAIM:
        return f"fba_reimbursement:{clock.item_id}"
    if clock.kind == SAFET_FILING:
        return f"safet:{clock.item_id}"
    order_id, _, claim_type = clock.item_id.rpartition("/")
    return f"claim:{order_id}:{claim_type}"


def _end_clock(db: sqlite_utils.Database, clock: Clock, when: int, settings: Settings) -> None:
    if clock.kind in triage.MESSAGE_CLOCKS:
        triage_store.record_reply(db, clock.item_id, when)
    elif clock.kind == RETURN_RESPONSE:
        triage_store.record_return_response(db, clock.item_id, when)
    elif clock.kind == FEEDBACK_REMOVAL:
        triage_store.record_removal_request(db, clock.item_id, local_day(when, settings.zone).isoformat())
    elif clock.kind in (A_TO_Z_RESPONSE, CHARGEBACK_RESPONSE):
        order_id, _, claim_type = clock.item_id.rpartition("/")
        triage_store.record_claim_response(db, order_id, claim_type, when)


def reopen_item(db: sqlite_utils.Database, key: str, at: float | None = None) -> bool:
    """Take an item's resolution back (it stays in the history as reopened). False if it was not resolved."""
    with write_transaction(db):
        return triage_store.end_resolution(db, key, int(time.time() if at is None else at)) > 0


def complete_session(db: sqlite_utils.Database, at: float | None = None, keys: list[str] | None = None) -> dict:
    """Complete the current triage: its instant defines "new" next time. The items it showed and left
    unresolved are carried over to the next triage (with the instant they were first shown) until they are
    resolved. `keys`: the items the seller saw (default: the list as of `at`).

    Raises ValueError when `at` is before the last completed triage.
    """
    when = int(time.time() if at is None else at)
    sessions = triage_store.sessions(db)
    if sessions and when < sessions[-1]["completed_at"]:
        raise ValueError("a later triage is already completed")
    current = load_triage(db, when)
    shown = set(keys) if keys is not None else {item.key for item in current.items}
    resolved = sum(1 for item in current.items if item.resolved and item.key in shown)
    with write_transaction(db):
        session_id = triage_store.insert_session(
            db, when, current.window_start.isoformat(), current.window_end.isoformat(), shown, resolved
        )
    return {
        "id": session_id,
        "number": current.session_number,
        "completed_at": to_iso(when),
        "window_start": current.window_start.isoformat(),
        "window_end": current.window_end.isoformat(),
        "items": len(shown),
        "resolved": resolved,
        "open": len(shown) - resolved,
    }


def triage_sessions(db: sqlite_utils.Database) -> list[dict]:
    """Every completed triage, oldest first (id, completed_at, window_start, window_end, items, resolved)."""
    return triage_store.sessions(db)


def set_category(db: sqlite_utils.Database, key: str, category: str | None, at: float | None = None) -> None:
    """The seller's category for an item; None (or the derived category) goes back to deriving it."""
    if category is not None and category not in triage.CATEGORIES:
        raise ValueError(f"'{category}' is not a category ({', '.join(triage.CATEGORIES)})")
    _item_subject(db, key)
    with write_transaction(db):
        if category is None:
            triage_store.delete_category_override(db, key)
        else:
            triage_store.set_category_override(db, key, category, int(time.time() if at is None else at))


def get_matrix(db: sqlite_utils.Database) -> list[triage.MatrixEntry]:
    """The escalation matrix in display order: every category's default path, then its special case."""
    matrix = load_matrix(db)
    order = list(triage.CATEGORIES)
    return sorted(matrix.values(), key=lambda entry: (order.index(entry.category), entry.case))


def save_matrix_entry(
    db: sqlite_utils.Database,
    category: str,
    action: str,
    who: str,
    response_hours: float,
    amount: float | None = None,
    case: str | None = None,
    at: float | None = None,
    template: str | None = None,
) -> triage.MatrixEntry:
    """Change one entry of the matrix (`amount` None: the order's item value; `template` None or the shipped
    text: the shipped template, stored as NULL so a better one in a later version reaches it). Raises
    ValueError."""
    entry = triage.check_matrix_entry(category, case, action, who, response_hours, amount, template)
    shipped = triage.default_matrix()[(entry.category, entry.case)].template
    row = {
        "category": entry.category,
        "case": entry.case,
        "action": entry.action,
        "who": entry.who,
        "response_hours": entry.response_hours,
        "amount": entry.amount,
        "template": None if entry.template == shipped else entry.template,
        "updated_at": int(time.time() if at is None else at),
    }
    with write_transaction(db):
        triage_store.upsert_matrix_row(db, row)
    return entry


def reset_matrix(db: sqlite_utils.Database, category: str | None = None, case: str | None = None) -> None:
    """Back to the shipped defaults: the whole matrix, one category, or one entry of it."""
    with write_transaction(db):
        triage_store.delete_matrix_rows(db, category, None if category is None else case)


def order_resolutions(db: sqlite_utils.Database, order_id: str) -> list[triage.Resolution]:
    """Everything the seller recorded doing about an order's items, reopened ones included, oldest first."""
    return [resolution_from_row(row) for row in triage_store.resolutions_for_order(db, order_id)]


def triage_report_html(db: sqlite_utils.Database, listing: triage.TriageList, settings: Settings | None = None) -> str:
    """The one-page printable report: the window's ODR chart (at least a week) and the items."""
    days = max(triage_report.CHART_MIN_DAYS, (listing.window_end - listing.window_start).days + 1)
    series = compute_series(db, listing.as_of, days, settings)
    return triage_report.triage_html(listing, series)


def save_triage_csv(listing: triage.TriageList, path: str | Path, database: str | Path) -> None:
    """Write the list as CSV, with a byte-order mark so spreadsheet programs read it as UTF-8; never over the
    database's files (output_files.OutputRefused)."""
    output_files.write_text(path, triage_report.triage_csv(listing), database, encoding="utf-8-sig")


def save_triage_html(
    db: sqlite_utils.Database, listing: triage.TriageList, path: str | Path, settings: Settings | None = None
) -> None:
    """Write the printable report (open it in a browser and print, or save as PDF from there)."""
    output_files.write_text(path, triage_report_html(db, listing, settings), database_path(db))


def triage_reminder_due(db: sqlite_utils.Database, now: float, settings: Settings | None = None) -> bool:
    """Whether the tray should remind the seller of the week's triage at `now`."""
    settings = settings or load_settings(db)
    sessions = triage_store.sessions(db)
    last_completed = sessions[-1]["completed_at"] if sessions else None
    reminded = read_setting(db, REMINDED_AT)
    return triage.reminder_due(now, settings.zone, settings.triage_reminder, last_completed, reminded)


def record_triage_reminder(db: sqlite_utils.Database, at: float) -> None:
    """The tray reminded the seller at `at` (so it does not remind again this week)."""
    write_setting(db, REMINDED_AT, int(at))


def _item_subject(db: sqlite_utils.Database, key: str) -> tuple[str, str | None]:
    """(kind, order id) of the record an item key names; LookupError when there is none."""
    prefix, _, rest = (key or "").partition(":")
    if prefix in _ITEM_TABLES and rest:
        table, column, kind = _ITEM_TABLES[prefix]
        row = triage_store.lookup_record(db, table, column, rest)
        if row is not None:
            return kind, row["order_id"]
    elif prefix == "claim" and ":" in rest:
        order_id, claim_type = rest.rsplit(":", 1)
        if triage_store.claim_row(db, order_id, claim_type) is not None:
            return (triage.A_TO_Z_CLAIM if claim_type == "a-to-z" else triage.CHARGEBACK), order_id
    elif prefix == "status" and rest.rpartition(":")[2].isdigit():
        return triage.STATUS_CHANGE, None
    raise LookupError(f"no triage item {key}")
