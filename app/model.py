"""The records the metrics and clocks work on, in the seller's terms (read from the database by app.snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FBA, FBM = "FBA", "FBM"
CHANNELS = (FBA, FBM)


@dataclass(frozen=True)
class Order:
    """An order as the rates see it. `countable` is False for cancelled and non-Amazon orders."""

    order_id: str
    purchase_day: date
    channel: str
    purchased_at: int = 0
    countable: bool = True


@dataclass(frozen=True)
class Feedback:
    order_id: str
    day: date
    rating: int
    comments: str | None = None
    struck_through: bool = False
    removal_status: str | None = None
    removed_on: date | None = None
    removal_requested_on: date | None = None

    @property
    def negative(self) -> bool:
        return self.rating <= 2

    @property
    def positive(self) -> bool:
        return self.rating >= 4


@dataclass(frozen=True)
class Claim:
    """An A-to-z Guarantee claim or a chargeback."""

    order_id: str
    type: str  # "a-to-z" | "chargeback"
    filed_on: date
    status: str  # open | granted | denied | withdrawn | withdrawn-after-grant
    reason: str
    decided_on: date | None = None
    buy_shipping_protected: bool = False
    amount: float | None = None
    responded_at: int | None = None
    appeal_filed_on: date | None = None


@dataclass(frozen=True)
class Message:
    """An inbound buyer message (or an inquiry from Customer Service by Amazon, kind `csba`)."""

    message_id: str
    thread_key: str
    order_id: str | None
    received_at: int
    kind: str = "buyer"
    topic: str | None = None
    subject: str | None = None
    body: str | None = None
    no_response_needed_at: int | None = None


@dataclass(frozen=True)
class Reply:
    thread_key: str
    order_id: str | None
    sent_at: int
    automatic: bool = False


@dataclass(frozen=True)
class ReturnRequest:
    """A seller-fulfilled return request (FBM returns report)."""

    return_id: str
    order_id: str
    request_day: date
    status: str
    reason: str | None = None
    negative_return_feedback: bool = False
    incorrectly_closed: bool = False
    responded_at: int | None = None

    @property
    def pending(self) -> bool:
        return self.status.strip().lower().startswith("pending")


@dataclass(frozen=True)
class CsbaPeriod:
    start: date
    end: date | None = None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)
