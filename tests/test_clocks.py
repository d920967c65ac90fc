"""Clocks: each kind in metrics.md's table, when it is due, when it closes, and the order of the list.

Report dates without a time (claims, returns, feedback) start their clock at local midnight of that
day; the seller is in UTC unless a test says otherwise.
"""

from __future__ import annotations

from app.clocks import A_TO_Z_APPEAL, A_TO_Z_RESPONSE, CHARGEBACK_RESPONSE, clocks_at
from tests.builders import Seller, at

HOUR = 3600
DAY = 24 * HOUR


def clocks(db, when: str, kind: str | None = None) -> list:
    return [c for c in clocks_at(db, at(when)) if kind is None or c.kind == kind]


def due(db, when: str, kind: str) -> list[tuple[str | None, int]]:
    return [(c.order_id, c.due_at) for c in clocks(db, when, kind)]


# --- buyer messages ------------------------------------------------------------------------------------------


def test_buyer_reply_is_due_24_hours_after_the_message(db):
    seller = Seller(db)
    order = seller.order("2026-10-01 09:00")
    seller.message("2026-10-01 10:00", order_id=order)
    [clock] = clocks(db, "2026-10-01 16:00")
    assert (clock.kind, clock.order_id, clock.due_at) == ("buyer_reply", order, at("2026-10-02 10:00"))
    assert clock.remaining_s(at("2026-10-01 16:00")) == 18 * HOUR
    assert clock.to_json(at("2026-10-01 16:00"))["due_at"] == "2026-10-02T10:00:00Z"


