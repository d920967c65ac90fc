"""Monday triage (pure): every defect and contact new since the last completed triage, categorised, each
with the clock it is on, its effect on ODR, the seller's pre-approved resolution path and, for feedback,
whether Amazon would remove it.

What is listed (metrics.md, "Escalation matrix" and "Feedback removal eligibility"):

- feedback of 1–3 stars (1–2 are ODR defects; 3 is neutral and only needs an answer);
- A-to-z claims and chargebacks, whatever their status (the ODR effect says whether they count);
- seller-fulfilled return requests still pending or rejected;
- buyer messages (and Customer Service by Amazon inquiries) still open, inside their 24 h or past them,
  or answered after 24 h; messages Amazon answers under CSBA are not the seller's and are left out;
- FBA customer returns whose reason says the product failed. Amazon's customer reason codes are read
  without their marketplace prefixes (`CR-`, `AMZ-PG-`): DEFECTIVE, QUALITY_UNACCEPTABLE,
  NOT_AS_DESCRIBED, MISSING_PARTS, NOT_COMPATIBLE, PART_NOT_COMPATIBLE and the JEWELRY_ quality codes
  (BAD_CLASP, LOOSE_STONE, TARNISHED, BATTERY, NO_CERTS, NO_DOCS) are product defects; DAMAGED_BY_FC and
  DAMAGED_BY_CARRIER are damage in Amazon's hands (a delivery issue: check packaging, claim
  reimbursement); any other code naming a defect, quality or damage counts too. Buyer's-remorse codes
  (UNWANTED_ITEM, ORDERED_WRONG_ITEM, FOUND_BETTER_PRICE, APPAREL_TOO_SMALL ..., NO_REASON_GIVEN) and
  delivery failures Amazon handles alone (NEVER_ARRIVED, UNDELIVERABLE_*) are not listed;
- every change of a metric's status the app recorded (`app.alerts.status_history`).

**Nothing is lost.** Every triage, the first included, lists every item still *open*, whatever its
age: a clock still running or overdue (a buyer waiting for a reply, a pending return request, an
unanswered claim or chargeback, an appeal or removal window still open), a claim Amazon has not decided,
a feedback that can still be removed. A week with nothing new but ten overdue clocks is not an empty
triage. Items a completed triage showed and the seller did not resolve are *carried over*, listed again
with the instant they were first shown, until they are resolved.

**New** means dated on or after the window's first day: the local day the last triage was completed
(or, the first time, the 7 days ending today; or a day the seller gives). Records dated before that
day but never shown in a completed triage are listed too when they are at most
`LATE_ARRIVAL_DAYS` older (reports arrive late: an FBA return shows up weeks after the refund). An item
resolved before the last completed triage is settled and not listed again. An item the seller resolved
in the current session stays on the list, marked resolved, even if it no longer qualifies (the message
was answered since), until the session is completed; an item reopened comes back on the list (up to
`KEEP_REACH_DAYS` old) until it is resolved again and a triage completed.

**One deadline per item**: its clock's due time, or, for an item on no clock, the matrix's response time
counted from the event. The matrix's response time is not shown as a second deadline beside a clock.

Every item has a stable `key` (`feedback:{order_id}`, `claim:{order_id}:{type}`, `message:{id}`,
`return:{return_id}`, `fba_return:{return_key}`, `status:{metric}:{instant}`) so resolutions and
category overrides attach to it across recomputations.

**Categories** (overridable per item): delivery issue, product defect, return request, general
inquiry, negative feedback, A-to-z claim, chargeback, and one more for metric status changes, which
are neither contacts nor defects. Claims and chargebacks are their own categories (the claim reason
picks the matrix case: an A-to-z claim excluded as an FBA fulfilment failure gets "ask Amazon to
exclude it"); FBM return requests are return requests; FBA returns are product defects or, for damage
in Amazon's hands, delivery issues; messages go by topic (Order delivery and Ship faster: delivery;
Return policy: return request; Product details and pre-order questions: general inquiry) unless the
body says more (a broken item is a product defect whatever the topic); 1–2 star feedback is negative
feedback, and 3 star feedback goes by what its comment is about.

**Escalation matrix**: per category (and the two cases above) the action, who does it, the response
time in hours and the refund or replacement amount pre-approved without asking: the order's item value
(the sum of its items' prices) unless the seller set a fixed amount. The defaults follow metrics.md;
the seller's edits are stored over them, so improved defaults still reach categories never edited.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

from app import guidelines, money, removal, reply_templates, rules
from app.clocks import (
    A_TO_Z_APPEAL,
    BUYER_REPLY,
    CSBA_INQUIRY,
    FBA_REIMBURSEMENT_CLAIM,
    FEEDBACK_REMOVAL,
    KIND_LABELS,
    RETURN_RESPONSE,
    SAFET_FILING,
    Clock,
)
from app.model import FBA, Claim, Feedback, Order, ReturnRequest
from app.reasons import reason_in_sentence
from app.settings import Settings
from app.summary import METRIC_NAMES, STATUS_WORDS, percent
from app.timeutil import CLEAR_OF_MIDNIGHT_S, DAY_S, HOUR_S, day_start, local_day, on_or_after_day, to_iso

FIRST_WINDOW_DAYS = 7
MESSAGE_CLOCKS = (BUYER_REPLY, CSBA_INQUIRY)
RETURN_CLOCKS = (RETURN_RESPONSE,)
LATE_ARRIVAL_DAYS = 30
KEEP_REACH_DAYS = 90

# --- Kinds and categories ---------------------------------------------------------------------------------------

FEEDBACK = "feedback"
A_TO_Z_CLAIM = "a_to_z_claim"
CHARGEBACK = "chargeback"
RETURN_REQUEST = "return_request"
MESSAGE = "message"
FBA_RETURN = "fba_return"
STATUS_CHANGE = "status_change"
REPLY = "reply"
FBA_REIMBURSEMENT = "fba_reimbursement"
SAFET_CLAIM = "safet_claim"
# A SAFE-T claim already filed: the matrix row says how to file one; these say what is left to do.
SAFET_FILED_ACTION = (
    "Amazon is deciding the claim you filed: answer any question in the SAFE-T Communication Center within 3 "
    "business days; nothing else is due until it decides."
)
SAFET_DECIDED_ACTION = (
    "Amazon has decided the claim: check the reimbursement in your payments report, then mark this resolved. "
    "A claim refused in error can be appealed in the SAFE-T Communication Center."
)
# Items whose matrix path pre-approves no refund: the order is named only to open its timeline.
NOTHING_TO_REFUND = frozenset({REPLY, FBA_REIMBURSEMENT, SAFET_CLAIM})
KIND_NAMES = {
    FEEDBACK: "Feedback",
    A_TO_Z_CLAIM: "A-to-z claim",
    CHARGEBACK: "Chargeback",
    RETURN_REQUEST: "Return request",
    MESSAGE: "Buyer message",
    FBA_RETURN: "FBA customer return",
    STATUS_CHANGE: "Metric status",
    REPLY: "Your reply",
    FBA_REIMBURSEMENT: "FBA reimbursement",
    SAFET_CLAIM: "SAFE-T claim",
}

DELIVERY_ISSUE = "delivery_issue"
PRODUCT_DEFECT = "product_defect"
GENERAL_INQUIRY = "general_inquiry"
NEGATIVE_FEEDBACK = "negative_feedback"
METRIC_STATUS = "metric_status"
GUIDELINE_BREACH = "guideline_breach"
CATEGORIES = {
    DELIVERY_ISSUE: "Delivery issue",
    PRODUCT_DEFECT: "Product defect",
    RETURN_REQUEST: "Return request",
    GENERAL_INQUIRY: "General inquiry",
    NEGATIVE_FEEDBACK: "Negative feedback",
    A_TO_Z_CLAIM: "A-to-z claim",
    CHARGEBACK: "Chargeback",
    METRIC_STATUS: "Metric status change",
    GUIDELINE_BREACH: "Reply broke a guideline",
    FBA_REIMBURSEMENT: "FBA reimbursement claim",
    SAFET_CLAIM: "SAFE-T claim",
}

# Matrix rows whose own items never carry a refund (a metric, the seller's reply, money Amazon owes): the
# matrix shows no pre-approved amount for them.
NO_REFUND_CATEGORIES = frozenset({METRIC_STATUS, GUIDELINE_BREACH, FBA_REIMBURSEMENT, SAFET_CLAIM})

# Matrix cases: a category's default path, and the two situations metrics.md singles out.
DEFAULT_CASE = ""
FBA_FULFILMENT_CASE = "fba_fulfilment"
REMOVABLE_CASE = "removable"
CASES = {
    (A_TO_Z_CLAIM, FBA_FULFILMENT_CASE): "on an FBA order for a fulfilment reason",
    (NEGATIVE_FEEDBACK, REMOVABLE_CASE): "when a removal ground applies",
}

# --- Escalation matrix ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatrixEntry:
    """One row of the escalation matrix. `amount` None: the order's item value is pre-approved."""

    category: str
    case: str
    action: str
    who: str
    response_hours: float
    amount: float | None = None
    customised: bool = False
    template: str = ""

    @property
    def label(self) -> str:
        name = CATEGORIES[self.category]
        return f"{name} ({CASES[(self.category, self.case)]})" if self.case else name

    def to_json(self) -> dict:
        return {
            "category": self.category,
            "case": self.case or None,
            "label": self.label,
            "action": self.action,
            "who": self.who,
            "response_hours": self.response_hours,
            "amount": self.amount,
            "amount_basis": "item_value" if self.amount is None else "fixed",
            "customised": self.customised,
            "template": self.template,
        }


