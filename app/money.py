"""Money Amazon may owe the seller back: FBA reimbursement claims and FBM SAFE-T claims (docs/money.md).

- An FBA customer return is a possible reimbursement claim when its detailed disposition says Amazon, its
  carrier or a distributor damaged the unit (WAREHOUSE_DAMAGED, CARRIER_DAMAGED, DISTRIBUTOR_DAMAGED), its
  reason code says so (DAMAGED_BY_FC, DAMAGED_BY_CARRIER), or its status says it was not reimbursed. A
  status that says reimbursed is money recovered, not a claim.
- An FBM return with a SAFE-T claim id is a claim Amazon has or is deciding; a refunded return without one
  that Amazon flagged with a SAFE-T action reason, or that the report says never came back, is a claim to
  file.

The amount at stake is what the order's line for the SKU cost the buyer, in the order's currency: the
line's item price (Amazon's price for the whole quantity ordered) times the share of it that came back.
Amounts in different currencies are never added together.

Pure rules first; the reads from the database and the month's figures for the dashboard at the end.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlite_utils

from app import records
from app.settings import Settings
from app.timeutil import DAY_S, day_start, end_of_day, local_day
from storage import triage as triage_store

DAMAGE_DISPOSITIONS = {
    "WAREHOUSE_DAMAGED": "damaged in Amazon's warehouse",
    "CARRIER_DAMAGED": "damaged by Amazon's carrier",
    "DISTRIBUTOR_DAMAGED": "damaged at a distributor",
}
# The FBA return reason codes app.triage reads as damage in Amazon's hands.
DAMAGE_REASONS = {
    "DAMAGED_BY_FC": "damaged in Amazon's warehouse",
    "DAMAGED_BY_CARRIER": "damaged by Amazon's carrier",
}
NOT_REIMBURSED = "refunded to the buyer but not reimbursed"

# A refunded FBM return whose report left `Return delivery date` empty this many days after the request
# never came back.
NOT_BACK_DAYS = 14
# `fbm_returns.return_delivery_date`: a day; NOT_DELIVERED ('') when the report had the column and left it
# empty; NULL when no report said (imported before the column was read, or from a report without it).
NOT_DELIVERED = records.NOT_DELIVERED
# Amazon refuses an FBA customer-return claim sooner than this many days after the refund: 60, and 45 on
# the European marketplaces (docs/money.md). Elsewhere, or on an unknown marketplace, the later day is safe.
FBA_CLAIM_OPENS_DAYS = 60
FBA_CLAIM_OPENS_DAYS_EUROPE = 45
EUROPE = frozenset({"UK", "IE", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE"})
# How long after its request a return may reach the seller and open its SAFE-T window (read that far back).
SAFET_DELIVERY_REACH_DAYS = 90
# SAFE-T claim states after which Amazon decides nothing more (Seller Central's "Resolved" tab: grant or
# no grant; closed, withdrawn or rejected claims). Any other state (Under investigation, Awaiting seller
# response, Pending, Under review, Open) is a claim still open.
FINAL_STATE_WORDS = (
    "grant",
    "denied",
    "declined",
    "closed",
    "resolved",
    "rejected",
    "withdrawn",
    "cancel",
    "reimbursed",
)
REFUSED_STATE_WORDS = ("no grant", "no-grant", "not granted", "denied", "declined", "rejected")
FBA_KEY, SAFET_KEY = "fba_reimbursement:", "safet:"


def _code(text: str | None) -> str:
    code = (text or "").strip().upper().replace("-", "_").replace(" ", "_")
    for prefix in ("CR_", "AMZ_PG_"):
        code = code.removeprefix(prefix)
    return code


def says_not_reimbursed(status: str | None) -> bool:
    text = (status or "").lower()
    return any(words in text for words in ("not reimbursed", "no reimbursement", "unreimbursed", "not eligible"))


def says_reimbursed(status: str | None) -> bool:
    return "reimburs" in (status or "").lower() and not says_not_reimbursed(status)


def fba_claim_ground(disposition: str | None, reason: str | None, status: str | None) -> str | None:
    """Why an FBA customer return may be owed a reimbursement, in the seller's words; None when it is not
    (a sellable unit, damage by the buyer, or a return Amazon already reimbursed)."""
    if says_reimbursed(status):
        return None
    ground = DAMAGE_DISPOSITIONS.get(_code(disposition)) or DAMAGE_REASONS.get(_code(reason))
    if ground is None and says_not_reimbursed(status):
        ground = NOT_REIMBURSED
    return ground


def safet_final(state: str | None) -> bool:
    text = (state or "").lower()
    return any(word in text for word in FINAL_STATE_WORDS)


def safet_refused(state: str | None) -> bool:
    text = (state or "").lower()
    return any(word in text for word in REFUSED_STATE_WORDS)


def safet_granted(state: str | None, reimbursed: float | None) -> bool:
    if reimbursed:
        return True
    return "grant" in (state or "").lower() and not safet_refused(state)


def share(item_price: float | None, ordered: int | None, returned: int | None) -> float | None:
    """The part of an order line's price a return stands for (the whole line when either count is unknown,
    or when more came back than the line says was ordered)."""
    if item_price is None:
        return None
    if not ordered or not returned or returned >= ordered:
        return round(item_price, 2)
    return round(item_price * returned / ordered, 2)


# --- Records ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FbaClaim:
    """An FBA customer return Amazon may owe a reimbursement for."""

    return_key: str
    order_id: str
    returned_at: int
    ground: str
    sku: str | None = None
    product_name: str | None = None
    quantity: int | None = None
    disposition: str | None = None
    reason: str | None = None
    status: str | None = None
    amount: float | None = None
    currency: str | None = None
    marketplace: str | None = None

    @property
    def key(self) -> str:
        return f"{FBA_KEY}{self.return_key}"

    def returned_day(self, settings: Settings) -> date:
        return local_day(self.returned_at, settings.zone)

    def window_opens(self, settings: Settings) -> date:
        """The first day Amazon accepts the claim. Counted from the day Amazon received the unit back: the
        report carries no refund date, and the refund came first, so Amazon's wait has passed by then."""
        marketplace = self.marketplace or settings.marketplace
        wait = FBA_CLAIM_OPENS_DAYS_EUROPE if marketplace in EUROPE else FBA_CLAIM_OPENS_DAYS
        return min(self.returned_day(settings) + timedelta(days=wait), self.last_day(settings))

    def last_day(self, settings: Settings) -> date:
        return self.returned_day(settings) + timedelta(days=int(settings.fba_reimbursement_days) - 1)

    def window_closes(self, settings: Settings) -> int:
        """The end of the last day (`fba_reimbursement_days` calendar days from the return, the return's
        day the first): inside Amazon's window, which it counts from the earlier refund."""
        return day_start(self.last_day(settings) + timedelta(days=1), settings.zone)


