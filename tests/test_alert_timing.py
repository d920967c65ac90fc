"""When alerts come and which: at the instant a threshold is crossed (not at the next 30 s look), one
summary for imported history instead of a flood, and nothing on the desktop for the demo seller."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime

import pytest

from app import alerts
from app.alerts import DEFECT, RecordingSink, import_alerts, next_alert_at
from app.clocks import A_TO_Z_APPEAL, BUYER_REPLY, Clock
from app.demo_state import DEMO_FLAG
from app.scheduler import THRESHOLD_JOB, MonitorScheduler
from storage import open_db
from storage.settings import delete_setting
from tests.conftest import SAMPLE_FILES
from tests.recording import RecordingListener
from tests.ui_support import SAMPLE_NOW, FixedClock

HOUR = 3600
START = int(SAMPLE_NOW)


def buyer(started: int, due: int, item: str = "m1") -> Clock:
    return Clock(BUYER_REPLY, "111-0000000-0000001", started, due, item, "Where is my order")


# --- the next instant, on an injected clock ------------------------------------------------------------------


def test_the_next_check_is_the_next_threshold_then_the_deadline():
    clock = buyer(START, START + 24 * HOUR)
    steps, at = [], START
    while (at := next_alert_at([clock], at, (6, 2))) is not None:
        steps.append(at)
    assert steps == [START + 18 * HOUR, START + 22 * HOUR, START + 24 * HOUR]


def test_each_next_instant_is_where_clock_alerts_finds_a_new_step():
    clocks = [buyer(START, START + 24 * HOUR, "a"), buyer(START + HOUR, START + 5 * HOUR, "b")]
    at = START
    while (target := next_alert_at(clocks, at, (6, 2))) is not None:
        before = {a.key for a in alerts.clock_alerts(clocks, target - 0.001, (6, 2))}
        after = {a.key for a in alerts.clock_alerts(clocks, target, (6, 2))}
        assert after - before, f"nothing new at {target - START} s"
        at = target


def test_steps_that_never_alert_are_not_aimed_at():
    # Started with 5 h left: never crossed 6 h. An appeal window gets no overdue alert (it just closes).
    late_start = buyer(START, START + 5 * HOUR)
    appeal = Clock(A_TO_Z_APPEAL, "111-0000000-0000002", START, START + 30 * 24 * HOUR, "claim")
    assert next_alert_at([late_start], START, (6, 2)) == START + 3 * HOUR
    assert next_alert_at([appeal], START + 30 * 24 * HOUR - HOUR, (6, 2)) is None
    assert next_alert_at([], START, (6, 2)) is None


def test_the_scheduler_aims_a_one_off_check_at_the_next_crossing(demo_path):
    listener, sink = RecordingListener(), RecordingSink()
    scheduler = MonitorScheduler(demo_path, listener, sink, now=FixedClock(SAMPLE_NOW), recompute_minutes=60)
    scheduler.start()
    try:
        assert listener.state_seen.wait(20)
        deadline = time.monotonic() + 10
        while scheduler.next_check_at is None and time.monotonic() < deadline:
            time.sleep(0.02)
        clocks = listener.states[0].clocks
        expected = next_alert_at(clocks, SAMPLE_NOW, listener.states[0].settings.alert_thresholds_hours)
        assert expected is not None and scheduler.next_check_at == expected
        job = scheduler._scheduler.get_job(THRESHOLD_JOB)
        assert job.executor == "checks"  # not behind an import on the worker
        ahead = job.next_run_time.timestamp() - datetime.now(UTC).timestamp()
        assert abs(ahead - (expected - SAMPLE_NOW)) < 5
    finally:
        scheduler.shutdown()


# --- the real timetable: a short case in real seconds, on a clock that runs from a fixed day ---------------


class RunningClock:
    """Real seconds passing, counted from SAMPLE_NOW (never today's date)."""

    def __init__(self):
        self.started = time.monotonic()

    def __call__(self) -> float:
        return SAMPLE_NOW + (time.monotonic() - self.started)


def add_message(db_path, received_at: int) -> None:
    db = open_db(db_path)
    try:
        db["messages"].insert(
            {
                "message_id": "timing-1",
                "thread_key": "buyer-alias-1",
                "order_id": "111-0000000-0000009",
                "received_at": received_at,
                "kind": "buyer",
                "topic": "Where is my order",
            }
        )
    finally:
        db.close()


def test_a_threshold_alert_arrives_within_a_second_of_its_crossing(db_path):
    now = RunningClock()
    crossing = int(now()) + 3  # the 6 h threshold of a 24 h reply clock
    add_message(db_path, crossing - 18 * HOUR)
    listener, sink = RecordingListener(), RecordingSink()
    # An hour between periodic checks: only the aimed one-off check can deliver in time.
    scheduler = MonitorScheduler(db_path, listener, sink, now=now, check_seconds=3600, recompute_minutes=60)
    scheduler.start()
    try:
        deadline = time.monotonic() + 15
        while not any(alert.kind == "clock" for alert in sink.delivered) and time.monotonic() < deadline:
            time.sleep(0.005)
        arrived = now()
    finally:
        scheduler.shutdown()
    assert [alert.key for alert in sink.delivered if alert.kind == "clock"] == ["clock:buyer_reply:timing-1:6h"]
    assert 0 <= arrived - crossing <= 1.0, arrived - crossing


# --- imported history ----------------------------------------------------------------------------------------


def defect(kind: str, order: str, day: str) -> dict:
    return {"kind": kind, "order_id": order, "day": day}


def test_history_is_one_summary_and_only_news_alerts_one_by_one():
    old = [defect("negative_feedback", f"111-0000000-000000{n}", "2026-09-01") for n in range(5)]
    new = [defect("a_to_z_claim", "112-0000000-0000001", "2026-11-09")]
    first = import_alerts(old, None, first=True)
    assert [a.title for a in first] == ["5 defects in the imported history — open triage"]
    assert len(first[0].covers) == 5 and first[0].view == "triage"
    later = import_alerts(old + new, "2026-11-08")
    assert [a.title for a in later] == [
        "New A-to-z claim on order 112-0000000-0000001",
        "5 new defects since your last import — open triage",
    ]
    many = [defect("chargeback", f"113-0000000-000000{n}", "2026-11-09") for n in range(4)]
    flood = import_alerts(many, "2026-11-08")
    assert len(flood) == 1 and flood[0].severity == "critical" and len(flood[0].covers) == 4
    assert import_alerts([], "2026-11-08") == []


@pytest.mark.parametrize("on_the_workers_connection", [False, True])
def test_a_first_import_gives_one_summary_then_a_later_one_alerts_what_is_new(
    db_path, samples, tmp_path, on_the_workers_connection
):
    """On the worker's own connection (a small import, as the Import dialog's on the worker thread), what the
    database held before is read from a second connection's view of it as it was; on another, before."""
    open_db(db_path).close()
    now = FixedClock(SAMPLE_NOW)
    listener, sink = RecordingListener(), RecordingSink()
    scheduler = MonitorScheduler(db_path, listener, sink, now=now)
    if on_the_workers_connection:
        scheduler.figures.adopt()  # this thread is the worker
    try:
        _first_then_later_import(scheduler, sink, samples, tmp_path, now, db_path)
    finally:
        scheduler.figures.close()


def _first_then_later_import(scheduler, sink, samples, tmp_path, now, db_path):
    scheduler._run_import([samples / name for name in SAMPLE_FILES], lambda: False)
    defects = [alert for alert in sink.delivered if alert.kind == DEFECT]
    assert len(defects) == 1, [a.title for a in defects]
    assert defects[0].title.endswith("defects in the imported history — open triage")
    assert len(defects[0].covers) > 3

    # The samples hold records up to 19 Nov (a return): "news" is what is dated after that day.
    now.advance(14 * 24 * HOUR)
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "order-id,type,filed-date,status,reason,amount,currency,decided-date,buy-shipping-protected\n"
        "114-0000000-0000001,a-to-z,2026-11-21,open,not-received,19.99,USD,,N\n"
        "114-0000000-0000002,a-to-z,2026-08-02,open,not-received,19.99,USD,,N\n",
        encoding="utf-8",
    )
    seen = len(sink.delivered)
    scheduler._run_import([claims], lambda: False)
    titles = [alert.title for alert in sink.delivered[seen:] if alert.kind == DEFECT]
    assert titles == [
        "New A-to-z claim on order 114-0000000-0000001",
        "1 new defect since your last import — open triage",
    ]
    db = open_db(db_path)
    try:
        recorded = {row[0] for row in db.execute("SELECT key FROM alerts")}
    finally:
        db.close()
    assert f"{DEFECT}:a_to_z_claim:114-0000000-0000002" in recorded  # covered: it never alerts later


