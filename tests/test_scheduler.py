"""The background worker: APScheduler set up against its known pitfalls, catch-up on start and after sleep,
one job at a time, alerts once, failures reported instead of killing the timetable."""

from __future__ import annotations

import itertools
import threading
import time

from app import services
from app.alerts import RecordingSink
from app.marks import mark_no_response_needed
from app.scheduler import CHECK_JOB, RECOMPUTE_JOB, THRESHOLD_JOB, WATCH_JOB, MonitorScheduler, ResumeDetector
from app.triage import STATUS_CHANGE
from storage import open_db
from tests.recording import RecordingListener
from tests.test_mark_undo import DEMO_ORDER_MESSAGE
from tests.ui_support import SAMPLE_NOW, FixedClock

Listener = RecordingListener


def make(path, now=None, **kwargs):
    listener, sink = Listener(), RecordingSink()
    scheduler = MonitorScheduler(path, listener, sink, now=now or FixedClock(SAMPLE_NOW), **kwargs)
    return scheduler, listener, sink


def test_jobs_survive_sleep_and_never_pile_up(demo_path):
    scheduler, _, _ = make(demo_path)
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.jobs()}
        # The one-off check at the next threshold crossing may be set already by the first recomputation.
        assert (
            {RECOMPUTE_JOB, CHECK_JOB, WATCH_JOB} <= set(jobs) <= {RECOMPUTE_JOB, CHECK_JOB, WATCH_JOB, THRESHOLD_JOB}
        )
        for job in jobs.values():
            # A grace time of None runs a job that fell due while the laptop slept instead of dropping it;
            # coalesce runs it once, not once per missed interval.
            assert job.misfire_grace_time is None
            assert job.coalesce is True
            assert job.max_instances == 1
    finally:
        scheduler.shutdown()


def test_start_runs_the_checks_at_once(demo_path):
    scheduler, listener, sink = make(demo_path, recompute_minutes=60)
    scheduler.start()
    try:
        assert listener.state_seen.wait(20), "no recomputation on start"
        deadline = time.monotonic() + 20
        while not sink.delivered and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert listener.states[0].as_of.isoformat() == "2026-11-08"
    titles = [alert.title for alert in sink.delivered]
    assert any("left to reply to a buyer" in title for title in titles), titles


def test_alerts_fire_once_across_a_restart(demo_path):
    first, _, sink = make(demo_path)
    first.recompute()
    first.check_clocks()
    delivered = [alert.key for alert in sink.delivered]
    assert delivered and len(delivered) == len(set(delivered))
    restarted, _, again = make(demo_path)  # a new process: only the database remembers
    restarted.recompute()
    restarted.check_clocks()
    assert again.delivered == []


def test_a_threshold_crossed_later_alerts_then(demo_path):
    now = FixedClock(SAMPLE_NOW)
    scheduler, _, sink = make(demo_path, now=now)
    scheduler.check_clocks()
    first = {alert.key for alert in sink.delivered}
    now.advance(2 * 3600)  # the message that had 1.5 h left is now overdue
    scheduler.check_clocks()
    later = [alert for alert in sink.delivered if alert.key not in first]
    assert any(alert.key.endswith(":overdue") for alert in later), [a.key for a in later]


def test_paused_alerts_wait_for_the_end_of_the_pause(demo_path):
    now = FixedClock(SAMPLE_NOW)
    scheduler, _, sink = make(demo_path, now=now)
    scheduler.pause_alerts(3600)
    scheduler.recompute()
    scheduler.check_clocks()
    assert sink.delivered == []
    now.advance(3601)
    scheduler.check_clocks()
    assert sink.delivered


def test_resume_detector_notices_a_sleep():
    wall, mono = FixedClock(1_000_000.0), FixedClock(50.0)
    detector = ResumeDetector(wall=wall, monotonic=mono)
    wall.advance(15)
    mono.advance(15)
    assert not detector.resumed()
    wall.advance(3 * 3600)  # the lid was closed: wall time moved, monotonic time did not
    mono.advance(1)
    assert detector.resumed()
    wall.advance(15)
    mono.advance(15)
    assert not detector.resumed()