@dataclass(frozen=True)
class SafetReturn:
    """A refunded seller-fulfilled return and its SAFE-T claim, if any."""

    return_id: str
    order_id: str
    request_day: date
    refunded: float | None = None
    currency: str | None = None
    delivered_day: date | None = None
    # Whether a report said where the item is: a delivery day, or the column left empty (never came back).
    delivery_known: bool = False
    safet_reason: str | None = None
    claim_id: str | None = None
    claim_state: str | None = None
    claim_created: date | None = None
    reimbursed: float | None = None
    sku: str | None = None
    item_name: str | None = None
    reason: str | None = None

    @property
    def key(self) -> str:
        return f"{SAFET_KEY}{self.return_id}"

    @property
    def claim_open(self) -> bool:
        return bool(self.claim_id) and not safet_final(self.claim_state)

    def why_to_file(self, as_of: date) -> str | None:
        """Why the seller should file a SAFE-T claim, or None: only a refunded return without a claim that
        Amazon flagged (its SAFE-T action reason) or that the report says never came back (its delivery date
        left empty NOT_BACK_DAYS on). A return no report has said anything about is not taken as lost: a
        false claim is refused and held against the seller."""
        if not self.unclaimed_refund:
            return None
        if self.safet_reason:
            return f"Amazon noted “{self.safet_reason}”"
        if self.delivery_known and self.not_back(as_of):
            return f"it has not come back {(as_of - self.request_day).days} days after the return request"
        return None

    @property
    def unclaimed_refund(self) -> bool:
        return not self.claim_id and bool(self.refunded) and self.refunded > 0

    def not_back(self, as_of: date) -> bool:
        return self.delivered_day is None and as_of >= self.request_day + timedelta(days=NOT_BACK_DAYS)

    def needs_reimport(self, as_of: date, settings: Settings) -> bool:
        """A refund that would be a claim to file if it never came back, but no report has said whether it
        did (stored before the delivery date was read): re-importing the FBM returns report tells."""
        return (
            self.unclaimed_refund
            and not self.safet_reason
            and not self.delivery_known
            and self.not_back(as_of)
            and as_of < self.last_day(settings) + timedelta(days=1)
        )

    def window_opens(self) -> date:
        """The day Amazon's SAFE-T window starts: the return's delivery back to the seller, or, for an item
        that never came back, the request (the refund came on or after it: the earlier day is the safe one)."""
        return self.delivered_day or self.request_day

    def last_day(self, settings: Settings) -> date:
        return self.window_opens() + timedelta(days=int(settings.safet_claim_days) - 1)

    def window_closes(self, settings: Settings) -> int:
        """The end of the last day, counted in calendar days of the marketplace zone (a day across a clock
        change is still one day)."""
        return day_start(self.last_day(settings) + timedelta(days=1), settings.zone)


