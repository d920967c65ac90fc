"""Reading what the triage list needs out of the database, for one window of days, once.

Records are read by their own date (feedback, claims and return requests by day; messages, FBA returns
and status changes by instant) over the window in the marketplace time zone; the orders they name are
read for their channel, item value and product names; the open clocks come from `app.clocks`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlite_utils

from app import money
from app.alerts import status_history
from app.clocks import Clock, clocks_at, read_until, threads_read_until
from app.reply_templates import buyer_first_names
from app.settings import Settings
from app.snapshot import (
    claim_from_row,
    contacts_of,
    feedback_from_row,
    load_orders,
    message_from_values,
    return_from_row,
)
from app.timeline import reply_breaches
from app.timeutil import DAY_S, day_start, end_of_day, local_day
from app.triage import (
    CATEGORIES,
    FbaReturn,
    FlaggedReply,
    ItemMemo,
    MatrixEntry,
    Resolution,
    StatusChange,
    TriageInputs,
    contact_index,
    default_matrix,
    feedback_index,
    return_index,
)
from storage import queries
from storage import triage as store

if TYPE_CHECKING:
    from app.figure_cache import Changes


def load_triage_inputs(
    db: sqlite_utils.Database,
    at: float,
    settings: Settings,
    first_day: date,
    last_day: date,
    clocks: list[Clock] | None = None,
) -> TriageInputs:
    """The records dated `first_day`..`last_day` that may be triage items, and what they refer to.
    `clocks`: the open clocks at `at` when the caller already has them."""
    kept = read_triage_records(db, at, settings, first_day, last_day)
    return with_decisions(db, kept, at, clocks if clocks is not None else clocks_at(db, at, settings))


@dataclass(frozen=True)
class KeptTriageRecords:
    """What `read_triage_records` read for the days `first_day`..`last_day` at an instant of the day `today`,
    with `until`: the first instant at which a read, with nothing written in between, could find other rows
    (`clocks.read_until`). The worker's triage lists reuse them (with the seller's decisions, the status
    changes and the clocks read again every time) after the seller's decisions and marks."""

    inputs: TriageInputs
    flagged_threads: tuple[str, ...]  # the thread of each of `inputs.flagged_replies`
    settings: Settings
    first_day: date
    last_day: date
    today: date
    until: float
    read_at: float  # an earlier instant (the clock set back) may have fewer rows: it is read anew
    # Every order a record read names (or names no longer: a record read again may name another), and every
    # order, value or product looked up: the records are read by their own dates, and only these orders.
    named: frozenset[str] = frozenset()

    def usable(self, at: float, settings: Settings, first_day: date, last_day: date) -> bool:
        same_days = (first_day, last_day) == (self.first_day, self.last_day)
        same_day = same_days and settings == self.settings and local_day(at, settings.zone) == self.today
        return same_day and int(self.read_at) <= int(at) and at < self.until

    def names_any(self, order_ids: Iterable[str]) -> bool:
        """Whether a record read (or an order, value or product looked up) may be of one of `order_ids`."""
        return not self.named.isdisjoint(order_ids)


def _named_orders(inputs: TriageInputs) -> frozenset[str]:
    records = (inputs.feedback, inputs.claims, inputs.returns, inputs.fba_returns, inputs.order_claims)
    named = {record.order_id for part in records for record in part}
    named |= {contact.message.order_id for contact in inputs.contacts}
    named |= {reply.order_id for reply in inputs.flagged_replies}
    named |= {claim.order_id for claim in inputs.fba_claims}
    named |= {request.order_id for request in inputs.safet_returns}
    return frozenset(named | inputs.orders.keys() | inputs.item_values.keys() | inputs.product_names.keys())


def _bounds(first_day: date, last_day: date, at: float, settings: Settings) -> tuple[int, int]:
    zone = settings.zone
    return day_start(first_day, zone), min(end_of_day(last_day, zone), int(at) + 1)