def test_waking_up_runs_the_checks_at_once(demo_path):
    wall, mono = FixedClock(SAMPLE_NOW - 10 * 3600), FixedClock(0.0)
    scheduler, listener, sink = make(demo_path, now=wall, monotonic=mono)
    scheduler.watch_for_resume()
    assert listener.states == []
    wall.advance(10 * 3600)  # slept ten hours
    scheduler.watch_for_resume()
    assert len(listener.states) == 1
    assert sink.delivered, "the clocks crossed while asleep alert on waking"


def test_jobs_run_one_at_a_time_on_one_thread(demo_path):
    scheduler, _, _ = make(demo_path, recompute_minutes=60, check_seconds=3600)
    spans, threads = [], set()

    def slow_write(db, label):
        threads.add(threading.get_ident())
        started = time.monotonic()
        time.sleep(0.2)
        spans.append((started, time.monotonic(), label))

    scheduler.start()
    try:
        for label in range(3):
            scheduler.submit("slow", slow_write, label)
        deadline = time.monotonic() + 20
        while len(spans) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert len(spans) == 3 and len(threads) == 1
    ordered = sorted(spans)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(ordered))


def test_a_failing_write_is_reported_and_the_figures_still_refresh(demo_path):
    scheduler, listener, _ = make(demo_path)

    def broken(db):
        raise RuntimeError("disk on fire")

    scheduler._run_write("Saving", broken, ())
    assert listener.failures == [("Saving", "disk on fire")]
    assert len(listener.states) == 1


def test_the_monday_reminder_comes_once_a_week_until_the_triage_is_done(demo_path):
    from app import services
    from storage import open_db

    monday = FixedClock(SAMPLE_NOW + 22 * 3600)  # Monday 9 Nov, 10:00 UTC: past the default Mon 09:00
    scheduler, _, sink = make(demo_path, now=monday)
    scheduler.check_clocks()
    reminders = [alert for alert in sink.delivered if alert.kind == "triage"]
    assert [alert.view for alert in reminders] == ["triage"]
    monday.advance(3600)
    scheduler.check_clocks()
    assert sum(alert.kind == "triage" for alert in sink.delivered) == 1
    db = open_db(demo_path)
    services.complete_session(db, monday())
    db.close()
    monday.advance(7 * 86400)  # the next Monday: a new week's triage is owed again
    scheduler.check_clocks()
    assert sum(alert.kind == "triage" for alert in sink.delivered) == 2


def test_shutdown_while_a_job_reschedules_does_not_hang(demo_path):
    """A job that touches the timetable (a settings change, the mailbox back-off) while the app quits."""
    scheduler, _, _ = make(demo_path, recompute_minutes=60, check_seconds=3600)
    entered = threading.Event()

    def slow_settings_change(db):
        entered.set()
        time.sleep(0.3)
        scheduler.reschedule_sync()  # needs the scheduler's job store while shutdown is under way

    scheduler.start()
    scheduler.submit("Saving settings", slow_settings_change, recompute=False)
    assert entered.wait(20)
    stopper = threading.Thread(target=scheduler.shutdown)
    stopper.start()
    stopper.join(timeout=20)
    assert not stopper.is_alive(), "shutdown hung"


def hold_the_write_lock(db, holding: threading.Event, release: threading.Event) -> None:
    """A write that lasts until the test says so, on the worker: what a long import does to the database."""
    from storage.transaction import write_transaction

    with write_transaction(db):
        db.execute("UPDATE settings SET value = value WHERE key = 'timezone'")
        db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('bench.hold', '1')")
        holding.set()
        assert release.wait(60)


def test_a_deadline_alert_does_not_wait_for_an_import(demo_path):
    now = FixedClock(SAMPLE_NOW)
    scheduler, listener, sink = make(demo_path, now=now, check_seconds=0.2, recompute_minutes=60)
    holding, release = threading.Event(), threading.Event()
    scheduler.start()
    try:
        assert listener.state_seen.wait(20)
        deadline = time.monotonic() + 20
        while not sink.delivered and time.monotonic() < deadline:
            time.sleep(0.05)
        before = {alert.key for alert in sink.delivered}
        scheduler.submit("Importing", hold_the_write_lock, holding, release, recompute=False)
        assert holding.wait(20)
        now.advance(2 * 3600)  # the message that had 1.5 h left is overdue, while the "import" runs
        deadline = time.monotonic() + 10
        while not any(key.endswith(":overdue") for key in {a.key for a in sink.delivered} - before):
            assert time.monotonic() < deadline, "the overdue alert waited for the import"
            time.sleep(0.05)
        assert not release.is_set()  # delivered while the write lock was still held
        release.set()
        time.sleep(1)  # a few more checks, now that the lock is free: they record, and repeat nothing
    finally:
        release.set()
        scheduler.shutdown()
    keys = [alert.key for alert in sink.delivered]
    assert len(keys) == len(set(keys)), keys
    overdue = [key for key in keys if key.endswith(":overdue")]
    db = open_db(demo_path)
    try:
        recorded = {row[0] for row in db.execute("SELECT key FROM alerts")}
    finally:
        db.close()
    assert set(overdue) <= recorded


