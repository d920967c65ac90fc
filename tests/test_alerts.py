"""Alerts: when a clock, a status change or a new defect alerts, and that each alert comes exactly once.

Every instant is injected (late November 2026, UTC); the database is a real SQLite file. The buyer
message of most tests was received 2026-11-25 14:05 UTC, so its reply is due 2026-11-26 14:05 UTC and
the default thresholds cross at 08:05 (6 h) and 12:05 (2 h).
"""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import pytest

from app.alerts import (
    Alert,
    AlertSink,
    RecordingSink,
    _step_due,
    alert_status_changes,
    clock_alerts,
    defect_alerts,
    deliver_new,
    known_defects,
    last_statuses,
    new_defects,
    next_alert_at,
    record_delivered,
    save_statuses,
    status_alerts,
    status_history,
    undelivered,
)
from app.clocks import A_TO_Z_APPEAL, A_TO_Z_RESPONSE, BUYER_REPLY, FEEDBACK_REMOVAL, Clock, clocks_at
from app.settings import Settings
from storage import open_db
from storage.migrations import MIGRATIONS, schema_version
from tests.builders import Seller, at

HOUR = 3600
DAY = 86400
THRESHOLDS = [6, 2]
ORDER = "111-0000001-0000001"
RECEIVED = at("2026-11-25 14:05")
DUE = RECEIVED + DAY


def buyer_clock(item_id: str = "m1", due_at: int = DUE, order_id: str | None = ORDER) -> Clock:
    return Clock(BUYER_REPLY, order_id, due_at - DAY, due_at, item_id, "Order delivery", "FBM")


def keys(alerts: list[Alert]) -> list[str]:
    return [alert.key for alert in alerts]


def figures(**statuses: tuple[str, float | None]) -> dict:
    """Figures shaped like `metrics_as_of`'s: {metric: {"rate": ..., "status": ...}}."""
    return {metric: {"rate": rate, "status": status} for metric, (status, rate) in statuses.items()}


# --- Clocks: thresholds ------------------------------------------------------------------------------------------


def test_nothing_before_the_first_threshold():
    assert clock_alerts([buyer_clock()], DUE - 6 * HOUR - 1, THRESHOLDS) == []


def test_six_hour_threshold_alert():
    [alert] = clock_alerts([buyer_clock()], DUE - 6 * HOUR, THRESHOLDS)
    assert alert == Alert(
        key="clock:buyer_reply:m1:6h",
        kind="clock",
        title="6 h left to reply to a buyer",
        body=f"Order {ORDER}: Order delivery. Reply by 14:05 UTC on 26 Nov.",
        severity="warning",
        order_id=ORDER,
        item_id="m1",
        view="messages",
    )


def test_two_hour_threshold_covers_the_six_hour_one():
    [alert] = clock_alerts([buyer_clock()], DUE - 2 * HOUR, THRESHOLDS)
    assert alert.key == "clock:buyer_reply:m1:2h"
    assert alert.title == "2 h left to reply to a buyer"
    assert alert.severity == "warning"
    assert alert.covers == ("clock:buyer_reply:m1:6h",)


def test_overdue_alert():
    [alert] = clock_alerts([buyer_clock()], DUE, THRESHOLDS)
    assert alert.key == "clock:buyer_reply:m1:overdue"
    assert alert.title == "Buyer message overdue"
    assert alert.body == f"Order {ORDER}: Order delivery. Reply now: it was due at 14:05 UTC on 26 Nov."
    assert alert.severity == "critical"
    assert set(alert.covers) == {"clock:buyer_reply:m1:6h", "clock:buyer_reply:m1:2h"}


def test_fractional_and_custom_thresholds_are_labelled_with_g():
    [alert] = clock_alerts([buyer_clock()], DUE - 1.5 * HOUR, [12, 1.5])
    assert alert.key == "clock:buyer_reply:m1:1.5h"
    assert alert.title == "1.5 h left to reply to a buyer"


def test_a_late_threshold_alert_says_the_time_really_left():
    """The 6 h crossing seen 3 h 20 min late (app closed, laptop asleep) says how long is really left."""
    [alert] = clock_alerts([buyer_clock()], DUE - 2 * HOUR - 40 * 60, THRESHOLDS)
    assert alert.key == "clock:buyer_reply:m1:6h"
    assert alert.title == "2 h 40 min left to reply to a buyer"


