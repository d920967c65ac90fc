"""NFR reads the feedback still on the record as counts per day, and only the removed or struck-through
feedback as records: its figure and its series must be those of every feedback looked at one by one, as
metrics.md defines them (feedback dated in the 90 days ending on the day, on the record that day)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from app import rules
from app.metrics import daily_series, metrics_as_of
from app.model import Feedback
from app.settings import load_settings
from app.snapshot import NFR_DAYS, load_snapshot
from storage.queries import Market
from tests.builders import Seller

FIRST = date(2026, 1, 1)
LAST = date(2026, 11, 8)
SALES_CHANNELS = {"US": "Amazon.com", "UK": "Amazon.co.uk", "CA": "Amazon.ca"}


def removal(rng: random.Random, day: date) -> dict:
    """Nothing, Amazon's strike-through, or a removal the seller recorded (with or without its day, some
    even dated before the feedback), or a removal asked for and not granted."""
    taken_off = (day + timedelta(days=rng.randint(-3, 60))).isoformat()
    return rng.choice(
        (
            {},
            {},
            {},
            {"struck_through": 1},
            {"struck_through": rng.choice(("true", "no", 2))},  # never written by the app: read as the records read it
            {"removal_status": "removed", "removed_on": taken_off},
            {"removal_status": "struck_through", "removed_on": taken_off},
            {"removal_status": "removed"},
            {"removal_status": "requested", "removal_requested_on": day.isoformat()},
        )
    )


def generate(db, seed: int) -> None:
    """Orders in three marketplaces with feedback of every rating, and feedback of orders never imported."""
    rng = random.Random(seed)
    seller = Seller(db)
    span = (LAST - FIRST).days
    for index in range(700):
        code = rng.choice(("US", "US", "UK", "CA"))
        bought = FIRST + timedelta(days=rng.randint(0, span))
        order_id = seller.order(
            f"{bought.isoformat()} 10:00", rng.choice(("FBA", "FBM")), sales_channel=SALES_CHANNELS[code]
        )
        if rng.random() < 0.6:
            day = bought + timedelta(days=rng.randint(0, 20))
            seller.feedback(order_id, day.isoformat(), rng.randint(1, 5), **removal(rng, day))
        if index % 9 == 0:
            day = FIRST + timedelta(days=rng.randint(0, span))
            unknown = f"{rng.choice((111, 202, 701))}-8{index:06d}-0000000"
            extra = removal(rng, day) | {"marketplace": rng.choice(("US", "UK", "CA", None))}
            seller.feedback(unknown, day.isoformat(), rng.randint(1, 5), **extra)


def every_feedback(db, market: Market | None) -> list[Feedback]:
    """Each feedback of the marketplace, read one by one: its order's marketplace, else its own, else home."""
    rows = db.execute(
        "SELECT f.order_id, f.feedback_date, f.rating, f.struck_through, f.removal_status, f.removed_on, "
        "coalesce(o.marketplace, f.marketplace) FROM feedback f LEFT JOIN orders o ON o.order_id = f.order_id"
    ).fetchall()
    home = market.home if market else None
    return [
        Feedback(
            order_id,
            date.fromisoformat(day),
            rating,
            None,
            bool(struck),
            status,
            date.fromisoformat(off) if off else None,
        )
        for order_id, day, rating, struck, status, off, code in rows
        if market is None or (code or home) == market.code
    ]


def expected_on(feedback: list[Feedback], as_of: date) -> tuple[int, int, bool]:
    """(ratings, negative, a 4-5 star among them) of the feedback dated in the 90 days ending `as_of` and on
    the record that day."""
    first = as_of - timedelta(days=NFR_DAYS - 1)
    seen = []
    for each in feedback:
        start, until, _ = rules.visible_interval(each)
        if first <= each.day <= as_of and start is not None and start <= as_of and (until is None or as_of < until):
            seen.append(each)
    return len(seen), sum(each.rating <= 2 for each in seen), any(each.rating >= 4 for each in seen)


@pytest.mark.parametrize("seed", [3, 29, 101])
def test_nfr_from_counts_is_nfr_of_every_feedback(db, seed):
    generate(db, seed)
    settings = load_settings(db)
    series_first = LAST - timedelta(days=179)
    for market in [None, *(Market(code, settings.marketplace) for code in ("US", "UK", "CA"))]:
        feedback = every_feedback(db, market)
        snapshot = load_snapshot(db, series_first, LAST, settings, market)
        assert snapshot.feedback_counts, "the feedback on the record is counted, not read one by one"
        assert all(rules.visible_interval(each) != (each.day, None, None) for each in snapshot.feedback)
        for point in daily_series(snapshot, series_first, LAST):
            day = date.fromisoformat(point["day"])
            ratings, negative, positive = expected_on(feedback, day)
            where = f"{market.code if market else 'all'} on {day}"
            assert (point["nfr_ratings"], point["nfr_negative"]) == (ratings, negative), where
            assert point["nfr_ratings_complete"] == positive, where
        for day in (LAST, LAST - timedelta(days=45), series_first):
            figure = metrics_as_of(load_snapshot(db, day, day, settings, market), day)["negative_feedback_rate"]
            ratings, negative, positive = expected_on(feedback, day)
            assert (figure["feedback"], figure["negative"], figure["ratings_complete"]) == (ratings, negative, positive)
            assert ratings > 0