# --- Reading them -----------------------------------------------------------------------------------------------

# A return's marketplace is its order's; the row's own only when the order is unknown (NULL: the home one).
_FBA_SQL = (
    "SELECT r.*, coalesce(o.marketplace, r.marketplace) AS market FROM fba_returns r"
    " LEFT JOIN orders o ON o.order_id = r.order_id WHERE r.returned_at >= ? AND r.returned_at < ? AND ("
    " upper(replace(r.disposition, '-', '_')) IN ('WAREHOUSE_DAMAGED', 'CARRIER_DAMAGED', 'DISTRIBUTOR_DAMAGED')"
    " OR upper(replace(r.reason, '-', '_')) LIKE '%DAMAGED_BY_%' OR lower(r.status) LIKE '%reimburs%'"
    " OR lower(r.status) LIKE '%not eligible%') ORDER BY r.returned_at"
)


def fba_returns(db: sqlite_utils.Database, start: int, end: int) -> tuple[list[FbaClaim], list[FbaClaim]]:
    """The FBA returns dated `start`..`end` (instants) that may be owed a reimbursement, and those Amazon
    reimbursed (their ground is 'reimbursed'), each with its amount."""
    rows = list(db.query(_FBA_SQL, [start, end]))
    prices = _line_prices(db, [row["order_id"] for row in rows])
    claims, reimbursed = [], []
    for row in rows:
        ground = fba_claim_ground(row["disposition"], row["reason"], row["status"])
        if ground is None and not says_reimbursed(row["status"]):
            continue
        price, ordered, currency = prices.get((row["order_id"], row["sku"]), (None, None, None))
        claim = FbaClaim(
            return_key=row["return_key"],
            order_id=row["order_id"],
            returned_at=row["returned_at"],
            ground=ground or "reimbursed",
            sku=row["sku"],
            product_name=row["product_name"],
            quantity=row["quantity"],
            disposition=row["disposition"],
            reason=row["reason"],
            status=row["status"],
            amount=share(price, ordered, row["quantity"]),
            currency=currency,
            marketplace=row["market"],
        )
        (claims if ground else reimbursed).append(claim)
    return claims, reimbursed


def _line_prices(db: sqlite_utils.Database, order_ids: list[str]) -> dict[tuple[str, str], tuple]:
    """(order, SKU) -> (item price, quantity ordered, currency)."""
    return {
        (row["order_id"], row["sku"]): (row["item_price"], row["quantity"], row["currency"])
        for row in triage_store.order_items(db, sorted(set(order_ids)))
    }