OWNER, SERVICE = "Account owner", "Customer service"
DEFAULT_MATRIX = (
    MatrixEntry(
        DELIVERY_ISSUE,
        DEFAULT_CASE,
        "Check the tracking and tell the buyer where the parcel is; if it is lost or well past its delivery "
        "estimate, send a replacement or refund. On an FBA order, Amazon handles delivery: point the buyer to "
        "Amazon and, for damage in Amazon's hands, claim reimbursement.",
        SERVICE,
        24,
    ),
    MatrixEntry(
        PRODUCT_DEFECT,
        DEFAULT_CASE,
        "Apologise and offer a replacement or a refund without waiting for the item to come back; log the "
        "defect against the SKU so the supplier can be asked about it.",
        SERVICE,
        24,
    ),
    MatrixEntry(
        RETURN_REQUEST,
        DEFAULT_CASE,
        "Authorise the return (or refund without a return) within 48 hours; reject only with a policy reason, "
        "since a late or wrongly closed request counts toward the Return Dissatisfaction Rate.",
        SERVICE,
        48,
    ),
    MatrixEntry(
        GENERAL_INQUIRY,
        DEFAULT_CASE,
        "Answer the buyer's question through Buyer-Seller Messaging within 24 hours.",
        SERVICE,
        24,
    ),
    MatrixEntry(
        NEGATIVE_FEEDBACK,
        DEFAULT_CASE,
        "Contact the buyer through Buyer-Seller Messaging with a fix (replacement or refund). Never ask for the "
        "feedback to be removed or changed, and offer nothing in exchange for it.",
        OWNER,
        48,
    ),
    MatrixEntry(
        NEGATIVE_FEEDBACK,
        REMOVABLE_CASE,
        "Request removal in Feedback Manager, citing the ground, before the removal window closes; if the "
        "buyer had a real problem, still contact them with a fix (without mentioning the feedback).",
        OWNER,
        72,
    ),
    MatrixEntry(
        A_TO_Z_CLAIM,
        DEFAULT_CASE,
        "Respond on the A-to-z Guarantee claims page with tracking, proof of delivery and your messages with "
        "the buyer; if delivery cannot be proven, refund before Amazon decides.",
        OWNER,
        48,
    ),
    MatrixEntry(
        A_TO_Z_CLAIM,
        FBA_FULFILMENT_CASE,
        "Fulfilled by Amazon and about delivery: ask Amazon (Seller Support) to exclude the claim from your "
        "Order Defect Rate; Amazon is responsible for FBA fulfilment.",
        OWNER,
        72,
    ),
    MatrixEntry(
        CHARGEBACK,
        DEFAULT_CASE,
        "Respond to the chargeback in Seller Central with the tracking number and proof of delivery within 7 days.",
        OWNER,
        168,
    ),
    MatrixEntry(
        METRIC_STATUS,
        DEFAULT_CASE,
        "Open the dashboard, find the defects or late replies behind the change and work those items first.",
        OWNER,
        24,
    ),
    MatrixEntry(
        GUIDELINE_BREACH,
        DEFAULT_CASE,
        "Read the flagged phrase and stop using it: Amazon suspends sellers whose messages carry links, "
        "marketing, contact details off Amazon, or ask for (or pay for) reviews and feedback. Fix the template "
        "or the habit it came from.",
        OWNER,
        168,
    ),
    MatrixEntry(
        FBA_REIMBURSEMENT,
        DEFAULT_CASE,
        "Open a reimbursement case in Seller Central (Help > Get support > Fulfilment by Amazon > Customer "
        "returns) with the order ID and the return's license plate number before the claim window closes.",
        OWNER,
        168,
    ),
    MatrixEntry(
        SAFET_CLAIM,
        DEFAULT_CASE,
        "File a SAFE-T claim in Seller Central (Orders > Manage SAFE-T claims) with photos of the returned item "
        "or the carrier's tracking showing it never came back, before the claim window closes.",
        OWNER,
        168,
    ),
)
# Each row's reply template: the text pasted into Seller Central (`app.reply_templates`).
DEFAULT_MATRIX = tuple(
    replace(entry, template=reply_templates.default_template(entry.category, entry.case)) for entry in DEFAULT_MATRIX
)
MAX_RESPONSE_HOURS = 24 * 90
MAX_TEXT = 2000


def default_matrix() -> dict[tuple[str, str], MatrixEntry]:
    return {(entry.category, entry.case): entry for entry in DEFAULT_MATRIX}


def check_matrix_entry(
    category: str,
    case: str | None,
    action: str,
    who: str,
    response_hours: float,
    amount: float | None,
    template: str | None = None,
) -> MatrixEntry:
    """The entry as it will be stored, or ValueError saying what is wrong. `template` None or empty: the
    row's shipped template."""
    case = case or DEFAULT_CASE
    if category not in CATEGORIES:
        raise ValueError(f"'{category}' is not a category ({', '.join(CATEGORIES)})")
    if (category, case) not in default_matrix():
        raise ValueError(f"'{case}' is not a case of {CATEGORIES[category]}")
    action, who = (action or "").strip(), (who or "").strip()
    if not action:
        raise ValueError("say what action to take")
    if not who:
        raise ValueError("say who takes the action")
    if len(action) > MAX_TEXT or len(who) > 200:
        raise ValueError("the action or who is too long")
    hours = _number(response_hours, "response time")
    if not 0 < hours <= MAX_RESPONSE_HOURS:
        raise ValueError(f"the response time must be more than 0 and at most {MAX_RESPONSE_HOURS} hours")
    if amount is not None:
        amount = _number(amount, "amount")
        if amount < 0:
            raise ValueError("the pre-approved amount cannot be negative")
        amount = round(amount, 2)
    template = reply_templates.check_template(template or "") or default_matrix()[(category, case)].template
    return MatrixEntry(category, case, action, who, hours, amount, customised=True, template=template)


def _number(value, what: str) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"the {what} '{value}' is not a number")
    return int(number) if number == int(number) else number


# --- Categorisation ---------------------------------------------------------------------------------------------