def test_a_threshold_longer_than_the_clock_never_crosses():
    """A 24 h reply clock starts with less than 30 h left: no '30 h left' alert when the message arrives."""
    assert clock_alerts([buyer_clock()], RECEIVED + 60, [30]) == []


def test_other_kinds_use_the_clock_labels():
    claim = Clock(A_TO_Z_RESPONSE, ORDER, DUE - 2 * DAY, DUE, f"{ORDER}/a-to-z", "not-received", "FBM")
    [warning] = clock_alerts([claim], DUE - 6 * HOUR, THRESHOLDS)
    assert warning.title == "6 h left to respond to A-to-z claim"
    assert warning.body == f"Order {ORDER}: Item not received. Respond to A-to-z claim by 14:05 UTC on 26 Nov."
    [overdue] = clock_alerts([claim], DUE + HOUR, THRESHOLDS)
    assert overdue.title == "A-to-z claim response overdue"


def test_a_message_without_an_order():
    clock = buyer_clock(order_id=None)
    [alert] = clock_alerts([clock], DUE - 6 * HOUR, THRESHOLDS)
    assert alert.order_id is None
    assert alert.body == "Order delivery. Reply by 14:05 UTC on 26 Nov."


def test_due_times_in_the_marketplace_zone():
    [alert] = clock_alerts([buyer_clock()], DUE - 6 * HOUR, THRESHOLDS, zone=ZoneInfo("America/Los_Angeles"))
    assert alert.body.endswith("Reply by 06:05 PST on 26 Nov.")


def test_most_urgent_clock_first():
    later, sooner = buyer_clock("later", DUE + HOUR), buyer_clock("sooner", DUE)
    assert keys(clock_alerts([later, sooner], DUE, THRESHOLDS)) == [
        "clock:buyer_reply:sooner:overdue",
        "clock:buyer_reply:later:2h",
    ]


# --- Clocks: lookback --------------------------------------------------------------------------------------------


def test_history_overdue_long_ago_does_not_alert():
    """Just imported: a message whose reply was due three days ago is on the clock list, but alerts nothing."""
    assert clock_alerts([buyer_clock(due_at=DUE - 3 * DAY)], DUE, THRESHOLDS) == []


def test_a_crossing_slept_through_within_the_lookback_still_alerts():
    """The laptop slept from before the 6 h crossing until 20 h after the deadline."""
    [alert] = clock_alerts([buyer_clock()], DUE + 20 * HOUR, THRESHOLDS)
    assert alert.key == "clock:buyer_reply:m1:overdue"
    # 2 h crossed 22 h ago and is covered; 6 h crossed more than a day ago and is simply out of reach.
    assert alert.covers == ("clock:buyer_reply:m1:2h",)


def test_lookback_boundary_is_exclusive():
    assert keys(clock_alerts([buyer_clock()], DUE + DAY - 1, THRESHOLDS)) == ["clock:buyer_reply:m1:overdue"]
    assert clock_alerts([buyer_clock()], DUE + DAY, THRESHOLDS) == []


def test_custom_lookback():
    assert clock_alerts([buyer_clock()], DUE + 2 * HOUR, THRESHOLDS, lookback_s=HOUR) == []
    assert len(clock_alerts([buyer_clock()], DUE + 2 * HOUR, THRESHOLDS, lookback_s=3 * HOUR)) == 1


# --- Clocks: windows that close ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [A_TO_Z_APPEAL, FEEDBACK_REMOVAL])
def test_appeal_and_removal_windows_get_thresholds_but_no_overdue(kind):
    clock = Clock(kind, ORDER, DUE - 30 * DAY, DUE, ORDER, "Bad", "FBM")
    [warning] = clock_alerts([clock], DUE - 2 * HOUR, THRESHOLDS)
    assert warning.key == f"clock:{kind}:{ORDER}:2h"
    assert warning.severity == "warning"
    # At and after the deadline the window has closed: no overdue alert, and no stale "2 h left" either.
    assert clock_alerts([clock], DUE, THRESHOLDS) == []
    assert clock_alerts([clock], DUE + HOUR, THRESHOLDS) == []


