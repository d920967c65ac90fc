"""A realistic demo seller, dated relative to now, for a first look at the app before any import.

About 120 days of FBA and FBM orders (five to six a day), ordinary feedback, returns and answered buyer
messages drawn from a seeded random generator, plus a scripted handful of the events a seller must act
on: negative feedback of each removal kind, an A-to-z claim and a chargeback still open, a granted claim
that can be appealed, a return request waiting for an answer and buyer messages whose 24-hour clocks
run out within the next hours. The scripted defects put the lagging ODR just under the 1 % line and the
live ODR over it, so every part of the window has something to show.

Demo data only ever goes into an empty database and is flagged (`app.demo_state`): the window labels
it and the first import of the seller's own reports clears it.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlite_utils

from app import demo_state, money, records
from app.importers import mail
from app.settings import load_settings
from app.timeutil import DAY_S, HOUR_S, day_start, local_day, to_iso
from storage import order_counts
from storage.transaction import write_transaction
from storage.writer import TableWriter

DEMO_DAYS = 120
SEED = 20261108
PRODUCTS = (
    ("MUG-11OZ", "B07K1FNN7M", "Café Mug 11oz – Stoneware", 14.99),
    ("CASE-PH12", "B0C1PHONE1", 'Phone Case "Slim" for 12', 9.99),
    ("MAT-YOGA", "B09ABC7777", "Yoga Mat 6mm (Grün)", 24.00),
    ("LAMP-DESK", "B08XYZ1234", "Desk Lamp™ LED, dimmable", 29.50),
    ("BOTTLE-1L", "B0BOTTLE01", "Water Bottle 1L, stainless", 19.95),
)
STATES = ("TX", "MA", "WA", "CO", "TN", "CA", "NY", "FL")
GOOD_COMMENTS = {
    5: ("Fast shipping, great seller!", "Perfect, would buy again", "Exactly as described. Thank you"),
    4: ("Good product, shipping a bit slow.", "Nice mug, well packed."),
    3: ("Ok item, delivery took a while.", "Average experience."),
}
TOPICS = ("Order delivery", "Product details", "Return policy", "Ship faster")
BUYER_NAMES = ("Alisa", "Ben", "Carla", "Dev", "Emma", "Farid", "Grace", "Hiro")
FBA_RETURN_REASONS = (
    ("DEFECTIVE", "Stopped working after 2 days"),
    ("NOT_AS_DESCRIBED", "Colour differs from the photos"),
    ("UNWANTED_ITEM", ""),
    ("DAMAGED_BY_FC", "Box was dented"),
)


@dataclass(frozen=True)
class ScriptedFeedback:
    """A negative feedback placed on purpose (days are counted back from today)."""

    purchased_days_ago: int
    channel: str
    rating: int
    comment: str
    days_after_purchase: int


# One of each removal question a seller meets, and one ordinary complaint that is not removable.
NEGATIVE_FEEDBACK = (
    ScriptedFeedback(70, "FBM", 1, "Seller never answered my messages and the package was late.", 9),
    ScriptedFeedback(40, "FBA", 2, "Package arrived late and the box was crushed by the courier.", 6),
    ScriptedFeedback(13, "FBM", 1, "Still waiting for a refund, call me on 415-555-0199 or jo.b@example.com", 8),
    ScriptedFeedback(10, "FBM", 1, "The lamp flickers and the switch feels cheap.", 7),
    ScriptedFeedback(6, "FBA", 2, "What a sh!tty seller, never again", 4),
)


@dataclass
class DemoSeller:
    """The records being built, one list per record spec, in the specs' column order."""

    rng: random.Random
    zone: ZoneInfo
    now: int
    today: date
    rows: dict[records.RecordSpec, list[tuple]] = field(default_factory=dict)
    orders: list[tuple[str, int, str]] = field(default_factory=list)  # (order id, purchased at, channel)
    responses: dict[str, int] = field(default_factory=dict)  # return id -> when the seller answered

    def add(self, spec: records.RecordSpec, row: tuple) -> None:
        self.rows.setdefault(spec, []).append(row)

    @staticmethod
    def order_id(rng: random.Random) -> str:
        prefix = rng.choice(("111", "112", "113", "114"))
        return f"{prefix}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"

    def instant(self, days_ago: int, hour: float) -> int:
        """An instant on the local day `days_ago` days before today, at `hour` o'clock."""
        return day_start(self.today - timedelta(days=days_ago), self.zone) + int(hour * HOUR_S)

    def pick_order(self, days_ago: int, channel: str) -> tuple[str, int, str]:
        """A shipped order of the channel purchased on that day (the generator makes several a day)."""
        day = self.today - timedelta(days=days_ago)
        for order in self.orders:
            if order[2] == channel and local_day(order[1], self.zone) == day:
                return order
        raise LookupError(f"no {channel} order {days_ago} days ago")