_DEFECT_TEXT = re.compile(
    r"\b(?:broken|broke|defect(?:ive)?|faulty|chipped|cracked|damaged|shattered|not working|doesn'?t work"
    r"|does not work|stopped working|won'?t (?:turn on|work|charge|switch on)|dead on arrival|malfunction\w*"
    r"|leak(?:s|ing)?|torn|ripped|missing (?:parts|pieces|screws)|flicker\w*)\b",
    re.IGNORECASE,
)
_DELIVERY_TEXT = re.compile(
    r"\b(?:where is|where's|not (?:yet )?(?:arrived|received|delivered)|hasn'?t (?:arrived|come)|didn'?t (?:arrive"
    r"|come)|never (?:arrived|came|received)|tracking|deliver\w*|shipping|shipped|ship|dispatch\w*|late|lost"
    r"|parcel|package|when will)\b",
    re.IGNORECASE,
)
_RETURN_TEXT = re.compile(r"\b(?:return\w*|refund\w*|exchange|send (?:it )?back)\b", re.IGNORECASE)
_TOPICS = (
    (re.compile(r"deliver|ship|where|track", re.IGNORECASE), DELIVERY_ISSUE),
    (re.compile(r"return|refund|exchange", re.IGNORECASE), RETURN_REQUEST),
    (re.compile(r"product|detail|question|custom|invoice|pre-?order", re.IGNORECASE), GENERAL_INQUIRY),
)
PRODUCT_DEFECT_REASONS = {
    "DEFECTIVE",
    "QUALITY_UNACCEPTABLE",
    "NOT_AS_DESCRIBED",
    "MISSING_PARTS",
    "NOT_COMPATIBLE",
    "PART_NOT_COMPATIBLE",
    "JEWELRY_BAD_CLASP",
    "JEWELRY_LOOSE_STONE",
    "JEWELRY_TARNISHED",
    "JEWELRY_BATTERY",
    "JEWELRY_NO_CERTS",
    "JEWELRY_NO_DOCS",
}
DAMAGE_REASONS = {"DAMAGED_BY_FC", "DAMAGED_BY_CARRIER"}
_DEFECT_CODE = re.compile(r"DEFECT|QUALITY|DAMAGE|BROKEN")


def reason_code(reason: str | None) -> str:
    """`CR-DEFECTIVE`, `amz-pg-bad-desc` -> `DEFECTIVE`, `BAD_DESC` (Amazon's code without its prefix)."""
    code = (reason or "").strip().upper().replace("-", "_")
    for prefix in ("CR_", "AMZ_PG_"):
        if code.startswith(prefix):
            code = code[len(prefix) :]
    return code


def fba_return_category(reason: str | None) -> str | None:
    """The category of an FBA customer return, or None when its reason is not a product-quality signal."""
    code = reason_code(reason)
    if code in DAMAGE_REASONS:
        return DELIVERY_ISSUE
    if code in PRODUCT_DEFECT_REASONS or _DEFECT_CODE.search(code):
        return PRODUCT_DEFECT
    return None


# Its regular expressions, run on every message at every recomputation: each distinct text is read once.
@lru_cache(maxsize=1 << 16)
def message_category(topic: str | None, subject: str | None, body: str | None, has_order: bool = True) -> str:
    """A buyer message's category: from its topic, unless its text says more. A question asked before
    buying (no order) is a general inquiry whatever it asks: nothing was shipped or broke yet."""
    if not has_order:
        return GENERAL_INQUIRY
    text = body or ""
    if _DEFECT_TEXT.search(text):
        return PRODUCT_DEFECT
    heading = topic or subject or ""
    by_topic = next((category for pattern, category in _TOPICS if pattern.search(heading)), None)
    if by_topic in (DELIVERY_ISSUE, RETURN_REQUEST):
        return by_topic
    if _DELIVERY_TEXT.search(text):
        return DELIVERY_ISSUE
    if _RETURN_TEXT.search(text):
        return RETURN_REQUEST
    return GENERAL_INQUIRY


def feedback_category(rating: int, comments: str | None, product_names: list[str] | tuple = ()) -> str:
    """1–2 stars: negative feedback. 3 stars: what the comment complains about."""
    if rating <= 2:
        return NEGATIVE_FEEDBACK
    about = removal.topics(comments, product_names)
    if "delivery" in about:
        return DELIVERY_ISSUE
    if "product" in about:
        return PRODUCT_DEFECT
    return NEGATIVE_FEEDBACK


# --- Inputs and items -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FbaReturn:
    return_key: str
    order_id: str
    returned_at: int
    sku: str | None = None
    product_name: str | None = None
    reason: str | None = None
    disposition: str | None = None
    customer_comments: str | None = None


@dataclass(frozen=True)
class FlaggedReply:
    """A reply of the seller's that broke a Communication Guideline (`breaches`: [{"rule", "phrase"}])."""

    message_id: str
    order_id: str | None
    sent_at: int
    breaches: tuple[dict, ...]


@dataclass(frozen=True)
class StatusChange:
    at: int
    metric: str
    old_status: str | None
    new_status: str
    rate: float | None = None


@dataclass(frozen=True)
class Resolution:
    """The seller's record that an item was dealt with (kept for good: the order's history)."""

    key: str
    action: str
    note: str
    resolved_at: int
    order_id: str | None = None
    kind: str | None = None
    ended_at: int | None = None
    ended_by: str | None = None  # "reopened" | "superseded"

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "action": self.action,
            "note": self.note,
            "resolved_at": to_iso(self.resolved_at),
            "order_id": self.order_id,
            "kind": self.kind,
            "ended_at": to_iso(self.ended_at) if self.ended_at is not None else None,
            "ended_by": self.ended_by,
        }


@dataclass(frozen=True)
class RecordIndex:
    """One kind of record by id and in the order of its instants (or days), so the list goes over only the
    records it may list: those on a clock, those the seller works on or had carried over, and the recent ones.
    With years of history these are a fraction of the records read. An index serves only the very list it
    was made from (`records`); there is none when two records share an id."""

    records: list
    by_id: dict
    keys: list  # each record's instant or day, ascending
    ordered: list  # the records in that order
    id_of: Callable = field(repr=False, compare=False)
    key_of: Callable = field(repr=False, compare=False)

    @classmethod
    def of(cls, records: list, id_of: Callable, key_of: Callable) -> RecordIndex | None:
        by_id = {id_of(record): record for record in records}
        if len(by_id) < len(records):
            return None
        ordered = sorted(records, key=key_of)
        return cls(records, by_id, [key_of(record) for record in ordered], ordered, id_of, key_of)

    def serves(self, records: list) -> bool:
        return self.records is records

    def from_key(self, key) -> list:
        """The records whose instant or day is `key` or later."""
        return self.ordered[bisect_left(self.keys, key) :]

    def replaced(self, records: list, removed: list, added: list) -> RecordIndex | None:
        """The index of `records`: this one's records less `removed`, with `added`."""
        by_id, keys, ordered = dict(self.by_id), list(self.keys), list(self.ordered)
        for record in removed:
            del by_id[self.id_of(record)]
            at = bisect_left(keys, self.key_of(record))
            while ordered[at] is not record:
                at += 1
            del keys[at], ordered[at]
        for record in added:
            if by_id.setdefault(self.id_of(record), record) is not record:
                return None
            key = self.key_of(record)
            at = bisect_left(keys, key)
            keys.insert(at, key)
            ordered.insert(at, record)
        return replace(self, records=records, by_id=by_id, keys=keys, ordered=ordered)


def contact_index(contacts: list[rules.Contact]) -> RecordIndex | None:
    return RecordIndex.of(contacts, attrgetter("message.message_id"), attrgetter("message.received_at"))


def feedback_index(feedback: list[Feedback]) -> RecordIndex | None:
    return RecordIndex.of(feedback, attrgetter("order_id"), attrgetter("day"))


def return_index(returns: list[ReturnRequest]) -> RecordIndex | None:
    return RecordIndex.of(returns, attrgetter("return_id"), attrgetter("request_day"))


class ItemMemo:
    """The items a list built, for the next list made from the same records (`_Builder.item`): `context`,
    the zone and the escalation matrix they were built with; `items`, key -> (what the item was built
    from, the item)."""

    def __init__(self):
        self.context: tuple | None = None
        self.items: dict[str, tuple[tuple, TriageItem]] = {}


