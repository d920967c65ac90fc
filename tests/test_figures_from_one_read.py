"""The window's figures and its charts come from one read of the records: the series' snapshot, narrowed to
its last day, must hold exactly what a read of that day alone holds, so the figures cannot change."""

from __future__ import annotations

import random
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import rules, services
from app.metrics import daily_series, metrics_as_of
from app.settings import load_settings
from app.snapshot import ODR_REACH, LocalDays, SellerSnapshot, load_snapshot, narrowed, snapshot_marketplaces
from app.timeutil import day_start, end_of_day, local_day
from storage import queries
from storage.queries import Market
from tests.builders import Seller

SERIES_DAYS = services.SERIES_DAYS
SALES_CHANNELS = {"US": "Amazon.com", "UK": "Amazon.co.uk", "CA": "Amazon.ca"}
FIRST_DAY = date(2025, 12, 1)
LAST_DAY = date(2026, 11, 8)


def as_of_days(seed: str, count: int, first: date, last: date) -> list[date]:
    rng = random.Random(seed)
    span = (last - first).days
    return sorted({last, *(first + timedelta(days=rng.randint(0, span)) for _ in range(count))})


def assert_one_read_holds_the_days_figures(db, as_of: date, settings, market: Market | None) -> None:
    wide = load_snapshot(db, as_of - timedelta(days=SERIES_DAYS - 1), as_of, settings, market)
    own = load_snapshot(db, as_of, as_of, settings, market)
    taken = narrowed(wide, as_of)
    where = f"{market.code if market else 'all'} as of {as_of}"
    # Lists compared as SQLite returns them: a figure's defect list and unmatched defects keep that order.
    for name in SellerSnapshot.__dataclass_fields__:
        assert getattr(taken, name) == getattr(own, name), f"{name}, {where}"
    assert metrics_as_of(taken, as_of) == metrics_as_of(own, as_of), where


def assert_state_is_figures_and_series(db, as_of: date) -> None:
    """The window's state against the figures and the charts each computed from a read of its own."""
    settings = load_settings(db)
    at = end_of_day(as_of, settings.zone) - 1
    state = services.state_as_of(db, as_of, at, settings=settings)
    metrics = services.compute_metrics(db, as_of, settings)
    series, own = services.window_series(db, as_of, list(metrics["marketplaces"]), SERIES_DAYS, settings)
    assert state.metrics == metrics, as_of
    assert (state.series, state.series_by_marketplace) == (series, own), as_of


# --- The sample seller ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Kolkata"])
def test_the_sample_sellers_days_read_once(sample_db, zone):
    Seller(sample_db).setting("timezone", zone)
    settings = load_settings(sample_db)
    for as_of in as_of_days(f"sample {zone}", 8, date(2026, 6, 1), date(2026, 12, 15)):
        assert_one_read_holds_the_days_figures(sample_db, as_of, settings, None)
        assert_one_read_holds_the_days_figures(sample_db, as_of, settings, Market("US", "US"))
        assert_state_is_figures_and_series(sample_db, as_of)


# --- A generated seller on three marketplaces ------------------------------------------------------------------------


def stamp(day: date, rng: random.Random) -> str:
    return f"{day.isoformat()} {rng.randint(0, 23):02d}:{rng.choice((0, 30, 59)):02d}"