def test_overdue_reply_clock_stays_with_negative_remaining_time(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00")
    [clock] = clocks(db, "2026-10-02 12:00")
    assert clock.remaining_s(at("2026-10-02 12:00")) == -2 * HOUR
    assert clock.to_json(at("2026-10-02 12:00"))["remaining_s"] == -2 * HOUR


def test_pre_order_question_has_no_order(db):
    Seller(db).message("2026-10-01 10:00", order_id=None, topic="Product details")
    [clock] = clocks(db, "2026-10-01 11:00")
    assert clock.order_id is None
    assert clock.to_json(at("2026-10-01 11:00"))["order_id"] is None


def test_a_real_reply_closes_the_clock_an_automatic_one_does_not(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00")
    seller.reply("2026-10-01 10:01", automatic=True)
    seller.reply("2026-10-02 13:00")
    assert len(clocks(db, "2026-10-01 12:00")) == 1  # after the auto-reply
    assert len(clocks(db, "2026-10-02 12:59")) == 1
    assert clocks(db, "2026-10-02 13:00") == []


def test_no_response_needed_closes_the_clock(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00", no_response_needed_at=at("2026-10-01 11:00"))
    assert len(clocks(db, "2026-10-01 10:30")) == 1
    assert clocks(db, "2026-10-01 11:00") == []


def test_csba_covered_message_is_off_the_clock_but_csba_inquiry_is_on_it(db):
    seller = Seller(db)
    seller.setting("csba_periods", [{"start": "2026-09-01", "end": None}])
    order = seller.order("2026-09-20 10:00", channel="FBM")
    seller.message("2026-10-01 10:00", thread="buyer", order_id=order)
    seller.message("2026-10-01 11:00", thread="csba", order_id=order, kind="csba", topic="Customer Service by Amazon")
    [clock] = clocks(db, "2026-10-01 12:00")
    assert (clock.kind, clock.order_id, clock.due_at) == ("csba_inquiry", order, at("2026-10-02 11:00"))
    seller.reply("2026-10-01 13:00", thread="csba")
    assert clocks(db, "2026-10-01 14:00") == []


def test_message_after_a_reply_starts_a_new_clock(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00")
    seller.reply("2026-10-01 11:00")
    seller.message("2026-10-01 15:00")
    assert [c.due_at for c in clocks(db, "2026-10-01 16:00")] == [at("2026-10-02 15:00")]


# --- returns -------------------------------------------------------------------------------------------------


def test_return_request_is_due_48_hours_after_the_request_day_and_closes_when_it_leaves_pending(db):
    seller = Seller(db)
    pending = seller.order()
    seller.return_request(pending, "2026-10-01", status="Pending")
    seller.return_request(seller.order(), "2026-10-01", status="Approved")
    assert due(db, "2026-10-01 12:00", "return_response") == [(pending, at("2026-10-03 00:00"))]
    assert [c.remaining_s(at("2026-10-04 00:00")) for c in clocks(db, "2026-10-04 00:00")] == [-DAY]
    db["fbm_returns"].update("RMA0", {"status": "Authorized"})
    assert clocks(db, "2026-10-04 00:00") == []


def test_return_clock_starts_at_local_midnight(db):
    seller = Seller(db)
    seller.setting("timezone", "America/Los_Angeles")
    order = seller.order()
    seller.return_request(order, "2026-10-01", status="Pending")
    # 2026-10-01 00:00 PDT is 07:00 UTC; 48 calendar hours later.
    assert due(db, "2026-10-01 12:00", "return_response") == [(order, at("2026-10-03 07:00"))]


# --- claims and chargebacks ----------------------------------------------------------------------------------


def test_a_to_z_response_uses_the_setting(db):
    seller = Seller(db)
    order = seller.order()
    seller.claim(order, "2026-10-01")
    assert due(db, "2026-10-01 12:00", "a_to_z_response") == [(order, at("2026-10-03 00:00"))]  # 48 h default
    seller.setting("a_to_z_response_hours", 72)
    assert due(db, "2026-10-01 12:00", "a_to_z_response") == [(order, at("2026-10-04 00:00"))]


def test_a_to_z_response_closes_when_responded_or_decided(db):
    seller = Seller(db)
    responded = seller.order()
    decided = seller.order()
    seller.claim(responded, "2026-10-01", responded_at=at("2026-10-02 10:00"))
    seller.claim(decided, "2026-10-01", status="denied", decided="2026-10-03")
    assert {c.order_id for c in clocks(db, "2026-10-02 09:00", "a_to_z_response")} == {responded, decided}
    # Overdue (due 10-03 00:00) and still unanswered: the decided one stays until its decision day.
    assert {c.order_id for c in clocks(db, "2026-10-02 23:59", "a_to_z_response")} == {decided}
    assert clocks(db, "2026-10-03 00:00", "a_to_z_response") == []


def test_chargeback_response_is_due_in_7_days(db):
    seller = Seller(db)
    order = seller.order()
    seller.claim(order, "2026-10-01", type="chargeback", reason="service", responded_at=at("2026-10-06 12:00"))
    assert due(db, "2026-10-02 00:00", "chargeback_response") == [(order, at("2026-10-08 00:00"))]
    assert clocks(db, "2026-10-06 12:00") == []


def test_appeal_window_is_30_days_from_the_grant(db):
    seller = Seller(db)
    order = seller.order()
    seller.claim(order, "2026-10-01", status="granted", decided="2026-10-05", responded_at=at("2026-10-02 10:00"))
    assert clocks(db, "2026-10-04 12:00", "a_to_z_appeal") == []  # not granted yet
    assert due(db, "2026-10-05 00:00", "a_to_z_appeal") == [(order, at("2026-11-04 00:00"))]
    # Once the window has closed nothing can be done: the clock is gone (clocks.py's choice).
    assert clocks(db, "2026-11-04 00:00", "a_to_z_appeal") == []


def test_appeal_clock_closes_when_the_appeal_is_filed(db):
    seller = Seller(db)
    order = seller.order()
    seller.claim(order, "2026-10-01", status="granted", decided="2026-10-05", appeal_filed_on="2026-10-10")
    assert len(clocks(db, "2026-10-09 12:00", "a_to_z_appeal")) == 1  # the appeal was filed later
    assert clocks(db, "2026-10-10 00:00", "a_to_z_appeal") == []


def test_no_appeal_clock_for_a_denied_claim(db):
    seller = Seller(db)
    seller.claim(seller.order(), "2026-10-01", status="denied", decided="2026-10-05")
    assert clocks(db, "2026-10-06 00:00") == []


# --- feedback removal ----------------------------------------------------------------------------------------


def test_feedback_removal_window_is_a_setting(db):
    seller = Seller(db)
    order = seller.order()
    seller.feedback(
        order, "2026-10-01", rating=2, comments="Zipper broke on day two"
    )  # a removal ground: a product review
    seller.feedback(seller.order(), "2026-10-01", rating=3)  # neutral: nothing to remove
    assert due(db, "2026-10-02 00:00", "feedback_removal") == [(order, at("2026-12-30 00:00"))]  # 90 days
    seller.setting("feedback_removal_days", 60)
    assert due(db, "2026-10-02 00:00", "feedback_removal") == [(order, at("2026-11-30 00:00"))]
    assert clocks(db, "2026-11-30 00:00", "feedback_removal") == []


def test_feedback_removal_clock_closes_when_requested_or_removed(db):
    seller = Seller(db)
    requested = seller.order()
    removed = seller.order()
    seller.feedback(
        requested, "2026-10-01", rating=1, comments="Zipper broke on day two", removal_requested_on="2026-10-10"
    )
    seller.feedback(
        removed,
        "2026-10-01",
        rating=1,
        comments="Zipper broke on day two",
        removal_status="removed",
        removed_on="2026-10-12",
    )
    assert {c.order_id for c in clocks(db, "2026-10-05 00:00", "feedback_removal")} == {requested, removed}
    assert {c.order_id for c in clocks(db, "2026-10-11 00:00", "feedback_removal")} == {removed}
    assert clocks(db, "2026-10-12 00:00", "feedback_removal") == []


# --- the list ------------------------------------------------------------------------------------------------


def test_most_urgent_first(db):
    seller = Seller(db)
    claim = seller.order()
    chargeback = seller.order()
    feedback = seller.order()
    returned = seller.order()
    seller.feedback(feedback, "2026-10-01", rating=1, comments="Zipper broke on day two")  # due 12-30
    seller.claim(chargeback, "2026-10-01", type="chargeback", reason="service")  # due 10-08
    seller.claim(claim, "2026-10-02")  # due 10-04
    seller.return_request(returned, "2026-10-02", status="Pending")  # due 10-04 00:00 as well
    seller.message("2026-10-03 06:00", thread="a")  # due 10-04 06:00
    seller.message("2026-10-02 09:00", thread="b")  # overdue since 10-03 09:00
    got = [(c.kind, c.due_at) for c in clocks(db, "2026-10-03 12:00")]
    assert [due_at for _, due_at in got] == sorted(due_at for _, due_at in got)
    assert [kind for kind, _ in got] == [
        "buyer_reply",
        "a_to_z_response",
        "return_response",
        "buyer_reply",
        "chargeback_response",
        "feedback_removal",
    ]
    assert got[0][1] == at("2026-10-03 09:00")


def test_reply_clocks_count_calendar_hours_across_a_dst_change(db):
    seller = Seller(db)
    seller.setting("timezone", "America/Los_Angeles")
    # 2026-10-31 09:00 PDT; the clocks go back on 2026-11-01, so 24 h later is 08:00 PST.
    seller.message("2026-10-31 16:00")
    assert [c.due_at for c in clocks(db, "2026-10-31 17:00")] == [at("2026-11-01 16:00")]


# --- which claims are read -------------------------------------------------------------------------------------


def test_claims_left_unread_would_have_had_no_clock(db, monkeypatch):
    """The clocks read only the claims that may still run (open, decided later, granted lately); at any
    instant, in one marketplace or three, they are the clocks of every claim read."""
    import random
    from datetime import date, timedelta

    from app import services
    from storage import queries

    rng = random.Random(5)
    seller = Seller(db)
    seller.setting("timezone", "America/Los_Angeles")
    first = date(2026, 6, 1)
    for index in range(160):
        sales_channel = rng.choice(("Amazon.com", "Amazon.com", "Amazon.co.uk", "Amazon.ca"))
        bought = first + timedelta(days=rng.randint(0, 120))
        order = seller.order(f"{bought} {rng.randint(0, 23):02d}:00", sales_channel=sales_channel)
        filed = bought + timedelta(days=rng.randint(1, 30))
        status = rng.choice(("open", "granted", "granted", "denied", "withdrawn", "Open", "withdrawn-after-grant"))
        decided = None if status == "open" or rng.random() < 0.15 else filed + timedelta(days=rng.randint(0, 40))
        extra = {}
        if rng.random() < 0.3:
            extra["responded_at"] = at(f"{filed + timedelta(days=rng.randint(0, 5))} 12:00")
        if status == "granted" and decided and rng.random() < 0.3:
            extra["appeal_filed_on"] = (decided + timedelta(days=rng.randint(0, 40))).isoformat()
        kind = rng.choice(("a-to-z", "a-to-z", "chargeback"))
        seller.claim(
            order if index % 9 else f"111-9{index:06d}-0000000",
            filed.isoformat(),
            kind,
            status,
            decided=decided and decided.isoformat(),
            **extra,
        )
    every_claim = queries.claims
    instants = [at(f"{first + timedelta(days=day)} {hour:02d}:30") for day in range(0, 260, 2) for hour in (2, 13, 23)]
    kinds = set()
    for when in instants:
        read = services.open_clocks(db, when)
        with monkeypatch.context() as everything:
            everything.setattr(queries, "claims_that_may_be_on_a_clock", lambda db, *_: every_claim(db))
            assert read == services.open_clocks(db, when), when
        kinds |= {clock.kind for clock in read}
    assert {A_TO_Z_RESPONSE, CHARGEBACK_RESPONSE, A_TO_Z_APPEAL} <= kinds
    late = queries.claims_that_may_be_on_a_clock(db, "2027-02-01", "2026-12-31")
    assert 0 < len(late) < len(every_claim(db)) / 2


# --- one item's clocks -----------------------------------------------------------------------------------------


def _every_item_clocks_equal_the_full_lists(database, instants) -> set[str]:
    """`item_clocks` of every triage item and every clock's item equals `clocks_at` kept to that item."""
    from app import services
    from app.clocks import item_clocks

    kinds = set()
    for when in instants:
        every = clocks_at(database, when)
        listed = services.load_triage(database, when).items
        keys = {services._clock_key(clock) for clock in every} | {item.key for item in listed}
        keys |= {"message:<nobody@example.com>", "claim:000-0000000-0000000:a-to-z", "status:lrr"}
        for key in sorted(keys):
            expected = [clock for clock in every if services._clock_key(clock) == key]
            assert item_clocks(database, key, when) == expected, (key, when)
            kinds |= {clock.kind for clock in expected}
    return kinds


def test_one_items_clocks_are_its_clocks_among_all(demo_path):
    """Resolving an item reads only its record's clocks: the same clocks, of every kind, at any instant."""
    from storage import open_db
    from tests.ui_support import SAMPLE_NOW

    database = open_db(demo_path)
    try:
        instants = [SAMPLE_NOW + hours * HOUR for hours in (-30, -2, 0, 3, 20, 50, 24 * 20, 24 * 40)]
        kinds = _every_item_clocks_equal_the_full_lists(database, instants)
    finally:
        database.close()
    every_kind = {"buyer_reply", "return_response", "a_to_z_response", "a_to_z_appeal", "chargeback_response"}
    every_kind |= {"feedback_removal", "fba_reimbursement_claim", "safet_filing"}
    assert every_kind <= kinds, kinds


def test_one_items_clocks_in_the_sample_seller(sample_db):
    from tests.ui_support import SAMPLE_NOW

    kinds = _every_item_clocks_equal_the_full_lists(sample_db, [SAMPLE_NOW - 5 * DAY, SAMPLE_NOW, SAMPLE_NOW + DAY])
    assert kinds, "the sample seller has clocks open"