def safet_returns(db: sqlite_utils.Database, first_day: date) -> list[SafetReturn]:
    """Refunded FBM returns requested from `first_day` on, and every return whose SAFE-T claim is still
    open whatever its date (Amazon is still deciding it: nothing is lost)."""
    rows = db.query(
        "SELECT * FROM fbm_returns WHERE (request_date >= ? AND (refunded_amount > 0 OR safet_claim_id IS NOT NULL))"
        " OR (safet_claim_id IS NOT NULL AND request_date < ?) ORDER BY request_date, return_id",
        [first_day.isoformat(), first_day.isoformat()],
    )
    found = [_safet(row) for row in rows]
    return [r for r in found if r.request_day >= first_day or r.claim_open]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def safet_recoveries(db: sqlite_utils.Database, first_day: date, last_day: date) -> list[SafetReturn]:
    """SAFE-T claims dated `first_day`..`last_day` by their creation day (the report has no decision
    day), or by the return request when the report gave no creation time: each claim is in one month."""
    rows = db.query(
        "SELECT * FROM fbm_returns WHERE safet_claim_id IS NOT NULL"
        " AND coalesce(safet_claim_created, request_date) BETWEEN ? AND ? ORDER BY return_id",
        [first_day.isoformat(), last_day.isoformat()],
    )
    return [_safet(row) for row in rows]


def _safet(row: dict) -> SafetReturn:
    return SafetReturn(
        return_id=row["return_id"],
        order_id=row["order_id"],
        request_day=date.fromisoformat(row["request_date"]),
        refunded=row["refunded_amount"],
        currency=row["currency"],
        delivered_day=_day(row["return_delivery_date"]),
        delivery_known=row["return_delivery_date"] is not None,
        safet_reason=row["safet_reason"],
        claim_id=row["safet_claim_id"],
        claim_state=row["safet_claim_state"],
        claim_created=_day(row["safet_claim_created"]),
        reimbursed=row["safet_reimbursed"],
        sku=row["sku"],
        item_name=row["item_name"],
        reason=row["reason"],
    )


def resolved_keys(db: sqlite_utils.Database) -> set[str]:
    """The money items the seller marked resolved (a claim filed in Seller Central): their clocks stop."""
    rows = db.query(
        "SELECT item_key FROM triage_resolutions WHERE ended_at IS NULL AND (item_key LIKE ? OR item_key LIKE ?)",
        [f"{FBA_KEY}%", f"{SAFET_KEY}%"],
    )
    return {row["item_key"] for row in rows}


# --- The month's figures for the dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class MoneySummary:
    """The dashboard's money figures at an instant, and the calendar month (marketplace time zone) it is in.

    `at_stake`: currency -> what Amazon may still owe, whatever month the claims are dated in: every claim
    to file whose window is open at the instant (FBA reimbursements, SAFE-T claims; what Triage lists) and
    every claim filed and waiting (a SAFE-T claim Amazon is deciding, or an item the seller resolved as
    filed while its window is open). `claims`: how many are to file; `filed`: how many are filed and
    waiting; `unpriced`: how many of either have no known amount (their order is not imported).
    `recovered`: currency -> what came back in the month: SAFE-T reimbursements dated by the claim's
    creation day (the report has no decision day), and FBA returns whose status says reimbursed, by the
    return's day; each recovery is in exactly one month. `breached_replies`: replies sent in the month
    whose Communication Guidelines check found a breach. `unknown_delivery`: refunded FBM returns stored
    before the delivery date was read that would be claims to file if they never came back."""

    month: date  # its first day
    at_stake: dict[str, float] = field(default_factory=dict)
    claims: int = 0
    unpriced: int = 0
    recovered: dict[str, float] = field(default_factory=dict)
    recoveries: int = 0
    breached_replies: int = 0
    filed: int = 0
    unknown_delivery: int = 0

    def to_json(self) -> dict:
        return {
            "month": self.month.isoformat(),
            "at_stake": self.at_stake,
            "claims": self.claims,
            "filed": self.filed,
            "unpriced": self.unpriced,
            "recovered": self.recovered,
            "recoveries": self.recoveries,
            "breached_replies": self.breached_replies,
            "unknown_delivery": self.unknown_delivery,
        }

    @classmethod
    def from_json(cls, data: dict) -> MoneySummary:
        return cls(**(data | {"month": date.fromisoformat(data["month"])}))


UNKNOWN_CURRENCY = ""


