"""Which Amazon e-mails are claim notifications, and what each does to the claims table (no server needed;
tests/test_mailsync.py reads them from a real mailbox)."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.claim_mail import ClaimNotice, apply_claim_notice, read_claim_notice

UTC = ZoneInfo("UTC")
AT = int(datetime(2026, 11, 8, 7, 30, tzinfo=UTC).timestamp())  # the e-mails' Date, 23:30 the day before in LA


def mail(subject: str, sender: str = "atoz-guarantee-no-reply@amazon.com", body: str = "", message_id: str = "m1@x"):
    raw = (
        f"From: Amazon <{sender}>\nTo: seller@example.com\nSubject: {subject}\n"
        f"Date: Sat, 07 Nov 2026 23:30:00 -0800\nMessage-ID: <{message_id}>\n\n{body}\n"
    )
    return email.message_from_string(raw, policy=email.policy.default)


@pytest.mark.parametrize(
    ("subject", "kind", "event"),
    [
        ("A-to-z Guarantee claim filed for order 111-2222222-3333333", "a-to-z", "open"),
        ("Action required: A-to-Z Guarantee Claim for order # 111-2222222-3333333", "a-to-z", "open"),
        ("AtoZ claim received - Order 111-2222222-3333333", "a-to-z", "open"),
        ("A-to-z Guarantee Claim granted: Order 111-2222222-3333333", "a-to-z", "granted"),
        ("Your A-to-z Guarantee claim was not granted (order 111-2222222-3333333)", "a-to-z", "denied"),
        ("A-to-z claim decided in your favor for order 111-2222222-3333333", "a-to-z", "denied"),
        ("A-to-z Guarantee claim withdrawn by the buyer: 111-2222222-3333333", "a-to-z", "withdrawn"),
        ("Chargeback Notification: Order 111-2222222-3333333", "chargeback", "open"),
        ("Charge-back claim for order 111-2222222-3333333 denied", "chargeback", "denied"),
    ],
)
def test_claim_notifications_are_recognised(subject, kind, event):
    notice = read_claim_notice(mail(subject))
    assert notice == ClaimNotice("m1@x", "111-2222222-3333333", kind, event, notice.received_at)
    assert notice.received_at == AT


def test_the_order_id_may_be_in_the_text():
    notice = read_claim_notice(mail("Chargeback Notification", body="Order ID: 114-4444444-5555555\nAmount: $20"))
    assert (notice.type, notice.order_id) == ("chargeback", "114-4444444-5555555")


@pytest.mark.parametrize(
    ("subject", "sender"),
    [
        ("A-to-z Guarantee claim filed for order 111-2222222-3333333", "claims@amazon.com.evil.example"),
        ("A-to-z Guarantee claim filed for order 111-2222222-3333333", "support@notamazon.com"),
        ("A-to-z Guarantee claim filed for order 111-2222222-3333333", "buyer+1a2b@marketplace.amazon.com"),
        ("A-to-z Guarantee: updates to the program", "seller-news@amazon.com"),  # no claim, no order
        ("Your order 111-2222222-3333333 has shipped", "ship-confirm@amazon.com"),
        ("A-to-z Guarantee claims explained", "seller-news@amazon.com"),  # no order id anywhere
    ],
)
def test_other_mail_is_not_a_claim(subject, sender):
    assert read_claim_notice(mail(subject, sender)) is None


def claims(db):
    return db.execute("SELECT order_id, type, filed_on, status, reason, amount, decided_on FROM claims").fetchall()


def test_each_notice_applies_once_and_keeps_what_the_seller_entered(db):
    db.execute(
        "INSERT INTO claims (order_id, type, filed_on, status, reason, amount) VALUES (?, ?, ?, ?, ?, ?)",
        ["111-2222222-3333333", "a-to-z", "2026-11-01", "open", "not-received", 25.0],
    )
    filed = ClaimNotice("a@x", "111-2222222-3333333", "a-to-z", "open", AT)
    granted = ClaimNotice("b@x", "111-2222222-3333333", "a-to-z", "granted", AT + 86400)
    withdrawn = ClaimNotice("c@x", "111-2222222-3333333", "a-to-z", "withdrawn", AT + 2 * 86400)

    assert apply_claim_notice(db, filed, UTC) is False  # known already: the claims file knows better
    assert apply_claim_notice(db, granted, UTC) is True
    assert apply_claim_notice(db, granted, UTC) is False  # the same e-mail again
    assert claims(db) == [
        ("111-2222222-3333333", "a-to-z", "2026-11-01", "granted", "not-received", 25.0, "2026-11-09")
    ]
    assert apply_claim_notice(db, withdrawn, UTC) is True
    assert claims(db)[0][3] == "withdrawn-after-grant"


def test_a_decision_for_an_unknown_claim_adds_it_decided(db):
    notice = ClaimNotice("d@x", "114-4444444-5555555", "chargeback", "denied", AT)
    assert apply_claim_notice(db, notice, ZoneInfo("America/Los_Angeles")) is True
    assert claims(db) == [("114-4444444-5555555", "chargeback", "2026-11-07", "denied", "other", None, "2026-11-07")]
