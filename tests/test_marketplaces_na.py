"""A North-American seller who also sells in the UK: one All Orders report mixing Amazon.com, Amazon.ca and
Amazon.co.uk, with feedback, claims, returns and buyer messages on orders of each. Amazon judges each
marketplace on its own figures, counted in that marketplace's days; the figures over all three add up their
counts, and their status is the worst marketplace's.

Every expected number comes from how the seller below is built, never from the monitor: each order and each
message is placed at a wall-clock time in its marketplace's zone, so its day there is known beforehand, and
the windows are metrics.md's, worked out by hand for 30 Sep 2026.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.report_files import ALL_ORDERS_HEADER, Flat

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 9, 30)
FIRST_DAY = date(2026, 6, 1)  # the first day of orders: well before the first window starts
# metrics.md's windows as of 30 Sep 2026, the same days in every marketplace (each in its own zone):
ODR_WINDOW = (date(2026, 7, 19), date(2026, 9, 16))  # 60 days ending 14 days before as_of
LIVE_WINDOW = (date(2026, 8, 2), AS_OF)  # the 60 days ending on as_of
LRR_WINDOW = (date(2026, 9, 1), AS_OF)  # 30 days ending on as_of
NFR_WINDOW = (date(2026, 7, 3), AS_OF)  # 90 days
RDR_WINDOW = (date(2026, 8, 2), AS_OF)  # 60 days
REPLY_HOURS = 24
STATUS_RANK = ["insufficient_data", "good", "at_risk", "breach"]
FIGURES = (
    "order_defect_rate",
    "live_order_defect_rate",
    "late_response_rate",
    "negative_feedback_rate",
    "return_dissatisfaction_rate",
)


@dataclass(frozen=True)
class Marketplace:
    code: str
    sales_channel: str
    zone: str  # the zone its days are counted in (the US is home: the seller sets `timezone` to it)
    currency: str
    id_prefix: int
    orders_per_day: int
    day_first: bool  # how its feedback report writes dates: D/M/YY, else M/D/YY
    mail_domain: str
    ship_country: str


US = Marketplace("US", "Amazon.com", "America/Los_Angeles", "USD", 111, 20, False, "marketplace.amazon.com", "US")
CA = Marketplace("CA", "Amazon.ca", "America/Toronto", "CAD", 701, 3, True, "marketplace.amazon.ca", "CA")
UK = Marketplace("UK", "Amazon.co.uk", "Europe/London", "GBP", 202, 12, True, "marketplace.amazon.co.uk", "GB")
MARKETPLACES = {market.code: market for market in (US, CA, UK)}
HOME_ZONES = {code: market.zone for code, market in MARKETPLACES.items()}

# A minute either side of local midnight at each window's edge. The instants in UTC are worked out by hand
# (summer time everywhere: PDT is UTC-7, EDT UTC-4, BST UTC+1): each pair falls on ONE UTC day, so counting
# in UTC days would put both orders of a pair in or both out; only the marketplace's own days split them.
ORDER_EDGES = {  # name: the local wall time, then that instant in UTC in the US, CA and UK (all in 2026)
    "odr_start_out": ("07-18 23:59", "07-19 06:59", "07-19 03:59", "07-18 22:59"),
    "odr_start_in": ("07-19 00:01", "07-19 07:01", "07-19 04:01", "07-18 23:01"),
    "odr_end_in": ("09-16 23:59", "09-17 06:59", "09-17 03:59", "09-16 22:59"),
    "odr_end_out": ("09-17 00:01", "09-17 07:01", "09-17 04:01", "09-16 23:01"),
    "live_end_in": ("09-30 23:59", "10-01 06:59", "10-01 03:59", "09-30 22:59"),
    "live_end_out": ("10-01 00:01", "10-01 07:01", "10-01 04:01", "09-30 23:01"),
}
MESSAGE_EDGES = {
    "lrr_start_out": ("08-31 23:59", "09-01 06:59", "09-01 03:59", "08-31 22:59"),
    "lrr_start_in": ("09-01 00:01", "09-01 07:01", "09-01 04:01", "08-31 23:01"),
    "lrr_end_in": ("09-30 23:59", "10-01 06:59", "10-01 03:59", "09-30 22:59"),
    "lrr_end_out": ("10-01 00:01", "10-01 07:01", "10-01 04:01", "09-30 23:01"),
}
# Each edge order's channel, so no marketplace but CA crosses 1 % in a channel (CA's two defects are both FBM).
EDGE_CHANNELS = {
    "US": ("FBA", "FBA", "FBM", "FBM", "FBA", "FBM"),
    "CA": ("FBM", "FBM", "FBM", "FBM", "FBM", "FBM"),
    "UK": ("FBM", "FBM", "FBA", "FBA", "FBM", "FBA"),
}
DEFECTIVE_EDGES = ("odr_start_out", "odr_start_in", "odr_end_in", "odr_end_out")  # 1-star feedback on 20 Sep
ANSWERED_EDGES = {"lrr_start_out": timedelta(hours=2), "lrr_start_in": timedelta(hours=2)}  # the others: no reply


def local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def edge_wall(times: tuple[str, ...]) -> str:
    return f"2026-{times[0]}"


def edge_utc(times: tuple[str, ...], code: str) -> datetime:
    return datetime.fromisoformat(f"2026-{times[1 + list(MARKETPLACES).index(code)]}").replace(tzinfo=UTC)


# --- The seller, built -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    order_id: str
    market: Marketplace
    placed: datetime
    channel: str  # FBA | FBM
    cancelled: bool = False
    items: int = 1
    sales_channel: str | None = None  # None: its marketplace's

    def day(self, zone: str) -> date:
        return self.placed.astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class Rating:
    order: Order
    day: date
    stars: int
    comment: str
    struck_through: bool = False  # Amazon's FBA statement replaces the comment: off the record


@dataclass(frozen=True)
class Claim:
    order: Order
    type: str
    filed: date
    status: str
    reason: str
    decided: date | None
    counts: bool  # a defect as of 30 Sep by metrics.md (denied, withdrawn, fraud, FBA fulfilment: no)
    protected: bool = False


@dataclass(frozen=True)
class Message:
    order: Order
    received: datetime
    reply_after: timedelta | None
    automatic_reply: bool = False  # an acknowledgement, which does not stop the clock


@dataclass(frozen=True)
class ReturnRequest:
    order: Order
    requested: date
    status: str
    dissatisfied: bool  # by 30 Sep by metrics.md: still pending 48 h after the request


@dataclass
class Seller:
    """The North-American and UK seller: ~4,300 orders from June to September 2026 in three marketplaces."""

    orders: list[Order] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    returns: list[ReturnRequest] = field(default_factory=list)
    edges: dict[tuple[str, str], Order] = field(default_factory=dict)
    _taken: set[str] = field(default_factory=set)

    @classmethod
    def build(cls) -> Seller:
        seller = cls()
        for market in MARKETPLACES.values():
            seller.orders += list(_daily_orders(market))
            seller._edge_orders(market)
        seller._us_records()
        seller._ca_records()
        seller._uk_records()
        for market in MARKETPLACES.values():
            seller._edge_messages(market)
        seller._happy_ratings()
        # Multi-channel fulfilment through FBA: in the report, in no marketplace's figures.
        seller.orders.append(
            Order("114-9990001-0000001", US, local("2026-09-10 12:00", US.zone), "FBA", sales_channel="Non-Amazon")
        )
        return seller

    def pick(self, market: Marketplace, day: str, channel: str | None = None) -> Order:
        """The first order not used yet of that local day (and channel), to hang a record on."""
        wanted = date.fromisoformat(day)
        for order in self.orders:
            if (
                order.market is market
                and order.sales_channel is None
                and not order.cancelled
                and order.order_id not in self._taken
                and order.day(market.zone) == wanted
                and (channel is None or order.channel == channel)
            ):
                self._taken.add(order.order_id)
                return order
        raise LookupError(f"no free {market.code} {channel} order on {day}")

    def _edge_orders(self, market: Marketplace) -> None:
        for number, (name, times) in enumerate(ORDER_EDGES.items()):
            order_id = f"{market.id_prefix + 2:03d}-{9000000 + number:07d}-{4200000 + number:07d}"
            order = Order(order_id, market, local(edge_wall(times), market.zone), EDGE_CHANNELS[market.code][number])
            self.orders.append(order)
            self.edges[(market.code, name)] = order
            self._taken.add(order_id)  # records of their own only
            if name in DEFECTIVE_EDGES:
                self.ratings.append(Rating(order, date(2026, 9, 20), 1, "Arrived broken"))

    def _edge_messages(self, market: Marketplace) -> None:
        for name, times in MESSAGE_EDGES.items():
            received = local(edge_wall(times), market.zone)
            order = self.pick(market, (received.date() - timedelta(days=4)).isoformat())
            self.messages.append(Message(order, received, ANSWERED_EDGES.get(name)))

    def _message(self, market: Marketplace, day: str, reply_after: timedelta | None, automatic: bool = False):
        received = local(f"{day} 10:00", market.zone)
        order = self.pick(market, (received.date() - timedelta(days=3)).isoformat())
        self.messages.append(Message(order, received, reply_after, automatic))

    def _us_records(self) -> None:
        claim = self._claim
        claim(US, "08-20 FBM", "a-to-z", "09-02", "granted", "defective", "09-10", counts=True)
        claim(US, "08-05 FBA", "chargeback", "09-05", "open", "service", None, counts=True)
        claim(US, "08-12 FBM", "a-to-z", "08-25", "denied", "not-as-described", "09-03", counts=False)
        claim(US, "08-14 FBA", "a-to-z", "08-30", "granted", "not-received", "09-08", counts=False)  # Amazon's
        claim(US, "08-16 FBM", "chargeback", "09-01", "open", "fraud", None, counts=False)
        self.ratings.append(Rating(self.pick(US, "2026-08-18", "FBM"), date(2026, 8, 24), 3, "OK but slow"))
        # 28 messages in the window, two of them late (one answered after 30 h, one only acknowledged).
        for offset in range(28):
            day = (date(2026, 9, 2) + timedelta(days=offset)).isoformat()
            if offset == 5:
                self._message(US, day, timedelta(hours=30))
            elif offset == 17:
                self._message(US, day, timedelta(minutes=5), automatic=True)
            else:
                self._message(US, day, timedelta(hours=3))
        for offset in range(0, 15, 3):
            self._message(US, (date(2026, 8, 10) + timedelta(days=offset)).isoformat(), timedelta(hours=1))
        for offset in range(11):
            day = date(2026, 8, 3) + timedelta(days=4 * offset)
            self._return(US, day, "Approved" if offset % 2 else "Closed", False)
        self._return(US, date(2026, 9, 14), "Pending", True)
        self._return(US, date(2026, 9, 30), "Pending", False)  # its 48 hours are not over
        self._return(US, date(2026, 7, 25), "Approved", False)  # before the window

    def _ca_records(self) -> None:
        self._claim(CA, "08-08 FBA", "a-to-z", "08-20", "withdrawn", "not-as-described", None, counts=False)
        self.ratings.append(Rating(self.pick(CA, "2026-06-10"), date(2026, 6, 25), 2, "Late"))  # before every window
        for offset in range(8):
            self._message(CA, (date(2026, 9, 3) + timedelta(days=3 * offset)).isoformat(), timedelta(hours=2))
        self._message(CA, "2026-08-15", timedelta(hours=2))
        for day in (date(2026, 8, 20), date(2026, 9, 5), date(2026, 9, 18)):
            self._return(CA, day, "Approved", False)

    def _uk_records(self) -> None:
        pick = self.pick
        both = pick(UK, "2026-08-22", "FBM")  # one defective order with two defects
        self.ratings.append(Rating(both, date(2026, 9, 1), 1, "Not as described"))
        self.claims.append(
            Claim(both, "a-to-z", date(2026, 9, 3), "granted", "not-as-described", date(2026, 9, 12), True)
        )
        # Not received, on a Buy Shipping label: protected, so no defect.
        self._claim(UK, "09-01 FBM", "a-to-z", "09-14", "open", "not-received", None, counts=False, protected=True)
        self.ratings += [
            Rating(
                pick(UK, "2026-08-15", "FBA"),
                date(2026, 8, 25),
                1,
                "This item was fulfilled by Amazon, and we take responsibility for this fulfillment experience.",
                struck_through=True,
            ),
            Rating(pick(UK, "2026-06-05"), date(2026, 6, 20), 2, "Poor"),  # before every window
        ]
        # Nine messages in the window, one never answered: 1 late in 10 with the edge message.
        for offset in range(9):
            reply = None if offset == 4 else timedelta(hours=2)
            self._message(UK, (date(2026, 9, 2) + timedelta(days=3 * offset)).isoformat(), reply)
        self._message(UK, "2026-08-20", timedelta(hours=2))
        for day in (date(2026, 8, 10), date(2026, 8, 24), date(2026, 9, 7), date(2026, 7, 20)):
            self._return(UK, day, "Approved", False)
        self._return(UK, date(2026, 9, 10), "Pending", True)
        self._return(UK, date(2026, 9, 21), "Rejected", False)  # rejected, not flagged as wrongly closed

    def _claim(self, market, order, kind, filed, status, reason, decided, *, counts, protected=False) -> None:
        """A claim on a free order of `order` ("08-20 FBM": its local day and channel); days in 2026."""
        day, channel = order.split()
        self.claims.append(
            Claim(
                self.pick(market, f"2026-{day}", channel),
                kind,
                date.fromisoformat(f"2026-{filed}"),
                status,
                reason,
                date.fromisoformat(f"2026-{decided}") if decided else None,
                counts,
                protected,
            )
        )

    def _return(self, market: Marketplace, requested: date, status: str, dissatisfied: bool) -> None:
        order = self.pick(market, (requested - timedelta(days=5)).isoformat(), "FBM")
        self.returns.append(ReturnRequest(order, requested, status, dissatisfied))

    def _happy_ratings(self) -> None:
        """One order in ten rates the seller a week later, mostly 5 stars, some 4 and a few 3."""
        rated = {rating.order.order_id for rating in self.ratings}
        countable = [o for o in self.orders if not o.cancelled and o.order_id not in self._taken | rated]
        for number, order in enumerate(countable):
            day = order.day(order.market.zone) + timedelta(days=7)
            if number % 10 or day > AS_OF:
                continue
            stars = 3 if number % 130 == 0 else 4 if number % 70 == 0 else 5
            self.ratings.append(Rating(order, day, stars, "Great seller" if stars > 3 else "Fine"))

    # --- What metrics.md makes of it, in each marketplace's days (`zones`: code -> zone) -------------------------

    def odr(self, code: str, window: tuple[date, date], zones: dict[str, str]) -> dict:
        orders = [
            o
            for o in self.orders
            if o.market.code == code
            and o.sales_channel is None
            and not o.cancelled
            and window[0] <= o.day(zones[code]) <= window[1]
        ]
        figure = _odr_counts(orders, self.defects())
        figure["by_channel"] = {
            channel: _odr_counts([o for o in orders if o.channel == channel], self.defects())
            for channel in ("FBA", "FBM")
        }
        return figure

    def defects(self) -> list[tuple[str, str]]:
        """(order id, kind) of every record that is an ODR defect as of 30 Sep (all are dated before it)."""
        found = [(r.order.order_id, "negative_feedback") for r in self.ratings if r.stars <= 2 and not r.struck_through]
        kinds = {"a-to-z": "a_to_z_claims", "chargeback": "chargebacks"}
        return found + [(c.order.order_id, kinds[c.type]) for c in self.claims if c.counts]

    def lrr(self, code: str, zones: dict[str, str]) -> dict:
        zone = ZoneInfo(zones[code])
        end = datetime.combine(AS_OF + timedelta(days=1), time(0), zone)  # the end of 30 Sep there
        tally = {"late": 0, "on_time": 0, "pending": 0}
        for message in self.messages:
            if message.order.market.code != code:
                continue
            if not LRR_WINDOW[0] <= message.received.astimezone(zone).date() <= LRR_WINDOW[1]:
                continue
            due = message.received + timedelta(hours=REPLY_HOURS)
            answer = (
                None
                if message.automatic_reply or message.reply_after is None
                else message.received + message.reply_after
            )
            if answer is not None and answer <= due:
                tally["on_time" if answer <= end else "pending"] += 1
            else:
                tally["late" if due < end else "pending"] += 1
        return tally

    def nfr(self, code: str) -> dict:
        rated = [
            r
            for r in self.ratings
            if r.order.market.code == code and not r.struck_through and NFR_WINDOW[0] <= r.day <= NFR_WINDOW[1]
        ]
        return {"feedback": len(rated), "negative": sum(1 for r in rated if r.stars <= 2)}

    def rdr(self, code: str) -> dict:
        asked = [
            r for r in self.returns if r.order.market.code == code and RDR_WINDOW[0] <= r.requested <= RDR_WINDOW[1]
        ]
        return {"returns": len(asked), "dissatisfied": sum(1 for r in asked if r.dissatisfied)}

    def expected(self, code: str, zones: dict[str, str] = HOME_ZONES) -> dict:
        """Every count of one marketplace's block, from the construction alone."""
        return {
            "order_defect_rate": self.odr(code, ODR_WINDOW, zones),
            "live_order_defect_rate": self.odr(code, LIVE_WINDOW, zones),
            "late_response_rate": self.lrr(code, zones),
            "negative_feedback_rate": self.nfr(code),
            "return_dissatisfaction_rate": self.rdr(code),
        }

    # --- The seller's downloads --------------------------------------------------------------------------------

    def write(self, folder: Path) -> list[Path]:
        files = [Flat(list(ALL_ORDERS_HEADER), self._order_rows()).write(folder / "all-orders.txt")]
        for market in MARKETPLACES.values():
            files.append(self._feedback(market).write(folder / f"feedback-{market.code.lower()}.txt"))
        files.append(self._claims().write(folder / "claims.csv"))
        files.append(self._returns().write(folder / "fbm-returns.txt"))
        inbox, sent = self._mailboxes()
        (folder / "Inbox.mbox").write_text(inbox)
        (folder / "Sent.mbox").write_text(sent)
        return [*files, folder / "Inbox.mbox", folder / "Sent.mbox"]

    def _order_rows(self) -> list[list[str]]:
        rows = []
        for order in sorted(self.orders, key=lambda o: o.placed):
            for item in range(order.items):
                rows.append([_order_cell(order, item, name) for name in ALL_ORDERS_HEADER])
        return rows

    def _feedback(self, market: Marketplace) -> Flat:
        header = ["Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email"]
        rows = [
            [_feedback_day(r.day, market), str(r.stars), r.comment, "", r.order.order_id, ""]
            for r in sorted(self.ratings, key=lambda r: r.day)
            if r.order.market is market
        ]
        return Flat(header, rows)

    def _claims(self) -> Flat:
        header = "order-id,type,filed-date,status,reason,amount,currency,decided-date,buy-shipping-protected"
        rows = [
            [
                c.order.order_id,
                c.type,
                c.filed.isoformat(),
                c.status,
                c.reason,
                "24.99",
                c.order.market.currency,
                c.decided.isoformat() if c.decided else "",
                "Y" if c.protected else "N",
            ]
            for c in self.claims
        ]
        return Flat(header.split(","), rows, delimiter=",")

    def _returns(self) -> Flat:
        template = Flat.read(ROOT / "tests" / "samples" / "fbm-returns.txt")
        rows = []
        for number, request in enumerate(self.returns):
            row = list(template.rows[0])
            values = {
                "Order ID": request.order.order_id,
                "Order date": _report_day(request.order.day(request.order.market.zone)),
                "Return request date": _report_day(request.requested),
                "Return request status": request.status,
                "Amazon RMA ID": f"D{number:08d}RMA",
                "Currency code": request.order.market.currency,
            }
            for name, value in values.items():
                row[template.at(name)] = value
            rows.append(row)
        return Flat(list(template.header), rows)

    def _mailboxes(self) -> tuple[str, str]:
        inbox, sent = [], []
        for number, message in enumerate(self.messages):
            alias = f"{number + 1:04x}buyer{message.order.market.code.lower()}"
            order_id = message.order.order_id
            subject = f"Order delivery inquiry from Amazon customer Sam (Order: {order_id})"
            inbox.append(
                _mail(
                    f'"Sam - Amazon Marketplace" <{alias}+t{number}@{message.order.market.mail_domain}>',
                    "seller@example.com",
                    subject,
                    message.received,
                    f"<M{number}@amazon.com>",
                    f"Order ID {order_id}:\n------------- Begin message -------------\n\nWhere is my parcel?\n\n"
                    "------------- End message -------------\n",
                )
            )
            if message.reply_after is not None:
                sent.append(
                    _mail(
                        "Shop Support <seller@example.com>",
                        f"{alias}@{message.order.market.mail_domain}",
                        f"Re: {subject}",
                        message.received + message.reply_after,
                        f"<reply{number}@example.com>",
                        "Thank you for your message: your parcel is on its way.\n",
                        automatic=message.automatic_reply,
                    )
                )
        return "".join(inbox), "".join(sent)