@dataclass
class _Tally:
    stake: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    to_file: int = 0
    filed: int = 0
    unpriced: int = 0

    def count(self, amount: float | None, currency: str | None, filed: bool) -> None:
        if filed:
            self.filed += 1
        else:
            self.to_file += 1
        self.unpriced += _add(self.stake, amount, currency)


def month_summary(db: sqlite_utils.Database, at: float, settings: Settings) -> MoneySummary:
    """The figures at `at`: what is at stake then, and what came back in its month (marketplace zone)."""
    zone = settings.zone
    today = local_day(at, zone)
    first = today.replace(day=1)
    start, end = day_start(first, zone), min(end_of_day(today, zone), int(at) + 1)
    resolved = resolved_keys(db)
    tally = _Tally()
    # A day more than the window: its last day is counted in calendar days from the return's day.
    fba, _ = fba_returns(db, int(at - (settings.fba_reimbursement_days + 1) * DAY_S), int(at) + 1)
    for claim in fba:
        if claim.window_closes(settings) > at:
            tally.count(claim.amount, claim.currency, claim.key in resolved)
    unknown = 0
    reach = timedelta(days=int(settings.safet_claim_days) + SAFET_DELIVERY_REACH_DAYS)
    for item in safet_returns(db, today - reach):
        if item.claim_open:
            tally.count(item.refunded, item.currency, filed=True)
        elif item.why_to_file(today) and item.window_closes(settings) > at:
            tally.count(item.refunded, item.currency, item.key in resolved)
        unknown += item.needs_reimport(today, settings)
    back: dict[str, float] = defaultdict(float)
    _, reimbursed = fba_returns(db, start, end)
    recoveries = len(reimbursed)
    for claim in reimbursed:
        _add(back, claim.amount, claim.currency)
    for item in safet_recoveries(db, first, today):
        if safet_granted(item.claim_state, item.reimbursed):
            recoveries += 1
            _add(back, item.reimbursed, item.currency)
    return MoneySummary(
        month=first,
        at_stake=_rounded(tally.stake),
        claims=tally.to_file,
        filed=tally.filed,
        unpriced=tally.unpriced,
        recovered=_rounded(back),
        recoveries=recoveries,
        breached_replies=breached_replies(db, start, end),
        unknown_delivery=unknown,
    )


def _add(totals: dict[str, float], amount: float | None, currency: str | None) -> int:
    """Adds the amount under its currency; 1 when the amount is unknown (counted, not summed)."""
    if amount is None:
        return 1
    totals[currency or UNKNOWN_CURRENCY] += amount
    return 0


def _rounded(totals: dict[str, float]) -> dict[str, float]:
    return {currency: round(amount, 2) for currency, amount in sorted(totals.items())}


def breached_replies(db: sqlite_utils.Database, start: int, end: int) -> int:
    """Replies sent in `start`..`end` whose check found a breach (NULL: not checked; '[]': compliant)."""
    rows = db.query(
        "SELECT breaches FROM replies WHERE sent_at >= ? AND sent_at < ? AND breaches IS NOT NULL", [start, end]
    )
    return sum(1 for row in rows if _has_breach(row["breaches"]))


def _has_breach(text: str) -> bool:
    try:
        return bool(json.loads(text))
    except (TypeError, ValueError):
        return text.strip() not in ("", "[]")


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "MXN": "MX$", "INR": "₹"}


def amount_text(amount: float | None, currency: str | None) -> str | None:
    """`$24.99`, `€1,204.50`, `312.00 SEK`; None for an unknown amount."""
    if amount is None:
        return None
    symbol = SYMBOLS.get((currency or "").upper())
    if symbol:
        return f"{symbol}{amount:,.0f}" if symbol == "¥" else f"{symbol}{amount:,.2f}"
    return f"{amount:,.2f} {currency}".rstrip() if currency else f"{amount:,.2f}"


def amounts_text(totals: dict[str, float]) -> str:
    """Several currencies side by side, never added: `$120.00 + €45.50`; `nothing` when there is none
    (no currency is assumed for an empty total)."""
    if not totals:
        return "nothing"
    return " + ".join(amount_text(amount, currency) for currency, amount in totals.items())