def load_demo(db: sqlite_utils.Database, now: Callable[[], float] = time.time) -> str:
    """Fill `db` with the demo seller (replacing earlier demo data); returns a one-line summary.

    Raises:
        ValueError: the database holds the seller's own records (demo data never mixes with them).
    """
    if demo_state.has_data(db) and not demo_state.is_active(db):
        raise ValueError("this database holds your own reports; demo data goes only into an empty database")
    settings = load_settings(db)
    instant = int(now())
    seller = DemoSeller(random.Random(SEED), settings.zone, instant, local_day(instant, settings.zone))
    _orders(seller)
    _feedback(seller)
    _claims(seller)
    _returns(seller)
    _messages(seller)
    _money_owed(seller)
    with write_transaction(db):
        demo_state.clear(db)
        for spec, rows in seller.rows.items():
            TableWriter(db, spec).write(rows)
        for return_id, responded_at in seller.responses.items():
            db.execute("UPDATE fbm_returns SET responded_at = ? WHERE return_id = ?", [responded_at, return_id])
        _account_health_report(db, seller)
        order_counts.catch_up(db)
        demo_state.mark_active(db)
    counts = {table: db[table].count for table in ("orders", "feedback", "claims", "messages", "fbm_returns")}
    return ", ".join(f"{count} {table.replace('_', ' ')}" for table, count in counts.items())


def _orders(seller: DemoSeller) -> None:
    for days_ago in range(DEMO_DAYS, -1, -1):
        # Today's orders depend on the hour (none after now): they draw from a generator of their own, so
        # the history, and every scripted event placed in it, is the same at any time of day.
        rng = seller.rng if days_ago else random.Random(SEED + seller.today.toordinal())
        for _ in range(rng.choice((5, 5, 6, 6, 6))):
            purchased = seller.instant(days_ago, rng.uniform(7, 23))
            channel = "FBA" if rng.random() < 0.55 else "FBM"
            status = "Cancelled" if rng.random() < 0.02 else "Pending" if days_ago < 2 else "Shipped"
            if purchased <= seller.now:
                _order(seller, seller.order_id(rng), purchased, channel, status, rng)


def _order(seller: DemoSeller, order_id: str, purchased: int, channel: str, status: str, rng: random.Random) -> None:
    updated = min(purchased + 9 * HOUR_S, seller.now)
    seller.add(
        records.ORDER,
        (
            order_id,
            None,
            purchased,
            updated,
            status,
            channel,
            "Amazon.com",
            "Standard",
            rng.choice(STATES),
            "US",
            0,
            "US",
        ),
    )
    for sku, asin, name, price in rng.sample(PRODUCTS, 1 if rng.random() < 0.85 else 2):
        quantity = 1 if rng.random() < 0.9 else 2
        item_status = "Cancelled" if status == "Cancelled" else status
        row = (order_id, sku, updated, asin, name, item_status, quantity, "USD", price * quantity, None, None, None)
        seller.add(records.ORDER_ITEM, row)
    if status != "Cancelled":
        seller.orders.append((order_id, purchased, channel))


def _feedback(seller: DemoSeller) -> None:
    rng = seller.rng
    for order_id, purchased, _channel in seller.orders:
        if rng.random() > 0.16:
            continue
        day = local_day(purchased, seller.zone) + timedelta(days=rng.randint(3, 20))
        if day > seller.today:
            continue
        rating = rng.choices((5, 4, 3), weights=(76, 18, 6))[0]
        seller.add(records.FEEDBACK, (order_id, day.isoformat(), rating, rng.choice(GOOD_COMMENTS[rating]), None, 0))
    given = {row[0] for row in seller.rows.get(records.FEEDBACK, [])}
    for scripted in NEGATIVE_FEEDBACK:
        order_id, purchased, _ = _fresh_order(seller, scripted.purchased_days_ago, scripted.channel, given)
        day = local_day(purchased, seller.zone) + timedelta(days=scripted.days_after_purchase)
        seller.add(records.FEEDBACK, (order_id, day.isoformat(), scripted.rating, scripted.comment, None, 0))
        given.add(order_id)


