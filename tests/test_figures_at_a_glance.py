"""Figures a seller can trust at a glance: ODR judged per channel as Amazon does, and honest about reports
that end before the figures' day."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from app.metrics import STATUS_RANK, worst_status
from app.summary import headline_rate, odr_sentence, text_summary
from tests.builders import Seller, figures_on

AS_OF = date(2026, 12, 1)
ODR_KEYS = ("order_defect_rate", "live_order_defect_rate")


def seller_with(db, fba_orders: int, fba_defects: int, fbm_orders: int, fbm_defects: int, day: str, seller=None):
    """Orders on one day in each channel, the first few of each with a negative feedback the day after."""
    seller = seller or Seller(db)
    feedback_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    for channel, count, defects in (("FBA", fba_orders, fba_defects), ("FBM", fbm_orders, fbm_defects)):
        for number, order_id in enumerate(seller.orders(count, f"{day} 12:00", channel=channel)):
            if number < defects:
                seller.feedback(order_id, feedback_day, rating=1)
    return seller


def test_a_breached_fbm_channel_is_the_headline_even_when_the_combined_rate_is_calm(db):
    # As seen: FBM at 1.37 % while all orders together were under 1 %.
    seller_with(db, fba_orders=500, fba_defects=1, fbm_orders=73, fbm_defects=1, day="2026-11-20")
    live = figures_on(db, AS_OF)["live_order_defect_rate"]
    assert live["by_channel"]["FBM"]["status"] == "breach"
    assert live["rate"] == pytest.approx(2 / 573) and live["combined_status"] == "good"
    assert live["status"] == "breach" and live["worst_channel"] == "FBM"
    assert headline_rate(live) == "FBM 1.37 %"
    sentence = odr_sentence(live)
    assert sentence.startswith("FBM is over 1 %: 28 more defect-free FBM orders would bring it back under")
    assert live["by_channel"]["FBM"]["orders_to_recover"] == 28  # 1 / (73 + 28) < 1 % ≤ 1 / (73 + 27)
    lrr = figures_on(db, AS_OF)["late_response_rate"]  # no message at all: why there is no figure comes first
    assert lrr["reason"].startswith("no buyer message in the window") and "orders end 2026-11-20" in lrr["reason"]
    summary = text_summary(figures_on(db, AS_OF) | {"reconciliation": None})
    assert "FBM 1.37 %" in summary and "all orders together: 0.35 % (good)" in summary


def test_when_both_channels_are_good_the_sentence_names_the_one_closest_to_the_line(db):
    seller_with(db, fba_orders=400, fba_defects=0, fbm_orders=250, fbm_defects=1, day="2026-11-20")
    live = figures_on(db, AS_OF)["live_order_defect_rate"]
    assert live["status"] == "good" and live["worst_channel"] == "FBM"
    assert odr_sentence(live).startswith("2 more defective FBM orders would put FBM over 1 %")


def test_a_channel_without_orders_does_not_judge(db):
    seller_with(db, fba_orders=0, fba_defects=0, fbm_orders=300, fbm_defects=0, day="2026-11-20")
    live = figures_on(db, AS_OF)["live_order_defect_rate"]
    assert live["by_channel"]["FBA"]["status"] == "insufficient_data"
    assert live["status"] == "good" and live["worst_channel"] == "FBM"


@pytest.mark.parametrize("seed", range(12))
def test_on_held_out_sellers_the_headline_is_the_worst_channels_status(db, seed):
    chance = random.Random(seed)
    fba, fbm = chance.randint(0, 400), chance.randint(1, 400)
    seller = seller_with(db, fba, chance.randint(0, 6), fbm, chance.randint(0, 6), day="2026-11-20")
    seller_with(db, chance.randint(0, 300), chance.randint(0, 4), chance.randint(0, 300), 0, "2026-10-01", seller)
    figures = figures_on(db, AS_OF)
    for key in ODR_KEYS:
        figure = figures[key]
        judged = [part["status"] for part in figure["by_channel"].values() if part["orders"]]
        assert figure["status"] == worst_status(judged)
        assert STATUS_RANK.get(figure["status"], -1) >= STATUS_RANK.get(figure["combined_status"], -1)


def test_the_tray_takes_the_worst_channel(db):
    from app.services import MonitorState, Settings
    from ui.application import tray_status

    seller_with(db, fba_orders=500, fba_defects=1, fbm_orders=73, fbm_defects=1, day="2026-11-20")
    metrics = figures_on(db, AS_OF)
    state = MonitorState(0, AS_OF, "UTC", metrics, [], [], True, False, Settings())
    assert tray_status(state, 0)[0] == "breach"


# --- Data coverage -----------------------------------------------------------------------------------------------


@pytest.fixture
def reports_ending_15_nov(db) -> Seller:
    """A seller whose reports end mid-November: orders to 15 Nov, feedback to 10 Nov, and so on."""
    seller = Seller(db)
    for day in range(80):
        seller.orders(3, (date(2026, 8, 27) + timedelta(days=day)).isoformat() + " 12:00")
    last = seller.order("2026-11-15 18:00", channel="FBA")
    seller.feedback(last, "2026-11-10", rating=5)
    seller.return_request(last, "2026-11-12", status="Pending")
    seller.message("2026-11-14 09:00", thread="t1", order_id=last)
    seller.claim(last, "2026-11-05")
    return seller


def test_data_through_names_the_last_day_of_each_source(db, reports_ending_15_nov):
    figures = figures_on(db, AS_OF)
    assert figures["data_through"] == {
        "orders": "2026-11-15",
        "feedback": "2026-11-10",
        "returns": "2026-11-12",
        "messages": "2026-11-14",
        "claims": "2026-11-05",
    }


def test_figures_whose_window_runs_past_the_orders_say_they_are_not_complete(db, reports_ending_15_nov):
    figures = figures_on(db, AS_OF)  # 1 Dec, with orders ending 15 Nov
    for key in ("order_defect_rate", "live_order_defect_rate", "late_response_rate", "return_dissatisfaction_rate"):
        assert figures[key]["complete"] is False, key
        assert "the imported orders end 2026-11-15" in figures[key]["reason"], key
    assert figures["negative_feedback_rate"]["complete"] is False
    assert figures["negative_feedback_rate"]["reason"].startswith("the imported orders end 2026-11-15")


def test_before_the_end_of_the_data_the_figures_are_whole(db, reports_ending_15_nov):
    on_the_last_day = figures_on(db, date(2026, 11, 15))
    assert on_the_last_day["data_through"]["orders"] == "2026-11-15"
    for key in ("order_defect_rate", "live_order_defect_rate", "late_response_rate", "return_dissatisfaction_rate"):
        assert on_the_last_day[key]["complete"] is True, (key, on_the_last_day[key].get("reason"))
    the_day_after = figures_on(db, date(2026, 11, 16))
    assert the_day_after["live_order_defect_rate"]["complete"] is False
    assert the_day_after["order_defect_rate"]["complete"] is True  # its window ends 14 days earlier


def test_data_imported_later_does_not_change_an_earlier_days_coverage(db, reports_ending_15_nov):
    before = figures_on(db, date(2026, 11, 10))
    reports_ending_15_nov.orders(5, "2026-11-28 12:00")
    reports_ending_15_nov.feedback(reports_ending_15_nov.order("2026-11-29 12:00"), "2026-11-30", rating=1)
    assert figures_on(db, date(2026, 11, 10)) == before
    assert before["data_through"]["orders"] == "2026-11-10"
    assert figures_on(db, AS_OF)["data_through"]["orders"] == "2026-11-29"


def test_nothing_imported_is_no_data_not_a_day(db):
    figures = figures_on(db, AS_OF)
    assert set(figures["data_through"].values()) == {None}
    assert figures["live_order_defect_rate"]["status"] == "insufficient_data"