def remember_a_mark(db, number: int) -> None:
    from storage.settings import write_setting

    write_setting(db, f"test.mark.{number}", number)


def test_every_write_asked_for_before_a_shutdown_is_done(demo_path):
    # Quit right after the seller's marks: each was handed to the worker, in order, and shutdown waits for
    # all of them (none may sit unseen in the timetable's job store and be dropped).
    scheduler, listener, _ = make(demo_path, recompute_minutes=60)
    scheduler.start()
    for number in range(25):
        scheduler.submit("Marking", remember_a_mark, number, recompute=False)
    scheduler.shutdown()
    db = open_db(demo_path)
    try:
        marks = db.execute("SELECT count(*) FROM settings WHERE key LIKE 'test.mark.%'").fetchone()[0]
    finally:
        db.close()
    assert marks == 25
    assert [what for what, _ in listener.done].count("Marking") == 25


def test_the_triage_a_recomputation_sends_lists_the_status_change_it_made(demo_path):
    scheduler, listener, _ = make(demo_path)
    scheduler.recompute()  # the first statuses, recorded
    assert listener.states[-1].metrics["late_response_rate"]["status"] == "breach"
    message = next(clock for clock in listener.states[-1].clocks if clock.order_id == DEMO_ORDER_MESSAGE)
    db = open_db(demo_path)
    try:
        assert mark_no_response_needed(db, message.item_id, SAMPLE_NOW) is not None
    finally:
        db.close()
    scheduler.recompute()  # out of the LRR, that message takes the LRR under its target
    assert listener.states[-1].metrics["late_response_rate"]["status"] == "good"
    changes = [item for item in listener.triage[-1].items if item.kind == STATUS_CHANGE]
    assert [item.details["metric"] for item in changes] == ["late_response_rate"]
    assert "Late Response Rate went from" in changes[0].what


def test_a_keyring_that_fails_is_said_instead_of_an_empty_pull(db_path, monkeypatch):
    """A region set, and the keyring refuses to read (a dismissed unlock prompt): the pull says why it cannot
    start, in the keyring's own words, and each report carries the reason and a retry."""
    import keyring.errors

    from app import spapi
    from app.host import AMAZON_PULL, SECRETS_UNAVAILABLE
    from app.mailsync import KeyringPasswords, Passwords
    from app.settings import save_setting
    from storage.transaction import write_transaction
    from tests.recording import MemoryKeyring

    class LockedKeyring(MemoryKeyring):
        def get_password(self, service, username):
            raise keyring.errors.KeyringLocked("the unlock prompt was dismissed")

    for name in spapi.ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)
    db = open_db(db_path)
    with write_transaction(db):
        save_setting(db, "amazon_region", "NA")
        save_setting(db, "amazon_marketplaces", ["US"])
        save_setting(db, "amazon_connection_id", "c0ffee")  # the secrets were saved once under it
    db.close()
    scheduler, listener, _ = make(db_path, passwords=Passwords(KeyringPasswords(LockedKeyring())))
    scheduler.start_amazon_pull()

    [(what, progress)] = listener.done
    problem = "The system keyring could not read the password (the unlock prompt was dismissed)."
    assert what == AMAZON_PULL and progress.errors == [f"{SECRETS_UNAVAILABLE} {problem}"]
    assert not progress.busy
    assert {(r.state, r.last_error) for r in progress.reports} == {("failed", progress.errors[0])}
    assert all(r.next_at == SAMPLE_NOW + 3600 for r in progress.reports)  # tried again in an hour