def generate(db, seed: int = 17, orders: int = 500) -> None:
    """Orders over a year in three marketplaces, with records that sit on the edges of the figures' reach:
    negative feedback on unknown orders and older than any window, feedback dated before its order, removed
    and struck-through feedback, claims of every state, messages with and without an order, late and
    automatic replies, returns answered late or never."""
    rng = random.Random(seed)
    seller = Seller(db)
    seller.setting("timezone", "America/New_York")
    seller.setting("csba_periods", [{"start": "2026-03-01", "end": "2026-07-31"}])
    span = (LAST_DAY - FIRST_DAY).days
    for index in range(orders):
        code = rng.choice(("US", "US", "UK", "CA"))
        bought = FIRST_DAY + timedelta(days=rng.randint(0, span))
        status = "Cancelled" if rng.random() < 0.05 else "Shipped"
        order_id = seller.order(stamp(bought, rng), rng.choice(("FBA", "FBM")), status, None, SALES_CHANNELS[code])
        if rng.random() < 0.35:
            rating = rng.choice((1, 1, 2, 3, 5))
            day = bought + timedelta(days=rng.randint(-3, 40))
            extra = rng.choice(
                (
                    {},
                    {},
                    {"struck_through": 1},
                    {"removal_status": "removed", "removed_on": (day + timedelta(days=rng.randint(0, 30))).isoformat()},
                    {"removal_status": "struck_through"},
                )
            )
            seller.feedback(order_id, day.isoformat(), rating, **extra)
        if rng.random() < 0.1:
            filed = bought + timedelta(days=rng.randint(1, 50))
            state = rng.choice(("open", "granted", "denied", "withdrawn"))
            decided = (filed + timedelta(days=rng.randint(0, 20))).isoformat() if state != "open" else None
            kind = rng.choice(("a-to-z", "a-to-z", "chargeback"))
            reason = rng.choice(("not-received", "not-as-described", "fraud", "service"))
            seller.claim(order_id, filed.isoformat(), kind, state, reason, decided, protected=rng.random() < 0.2)
        if rng.random() < 0.15:
            thread = f"buyer{index}"
            received = bought + timedelta(days=rng.randint(0, 20))
            seller.message(stamp(received, rng), thread, order_id if rng.random() < 0.9 else None)
            if rng.random() < 0.8:
                seller.reply(stamp(received + timedelta(days=rng.choice((0, 1, 2))), rng), thread, rng.random() < 0.1)
        if rng.random() < 0.06:
            requested = bought + timedelta(days=rng.randint(2, 30))
            answer = {"negative_return_feedback": 1} if rng.random() < 0.2 else {}
            state = rng.choice(("Approved", "Pending", "Rejected"))
            seller.return_request(order_id, requested.isoformat(), state, **answer)
    for index in range(40):
        # Records of orders never imported, in each marketplace, some of them far older than any window.
        day = FIRST_DAY + timedelta(days=rng.randint(-120, span))
        unknown = f"{rng.choice((111, 202, 701))}-9{index:06d}-0000000"
        seller.feedback(unknown, day.isoformat(), rng.choice((1, 2, 4)), marketplace=rng.choice(("US", "UK", "CA")))
        if index % 4 == 0:
            seller.claim(unknown, day.isoformat(), marketplace=rng.choice(("UK", "CA")))
        if index % 5 == 0:
            seller.message(stamp(day, rng), f"stranger{index}", unknown, marketplace="UK")


@pytest.fixture
def three_marketplaces(db):
    generate(db)
    return db


def test_unknown_orders_older_negative_feedback_is_in_the_wide_read_only(three_marketplaces):
    """The case the narrowing exists for: the wider read meets negative feedback the day's own read leaves out."""
    db = three_marketplaces
    as_of = LAST_DAY
    wide = load_snapshot(db, as_of - timedelta(days=SERIES_DAYS - 1), as_of)
    reach = as_of - timedelta(days=ODR_REACH)
    older = [event for event in wide.orphan_events if is_older_negative_feedback(event, reach, as_of)]
    assert older, "the generated seller lacks the records this check is about"
    own = load_snapshot(db, as_of, as_of)
    assert not [event for event in own.orphan_events if is_older_negative_feedback(event, reach, as_of)]
    # Taken as they are, the wide read's records would list defects the day's own figures do not.
    assert metrics_as_of(wide, as_of)["unmatched_defects"] != metrics_as_of(own, as_of)["unmatched_defects"]
    assert narrowed(wide, as_of).orphan_events == own.orphan_events


