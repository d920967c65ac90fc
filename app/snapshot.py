"""Reading what the metrics need for a range of `as_of` days out of the database, once.

A snapshot covers `first_day`..`last_day`: the order counts per local day reach back to the first
lagging ODR window (74 days before), feedback to the first 90-day NFR window, messages to the first
90-day LRR window, return requests to the first 60-day RDR window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from app import rules
from app.model import CHANNELS, Claim, CsbaPeriod, Feedback, Message, Order, Reply, ReturnRequest
from app.settings import Settings, load_settings
from app.timeutil import day_start, end_of_day, local_day, offset_segments, parse_day
from storage import queries

LAGGING_DAYS = 14
WINDOW_DAYS = 60
ODR_REACH = LAGGING_DAYS + WINDOW_DAYS - 1  # 73: first day of the lagging window before as_of
NFR_DAYS = 90
LRR_MAX_DAYS = 90
RDR_DAYS = 60


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

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone


def load_snapshot(
    db: sqlite_utils.Database,
    first_day: date,
    last_day: date,
    settings: Settings | None = None,
    market: queries.Market | None = None,
) -> SellerSnapshot:
    """What the figures of `first_day`..`last_day` need; with `market`, only that marketplace's records
    (`settings` are then the marketplace's own: its zone counts its days)."""
    settings = settings or load_settings(db)
    zone = settings.zone
    order_first = first_day - timedelta(days=ODR_REACH)
    counts = _order_counts(db, zone, order_first, last_day, market)
    first_at = queries.first_order_at(db, market)
    claims = [claim_from_row(row) for row in queries.claims(db, market)]
    negative = [
        feedback_from_row(row)
        for row in queries.negative_feedback(db, order_first.isoformat(), last_day.isoformat(), market)
    ]
    messages = [message_from_row(row) for row in _messages(db, zone, first_day, last_day, market)]
    orders = load_orders(
        db, zone, [c.order_id for c in claims] + [f.order_id for f in negative] + [m.order_id for m in messages]
    )
    events, orphans = [], []
    for event in [e for e in map(rules.feedback_event, negative) if e] + [
        rules.claim_event(claim, orders.get(claim.order_id)) for claim in claims
    ]:
        (events if event.order_id in orders else orphans).append(event)
    return SellerSnapshot(
        settings=settings,
        first_day=first_day,
        last_day=last_day,
        order_counts=counts,
        first_order_day=local_day(first_at, zone) if first_at is not None else None,
        orders=orders,
        events=events,
        orphan_events=orphans,
        feedback=[
            feedback_from_row(row)
            for row in queries.feedback_between(
                db, (first_day - timedelta(days=NFR_DAYS - 1)).isoformat(), last_day.isoformat(), market
            )
        ],
        contacts=_contacts(db, messages, orders, settings),
        returns=[
            rules.return_outcome(return_from_row(row), zone)
            for row in queries.returns_between(
                db, (first_day - timedelta(days=RDR_DAYS - 1)).isoformat(), last_day.isoformat(), market
            )
        ],
        claims=claims,
        data_through=data_through(db, zone, last_day),
        marketplace=market.code if market else settings.marketplace,
    )


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
        counts[channel][parse_day(day)] += number
    return counts


def load_orders(db, zone: ZoneInfo, order_ids: list[str | None]) -> dict[str, Order]:
    orders = {}
    for row in queries.orders_by_id(db, order_ids):
        countable = row["status"].strip().lower() != "cancelled" and not (
            row["sales_channel"] or ""
        ).lower().startswith("non-amazon")
        orders[row["order_id"]] = Order(
            row["order_id"], local_day(row["purchased_at"], zone), row["channel"], row["purchased_at"], countable
        )
    return orders


def _messages(db, zone: ZoneInfo, first_day: date, last_day: date, market=None) -> list[dict]:
    start = day_start(first_day - timedelta(days=LRR_MAX_DAYS - 1), zone)
    return queries.messages_between(db, start, end_of_day(last_day, zone), market)


def _contacts(db, messages: list[Message], orders: dict[str, Order], settings: Settings) -> list[rules.Contact]:
    if not messages:
        return []
    since = min(m.received_at for m in messages)
    replies: dict[str, list[Reply]] = defaultdict(list)
    for row in queries.replies_since(db, {m.thread_key for m in messages}, since):
        replies[row["thread_key"]].append(
            Reply(row["thread_key"], row["order_id"], row["sent_at"], bool(row["automatic"]))
        )
    return rules.contacts(messages, replies, orders, csba_periods(settings))


def csba_periods(settings: Settings) -> list[CsbaPeriod]:
    return [
        CsbaPeriod(parse_day(p["start"]), parse_day(p["end"]) if p.get("end") else None) for p in settings.csba_periods
    ]


def _day(text: str | None) -> date | None:
    return parse_day(text) if text else None


def feedback_from_row(row: dict) -> Feedback:
    return Feedback(
        order_id=row["order_id"],
        day=parse_day(row["feedback_date"]),
        rating=row["rating"],
        comments=row["comments"],
        struck_through=bool(row["struck_through"]),
        removal_status=row["removal_status"],
        removed_on=_day(row["removed_on"]),
        removal_requested_on=_day(row["removal_requested_on"]),
    )


def claim_from_row(row: dict) -> Claim:
    return Claim(
        order_id=row["order_id"],
        type=row["type"],
        filed_on=parse_day(row["filed_on"]),
        status=row["status"],
        reason=row["reason"],
        decided_on=_day(row["decided_on"]),
        buy_shipping_protected=bool(row["buy_shipping_protected"]),
        amount=row["amount"],
        responded_at=row["responded_at"],
        appeal_filed_on=_day(row["appeal_filed_on"]),
    )


def message_from_row(row: dict) -> Message:
    return Message(
        message_id=row["message_id"],
        thread_key=row["thread_key"],
        order_id=row["order_id"],
        received_at=row["received_at"],
        kind=row["kind"],
        topic=row["topic"],
        subject=row["subject"],
        body=row["body"],
        no_response_needed_at=row["no_response_needed_at"],
    )


def return_from_row(row: dict) -> ReturnRequest:
    return ReturnRequest(
        return_id=row["return_id"],
        order_id=row["order_id"],
        request_day=parse_day(row["request_date"]),
        status=row["status"],
        reason=row["reason"],
        negative_return_feedback=bool(row["negative_return_feedback"]),
        incorrectly_closed=bool(row["incorrectly_closed"]),
        responded_at=row["responded_at"],
    )
