"""Deadlines: every open clock at an instant, from absolute UTC due times (metrics.md's table).

Clocks run in calendar hours (weekends and holidays count). A clock whose obligation outlives its
deadline (a buyer still waiting for a reply, a return request still pending, a claim still unanswered)
stays on the list with a negative remaining time; a clock that only opens a window (appeal, feedback
removal) disappears once the window has closed, because nothing can be done any more. A feedback removal
clock runs only for feedback Amazon has a ground to remove (`app.removal`): for any other, asking breaks
Amazon's rules, and the only path is the buyer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from app import money, removal, rules
from app.model import Claim, Feedback, Message, Order, ReturnRequest
from app.reasons import reason_words
from app.settings import Settings, load_settings
from app.snapshot import (
    claim_from_row,
    csba_periods,
    feedback_from_row,
    load_orders,
    message_from_values,
    return_from_row,
)
from app.timeutil import DAY_S, HOUR_S, day_start, end_of_day, local_day, to_iso
from storage import queries
from storage import triage as triage_store

BUYER_REPLY = "buyer_reply"
CSBA_INQUIRY = "csba_inquiry"
RETURN_RESPONSE = "return_response"
A_TO_Z_RESPONSE = "a_to_z_response"
CHARGEBACK_RESPONSE = "chargeback_response"
A_TO_Z_APPEAL = "a_to_z_appeal"
FEEDBACK_REMOVAL = "feedback_removal"
FBA_REIMBURSEMENT_CLAIM = "fba_reimbursement_claim"
SAFET_FILING = "safet_filing"
KIND_LABELS = {
    BUYER_REPLY: "Reply to buyer",
    CSBA_INQUIRY: "Reply to Customer Service by Amazon",
    RETURN_RESPONSE: "Respond to return request",
    A_TO_Z_RESPONSE: "Respond to A-to-z claim",
    CHARGEBACK_RESPONSE: "Respond to chargeback",
    A_TO_Z_APPEAL: "Appeal A-to-z decision",
    FEEDBACK_REMOVAL: "Request feedback removal",
    FBA_REIMBURSEMENT_CLAIM: "File FBA reimbursement claim",
    SAFET_FILING: "File SAFE-T claim",
}
# Windows that open a claim: once closed, Amazon refuses the claim, so nothing is owed any more.
CLOSES_WHEN_DUE = (A_TO_Z_APPEAL, FEEDBACK_REMOVAL, FBA_REIMBURSEMENT_CLAIM, SAFET_FILING)
# Clocks whose detail is a reason code (a return's, a claim's) rather than a topic or a comment.
REASON_KINDS = (RETURN_RESPONSE, A_TO_Z_RESPONSE, CHARGEBACK_RESPONSE, A_TO_Z_APPEAL)
CHARGEBACK_RESPONSE_S = 7 * DAY_S
APPEAL_S = 30 * DAY_S


@dataclass(frozen=True)
class Clock:
    kind: str
    order_id: str | None
    started_at: int
    due_at: int
    item_id: str
    detail: str = ""
    channel: str | None = None
    # Named only when the seller sells in more than one marketplace (None: the one marketplace there is).
    marketplace: str | None = None

    def remaining_s(self, at: float) -> float:
        return float(self.due_at - at)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def reason_code(self) -> str | None:
        """The reason code of a return or claim clock, as its report gave it (None for other clocks)."""
        return (self.detail or None) if self.kind in REASON_KINDS else None

    @property
    def detail_text(self) -> str:
        """The detail as the seller reads it: a reason code in words, a topic or comment as it is."""
        return reason_words(self.detail) if self.kind in REASON_KINDS else self.detail

    def to_json(self, at: float) -> dict:
        return {
            "kind": self.kind,
            "order_id": self.order_id,
            "due_at": to_iso(self.due_at),
            "remaining_s": self.remaining_s(at),
            "started_at": to_iso(self.started_at),
            "item_id": self.item_id,
            "detail": self.detail_text,
            "reason_code": self.reason_code,
            "channel": self.channel,
            **({"marketplace": self.marketplace} if self.marketplace else {}),
        }


@dataclass
class ClockInputs:
    """What may be on a clock at an instant (already narrowed by the database where that is cheap)."""

    unanswered: list[Message] = field(default_factory=list)
    pending_returns: list[ReturnRequest] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    negative_feedback: list[Feedback] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    product_names: dict[str, list[str]] = field(default_factory=dict)
    fba_claims: list[money.FbaClaim] = field(default_factory=list)
    safet_returns: list[money.SafetReturn] = field(default_factory=list)
    resolved_money: set[str] = field(default_factory=set)  # money items the seller resolved (claim filed)

    def names_any(self, order_ids: Iterable[str]) -> bool:
        """Whether a record read (or an order or product looked up) is of one of `order_ids`: an order of no
        record is never read for a clock."""
        wanted = set(order_ids)
        if not wanted:
            return False
        records = (self.unanswered, self.pending_returns, self.claims, self.negative_feedback)
        named = {record.order_id for part in records for record in part}
        named |= {claim.order_id for claim in self.fba_claims} | {request.order_id for request in self.safet_returns}
        return not wanted.isdisjoint(named | self.orders.keys() | self.product_names.keys())

    def in_zone(self, zone: ZoneInfo) -> ClockInputs:
        """The same records with each order's purchase day counted in `zone` (a marketplace's own days)."""
        orders = {
            key: replace(order, purchase_day=local_day(order.purchased_at, zone)) for key, order in self.orders.items()
        }
        return replace(self, orders=orders)


def open_clocks(inputs: ClockInputs, at: float, settings: Settings) -> list[Clock]:
    """Every clock running (or overdue and still owed) at `at`, most urgent first."""
    clocks = (
        _message_clocks(inputs, at, settings)
        + _return_clocks(inputs, at, settings)
        + _claim_clocks(inputs, at, settings)
        + _feedback_clocks(inputs, at, settings)
        + _money_clocks(inputs, at, settings)
    )
    live = [c for c in clocks if c.started_at <= at and not (c.kind in CLOSES_WHEN_DUE and c.due_at <= at)]
    return sorted(live, key=lambda clock: (clock.due_at, clock.kind, clock.item_id))


def _channel(inputs: ClockInputs, order_id: str | None) -> str | None:
    order = inputs.orders.get(order_id) if order_id else None
    return order.channel if order else None


def _message_clocks(inputs: ClockInputs, at: float, settings: Settings) -> list[Clock]:
    periods = csba_periods(settings)
    clocks = []
    for message in inputs.unanswered:
        if rules.csba_covered(message, inputs.orders.get(message.order_id), periods):
            continue
        kind = CSBA_INQUIRY if message.kind == "csba" else BUYER_REPLY
        clocks.append(
            Clock(
                kind,
                message.order_id,
                message.received_at,
                message.received_at + rules.REPLY_WINDOW_S,
                message.message_id,
                message.topic or message.subject or "",
                _channel(inputs, message.order_id),
            )
        )
    return clocks


def _return_clocks(inputs: ClockInputs, at: float, settings: Settings) -> list[Clock]:
    zone = settings.zone
    return [
        Clock(
            RETURN_RESPONSE,
            request.order_id,
            day_start(request.request_day, zone),
            rules.return_deadline(request, zone),
            request.return_id,
            request.reason or "",
            "FBM",
        )
        for request in inputs.pending_returns
    ]


def _claim_clocks(inputs: ClockInputs, at: float, settings: Settings) -> list[Clock]:
    zone = settings.zone
    today = local_day(at, zone)
    clocks = []
    for claim in inputs.claims:
        filed = day_start(claim.filed_on, zone)
        # A decision dated after `at` had not happened yet; an undated one (a withdrawal) has.
        decided = claim.status != "open" and (claim.decided_on is None or claim.decided_on <= today)
        responded = claim.responded_at is not None and claim.responded_at <= at
        key = f"{claim.order_id}/{claim.type}"
        channel = _channel(inputs, claim.order_id)
        if not decided and not responded:
            hours = settings.a_to_z_response_hours if claim.type == "a-to-z" else CHARGEBACK_RESPONSE_S / HOUR_S
            kind = A_TO_Z_RESPONSE if claim.type == "a-to-z" else CHARGEBACK_RESPONSE
            clocks.append(Clock(kind, claim.order_id, filed, filed + int(hours * HOUR_S), key, claim.reason, channel))
        granted = claim.type == "a-to-z" and claim.status == "granted" and decided and claim.decided_on
        if granted and (claim.appeal_filed_on is None or claim.appeal_filed_on > today):
            start = day_start(claim.decided_on, zone)
            clocks.append(Clock(A_TO_Z_APPEAL, claim.order_id, start, start + APPEAL_S, key, claim.reason, channel))
    return clocks


def _feedback_clocks(inputs: ClockInputs, at: float, settings: Settings) -> list[Clock]:
    zone = settings.zone
    window = int(settings.feedback_removal_days * DAY_S)
    today = local_day(at, zone)
    clocks = []
    for feedback in inputs.negative_feedback:
        start, until, _ = rules.visible_interval(feedback)
        requested = feedback.removal_requested_on
        # A feedback, a removal or a request dated after `at` had not happened yet.
        if feedback.day > today or start is None:
            continue
        if (until is not None and until <= today) or (requested is not None and requested <= today):
            continue
        # Asking Amazon to remove a feedback it has no ground to remove breaks its rules: without a ground
        # there is no removal to request, only the buyer to answer (the escalation matrix's path).
        channel = _channel(inputs, feedback.order_id)
        names = inputs.product_names.get(feedback.order_id, [])
        if removal.removal_ground(feedback.comments, channel, names, settings.marketplace) is None:
            continue
        opened = day_start(feedback.day, zone)
        clocks.append(
            Clock(
                FEEDBACK_REMOVAL,
                feedback.order_id,
                opened,
                opened + window,
                feedback.order_id,
                (feedback.comments or "")[:80],
                channel,
            )
        )
    return clocks


def _money_clocks(inputs: ClockInputs, at: float, settings: Settings) -> list[Clock]:
    """A claim to file on money Amazon may owe, until the seller files it (resolves its item) or the window
    closes (docs/money.md)."""
    clocks = []
    for claim in inputs.fba_claims:
        if claim.key not in inputs.resolved_money:
            # Starts the day Amazon first accepts the claim: a claim filed sooner is refused.
            opens = day_start(claim.window_opens(settings), settings.zone)
            due = claim.window_closes(settings)
            detail = claim.ground
            clocks.append(Clock(FBA_REIMBURSEMENT_CLAIM, claim.order_id, opens, due, claim.return_key, detail, "FBA"))
    today = local_day(at, settings.zone)
    for item in inputs.safet_returns:
        why = item.why_to_file(today)
        if why and item.key not in inputs.resolved_money:
            start = day_start(item.window_opens(), settings.zone)
            clocks.append(
                Clock(SAFET_FILING, item.order_id, start, item.window_closes(settings), item.return_id, why, "FBM")
            )
    return clocks


def load_clock_inputs(
    db: sqlite_utils.Database, at: float, settings: Settings, spread_days: int = 0, item: str | None = None
) -> ClockInputs:
    """What may be on a clock at `at`. `spread_days`: feedback dated that many days either side of the
    zone's removal window is read too, so one read serves marketplaces whose days are other days than
    this zone's (each keeps only its own: a feedback dated after its marketplace's today has no clock).
    `item`: only the record of that triage item (`item_clocks`)."""
    zone = settings.zone
    today = local_day(at, zone)
    reads = _ItemReads(item)
    message_id = item.partition(":")[2] if reads.kind == "message" else None
    messages = []
    if reads.wants("message"):
        messages = [message_from_values(row) for row in queries.unanswered_message_rows(db, int(at), message_id)]
    # The earliest day any marketplace may be on at `at`; a decision, or an appeal's 30 days, before it is over.
    earliest = today - timedelta(days=spread_days + 1)
    appeal_from = earliest - timedelta(days=APPEAL_S // DAY_S + 1)
    claims = []
    if reads.wants("claim"):
        rows = queries.claims_that_may_be_on_a_clock(db, earliest.isoformat(), appeal_from.isoformat())
        claims = reads.keep([claim_from_row(row) for row in rows], lambda c: f"claim:{c.order_id}:{c.type}")
    feedback = []
    if reads.wants("feedback"):
        since = today - timedelta(days=int(settings.feedback_removal_days) + 1 + spread_days)
        until = today + timedelta(days=spread_days)
        rows = queries.negative_feedback(db, since.isoformat(), until.isoformat())
        feedback = reads.keep([feedback_from_row(row) for row in rows], lambda f: f"feedback:{f.order_id}")
    order_ids = [m.order_id for m in messages] + [c.order_id for c in claims] + [f.order_id for f in feedback]
    names: dict[str, list[str]] = {}
    for row in triage_store.order_items(db, [f.order_id for f in feedback]):
        if row["product_name"]:
            names.setdefault(row["order_id"], []).append(row["product_name"])
    fba_claims = []
    if reads.wants("fba_reimbursement"):
        fba_from = int(at - (settings.fba_reimbursement_days + 1 + spread_days) * DAY_S)
        fba_claims = reads.keep(money.fba_returns(db, fba_from, int(at) + 1)[0], lambda c: c.key)
    safet = []
    if reads.wants("safet"):
        # A SAFE-T window opens at the return's delivery, which may come weeks after the request.
        reach = int(settings.safet_claim_days) + money.SAFET_DELIVERY_REACH_DAYS + spread_days
        safet = reads.keep(money.safet_returns(db, today - timedelta(days=reach)), lambda r: r.key)
    pending = []
    if reads.wants("return"):
        requests = [return_from_row(row) for row in queries.pending_returns(db)]
        pending = reads.keep(requests, lambda r: f"return:{r.return_id}")
    return ClockInputs(
        fba_claims=fba_claims,
        safet_returns=safet,
        resolved_money=money.resolved_keys(db) if fba_claims or safet else set(),
        unanswered=messages,
        pending_returns=pending,
        claims=claims,
        negative_feedback=feedback,
        orders=load_orders(db, zone, order_ids),
        product_names=names,
    )


class _ItemReads:
    """Which records `load_clock_inputs` reads: all of them, or only those of one triage item (its key's
    kind says which list it can be on, and the key which record of it)."""

    def __init__(self, item: str | None):
        self.item = item
        self.kind = item.partition(":")[0] if item else None

    def wants(self, kind: str) -> bool:
        return self.item is None or self.kind == kind

    def keep(self, records: list, key_of) -> list:
        return records if self.item is None else [record for record in records if key_of(record) == self.item]


@dataclass(frozen=True)
class KeptClockInputs:
    """What `load_clock_inputs` read at an instant of the day `today`, with `until`: the first instant at
    which a read, with nothing written in between, could find something else. A later instant of the same day
    before `until` has the same clock inputs, and only the clocks are counted again (`open_clocks`): the
    worker's recomputations after the seller's writes reuse them (`app.scheduler`)."""

    inputs: ClockInputs
    settings: Settings
    today: date
    until: float
    read_at: float  # an earlier instant (the clock set back) may have fewer rows: it is read anew

    def usable_at(self, at: float, settings: Settings) -> bool:
        same_day = settings == self.settings and local_day(at, settings.zone) == self.today
        return same_day and int(self.read_at) <= int(at) and at < self.until


def read_clock_inputs(db: sqlite_utils.Database, at: float, settings: Settings) -> KeptClockInputs:
    inputs = load_clock_inputs(db, at, settings)
    return KeptClockInputs(inputs, settings, local_day(at, settings.zone), read_until(db, at, settings), at)


def read_until(db: sqlite_utils.Database, at: float, settings: Settings) -> float:
    """The first instant after `at` at which `load_clock_inputs` (or the triage list's read of its records,
    bounded by the same instants) may read other rows of the same records: a
    message received, marked *no response needed* or answered, or an FBA return entering or leaving the
    claim window read, after `at`; or the next day (the other reads are by day). A reply or message only
    ever moves it earlier: an instant too early makes a read, never a wrong clock."""
    now = int(at)
    window = (settings.fba_reimbursement_days + 1) * DAY_S
    found = [
        _first(db, "SELECT min(received_at) FROM messages WHERE received_at > ?", now),
        _first(db, "SELECT min(no_response_needed_at) FROM messages WHERE no_response_needed_at > ?", now),
        _first(db, "SELECT min(sent_at) FROM replies WHERE sent_at > ?", now),
        _first(db, "SELECT min(returned_at) FROM fba_returns WHERE returned_at > ?", now),
    ]
    oldest = _first(db, "SELECT min(returned_at) FROM fba_returns WHERE returned_at >= ?", int(at - window) - 1)
    found.append(None if oldest is None else oldest + window)  # it leaves the window read from then on
    return min(
        [end_of_day(local_day(at, settings.zone), settings.zone), *(value for value in found if value is not None)]
    )


def _first(db: sqlite_utils.Database, sql: str, *params) -> int | None:
    return db.execute(sql, params).fetchone()[0]


def with_threads_read(
    db: sqlite_utils.Database, kept: KeptClockInputs, threads: set[str], at: float
) -> KeptClockInputs:
    """`kept`, used at `at`, after writes that changed only the buyer messages and replies of `threads`: those
    threads' unanswered messages read again at `at`, the others as they were."""
    rows = queries.unanswered_message_rows(db, int(at), threads=threads)
    fresh = [message_from_values(row) for row in rows]
    unanswered = [message for message in kept.inputs.unanswered if message.thread_key not in threads] + fresh
    orders = kept.inputs.orders | load_orders(db, kept.settings.zone, [message.order_id for message in fresh])
    inputs = replace(kept.inputs, unanswered=unanswered, orders=orders)
    return replace(kept, inputs=inputs, until=min(kept.until, threads_read_until(db, threads, at)))


