"""Buyer-message notification e-mails and the seller's replies (`.mbox` exports and single `.eml` files).

Amazon offers no report or API for incoming buyer messages; it e-mails each one from an anonymised
alias (`name+token@marketplace.amazon.com`). The seller answers to the alias (`name@marketplace...`),
so the part before `+` is what ties a reply to the messages it answers; it is the only buyer identifier
kept. Mail that is neither a notification nor a reply to an alias is skipped and never stored.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import BinaryIO

from app.importers.common import Parsed, Rejection

LABEL = "buyer-message e-mails"
MARKETPLACE_ADDRESS = re.compile(r"^(?P<alias>[^@+\s]+)(?:\+[^@\s]*)?@marketplace\.amazon\.[a-z.]+$", re.IGNORECASE)
ORDER_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
SUBJECT = re.compile(
    r"^(?:(?:re|aw|fw|fwd)\s*:\s*)*(?P<topic>.*?)\s+(?:inquiry\s+)?from\s+amazon\s+customer\b", re.IGNORECASE
)
BEGIN_MARKER = re.compile(r"-{5,}\s*begin message\s*-{5,}", re.IGNORECASE)
END_MARKER = re.compile(r"-{5,}\s*end message\s*-{5,}", re.IGNORECASE)
TOKEN = re.compile(r"\[commMgrTok:([A-Za-z0-9]+)\]")
CSBA_SUBJECT = re.compile(r"customer service by amazon", re.IGNORECASE)
HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")


def recognises(prefix: bytes) -> bool:
    """An mbox (`From ` separator line) or a single e-mail (a block of RFC 822 headers with From:)."""
    text = prefix.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"From "):
        return True
    head = text.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = head.splitlines()
    if not lines or not HEADER_LINE.match(lines[0]):
        return False
    names = {line.split(b":", 1)[0].strip().lower() for line in lines if HEADER_LINE.match(line)}
    return b"from" in names and (b"date" in names or b"subject" in names)


def split_mailbox(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Each e-mail of an mbox (or the single e-mail of an .eml) with the line it starts on."""
    current: list[bytes] = []
    start, previous_blank = 1, True
    for number, line in enumerate(stream, start=1):
        if line.startswith(b"From ") and previous_blank:
            if any(part.strip() for part in current):
                yield start, b"".join(current)
            current, start = [], number + 1
            previous_blank = False
            continue
        if line.startswith(b">From "):
            line = line[1:]
        current.append(line)
        previous_blank = not line.strip()
    if any(part.strip() for part in current):
        yield start, b"".join(current)


def parse(stream: BinaryIO) -> Parsed:
    """Messages as `(message, None)`, replies as `(None, reply)`, other mail as `(None, None)`."""
    for line, raw in split_mailbox(stream):
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        try:
            yield line, read_mail(mail, raw)
        except ValueError as error:
            yield line, Rejection(line, str(error))


def read_mail(mail: EmailMessage, raw: bytes) -> tuple:
    senders = _addresses(mail, "from")
    sender_alias = _alias(senders[0]) if senders else None
    if sender_alias:
        return _buyer_message(mail, raw, sender_alias), None
    recipients = _addresses(mail, "to") + _addresses(mail, "cc")
    aliases = [alias for alias in map(_alias, recipients) if alias]
    if aliases:
        return None, _reply(mail, raw, aliases[0])
    return None, None


def _addresses(mail: EmailMessage, header: str) -> list[str]:
    values = [str(value) for value in mail.get_all(header, [])]
    return [address for _, address in getaddresses(values) if address]


def _alias(address: str) -> str | None:
    match = MARKETPLACE_ADDRESS.match(address.strip())
    return match.group("alias").lower() if match else None


def _sent_at(mail: EmailMessage) -> int:
    value = mail.get("date")
    if not value:
        raise ValueError("e-mail without a Date header")
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"e-mail Date '{value}' cannot be read") from None
    if moment.tzinfo is None:
        raise ValueError(f"e-mail Date '{value}' has no time zone")
    return int(moment.timestamp())


def _message_id(mail: EmailMessage, raw: bytes, fallback: str | None = None) -> str:
    value = str(mail.get("message-id") or "").strip().strip("<>")
    return value or fallback or "sha256:" + hashlib.sha256(raw).hexdigest()


def _text(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def _between_markers(text: str) -> str:
    begin = BEGIN_MARKER.search(text)
    if not begin:
        return text.strip()
    end = END_MARKER.search(text, begin.end())
    return text[begin.end() : end.start() if end else len(text)].strip()


def _order_id(*texts: str) -> str | None:
    for text in texts:
        match = ORDER_ID.search(text or "")
        if match:
            return match.group(0)
    return None


def _buyer_message(mail: EmailMessage, raw: bytes, alias: str) -> tuple:
    subject = str(mail.get("subject") or "").strip()
    text = _text(mail)
    token = TOKEN.search(text)
    match = SUBJECT.match(subject)
    topic = match.group("topic").strip() if match else subject
    kind = "csba" if CSBA_SUBJECT.search(subject) else "buyer"
    return (
        _message_id(mail, raw, token.group(1) if token else None),
        alias,
        _order_id(subject, text),
        _sent_at(mail),
        kind,
        topic or None,
        subject,
        _between_markers(text),
    )


def is_automatic(mail: EmailMessage) -> bool:
    """An automatic acknowledgement: it does not stop a reply clock (RFC 3834 and common auto-responders)."""
    auto_submitted = str(mail.get("auto-submitted") or "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if mail.get("x-autoreply") or mail.get("x-autorespond") or mail.get("x-autogenerated"):
        return True
    precedence = str(mail.get("precedence") or "").strip().lower()
    return precedence in ("auto_reply", "auto-reply")


def _reply(mail: EmailMessage, raw: bytes, alias: str) -> tuple:
    subject = str(mail.get("subject") or "")
    return (_message_id(mail, raw), alias, _order_id(subject), _sent_at(mail), int(is_automatic(mail)))