def test_removal_window_title():
    clock = Clock(FEEDBACK_REMOVAL, ORDER, DUE - 90 * DAY, DUE, ORDER, "Bad", "FBM")
    [alert] = clock_alerts([clock], DUE - 6 * HOUR, THRESHOLDS)
    assert alert.title == "6 h left to request feedback removal"


# --- Delivery: once only -----------------------------------------------------------------------------------------


def test_several_thresholds_at_once_give_one_alert_and_no_later_repeat(db):
    """The app starts with 1 h left: one '1 h left' alert, and the 6 h one never fires afterwards."""
    sink = RecordingSink()
    started = DUE - HOUR
    delivered = deliver_new(db, sink, clock_alerts([buyer_clock()], started, THRESHOLDS), started)
    assert keys(delivered) == ["clock:buyer_reply:m1:2h"]
    assert sink.delivered == delivered
    assert delivered[0].title == "1 h left to reply to a buyer"
    for later in (started + 60, started + 30 * 60):
        assert deliver_new(db, sink, clock_alerts([buyer_clock()], later, THRESHOLDS), later) == []
    deliver_new(db, sink, clock_alerts([buyer_clock()], DUE, THRESHOLDS), DUE)
    assert keys(sink.delivered) == ["clock:buyer_reply:m1:2h", "clock:buyer_reply:m1:overdue"]


def test_each_step_once_as_time_passes(db):
    sink = RecordingSink()
    for minute in range(0, 7 * 60 + 1, 5):
        now = DUE - 6 * HOUR + minute * 60
        deliver_new(db, sink, clock_alerts([buyer_clock()], now, THRESHOLDS), now)
    assert keys(sink.delivered) == [
        "clock:buyer_reply:m1:6h",
        "clock:buyer_reply:m1:2h",
        "clock:buyer_reply:m1:overdue",
    ]


def test_covered_keys_are_recorded(db):
    [alert] = clock_alerts([buyer_clock()], DUE - HOUR, THRESHOLDS)
    record_delivered(db, [alert], DUE - HOUR)
    rows = {row["key"]: row for row in db.query("SELECT * FROM alerts")}
    assert set(rows) == {"clock:buyer_reply:m1:2h", "clock:buyer_reply:m1:6h"}
    assert rows["clock:buyer_reply:m1:6h"]["delivered_at"] == DUE - HOUR
    assert rows["clock:buyer_reply:m1:6h"]["item_id"] == "m1"
    assert rows["clock:buyer_reply:m1:2h"]["body"] == alert.body


def test_undelivered_drops_recorded_and_duplicate_keys(db):
    first, second = buyer_clock("a"), buyer_clock("b")
    candidates = clock_alerts([first, second], DUE - 6 * HOUR, THRESHOLDS)
    record_delivered(db, candidates[:1], DUE - 6 * HOUR)
    assert keys(undelivered(db, candidates + candidates)) == ["clock:buyer_reply:b:6h"]


def test_recording_twice_keeps_the_first_time(db):
    [alert] = clock_alerts([buyer_clock()], DUE - 6 * HOUR, THRESHOLDS)
    record_delivered(db, [alert], 1000)
    record_delivered(db, [alert], 2000)
    assert [row["delivered_at"] for row in db.query("SELECT delivered_at FROM alerts")] == [1000]


def test_no_repeat_after_a_restart(db_path):
    now = DUE - 2 * HOUR
    candidates = clock_alerts([buyer_clock("a"), buyer_clock("b", DUE + 3 * HOUR)], now, THRESHOLDS)
    first = open_db(db_path)
    try:
        assert len(deliver_new(first, RecordingSink(), candidates, now)) == 2
    finally:
        first.close()
    second = open_db(db_path)
    try:
        sink = RecordingSink()
        assert deliver_new(second, sink, candidates, now + 60) == []
        assert deliver_new(second, sink, clock_alerts([buyer_clock("a")], now + 60, THRESHOLDS), now + 60) == []
        assert sink.delivered == []
    finally:
        second.close()


def test_pause_delays_alerts_until_it_ends(db):
    sink = RecordingSink()
    paused_until = DUE - HOUR
    for now in (DUE - 6 * HOUR, DUE - 2 * HOUR, DUE - HOUR - 1):
        assert deliver_new(db, sink, clock_alerts([buyer_clock()], now, THRESHOLDS), now, paused_until) == []
    assert sink.delivered == []
    assert db["alerts"].count == 0
    # The pause ends: the crossings it hid come out as one alert for the most urgent step.
    delivered = deliver_new(
        db, sink, clock_alerts([buyer_clock()], paused_until, THRESHOLDS), paused_until, paused_until
    )
    assert keys(delivered) == ["clock:buyer_reply:m1:2h"]
    assert keys(sink.delivered) == ["clock:buyer_reply:m1:2h"]
    assert db["alerts"].count == 2


