"""A-to-z Guarantee claim and chargeback notification e-mails: recognising them and recording the claim.

Amazon lists claims in no report or API (formats.md), but it e-mails the seller when a buyer files one,
when a chargeback arrives and when either is decided. The mailbox sync reads those e-mails so a claim's
response clock starts without the seller typing it in. What is recognised, deliberately narrowly (a
false claim would count against the seller's Order Defect Rate on screen):

- the sender is an Amazon address (`…@amazon.com`, `…@amazon.co.uk`, `…@amazon.de`, or a subdomain of
  one), but not a buyer's alias at `marketplace.amazon.*`: those are buyer messages (`app.importers.mail`);
- the subject names the claim: "A-to-z Guarantee claim" (also written A-to-Z, A to z, AtoZ, with or
  without "Guarantee") or "chargeback", as in "A-to-z Guarantee Claim filed for Order 111-…",
  "Action required: A-to-z Guarantee claim for order # 111-…", "Chargeback Notification: Order 111-…";
- an order id (`123-1234567-1234567`) in the subject or, failing that, the body.

The subject alone decides what happened, because the bodies of filing notices mention every outcome
("if you do not respond within 48 hours the claim will be granted"): "granted" is a decision for the
buyer, "denied" / "not granted" / "declined" / "in your favor" one for the seller, "withdrawn" /
"cancelled" / "closed by the buyer" a withdrawal; anything else is a claim being filed or pursued
(status open). The e-mail's date is the day filed or decided, in the marketplace time zone.

Each notice applies once (its Message-ID is remembered), so the same e-mail seen again changes nothing
and a decision mail fetched a second time cannot undo a status the seller set by hand since.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from app.importers.mail import ORDER_ID
from app.timeutil import local_day

A_TO_Z, CHARGEBACK = "a-to-z", "chargeback"
OPEN, GRANTED, DENIED, WITHDRAWN = "open", "granted", "denied", "withdrawn"
# Mail tells no reason; the claims template requires one, and "other" is valid for both types.
UNKNOWN_REASON = "other"

AMAZON_SENDER = re.compile(r"@(?:[a-z0-9-]+\.)*amazon\.[a-z]{2,3}(?:\.[a-z]{2})?$", re.IGNORECASE)
BUYER_ALIAS_DOMAIN = re.compile(r"@marketplace\.amazon\.", re.IGNORECASE)
A_TO_Z_SUBJECT = re.compile(r"\ba\s*-?\s*to\s*-?\s*z\b(?:\s+guarantee)?\s+claims?\b", re.IGNORECASE)
CHARGEBACK_SUBJECT = re.compile(r"\bcharge\s*-?\s*backs?\b", re.IGNORECASE)
DENIED_WORDS = re.compile(r"\b(?:denied|not\s+granted|declined|rejected|in\s+your\s+favou?r)\b", re.IGNORECASE)
GRANTED_WORDS = re.compile(r"\bgranted\b", re.IGNORECASE)
WITHDRAWN_WORDS = re.compile(r"\b(?:withdrawn|withdrew|cancell?ed|closed\s+by\s+the\s+(?:buyer|customer))\b", re.I)


@dataclass(frozen=True)
class ClaimNotice:
    """What one notification e-mail says about one claim."""

    message_id: str
    order_id: str
    type: str  # A_TO_Z | CHARGEBACK
    event: str  # OPEN | GRANTED | DENIED | WITHDRAWN
    received_at: int


def read_claim_notice(mail: EmailMessage) -> ClaimNotice | None:
    """The claim an Amazon notification e-mail is about, or None for any other e-mail."""
    senders = [address for _, address in getaddresses([str(v) for v in mail.get_all("from", [])]) if address]
    if not senders or not AMAZON_SENDER.search(senders[0]) or BUYER_ALIAS_DOMAIN.search(senders[0]):
        return None
    subject = " ".join(str(mail.get("subject") or "").split())
    if A_TO_Z_SUBJECT.search(subject):
        kind = A_TO_Z
    elif CHARGEBACK_SUBJECT.search(subject):
        kind = CHARGEBACK
    else:
        return None
    order = ORDER_ID.search(subject) or ORDER_ID.search(_plain_text(mail))
    received = _received_at(mail)
    message_id = str(mail.get("message-id") or "").strip().strip("<>")
    if not order or received is None or not message_id:
        return None
    return ClaimNotice(message_id, order.group(0), kind, _event(subject), received)


def _event(subject: str) -> str:
    if DENIED_WORDS.search(subject):  # before "granted": "not granted" is a denial
        return DENIED
    if WITHDRAWN_WORDS.search(subject):
        return WITHDRAWN
    if GRANTED_WORDS.search(subject):
        return GRANTED
    return OPEN


def _plain_text(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def _received_at(mail: EmailMessage) -> int | None:
    try:
        moment = parsedate_to_datetime(str(mail.get("date") or ""))
    except (TypeError, ValueError):
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


def apply_claim_notice(db: sqlite_utils.Database, notice: ClaimNotice, zone: ZoneInfo) -> bool:
    """Create or update the claim; True when a claim row was added or changed. Call inside a transaction.

    A filing notice adds the claim (open, filed that day) unless it is already known, whatever its status:
    the seller's claims file or a later decision knows better. A decision sets the status and the day
    decided; a withdrawal after a grant becomes `withdrawn-after-grant` (the claims template's status for
    it). A decision for a claim never seen filed adds it, filed and decided that day.
    """
    seen = db.execute("SELECT 1 FROM mail_claim_notices WHERE message_id = ?", [notice.message_id]).fetchone()
    if seen:
        return False
    db.execute(
        "INSERT INTO mail_claim_notices (message_id, order_id, type, event, received_at) VALUES (?, ?, ?, ?, ?)",
        [notice.message_id, notice.order_id, notice.type, notice.event, notice.received_at],
    )
    day = local_day(notice.received_at, zone).isoformat()
    key = [notice.order_id, notice.type]
    row = db.execute("SELECT status FROM claims WHERE order_id = ? AND type = ?", key).fetchone()
    if notice.event == OPEN:
        if row is not None:
            return False
        db.execute(
            "INSERT INTO claims (order_id, type, filed_on, status, reason) VALUES (?, ?, ?, 'open', ?)",
            [*key, day, UNKNOWN_REASON],
        )
        return True
    status = notice.event
    if row is None:
        db.execute(
            "INSERT INTO claims (order_id, type, filed_on, status, reason, decided_on) VALUES (?, ?, ?, ?, ?, ?)",
            [*key, day, status, UNKNOWN_REASON, day],
        )
        return True
    current = row[0]
    if status == WITHDRAWN and current in (GRANTED, "withdrawn-after-grant"):
        status = "withdrawn-after-grant"
    if status == current:
        return False
    # Dated like every decision: the claim counted (and its clock ran) until the day the e-mail says it ended.
    db.execute("UPDATE claims SET status = ?, decided_on = ? WHERE order_id = ? AND type = ?", [status, day, *key])
    return True
