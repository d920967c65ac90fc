"""An order's history in date order: purchase, buyer messages and replies, feedback, returns, claims and
what the seller recorded doing about them in triage.

What the seller reads before answering a buyer or appealing a claim. Instants are shown in the
marketplace time zone; report dates that carry no time sort at the start of their day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from app.guidelines import RULES
from app.marks import NO_RESPONSE_NEEDED, Mark, reply_mark
from app.reasons import reason_words
from app.timeutil import day_start, parse_day
from storage import triage as triage_store


@dataclass(frozen=True)
class TimelineEvent:
    at: int
    what: str
    detail: str
    has_time: bool = True
    mark: Mark | None = None  # the seller's own mark, which the timeline can take back
    problems: tuple[str, ...] = ()  # what the seller must see in it: each guideline a reply broke

    def when(self, zone: ZoneInfo) -> str:
        moment = datetime.fromtimestamp(self.at, tz=zone)
        return moment.strftime("%a %d %b %Y, %H:%M") if self.has_time else moment.strftime("%a %d %b %Y")


def order_timeline(db: sqlite_utils.Database, order_id: str, zone: ZoneInfo) -> list[TimelineEvent]:
    """Everything stored about one order, oldest first."""

    def on_day(text: str) -> int:
        return day_start(parse_day(text), zone)

    events: list[TimelineEvent] = []
    for row in db.query("SELECT * FROM orders WHERE order_id = ?", [order_id]):
        items = ", ".join(
            f"{item['quantity'] or 1} × {item['product_name'] or item['sku']}"
            for item in db.query("SELECT * FROM order_items WHERE order_id = ?", [order_id])
        )
        events.append(TimelineEvent(row["purchased_at"], f"Ordered ({row['channel']})", items))
        if row["last_updated_at"] != row["purchased_at"]:
            events.append(TimelineEvent(row["last_updated_at"], f"Order status: {row['status']}", ""))
    threads = set()
    for row in db.query("SELECT * FROM messages WHERE order_id = ?", [order_id]):
        threads.add(row["thread_key"])
        kind = "Message from Customer Service by Amazon" if row["kind"] == "csba" else "Buyer message"
        events.append(TimelineEvent(row["received_at"], f"{kind}: {row['topic'] or ''}", row["body"] or ""))
        if row["no_response_needed_at"]:
            mark = Mark(NO_RESPONSE_NEEDED, row["message_id"], row["order_id"], row["no_response_needed_at"])
            events.append(TimelineEvent(mark.at, f"{mark.words} by you", "", mark=mark))
    marks = ", ".join("?" * len(threads))
    replies = db.query(
        f"SELECT * FROM replies WHERE order_id = ? OR (order_id IS NULL AND thread_key IN ({marks}))",
        [order_id, *sorted(threads)],
    )
    for row in replies:
        events.append(_reply_event(row))
    for row in db.query("SELECT * FROM feedback WHERE order_id = ?", [order_id]):
        stars = "★" * row["rating"] + "☆" * (5 - row["rating"])
        events.append(TimelineEvent(on_day(row["feedback_date"]), f"Feedback {stars}", row["comments"] or "", False))
    for row in db.query("SELECT * FROM fbm_returns WHERE order_id = ?", [order_id]):
        detail = " · ".join(filter(None, (reason_words(row["reason"]), f"status {row['status']}")))
        events.append(TimelineEvent(on_day(row["request_date"]), "Return requested", detail, False))
    for row in db.query("SELECT * FROM fba_returns WHERE order_id = ?", [order_id]):
        detail = " · ".join(filter(None, (reason_words(row["reason"]), row["customer_comments"])))
        events.append(TimelineEvent(row["returned_at"], "Returned to Amazon (FBA)", detail))
    for row in db.query("SELECT * FROM claims WHERE order_id = ?", [order_id]):
        name = "A-to-z claim" if row["type"] == "a-to-z" else "Chargeback"
        events.append(TimelineEvent(on_day(row["filed_on"]), f"{name} filed", reason_words(row["reason"]), False))
        if row["decided_on"]:
            events.append(TimelineEvent(on_day(row["decided_on"]), f"{name} {row['status']}", "", False))
    # What the seller recorded doing in triage: the evidence an appeal needs, in its place in time.
    for row in triage_store.resolutions_for_order(db, order_id):
        events.append(TimelineEvent(row["resolved_at"], f"Triage: resolved — {row['action']}", row["note"] or ""))
        if row["ended_by"] == "reopened":
            events.append(TimelineEvent(row["ended_at"], "Triage: reopened", row["action"]))
    return sorted(events, key=lambda event: (event.at, not event.has_time))


def _reply_event(row: dict) -> TimelineEvent:
    """A reply found in the e-mails is evidence; a reply the seller marked is their word, and can be undone."""
    mark = reply_mark(row["message_id"], row["source"], row["order_id"], row["sent_at"])
    if mark is not None:
        return TimelineEvent(mark.at, f"{mark.words} by you", "", mark=mark)
    problems = tuple(breach_sentence(breach) for breach in reply_breaches(row["breaches"]))
    if row["automatic"]:
        return TimelineEvent(row["sent_at"], "Automatic acknowledgement", "", problems=problems)
    recorded_in_triage = row["source"] == "manual"  # a reply of a triage resolution
    what = "Your reply (recorded in triage)" if recorded_in_triage else "Your reply"
    return TimelineEvent(row["sent_at"], what, "", problems=problems)


def reply_breaches(stored: str | None) -> list[dict]:
    """A reply's stored breaches ([] when compliant or never checked: a mark has no text to check)."""
    try:
        found = json.loads(stored) if stored else []
    except ValueError:
        return []
    return [b for b in found if isinstance(b, dict) and b.get("rule") in RULES and isinstance(b.get("phrase"), str)]


def breach_sentence(breach: dict) -> str:
    return f"Your reply broke a guideline: {RULES[breach['rule']]} — “{breach['phrase']}”"