@dataclass
class TriageInputs:
    """Everything the list is computed from, read from the database by `app.triage_inputs`."""

    feedback: list[Feedback] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    returns: list[ReturnRequest] = field(default_factory=list)
    contacts: list[rules.Contact] = field(default_factory=list)
    fba_returns: list[FbaReturn] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    orders: dict[str, Order] = field(default_factory=dict)
    item_values: dict[str, tuple[float, str | None]] = field(default_factory=dict)
    product_names: dict[str, list[str]] = field(default_factory=dict)
    clocks: list[Clock] = field(default_factory=list)
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    matrix: dict[tuple[str, str], MatrixEntry] = field(default_factory=default_matrix)
    order_claims: list[Claim] = field(default_factory=list)  # all claims on the orders of listed feedback
    fba_claims: list[money.FbaClaim] = field(default_factory=list)  # FBA returns Amazon may owe money for
    safet_returns: list[money.SafetReturn] = field(default_factory=list)  # refunded FBM returns, SAFE-T claims
    flagged_replies: list[FlaggedReply] = field(default_factory=list)
    # Order ID -> the buyer's first name, from `contacts` (None: found from them when the list is made).
    buyer_names: dict[str, str] | None = None
    # The feedback's, the contacts' and the return requests' indexes (None: every record is gone over).
    feedback_index: RecordIndex | None = None
    contact_index: RecordIndex | None = None
    return_index: RecordIndex | None = None
    # The items the last list made from these records built (None: every item is built).
    items_built: ItemMemo | None = None


@dataclass(frozen=True)
class Suggestion:
    action: str
    who: str
    response_hours: float
    respond_by: int
    amount: float | None
    currency: str | None
    amount_basis: str  # "item_value" | "fixed" | "none"
    template: str = ""  # the category's reply template, filled in when the seller copies the reply
    product: str | None = None
    buyer_first_name: str | None = None  # from Amazon's notification subject, when the order has a message


@dataclass(frozen=True)
class TriageItem:
    key: str
    kind: str
    order_id: str | None
    channel: str | None
    at: int  # the event's instant (local midnight of its day for records that carry only a date)
    day: date
    what: str
    category: str
    derived_category: str
    odr_effect: str
    affects: tuple[str, ...]
    suggestion: Suggestion
    clock: Clock | None = None
    removal: dict | None = None
    resolution: Resolution | None = None
    details: dict = field(default_factory=dict)
    still_open: bool = False  # on a running clock, an undecided claim, a removable feedback
    carried_since: int | None = None  # when a completed triage first showed it, unresolved since
    clock_note: str | None = None  # why a resolution left the item's clock running, or the defect counting
    waiting: str | None = None  # who the item waits on when nothing is due from the seller ("Amazon deciding")
    marketplace: str | None = None  # named only when the seller sells in more than one marketplace

    @property
    def resolved(self) -> bool:
        return self.resolution is not None

    @property
    def reason_code(self) -> str | None:
        """The report's reason code behind the words of `what` (a claim, a return), None without one."""
        return self.details.get("reason") or None

    @property
    def due_at(self) -> int:
        """The item's one deadline: its clock's, else the matrix's response time from the event."""
        return self.clock.due_at if self.clock is not None else self.suggestion.respond_by

    @property
    def deadline_source(self) -> str:
        return "clock" if self.clock is not None else "matrix"

    def passed(self, reference: float) -> bool:
        return self.waiting is None and self.due_at <= reference

    def carried_days(self, as_of: date, zone: ZoneInfo) -> int | None:
        """Whole days since a completed triage first showed the item (None: not carried over)."""
        if self.carried_since is None:
            return None
        return max(0, (as_of - local_day(self.carried_since, zone)).days)

    def deadline_json(self, reference: float) -> dict:
        return {
            "due_at": to_iso(self.due_at),
            "remaining_s": float(self.due_at - reference),
            "passed": self.passed(reference),
            "source": self.deadline_source,
            **({"waiting": self.waiting} if self.waiting else {}),
        }

    @property
    def status(self) -> str:
        return "resolved" if self.resolved else "open"

    def clock_json(self, reference: float) -> dict | None:
        if self.clock is None:
            return None
        return {
            "kind": self.clock.kind,
            "label": KIND_LABELS.get(self.clock.kind, self.clock.kind),
            "due_at": to_iso(self.clock.due_at),
            "remaining_s": self.clock.remaining_s(reference),
        }

    def to_json(self, reference: float) -> dict:
        """The item as the command line and the exports give it; clocks counted from `reference`."""
        s = self.suggestion
        return {
            "key": self.key,
            "kind": self.kind,
            "order_id": self.order_id,
            "channel": self.channel,
            "date": self.day.isoformat(),
            "at": to_iso(self.at),
            "what_happened": self.what,
            "category": self.category,
            "category_label": CATEGORIES[self.category],
            "category_source": "seller" if self.category != self.derived_category else "derived",
            "derived_category": self.derived_category,
            "clock": self.clock_json(reference),
            "odr_effect": self.odr_effect,
            "affects": list(self.affects),
            "suggested_action": s.action,
            "who": s.who,
            "response_hours": s.response_hours,
            "respond_by": to_iso(s.respond_by),
            "preapproved_amount": s.amount,
            "currency": s.currency,
            "amount_basis": s.amount_basis,
            "deadline": self.deadline_json(reference),
            "removal": self.removal,
            "status": self.status,
            "still_open": self.still_open,
            "carried_since": to_iso(self.carried_since) if self.carried_since is not None else None,
            "resolution": self.resolution.to_json() if self.resolution else None,
            "clock_note": self.clock_note,
            **({"details": self.details} if self.details else {}),
            **({"marketplace": self.marketplace} if self.marketplace else {}),
        }


@dataclass(frozen=True)
class TriageList:
    """The triage list and its session: what the triage view shows."""

    at: float
    as_of: date
    window_start: date
    window_end: date
    window_reason: str  # "first" | "since_last" | "given"
    last_completed_at: int | None
    session_number: int
    timezone: str
    items: list[TriageItem]

    @property
    def open_items(self) -> list[TriageItem]:
        return [item for item in self.items if not item.resolved]

    @property
    def counts(self) -> dict:
        return {
            "total": len(self.items),
            "open": len(self.open_items),
            "resolved": len(self.items) - len(self.open_items),
            "overdue": sum(1 for i in self.open_items if i.passed(self.at)),
            "carried": sum(1 for i in self.open_items if i.carried_since is not None),
            "removable": sum(1 for i in self.items if i.removal and i.removal["eligible"]),
            "by_category": dict(Counter(item.category for item in self.items)),
            "by_kind": dict(Counter(item.kind for item in self.items)),
        }

    def session_json(self) -> dict:
        return {
            "number": self.session_number,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "window_reason": self.window_reason,
            "last_completed_at": to_iso(self.last_completed_at) if self.last_completed_at is not None else None,
        }

    def carried_days(self, item: TriageItem) -> int | None:
        return item.carried_days(self.as_of, ZoneInfo(self.timezone))

    def to_json(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "at": to_iso(self.at),
            "timezone": self.timezone,
            "session": self.session_json(),
            "counts": self.counts,
            "items": [item.to_json(self.at) | {"carried_days": self.carried_days(item)} for item in self.items],
        }


def triage_window(
    as_of: date, zone: ZoneInfo, last_completed_at: int | None, since: date | None = None
) -> tuple[date, date, str]:
    """The first and last day of the list and why it starts there."""
    if since is not None:
        return since, as_of, "given"
    if last_completed_at is None:
        return as_of - timedelta(days=FIRST_WINDOW_DAYS - 1), as_of, "first"
    return local_day(last_completed_at, zone), as_of, "since_last"


def triage_items(
    inputs: TriageInputs,
    at: float,
    settings: Settings,
    first_day: date,
    last_day: date,
    *,
    seen: frozenset[str] | set[str] = frozenset(),
    keep: frozenset[str] | set[str] = frozenset(),
    late_from: date | None = None,
    shown: dict[str, int] | None = None,
) -> list[TriageItem]:
    """Every item still open whatever its date, every item carried over, and every item dated
    `first_day`..`last_day` (local days), most urgent first.

    Args:
        inputs: the records (read by `app.triage_inputs.load_triage_inputs`).
        at: the reference instant: nothing after it exists; clocks count down from it.
        settings: the seller's settings (zone, marketplace, feedback removal window).
        first_day, last_day: the window, in the marketplace time zone.
        seen: keys a completed triage already showed: not listed again as new.
        keep: keys resolved in the current session or reopened since the last completed triage: listed
            whatever their date and even when they no longer qualify (the seller is working on them).
        late_from: records dated from this day up to `first_day` are listed too if not `seen`
            (they arrived after the triage that covered their day).
        shown: key -> the instant a completed triage first showed it; such an item not resolved since
            is carried over, whatever its date.
    """
    shown = shown or {}
    listing = _Listing(first_day, late_from, seen, keep, shown)
    builder = _Builder(inputs, at, settings, load_from(first_day, late_from, keep), last_day, listing)
    candidates = builder.feedback() + builder.claims() + builder.returns() + builder.messages()
    candidates += builder.fba_returns() + builder.status_changes()
    candidates += builder.replies() + builder.fba_reimbursements() + builder.safet_claims()
    builder.keep_built()
    listed = []
    for item, qualifies in candidates:
        if item.at > at:
            continue
        carried = item.key in shown and not item.resolved
        note = clock_note(item)
        if carried or note is not None:  # both are None as built: a copy only for the few that differ
            item = replace(item, carried_since=shown[item.key] if carried else None, clock_note=note)
        if listing.lists(item.key, item.day, item.resolved, item.still_open, qualifies):
            listed.append(item)
    return sorted(listed, key=_urgency)


