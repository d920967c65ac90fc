"""Triage never loses an item: whatever is still open is listed whatever its age, on the first triage and
after it; what a triage left unresolved is carried over, with how long; resolving ends the item's clock or
the item says why it cannot; a feedback with no removal ground is on no removal clock; each item has one
deadline, flagged once passed.

A held-out seller built here (not the samples the rules were written against) and the demo seller, each
with an injected clock. The reference Monday is 1 Mar 2027, in UTC.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from app import services
from app.demo import load_demo
from app.triage import TriageList
from tests.builders import Seller, at
from tests.ui_support import SAMPLE_NOW, FixedClock
from ui.triage_view import deadline_text, item_html, removal_text

NOW = at("2027-03-01 09:00")
DAY = 86400
UTC = ZoneInfo("UTC")
RUDE = "Rude customer service, never buying from them again"


def keys(listing: TriageList) -> set[str]:
    return {item.key for item in listing.items}


def item(listing: TriageList, key: str):
    return next(i for i in listing.items if i.key == key)


def clock_keys(clocks) -> set[str]:
    """The triage key of each open clock's record."""
    found = set()
    for clock in clocks:
        if clock.kind in ("buyer_reply", "csba_inquiry"):
            found.add(f"message:{clock.item_id}")
        elif clock.kind == "return_response":
            found.add(f"return:{clock.item_id}")
        elif clock.kind == "feedback_removal":
            found.add(f"feedback:{clock.item_id}")
        elif clock.kind == "fba_reimbursement_claim":
            found.add(f"fba_reimbursement:{clock.item_id}")
        elif clock.kind == "safet_filing":
            found.add(f"safet:{clock.item_id}")
        else:
            order_id, _, claim_type = clock.item_id.rpartition("/")
            found.add(f"claim:{order_id}:{claim_type}")
    return found


@pytest.fixture
def backlog(db):
    """Old, still-open items a 7-day window would miss, and one new complaint with no removal ground."""
    seller = Seller(db)
    o = {name: seller.order("2027-01-05 10:00") for name in ("claim", "chargeback", "msg", "removable", "ret")}
    o |= {name: seller.order("2027-01-05 10:00") for name in ("rude", "old_rude", "appeal")}
    seller.claim(o["claim"], "2027-01-20")  # 40 days before NOW, never answered
    seller.claim(o["chargeback"], "2027-02-10", type="chargeback", reason="service")
    seller.message("2027-02-08 10:00", thread="t-msg", order_id=o["msg"], message_id="msg")  # 3 weeks unanswered
    seller.feedback(o["removable"], "2027-02-09", rating=1, comments="Call me at (415) 555-0132")  # 20 days old
    seller.return_request(o["ret"], "2027-02-20", status="Pending", reason="CR-DEFECTIVE")  # past its 48 h
    seller.feedback(o["rude"], "2027-02-26", rating=1, comments=RUDE)
    seller.feedback(o["old_rude"], "2027-01-06", rating=2, comments=RUDE)  # old, no clock: not open
    seller.claim(o["appeal"], "2027-02-01", status="granted", decided="2027-02-15", reason="not-received")
    return o


def open_keys(o) -> set[str]:
    return {
        f"claim:{o['claim']}:a-to-z",
        f"claim:{o['chargeback']}:chargeback",
        "message:msg",
        f"feedback:{o['removable']}",
        "return:RMA0",
        f"claim:{o['appeal']}:a-to-z",
    }


def test_the_first_triage_lists_every_open_item_whatever_its_age(db, backlog):
    o = backlog
    listing = services.load_triage(db, NOW)
    assert listing.window_reason == "first" and listing.window_start == date(2027, 2, 23)
    assert keys(listing) == open_keys(o) | {f"feedback:{o['rude']}"}
    assert all(item(listing, key).still_open for key in open_keys(o))
    # Every running or overdue clock has its item on the list.
    assert clock_keys(services.open_clocks(db, NOW)) <= keys(listing)
    assert item(listing, f"claim:{o['claim']}:a-to-z").day == date(2027, 1, 20)
    assert listing.counts["overdue"] >= 4


def test_after_a_completed_triage_open_items_carry_over_with_their_days(db, backlog):
    o = backlog
    first = services.load_triage(db, NOW)
    services.complete_session(db, NOW + 60)
    week = services.load_triage(db, NOW + 7 * DAY)
    assert week.window_reason == "since_last" and keys(week) == keys(first)
    assert all(i.carried_since == NOW + 60 and week.carried_days(i) == 7 for i in week.items)
    assert week.to_json()["counts"]["carried"] == len(week.items)
    # A second completion keeps the first instant: carried days keep counting from it.
    services.complete_session(db, NOW + 7 * DAY + 60)
    later = services.load_triage(db, NOW + 10 * DAY)
    assert keys(later) == keys(first) and {later.carried_days(i) for i in later.items} == {10}
    # The appeal window closed on 17 Mar; unresolved, the claim is still carried over.
    assert f"claim:{o['appeal']}:a-to-z" in keys(services.load_triage(db, NOW + 20 * DAY))


