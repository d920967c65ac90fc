"""Reading what the triage list needs out of the database, for one window of days, once.

Records are read by their own date (feedback, claims and return requests by day; messages, FBA returns
and status changes by instant) over the window in the marketplace time zone; the orders they name are
read for their channel, item value and product names; the open clocks come from `app.clocks`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import sqlite_utils

from app import money
from app.alerts import status_history
from app.clocks import Clock, clocks_at
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
    MatrixEntry,
    Resolution,
    StatusChange,
    TriageInputs,
    default_matrix,
)
from storage import queries
from storage import triage as store


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
    zone = settings.zone
    start, end = day_start(first_day, zone), min(end_of_day(last_day, zone), int(at) + 1)
    first, last = first_day.isoformat(), last_day.isoformat()
    feedback = [feedback_from_row(row) for row in store.unfavourable_feedback_between(db, first, last)]
    claims = [claim_from_row(row) for row in store.claims_filed_between(db, first, last)]
    returns = [return_from_row(row) for row in queries.returns_between(db, first, last)]
    messages = [message_from_values(row) for row in queries.message_rows_between(db, start, end, with_order=False)]
    fba_returns = [_fba_return(row) for row in store.fba_returns_between(db, start, end)]
    flagged_replies = _flagged_replies(db, start, end)
    changes = [
        StatusChange(row["at"], row["metric"], row["old_status"], row["new_status"], row["rate"])
        for row in status_history(db)
        if start <= row["at"] < end
    ]
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
    return TriageInputs(
        fba_claims=fba_claims,
        safet_returns=safet_returns,
        order_claims=order_claims,
        feedback=feedback,
        claims=claims,
        returns=returns,
        contacts=contacts_of(db, messages, orders, settings),
        fba_returns=fba_returns,
        status_changes=changes,
        orders=orders,
        item_values=values,
        product_names=names,
        clocks=clocks if clocks is not None else clocks_at(db, at, settings),
        resolutions=load_resolutions(db),
        overrides={k: v for k, v in store.category_overrides(db).items() if v in CATEGORIES},
        matrix=load_matrix(db),
        flagged_replies=flagged_replies,
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


def _flagged_replies(db: sqlite_utils.Database, start: int, end: int) -> list[FlaggedReply]:
    """The seller's replies sent in [start, end) that broke a guideline, each with its order: the reply's own
    subject names it, or else the latest buyer message of its thread before it does."""
    rows = db.query(
        "SELECT r.message_id, r.sent_at, r.breaches, COALESCE(r.order_id, ("
        "  SELECT m.order_id FROM messages m WHERE m.thread_key = r.thread_key AND m.order_id IS NOT NULL"
        "  AND m.received_at <= r.sent_at ORDER BY m.received_at DESC LIMIT 1)) AS order_id "
        "FROM replies r WHERE r.sent_at >= ? AND r.sent_at < ? AND r.breaches IS NOT NULL AND r.breaches != '[]' "
        "ORDER BY r.sent_at",
        [start, end],
    )
    flagged = (
        FlaggedReply(row["message_id"], row["order_id"], row["sent_at"], tuple(reply_breaches(row["breaches"])))
        for row in rows
    )
    return [reply for reply in flagged if reply.breaches]


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
