"""Every reply the seller sent is checked against Amazon's Communication Guidelines when it is read (a
Sent.mbox import, a single .eml, the mailbox sync): what it broke is kept (rule and exact phrase, never the
reply), shown in the order's timeline and listed in triage.

The mail is built here as a seller's mail program writes it, imported through the app's own import path into
a real SQLite file; the seller is in UTC and every instant is injected.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QLabel

from app import guidelines, services
from app.imports import import_files
from app.mailsync import MailSettings, sync_mailbox
from app.marks import mark_replied
from app.timeline import order_timeline
from tests.conftest import ROOT
from tests.imap_server import append
from tests.ui_support import SAMPLE_NOW
from ui.theme import BREACH, STATUS_COLOURS
from ui.timeline_dialog import TimelineDialog

UTC_ZONE = ZoneInfo("UTC")
QUOTED_PHONE = "+44 20 7946 0958"
SHOP_PHONE = "+44 161 496 0000"
LINK_SENTENCE = guidelines.RULES[guidelines.EXTERNAL_LINK]


def sent(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


# message id -> (buyer alias, order id, sent at, content type, body, the rules it breaks)
REPLIES = {
    "plain-ok@shop.example": (
        "mia0001",
        "112-1000000-0000001",
        sent(2, 9),
        "plain",
        "Hello Mia,\n\nyour parcel left our warehouse this morning with UPS, tracking number 1Z999AA10123456784. "
        "It should arrive on Thursday.\n\nBest regards,\nKestrel Home",
        set(),
    ),
    "link@shop.example": (
        "ben0002",
        "112-1000000-0000002",
        sent(3, 10),
        "plain",
        "Hello Ben,\n\nsorry the lamp does not switch on. The setup video at https://mystore.com/help shows the "
        "switch under the base.\n\nBest regards,\nKestrel Home",
        {guidelines.EXTERNAL_LINK},
    ),
    "quoting@shop.example": (
        "carla0003",
        "112-1000000-0000003",
        sent(4, 11),
        "plain",
        "Hello Carla,\n\nwe are sorry it arrived chipped: a replacement ships today, no need to send the mug "
        "back.\n\nBest regards,\nKestrel Home\n\n"
        "On Wed, 4 Nov 2026 at 08:12, Carla - Amazon Marketplace <carla0003@marketplace.amazon.com> wrote:\n"
        f"> The mug arrived chipped. Please call me at {QUOTED_PHONE}, or I buy it at\n"
        "> https://www.ebay.co.uk/itm/1234 instead.\n> Carla\n",
        set(),
    ),
    "html-link@shop.example": (
        "dev0004",
        "112-1000000-0000004",
        sent(5, 12),
        "html",
        "<html><body><p>Hello Dev,</p><p>you can send the bottle back with the "
        '<a href="https://mystore.com/returns">this returns form</a>.</p><p>Kestrel Home</p>'
        '<div class="gmail_quote">Dev wrote:<blockquote><p>Where do I send it? See https://example.org/x</p>'
        "</blockquote></div></body></html>",
        {guidelines.EXTERNAL_LINK},
    ),
    "phone@shop.example": (
        "emma0005",
        "112-1000000-0000005",
        sent(6, 13),
        "plain",
        f"Hello Emma,\n\nplease call us on {SHOP_PHONE} so we can sort this out quickly.\n\nKestrel Home",
        {guidelines.OFF_AMAZON_CONTACT},
    ),
    "marketing@shop.example": (
        "farid0006",
        "112-1000000-0000006",
        sent(7, 14),
        "plain",
        "Hello Farid,\n\nthank you for your order! As a thank-you, use code THANKS20 for 20% off your next order "
        "in our web shop.\n\nKestrel Home",
        {guidelines.MARKETING},
    ),
}
PRIVATE_WORDS = (b"Kestrel", b"warehouse this morning", b"1Z999AA10123456784", b"ebay.co.uk", QUOTED_PHONE.encode()[1:])


def reply_mail(message_id: str) -> bytes:
    alias, order_id, at, subtype, body, _rules = REPLIES[message_id]
    return (
        "From: Kestrel Home <support@shop.example>\n"
        f"To: {alias}@marketplace.amazon.com\n"
        f"Subject: Re: Order inquiry from Amazon customer (Order: {order_id})\n"
        f"Date: {format_datetime(at)}\nMessage-ID: <{message_id}>\n"
        f"MIME-Version: 1.0\nContent-Type: text/{subtype}; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
        f"{body}\n"
    ).encode()


NOT_TO_A_BUYER = (
    b"From: Kestrel Home <support@shop.example>\nTo: supplier@mugs.example\nSubject: Reorder\n"
    b"Date: Thu, 05 Nov 2026 10:00:00 +0000\nMessage-ID: <supplier@shop.example>\n\n"
    b"Call me on +44 20 7946 0958, and see https://mystore.com/help\n"
)
NOTIFICATION = (
    b'From: "Carla - Amazon Marketplace" <carla0003+tok1@marketplace.amazon.com>\nTo: support@shop.example\n'
    b"Subject: Product details inquiry from Amazon customer Carla (Order: 112-1000000-0000003)\n"
    b"Date: Wed, 04 Nov 2026 08:12:00 +0000\nMessage-ID: <TOK1@amazon.com>\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=UTF-8\n\nOrder ID 112-1000000-0000003:\n"
    b"------------- Begin message -------------\n\nThe mug arrived chipped.\n\n"
    b"------------- End message -------------\n[commMgrTok:TOK1]\n"
)


def mbox(*mails: bytes) -> bytes:
    return b"".join(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + raw + b"\n" for raw in mails)


@pytest.fixture
def sent_mbox(tmp_path: Path) -> Path:
    path = tmp_path / "Sent.mbox"
    path.write_bytes(mbox(*(reply_mail(message_id) for message_id in REPLIES), NOT_TO_A_BUYER))
    return path


@pytest.fixture
def imported(db, sent_mbox, tmp_path):
    inbox = tmp_path / "Inbox.mbox"
    inbox.write_bytes(mbox(NOTIFICATION))
    results = import_files(db, [inbox, sent_mbox])
    assert [(r.outcome, r.added) for r in results] == [("imported", 1), ("imported", len(REPLIES))]
    return db


def stored(db) -> dict[str, list[dict] | None]:
    rows = db.execute("SELECT message_id, breaches FROM replies").fetchall()
    return {message_id: None if text is None else json.loads(text) for message_id, text in rows}


def stored_bytes(db_path: Path) -> bytes:
    return b"".join(Path(f"{db_path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{db_path}{s}").exists())


# --- what is stored ----------------------------------------------------------------------------------------------


def test_an_external_link_is_kept_with_its_rule_and_exact_phrase(imported):
    breaches = stored(imported)
    assert breaches["plain-ok@shop.example"] == []
    [link] = breaches["link@shop.example"]
    assert link["rule"] == guidelines.EXTERNAL_LINK and "mystore.com/help" in link["phrase"]
    assert link["phrase"] in REPLIES["link@shop.example"][4], "the phrase is the reply's own words"
    [html_link] = breaches["html-link@shop.example"]  # the address behind the words, not the quoted one
    assert html_link["rule"] == guidelines.EXTERNAL_LINK and "mystore.com/returns" in html_link["phrase"]


def test_the_buyers_quoted_message_is_not_the_sellers_words(imported):
    assert stored(imported)["quoting@shop.example"] == []
    # The same number in the seller's own words is a breach: the quote is left out, not the number.
    assert guidelines.OFF_AMAZON_CONTACT in {b["rule"] for b in stored(imported)["phone@shop.example"]}


@pytest.mark.parametrize("message_id", sorted(REPLIES))
def test_each_reply_is_stored_with_what_it_breaks(imported, message_id):
    assert {breach["rule"] for breach in stored(imported)[message_id]} == REPLIES[message_id][5]


def test_neither_the_reply_nor_other_mail_is_stored(imported, db_path):
    assert set(stored(imported)) == set(REPLIES)
    imported.close()
    data = stored_bytes(db_path)
    leaked = [word for word in PRIVATE_WORDS if word in data]
    assert not leaked


def test_a_single_eml_is_checked_too(db, tmp_path):
    eml = tmp_path / "reply.eml"
    eml.write_bytes(reply_mail("link@shop.example"))
    [result] = import_files(db, [eml])
    assert (result.outcome, result.added) == ("imported", 1)
    assert [b["rule"] for b in stored(db)["link@shop.example"]] == [guidelines.EXTERNAL_LINK]


def test_importing_again_changes_nothing_and_an_unchecked_reply_is_checked(imported, sent_mbox):
    before = imported.execute("SELECT * FROM replies ORDER BY message_id").fetchall()
    [again] = import_files(imported, [sent_mbox])
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(REPLIES))
    assert imported.execute("SELECT * FROM replies ORDER BY message_id").fetchall() == before

    # Replies stored before the check existed hold NULL: importing the mail again checks them.
    imported.execute("UPDATE replies SET breaches = NULL")
    [rechecked] = import_files(imported, [sent_mbox])
    assert (rechecked.added, rechecked.updated) == (0, len(REPLIES))
    assert imported.execute("SELECT * FROM replies ORDER BY message_id").fetchall() == before


def test_a_reply_the_seller_marked_stays_unchecked(imported, sent_mbox):
    mark = mark_replied(imported, "TOK1@amazon.com", SAMPLE_NOW)
    assert mark is not None
    import_files(imported, [sent_mbox])
    row = imported.execute("SELECT source, breaches FROM replies WHERE message_id LIKE 'manual:%'").fetchone()
    assert tuple(row) == ("manual", None)


# --- the order's timeline ----------------------------------------------------------------------------------------


def test_the_timeline_shows_each_breach_on_its_reply(imported):
    phrase = stored(imported)["link@shop.example"][0]["phrase"]
    [reply] = [e for e in order_timeline(imported, "112-1000000-0000002", UTC_ZONE) if e.what == "Your reply"]
    assert reply.at == sent(3, 10).timestamp()
    assert reply.problems == (f"Your reply broke a guideline: {LINK_SENTENCE} — “{phrase}”",)
    compliant = [e for e in order_timeline(imported, "112-1000000-0000001", UTC_ZONE) if e.what == "Your reply"]
    assert [e.problems for e in compliant] == [()]


def test_the_timeline_window_shows_the_breach_in_the_colour_of_a_problem(imported, qtbot):
    events = order_timeline(imported, "112-1000000-0000002", UTC_ZONE)
    dialog = TimelineDialog("112-1000000-0000002", events, UTC_ZONE, now=lambda: SAMPLE_NOW)
    qtbot.addWidget(dialog)
    texts = [label.text() for label in dialog.area.widget().findChildren(QLabel)]
    [flagged] = [text for text in texts if "broke a guideline" in text]
    assert "⚠" in flagged and STATUS_COLOURS[BREACH] in flagged and "mystore.com/help" in flagged
    assert LINK_SENTENCE in flagged


# --- triage ------------------------------------------------------------------------------------------------------


def triage_json(db_path: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "main.py", "--db", str(db_path), "triage", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_triage_lists_each_reply_that_broke_a_guideline(imported, db_path):
    imported.close()
    listing = triage_json(db_path, "--as-of", "2026-11-08", "--since", "2026-11-01")
    replies = {item["key"]: item for item in listing["items"] if item["kind"] == "reply"}
    flagged = sorted(f"reply:{message_id}" for message_id, case in REPLIES.items() if case[5])
    assert sorted(replies) == flagged
    link = replies["reply:link@shop.example"]
    [breach] = link["details"]["breaches"]
    assert breach["rule"] == guidelines.EXTERNAL_LINK and "mystore.com/help" in breach["phrase"]
    assert link["what_happened"] == f"Your reply broke a guideline: {LINK_SENTENCE} — “{breach['phrase']}”."
    assert link["details"]["message_id"] == "link@shop.example"
    assert (link["category"], link["category_label"]) == ("guideline_breach", "Reply broke a guideline")
    assert (link["order_id"], link["at"], link["date"]) == ("112-1000000-0000002", "2026-11-03T10:00:00Z", "2026-11-03")
    assert (link["odr_effect"], link["affects"], link["clock"], link["still_open"]) == (
        "not an ODR defect",
        [],
        None,
        False,
    )
    assert link["preapproved_amount"] is None  # nothing to refund for a reply

    before_them = triage_json(db_path, "--as-of", "2026-11-02", "--since", "2026-10-26")
    assert not [item for item in before_them["items"] if item["kind"] == "reply"]


def test_a_flagged_reply_is_news_once_and_a_late_one_is_listed_next_time(imported, tmp_path):
    monday = datetime(2026, 11, 9, 9, tzinfo=UTC).timestamp()
    first = services.load_triage(imported, monday)
    shown = {item.key for item in first.items if item.kind == "reply"}
    assert "reply:link@shop.example" in shown
    services.complete_session(imported, monday + 60)

    late = tmp_path / "late.eml"  # sent on 3 Nov, found in the mail only after Monday's triage
    late.write_bytes(reply_mail("link@shop.example").replace(b"<link@shop.example>", b"<late@shop.example>"))
    import_files(imported, [late])
    nxt = services.load_triage(imported, monday + 7 * 86400)
    assert nxt.window_start == date(2026, 11, 9)
    replies = {item.key: item for item in nxt.items if item.kind == "reply"}
    assert set(replies) == shown | {"reply:late@shop.example"}
    assert replies["reply:late@shop.example"].carried_since is None, "new: the seller has not seen it"
    assert {replies[key].carried_since for key in shown} == {monday + 60}, "shown, not dealt with: carried over"


# --- the mailbox sync --------------------------------------------------------------------------------------------


def test_the_mailbox_sync_checks_replies_as_the_import_does(dovecot, imported, new_db):
    user, password = dovecot.add_user()
    conn = dovecot.session(user, password)
    try:
        append(conn, "INBOX", NOTIFICATION)
        for message_id in REPLIES:
            append(conn, "Sent", reply_mail(message_id))
        append(conn, "Sent", NOT_TO_A_BUYER)
    finally:
        conn.logout()
    settings = MailSettings(host="127.0.0.1", user=user, port=dovecot.imap_port, security="none")
    synced = new_db("synced.db")
    result = sync_mailbox(synced, settings, password, now=lambda: SAMPLE_NOW)
    assert result.ok, result.error_message
    assert result.replies_added == len(REPLIES)
    query = "SELECT * FROM replies ORDER BY message_id"
    assert synced.execute(query).fetchall() == imported.execute(query).fetchall()
    assert [b["rule"] for b in stored(synced)["link@shop.example"]] == [guidelines.EXTERNAL_LINK]


# --- bounded cost ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("filler", ["<", "<!", "<a href=", "&", "x\n"])
def test_a_hostile_html_reply_is_read_in_bounded_time(db, tmp_path, filler):
    line = filler * (1000 // len(filler)) + "\n"  # mail lines are short; a report's line limit refuses others
    page = "<p>Hello, see <a href='https://mystore.com/help'>this</a></p>\n" + line * 2000
    raw = reply_mail("link@shop.example").split(b"\n\n", 1)[0].replace(b"text/plain", b"text/html")
    eml = tmp_path / "hostile.eml"
    eml.write_bytes(raw + b"\n\n" + page.encode() + b"\n")
    started = time.monotonic()
    [result] = import_files(db, [eml])
    assert time.monotonic() - started < 10
    assert (result.outcome, result.added) == ("imported", 1)
    assert guidelines.EXTERNAL_LINK in {b["rule"] for b in stored(db)["link@shop.example"]}