def read_triage_records(
    db: sqlite_utils.Database, at: float, settings: Settings, first_day: date, last_day: date
) -> KeptTriageRecords:
    """The records of `load_triage_inputs`, without the seller's decisions, the status changes and the clocks."""
    zone = settings.zone
    start, end = _bounds(first_day, last_day, at, settings)
    first, last = first_day.isoformat(), last_day.isoformat()
    feedback = [feedback_from_row(row) for row in store.unfavourable_feedback_between(db, first, last)]
    claims = [claim_from_row(row) for row in store.claims_filed_between(db, first, last)]
    returns = [return_from_row(row) for row in queries.returns_between(db, first, last)]
    messages = [message_from_values(row) for row in queries.message_rows_between(db, start, end, with_order=False)]
    fba_returns = [_fba_return(row) for row in store.fba_returns_between(db, start, end)]
    flagged_replies, flagged_threads = _flagged_replies(db, start, end)
    order_ids = [f.order_id for f in feedback] + [c.order_id for c in claims] + [r.order_id for r in returns]
    order_ids += [m.order_id for m in messages] + [r.order_id for r in fba_returns]
    order_ids += [r.order_id for r in flagged_replies if r.order_id]
    orders = load_orders(db, zone, order_ids)
    values, names = _order_items(db, order_ids)
    feedback_orders = {f.order_id for f in feedback}
    # Every claim on an order with feedback, whenever filed: removing a feedback lowers ODR only if nothing
    # else makes its order defective.
    order_claims = [claim_from_row(row) for row in queries.claims(db) if row["order_id"] in feedback_orders]
    fba_claims, safet_returns = _money_records(db, at, settings, first_day)
    order_ids = [claim.order_id for claim in fba_claims] + [request.order_id for request in safet_returns]
    orders |= load_orders(db, zone, [order_id for order_id in order_ids if order_id not in orders])
    more_values, more_names = _order_items(db, [order_id for order_id in order_ids if order_id not in values])
    values |= more_values
    names |= more_names  # a claim's template names its product
    contacts = contacts_of(db, messages, orders, settings)
    inputs = TriageInputs(
        buyer_names=buyer_first_names(contact.message for contact in contacts),
        feedback_index=feedback_index(feedback),
        contact_index=contact_index(contacts),
        return_index=return_index(returns),
        items_built=ItemMemo(),
        fba_claims=fba_claims,
        safet_returns=safet_returns,
        order_claims=order_claims,
        feedback=feedback,
        claims=claims,
        returns=returns,
        contacts=contacts,
        fba_returns=fba_returns,
        orders=orders,
        item_values=values,
        product_names=names,
        flagged_replies=flagged_replies,
    )
    until = read_until(db, at, settings)
    return KeptTriageRecords(
        inputs,
        flagged_threads,
        settings,
        first_day,
        last_day,
        local_day(at, settings.zone),
        until,
        at,
        _named_orders(inputs),
    )


def with_threads_read(
    db: sqlite_utils.Database, kept: KeptTriageRecords, threads: set[str], at: float
) -> KeptTriageRecords:
    """`kept`, used at `at`, after writes that changed only the buyer messages and replies of `threads`: those
    threads' messages (as contacts) and flagged replies read again, with the orders they name."""
    settings, inputs = kept.settings, kept.inputs
    start, end = _bounds(kept.first_day, kept.last_day, at, settings)
    messages = [message_from_values(row) for row in queries.message_rows_of_threads(db, threads, start, end)]
    flagged, flagged_threads = _flagged_replies(db, start, end, threads)
    order_ids = [m.order_id for m in messages] + [r.order_id for r in flagged if r.order_id]
    orders = inputs.orders | load_orders(db, settings.zone, [i for i in order_ids if i not in inputs.orders])
    values, names = _order_items(db, [i for i in order_ids if i not in inputs.orders])
    contacts, removed = [], []
    for contact in inputs.contacts:
        (removed if contact.message.thread_key in threads else contacts).append(contact)
    added = contacts_of(db, messages, orders, settings)
    contacts += added
    index = inputs.contact_index
    if index is not None and index.serves(inputs.contacts):
        index = index.replaced(contacts, removed, added)
    else:
        index = contact_index(contacts)
    kept_flagged = [
        (r, t) for r, t in zip(inputs.flagged_replies, kept.flagged_threads, strict=True) if t not in threads
    ]
    inputs = replace(
        inputs,
        contacts=contacts,
        contact_index=index,
        buyer_names=_names_again(inputs.buyer_names, contacts, removed + added),
        flagged_replies=[r for r, _ in kept_flagged] + flagged,
        orders=orders,
        item_values=inputs.item_values | values,
        product_names=inputs.product_names | names,
    )
    flagged_threads = tuple(t for _, t in kept_flagged) + tuple(flagged_threads)
    until = min(kept.until, threads_read_until(db, threads, at))
    named = kept.named | set(order_ids)  # those the threads' records named before stay: never one too few
    return replace(kept, inputs=inputs, flagged_threads=flagged_threads, until=until, named=named)