def load_from(first_day: date, late_from: date | None, keep: frozenset[str] | set[str]) -> date:
    """The first day whose records the list needs: late arrivals reach back `LATE_ARRIVAL_DAYS`, and items
    the seller is working on (resolved this session, or reopened) up to `KEEP_REACH_DAYS`."""
    earliest = first_day if late_from is None else min(late_from, first_day)
    return earliest - timedelta(days=KEEP_REACH_DAYS) if keep else earliest


def _urgency(item: TriageItem) -> tuple:
    due = item.clock.due_at if item.clock else math.inf
    return (due, item.at, item.key)


# Why a resolution cannot close a clock: these end on Amazon's side or on a record the seller files there.
_CLOCK_STAYS = {
    A_TO_Z_APPEAL: "the appeal window stays open until it closes or you record an appeal filed in Seller Central",
    FEEDBACK_REMOVAL: "the removal window stays open until a removal request or the removal is recorded",
}


def clock_note(item: TriageItem) -> str | None:
    """For a resolved item: why its clock is still running, or why its defect still counts."""
    if not item.resolved:
        return None
    if item.clock is not None:
        why = _CLOCK_STAYS.get(item.clock.kind, "the record still shows it unanswered")
        return f"Resolved, but “{item.clock.label}” is still running: {why}."
    if item.kind == FEEDBACK and item.odr_effect.startswith("counts"):
        return (
            "Resolved, but the feedback is still on the record and counts toward ODR and NFR until Amazon removes "
            "it or the buyer changes it; do not ask for removal without a removal ground."
        )
    if item.kind == A_TO_Z_CLAIM and item.details.get("status") == "open":
        return "Resolved and answered, but Amazon has not decided the claim yet: it counts until then."
    return None


@dataclass(frozen=True)
class _Listing:
    """What `triage_items` lists an item by, besides the item itself (see its arguments)."""

    first_day: date
    late_from: date | None
    seen: frozenset[str] | set[str]
    keep: frozenset[str] | set[str]
    shown: dict[str, int]

    def lists(self, key: str, day: date, resolved: bool, still_open: bool, qualifies: bool) -> bool:
        """Whether an item of these facts (not after `at`) is listed: the seller works on it (kept), it is
        still open or carried over, or it is new and qualifies."""
        decided = self.decided(key, resolved, still_open)
        if decided is not None:
            return decided
        return qualifies and day >= self.recent_from and key not in self.seen

    def decided(self, key: str, resolved: bool, still_open: bool) -> bool | None:
        """`lists` where its day does not matter (None: it does)."""
        if key in self.keep:
            return True
        if resolved:
            return False  # settled in a completed triage: the resolution says what became of its clock
        if key in self.shown or still_open:  # shown and not resolved: carried over
            return True
        return None

    @property
    def recent_from(self) -> date:
        """The first day of a new item: the window's, or the late arrivals' first day when earlier."""
        return self.first_day if self.late_from is None else min(self.first_day, self.late_from)


