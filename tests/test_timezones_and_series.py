"""Time-zone edges (a US seller in America/Los_Angeles, a daylight-saving change inside the window) and
the one-pass daily series against the same figures computed one day at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from app import services, timeutil
from app.metrics import daily_series
from app.model import Message, ReturnRequest
from app.rules import Contact
from app.settings import Settings
from app.snapshot import load_snapshot
from app.timeutil import DAY_S, day_start, earliest_local_day, on_or_after_day
from app.triage import StatusChange, TriageInputs, contact_index, return_index, triage_items
from tests.builders import Seller, at, figures_on

LA = "America/Los_Angeles"


def odr(db, as_of: date, live: bool = False) -> dict:
    return figures_on(db, as_of)["live_order_defect_rate" if live else "order_defect_rate"]


def lrr(db, as_of: date) -> tuple[int, int, int]:
    figure = figures_on(db, as_of)["late_response_rate"]
    return figure["late"], figure["on_time"], figure["pending"]


# --- time zones ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "local_day"), [(LA, "2026-08-31"), ("UTC", "2026-09-01")])
def test_an_order_belongs_to_its_local_purchase_day(db, zone, local_day):
    seller = Seller(db)
    seller.setting("timezone", zone)
    order = seller.order("2026-09-01 05:00")  # 2026-08-31 22:00 PDT
    seller.feedback(order, "2026-09-01", rating=1)
    # The live window of as_of D is D-59..D: D = 2026-08-31 ends on the order's day if it is Aug 31,
    # D = 2026-10-30 starts on 2026-09-01, the day after.
    in_la = zone == LA
    assert odr(db, date(2026, 8, 31), live=True)["orders"] == (1 if in_la else 0)
    assert odr(db, date(2026, 10, 30), live=True)["orders"] == (0 if in_la else 1)
    assert odr(db, date(2026, 10, 29), live=True)["orders"] == 1
    assert odr(db, date(2026, 10, 29), live=True)["defective_orders"] == 1
    assert figures_on(db, date(2026, 10, 29))["live_order_defect_rate"]["defects"][0]["purchase_day"] == local_day


def test_as_of_means_the_end_of_the_local_day(db):
    seller = Seller(db)
    seller.setting("timezone", LA)
    seller.message("2026-09-01 06:30", thread="a")  # 2026-08-31 23:30 PDT
    seller.reply("2026-09-01 06:50", thread="a")  # 23:50 PDT, before the end of Aug 31 there
    seller.message("2026-09-01 06:40", thread="b")
    seller.reply("2026-09-01 07:10", thread="b")  # 00:10 PDT on Sep 1: not yet on Aug 31
    assert lrr(db, date(2026, 8, 31)) == (0, 1, 1)
    assert lrr(db, date(2026, 9, 1)) == (0, 2, 0)
    seller.setting("timezone", "UTC")
    assert lrr(db, date(2026, 8, 31)) == (0, 0, 0)  # in UTC both messages are on Sep 1


@pytest.mark.parametrize(("as_of", "live"), [(date(2026, 11, 1), True), (date(2026, 11, 15), False)])
def test_window_edges_with_a_daylight_saving_change_inside(db, as_of, live):
    seller = Seller(db)
    seller.setting("timezone", LA)
    # Window 2026-09-03..2026-11-01 (live as of 11-01, lagging as of 11-15); the clocks go back from PDT
    # (UTC-7) to PST (UTC-8) at 2026-11-01 09:00 UTC, so the window's two ends have different offsets.
    out_before = seller.order("2026-09-03 06:59:59")  # Sep 2 23:59:59 PDT
    first = seller.order("2026-09-03 07:00:00")  # Sep 3 00:00 PDT
    seller.order("2026-11-01 08:30:00")  # 01:30 PDT, before the change
    seller.order("2026-11-01 09:30:00")  # 01:30 PST, after it
    last = seller.order("2026-11-02 07:59:59")  # Nov 1 23:59:59 PST (00:59 on Nov 2 at PDT's offset)
    seller.order("2026-11-02 08:00:00")  # Nov 2 00:00 PST
    for order in (out_before, first, last):
        seller.feedback(order, "2026-11-01", rating=1)
    figure = odr(db, as_of, live)
    assert (figure["window_start"], figure["window_end"]) == ("2026-09-03", "2026-11-01")
    assert figure["orders"] == 4
    assert figure["defective_orders"] == 2
    assert {row["order_id"] for row in figure["defects"]} == {first, last}


def test_return_deadline_counts_calendar_hours_across_the_change(db):
    seller = Seller(db)
    seller.setting("timezone", LA)
    seller.return_request(seller.order(), "2026-11-01", status="Pending")
    # 2026-11-01 00:00 PDT + 48 h = 2026-11-03 07:00 UTC = 2026-11-02 23:00 PST, before the end of Nov 2
    # (2026-11-03 08:00 UTC): overdue as of Nov 2 already, though only 47 wall-clock hours have passed.
    assert figures_on(db, date(2026, 11, 1))["return_dissatisfaction_rate"]["dissatisfied"] == 0
    assert figures_on(db, date(2026, 11, 2))["return_dissatisfaction_rate"]["dissatisfied"] == 1


def test_reply_deadline_counts_calendar_hours_across_the_change(db):
    seller = Seller(db)
    seller.setting("timezone", LA)
    seller.message("2026-10-31 16:00", thread="a")  # 09:00 PDT
    seller.reply("2026-11-01 16:00", thread="a")  # 08:00 PST: 24 calendar hours, on time
    seller.message("2026-10-31 16:00", thread="b")
    seller.reply("2026-11-01 16:00:01", thread="b")
    assert lrr(db, date(2026, 11, 2)) == (1, 1, 0)


# --- daily series --------------------------------------------------------------------------------------------


def build_seller(db, zone: str) -> None:
    """Four months of orders and defects that enter and leave the windows in every way the rules allow."""
    seller = Seller(db)
    seller.setting("timezone", zone)
    seller.setting("csba_periods", [{"start": "2026-09-01", "end": "2026-10-15"}])
    first = date(2026, 6, 20)
    for offset in range(150):
        day = first + timedelta(days=offset)
        # Near midnight UTC, so in Los Angeles some land on the day before.
        seller.order(f"{day} 03:30", channel="FBA")
        seller.order(f"{day} 18:00", channel="FBM")
        if offset % 9 == 0:
            seller.order(f"{day} 12:00", channel="FBM", status="Cancelled")
    order = seller.order
    a = order("2026-08-05 12:00")
    seller.feedback(a, "2026-08-10", rating=1)
    b = order("2026-08-20 12:00", channel="FBA")
    seller.feedback(b, "2026-08-25", rating=2, removal_status="removed", removed_on="2026-09-20")
    c = order("2026-09-01 12:00")
    seller.claim(c, "2026-09-05", status="denied", decided="2026-09-25")
    d = order("2026-09-10 12:00")  # three defects, one order
    seller.feedback(d, "2026-09-12", rating=2)
    seller.claim(d, "2026-09-15", status="granted", decided="2026-09-20")
    seller.claim(d, "2026-10-01", type="chargeback", reason="service")
    e = order("2026-09-10 12:00", channel="FBA")  # nothing that counts
    seller.claim(e, "2026-09-12", reason="not-received", status="granted", decided="2026-09-20")
    seller.claim(e, "2026-09-14", type="chargeback", reason="fraud")
    seller.feedback(e, "2026-09-15", rating=3)
    f = order("2026-09-11 12:00", status="Cancelled")
    seller.feedback(f, "2026-09-12", rating=1)
    g = order("2026-10-15 12:00", channel="FBA")  # overlapping intervals
    seller.feedback(g, "2026-10-20", rating=1, removal_status="struck_through", removed_on="2026-11-01")
    seller.claim(g, "2026-10-25", reason="defective")
    h = order("2026-07-20 12:00")  # two separate intervals on one order
    seller.claim(h, "2026-07-25", status="withdrawn", decided="2026-08-01")
    seller.feedback(h, "2026-08-10", rating=1)
    i = order("2026-10-30 12:00")
    seller.claim(i, "2026-11-05", type="chargeback", reason="other", status="withdrawn", decided="2026-11-12")
    for index, when in enumerate(["2026-07-15", "2026-08-20", "2026-09-30", "2026-10-28", "2026-11-10"]):
        seller.feedback(order(f"{when} 09:00"), when, rating=5 if index % 2 else 4)
    seller.feedback(order("2026-11-02 09:00"), "2026-11-04", rating=2, struck_through=1)
    # Messages: on time, late, late reply, auto-reply only, no response needed, CSBA-covered, restarts.
    csba = order("2026-09-05 12:00")
    seller.message("2026-08-03 10:00", thread="t1")
    seller.reply("2026-08-03 18:00", thread="t1")
    seller.message("2026-08-20 23:30", thread="t2")
    seller.reply("2026-08-23 10:00", thread="t2")
    seller.message("2026-09-06 10:00", thread="t3", order_id=csba)
    seller.message("2026-09-10 04:00", thread="t4")
    seller.reply("2026-09-10 05:00", thread="t4", automatic=True)
    seller.message("2026-09-29 06:00", thread="t5", no_response_needed_at=at("2026-09-29 08:00"))
    seller.message("2026-10-02 07:00", thread="t6")
    seller.reply("2026-10-03 07:00", thread="t6")
    seller.message("2026-10-04 07:00", thread="t6")
    seller.message("2026-10-20 06:59", thread="t7")
    seller.reply("2026-10-21 07:30", thread="t7")
    seller.message("2026-11-18 22:00", thread="t8")
    # Returns: pending past 48 h, answered late, negative feedback, wrongly rejected, fine.
    seller.return_request(order("2026-08-01 10:00"), "2026-08-05", status="Pending")
    seller.return_request(
        order("2026-08-25 10:00"), "2026-09-01", status="Approved", responded_at=at("2026-09-04 10:00")
    )
    seller.return_request(order("2026-09-25 10:00"), "2026-10-01", negative_return_feedback=1)
    seller.return_request(order("2026-10-05 10:00"), "2026-10-10", status="Rejected", incorrectly_closed=1)
    seller.return_request(
        order("2026-10-10 10:00"), "2026-10-12", status="Approved", responded_at=at("2026-10-12 15:00")
    )
    seller.return_request(order("2026-11-15 10:00"), "2026-11-19", status="Pending")


def one_day(db, day: date) -> dict:
    """The series' point for `day`, built from the figures computed for that day alone."""
    figures = figures_on(db, day)
    point = {"day": day.isoformat()}
    for prefix, key in (("", "order_defect_rate"), ("live_", "live_order_defect_rate")):
        odr = figures[key]
        point[f"{prefix}odr"] = odr["rate"]
        for channel in ("FBA", "FBM"):
            point[f"{prefix}odr_{channel.lower()}"] = odr["by_channel"][channel]["rate"]
            point[f"{prefix}orders_{channel.lower()}"] = odr["by_channel"][channel]["orders"]
            point[f"{prefix}defective_orders_{channel.lower()}"] = odr["by_channel"][channel]["defective_orders"]
        for count in ("orders", "defective_orders", "negative_feedback", "a_to_z_claims", "chargebacks"):
            point[f"{prefix}{count}"] = odr[count]
    lrr = figures["late_response_rate"]
    point.update(lrr=lrr["rate"], lrr_late=lrr["late"], lrr_on_time=lrr["on_time"])
    nfr = figures["negative_feedback_rate"]
    point.update(nfr=nfr["rate"], nfr_ratings_complete=nfr["ratings_complete"])
    point.update(nfr_ratings=nfr["feedback"], nfr_negative=nfr["negative"])
    rdr = figures["return_dissatisfaction_rate"]
    point.update(rdr=rdr["rate"], rdr_returns=rdr["returns"], rdr_dissatisfied=rdr["dissatisfied"])
    return point