def _names_again(names: dict[str, str] | None, contacts: list, changed: list) -> dict[str, str]:
    """The buyers' first names of `contacts`, given `names` from the contacts before those `changed` (taken
    away or added): only the orders of those are named again, from all their messages."""
    orders = {contact.message.order_id for contact in changed}
    if names is None:
        return buyer_first_names(contact.message for contact in contacts)
    again = buyer_first_names(contact.message for contact in contacts if contact.message.order_id in orders)
    return {order_id: name for order_id, name in names.items() if order_id not in orders} | again


class TriageReads:
    """The worker's triage records from one list to the next: `offered`, those kept with what was written to
    since (`app.figure_cache.Changes`; None: none to use); `kept`, after a list, the records it read or used."""

    def __init__(self, offered: tuple[KeptTriageRecords, Changes] | None):
        self.offered = offered
        self.kept: KeptTriageRecords | None = None

    def inputs(
        self, db: sqlite_utils.Database, at: float, settings: Settings, first_day: date, last_day: date, clocks
    ) -> TriageInputs:
        """`load_triage_inputs`, from the records offered when they hold for these days at `at`."""
        records = None
        offered, self.offered = self.offered, None  # not held while records are read anew
        if offered is not None and offered[0].usable(at, settings, first_day, last_day):
            records, changes = offered
            if records.names_any(changes.orders):
                records = None  # read anew: an order they name was written to
            elif changes.threads:
                records = with_threads_read(db, records, changes.threads, at)
        offered = None
        if records is None:
            records = read_triage_records(db, at, settings, first_day, last_day)
        self.kept = records
        return with_decisions(db, records, at, clocks)


def with_decisions(db: sqlite_utils.Database, kept: KeptTriageRecords, at: float, clocks: list[Clock]) -> TriageInputs:
    """The records with what changes without them: the seller's decisions, the status changes, the clocks."""
    start, end = _bounds(kept.first_day, kept.last_day, at, kept.settings)
    changes = [
        StatusChange(row["at"], row["metric"], row["old_status"], row["new_status"], row["rate"])
        for row in status_history(db)
        if start <= row["at"] < end
    ]
    return replace(
        kept.inputs,
        status_changes=changes,
        clocks=clocks,
        resolutions=load_resolutions(db),
        overrides={k: v for k, v in store.category_overrides(db).items() if v in CATEGORIES},
        matrix=load_matrix(db),
    )


def _money_records(db: sqlite_utils.Database, at: float, settings: Settings, first_day: date) -> tuple[list, list]:
    """The FBA returns Amazon may owe a reimbursement for and the refunded FBM returns: from the window's
    first day, and back as far as a claim window can still be open (those are listed whatever their age
    while their clock runs: nothing is lost), with every SAFE-T claim Amazon is still deciding."""
    zone = settings.zone
    fba_from = min(day_start(first_day, zone), int(at - (settings.fba_reimbursement_days + 1) * DAY_S))
    fba_claims, _ = money.fba_returns(db, fba_from, int(at) + 1)
    reach = timedelta(days=int(settings.safet_claim_days) + money.SAFET_DELIVERY_REACH_DAYS)
    safet_from = min(first_day, local_day(at, zone) - reach)
    return fba_claims, money.safet_returns(db, safet_from)


