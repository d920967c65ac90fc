"""Late Response Rate and Customer Service by Amazon coverage, one rule of metrics.md at a time.

The seller is in UTC and `as_of` is 2026-10-10 unless a test says otherwise: the 30-day window is
2026-09-11..2026-10-10 and the figure is taken at the end of that day, 2026-10-11 00:00 UTC.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.metrics import late_response_rate
from app.snapshot import load_snapshot
from tests.builders import Seller, at, figures_on

AS_OF = date(2026, 10, 10)


def lrr(db, as_of: date = AS_OF) -> dict:
    return figures_on(db, as_of)["late_response_rate"]


def tally(figure: dict) -> tuple[int, int, int]:
    return figure["late"], figure["on_time"], figure["pending"]


def test_reply_within_24_hours_is_on_time(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00")
    seller.reply("2026-10-01 12:00")
    figure = lrr(db)
    assert tally(figure) == (0, 1, 0)
    assert figure["rate"] == 0
    assert figure["status"] == "good"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("2026-10-02 09:59:59", (0, 1, 0)),
        ("2026-10-02 10:00:00", (0, 1, 0)),  # exactly received + 24 h: at most 24 h, on time
        ("2026-10-02 10:00:01", (1, 0, 0)),
    ],
)
def test_the_24_hour_boundary(db, reply, expected):
    seller = Seller(db)
    seller.message("2026-10-01 10:00:00")
    seller.reply(reply)
    assert tally(lrr(db)) == expected


def test_unanswered_inside_24_hours_is_pending_and_not_in_the_denominator(db):
    seller = Seller(db)
    seller.message("2026-10-10 20:00")  # 4 h before the end of as_of
    figure = lrr(db)
    assert tally(figure) == (0, 0, 1)
    assert figure["rate"] is None
    assert figure["status"] == "insufficient_data"
    assert figure["reason"]
    # A day later its 24 h have passed with no reply: late.
    assert tally(lrr(db, date(2026, 10, 11))) == (1, 0, 0)


def test_on_time_reply_after_as_of_leaves_the_contact_pending(db):
    seller = Seller(db)
    seller.message("2026-10-10 20:00")
    seller.reply("2026-10-11 08:00")  # after the end of as_of: it does not exist yet
    assert tally(lrr(db)) == (0, 0, 1)
    assert tally(lrr(db, date(2026, 10, 11))) == (0, 1, 0)


def test_no_reply_after_24_hours_is_late(db):
    seller = Seller(db)
    seller.message("2026-10-05 10:00")
    figure = lrr(db)
    assert tally(figure) == (1, 0, 0)
    assert figure["rate"] == 1
    assert figure["status"] == "breach"


def test_automatic_replies_do_not_stop_the_clock(db):
    seller = Seller(db)
    seller.message("2026-10-05 10:00", thread="a")
    seller.reply("2026-10-05 10:01", thread="a", automatic=True)
    seller.message("2026-10-05 10:00", thread="b")
    seller.reply("2026-10-05 10:01", thread="b", automatic=True)
    seller.reply("2026-10-05 18:00", thread="b")  # the real reply, 8 h later
    assert tally(lrr(db)) == (1, 1, 0)


def test_a_reply_answers_every_earlier_unanswered_contact_of_its_thread(db):
    seller = Seller(db)
    seller.message("2026-10-01 08:00", thread="a")
    seller.message("2026-10-02 07:00", thread="a")
    seller.reply("2026-10-02 09:00", thread="a")
    # The one reply answers both: 25 h after the first (late), 2 h after the second (on time).
    assert tally(lrr(db)) == (1, 1, 0)


def test_a_reply_answers_only_its_own_thread(db):
    seller = Seller(db)
    seller.message("2026-10-01 08:00", thread="a")
    seller.message("2026-10-01 08:00", thread="b")
    seller.reply("2026-10-01 09:00", thread="a")
    assert tally(lrr(db)) == (1, 1, 0)


def test_a_new_message_after_a_reply_starts_a_new_clock(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00", thread="a")
    seller.reply("2026-10-01 11:00", thread="a")
    seller.message("2026-10-03 10:00", thread="a")  # the earlier reply does not answer it
    assert tally(lrr(db)) == (1, 1, 0)
    seller.reply("2026-10-04 09:00", thread="a")  # 23 h after the new message
    assert tally(lrr(db)) == (0, 2, 0)


def test_no_response_needed_is_not_counted(db):
    seller = Seller(db)
    seller.message("2026-10-01 10:00", no_response_needed_at=at("2026-10-01 12:00"))
    figure = lrr(db)
    assert tally(figure) == (0, 0, 0)
    assert figure["excluded_no_response_needed"] == 1


def test_no_response_needed_marked_after_as_of_is_still_pending_on_that_day(db):
    """Anything after the end of `as_of` does not exist for it: that evening the message was waiting."""
    seller = Seller(db)
    seller.message("2026-10-10 20:00", no_response_needed_at=at("2026-10-11 09:00"))
    assert tally(lrr(db)) == (0, 0, 1)
    assert tally(lrr(db, date(2026, 10, 11))) == (0, 0, 0)


# CSBA enrolment 2026-09-15 .. opt-out 2026-10-05. Each case: the order (channel, purchase) or None for a
# pre-order question, the message's kind and body, and whether CSBA answers it (so it is out of LRR).
CSBA_CASES = {
    "FBM order placed while enrolled": (("FBM", "2026-09-20 10:00"), "buyer", "Where is my parcel?", True),
    "FBM order placed on the enrolment day": (("FBM", "2026-09-15 10:00"), "buyer", "Where is my parcel?", True),
    "FBM order placed before enrolment": (("FBM", "2026-09-14 10:00"), "buyer", "Where is my parcel?", False),
    "FBM order placed before the opt-out, message after it": (
        ("FBM", "2026-10-04 10:00"),
        "buyer",
        "Where is my parcel?",
        True,
    ),
    "FBM order placed after the opt-out": (("FBM", "2026-10-06 10:00"), "buyer", "Where is my parcel?", False),
    "FBA order": (("FBA", "2026-09-20 10:00"), "buyer", "Where is my parcel?", False),
    "pre-order question": (None, "buyer", "Does it come in blue?", False),
    "invoice request": (("FBM", "2026-09-20 10:00"), "buyer", "Please send me an invoice for my order.", False),
    "customization request": (("FBM", "2026-09-20 10:00"), "buyer", "Can the mug be personalized?", False),
    "CSBA's own inquiry": (("FBM", "2026-09-20 10:00"), "csba", "Please help us with this customer.", False),
}


@pytest.mark.parametrize("case", CSBA_CASES, ids=list(CSBA_CASES))
def test_customer_service_by_amazon_coverage(db, case):
    order, kind, body, covered = CSBA_CASES[case]
    seller = Seller(db)
    seller.setting("csba_periods", [{"start": "2026-09-15", "end": "2026-10-05"}])
    order_id = seller.order(order[1], channel=order[0]) if order else None
    seller.message("2026-10-07 10:00", order_id=order_id, kind=kind, topic="Other", body=body)  # never answered
    figure = lrr(db)
    assert tally(figure) == ((0, 0, 0) if covered else (1, 0, 0))
    assert figure["excluded_csba"] == (1 if covered else 0)


def test_window_is_the_30_days_ending_on_as_of(db):
    seller = Seller(db)
    seller.message("2026-09-10 23:59:59", thread="a")  # as_of - 30: outside
    seller.message("2026-09-11 00:00:00", thread="b")  # as_of - 29: first day inside
    seller.message("2026-10-09 23:00:00", thread="c")  # late by the end of as_of
    figure = lrr(db)
    assert (figure["window_start"], figure["window_end"]) == ("2026-09-11", "2026-10-10")
    assert tally(figure) == (2, 0, 0)


def test_7_and_90_day_windows_are_available(db):
    seller = Seller(db)
    seller.message("2026-10-05 10:00", thread="a")  # in 7 (10-04..10-10), 30 and 90
    seller.message("2026-09-20 10:00", thread="b")  # in 30 (09-11..10-10) and 90
    seller.message("2026-08-01 10:00", thread="c")  # only in 90 (07-13..10-10)
    seller.message("2026-07-12 10:00", thread="d")  # in none
    seller.reply("2026-07-12 11:00", thread="d")
    figure = lrr(db)
    assert figure["late"] == 2
    assert figure["other_windows"]["7"]["late"] == 1
    assert figure["other_windows"]["7"]["window_start"] == "2026-10-04"
    assert figure["other_windows"]["90"]["late"] == 3
    assert figure["other_windows"]["90"]["window_start"] == "2026-07-13"
    snapshot = load_snapshot(db, AS_OF, AS_OF)
    assert late_response_rate(snapshot, AS_OF, 90)["late"] == 3


@pytest.mark.parametrize(("late", "on_time", "expected"), [(1, 9, "breach"), (2, 23, "at_risk"), (1, 12, "good")])
def test_status_thresholds(db, late, on_time, expected):
    """1/10 is exactly 10 %: breach; 2/25 is exactly 8 %: at risk; 1/13 is 7.7 %: good."""
    seller = Seller(db)
    for index in range(late + on_time):
        seller.message("2026-10-01 10:00", thread=f"t{index}")
        seller.reply("2026-10-01 11:00" if index >= late else "2026-10-03 11:00", thread=f"t{index}")
    figure = lrr(db)
    assert (figure["late"], figure["on_time"]) == (late, on_time)
    assert figure["status"] == expected
