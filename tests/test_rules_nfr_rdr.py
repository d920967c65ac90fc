"""Negative Feedback Rate (90 days) and Return Dissatisfaction Rate (60 days), rule by rule.

The seller is in UTC and `as_of` is 2026-11-08: the NFR window is 2026-08-11..2026-11-08, the RDR
window 2026-09-10..2026-11-08.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.builders import Seller, at, figures_on

AS_OF = date(2026, 11, 8)


def nfr(db, as_of: date = AS_OF) -> dict:
    return figures_on(db, as_of)["negative_feedback_rate"]


def rdr(db, as_of: date = AS_OF) -> dict:
    return figures_on(db, as_of)["return_dissatisfaction_rate"]


# --- NFR ---------------------------------------------------------------------------------------------------


def test_nfr_counts_feedback_dated_in_the_90_days_ending_on_as_of(db):
    seller = Seller(db)
    for when, rating in [
        ("2026-08-10", 1),  # as_of - 90: outside
        ("2026-08-11", 5),  # as_of - 89: first day inside
        ("2026-09-15", 3),  # neutral: in the denominator only
        ("2026-11-08", 2),  # as_of itself
        ("2026-11-09", 1),  # after as_of: does not exist yet
    ]:
        seller.feedback(seller.order(), when, rating=rating)
    figure = nfr(db)
    assert (figure["window_start"], figure["window_end"]) == ("2026-08-11", "2026-11-08")
    assert (figure["feedback"], figure["negative"]) == (3, 1)
    assert figure["rate"] == 1 / 3
    assert figure["ratings_complete"] is True


def test_nfr_without_4_or_5_stars_is_an_upper_bound(db):
    seller = Seller(db)
    seller.feedback(seller.order(), "2026-10-01", rating=3)
    seller.feedback(seller.order(), "2026-10-02", rating=1)
    figure = nfr(db)
    assert (figure["feedback"], figure["negative"], figure["rate"]) == (2, 1, 0.5)
    assert figure["complete"] is False
    assert "upper bound" in figure["reason"]


def test_nfr_without_feedback_is_insufficient_data(db):
    Seller(db).feedback("111-0000000-0000001", "2026-08-01", rating=5)  # before the window
    figure = nfr(db)
    assert figure["feedback"] == 0
    assert figure["rate"] is None
    assert figure["status"] == "insufficient_data"
    assert figure["complete"] is False
    assert figure["reason"]


@pytest.mark.parametrize(("negative", "total", "expected"), [(1, 10, "breach"), (1, 20, "at_risk"), (1, 21, "good")])
def test_nfr_status_thresholds(db, negative, total, expected):
    """1/10 is exactly 10 %: breach; 1/20 is exactly 5 %: at risk; 1/21 is 4.8 %: good."""
    seller = Seller(db)
    for index in range(total):
        seller.feedback(seller.order(), "2026-10-01", rating=1 if index < negative else 5)
    assert nfr(db)["status"] == expected


# --- RDR ---------------------------------------------------------------------------------------------------


def test_rdr_window_is_the_60_days_ending_on_as_of(db):
    seller = Seller(db)
    for requested in ("2026-09-09", "2026-09-10", "2026-11-08", "2026-11-09"):
        seller.return_request(seller.order(), requested, negative_return_feedback=1)
    figure = rdr(db)
    assert (figure["window_start"], figure["window_end"]) == ("2026-09-10", "2026-11-08")
    # 09-09 is as_of - 60 (outside); 11-09 has not happened yet.
    assert (figure["returns"], figure["dissatisfied"]) == (2, 2)


def test_rdr_pending_past_48_hours_is_dissatisfied(db):
    seller = Seller(db)
    seller.return_request(seller.order(), "2026-11-01", status="Pending")
    # Requested 2026-11-01 (00:00): 48 h end 2026-11-03 00:00. At the end of 11-01 it is inside them; at
    # the end of 11-03 it is still pending, past them.
    assert (rdr(db, date(2026, 11, 1))["returns"], rdr(db, date(2026, 11, 1))["dissatisfied"]) == (1, 0)
    figure = rdr(db, date(2026, 11, 3))
    assert (figure["returns"], figure["dissatisfied"]) == (1, 1)
    assert figure["dissatisfied_requests"][0]["reason"] == "no response within 48 h"


def test_rdr_request_inside_its_48_hours_is_not_dissatisfied(db):
    seller = Seller(db)
    seller.return_request(seller.order(), "2026-11-08", status="Pending")
    figure = rdr(db)
    assert (figure["returns"], figure["dissatisfied"], figure["rate"]) == (1, 0, 0)


def test_rdr_responded_later_than_48_hours(db):
    seller = Seller(db)
    seller.return_request(seller.order(), "2026-10-01", status="Approved", responded_at=at("2026-10-02 23:00"))
    seller.return_request(seller.order(), "2026-10-01", status="Approved", responded_at=at("2026-10-03 00:00:01"))
    figure = rdr(db)
    assert (figure["returns"], figure["dissatisfied"]) == (2, 1)
    assert figure["dissatisfied_requests"][0]["reason"] == "responded after 48 h"


def test_rdr_negative_return_feedback(db):
    seller = Seller(db)
    seller.return_request(seller.order(), "2026-10-01", status="Approved", negative_return_feedback=1)
    seller.return_request(seller.order(), "2026-10-01", status="Approved")
    assert (rdr(db)["returns"], rdr(db)["dissatisfied"]) == (2, 1)


def test_rdr_rejected_and_incorrectly_closed(db):
    seller = Seller(db)
    seller.return_request(seller.order(), "2026-10-01", status="Rejected", incorrectly_closed=1)
    seller.return_request(seller.order(), "2026-10-01", status="Rejected")  # rightly rejected
    seller.return_request(seller.order(), "2026-10-01", status="Closed", incorrectly_closed=1)  # not rejected
    figure = rdr(db)
    assert (figure["returns"], figure["dissatisfied"]) == (3, 1)
    assert figure["dissatisfied_requests"][0]["reason"] == "rejected and incorrectly closed"


def test_rdr_status_thresholds(db):
    seller = Seller(db)
    for index in range(25):
        seller.return_request(seller.order(), "2026-10-01", negative_return_feedback=int(index < 2))
    figure = rdr(db)
    assert figure["rate"] == 2 / 25
    assert figure["status"] == "at_risk"  # exactly 8 %
    seller.return_request(seller.order(), "2026-10-01", negative_return_feedback=1)
    assert rdr(db)["status"] == "breach"  # 3/26 = 11.5 %


def test_fba_customer_returns_never_enter_rdr(db):
    seller = Seller(db)
    order = seller.order("2026-10-01 10:00", channel="FBA")
    db["fba_returns"].insert(
        {
            "return_key": "k1",
            "order_id": order,
            "returned_at": at("2026-10-05 10:00"),
            "reason": "DEFECTIVE",
            "status": "Unit returned to inventory",
            "customer_comments": "Broke after a day",
        }
    )
    figure = rdr(db)
    assert (figure["returns"], figure["dissatisfied"]) == (0, 0)
    assert figure["rate"] is None
    assert figure["status"] == "insufficient_data"
