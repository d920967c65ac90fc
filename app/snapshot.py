"""Reading what the metrics need for a range of `as_of` days out of the database, once.

A snapshot covers `first_day`..`last_day`: the order counts per local day reach back to the first
lagging ODR window (74 days before), feedback to the first 90-day NFR window, messages to the first
90-day LRR window, return requests to the first 60-day RDR window.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import sqlite_utils

from app import rules
from app.model import CHANNELS, Claim, CsbaPeriod, Feedback, Message, Order, Reply, ReturnRequest
from app.settings import Settings, load_settings
from app.timeutil import day_start, end_of_day, local_day, offset_segments, parse_day
from storage import queries
from storage.queries import DAY_S, EPOCH_ORDINAL

# Bound once: the readers call it for every row.
fromisoformat = date.fromisoformat

LAGGING_DAYS = 14
WINDOW_DAYS = 60
ODR_REACH = LAGGING_DAYS + WINDOW_DAYS - 1  # 73: first day of the lagging window before as_of
NFR_DAYS = 90
LRR_MAX_DAYS = 90
RDR_DAYS = 60


class LocalDays:
    """The local days of UTC instants in one zone, read off the zone's offsets over `first`..`last` instead of
    converted one by one: the days `local_day` gives, which instants outside the range (or not whole seconds)
    still go through."""

    def __init__(self, zone: ZoneInfo, first: date, last: date):
        self.zone = zone
        segments = offset_segments(zone, first, last)
        self._starts = [start for start, _ in segments]
        self._offsets = [offset for _, offset in segments]
        self._end = end_of_day(last, zone)

    def __call__(self, instant: int | float) -> date:
        if type(instant) is not int or not self._starts[0] <= instant < self._end:
            return local_day(instant, self.zone)
        offset = self._offsets[bisect_right(self._starts, instant) - 1]
        return date.fromordinal(EPOCH_ORDINAL + (instant + offset) // DAY_S)


@dataclass
class SellerSnapshot:
    settings: Settings
    first_day: date
    last_day: date
    order_counts: dict[str, dict[date, int]]
    first_order_day: date | None
    orders: dict[str, Order]
    events: list[rules.DefectEvent]
    orphan_events: list[rules.DefectEvent]
    feedback: list[Feedback]
    contacts: list[rules.Contact]
    returns: list[rules.ReturnOutcome]
    claims: list[Claim] = field(default_factory=list)
    data_through: dict[str, date | None] = field(default_factory=dict)
    marketplace: str = "US"
    # The feedback still on the record, counted per day: (ratings, negative, positive). `feedback` holds the
    # feedback removed or struck through, whose days on the record are its own.
    feedback_counts: dict[date, tuple[int, int, int]] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def local_days(self) -> LocalDays:
        """Local days over every record the snapshot reads (the widest reach is 90 days before `first_day`)."""
        return LocalDays(
            self.zone, self.first_day - timedelta(days=max(ODR_REACH, NFR_DAYS, LRR_MAX_DAYS)), self.last_day
        )


def load_snapshot(
    db: sqlite_utils.Database,
    first_day: date,
    last_day: date,
    settings: Settings | None = None,
    market: queries.Market | None = None,
    feedback_counted: list[tuple[str, int, int, int]] | None = None,
) -> SellerSnapshot:
    """What the figures of `first_day`..`last_day` need; with `market`, only that marketplace's records
    (`settings` are then the marketplace's own: its zone counts its days). `feedback_counted`: the
    marketplace's rows of `queries.feedback_counts_between` when the caller read every marketplace's at once
    (`feedback_counted_by_marketplace`)."""
    settings = settings or load_settings(db)
    zone = settings.zone
    order_first = first_day - timedelta(days=ODR_REACH)
    counts = _order_counts(db, zone, order_first, last_day, market)
    first_at = queries.first_order_at(db, market)
    claim_rows = queries.claim_rows(db, day_start(order_first, zone), market)
    negative_rows = queries.negative_feedback_rows(db, order_first.isoformat(), last_day.isoformat(), market)
    # A message's order says only whether Customer Service by Amazon answers it (`rules.csba_covered`): with no
    # CSBA period there is nothing to look up, and a lookup per message in a million orders is most of the read.
    csba = bool(settings.csba_periods)
    message_rows = _messages(db, zone, first_day, last_day, market, with_orders=csba or market is not None)
    claims = [claim_from_values(row) for row in claim_rows]
    messages = [message_from_values(row) for row in message_rows]
    orders: dict[str, Order] = {}
    first_order_day = local_day(first_at, zone) if first_at is not None else None
    day_of = LocalDays(zone, _purchases_from(order_first, first_order_day), last_day)
    _add_orders(orders, claim_rows, len(queries.CLAIM_FIELDS), day_of)
    _add_orders(orders, negative_rows, len(queries.FEEDBACK_FIELDS), day_of)
    if csba:
        _add_orders(orders, message_rows, len(queries.MESSAGE_FIELDS), day_of)
    events, orphans = [], []
    negative = (rules.feedback_event(feedback_from_values(row)) for row in negative_rows)
    for event in [e for e in negative if e] + [
        rules.claim_event(claim, orders.get(claim.order_id)) for claim in claims
    ]:
        (events if event.order_id in orders else orphans).append(event)
    feedback_first = (first_day - timedelta(days=NFR_DAYS - 1)).isoformat()
    returns_first = (first_day - timedelta(days=RDR_DAYS - 1)).isoformat()
    return SellerSnapshot(
        settings=settings,
        first_day=first_day,
        last_day=last_day,
        order_counts=counts,
        first_order_day=first_order_day,
        orders=orders,
        events=events,
        orphan_events=orphans,
        feedback=[
            feedback_from_values(row)
            for row in queries.taken_off_feedback_rows(db, feedback_first, last_day.isoformat(), market)
        ],
        contacts=contacts_of(db, messages, orders, settings),
        returns=[
            rules.return_outcome(return_from_values(row), zone)
            for row in queries.return_rows_between(db, returns_first, last_day.isoformat(), market)
        ],
        claims=claims,
        data_through=data_through(db, zone, last_day),
        marketplace=market.code if market else settings.marketplace,
        feedback_counts=_feedback_counts(
            queries.feedback_counts_between(db, feedback_first, last_day.isoformat(), market)
            if feedback_counted is None
            else feedback_counted
        ),
    )


def feedback_counted_by_marketplace(
    db: sqlite_utils.Database, first_day: date, last_day: date, home: str
) -> dict[str, list[tuple[str, int, int, int]]]:
    """`queries.feedback_counts_between` of every marketplace's snapshot of `first_day`..`last_day`, in one
    read: the feedback is dated by day whatever the zone, so each marketplace's reads the same days, and
    looking up each row's order once rather than once a marketplace was most of a read of several."""
    feedback_first = (first_day - timedelta(days=NFR_DAYS - 1)).isoformat()
    counted: dict[str, list[tuple[str, int, int, int]]] = defaultdict(list)
    for text, code, ratings, negative, positive in queries.feedback_counts_by_marketplace(
        db, feedback_first, last_day.isoformat(), home
    ):
        counted[code].append((text, ratings, negative, positive))
    return counted


def _feedback_counts(rows: Iterable[tuple[str, int, int, int]]) -> dict[date, tuple[int, int, int]]:
    """(ratings, negative, positive) per day of the feedback on the record; two spellings of one day add up."""
    counts: dict[date, tuple[int, int, int]] = {}
    for text, ratings, negative, positive in rows:
        day = fromisoformat(text)
        before = counts.get(day, (0, 0, 0))
        counts[day] = (before[0] + ratings, before[1] + negative, before[2] + positive)
    return counts


def narrowed(snapshot: SellerSnapshot, as_of: date) -> SellerSnapshot:
    """What `load_snapshot` of `as_of` alone reads, taken out of a snapshot of a range ending on `as_of`: the
    window's figures and its series come from one read of the database, and the figures stay those of a read
    of their own day (a record the wider range lets in, such as an older feedback on an unknown order, is
    left out again)."""
    if snapshot.last_day != as_of:
        raise ValueError(f"a snapshot ending {snapshot.last_day} holds no figures of {as_of} alone")
    if snapshot.first_day == as_of:
        return snapshot
    order_first = as_of - timedelta(days=ODR_REACH)
    events = [event for event in snapshot.events if _read_from(event, order_first, snapshot.orders)]
    orphans = [event for event in snapshot.orphan_events if _read_from(event, order_first, snapshot.orders)]
    claims = [claim for claim in snapshot.claims if _claim_read_from(claim.order_id, order_first, snapshot.orders)]
    received_from = day_start(as_of - timedelta(days=LRR_MAX_DAYS - 1), snapshot.zone)
    contacts = [contact for contact in snapshot.contacts if contact.received_at >= received_from]
    feedback_first = as_of - timedelta(days=NFR_DAYS - 1)
    returns_first = as_of - timedelta(days=RDR_DAYS - 1)
    read = {claim.order_id for claim in claims} | {contact.message.order_id for contact in contacts}
    read |= {event.order_id for event in events + orphans if event.kind == rules.NEGATIVE_FEEDBACK}
    return replace(
        snapshot,
        first_day=as_of,
        order_counts={
            channel: defaultdict(int, {day: n for day, n in by_day.items() if day >= order_first})
            for channel, by_day in snapshot.order_counts.items()
        },
        orders={order_id: order for order_id, order in snapshot.orders.items() if order_id in read},
        events=events,
        orphan_events=orphans,
        claims=claims,
        feedback=[feedback for feedback in snapshot.feedback if feedback.day >= feedback_first],
        feedback_counts={day: counts for day, counts in snapshot.feedback_counts.items() if day >= feedback_first},
        contacts=contacts,
        returns=[outcome for outcome in snapshot.returns if outcome.request.request_day >= returns_first],
    )


def _read_from(event: rules.DefectEvent, order_first: date, orders: dict[str, Order]) -> bool:
    """Whether a snapshot whose orders start on `order_first` reads the event: negative feedback from that
    day, claims on orders from that day or on orders not imported (`queries.claim_rows`)."""
    if event.kind == rules.NEGATIVE_FEEDBACK:
        return event.day >= order_first
    return _claim_read_from(event.order_id, order_first, orders)


def _claim_read_from(order_id: str, order_first: date, orders: dict[str, Order]) -> bool:
    order = orders.get(order_id)
    return order is None or order.purchase_day >= order_first


def snapshot_marketplaces(db: sqlite_utils.Database, first_day: date, last_day: date, settings: Settings) -> list[str]:
    """The marketplaces with orders, or with records of unknown orders that figures of `first_day`..`last_day`
    read; the home marketplace alone when there is nothing yet."""
    found = set(queries.order_marketplaces(db, settings.marketplace))
    # The widest reach of any figure, in the earliest zone: a row a marketplace's figure reads is not missed.
    reach_first = first_day - timedelta(days=max(ODR_REACH, NFR_DAYS, LRR_MAX_DAYS))
    start, end = (
        day_start(reach_first - timedelta(days=1), ZoneInfo("UTC")),
        end_of_day(last_day + timedelta(days=1), ZoneInfo("UTC")),
    )
    found |= queries.row_marketplaces(
        db, reach_first.isoformat(), last_day.isoformat(), start, end, settings.marketplace, found
    )
    return sorted(found) or [settings.marketplace]


def data_through(db: sqlite_utils.Database, zone, last_day: date) -> dict[str, date | None]:
    """The last local day each source covers by the end of `last_day`: the latest day seen in that kind of
    data up to then (None: none yet)."""
    seen = queries.latest_seen(db, last_day.isoformat(), int(end_of_day(last_day, zone)))
    returns = [value for value in (_day_of(seen["fbm_returns"]), _local_day(seen["fba_returns"], zone)) if value]
    return {
        "orders": _local_day(seen["orders"], zone),
        "feedback": _day_of(seen["feedback"]),
        "returns": max(returns) if returns else None,
        "messages": _local_day(seen["messages"], zone),
        "claims": _day_of(seen["claims"]),
    }


def _day_of(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _local_day(instant: int | None, zone) -> date | None:
    return local_day(instant, zone) if instant is not None else None


def _order_counts(db, zone: ZoneInfo, first: date, last: date, market=None) -> dict[str, dict[date, int]]:
    counts: dict[str, dict[date, int]] = {channel: defaultdict(int) for channel in CHANNELS}
    segments = offset_segments(zone, first, last)
    for day, channel, number in queries.order_counts_by_day(
        db, segments, day_start(first, zone), end_of_day(last, zone), market
    ):
        counts[channel][day] += number
    return counts


# More separate runs of days than this to count again: one read from the first to the last is cheaper.
RUNS_MAX = 16
_DAY = timedelta(days=1)


def with_days_counted_again(
    db: sqlite_utils.Database, snapshot: SellerSnapshot, purchases: Iterable[int], market: queries.Market | None
) -> SellerSnapshot:
    """`snapshot` after a write to the orders purchased at `purchases` (each one's instant before and after
    the write, `app.figure_cache.Changes`): the orders of those local days counted again, the rest kept, and
    the first purchase day read again. `market`: the one the snapshot was read for."""
    zone = snapshot.zone
    order_first = snapshot.first_day - timedelta(days=ODR_REACH)
    days = {local_day(instant, zone) for instant in purchases}
    days = sorted(day for day in days if order_first <= day <= snapshot.last_day)
    runs = _runs(days)
    if len(runs) > RUNS_MAX:
        runs = [(runs[0][0], runs[-1][1])]
    counts = {channel: defaultdict(int, by_day) for channel, by_day in snapshot.order_counts.items()}
    for first, last in runs:
        for by_day in counts.values():
            for offset in range((last - first).days + 1):
                by_day.pop(first + offset * _DAY, None)
        # A day's instants may run past its neighbours' midnights (a clock set back across midnight, as at St.
        # John's until 2010): read a day more each side, within what the snapshot read, and keep the run's days.
        read_from, read_to = max(first - _DAY, order_first), min(last + _DAY, snapshot.last_day)
        for channel, by_day in _order_counts(db, zone, read_from, read_to, market).items():
            counts[channel].update((day, count) for day, count in by_day.items() if first <= day <= last)
    first_at = queries.first_order_at(db, market)
    first_order_day = local_day(first_at, zone) if first_at is not None else None
    return replace(snapshot, order_counts=counts, first_order_day=first_order_day)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + _DAY:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def load_orders(db, zone: ZoneInfo, order_ids: list[str | None]) -> dict[str, Order]:
    orders: dict[str, Order] = {}
    rows = queries.order_rows_by_id(db, order_ids)
    _add_orders(orders, rows, 0, _purchase_days(zone, [row[1] for row in rows if type(row[1]) is int]))
    return orders


# Orders' purchase days are read off the zone's offsets over at most this span; wider (a stray date far off
# among the orders) they are converted one by one.
OFFSETS_SPAN_DAYS = 3660


def _purchase_days(zone: ZoneInfo, instants: list[int]) -> Callable[[int], date]:
    one_by_one = partial(local_day, zone=zone)
    if not instants:
        return one_by_one
    first, last = local_day(min(instants), zone), local_day(max(instants), zone)
    if (last - first).days > OFFSETS_SPAN_DAYS or last >= date.max - timedelta(days=2):
        return one_by_one
    return LocalDays(zone, first, last)


# Claims reach back to any order: purchase days are read off the offsets this far before the figures' reach.
PURCHASES_REACH_DAYS = 730


def _purchases_from(order_first: date, first_order_day: date | None) -> date:
    if first_order_day is None:
        return order_first
    return min(order_first, max(first_order_day, order_first - timedelta(days=PURCHASES_REACH_DAYS)))


def _add_orders(orders: dict[str, Order], rows: list[tuple], at: int, day_of: Callable[[int], date]) -> None:
    """The orders whose ORDER_FIELDS start at position `at` of `rows` (a record of an unknown order has None
    there); an order met again is read once."""
    for row in rows:
        order_id = row[at]
        if order_id and order_id not in orders:
            orders[order_id] = order_from_values(row[at : at + len(queries.ORDER_FIELDS)], day_of)


def order_from_values(values: tuple, day_of: Callable[[int], date]) -> Order:
    """An order from its ORDER_FIELDS, its purchase day the local day `day_of` gives."""
    order_id, purchased_at, channel, status, sales_channel = values
    countable = status.strip().lower() != "cancelled" and not (sales_channel or "").lower().startswith("non-amazon")
    return Order(order_id, day_of(purchased_at), channel, purchased_at, countable)


def _messages(db, zone: ZoneInfo, first_day: date, last_day: date, market=None, with_orders=True) -> list[tuple]:
    start = day_start(first_day - timedelta(days=LRR_MAX_DAYS - 1), zone)
    return queries.message_rows_between(db, start, end_of_day(last_day, zone), market, with_orders)


def contacts_of(db, messages: list[Message], orders: dict[str, Order], settings: Settings) -> list[rules.Contact]:
    """The messages as contacts, each answered (or not) by the first real reply of its thread."""
    if not messages:
        return []
    since = min(m.received_at for m in messages)
    replies: dict[str, list[Reply]] = defaultdict(list)
    for thread_key, order_id, sent_at, automatic in queries.reply_rows_since(
        db, {m.thread_key for m in messages}, since
    ):
        replies[thread_key].append(Reply(thread_key, order_id, sent_at, bool(automatic)))
    return rules.contacts(messages, replies, orders, csba_periods(settings))


def csba_periods(settings: Settings) -> list[CsbaPeriod]:
    return [
        CsbaPeriod(parse_day(p["start"]), parse_day(p["end"]) if p.get("end") else None) for p in settings.csba_periods
    ]


def _day(text: str | None) -> date | None:
    return fromisoformat(text) if text else None


# The readers take a row's fields by position (queries' *_FIELDS); the `*_from_row` ones take a dict with those
# keys, as callers reading whole rows by name have them.


def feedback_from_values(values: tuple) -> Feedback:
    """A feedback from its FEEDBACK_FIELDS (anything after them is left alone)."""
    return Feedback(
        order_id=values[0],
        day=fromisoformat(values[1]),
        rating=values[2],
        comments=values[3],
        struck_through=bool(values[4]),
        removal_status=values[5],
        removed_on=_day(values[6]),
        removal_requested_on=_day(values[7]),
    )


def claim_from_values(values: tuple) -> Claim:
    """A claim from its CLAIM_FIELDS (anything after them is left alone)."""
    return Claim(
        order_id=values[0],
        type=values[1],
        filed_on=fromisoformat(values[2]),
        status=values[3],
        reason=values[4],
        decided_on=_day(values[5]),
        buy_shipping_protected=bool(values[6]),
        amount=values[7],
        responded_at=values[8],
        appeal_filed_on=_day(values[9]),
    )


def message_from_values(values: tuple) -> Message:
    """A message from its MESSAGE_FIELDS (anything after them is left alone)."""
    return Message(*values[:9])


def return_from_values(values: tuple) -> ReturnRequest:
    """A return request from its RETURN_FIELDS."""
    return ReturnRequest(
        return_id=values[0],
        order_id=values[1],
        request_day=fromisoformat(values[2]),
        status=values[3],
        reason=values[4],
        negative_return_feedback=bool(values[5]),
        incorrectly_closed=bool(values[6]),
        responded_at=values[7],
    )


def _values(row: dict, fields: tuple[str, ...]) -> tuple:
    return tuple(row[name] for name in fields)


def feedback_from_row(row: dict) -> Feedback:
    return feedback_from_values(_values(row, queries.FEEDBACK_FIELDS))


def claim_from_row(row: dict) -> Claim:
    return claim_from_values(_values(row, queries.CLAIM_FIELDS))


def return_from_row(row: dict) -> ReturnRequest:
    return return_from_values(_values(row, queries.RETURN_FIELDS))