def _daily_orders(market: Marketplace) -> Iterator[Order]:
    """`orders_per_day` orders every local day from 1 Jun to 30 Sep, between 08:30 and 20:00 there (well away
    from midnight), FBA and FBM in turn, one in 29 cancelled, one in 11 with two items."""
    number, day = 0, FIRST_DAY
    zone = ZoneInfo(market.zone)
    while day <= AS_OF:
        for slot in range(market.orders_per_day):
            placed = datetime.combine(day, time(8 + slot * 12 // market.orders_per_day, 30), zone)
            order_id = f"{market.id_prefix + number % 2:03d}-{number:07d}-{(number * 7919) % 10**7:07d}"
            yield Order(
                order_id,
                market,
                placed,
                "FBA" if number % 2 == 0 else "FBM",
                cancelled=number % 29 == 7,
                items=2 if number % 11 == 3 else 1,
            )
            number += 1
        day += timedelta(days=1)


def _odr_counts(orders: list[Order], defects: list[tuple[str, str]]) -> dict:
    ids = {o.order_id for o in orders}
    mine = {(order_id, kind) for order_id, kind in defects if order_id in ids}
    counts = {"orders": len(orders), "defective_orders": len({order_id for order_id, _ in mine})}
    for kind in ("negative_feedback", "a_to_z_claims", "chargebacks"):
        counts[kind] = sum(1 for _, k in mine if k == kind)
    return counts


def _order_cell(order: Order, item: int, name: str) -> str:
    shipped = order.placed.astimezone(UTC)
    values = {
        "amazon-order-id": order.order_id,
        "purchase-date": shipped.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "last-updated-date": (shipped + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        "order-status": "Cancelled" if order.cancelled else "Shipped",
        "fulfillment-channel": "Amazon" if order.channel == "FBA" else "Merchant",
        "sales-channel": order.sales_channel or order.market.sales_channel,
        "ship-service-level": "Standard",
        "product-name": f"Travel mug {item + 1}",
        "sku": f"MUG-{item + 1}",
        "asin": f"B0MUG0000{item + 1}",
        "item-status": "Cancelled" if order.cancelled else "Shipped",
        "quantity": "0" if order.cancelled else "1",
        "currency": order.market.currency,
        "item-price": "" if order.cancelled else "24.99",
        "item-tax": "" if order.cancelled else "2.00",
        "ship-country": order.market.ship_country,
        "is-business-order": "false",
    }
    return values.get(name, "")


def _feedback_day(day: date, market: Marketplace) -> str:
    first, second = (day.day, day.month) if market.day_first else (day.month, day.day)
    return f"{first}/{second}/{day:%y}"


def _report_day(day: date) -> str:
    return day.strftime("%d-%b-%Y")


def _mail(sender: str, to: str, subject: str, at: datetime, message_id: str, body: str, automatic=False) -> str:
    """One e-mail of an mbox; its Date is in UTC, as Amazon sends them, so only the marketplace gives the day."""
    headers = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(at.astimezone(UTC))}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
    ]
    if automatic:
        headers.append("Auto-Submitted: auto-replied")
    return "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + "\n".join(headers) + "\n\n" + body + "\n"


# --- The seller in a real database, through the command line -----------------------------------------------------


def run(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args, "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def metrics_json(db_path: Path, *args: str) -> dict:
    done = run(db_path, "metrics", "--as-of", AS_OF.isoformat(), "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def seller() -> Seller:
    return Seller.build()


@pytest.fixture(scope="module")
def seller_db(seller, tmp_path_factory) -> Path:
    """The seller's reports imported with `main.py import`; home marketplace US, its days in Los Angeles."""
    folder = tmp_path_factory.mktemp("na-uk")
    path = folder / "health.db"
    for key, value in (("marketplace", "US"), ("timezone", US.zone)):
        done = run(path, "config", "set", key, value)
        assert done.returncode == 0, done.stderr
    done = run(path, "import", "--json", *map(str, seller.write(folder)))
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["files"]
    assert [(r["outcome"], r["rejected"], r["unknown_order_rows"]) for r in results] == [("imported", 0, 0)] * 8, [
        (r["file"], r["message"], r["rejections"][:3]) for r in results
    ]
    return path


@pytest.fixture(scope="module")
def figures(seller_db) -> dict:
    return metrics_json(seller_db)


def counted(block: dict, expected: dict) -> dict:
    """The block's counts under the keys the construction gives (for ODR, per channel too)."""
    got = {key: block[key] for key in expected if key != "by_channel"}
    if "by_channel" in expected:
        got["by_channel"] = {channel: counted(block["by_channel"][channel], expected["by_channel"][channel])
                             for channel in expected["by_channel"]}  # fmt: skip
    return got


def worst(statuses) -> str:
    return max(statuses, key=STATUS_RANK.index)


# --- Every marketplace, and all three together --------------------------------------------------------------------


def test_each_marketplace_has_its_own_figures_in_its_own_zone(figures):
    assert set(figures["marketplaces"]) == {"US", "CA", "UK"}
    zones = {code: block["timezone"] for code, block in figures["marketplaces"].items()}
    assert zones == HOME_ZONES
    windows = {
        "order_defect_rate": ODR_WINDOW,
        "live_order_defect_rate": LIVE_WINDOW,
        "late_response_rate": LRR_WINDOW,
        "negative_feedback_rate": NFR_WINDOW,
        "return_dissatisfaction_rate": RDR_WINDOW,
    }
    for block in [figures, *figures["marketplaces"].values()]:
        for key, (start, end) in windows.items():
            assert (block[key]["window_start"], block[key]["window_end"]) == (start.isoformat(), end.isoformat()), key
            # Orders run to the end of 30 Sep in every marketplace and from June: no figure lacks data.
            assert block[key]["complete"] is True, (key, block[key].get("reason"))
    assert figures["unmatched_defects"] == []


@pytest.mark.parametrize("code", ["US", "CA", "UK"])
def test_each_marketplaces_counts_are_those_of_its_own_records(figures, seller, code):
    block = figures["marketplaces"][code]
    for key, expected in seller.expected(code).items():
        assert counted(block[key], expected) == expected, (code, key)


def test_the_three_marketplaces_add_up_to_the_whole(figures, seller):
    blocks = figures["marketplaces"].values()
    keys = {
        "order_defect_rate": ("orders", "defective_orders", "negative_feedback", "a_to_z_claims", "chargebacks"),
        "live_order_defect_rate": ("orders", "defective_orders", "negative_feedback", "a_to_z_claims", "chargebacks"),
        "late_response_rate": ("late", "on_time", "pending"),
        "negative_feedback_rate": ("feedback", "negative"),
        "return_dissatisfaction_rate": ("returns", "dissatisfied"),
    }
    for figure, names in keys.items():
        built = [seller.expected(code)[figure] for code in MARKETPLACES]
        for name in names:
            assert figures[figure][name] == sum(block[figure][name] for block in blocks), (figure, name)
            assert figures[figure][name] == sum(part[name] for part in built), (figure, name)
        if figure.endswith("order_defect_rate"):
            for channel in ("FBA", "FBM"):
                for name in names:
                    total = sum(part["by_channel"][channel][name] for part in built)
                    assert figures[figure]["by_channel"][channel][name] == total, (figure, channel, name)
    odr = figures["order_defect_rate"]
    assert odr["rate"] == pytest.approx(odr["defective_orders"] / odr["orders"])
    # The MCF order (sales channel Non-Amazon) is in no marketplace's figures.
    assert "114-9990001-0000001" not in json.dumps(figures)


@pytest.mark.parametrize("code", ["US", "CA", "UK"])
def test_one_marketplace_alone_is_its_block_of_the_whole(seller_db, figures, code):
    alone = metrics_json(seller_db, "--marketplace", code)
    assert list(alone["marketplaces"]) == [code]
    assert alone["marketplaces"][code] == figures["marketplaces"][code]
    assert {key: alone[key] for key in FIGURES} == {key: figures["marketplaces"][code][key] for key in FIGURES}
    assert alone["timezone"] == HOME_ZONES[code]


# --- A minute either side of local midnight, in each marketplace ------------------------------------------------


def test_the_edge_instants_are_worked_out_right():
    """The hand-written UTC instants are the local wall times in each zone, and each pair shares a UTC day."""
    for edges in (ORDER_EDGES, MESSAGE_EDGES):
        names = list(edges)
        for code, market in MARKETPLACES.items():
            for name, times in edges.items():
                assert local(edge_wall(times), market.zone) == edge_utc(times, code), (code, name)
            for before, after in zip(names[::2], names[1::2], strict=True):
                assert edge_utc(edges[before], code).date() == edge_utc(edges[after], code).date(), (code, before)


def edge_defects(block: dict, seller: Seller, code: str) -> set[str]:
    """Which of the marketplace's edge orders the figure counts as defective."""
    names = {seller.edges[(code, name)].order_id: name for name in DEFECTIVE_EDGES}
    return {names[row["order_id"]] for row in block["defects"] if row["order_id"] in names}


@pytest.mark.parametrize("code", ["US", "CA", "UK"])
def test_an_order_a_minute_either_side_of_local_midnight_falls_in_the_right_odr_window(figures, seller, code):
    block = figures["marketplaces"][code]
    # 60 days ending 19 Jul - 16 Sep: 23:59 on 18 Jul is out, 00:01 on 19 Jul in; 23:59 on 16 Sep in, 00:01 on
    # 17 Sep out (it waits in the live window, which ends with 30 Sep).
    assert edge_defects(block["order_defect_rate"], seller, code) == {"odr_start_in", "odr_end_in"}
    assert edge_defects(block["live_order_defect_rate"], seller, code) == {"odr_end_in", "odr_end_out"}
    # The oldest defect counted is the order of 00:01 on 19 Jul, the window's first day: it leaves when the
    # window starts on 20 Jul, as of 1 Oct.
    assert block["order_defect_rate"]["oldest_defect_leaves_on"] == "2026-10-01"
    # An order at 23:59 on 30 Sep is in the live window; one at 00:01 on 1 Oct has not happened yet. Counted
    # by hand: every day of a window brings `orders_per_day` orders, less the cancelled ones, and the edge
    # orders inside it.
    daily = MARKETPLACES[code].orders_per_day
    for key, window, edges in (
        ("order_defect_rate", ODR_WINDOW, 2),  # odr_start_in, odr_end_in
        ("live_order_defect_rate", LIVE_WINDOW, 3),  # odr_end_in, odr_end_out, live_end_in
    ):
        cancelled = sum(1 for order in seller.orders if _cancelled_in(order, code, window))
        assert block[key]["orders"] == 60 * daily - cancelled + edges, key


def _cancelled_in(order: Order, code: str, window: tuple[date, date]) -> bool:
    return order.market.code == code and order.cancelled and window[0] <= order.day(order.market.zone) <= window[1]


@pytest.mark.parametrize("code", ["US", "CA", "UK"])
def test_a_message_a_minute_either_side_of_local_midnight_falls_in_the_right_lrr_window(figures, seller, code):
    lrr = figures["marketplaces"][code]["late_response_rate"]
    # The messages away from midnight (all at 10:00 local) whose local day is in 1-30 Sep.
    daytime = [m for m in seller.messages if m.order.market.code == code and m.received.hour == 10]
    in_window = [m for m in daytime if LRR_WINDOW[0] <= m.received.date() <= LRR_WINDOW[1]]
    late = sum(
        1 for m in in_window if m.reply_after is None or m.automatic_reply or m.reply_after > timedelta(hours=24)
    )
    # Of the edge messages, only 00:01 on 1 Sep counts (answered in 2 hours); 23:59 on 31 Aug is before the
    # window; 23:59 on 30 Sep is still inside its 24 hours (pending); 00:01 on 1 Oct has not arrived yet.
    assert (lrr["late"], lrr["on_time"], lrr["pending"]) == (late, len(in_window) - late + 1, 1)


# --- A zone setting moves a marketplace's midnight ----------------------------------------------------------------

# The marketplace, the setting, the zone, and which ODR edge orders are then in the lagging window (by hand:
# Denver is an hour ahead of Los Angeles, Vancouver three hours behind Toronto, UTC an hour behind London in
# summer, so 23:59 there is 00:59 / 20:59 / 22:59 and 00:01 is 01:01 / 21:01 / 23:01).
OVERRIDES = [
    ("US", "timezone", "America/Denver", {"odr_start_out", "odr_start_in"}),
    ("CA", "timezone.CA", "America/Vancouver", {"odr_end_in", "odr_end_out"}),
    ("UK", "timezone.UK", "UTC", {"odr_end_in", "odr_end_out"}),
]


@pytest.mark.parametrize(("code", "key", "zone", "inside"), OVERRIDES)
def test_a_zone_setting_moves_the_marketplaces_midnight(seller_db, figures, seller, tmp_path, code, key, zone, inside):
    path = tmp_path / "health.db"
    shutil.copy(seller_db, path)
    done = run(path, "config", "set", key, zone)
    assert done.returncode == 0, done.stderr
    moved = metrics_json(path)
    block = moved["marketplaces"][code]
    assert block["timezone"] == zone
    assert edge_defects(block["order_defect_rate"], seller, code) == inside
    zones = {**HOME_ZONES, code: zone}
    for figure, expected in seller.expected(code, zones).items():
        assert counted(block[figure], expected) == expected, (code, figure)
    # The other marketplaces keep their days.
    for other in set(MARKETPLACES) - {code}:
        assert moved["marketplaces"][other] == figures["marketplaces"][other]


# --- The headline: the worst marketplace, not the blend -------------------------------------------------------------


def test_the_headline_is_the_worst_marketplace_while_all_together_are_calm(figures, seller):
    per_market = {code: seller.expected(code) for code in MARKETPLACES}
    # ODR: CA's two FBM defects among its ~90 FBM orders are over 1 %; every other marketplace and channel, and
    # all ~2,100 orders together, are under 0.8 %.
    ca = per_market["CA"]["order_defect_rate"]["by_channel"]["FBM"]
    assert ca["defective_orders"] / ca["orders"] >= 0.01
    total_orders = sum(part["order_defect_rate"]["orders"] for part in per_market.values())
    total_defective = sum(part["order_defect_rate"]["defective_orders"] for part in per_market.values())
    assert total_defective / total_orders < 0.008
    for channel in ("FBA", "FBM"):
        parts = [part["order_defect_rate"]["by_channel"][channel] for part in per_market.values()]
        assert sum(p["defective_orders"] for p in parts) / sum(p["orders"] for p in parts) < 0.008
    odr = figures["order_defect_rate"]
    assert (odr["combined_status"], odr["status"], odr["worst_marketplace"]) == ("good", "breach", "CA")
    assert {channel: part["status"] for channel, part in odr["by_channel"].items()} == {"FBA": "good", "FBM": "good"}
    assert {code: block["order_defect_rate"]["status"] for code, block in figures["marketplaces"].items()} == {
        "US": "good",
        "CA": "breach",
        "UK": "good",
    }
    # CA's way back under 1 %: the fewest defect-free orders n with defective / (orders + n) < 1 %.
    ca_all = per_market["CA"]["order_defect_rate"]
    recover = next(n for n in range(1000) if ca_all["defective_orders"] * 100 < ca_all["orders"] + n)
    assert figures["marketplaces"]["CA"]["order_defect_rate"]["orders_to_recover"] == recover
    # LRR: one late reply in ten in the UK is 10 %, at the limit; three in 48 over all three are 6.25 %.
    uk = per_market["UK"]["late_response_rate"]
    assert (uk["late"], uk["late"] + uk["on_time"]) == (1, 10)
    lrr = figures["late_response_rate"]
    assert (lrr["late"], lrr["late"] + lrr["on_time"]) == (3, 48)
    assert lrr["rate"] == pytest.approx(3 / 48)
    assert (lrr["status"], lrr["worst_marketplace"]) == ("breach", "UK")
    for key in FIGURES:
        assert figures[key]["status"] == worst(block[key]["status"] for block in figures["marketplaces"].values())


def test_the_text_summary_names_the_marketplace_over_the_limit(seller_db):
    done = run(seller_db, "metrics", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    odr_line = next(line for line in done.stdout.splitlines() if line.startswith("Order Defect Rate"))
    assert "CA FBM" in odr_line and "over the limit" in odr_line