class _Builder:
    """Builds the items of each kind, each with whether it qualifies on its own merits (a message answered
    on time does not, but stays listed while the seller's resolution of it is in the current session)."""

    def __init__(self, inputs: TriageInputs, at: float, settings: Settings, first: date, last: date, listing: _Listing):
        self.listing = listing
        self.inputs = inputs
        self.at = at
        self.settings = settings
        self.zone = settings.zone
        self.first = first
        self.last = last
        self.as_of = rules.first_day_ending_at_or_after(at, self.zone)
        # The same bounds with their instants: most records carry one, and converting each to its day is slow.
        self.after_window = min(last, self.as_of) + timedelta(days=1)
        self.after_window_start = day_start(self.after_window, self.zone)
        self.recent_from_start = day_start(listing.recent_from, self.zone)
        self._day_starts: dict[date, int] = {}
        self.clocks: dict[tuple[str, str], list[Clock]] = {}
        self.clocked: dict[str, list[str]] = {}  # kind -> the ids of the items on a clock of that kind
        for clock in inputs.clocks:
            self.clocks.setdefault((clock.kind, clock.item_id), []).append(clock)
            self.clocked.setdefault(clock.kind, []).append(clock.item_id)
        self.buyer_names = inputs.buyer_names
        if self.buyer_names is None:
            self.buyer_names = reply_templates.buyer_first_names(contact.message for contact in inputs.contacts)
        memo = inputs.items_built
        same_context = memo is not None and memo.context == (self.zone, inputs.matrix)
        self.built_before = memo.items if same_context else {}
        self.built: dict[str, tuple[tuple, TriageItem]] = {}

    def keep_built(self) -> None:
        """Leaves the items built for the next list from the same records."""
        memo = self.inputs.items_built
        if memo is not None:
            memo.context, memo.items = (self.zone, self.inputs.matrix), self.built

    def in_window(self, day: date) -> bool:
        # No lower bound: the records were read from the earliest day the list needs, and what is older
        # than the window is listed only when still open or carried over (`triage_items`).
        return day <= self.last and day <= self.as_of

    def day_start(self, day: date) -> int:
        """`timeutil.day_start`, once per day: years of records share a few hundred days."""
        found = self._day_starts.get(day)
        if found is None:
            found = self._day_starts[day] = day_start(day, self.zone)
        return found

    def in_window_at(self, instant: int) -> bool:
        """`in_window` of the instant's local day."""
        return not on_or_after_day(instant, self.after_window, self.after_window_start, self.zone)

    def recent_at(self, instant: int) -> bool:
        """Whether the instant's local day is one of new items' (`_Listing.recent_from` on)."""
        return on_or_after_day(instant, self.listing.recent_from, self.recent_from_start, self.zone)

    def listed(self, key: str, at: int, still_open: bool, qualifies: bool = True) -> bool:
        """Whether `triage_items` will list the item: the many records it drops (with years of history, most
        of those read are neither open nor new) are not built at all. Only for items built as `item` makes
        them, nothing changed after."""
        if at > self.at:
            return False
        decided = self.listing.decided(key, key in self.inputs.resolutions, still_open)
        if decided is not None:
            return decided
        return qualifies and self.recent_at(at) and key not in self.listing.seen

    def candidates(self, records: list, index: RecordIndex | None, prefix: str, kinds: tuple[str, ...], recent) -> list:
        """The records whose items `listed` may list, in any order (the list is sorted after): those on a clock
        of `kinds`, those kept or shown (their key is `prefix` and the id), those dated `recent` or later;
        every record when there is no index of them. `recent` must be no later than the first instant or day
        `recent_at` takes: what is left out is neither kept, shown nor on a clock, and older than new items."""
        if index is None or not index.serves(records):
            return records
        by_id = index.by_id
        ids = [item_id for kind in kinds for item_id in self.clocked.get(kind, ())]
        ids += [key[len(prefix) :] for key in (*self.listing.keep, *self.listing.shown) if key.startswith(prefix)]
        found = {id(record): record for record in index.from_key(recent)}
        found.update((id(by_id[item_id]), by_id[item_id]) for item_id in ids if item_id in by_id)
        return list(found.values())

    def clock(self, kinds: tuple[str, ...], item_id: str) -> Clock | None:
        soonest = None
        for kind in kinds:
            for clock in self.clocks.get((kind, item_id), ()):
                if soonest is None or clock.due_at < soonest.due_at:
                    soonest = clock
        return soonest

    def channel(self, order_id: str | None) -> str | None:
        order = self.inputs.orders.get(order_id) if order_id else None
        return order.channel if order else None

    def item(
        self,
        key: str,
        kind: str,
        order_id: str | None,
        at: int,
        what: str,
        derived: str,
        odr_effect: str,
        affects: tuple[str, ...],
        clock: Clock | None = None,
        removal_info: dict | None = None,
        case: str = DEFAULT_CASE,
        qualifies: bool = True,
        details: dict | None = None,
        still_open: bool = False,
    ) -> tuple[TriageItem, bool]:
        """The item of these facts, with whether it qualifies on its own merits: the one the last list built
        when every fact, and everything looked up for it, is the same (ten thousand open clocks are mostly the
        same items a mark later)."""
        inputs = self.inputs
        looked_up = (
            inputs.overrides.get(key),
            inputs.resolutions.get(key),
            inputs.item_values.get(order_id),
            inputs.product_names.get(order_id),
            self.buyer_names.get(order_id),
            inputs.orders.get(order_id),
        )
        facts = (kind, order_id, at, what, derived, odr_effect, affects, clock, removal_info, case, details, still_open)
        made = (facts, looked_up)
        before = self.built_before.get(key)
        item = before[1] if before is not None and before[0] == made else self._new_item(key, facts)
        self.built[key] = (made, item)
        return item, qualifies

    def _new_item(self, key: str, facts: tuple) -> TriageItem:
        kind, order_id, at, what, derived, odr_effect, affects, clock, removal_info, case, details, still_open = facts
        category = self.inputs.overrides.get(key, derived)
        if category not in CATEGORIES:
            category = derived
        # A special case belongs to its category: an item the seller re-categorised gets the new one's path.
        entry = self.inputs.matrix.get((category, case)) or self.inputs.matrix[(category, DEFAULT_CASE)]
        value = self.inputs.item_values.get(order_id) if order_id else None
        if order_id is None or kind in NOTHING_TO_REFUND:
            # Nothing was bought (a question before buying, a metric), or the item is about the seller's own
            # reply or money Amazon owes: there is nothing to refund the buyer.
            amount, currency, basis = None, None, "none"
        elif entry.amount is not None:
            amount, currency, basis = entry.amount, value[1] if value else None, "fixed"
        elif value is not None:
            amount, currency, basis = round(value[0], 2), value[1], "item_value"
        else:
            amount, currency, basis = None, None, "none"
        suggestion = Suggestion(
            entry.action,
            entry.who,
            entry.response_hours,
            at + int(entry.response_hours * HOUR_S),
            amount,
            currency,
            basis,
            entry.template,
            reply_templates.short_product(self.inputs.product_names.get(order_id)) if order_id else None,
            self.buyer_names.get(order_id) if order_id else None,
        )
        return TriageItem(
            key=key,
            kind=kind,
            order_id=order_id,
            channel=self.channel(order_id),
            at=at,
            day=local_day(at, self.zone),
            what=what,
            category=category,
            derived_category=derived,
            odr_effect=odr_effect,
            affects=affects,
            suggestion=suggestion,
            clock=clock,
            removal=removal_info,
            resolution=self.inputs.resolutions.get(key),
            details=details or {},
            still_open=still_open or clock is not None,
        )

    # --- feedback ---

    def feedback(self) -> list[tuple[TriageItem, bool]]:
        items = []
        removal_days = timedelta(days=int(self.settings.feedback_removal_days))
        # Feedback still in its removal window may be listed whatever its age and state.
        recent = min(self.listing.recent_from - timedelta(days=2), self.as_of - removal_days)
        for fb in self.candidates(self.inputs.feedback, self.inputs.feedback_index, "feedback:", (), recent):
            if fb.rating > 3 or not self.in_window(fb.day):
                continue
            closes = fb.day + removal_days
            gone = self._feedback_gone(fb)
            removable = self.as_of < closes and gone is None  # given a removal ground
            key, at = f"feedback:{fb.order_id}", self.day_start(fb.day)
            if not removable and not self.listed(key, at, False):
                continue  # decided without looking for a removal ground, slow on years of feedback
            names = self.inputs.product_names.get(fb.order_id, [])
            channel = self.channel(fb.order_id)
            ground = removal.removal_ground(fb.comments, channel, names, self.settings.marketplace)
            info = {"eligible": ground is not None and removable, "ground": ground, "window_closes": closes.isoformat()}
            clock = self.clock(("feedback_removal",), fb.order_id) if info["eligible"] else None
            if removable and not self.listed(key, at, info["eligible"] or clock is not None):
                continue
            if fb.negative:
                effect = f"excluded: {gone}" if gone else "counts"
                other = self._other_defect(fb.order_id)
                if not gone and other:
                    effect = f"counts (order also has {other})"
                elif not gone and info["eligible"]:
                    struck = ground == removal.FBA_FULFILLMENT
                    effect = "would drop out if struck through" if struck else "would drop out if removed"
                effect = self._order_effect(fb.order_id, effect)
                affects = ("ODR", "NFR")
            else:
                effect, affects = "not an ODR defect", ()
            stars = f"{fb.rating}-star" + (" negative" if fb.negative else " neutral")
            comment = (fb.comments or "").strip()
            what = f"Buyer left {stars} feedback" + (f": “{_clip(comment)}”" if comment else " with no comment.")
            items.append(
                self.item(
                    f"feedback:{fb.order_id}",
                    FEEDBACK,
                    fb.order_id,
                    at,
                    what,
                    # A removal ground makes any feedback the negative-feedback category's (removal) path.
                    NEGATIVE_FEEDBACK if info["eligible"] else feedback_category(fb.rating, fb.comments, names),
                    effect,
                    affects,
                    clock,
                    info,
                    REMOVABLE_CASE if info["eligible"] else DEFAULT_CASE,
                    details={"rating": fb.rating, "comments": fb.comments},
                    still_open=info["eligible"],
                )
            )
        return items

    def _feedback_gone(self, fb: Feedback) -> str | None:
        start, until, excluded = rules.visible_interval(fb)
        if start is None:
            return "struck through" if "struck" in (excluded or "") else "removed"
        if until is not None and until <= self.as_of:
            return "struck through" if fb.removal_status == "struck_through" else "removed"
        return None

    def _other_defect(self, order_id: str) -> str | None:
        """An A-to-z claim or chargeback that makes the order defective as of today besides its feedback."""
        order = self.inputs.orders.get(order_id)
        for claim in self.inputs.order_claims:
            if claim.order_id == order_id and rules.claim_event(claim, order).counts_on(self.as_of):
                return "an A-to-z claim" if claim.type == "a-to-z" else "a chargeback"
        return None

    def _order_effect(self, order_id: str, effect: str) -> str:
        order = self.inputs.orders.get(order_id)
        if order is not None and not order.countable:
            return "not an ODR defect"
        return effect

    # --- claims and chargebacks ---

    def claims(self) -> list[tuple[TriageItem, bool]]:
        items = []
        for claim in self.inputs.claims:
            if not self.in_window(claim.filed_on):
                continue
            is_claim = claim.type == "a-to-z"
            key, at = f"claim:{claim.order_id}:{claim.type}", self.day_start(claim.filed_on)
            clock_kinds = ("a_to_z_response", "a_to_z_appeal") if is_claim else ("chargeback_response",)
            clock = self.clock(clock_kinds, f"{claim.order_id}/{claim.type}")
            status = _claim_status(claim, self.as_of)
            if not self.listed(key, at, status == "open" or clock is not None):
                continue
            order = self.inputs.orders.get(claim.order_id)
            event = rules.claim_event(claim, order)
            effect = self._order_effect(claim.order_id, _claim_effect(event, claim, self.as_of))
            kind = A_TO_Z_CLAIM if is_claim else CHARGEBACK
            fba_failure = (
                is_claim
                and order is not None
                and order.channel == FBA
                and claim.reason in rules.FBA_FULFILLMENT_REASONS
            )
            money = f", {claim.amount:.2f}" if claim.amount is not None else ""
            name = "A-to-z claim" if is_claim else "Chargeback"
            why = reason_in_sentence(claim.reason)
            reason = f" ({why})" if why else ""
            what = f"{name} filed{reason}{money}; {status}."
            items.append(
                self.item(
                    key,
                    kind,
                    claim.order_id,
                    at,
                    what,
                    kind,
                    effect,
                    ("ODR",),
                    clock,
                    case=FBA_FULFILMENT_CASE if fba_failure else DEFAULT_CASE,
                    details={"status": claim.status, "reason": claim.reason, "amount": claim.amount},
                    still_open=status == "open",
                )
            )
        return items

    # --- seller-fulfilled return requests ---

    def returns(self) -> list[tuple[TriageItem, bool]]:
        items = []
        recent = self.listing.recent_from - timedelta(days=2)  # a day's midnight may fall in the next (Samoa)
        requests = self.candidates(self.inputs.returns, self.inputs.return_index, "return:", RETURN_CLOCKS, recent)
        for request in requests:
            if not self.in_window(request.request_day):
                continue
            status = request.status.strip()
            pending = request.pending and (request.responded_at is None or request.responded_at > self.at)
            rejected = status.lower().startswith("rejected")
            key, at = f"return:{request.return_id}", self.day_start(request.request_day)
            clock = self.clock(RETURN_CLOCKS, request.return_id) if pending else None
            if not self.listed(key, at, clock is not None, pending or rejected):
                continue
            why = reason_in_sentence(request.reason)
            reason = f" ({why})" if why else ""
            state = "still waiting for your answer" if pending else f"{status.lower()}"
            items.append(
                self.item(
                    key,
                    RETURN_REQUEST,
                    request.order_id,
                    at,
                    f"Return request{reason}: {state}.",
                    RETURN_REQUEST,
                    "not an ODR defect",
                    ("RDR",),
                    clock,
                    qualifies=pending or rejected,
                    details={"status": status, "reason": request.reason, "return_id": request.return_id},
                )
            )
        return items

    # --- buyer messages ---

    def messages(self) -> list[tuple[TriageItem, bool]]:
        items = []
        recent = self.recent_from_start - CLEAR_OF_MIDNIGHT_S
        contacts = self.candidates(self.inputs.contacts, self.inputs.contact_index, "message:", MESSAGE_CLOCKS, recent)
        for contact in contacts:
            message = contact.message
            if contact.excluded or message.received_at > self.at or not self.in_window_at(message.received_at):
                continue
            is_open = contact.open_at(self.at)
            clock = self.clock(MESSAGE_CLOCKS, message.message_id) if is_open else None
            key = f"message:{message.message_id}"
            # Whether it was answered late matters to the list only for a recent message: most are not.
            late_and_new = self.recent_at(message.received_at) and contact.status_at(self.at) == "late"
            if not self.listed(key, message.received_at, clock is not None, is_open or late_and_new):
                continue
            late = contact.status_at(self.at) == "late"
            who = "Customer Service by Amazon" if message.kind == "csba" else "Buyer"
            about = message.topic or "a question"
            if is_open:
                left = contact.due_at - self.at
                state = f"no reply yet, {_span(left)} left" if left >= 0 else f"no reply, overdue by {_span(-left)}"
            elif contact.answered_at is not None and contact.answered_at <= self.at:
                state = f"answered after {_span(contact.answered_at - contact.received_at)}"
                state += " (late)" if late else ""
            else:
                state = "closed without a reply"
            body = (message.body or "").strip()
            text = f" “{_clip(body)}”" if body else ""
            items.append(
                self.item(
                    key,
                    MESSAGE,
                    message.order_id,
                    message.received_at,
                    f"{who} message about {about}:{text} — {state}.",
                    message_category(message.topic, message.subject, message.body, bool(message.order_id)),
                    "not an ODR defect",
                    ("LRR",),
                    clock,
                    qualifies=is_open or late,
                    details={"message_id": message.message_id, "topic": message.topic},
                )
            )
        return items

    # --- FBA customer returns ---

    def fba_returns(self) -> list[tuple[TriageItem, bool]]:
        items = []
        for returned in self.inputs.fba_returns:
            category = fba_return_category(returned.reason)
            if category is None or not self.in_window_at(returned.returned_at):
                continue
            comment = (returned.customer_comments or "").strip()
            product = returned.product_name or returned.sku or "an item"
            what = f"Amazon took back {product} ({reason_in_sentence(returned.reason)})"
            what += f": “{_clip(comment)}”." if comment else "."
            items.append(
                self.item(
                    f"fba_return:{returned.return_key}",
                    FBA_RETURN,
                    returned.order_id,
                    returned.returned_at,
                    what,
                    category,
                    "not an ODR defect",
                    (),
                    details={"reason": returned.reason, "sku": returned.sku, "disposition": returned.disposition},
                )
            )
        return items

    # --- the seller's replies that broke a Communication Guideline ---

    def replies(self) -> list[tuple[TriageItem, bool]]:
        items = []
        for reply in self.inputs.flagged_replies:
            if not self.in_window_at(reply.sent_at):
                continue
            rules_broken = {breach["rule"] for breach in reply.breaches}
            broke = "a guideline" if len(rules_broken) == 1 else f"{len(rules_broken)} guidelines"
            found = "; ".join(f"{guidelines.RULES[b['rule']]} — “{b['phrase']}”" for b in reply.breaches)
            items.append(
                self.item(
                    f"reply:{reply.message_id}",
                    REPLY,
                    reply.order_id,
                    reply.sent_at,
                    f"Your reply broke {broke}: {found}.",
                    GUIDELINE_BREACH,
                    "not an ODR defect",
                    (),
                    details={"message_id": reply.message_id, "breaches": list(reply.breaches)},
                )
            )
        return items

    # --- money Amazon owes back: FBA reimbursements ---

    def fba_reimbursements(self) -> list[tuple[TriageItem, bool]]:
        items = []
        for claim in self.inputs.fba_claims:
            if not self.in_window_at(claim.returned_at):
                continue
            closes = claim.window_closes(self.settings)
            stake = money.amount_text(claim.amount, claim.currency) or "the item's price (import its order)"
            product = claim.product_name or claim.sku or "an item"
            opens, last_day = claim.window_opens(self.settings), claim.last_day(self.settings)
            what = (
                f"Amazon took back {product} {claim.ground}: {stake} claimable from {opens:%d %b %Y} until "
                f"{last_day:%d %b %Y}."
            )
            if self.as_of < opens:
                # Amazon refuses the claim sooner, and resolving the item now would stop its reminder.
                what += " Amazon refuses it sooner: keep this open until you have filed it."
            item, qualifies = self.item(
                claim.key,
                FBA_REIMBURSEMENT,
                claim.order_id,
                claim.returned_at,
                what,
                FBA_REIMBURSEMENT,
                "not an ODR defect",
                (),
                self.clock((FBA_REIMBURSEMENT_CLAIM,), claim.return_key),
                qualifies=closes > self.at,
                # Listed every week until filed or closed, like the money line counts it: nothing is lost.
                still_open=closes > self.at,
                details={
                    "amount": claim.amount,
                    "currency": claim.currency,
                    "window_opens": opens.isoformat(),
                    "window_closes": last_day.isoformat(),
                    "ground": claim.ground,
                    "disposition": claim.disposition,
                    "reason": claim.reason,
                    "status": claim.status,
                    "sku": claim.sku,
                    "quantity": claim.quantity,
                },
            )
            if item.clock is None:
                # Before its clock starts, the item's deadline is the claim's, not a response time that
                # would call for filing now; until Amazon accepts the claim, nothing is due.
                item = replace(item, suggestion=replace(item.suggestion, respond_by=closes))
                if self.as_of < opens:
                    item = replace(item, waiting=f"claimable from {opens:%d %b}")
            items.append((_about_returned(item, claim.product_name), qualifies))
        return items

    # --- money Amazon owes back: SAFE-T claims on seller-fulfilled returns ---

    def safet_claims(self) -> list[tuple[TriageItem, bool]]:
        items = []
        for request in self.inputs.safet_returns:
            if not self.in_window(request.request_day):
                continue
            if request.claim_id:
                item, qualifies = self._safet_claim(request)
                items.append((_about_returned(item, request.item_name), qualifies))
                continue
            why = request.why_to_file(self.as_of)
            if why is None:
                continue
            closes = request.window_closes(self.settings)
            last_day = local_day(closes - 1, self.zone)
            refund = money.amount_text(request.refunded, request.currency)
            product = request.item_name or request.sku or "an item"
            what = f"Amazon refunded {refund} for {product} and {why}: file a SAFE-T claim by {last_day:%d %b %Y}."
            item, qualifies = self.item(
                request.key,
                SAFET_CLAIM,
                request.order_id,
                self.day_start(request.request_day),
                what,
                SAFET_CLAIM,
                "not an ODR defect",
                (),
                self.clock((SAFET_FILING,), request.return_id),
                qualifies=closes > self.at,
                details=self._safet_details(request) | {"window_closes": last_day.isoformat()},
            )
            items.append((_about_returned(item, request.item_name), qualifies))
        return items

    def _safet_claim(self, request: money.SafetReturn) -> tuple[TriageItem, bool]:
        """A SAFE-T claim the seller filed: open while Amazon decides it, news once decided."""
        state = (request.claim_state or "").strip() or "no state given yet"
        refund = money.amount_text(request.refunded, request.currency)
        what = f"SAFE-T claim {request.claim_id}" + (f" on a refund of {refund}" if refund else "") + f": {state}"
        if money.safet_granted(request.claim_state, request.reimbursed):
            paid = money.amount_text(request.reimbursed, request.currency)
            what += f", {paid} reimbursed" if paid else ""
        awaiting_seller = "awaiting" in state.lower() or "seller response" in state.lower()
        if awaiting_seller:
            what += " (answer Amazon in the SAFE-T Communication Center within 3 business days)"
        day = request.claim_created or request.request_day
        item, qualifies = self.item(
            request.key,
            SAFET_CLAIM,
            request.order_id,
            day_start(day, self.zone),
            what + ".",
            SAFET_CLAIM,
            "not an ODR defect",
            (),
            details=self._safet_details(request),
            still_open=request.claim_open,
        )
        # Filed: the matrix's path (file a claim) is done; nothing is due until Amazon asks or decides.
        action = SAFET_FILED_ACTION if request.claim_open else SAFET_DECIDED_ACTION
        item = replace(item, suggestion=replace(item.suggestion, action=action))
        if not awaiting_seller:
            item = replace(item, waiting="Amazon deciding" if request.claim_open else "decided")
        return item, qualifies

    @staticmethod
    def _safet_details(request: money.SafetReturn) -> dict:
        return {
            "return_id": request.return_id,
            "amount": request.refunded,
            "currency": request.currency,
            "claim_id": request.claim_id,
            "claim_state": request.claim_state,
            "reimbursed": request.reimbursed,
            "safet_reason": request.safet_reason,
            "return_delivery_date": request.delivered_day.isoformat() if request.delivered_day else None,
        }

    # --- metric status changes ---

    def status_changes(self) -> list[tuple[TriageItem, bool]]:
        items = []
        for change in self.inputs.status_changes:
            if change.old_status is None or not self.in_window_at(change.at):
                continue
            name = METRIC_NAMES.get(change.metric, change.metric)
            old = STATUS_WORDS.get(change.old_status, change.old_status)
            new = STATUS_WORDS.get(change.new_status, change.new_status)
            rate = f" ({percent(change.rate)})" if change.rate is not None else ""
            items.append(
                self.item(
                    f"status:{change.metric}:{change.at}",
                    STATUS_CHANGE,
                    None,
                    change.at,
                    f"{name} went from {old} to {new}{rate}.",
                    METRIC_STATUS,
                    "not an ODR defect",
                    (),
                    details={"metric": change.metric, "old_status": change.old_status, "new_status": change.new_status},
                )
            )
        return items