# --- the demo seller ------------------------------------------------------------------------------------------


def test_the_demo_sellers_alerts_stay_in_the_window(demo_path, tmp_path):
    # The same data as the seller's own: only the demo flag differs.
    shutil.copy(demo_path, tmp_path / "real.db")
    real_db = open_db(tmp_path / "real.db")
    delete_setting(real_db, DEMO_FLAG)
    real_db.close()
    demo_sink = RecordingSink()
    demo = MonitorScheduler(demo_path, RecordingListener(), demo_sink, now=FixedClock(SAMPLE_NOW))
    demo.recompute()
    demo.check_clocks()
    assert demo_sink.delivered and all(alert.window_only for alert in demo_sink.delivered)

    real_sink = RecordingSink()
    real = MonitorScheduler(tmp_path / "real.db", RecordingListener(), real_sink, now=FixedClock(SAMPLE_NOW))
    real.recompute()
    real.check_clocks()
    assert real_sink.delivered and not any(alert.window_only for alert in real_sink.delivered)


# --- pause and resume -----------------------------------------------------------------------------------------


def test_resuming_delivers_what_the_pause_held_back(demo_path):
    listener, sink = RecordingListener(), RecordingSink()
    scheduler = MonitorScheduler(demo_path, listener, sink, now=FixedClock(SAMPLE_NOW), recompute_minutes=60)
    scheduler.pause_alerts(3600)
    scheduler.start()
    try:
        assert listener.state_seen.wait(20)
        time.sleep(0.3)
        assert sink.delivered == []
        scheduler.resume_alerts()
        deadline = time.monotonic() + 20
        while not sink.delivered and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.shutdown()
    assert scheduler.paused_until is None
    assert sink.delivered