@pytest.mark.parametrize("zone", ["UTC", LA])
def test_daily_series_equals_day_by_day_computation(db, zone):
    build_seller(db, zone)
    first, last = date(2026, 7, 1), date(2026, 11, 25)
    series = daily_series(load_snapshot(db, first, last), first, last)
    assert len(series) == (last - first).days + 1
    for point in series:
        day = date.fromisoformat(point["day"])
        assert point == one_day(db, day), day
    # The seller above must exercise the series: defects enter and leave both windows.
    for key in ("defective_orders", "live_defective_orders", "live_a_to_z_claims", "live_chargebacks", "lrr_late"):
        assert len({point[key] for point in series}) >= 3, key
    assert max(point["live_defective_orders"] for point in series) >= 3


# --- local days near odd midnights ----------------------------------------------------------------------------

# Days whose midnight a zone's clock crossed oddly: set back across it (St. John's 2010, Casey 2010), sprung
# forward over it (Toronto 1919), a whole day skipped (Samoa 2011), and an ordinary change for comparison.
ODD_MIDNIGHTS = [
    ("America/St_Johns", date(2010, 11, 7)),
    ("Antarctica/Casey", date(2010, 3, 5)),
    ("America/Toronto", date(1919, 3, 31)),
    ("Pacific/Apia", date(2011, 12, 31)),
    ("Pacific/Apia", date(2011, 12, 30)),
    (LA, date(2026, 11, 1)),
]