def _fresh_order(seller: DemoSeller, days_ago: int, channel: str, taken: set[str]) -> tuple[str, int, str]:
    """An order of that day and channel that no scripted event uses yet (or of the nearest day that has one)."""
    for shift in (0, 1, -1, 2, -2, 3, -3):
        day = seller.today - timedelta(days=days_ago + shift)
        for order in seller.orders:
            if order[2] == channel and order[0] not in taken and local_day(order[1], seller.zone) == day:
                taken.add(order[0])
                return order
    raise LookupError(f"no free {channel} order around {days_ago} days ago")


def _claims(seller: DemoSeller) -> None:
    taken = {row[0] for row in seller.rows.get(records.FEEDBACK, [])}
    today = seller.today

    def claim(days_ago, channel, kind, filed_ago, status, reason, decided_ago=None, amount=29.50) -> str:
        order_id = _fresh_order(seller, days_ago, channel, taken)[0]
        decided = (today - timedelta(days=decided_ago)).isoformat() if decided_ago is not None else None
        filed = (today - timedelta(days=filed_ago)).isoformat()
        seller.add(records.CLAIM, (order_id, kind, filed, status, reason, amount, "USD", decided, 0))
        return order_id

    # Counts, and Amazon granted it: the seller can still appeal for a few more days.
    claim(50, "FBM", "a-to-z", 44, "granted", "not-as-described", decided_ago=24)
    # Amazon's fault: an FBA order that never arrived is excluded from ODR.
    claim(30, "FBA", "a-to-z", 18, "granted", "not-received", decided_ago=9)
    # Open, filed yesterday: the response clock is running.
    claim(12, "FBM", "a-to-z", 1, "open", "not-received", amount=19.95)
    # A service chargeback, still open (seven days to answer with tracking), on an order that also got
    # negative feedback: the order counts once.
    lamp_order = next(row[0] for row in seller.rows[records.FEEDBACK] if row[3] == NEGATIVE_FEEDBACK[3].comment)
    filed = (today - timedelta(days=3)).isoformat()
    seller.add(records.CLAIM, (lamp_order, "chargeback", filed, "open", "service", 29.50, "USD", None, 0))
    # A fraud chargeback the bank decided: never a defect.
    claim(65, "FBA", "chargeback", 50, "denied", "fraud", decided_ago=40, amount=14.99)


def _returns(seller: DemoSeller) -> None:
    rng = seller.rng
    today = seller.today
    for order_id, purchased, channel in seller.orders:
        if rng.random() > (0.03 if channel == "FBA" else 0.12):
            continue
        purchase_day = local_day(purchased, seller.zone)
        requested = purchase_day + timedelta(days=rng.randint(4, 20))
        if requested >= today - timedelta(days=2):
            continue
        rng.choice(PRODUCTS)  # kept so the rest of the demo stays the same seller
        sku, asin, name, price = _first_item(seller, order_id)  # what comes back is what the order held
        if channel == "FBA":
            reason, comment = rng.choice(FBA_RETURN_REASONS)
            returned = day_start(requested, seller.zone) + int(rng.uniform(9, 18) * HOUR_S)
            key = f"{order_id}|{sku}|{returned}|LPN{rng.randrange(10**8):08d}"
            row = (
                key,
                order_id,
                returned,
                sku,
                asin,
                name,
                1,
                "CUSTOMER_DAMAGED",
                reason,
                "Unit returned to inventory",
            )
            seller.add(records.FBA_RETURN, (*row, comment or None))
            continue
        status = rng.choice(("Approved", "Approved", "Closed"))
        _fbm_return(seller, order_id, purchase_day, requested, status, (sku, asin, name, price))
    # One request answered too late (the seller recorded when), and one that arrived yesterday and still
    # waits for an answer.
    late = _fresh_order(seller, 30, "FBM", set())
    requested = today - timedelta(days=21)
    rma = _fbm_return(seller, late[0], local_day(late[1], seller.zone), requested, "Approved", PRODUCTS[3])
    seller.responses[rma] = day_start(requested, seller.zone) + 70 * HOUR_S
    waiting = _fresh_order(seller, 9, "FBM", {late[0]})
    _fbm_return(
        seller, waiting[0], local_day(waiting[1], seller.zone), today - timedelta(days=1), "Pending", PRODUCTS[0]
    )