def test_a_shown_item_on_no_clock_is_carried_over_until_resolved(db):
    """A message answered late and a rejected return are on no clock: once a completed triage showed them,
    they stay listed, weeks old, until the seller resolves them."""
    seller = Seller(db)
    order = seller.order("2027-02-20 10:00")
    seller.message("2027-02-25 10:00", thread="late", order_id=order, message_id="late")
    seller.reply("2027-02-27 10:00", thread="late")  # two days on: late
    seller.return_request(order, "2027-02-24", status="Rejected", reason="CR-DEFECTIVE")
    shown = {"message:late", "return:RMA0"}
    assert shown <= keys(services.load_triage(db, NOW))
    services.complete_session(db, NOW + 60)
    later = services.load_triage(db, NOW + 30 * DAY)
    assert shown <= keys(later) and all(item(later, key).carried_since == NOW + 60 for key in shown)
    services.resolve_item(db, "message:late", "Apologised", at=NOW + 30 * DAY)
    services.complete_session(db, NOW + 30 * DAY + 60)
    assert keys(services.load_triage(db, NOW + 31 * DAY)) & shown == {"return:RMA0"}


def test_resolving_closes_the_matching_clock(db, backlog):
    o = backlog
    closable = open_keys(o) - {f"claim:{o['appeal']}:a-to-z"}
    for key in closable:
        services.resolve_item(db, key, "Dealt with it", at=NOW + 60)
    remaining = clock_keys(services.open_clocks(db, NOW + 120))
    assert not remaining & closable
    listing = services.load_triage(db, NOW + 120)
    for key in closable:
        resolved = item(listing, key)
        assert resolved.resolved and resolved.clock is None
    # What each clock ends on was recorded on its record.
    assert db.execute("SELECT removal_requested_on FROM feedback WHERE order_id = ?", [o["removable"]]).fetchone() == (
        "2027-03-01",
    )
    assert db.execute("SELECT responded_at FROM fbm_returns WHERE return_id = 'RMA0'").fetchone() == (NOW + 60,)
    # Still undecided by Amazon: the claim says why it keeps counting.
    assert "not decided" in item(listing, f"claim:{o['claim']}:a-to-z").clock_note
    # Settled: once the triage is completed, resolved items whose clocks ended are not listed again.
    services.complete_session(db, NOW + 180)
    assert not keys(services.load_triage(db, NOW + 7 * DAY)) & closable


def test_a_resolution_that_cannot_close_its_clock_says_why(db, backlog):
    o = backlog
    appeal = f"claim:{o['appeal']}:a-to-z"
    rude = f"feedback:{o['rude']}"
    services.resolve_item(db, appeal, "Accepted the refund", at=NOW + 60)
    services.resolve_item(db, rude, "Apologised and refunded", at=NOW + 60)
    assert appeal in clock_keys(services.open_clocks(db, NOW + 120))
    listing = services.load_triage(db, NOW + 120)
    assert "Appeal A-to-z decision" in item(listing, appeal).clock_note
    assert "still on the record" in item(listing, rude).clock_note
    assert "still on the record" in item_html(item(listing, rude), UTC, NOW + 120)


def test_negative_feedback_without_a_removal_ground_has_no_removal_clock(db, backlog):
    o = backlog
    removal_clocks = {c.order_id for c in services.open_clocks(db, NOW) if c.kind == "feedback_removal"}
    assert removal_clocks == {o["removable"]}
    rude = item(services.load_triage(db, NOW), f"feedback:{o['rude']}")
    assert rude.clock is None and rude.removal["ground"] is None and not rude.removal["eligible"]
    assert rude.category == "negative_feedback"
    assert "Contact the buyer" in rude.suggestion.action and "Never ask" in rude.suggestion.action
    assert "never ask for removal" in removal_text(rude)


def test_each_item_has_one_deadline_and_a_passed_one_is_flagged(db, backlog):
    o = backlog
    listing = services.load_triage(db, NOW)
    for listed in listing.items:
        deadline = listed.to_json(NOW)["deadline"]
        if listed.clock is not None:
            assert (deadline["source"], listed.due_at) == ("clock", listed.clock.due_at)
        else:
            assert (deadline["source"], listed.due_at) == ("matrix", listed.suggestion.respond_by)
        assert deadline["passed"] == (listed.due_at <= NOW)
        page = item_html(listed, UTC, NOW)
        assert page.count("Deadline") == 1 and "(by " not in page and "<b>within</b>" not in page
        assert ("Deadline passed" in page) == deadline["passed"]
    claim = item(listing, f"claim:{o['claim']}:a-to-z")
    assert claim.passed(NOW) and "Deadline passed" in item_html(claim, UTC, NOW)
    # The removal window's last day and its clock's deadline are one and the same day.
    removable = item(listing, f"feedback:{o['removable']}")
    assert not removable.passed(NOW)
    assert deadline_text(removable, UTC) == "end of Sun 09 May 2027"
    assert "request removal by Sun 09 May 2027" in removal_text(removable)


def test_the_demo_s_first_triage_and_the_next_list_every_open_clock(db):
    load_demo(db, FixedClock(SAMPLE_NOW))
    listing = services.load_triage(db, SAMPLE_NOW)
    running = clock_keys(services.open_clocks(db, SAMPLE_NOW))
    assert running and running <= keys(listing)
    services.complete_session(db, SAMPLE_NOW + 60)
    week = SAMPLE_NOW + 7 * DAY
    nxt = services.load_triage(db, week)
    assert clock_keys(services.open_clocks(db, week)) <= keys(nxt)
    unresolved = {i.key for i in listing.items if not i.resolved}
    assert unresolved <= keys(nxt)
    assert all(nxt.carried_days(i) == 7 for i in nxt.items if i.key in unresolved)