@pytest.mark.parametrize(("zone", "day"), ODD_MIDNIGHTS)
def test_an_instant_s_side_of_a_midnight_is_its_local_day_s(zone, day):
    tz = ZoneInfo(zone)
    start = day_start(day, tz)
    instants = range(start - 3 * DAY_S, start + 3 * DAY_S, 600)
    wrong = [i for i in instants if on_or_after_day(i, day, start, tz) != (timeutil.local_day(i, tz) >= day)]
    assert wrong == []
    # The earliest day of a few instants, whichever of them comes first.
    for offset in range(0, 3 * DAY_S, 1800):
        group = [start - DAY_S + offset, start + offset // 3, start + 2 * DAY_S]
        assert earliest_local_day(group, tz) == min(timeutil.local_day(i, tz) for i in group)


@pytest.mark.parametrize(("zone", "day"), ODD_MIDNIGHTS)
@pytest.mark.parametrize("edge", ["start", "end"])
@pytest.mark.parametrize("indexed", [False, True], ids=["every record", "indexed"])
def test_the_triage_window_holds_the_records_of_its_local_days_near_odd_midnights(zone, day, edge, indexed):
    """Messages and status changes every ten minutes around the midnight, rejected return requests on the
    days around it, a window starting or ending there: listed are exactly those whose local day is in the
    window, whether the list goes over every record or only those its indexes pick (the recent ones)."""
    tz = ZoneInfo(zone)
    start = day_start(day, tz)
    instants = list(range(start - 2 * DAY_S, start + 2 * DAY_S, 600))
    contacts = [Contact(Message(f"m{x}", f"t{x}", None, x), answered_at=x + 2 * DAY_S) for x in instants]
    changes = [StatusChange(at=x, metric="odr", old_status="good", new_status="at_risk") for x in instants]
    # Days the zone's clock did not skip: a record is never dated on one (Samoa had no 30 December 2011).
    days = [day + timedelta(days=n) for n in range(-4, 5)]
    days = [d for d in days if timeutil.local_day(day_start(d, tz), tz) == d]
    returns = [ReturnRequest(f"r{d}", f"o{d}", d, "Rejected") for d in days]
    inputs = TriageInputs(contacts=contacts, status_changes=changes, returns=returns)
    if indexed:
        inputs = replace(inputs, contact_index=contact_index(contacts), return_index=return_index(returns))
    # A window starting on the day, or ending on the day before it.
    first, last = (
        (day, day + timedelta(days=3)) if edge == "start" else (day - timedelta(days=3), day - timedelta(days=1))
    )
    moment = start + 5 * DAY_S
    listed = {item.key for item in triage_items(inputs, moment, Settings(timezone=zone), first, last)}
    in_window = [x for x in instants if first <= timeutil.local_day(x, tz) <= last]
    returned = {f"return:r{d}" for d in days if first <= d <= last}
    assert listed == {f"message:m{x}" for x in in_window} | {f"status:odr:{x}" for x in in_window} | returned


def test_a_message_is_new_by_its_local_day_when_the_clock_fell_back_across_midnight(db):
    """In St. John's the clock went from 00:01 back to 23:01 on 7 Nov 2010: the half hour after that
    midnight's first pass is still 6 November, before a first window starting on the 7th."""
    seller = Seller(db)
    seller.setting("timezone", "America/St_Johns")
    seller.message("2010-11-07 03:00", thread="sixth", message_id="sixth")  # 23:30 NST, 6 Nov
    seller.reply("2010-11-09 03:00", thread="sixth")  # answered late
    seller.message("2010-11-07 04:30", thread="seventh", message_id="seventh")  # 01:00 NST, 7 Nov
    seller.reply("2010-11-09 05:00", thread="seventh")
    listing = services.load_triage(db, at("2010-11-13 15:00"))
    assert listing.window_start == date(2010, 11, 7)
    assert {item.key for item in listing.items} == {"message:seventh"}


@pytest.mark.parametrize("bought", ["2010-11-06 15:15", "2010-11-07 15:15", "2010-11-08 15:15"])
def test_a_few_orders_imported_around_a_midnight_passed_twice_count_as_from_scratch(db, db_path, tmp_path, bought):
    """St. John's, 7 Nov 2010: orders of 6 Nov's second pass of 23:01–00:01 come after 7 Nov began. A few-row
    import of an order bought on one of those days has its days counted again on the worker's connection
    (`snapshot.with_days_counted_again`): the figures and the charts are those counted from scratch."""
    from app.alerts import RecordingSink
    from app.scheduler import MonitorScheduler
    from storage import order_counts
    from tests.recording import RecordingListener
    from tests.report_files import made_up_orders
    from tests.test_incremental_figures import from_scratch, same
    from tests.ui_support import FixedClock

    seller = Seller(db)
    seller.setting("timezone", "America/St_Johns")
    for day in range(1, 21):
        seller.orders(3, f"2010-11-{day:02d} 16:00", channel="FBA")
    for minute in (10, 30, 50):  # 23:10–23:50 NST on 6 November, after 7 November's midnight
        seller.order(f"2010-11-07 03:{minute:02d}", channel="FBA")
    seller.claim(seller.order("2010-10-20 16:00"), "2010-10-25")  # a defect: the rates are not all zero
    order_counts.catch_up(db)
    db.conn.commit()
    listener = RecordingListener()
    worker = MonitorScheduler(db_path, listener, RecordingSink(), now=FixedClock(at("2010-11-21 00:00")))
    worker.figures.adopt()
    patched = []
    patched_figures = services.patched_figures

    def counting(*args):
        made = patched_figures(*args)
        patched.append(made is not None)
        return made

    try:
        worker.recompute()
        report = made_up_orders(1)
        report.set(0, "purchase-date", bought.replace(" ", "T") + ":00+00:00")
        report.set(0, "last-updated-date", bought.replace(" ", "T") + ":30+00:00")
        with pytest.MonkeyPatch.context() as patches:
            patches.setattr(services, "patched_figures", counting)
            worker._run_import([report.write(tmp_path / "orders.txt")], lambda: False)
        assert patched == [True], "the figures were patched"
        state = listener.states[-1]
        expected, _ = from_scratch(db_path, state.computed_at)
        assert same(state, expected)
    finally:
        worker.figures.close()