def load_matrix(db: sqlite_utils.Database) -> dict[tuple[str, str], MatrixEntry]:
    """The escalation matrix: the defaults with the seller's stored edits over them."""
    matrix = default_matrix()
    for row in store.matrix_rows(db):
        key = (row["category"], row["case"])
        if key in matrix:  # an edit of a category a later version dropped is ignored, not fatal
            # A NULL template is the shipped one, so a better default still reaches a row edited otherwise.
            template = row.get("template") or matrix[key].template
            matrix[key] = MatrixEntry(
                row["category"],
                row["case"],
                row["action"],
                row["who"],
                row["response_hours"],
                row["amount"],
                customised=True,
                template=template,
            )
    return matrix


def load_resolutions(db: sqlite_utils.Database) -> dict[str, Resolution]:
    return {row["item_key"]: resolution_from_row(row) for row in store.active_resolutions(db)}


def resolution_from_row(row: dict) -> Resolution:
    return Resolution(
        key=row["item_key"],
        action=row["action"],
        note=row["note"] or "",
        resolved_at=row["resolved_at"],
        order_id=row["order_id"],
        kind=row["item_kind"],
        ended_at=row["ended_at"],
        ended_by=row["ended_by"],
    )


def _flagged_replies(
    db: sqlite_utils.Database, start: int, end: int, threads: set[str] | None = None
) -> tuple[list[FlaggedReply], list[str]]:
    """The seller's replies sent in [start, end) that broke a guideline, each with its order: the reply's own
    subject names it, or else the latest buyer message of its thread before it does; and the thread of each.
    `threads`: only those threads' replies."""
    keys = sorted(threads) if threads is not None else []
    only = f" AND r.thread_key IN ({', '.join('?' * len(keys))})" if threads is not None else ""
    rows = db.query(
        "SELECT r.message_id, r.thread_key, r.sent_at, r.breaches, COALESCE(r.order_id, ("
        "  SELECT m.order_id FROM messages m WHERE m.thread_key = r.thread_key AND m.order_id IS NOT NULL"
        "  AND m.received_at <= r.sent_at ORDER BY m.received_at DESC LIMIT 1)) AS order_id "
        "FROM replies r WHERE r.sent_at >= ? AND r.sent_at < ? AND r.breaches IS NOT NULL "
        f"AND r.breaches != '[]'{only} "
        "ORDER BY r.sent_at",
        [start, end, *keys],
    )
    replies, reply_threads = [], []
    for row in rows:
        reply = FlaggedReply(row["message_id"], row["order_id"], row["sent_at"], tuple(reply_breaches(row["breaches"])))
        if reply.breaches:
            replies.append(reply)
            reply_threads.append(row["thread_key"])
    return replies, reply_threads


def _fba_return(row: dict) -> FbaReturn:
    return FbaReturn(
        return_key=row["return_key"],
        order_id=row["order_id"],
        returned_at=row["returned_at"],
        sku=row["sku"],
        product_name=row["product_name"],
        reason=row["reason"],
        disposition=row["disposition"],
        customer_comments=row["customer_comments"],
    )


def _order_items(db: sqlite_utils.Database, order_ids: list) -> tuple[dict, dict]:
    """Per order: (sum of item prices, currency) and its product names."""
    totals: dict[str, float] = defaultdict(float)
    priced: set[str] = set()
    currencies: dict[str, str | None] = {}
    names: dict[str, list[str]] = defaultdict(list)
    for order_id, product_name, _, item_price, _, currency in store.order_item_rows(db, order_ids):
        if item_price is not None:
            totals[order_id] += item_price
            priced.add(order_id)
        if currency:
            currencies.setdefault(order_id, currency)
        if product_name:
            names[order_id].append(product_name)
    values = {order_id: (totals[order_id], currencies.get(order_id)) for order_id in priced}
    return values, dict(names)