def test_claims_on_orders_before_the_reach_change_nothing_and_are_not_read(three_marketplaces, monkeypatch):
    """A claim, however late it came, counts on its order's window: one on an order bought before the
    figures' reach is left out of the read, one on an order never imported is read at any age."""
    db = three_marketplaces
    read_from_the_first_order = queries.claim_rows
    skipped = 0
    for as_of in as_of_days("claims", 6, FIRST_DAY + timedelta(days=90), LAST_DAY + timedelta(days=30)):
        first = as_of - timedelta(days=SERIES_DAYS - 1)
        own = load_snapshot(db, first, as_of)
        with monkeypatch.context() as every_claim:
            every_claim.setattr(
                queries, "claim_rows", lambda db, _from, market: read_from_the_first_order(db, -(2**62), market)
            )
            every = load_snapshot(db, first, as_of)
        assert metrics_as_of(own, as_of) == metrics_as_of(every, as_of), as_of
        assert daily_series(own, first, as_of) == daily_series(every, first, as_of), as_of
        assert own.orphan_events == every.orphan_events
        assert any(event.kind != rules.NEGATIVE_FEEDBACK and event.day < FIRST_DAY for event in own.orphan_events)
        skipped += len(every.claims) - len(own.claims)
    assert skipped, "the generated seller lacks claims on orders older than the figures' reach"


def is_older_negative_feedback(event, reach: date, as_of: date) -> bool:
    return event.kind == rules.NEGATIVE_FEEDBACK and event.day < reach and event.counts_on(as_of)


def test_each_marketplaces_days_read_once(three_marketplaces):
    db = three_marketplaces
    settings = load_settings(db)
    for as_of in as_of_days("three marketplaces", 10, FIRST_DAY + timedelta(days=60), LAST_DAY + timedelta(days=30)):
        codes = snapshot_marketplaces(db, as_of, as_of, settings)
        assert len(codes) == 3, codes
        for code in codes:
            market = Market(code, settings.marketplace)
            assert_one_read_holds_the_days_figures(db, as_of, settings.for_marketplace(code), market)
        assert_one_read_holds_the_days_figures(db, as_of, settings, None)
        assert_state_is_figures_and_series(db, as_of)


def test_a_seller_only_on_another_marketplace_than_home(db):
    """One marketplace that is not the home one: its figures are in its zone, the charts in the home zone."""
    seller = Seller(db)
    seller.setting("timezone", "Asia/Tokyo")
    for hour in range(0, 24, 3):
        order_id = seller.order(f"2026-10-{10 + hour // 3:02d} {hour:02d}:30", sales_channel="Amazon.co.uk")
        if hour % 2:
            seller.feedback(order_id, f"2026-10-{12 + hour // 3:02d}", 1)
    for as_of in (date(2026, 10, 20), date(2026, 11, 8)):
        assert_state_is_figures_and_series(db, as_of)


def test_a_narrowed_read_is_only_of_its_last_day(sample_db):
    wide = load_snapshot(sample_db, date(2026, 9, 1), LAST_DAY)
    with pytest.raises(ValueError):
        narrowed(wide, LAST_DAY - timedelta(days=1))


@pytest.mark.parametrize(
    "zone", ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]
)
def test_local_days_read_off_the_offsets_are_the_zones_days(zone):
    """Every 7 minutes over a year with daylight-saving changes (Lord Howe's move by half an hour), the instants
    just around each local midnight, and instants outside the range: the days a conversion one by one gives."""
    zone_info = ZoneInfo(zone)
    first, last = date(2025, 12, 1), date(2026, 11, 30)
    day_of = LocalDays(zone_info, first, last)
    start, end = day_start(first, zone_info), end_of_day(last, zone_info)
    instants = list(range(start - 3 * 86400, end + 3 * 86400, 7 * 60))
    for day in range((last - first).days + 1):
        midnight = day_start(first + timedelta(days=day), zone_info)
        instants += [midnight - 1, midnight, midnight + 1]
    instants += [start + 0.5, end - 0.25]
    assert [day_of(instant) for instant in instants] == [local_day(instant, zone_info) for instant in instants]