def _fbm_return(seller: DemoSeller, order_id: str, ordered: date, requested: date, status: str, product) -> str:
    sku, asin, name, price = product
    rma = f"D{seller.rng.randrange(10**9):09d}RMA"
    reason = seller.rng.choice(("CR-DEFECTIVE", "AMZ-PG-APP-TOO-SMALL", "CR-UNWANTED_ITEM"))
    row = (rma, order_id, ordered.isoformat(), requested.isoformat(), status, reason, "Y", "C-Returns")
    refund = price if status != "Pending" else None
    # Back with the seller 6 days after the request (by today), and no SAFE-T claim.
    back = requested + timedelta(days=6)
    delivered = back.isoformat() if status != "Pending" and back <= seller.today else money.NOT_DELIVERED
    no_safet = (delivered, None, None, None, None, None)
    seller.add(records.FBM_RETURN, (*row, "StandardRefund", "N", asin, sku, name, 1, price, refund, "USD", *no_safet))
    return rma


def _money_owed(seller: DemoSeller) -> None:
    """Money Amazon may owe back: FBA units Amazon or its carrier damaged, one it reimbursed, and refunded
    FBM returns: one that never came back, one SAFE-T claim under investigation, one granted."""
    taken = {row[1] for spec in (records.FBA_RETURN, records.FBM_RETURN) for row in seller.rows.get(spec, [])}
    for days_ago, disposition, status in (
        (12, "WAREHOUSE_DAMAGED", "Unit returned to inventory"),
        (5, "CARRIER_DAMAGED", "Unit returned to inventory"),
        (9, "SELLABLE", "Reimbursed"),
    ):
        order_id, purchased, _ = _fresh_order(seller, days_ago + 6, "FBA", taken)
        sku, asin, name, _price = _first_item(seller, order_id)
        returned = seller.instant(days_ago, 11)
        key = f"{order_id}|{sku}|{returned}|LPN{seller.rng.randrange(10**8):08d}"
        row = (key, order_id, returned, sku, asin, name, 1, disposition, "CR-UNWANTED_ITEM", status, None)
        seller.add(records.FBA_RETURN, row)
    # (days since the request, delivered back that many days after it, SAFE-T claim id, state, reimbursed)
    for days_ago, delivered_after, claim_id, state, reimbursed in (
        (20, None, None, None, None),
        (16, 5, "SAFET-7731940", "Under investigation", None),
        (11, 4, "SAFET-7729118", "Granted", 19.95),
    ):
        order_id, purchased, _ = _fresh_order(seller, days_ago + 8, "FBM", taken)
        sku, asin, name, price = _first_item(seller, order_id)
        requested = seller.today - timedelta(days=days_ago)
        back = requested + timedelta(days=delivered_after) if delivered_after else None
        delivered = back.isoformat() if back else money.NOT_DELIVERED  # the report's empty cell: not back
        created = (requested + timedelta(days=delivered_after + 1)).isoformat() if claim_id else None
        rma = f"D{seller.rng.randrange(10**9):09d}RMA"
        ordered = local_day(purchased, seller.zone).isoformat()
        row = (rma, order_id, ordered, requested.isoformat(), "Closed", "CR-DEFECTIVE", "Y", "C-Returns")
        safet = (delivered, "Item returned damaged" if claim_id else None, claim_id, state, created, reimbursed)
        seller.add(records.FBM_RETURN, (*row, "StandardRefund", "N", asin, sku, name, 1, price, price, "USD", *safet))


def _first_item(seller: DemoSeller, order_id: str) -> tuple:
    """(SKU, ASIN, product name, item price) of the order's first line."""
    row = next(row for row in seller.rows[records.ORDER_ITEM] if row[0] == order_id)
    return row[1], row[3], row[4], row[8]


def _messages(seller: DemoSeller) -> None:
    """Answered conversations over the last two months, and the ones waiting for a reply right now."""
    rng = seller.rng
    recent = [order for order in seller.orders if seller.now - order[1] < 60 * DAY_S]
    for number, (order_id, purchased, _channel) in enumerate(rng.sample(recent, 26)):
        received = purchased + int(rng.uniform(1, 8) * DAY_S)
        if received > seller.now - 30 * HOUR_S:
            continue
        delay = rng.choice((0.5, 1, 2, 3, 5, 8, 12, 20)) * HOUR_S if number != 9 else 31 * HOUR_S
        _message(seller, order_id, received, rng.choice(TOPICS), reply_after=delay)
    waiting = (
        (22.5, "Order delivery", "FBM", "My parcel was due yesterday, where is it?"),
        (19.0, "Product details", None, "Does the desk lamp work with a 220 V plug?"),
        (6.0, "Return policy", "FBA", "The mug arrived chipped, how do I return it?"),
    )
    for hours_ago, topic, channel, text in waiting:
        order_id = seller.pick_order(3, channel)[0] if channel else None
        _message(seller, order_id, seller.now - int(hours_ago * HOUR_S), topic, body=text, auto_ack=hours_ago > 20)
    _replies_breaking_guidelines(seller)