def test_a_recomputation_asked_for_while_one_runs_is_not_lost(demo_path, monkeypatch):
    """Recompute now during the periodic recomputation (a mark made while it runs) runs right after it, not
    at the next interval an hour later."""
    from app import services

    scheduler, listener, _ = make(demo_path, recompute_minutes=60)
    running, release = threading.Event(), threading.Event()
    refresh = services.refresh

    def slow_refresh(*args, **kwargs):
        running.set()
        release.wait(20)
        return refresh(*args, **kwargs)

    monkeypatch.setattr(services, "refresh", slow_refresh)
    scheduler.start()
    try:
        assert running.wait(20), "no recomputation on start"
        scheduler.recompute_soon()
        release.set()
        deadline = time.monotonic() + 20
        while len(listener.states) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert len(listener.states) == 2


# --- figures prepared before the start is kept ----------------------------------------------------------------


def counting_reuse(scheduler) -> list[bool]:
    """Whether each recomputation found its cards and charts kept (`FigureCache.reusable`)."""
    found: list[bool] = []
    reusable = scheduler.figures.reusable

    def counting(*args):
        kept = reusable(*args)
        found.append(kept is not None)
        return kept

    scheduler.figures.reusable = counting
    return found


def prepared(scheduler) -> None:
    scheduler.prepare()
    scheduler._worker.threads.submit(lambda: None).result(60)  # the worker's queue is done


def started_and_stopped(scheduler, listener) -> None:
    """Start the timetable, wait for the first recomputation's state, stop."""
    scheduler.start()
    try:
        assert listener.state_seen.wait(30), "no recomputation on start"
    finally:
        scheduler.shutdown()


def fresh_state(path, now):
    db = open_db(path)
    try:
        return services.refresh(db, now)
    finally:
        db.close()


def test_figures_prepared_before_the_start_are_sent_by_it_and_nothing_else_happens_before(demo_path):
    scheduler, listener, sink = make(demo_path, recompute_minutes=60)
    reuse = counting_reuse(scheduler)
    prepared(scheduler)
    db = open_db(demo_path)
    try:
        # Computed, not told: no state, no alert, nothing saved, until this start is known to be the monitor.
        assert (listener.states, sink.delivered, listener.failures) == ([], [], [])
        assert not services.has_last_state(db) and not db["alerts"].count
    finally:
        db.close()
    assert reuse == [False]  # the preparation itself found nothing kept
    started_and_stopped(scheduler, listener)
    assert reuse == [False, True]
    expected = fresh_state(demo_path, FixedClock(SAMPLE_NOW))
    assert (listener.states[0].metrics, listener.states[0].series) == (expected.metrics, expected.series)
    assert listener.states[0].clocks == expected.clocks


def test_a_commit_after_the_figures_were_prepared_is_in_the_first_figures(demo_path):
    scheduler, listener, _ = make(demo_path, recompute_minutes=60)
    reuse = counting_reuse(scheduler)
    prepared(scheduler)
    earlier = fresh_state(demo_path, FixedClock(SAMPLE_NOW))
    db = open_db(demo_path)
    try:
        order = db.execute("SELECT order_id FROM orders ORDER BY purchased_at DESC LIMIT 1 OFFSET 40").fetchone()[0]
        with db.conn:  # another process's import, as far as the worker can tell
            db["feedback"].insert({"order_id": order, "feedback_date": "2026-11-07", "rating": 1, "comments": "Late"})
    finally:
        db.close()
    started_and_stopped(scheduler, listener)
    assert reuse == [False, False]
    expected = fresh_state(demo_path, FixedClock(SAMPLE_NOW))
    assert listener.states[0].metrics == expected.metrics != earlier.metrics


def test_a_prepared_monitor_that_never_starts_stops_cleanly(demo_path):
    scheduler, listener, sink = make(demo_path)
    prepared(scheduler)
    scheduler.shutdown()
    assert scheduler._worker.threads._shutdown
    assert (listener.states, sink.delivered, listener.failures) == ([], [], [])


def test_the_database_process_prepares_figures_only_when_none_were_saved(demo_path):
    from app.host import DatabaseHost, HostOptions

    for saved in (False, True):
        host = DatabaseHost(HostOptions(str(demo_path), now=FixedClock(SAMPLE_NOW)), None)
        host.open()
        try:
            # A usual start shows the saved figures at once; its process leaves the cores to the window's.
            assert host._prepared._prepared is not saved
        finally:
            host.shutdown()
        db = open_db(demo_path)
        try:
            services.save_last_state(db, services.refresh(db, FixedClock(SAMPLE_NOW)))
        finally:
            db.close()