def with_resolved_money(db: sqlite_utils.Database, kept: KeptClockInputs) -> KeptClockInputs:
    """`kept` with the money items the seller resolved read again: resolving one ends its clock, and the
    triage decisions do not stop the inputs' reuse."""
    inputs = kept.inputs
    resolved = money.resolved_keys(db) if inputs.fba_claims or inputs.safet_returns else set()
    return replace(kept, inputs=replace(inputs, resolved_money=resolved))


def threads_read_until(db: sqlite_utils.Database, threads: set[str], at: float) -> float:
    """`read_until`'s instants among the messages and replies of `threads` (written since it was found)."""
    found = []
    for chunk in queries.chunks(sorted(threads)):
        marks = ", ".join("?" * len(chunk))
        for sql in (
            f"SELECT min(received_at) FROM messages WHERE thread_key IN ({marks}) AND received_at > ?",
            f"SELECT min(no_response_needed_at) FROM messages WHERE thread_key IN ({marks}) "
            "AND no_response_needed_at > ?",
            f"SELECT min(sent_at) FROM replies WHERE thread_key IN ({marks}) AND sent_at > ?",
        ):
            found.append(_first(db, sql, *chunk, int(at)))
    return min((value for value in found if value is not None), default=math.inf)


def clocks_at(db: sqlite_utils.Database, at: float, settings: Settings | None = None) -> list[Clock]:
    settings = settings or load_settings(db)
    return open_clocks(load_clock_inputs(db, at, settings), at, settings)


def item_clocks(db: sqlite_utils.Database, item: str, at: float, settings: Settings | None = None) -> list[Clock]:
    """The clocks `clocks_at` gives whose record is the triage item `item` (a key such as `message:<id>`): a
    buyer message is read alone, and of the other kinds only the list the item's kind can be on (a few claims,
    feedback, returns), so resolving an item does not wait on every clock of years of records."""
    settings = settings or load_settings(db)
    return open_clocks(load_clock_inputs(db, at, settings, item=item), at, settings)