# Replies a seller sends without knowing they break Amazon's Communication Guidelines, newest first: an
# auto-responder's acknowledgement (a common way in) and a hand-written answer.
BREAKING_REPLIES = (
    "Thank you for your message! We answer within 24 hours. Until then, setup tips and care videos are at "
    "https://mystore.com/help",
    "Hi, sorry the mug arrived chipped! A new one ships today. As a thank-you, use code THANKS20 for 20% off "
    "your next order in our web shop, and if you are happy with the replacement, please leave us a 5-star review.",
)


def _replies_breaking_guidelines(seller: DemoSeller) -> None:
    """The latest replies carry text that breaks a guideline, checked as an imported reply is."""
    replies = seller.rows.get(records.REPLY, [])
    latest = sorted(replies, key=lambda row: row[3], reverse=True)
    for row, text in zip(latest, BREAKING_REPLIES, strict=False):
        replies[replies.index(row)] = (*row[:5], mail.breaches_json(text))


def _message(
    seller: DemoSeller,
    order_id: str | None,
    received: int,
    topic: str,
    reply_after: float | None = None,
    body: str = "Hello, could you help me with my order?",
    auto_ack: bool = False,
) -> None:
    rng = seller.rng
    name = rng.choice(BUYER_NAMES)
    alias = hashlib.sha1(f"{order_id}{received}".encode()).hexdigest()[:16]
    about = f" (Order: {order_id})" if order_id else ""
    subject = f"{topic} inquiry from Amazon customer {name}{about}"
    message_id = f"demo-{alias}@marketplace.amazon.com"
    seller.add(records.MESSAGE, (message_id, alias, order_id, received, "buyer", topic, subject, body))
    if auto_ack:
        seller.add(records.REPLY, (f"demo-ack-{alias}@seller", alias, order_id, received + 60, 1, "[]"))
    if reply_after is not None and received + reply_after <= seller.now:
        seller.add(records.REPLY, (f"demo-re-{alias}@seller", alias, order_id, received + int(reply_after), 0, "[]"))


def _account_health_report(db: sqlite_utils.Database, seller: DemoSeller) -> None:
    """Amazon's snapshot as of yesterday, agreeing with the monitor except for one feedback Amazon struck
    through (the FBA delivery complaint), so the reconciliation has a difference to explain."""
    from app.metrics import odr_for_window
    from app.snapshot import LAGGING_DAYS, WINDOW_DAYS, load_snapshot

    report_day = seller.today - timedelta(days=1)
    end = report_day - timedelta(days=LAGGING_DAYS)
    start = end - timedelta(days=WINDOW_DAYS - 1)
    figure = odr_for_window(load_snapshot(db, report_day, report_day), report_day, start, end)
    struck = {d["order_id"] for d in figure["defects"] if d["channel"] == "FBA" and d["kind"] == "negative_feedback"}
    blocks = {}
    for key, channel in (("afn", "FBA"), ("mfn", "FBM")):
        mine = figure["by_channel"][channel]
        defects = [d for d in figure["defects"] if d["channel"] == channel and d["order_id"] not in struck]
        defective = len({d["order_id"] for d in defects})
        blocks[key] = {
            "reportingDateRange": {"reportingDateFrom": f"{start}T00:00:00Z", "reportingDateTo": f"{end}T23:59:59Z"},
            "orderCount": mine["orders"],
            "orderWithDefects": {"count": defective},
            "claims": {"count": sum(d["kind"] == "a_to_z_claim" for d in defects)},
            "chargebacks": {"count": sum(d["kind"] == "chargeback" for d in defects)},
            "negativeFeedback": {"count": sum(d["kind"] == "negative_feedback" for d in defects)},
            "rate": defective / mine["orders"] if mine["orders"] else 0,
            "targetValue": 0.01,
            "status": "GOOD" if not mine["orders"] or defective / mine["orders"] < 0.01 else "BAD",
        }
    report = {
        "accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
        "performanceMetrics": [
            {
                "marketplaceId": "ATVPDKIKX0DER",
                "orderDefectRate": blocks,
                "accountHealthRating": {"ahrStatus": "GOOD"},
                "reportGeneratedAt": to_iso(day_start(seller.today, seller.zone)),
            }
        ],
    }
    text = json.dumps(report, indent=1)
    digest = hashlib.sha256(text.encode()).hexdigest()
    db.execute(
        "INSERT INTO account_health_snapshots (sha256, imported_at, report_json) VALUES (?, ?, ?)",
        [digest, seller.now, text],
    )