def test_recording_sink_is_an_alert_sink():
    sink: AlertSink = RecordingSink()
    alert = Alert("k", "clock", "t", "b", "info")
    sink.deliver(alert)
    assert sink.delivered == [alert]


def test_clocks_from_the_database_alert(db):
    """End to end with `app.clocks`: an unanswered message in the database alerts at its 2 h threshold."""
    seller = Seller(db)
    order = seller.order("2026-11-20 10:00")
    message = seller.message("2026-11-25 14:05", order_id=order, topic="Order delivery")
    now = DUE - 2 * HOUR
    clocks = clocks_at(db, now, Settings())
    sink = RecordingSink()
    deliver_new(db, sink, clock_alerts(clocks, now, Settings().alert_thresholds_hours), now)
    assert keys(sink.delivered) == [f"clock:buyer_reply:{message}:2h"]
    assert sink.delivered[0].order_id == order
    assert sink.delivered[0].item_id == message


# --- Metric status -----------------------------------------------------------------------------------------------


def test_first_status_does_not_alert():
    assert status_alerts({}, figures(order_defect_rate=("breach", 0.0105)), "2026-11-26") == []


def test_unchanged_status_does_not_alert():
    now = figures(order_defect_rate=("at_risk", 0.009))
    assert status_alerts({"order_defect_rate": "at_risk"}, now, "2026-11-26") == []


def test_worse_status_alerts():
    now = figures(order_defect_rate=("breach", 0.0105), late_response_rate=("at_risk", 0.085))
    breach, risk = status_alerts({"order_defect_rate": "at_risk", "late_response_rate": "good"}, now, "2026-11-26")
    assert breach == Alert(
        key="status:order_defect_rate:breach:2026-11-26",
        kind="status",
        title="Order Defect Rate is now over the limit (1.05 %)",
        body="As of 26 Nov: over the limit at 1.05 %, was at risk.",
        severity="critical",
        view="dashboard",
    )
    assert risk.key == "status:late_response_rate:at_risk:2026-11-26"
    assert risk.title == "Late Response Rate is now at risk (8.50 %)"
    assert risk.severity == "warning"


@pytest.mark.parametrize(
    ("old", "new", "severity", "title"),
    [
        ("breach", "good", "info", "Negative Feedback Rate is back to good (4.00 %)"),
        ("breach", "at_risk", "info", "Negative Feedback Rate is now at risk (4.00 %)"),
        ("insufficient_data", "at_risk", "warning", "Negative Feedback Rate is now at risk (4.00 %)"),
        ("insufficient_data", "good", "info", "Negative Feedback Rate is now good (4.00 %)"),
        ("good", "insufficient_data", "info", "Negative Feedback Rate has no figure now"),
    ],
)
def test_status_change_severity(old, new, severity, title):
    [alert] = status_alerts({"negative_feedback_rate": old}, figures(negative_feedback_rate=(new, 0.04)), "2026-11-26")
    assert (alert.severity, alert.title) == (severity, title)


def test_no_figure_body_gives_the_reason():
    now = {"return_dissatisfaction_rate": {"rate": None, "status": "insufficient_data", "reason": "no return requests"}}
    [alert] = status_alerts({"return_dissatisfaction_rate": "good"}, now, "2026-11-26")
    assert alert.body == "As of 26 Nov there is no figure (no return requests); it was good."


def test_only_the_five_metrics_are_read():
    now = figures(order_defect_rate=("good", 0.0)) | {"as_of": "2026-11-26", "unmatched_defects": []}
    assert status_alerts({"order_defect_rate": "breach", "as_of": "x"}, now, "2026-11-26")[0].severity == "info"


