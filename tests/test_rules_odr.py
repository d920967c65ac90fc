"""Order Defect Rate, one rule of metrics.md at a time, on small hand-built sellers.

Unless a test says otherwise the seller is in UTC and `as_of` is 2026-11-08, so the lagging window is
2026-08-27..2026-10-25 (window_end = as_of - 14 d, window_start = window_end - 59 d) and the live window
2026-09-10..2026-11-08. Orders on 2026-10-01 lie in both.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.metrics import odr_window
from tests.builders import Seller, day, figures_on

AS_OF = date(2026, 11, 8)
IN_WINDOW = "2026-10-01 12:00"


def odr(db, as_of: date = AS_OF, live: bool = False) -> dict:
    return figures_on(db, as_of)["live_order_defect_rate" if live else "order_defect_rate"]


def components(figure: dict) -> tuple[int, int, int, int]:
    return (
        figure["defective_orders"],
        figure["negative_feedback"],
        figure["a_to_z_claims"],
        figure["chargebacks"],
    )


# Each case: the order's channel, the defect records written on it, and (defective orders, negative
# feedback, A-to-z claims, chargebacks) as of 2026-11-08, read straight from metrics.md's defect list.
EXCLUSION_CASES = {
    "open claim counts": ("FBM", lambda s, o: s.claim(o, "2026-10-05"), (1, 0, 1, 0)),
    "granted claim counts": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", status="granted", decided="2026-10-15"),
        (1, 0, 1, 0),
    ),
    "denied claim excluded": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", status="denied", decided="2026-10-15"),
        (0, 0, 0, 0),
    ),
    "withdrawn before a decision excluded": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", status="withdrawn"),
        (0, 0, 0, 0),
    ),
    "withdrawn after grant still counts": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", status="withdrawn-after-grant", decided="2026-10-15"),
        (1, 0, 1, 0),
    ),
    "FBA not-received excluded": (
        "FBA",
        lambda s, o: s.claim(o, "2026-10-05", status="granted", reason="not-received", decided="2026-10-15"),
        (0, 0, 0, 0),
    ),
    "FBA late-delivery excluded": (
        "FBA",
        lambda s, o: s.claim(o, "2026-10-05", status="granted", reason="late-delivery", decided="2026-10-15"),
        (0, 0, 0, 0),
    ),
    "FBA damaged-in-transit excluded": (
        "FBA",
        lambda s, o: s.claim(o, "2026-10-05", reason="damaged-in-transit"),
        (0, 0, 0, 0),
    ),
    "FBA not-as-described counts": (
        "FBA",
        lambda s, o: s.claim(o, "2026-10-05", reason="not-as-described"),
        (1, 0, 1, 0),
    ),
    "FBM not-received counts": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", reason="not-received"),
        (1, 0, 1, 0),
    ),
    "FBM not-received on a Buy Shipping label excluded": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", reason="not-received", protected=True),
        (0, 0, 0, 0),
    ),
    # metrics.md excludes only a *not-received* claim on a protected label.
    "FBM defective on a Buy Shipping label counts": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", reason="defective", protected=True),
        (1, 0, 1, 0),
    ),
    "service chargeback counts": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", type="chargeback", reason="service"),
        (1, 0, 0, 1),
    ),
    "fraud chargeback excluded": (
        "FBM",
        lambda s, o: s.claim(o, "2026-10-05", type="chargeback", reason="fraud"),
        (0, 0, 0, 0),
    ),
    "1-star feedback counts": ("FBM", lambda s, o: s.feedback(o, "2026-10-05", rating=1), (1, 1, 0, 0)),
    "2-star feedback counts": ("FBA", lambda s, o: s.feedback(o, "2026-10-05", rating=2), (1, 1, 0, 0)),
    "3-star feedback is not negative": ("FBM", lambda s, o: s.feedback(o, "2026-10-05", rating=3), (0, 0, 0, 0)),
    "removed feedback excluded": (
        "FBM",
        lambda s, o: s.feedback(o, "2026-10-05", rating=1, removal_status="removed", removed_on="2026-10-20"),
        (0, 0, 0, 0),
    ),
    "feedback recorded as struck through excluded": (
        "FBM",
        lambda s, o: s.feedback(o, "2026-10-05", rating=1, removal_status="struck_through", removed_on="2026-10-20"),
        (0, 0, 0, 0),
    ),
    "feedback struck through by Amazon excluded": (
        "FBA",
        lambda s, o: s.feedback(o, "2026-10-05", rating=1, struck_through=1),
        (0, 0, 0, 0),
    ),
}


@pytest.mark.parametrize("case", EXCLUSION_CASES, ids=list(EXCLUSION_CASES))
def test_what_counts_as_a_defect(db, case):
    channel, add_defect, expected = EXCLUSION_CASES[case]
    seller = Seller(db)
    order = seller.order(IN_WINDOW, channel=channel)
    add_defect(seller, order)
    for figure in (odr(db), odr(db, live=True)):
        assert figure["orders"] == 1
        assert components(figure) == expected
        assert components(figure["by_channel"][channel]) == expected


def test_denied_claim_counted_while_it_was_open(db):
    """A decision dated after `as_of` had not happened yet: on that day the claim was open, so it counted."""
    seller = Seller(db)
    order = seller.order(IN_WINDOW)
    seller.claim(order, "2026-10-05", status="denied", decided="2026-11-02")
    assert odr(db, date(2026, 11, 1), live=True)["a_to_z_claims"] == 1
    assert odr(db, date(2026, 11, 2), live=True)["a_to_z_claims"] == 0


def test_feedback_counted_until_the_day_it_was_removed(db):
    seller = Seller(db)
    order = seller.order(IN_WINDOW)
    seller.feedback(order, "2026-10-05", rating=1, removal_status="removed", removed_on="2026-10-20")
    assert odr(db, date(2026, 10, 19), live=True)["negative_feedback"] == 1
    assert odr(db, date(2026, 10, 20), live=True)["negative_feedback"] == 0


def test_an_order_with_several_defects_counts_once(db):
    seller = Seller(db)
    bad = seller.order(IN_WINDOW)
    seller.orders(3, IN_WINDOW)
    seller.feedback(bad, "2026-10-05", rating=1)
    seller.claim(bad, "2026-10-06", reason="not-as-described")
    seller.claim(bad, "2026-10-07", type="chargeback", reason="service")
    figure = odr(db)
    # One defective order of four; each component still reports its own defect.
    assert components(figure) == (1, 1, 1, 1)
    assert figure["orders"] == 4
    assert figure["rate"] == 1 / 4


def test_cancelled_orders_are_not_counted(db):
    seller = Seller(db)
    seller.orders(2, IN_WINDOW)
    cancelled = seller.order(IN_WINDOW, status="Cancelled")
    seller.feedback(cancelled, "2026-10-05", rating=1)
    seller.claim(cancelled, "2026-10-05")
    figure = odr(db)
    assert figure["orders"] == 2
    assert components(figure) == (0, 0, 0, 0)


def test_lagging_window_bounds_are_inclusive(db):
    seller = Seller(db)
    # window_end = 2026-11-08 - 14 = 2026-10-25, window_start = 2026-10-25 - 59 = 2026-08-27.
    before = seller.order("2026-08-26 23:59:59")
    first = seller.order("2026-08-27 00:00:00")
    last = seller.order("2026-10-25 23:59:59")
    after = seller.order("2026-10-26 00:00:00")
    for order in (before, first, last, after):
        seller.feedback(order, "2026-10-27", rating=1)
    figure = odr(db)
    assert (figure["window_start"], figure["window_end"]) == ("2026-08-27", "2026-10-25")
    assert figure["orders"] == 2
    assert figure["defective_orders"] == 2
    assert {row["order_id"] for row in figure["defects"]} == {first, last}


def test_live_window_bounds_are_inclusive(db):
    seller = Seller(db)
    # The live window is the 60 days ending on as_of itself: 2026-09-10..2026-11-08.
    seller.order("2026-09-09 23:59:59")
    seller.order("2026-09-10 00:00:00")
    seller.order("2026-11-08 23:59:59")
    figure = odr(db, live=True)
    assert (figure["window_start"], figure["window_end"]) == ("2026-09-10", "2026-11-08")
    assert figure["orders"] == 2


def test_window_arithmetic():
    assert odr_window(day("2026-11-08"), 14) == (day("2026-08-27"), day("2026-10-25"))
    assert odr_window(day("2026-11-08"), 0) == (day("2026-09-10"), day("2026-11-08"))


def test_defect_dated_after_as_of_is_ignored(db):
    seller = Seller(db)
    order = seller.order(IN_WINDOW)
    other = seller.order(IN_WINDOW)
    seller.feedback(order, "2026-11-09", rating=1)
    seller.claim(other, "2026-11-09", type="chargeback", reason="service")
    assert components(odr(db)) == (0, 0, 0, 0)
    assert components(odr(db, date(2026, 11, 9))) == (2, 1, 0, 1)


def test_importing_later_data_does_not_change_an_earlier_day(db):
    seller = Seller(db)
    orders = seller.orders(5, "2026-09-20 10:00")
    fba = seller.order("2026-09-21 10:00", channel="FBA")
    seller.feedback(orders[0], "2026-10-01", rating=2)
    seller.claim(orders[1], "2026-10-05")
    seller.message("2026-10-19 20:00", thread="t1", order_id=orders[2])
    seller.return_request(orders[3], "2026-10-15", status="Pending")
    as_of = date(2026, 10, 20)
    before = figures_on(db, as_of)

    # Next month's reports: new orders, feedback and claims dated later, a later decision on the open
    # claim, the feedback's later removal, a late reply and a later message.
    later = seller.orders(3, "2026-10-25 10:00")
    seller.feedback(later[0], "2026-10-28", rating=1)
    seller.feedback(orders[4], "2026-10-21", rating=1)
    seller.claim(fba, "2026-10-22", type="chargeback", reason="service")
    db["claims"].update((orders[1], "a-to-z"), {"status": "denied", "decided_on": "2026-10-25"})
    db["feedback"].update(orders[0], {"removal_status": "removed", "removed_on": "2026-10-30"})
    seller.reply("2026-10-21 09:00", thread="t1")
    seller.message("2026-10-21 08:00", thread="t2", order_id=later[1])
    seller.return_request(later[2], "2026-10-26", status="Pending")

    assert figures_on(db, as_of) == before
    assert components(before["live_order_defect_rate"]) == (2, 1, 1, 0)


def test_channels_are_split(db):
    seller = Seller(db)
    fba = seller.orders(3, IN_WINDOW, channel="FBA")
    fbm = seller.orders(2, IN_WINDOW, channel="FBM")
    seller.feedback(fba[0], "2026-10-05", rating=1)
    seller.claim(fbm[0], "2026-10-05", type="chargeback", reason="service")
    seller.claim(fbm[1], "2026-10-05", reason="defective")
    figure = odr(db)
    assert (figure["orders"], figure["defective_orders"], figure["rate"]) == (5, 3, 3 / 5)
    split = figure["by_channel"]
    assert set(split) == {"FBA", "FBM"}
    assert (split["FBA"]["orders"], split["FBA"]["rate"]) == (3, 1 / 3)
    assert components(split["FBA"]) == (1, 1, 0, 0)
    assert (split["FBM"]["orders"], split["FBM"]["rate"]) == (2, 2 / 2)
    assert components(split["FBM"]) == (2, 0, 1, 1)


# (orders, defective orders, headroom): the largest k >= 0 with (d + k) / n < 1 %.
HEADROOM_CASES = [
    (250, 0, 2),  # 2/250 = 0.8 % < 1 %, 3/250 = 1.2 %
    (250, 1, 1),  # 2/250 < 1 %
    (250, 2, 0),  # 3/250 = 1.2 %
    (100, 0, 0),  # 1/100 is exactly 1 %: not under it
    (101, 0, 1),  # 1/101 < 1 %, 2/101 > 1 %
    (300, 0, 2),  # 3/300 is exactly 1 %
    (100, 1, 0),  # in breach
    (50, 3, 0),  # in breach
]


@pytest.mark.parametrize(("orders", "defective", "expected"), HEADROOM_CASES)
def test_headroom_defects(db, orders, defective, expected):
    seller = Seller(db)
    ids = seller.orders(orders, IN_WINDOW)
    for order in ids[:defective]:
        seller.feedback(order, "2026-10-05", rating=1)
    assert odr(db)["headroom_defects"] == expected


def test_orders_to_recover_and_when_the_oldest_defect_leaves(db):
    seller = Seller(db)
    old = seller.order("2026-09-01 10:00")
    young = seller.order("2026-10-01 10:00")
    seller.orders(98, "2026-09-15 10:00")
    seller.feedback(old, "2026-09-05", rating=1)
    seller.feedback(young, "2026-10-05", rating=1)
    figure = odr(db)
    assert (figure["orders"], figure["defective_orders"], figure["status"]) == (100, 2, "breach")
    # 2 / (100 + m) < 1 % needs 100 + m > 200: m = 101.
    assert figure["orders_to_recover"] == 101
    assert figure["headroom_defects"] == 0
    # The lagging window of as_of D starts D - 73, so the 2026-09-01 order is out from 2026-09-01 + 74.
    assert figure["oldest_defect_leaves_on"] == "2026-11-14"
    assert odr(db, date(2026, 11, 13))["defective_orders"] == 2
    assert odr(db, date(2026, 11, 14))["defective_orders"] == 1
    # The live window of D starts D - 59: out from 2026-09-01 + 60.
    live = odr(db, date(2026, 10, 1), live=True)
    assert live["oldest_defect_leaves_on"] == "2026-10-31"
    assert odr(db, date(2026, 10, 30), live=True)["negative_feedback"] == 2
    assert odr(db, date(2026, 10, 31), live=True)["negative_feedback"] == 1


def test_nothing_to_recover_when_under_the_limit(db):
    seller = Seller(db)
    ids = seller.orders(101, IN_WINDOW)
    seller.feedback(ids[0], "2026-10-05", rating=1)
    figure = odr(db)
    assert figure["status"] == "at_risk"
    assert figure["orders_to_recover"] == 0


# (orders, one defect): status. Exact arithmetic: exactly 1 % is a breach, exactly 0.8 % is at risk.
STATUS_CASES = [(100, "breach"), (101, "at_risk"), (125, "at_risk"), (126, "good")]


@pytest.mark.parametrize(("orders", "expected"), STATUS_CASES)
def test_status_thresholds(db, orders, expected):
    seller = Seller(db)
    ids = seller.orders(orders, IN_WINDOW)
    seller.claim(ids[0], "2026-10-05")
    figure = odr(db)
    assert figure["rate"] == 1 / orders
    assert figure["status"] == expected


def test_warning_level_is_a_setting(db):
    seller = Seller(db)
    ids = seller.orders(200, IN_WINDOW)
    seller.claim(ids[0], "2026-10-05")
    assert odr(db)["status"] == "good"  # 0.5 % under the default 0.8 %
    seller.setting("warning_levels", {"odr": 0.005})
    assert odr(db)["status"] == "at_risk"  # exactly the new level


def test_no_orders_is_insufficient_data_with_a_reason(db):
    seller = Seller(db)
    seller.order("2026-06-01 10:00")  # long before the window
    for figure in (odr(db), odr(db, live=True)):
        assert figure["orders"] == 0
        assert figure["rate"] is None
        assert figure["status"] == "insufficient_data"
        assert "2026-" in figure["reason"]
        assert figure["headroom_defects"] == 0
        assert figure["orders_to_recover"] == 0  # no rate, so no breach to recover from
        assert figure["by_channel"]["FBA"]["status"] == "insufficient_data"
