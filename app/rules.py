"""Amazon's rules for single records, as metrics.md states them: when a defect counts, whether a contact
was answered on time, whether a return request left the buyer dissatisfied.

Each rule answers for a whole range of `as_of` days at once (the days from which a record counts, and
until which), so the figure for one day and the 180-day series come from the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from app.model import FBA, Claim, CsbaPeriod, Feedback, Message, Order, Reply, ReturnRequest
from app.timeutil import day_start, local_day

REPLY_WINDOW_S = 24 * 3600
RETURN_RESPONSE_S = 48 * 3600
FBA_FULFILLMENT_REASONS = ("not-received", "late-delivery", "damaged-in-transit")
NEGATIVE_FEEDBACK, A_TO_Z_CLAIM, CHARGEBACK = "negative_feedback", "a_to_z_claim", "chargeback"
# Invoice and customisation requests stay the seller's to answer even under CSBA.
NOT_CSBA_TOPICS = re.compile(
    r"invoice|rechnung|factura|facture|fattura|customi[sz]|personali[sz]|engrav", re.IGNORECASE
)


@dataclass(frozen=True)
class DefectEvent:
    """A negative feedback, A-to-z claim or chargeback on an order, and the `as_of` days it counts on.

    It counts for `as_of` days in [counts_from, counts_until) (`counts_until` None: from then on);
    `counts_from` None means it never counts, and `excluded` says why.
    """

    order_id: str
    kind: str
    day: date
    counts_from: date | None
    counts_until: date | None = None
    excluded: str | None = None

    def counts_on(self, as_of: date) -> bool:
        return (
            self.counts_from is not None
            and self.counts_from <= as_of
            and (self.counts_until is None or as_of < self.counts_until)
        )


def feedback_event(feedback: Feedback) -> DefectEvent | None:
    """The ODR defect a feedback is, or None for a 3–5 star rating."""
    if not feedback.negative:
        return None
    start, until, excluded = visible_interval(feedback)
    return DefectEvent(feedback.order_id, NEGATIVE_FEEDBACK, feedback.day, start, until, excluded)


def visible_interval(feedback: Feedback) -> tuple[date | None, date | None, str | None]:
    """The `as_of` days on which a feedback is on the seller's record (removed or struck-through
    feedback leaves it, from the day it was taken off when the seller recorded that day)."""
    if feedback.struck_through:
        return None, None, "struck through by Amazon"
    if feedback.removal_status in ("removed", "struck_through"):
        label = "removed" if feedback.removal_status == "removed" else "struck through"
        if feedback.removed_on is None:
            return None, None, label
        return feedback.day, feedback.removed_on, None if feedback.removed_on > feedback.day else label
    return feedback.day, None, None


def claim_event(claim: Claim, order: Order | None) -> DefectEvent:
    """When an A-to-z claim or chargeback counts as a defect.

    A decision is dated (`decided_on`): before it, the claim was open and counted, so a figure for an
    earlier day does not change when the decision is imported later. A claim withdrawn with no date
    is taken as never having counted.
    """
    kind = A_TO_Z_CLAIM if claim.type == "a-to-z" else CHARGEBACK
    excluded = claim_exclusion(claim, order)
    if excluded:
        return DefectEvent(claim.order_id, kind, claim.filed_on, None, None, excluded)
    if claim.status in ("denied", "withdrawn"):
        if claim.decided_on is None or claim.decided_on <= claim.filed_on:
            return DefectEvent(claim.order_id, kind, claim.filed_on, None, None, claim.status)
        return DefectEvent(claim.order_id, kind, claim.filed_on, claim.filed_on, claim.decided_on)
    return DefectEvent(claim.order_id, kind, claim.filed_on, claim.filed_on)


def claim_exclusion(claim: Claim, order: Order | None) -> str | None:
    """Why Amazon leaves a claim out of ODR whatever its status, or None."""
    if claim.type == "chargeback":
        return "fraud chargeback" if claim.reason == "fraud" else None
    if order is not None and order.channel == FBA and claim.reason in FBA_FULFILLMENT_REASONS:
        return "FBA fulfilment claim (Amazon's responsibility)"
    if claim.reason == "not-received" and claim.buy_shipping_protected:
        return "Buy Shipping protected"
    return None


def first_day_ending_at_or_after(instant: float, zone: ZoneInfo) -> date:
    """The first `as_of` day whose end (next local midnight) is at or after `instant`."""
    day = local_day(instant, zone)
    return day - timedelta(days=1) if day_start(day, zone) == instant else day


def first_day_ending_after(instant: float, zone: ZoneInfo) -> date:
    """The first `as_of` day whose end is strictly after `instant`."""
    return local_day(instant, zone)


def csba_covered(message: Message, order: Order | None, periods: list[CsbaPeriod]) -> bool:
    """Customer Service by Amazon answers this message, so it is off the seller's clock and out of LRR.

    Covered: a buyer's post-order message on a seller-fulfilled order placed while enrolled (orders
    placed before enrolment are not covered; orders placed before an opt-out stay covered), other
    than an invoice or customisation request.
    """
    if message.kind != "buyer" or not message.order_id or order is None or order.channel == FBA:
        return False
    if not any(period.covers(order.purchase_day) for period in periods):
        return False
    text = " ".join(filter(None, (message.topic, message.subject, message.body)))
    return not NOT_CSBA_TOPICS.search(text)


def answers(reply: Reply, message: Message) -> bool:
    """A real reply in the message's thread, sent at or after it; a reply naming another order does not
    answer it (one buyer alias can write about two orders)."""
    return (
        not reply.automatic
        and reply.thread_key == message.thread_key
        and reply.sent_at >= message.received_at
        and (reply.order_id is None or message.order_id is None or reply.order_id == message.order_id)
    )


@dataclass(frozen=True)
class Contact:
    """A buyer message on the seller's clock, with when it was answered (if it was).

    `answered_at`: the first real reply at or after it (a reply answers every earlier unanswered
    contact of its thread; a new message after a reply starts a new clock).
    """

    message: Message
    answered_at: float | None
    excluded: str | None = None

    @property
    def received_at(self) -> int:
        return self.message.received_at

    @property
    def due_at(self) -> int:
        return self.message.received_at + REPLY_WINDOW_S

    def _closed_at(self) -> float | None:
        marks = [t for t in (self.answered_at, self.message.no_response_needed_at) if t is not None]
        return min(marks) if marks else None

    def status_at(self, instant: float) -> str | None:
        """`on_time`, `late`, `pending` at an instant; None when the contact does not count."""
        if self.excluded or self.received_at > instant:
            return None
        if self._no_response_needed_in_time():
            # Marked within its 24 h: out of LRR from the mark on, waiting (pending) before it.
            return None if self.message.no_response_needed_at <= instant else "pending"
        if self.answered_at is not None and self.answered_at <= self.due_at:
            return "on_time" if instant >= self.answered_at else "pending"
        return "late" if instant > self.due_at else "pending"

    def _no_response_needed_in_time(self) -> bool:
        mark = self.message.no_response_needed_at
        return mark is not None and mark <= self.due_at and (self.answered_at is None or mark <= self.answered_at)

    def resolution(self, zone: ZoneInfo) -> tuple[str, date] | None:
        """The final status and the first `as_of` day it holds on (pending before); None if not counted."""
        if self.excluded or self._no_response_needed_in_time():
            return None
        if self.answered_at is not None and self.answered_at <= self.due_at:
            return "on_time", first_day_ending_at_or_after(self.answered_at, zone)
        return "late", first_day_ending_after(self.due_at, zone)

    def open_at(self, instant: float) -> bool:
        """Still waiting for the seller at `instant` (its reply clock is running or overdue)."""
        if self.excluded or self.received_at > instant:
            return False
        closed = self._closed_at()
        return closed is None or closed > instant


def contacts(
    messages: list[Message],
    replies_by_thread: dict[str, list[Reply]],
    orders: dict[str, Order],
    periods: list[CsbaPeriod],
) -> list[Contact]:
    """Every message as a contact, answered by the first real reply of its thread after it."""
    result = []
    for message in messages:
        covered = csba_covered(message, orders.get(message.order_id), periods)
        excluded = "Customer Service by Amazon" if covered else None
        answered = min(
            (r.sent_at for r in replies_by_thread.get(message.thread_key, ()) if answers(r, message)),
            default=None,
        )
        result.append(Contact(message, answered, excluded))
    return result


@dataclass(frozen=True)
class ReturnOutcome:
    """A seller-fulfilled return request and when (if ever) it left the buyer dissatisfied."""

    request: ReturnRequest
    dissatisfied_from: date | None
    reason: str | None


def return_outcome(request: ReturnRequest, zone: ZoneInfo) -> ReturnOutcome:
    """RDR's rule: negative return feedback, no response within 48 h, or wrongly rejected.

    The 48 h run from the start of the request day (the report gives only a date).
    """
    start = day_start(request.request_day, zone)
    deadline = start + RETURN_RESPONSE_S
    if request.negative_return_feedback:
        return ReturnOutcome(request, request.request_day, "negative return feedback")
    if request.incorrectly_closed and request.status.lower().startswith("rejected"):
        return ReturnOutcome(request, request.request_day, "rejected and incorrectly closed")
    if request.responded_at is not None:
        if request.responded_at > deadline:
            return ReturnOutcome(request, first_day_ending_after(deadline, zone), "responded after 48 h")
        return ReturnOutcome(request, None, None)
    if request.pending:
        return ReturnOutcome(request, first_day_ending_after(deadline, zone), "no response within 48 h")
    return ReturnOutcome(request, None, None)


def return_deadline(request: ReturnRequest, zone: ZoneInfo) -> int:
    return day_start(request.request_day, zone) + RETURN_RESPONSE_S