def test_status_change_noticed_across_a_restart(db_path):
    first = open_db(db_path)
    try:
        assert last_statuses(first) == {}
        save_statuses(
            first, figures(order_defect_rate=("at_risk", 0.009), live_order_defect_rate=("good", 0.005)), 1000
        )
    finally:
        first.close()
    second = open_db(db_path)
    try:
        previous = last_statuses(second)
        assert previous == {"order_defect_rate": "at_risk", "live_order_defect_rate": "good"}
        now = figures(order_defect_rate=("breach", 0.0105), live_order_defect_rate=("good", 0.006))
        assert keys(status_alerts(previous, now, "2026-11-26")) == ["status:order_defect_rate:breach:2026-11-26"]
    finally:
        second.close()


def test_save_statuses_keeps_a_history_of_changes(db):
    save_statuses(db, figures(order_defect_rate=("good", 0.005)), 1000)
    save_statuses(db, figures(order_defect_rate=("good", 0.006)), 2000)
    save_statuses(db, figures(order_defect_rate=("breach", 0.0105)), 3000)
    assert status_history(db) == [
        {"at": 1000, "metric": "order_defect_rate", "old_status": None, "new_status": "good", "rate": 0.005},
        {"at": 3000, "metric": "order_defect_rate", "old_status": "good", "new_status": "breach", "rate": 0.0105},
    ]
    row = db["metric_status"].get("order_defect_rate")
    assert (row["status"], row["rate"], row["changed_at"]) == ("breach", 0.0105, 3000)


def test_status_changes_delivered_once_and_kept_through_a_pause(db):
    sink = RecordingSink()
    assert alert_status_changes(db, sink, figures(order_defect_rate=("good", 0.005)), "2026-11-24", 1000) == []
    breach = figures(order_defect_rate=("breach", 0.0105))
    # Paused: nothing delivered, and the old status is kept so the change is still a change afterwards.
    assert alert_status_changes(db, sink, breach, "2026-11-25", 2000, paused_until=5000) == []
    assert last_statuses(db) == {"order_defect_rate": "good"}
    delivered = alert_status_changes(db, sink, breach, "2026-11-26", 6000, paused_until=5000)
    assert keys(delivered) == ["status:order_defect_rate:breach:2026-11-26"]
    assert alert_status_changes(db, sink, breach, "2026-11-26", 7000) == []
    assert keys(sink.delivered) == ["status:order_defect_rate:breach:2026-11-26"]


# --- Defects -----------------------------------------------------------------------------------------------------


def test_defect_alerts_one_per_defect():
    alerts = defect_alerts(
        [
            {"kind": "negative_feedback", "order_id": "112-1", "day": "2026-11-25"},
            {"kind": "negative_feedback", "order_id": "112-1", "day": "2026-11-25"},
            {"kind": "a_to_z_claim", "order_id": "112-2", "day": "2026-11-24"},
            {"kind": "chargeback", "order_id": "112-3", "day": None},
        ]
    )
    assert keys(alerts) == ["defect:negative_feedback:112-1", "defect:a_to_z_claim:112-2", "defect:chargeback:112-3"]
    assert [alert.title for alert in alerts] == [
        "New negative feedback on order 112-1",
        "New A-to-z claim on order 112-2",
        "New chargeback on order 112-3",
    ]
    assert alerts[0].body.startswith("1–2 star feedback on 25 Nov 2026.")
    assert alerts[2].body.startswith("Chargeback filed.")
    assert {(alert.severity, alert.view, alert.kind) for alert in alerts} == {("critical", "triage", "defect")}
    assert [alert.order_id for alert in alerts] == ["112-1", "112-2", "112-3"]


def test_known_defects_before_and_after_an_import(db):
    seller = Seller(db)
    seller.feedback("112-0", "2026-10-01", rating=2)
    seller.claim("112-9", "2026-10-02", status="denied", decided="2026-10-10")
    before = known_defects(db)
    assert before == {("negative_feedback", "112-0"), ("a_to_z_claim", "112-9")}

    # What an import brings: a 1-star and a 4-star feedback, a claim, a chargeback.
    seller.feedback("112-1", "2026-11-25", rating=1)
    seller.feedback("112-4", "2026-11-25", rating=4, comments="Fine")
    seller.claim("112-2", "2026-11-24")
    seller.claim("112-3", "2026-11-23", type="chargeback", reason="service")
    found = new_defects(db, before)
    assert found == [
        {"kind": "chargeback", "order_id": "112-3", "day": "2026-11-23"},
        {"kind": "a_to_z_claim", "order_id": "112-2", "day": "2026-11-24"},
        {"kind": "negative_feedback", "order_id": "112-1", "day": "2026-11-25"},
    ]
    assert known_defects(db) == before | {(d["kind"], d["order_id"]) for d in found}

    sink = RecordingSink()
    deliver_new(db, sink, defect_alerts(found), DUE)
    assert len(sink.delivered) == 3
    # Re-importing the same files: nothing new, and the same alerts would not come twice anyway.
    assert new_defects(db, known_defects(db)) == []
    assert deliver_new(db, sink, defect_alerts(found), DUE + 60) == []