def _about_returned(item: TriageItem, product: str | None) -> TriageItem:
    """A money item's reply names the product that came back, not every product of its order."""
    if not product:
        return item
    return replace(item, suggestion=replace(item.suggestion, product=reply_templates.short_product([product])))


def _claim_effect(event: rules.DefectEvent, claim: Claim, as_of: date) -> str:
    if event.excluded:
        labels = {
            "FBA fulfilment claim (Amazon's responsibility)": "excluded: FBA fulfilment",
            "Buy Shipping protected": "excluded: Buy Shipping",
            "fraud chargeback": "excluded: fraud chargeback",
        }
        return labels.get(event.excluded, f"excluded: {event.excluded}")
    if event.counts_on(as_of):
        return "counts"
    if event.counts_until is not None and event.counts_until <= as_of:
        return f"excluded: {claim.status}"
    return "counts"


def _claim_status(claim: Claim, as_of: date) -> str:
    if claim.status == "open" or (claim.decided_on is not None and claim.decided_on > as_of):
        return "open"
    words = {"withdrawn-after-grant": "withdrawn after it was granted"}
    decided = f" on {claim.decided_on.isoformat()}" if claim.decided_on else ""
    return f"{words.get(claim.status, claim.status)}{decided}"


def _clip(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _span(seconds: float) -> str:
    """`5 h`, `2 d 3 h`, `40 min`."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, DAY_S)
    hours, rest = divmod(rest, HOUR_S)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h"
    return f"{rest // 60} min"


# --- Monday reminder --------------------------------------------------------------------------------------------

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REMINDER_OFF = "off"
_REMINDER = re.compile(r"^\s*([A-Za-z]+)\.?\s+(\d{1,2})[:.h](\d{2})\s*$")


def parse_reminder(setting: str) -> tuple[int, time] | None:
    """`Mon 09:00` -> (0, 09:00); `off` -> None. Raises ValueError for anything else."""
    text = str(setting).strip()
    if text.lower() in (REMINDER_OFF, "none", "never", ""):
        return None
    match = _REMINDER.match(text)
    if not match:
        raise ValueError(f"'{setting}' is not a day and time like Mon 09:00 (or off)")
    name, hour, minute = match.group(1).lower(), int(match.group(2)), int(match.group(3))
    days = [d for d in range(7) if WEEKDAYS[d].lower() == name[:3] and _full_day(d).startswith(name)]
    if len(name) < 3 or not days:
        raise ValueError(f"'{match.group(1)}' is not a day of the week (Mon, Tue, ... Sun)")
    if hour > 23 or minute > 59:
        raise ValueError(f"{hour:02d}:{minute:02d} is not a time of day")
    return days[0], time(hour, minute)


def _full_day(index: int) -> str:
    return ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[index]


def format_reminder(setting: str) -> str:
    """The setting as stored: `Mon 09:00` or `off`."""
    parsed = parse_reminder(setting)
    if parsed is None:
        return REMINDER_OFF
    day, moment = parsed
    return f"{WEEKDAYS[day]} {moment:%H:%M}"


def last_reminder_instant(now: float, zone: ZoneInfo, setting: str) -> tuple[float, float] | None:
    """(the latest reminder instant at or before `now`, the start of its day), or None when off."""
    parsed = parse_reminder(setting)
    if parsed is None:
        return None
    weekday, moment = parsed
    today = datetime.fromtimestamp(now, zone).date()
    day = today - timedelta(days=(today.weekday() - weekday) % 7)
    instant = datetime.combine(day, moment, tzinfo=zone).timestamp()
    if instant > now:
        day -= timedelta(days=7)
        instant = datetime.combine(day, moment, tzinfo=zone).timestamp()
    return instant, float(day_start(day, zone))


def reminder_due(
    now: float,
    zone: ZoneInfo | str,
    setting: str,
    last_completed_at: float | None,
    last_reminded_at: float | None,
) -> bool:
    """Whether the tray should remind the seller of the week's triage now.

    Due once the week's reminder time has passed, while no triage has been completed since the start of
    that day (completing it Monday before 09:00 counts), and only once per week (`last_reminded_at`: when
    the tray last reminded). An app started on Wednesday with the triage still undone reminds then; with
    no reminder recorded at all, the latest reminder time passed is owed.
    """
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    latest = last_reminder_instant(now, zone, setting)
    if latest is None:
        return False
    instant, week_start = latest
    if last_completed_at is not None and last_completed_at >= week_start:
        return False
    return last_reminded_at is None or last_reminded_at < instant