def test_a_claim_and_feedback_on_one_order_are_two_defects(db):
    seller = Seller(db)
    seller.feedback("112-5", "2026-11-25", rating=1)
    seller.claim("112-5", "2026-11-25")
    assert known_defects(db) == {("negative_feedback", "112-5"), ("a_to_z_claim", "112-5")}
    assert len(defect_alerts(new_defects(db, set()))) == 2


# --- Migration ---------------------------------------------------------------------------------------------------


def test_a_version_1_database_upgrades_to_2_keeping_its_data(db_path):
    old = open_db(db_path, migrate_schema=False)
    try:
        MIGRATIONS[0][1](old)
        old.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'initial schema', 0)")
        old.execute("PRAGMA user_version = 1")
        Seller(old).feedback("112-1", "2026-11-25", rating=1)
        old.execute("INSERT INTO settings (key, value) VALUES ('timezone', '\"Europe/Berlin\"')")
        assert "alerts" not in old.table_names()
    finally:
        old.close()

    upgraded = open_db(db_path)
    try:
        # Every later migration runs too (3 added the triage tables).
        assert schema_version(upgraded) == len(MIGRATIONS) >= 2
        versions = [row["version"] for row in upgraded.query("SELECT version FROM schema_migrations")]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        assert {"alerts", "metric_status", "status_changes"} <= set(upgraded.table_names())
        assert upgraded["feedback"].get("112-1")["rating"] == 1
        assert upgraded["settings"].get("timezone")["value"] == '"Europe/Berlin"'
        assert known_defects(upgraded) == {("negative_feedback", "112-1")}
        deliver_new(upgraded, RecordingSink(), defect_alerts(new_defects(upgraded, set())), DUE)
        assert upgraded["alerts"].count == 1
    finally:
        upgraded.close()


def test_clocks_far_from_a_step_are_passed_over_without_changing_the_alerts():
    """Thousands of open clocks, most long overdue or far from their first step: the alerts and the next
    check are those of every clock's every step looked at."""
    rng = random.Random(11)
    kinds = (BUYER_REPLY, A_TO_Z_RESPONSE, A_TO_Z_APPEAL, FEEDBACK_REMOVAL)
    for _ in range(60):
        now = 1_800_000_000 + rng.randrange(DAY)
        thresholds = rng.sample([0.5, 1, 2, 6, 12, 30], rng.randint(0, 3))
        clocks = []
        for n in range(40):
            due = now + rng.randint(-3 * DAY, 3 * DAY)
            clocks.append(Clock(rng.choice(kinds), f"o{n}", due - rng.randint(1, 3 * DAY), due, f"i{n}", "", "FBM"))
        lookback = rng.choice([DAY, 600, 4 * 3600])
        steps = [float(hours) for hours in sorted(set(thresholds), reverse=True) if hours > 0] + [0.0]
        # And deadlines a second either side of each step's first and last instant in the lookback.
        edges = [now + hours * 3600 + shift for hours in steps for shift in (-lookback, 0)]
        for n, due in enumerate(int(edge) + second for edge in edges for second in (-1, 0, 1)):
            clocks.append(Clock(rng.choice(kinds), f"e{n}", due - rng.randint(1, 3 * DAY), due, f"e{n}", "", "FBM"))
        expected = {clock.item_id for clock in clocks if any(_step_due(clock, hours, now, lookback) for hours in steps)}
        assert {alert.item_id for alert in clock_alerts(clocks, now, thresholds, lookback)} == expected
        crossings = [
            clock.due_at - hours * 3600
            for clock in clocks
            for hours in steps
            if clock.due_at - hours * 3600 > now and _step_due(clock, hours, clock.due_at - hours * 3600, 0.5)
        ]
        assert next_alert_at(clocks, now, thresholds) == min(crossings, default=None)
