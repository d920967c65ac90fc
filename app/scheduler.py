"""Background work: one worker thread runs every database job, APScheduler decides when.

It runs in the database's process (`app.host`), never in the window's. Every job that changes data
(recomputing the figures, importing files, the seller's marks, the mailbox, the watched folder) runs on one
worker thread, so there is one writer at a time. The clock check runs on a second thread of its own, so an
hour-long import never holds up a deadline alert: it reads the clocks from WAL's last committed snapshot
and delivers at once; only recording the delivery waits for the import's write, and a delivery not yet
recorded is remembered here so it is not shown twice. Results leave through a `Listener` (the pipe to the
window), so nothing here touches a widget.

APScheduler 3 pitfalls this avoids (see Vorta issue #347): the default `misfire_grace_time` of one
second silently drops a run that was due while the laptop slept, so it is `None` (always run late) with
`coalesce` (one catch-up run, not one per missed interval). A wall-clock jump that the monotonic clock
did not see means the machine was asleep: the checks run at once instead of waiting for their next
interval. They also run at once on start.

The periodic clock check is only the safety net. After each recomputation and each check, the next instant
a clock crosses a threshold (`alerts.next_alert_at`) gets a one-off check of its own on the same thread, so
a deadline alert comes within a fraction of a second of its crossing, not up to 30 s later; a pause gets a
recomputation at its end, so what it held back does not wait either. The demo seller's alerts are marked
`window_only`: the window shows them in its banner, never as a desktop notification.

The seller's writes and the recomputations run on one connection the worker keeps (`app.figure_cache`):
after a write that changed only what the cards and charts never read (a triage category, a completed
triage, a matrix edit), the recomputation reuses them and computes only the clocks, the money panel and
the triage list, which depend on the instant; after anything else it computes everything, as before.

Two optional jobs come and go with the settings (`reschedule_sync` applies a change): "mail-sync" polls
the mailbox every `imap_poll_minutes` and, after failures, waits longer each time (`next_poll_delay`) by
rescheduling itself; "watch-folder" looks at the watched folder every 5 s. Both run on the same worker
and report through the Listener like an import.

Two more follow the Amazon connection (`amazon_region` set): "amazon-pull" marks every report due every
`amazon_pull_hours` (at start, after sleep, and on Refresh now too), and "amazon-step" advances the pull by
one action per report (`app.amazon_pull.step`: request, look, or download and import) and sets itself for
the instant the engine names next. A report Amazon takes an hour to prepare is looked at now and then,
never waited for: the worker stays free for the seller's work and the recomputations.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from app import alerts, demo_state, mailsync, services
from app import clocks as clock_rules
from app.clocks import KeptClockInputs
from app.figure_cache import SMALL_IMPORT_BYTES, Changes, FigureCache, Figures
from app.host import AMAZON_PULL, SECRETS_UNAVAILABLE, AmazonProgress, amazon_reports, note_amazon_secrets_saved
from app.importers import ReportError
from app.importers.ahead import text_bytes
from app.importers.source import open_sources
from app.imports import FileResult, Progress, import_files
from app.settings import Settings, load_settings
from app.summary import METRIC_NAMES
from app.triage import TriageList
from app.triage_inputs import TriageReads
from app.watch import POLL_SECONDS, FolderWatcher, WatchOutcome
from storage import StorageError, open_db
from storage.db import DatabaseFiles
from storage.queries import only_home_marketplace

log = logging.getLogger(__name__)

RECOMPUTE_JOB, CHECK_JOB, WATCH_JOB = "recompute", "check-clocks", "watch-for-resume"
MAIL_JOB, FOLDER_JOB = "mail-sync", "watch-folder"
AMAZON_JOB, AMAZON_STEP_JOB = "amazon-pull", "amazon-step"
# One-off jobs: the clock check at the next threshold crossing, and the look at the end of a pause.
THRESHOLD_JOB, PAUSE_END_JOB = "check-at-threshold", "pause-end"
RECOMPUTE_SOON_JOB = "recompute-soon"
# The one-off check runs this long after the crossing, so that the clock it reads is past it for sure.
THRESHOLD_MARGIN_S = 0.01
REAIM_S = 0.25
CHECK_EXECUTOR = "checks"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class Listener(Protocol):
    """Where results go. Called on the worker thread: implementations hand them to their own thread."""

    def state_ready(self, state: services.MonitorState) -> None: ...
    def import_progress(self, progress: Progress) -> None: ...
    def import_finished(self, results: list[FileResult]) -> None: ...
    def job_failed(self, what: str, message: str) -> None: ...
    def job_finished(self, what: str, result: object) -> None: ...
    def triage_ready(self, listing: TriageList) -> None: ...
    def sync_status(self, status: mailsync.SyncStatus) -> None: ...
    def folder_imported(self, results: list[FileResult]) -> None: ...


class OneWorker(BasePoolExecutor):
    """APScheduler's thread pool with one thread, kept at hand so `shutdown` can wait for it itself."""

    def __init__(self, name: str = "worker"):
        self.threads = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        super().__init__(self.threads)


@contextmanager
def _not_waiting(db) -> Iterator:
    """A write on `db` that finds the database locked fails at once instead of waiting its busy timeout."""
    waited = db.execute("PRAGMA busy_timeout").fetchone()[0]
    db.execute("PRAGMA busy_timeout = 0")
    try:
        yield
    finally:
        db.execute(f"PRAGMA busy_timeout = {int(waited)}")


class ResumeDetector:
    """Notices that the machine slept: wall-clock time advanced more than monotonic time."""

    def __init__(self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        self._wall, self._monotonic = wall, monotonic
        self._last = (wall(), monotonic())

    def resumed(self, tolerance_s: float = 60) -> bool:
        wall, mono = self._wall(), self._monotonic()
        jump = (wall - self._last[0]) - (mono - self._last[1])
        self._last = (wall, mono)
        return abs(jump) > tolerance_s


class MonitorScheduler:
    """The app's background worker and its timetable.

    Args:
        db_path: the database file; the worker opens its own connection (one per thread).
        listener: receives results on the worker thread.
        sink: delivers alerts (the tray, a banner, or a recording sink in tests).
        now: the clock (injected in tests).
        monotonic: the clock that stops while the machine sleeps (injected in tests).
        passwords: where the IMAP password is (the system keyring, else this session's memory); the window
            passes the one its settings write to. Made on first use when not given.
    """

    def __init__(
        self,
        db_path: str | Path,
        listener: Listener,
        sink: alerts.AlertSink,
        *,
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        recompute_minutes: float = 5,
        check_seconds: float = 30,
        watch_seconds: float = 15,
        folder_seconds: float = POLL_SECONDS,
        passwords: mailsync.PasswordStore | None = None,
        mail_timeout: float = mailsync.DEFAULT_TIMEOUT_S,
    ):
        self.db_path = Path(db_path)
        self.listener = listener
        self.sink = sink
        self.now = now
        self.paused_until: float | None = None
        self._intervals = (recompute_minutes * 60, check_seconds, watch_seconds)
        self._resume = ResumeDetector(wall=now, monotonic=monotonic)
        self._folder_seconds = folder_seconds
        self._passwords = passwords
        self.mail_timeout = mail_timeout
        self.stopping = False
        self._delivery = threading.Lock()  # the worker and the clock check both deliver alerts
        self._unrecorded: dict[str, tuple] = {}  # delivered while an import held the write lock
        self._aim = threading.Lock()  # the worker and the clock check both aim the next threshold check
        self.next_check_at: float | None = None  # the crossing (on `now`'s clock) the one-off check is set for
        self.folder_watcher = FolderWatcher(now=now)
        self._folder_problem: str | None = None
        self._amazon_imported = 0  # reports imported since the current pull began
        self._amazon_secrets: _SecretsOfOnePull | None = None  # the keyring's answers, kept for one pull
        self._worker = OneWorker()
        self._prepared = False  # `prepare` ran: the worker has work before the timetable starts
        self.figures = FigureCache(self.db_path)  # the worker's connection and its last figures
        self._triage_offered = None  # the triage records kept, found usable as the figures were (worker only)
        self._checker = OneWorker("clock-check")
        self._scheduler = BackgroundScheduler(
            executors={"default": self._worker, CHECK_EXECUTOR: self._checker},
            job_defaults=JOB_DEFAULTS,
            timezone="UTC",
        )

    # --- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timetable; the recomputation and the clock check run at once (catch-up on start)."""
        recompute_s, check_s, watch_s = self._intervals
        add = self._scheduler.add_job
        add(self.recompute, "interval", seconds=recompute_s, id=RECOMPUTE_JOB, next_run_time=datetime.now(UTC))
        add(self.check_clocks, "interval", seconds=check_s, id=CHECK_JOB, executor=CHECK_EXECUTOR)
        add(self.watch_for_resume, "interval", seconds=watch_s, id=WATCH_JOB)
        with self.database() as db:  # a short read on the caller's thread, before the worker exists
            self._configure(load_settings(db))
        self._worker.threads.submit(self.figures.adopt)  # first in the worker's queue
        self._scheduler.start()

    def prepare(self) -> None:
        """Before the start is known to keep the database: the cards and charts computed on the worker into
        its figure cache, while the window's process loads. Nothing is sent, written or alerted; the first
        recomputation then finds them (`FigureCache.reusable`) and computes only the clocks and the money."""
        self._worker.threads.submit(self.figures.adopt)
        self._worker.threads.submit(self._prepare_figures)
        self._prepared = True

    def _prepare_figures(self) -> None:
        if self.stopping:
            return
        try:
            at = self.now()
            with self.figures.connection() as db:
                settings = load_settings(db)
                as_of = services.today(settings, lambda: at)
                if self.figures.reusable(db, settings, as_of) is None:
                    records: list = []
                    state = services.state_as_of(db, as_of, at, settings=settings, records=records)
                    self.figures.keep(db, _figures_of(state, records))
        except Exception:  # only a head start: the first recomputation computes them and says what failed
            log.exception("preparing the figures failed")
            self.figures.forget()

    def shutdown(self, wait: bool = True) -> None:
        """Stop: the job running finishes (an import should have been cancelled first), nothing new starts."""
        self.stopping = True  # the job still running skips its recomputation: the next start does one anyway
        try:
            if self._prepared and not self._scheduler.running:  # never started: only the figures' head start
                self._close_figures()
                self._worker.threads.shutdown(wait=wait)
            if self._scheduler.running:
                # Not APScheduler's shutdown(wait=True): it waits for the running job while holding its job
                # store's lock, and a job that reschedules (the mailbox back-off, a settings change) would wait
                # for that lock for ever. Stop the timetable, then wait for the worker here; jobs already
                # queued (a reply just marked) still run.
                self._scheduler.shutdown(wait=False)
                self._close_figures()
                if wait:
                    self._worker.threads.shutdown(wait=True)
                    self._checker.threads.shutdown(wait=True)
        finally:
            self.stopping = False

    def _close_figures(self) -> None:
        """The worker's connection is closed on the worker, after the jobs already queued."""
        with contextlib.suppress(RuntimeError):  # the worker is gone already, and its connection with it
            self._worker.threads.submit(self.figures.close)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def jobs(self):
        return self._scheduler.get_jobs()

    # --- asking for work --------------------------------------------------------------------------------------

    def recompute_soon(self) -> None:
        """Recompute now (after an import, a mark, a settings change); queued behind running work.

        A one-off job of its own, not the periodic one moved forward: APScheduler skips a run of a job whose
        previous run has not ended, so a request made while the periodic recomputation ran was lost until
        the next interval. Two at most: one running, one waiting (further requests join the waiting one)."""
        self._scheduler.add_job(
            self.recompute,
            "date",
            run_date=datetime.now(UTC),
            id=RECOMPUTE_SOON_JOB,
            replace_existing=True,
            max_instances=2,
        )

    def submit(self, what: str, action: Callable, *args, recompute: bool = True) -> None:
        """Run `action(db, *args)` on the worker (a write, or a long read such as an export); its result goes
        to `listener.job_finished`; then the figures are recomputed unless `recompute` is False."""
        self._queue(self._run_write, what, action, args, recompute)

    def submit_import(
        self, paths: Sequence[str | Path], cancelled: Callable[[], bool], marketplace: str | None = None
    ) -> None:
        """Import the files on the worker; `marketplace`: the one rows of orders not imported yet take (None:
        the home marketplace)."""
        self._queue(self._run_import, list(paths), cancelled, marketplace)

    def _queue(self, job: Callable, *args) -> None:
        """Work the seller asked for goes straight to the worker's queue, in order. Not through APScheduler:
        a job added there waits in its job store until its own thread hands it on, and a shutdown in between
        (Quit right after a mark) would drop it without a word; the worker's queue is drained by shutdown.

        Raises:
            StorageError: the monitor is stopping and takes no new work.
        """
        try:
            self._worker.threads.submit(job, *args)
        except RuntimeError:  # the worker was shut down
            raise StorageError("The monitor is stopping; it takes no new work.") from None

    def pause_alerts(self, seconds: float) -> None:
        self.paused_until = self.now() + seconds
        if self._scheduler.running:
            # What was held back (status changes too, not only clocks) comes as the pause ends, not at the
            # next periodic look.
            run = datetime.now(UTC) + timedelta(seconds=seconds + THRESHOLD_MARGIN_S)
            self._scheduler.add_job(self.recompute, "date", run_date=run, id=PAUSE_END_JOB, replace_existing=True)

    def resume_alerts(self) -> None:
        """End a pause now: what it held back is delivered by a recomputation queued at once."""
        self.paused_until = None
        if self._scheduler.running:
            if self._scheduler.get_job(PAUSE_END_JOB):
                self._scheduler.remove_job(PAUSE_END_JOB)
            self.recompute_soon()

    @property
    def passwords(self) -> mailsync.PasswordStore:
        if self._passwords is None:
            self._passwords = mailsync.Passwords()
        return self._passwords

    def reschedule_sync(self) -> None:
        """Apply changed mailbox or watched-folder settings: queued behind the write that saves them, it adds,
        removes or re-times the two jobs; an enabled mailbox is polled at once (also after a new password)."""
        self._queue(self._reconfigure)

    def sync_now(self) -> None:
        """Poll the mailbox now (when enabled), queued behind running work."""
        if self._scheduler.get_job(MAIL_JOB):
            self._scheduler.modify_job(MAIL_JOB, next_run_time=datetime.now(UTC))

    def pull_amazon_now(self) -> bool:
        """Start an Amazon pull now (Refresh now, after sleep); False when no connection is set up."""
        if self._scheduler.get_job(AMAZON_JOB) is None:
            return False
        self._scheduler.modify_job(AMAZON_JOB, next_run_time=datetime.now(UTC))
        return True

    # --- the jobs (worker thread) --------------------------------------------------------------------------

    @contextmanager
    def database(self) -> Iterator:
        """A connection for one job, opened and closed on the worker thread (one connection per thread;
        opening costs a millisecond, and nothing stays open when the app quits)."""
        db = open_db(self.db_path)
        try:
            yield db
        finally:
            db.close()

    def recompute(self) -> services.MonitorState | None:
        if self.stopping:  # quitting: the next start recomputes anyway
            return None
        with collected_after():
            return self._recompute()

    def _recompute(self) -> services.MonitorState | None:
        try:
            at = self.now()
            with self.figures.connection() as db:
                state = self._refresh(db, at)
                self.listener.state_ready(state)
                self._alert_after_refresh(db, state, at)
                # After the status changes are recorded: the triage lists the change this figure just made.
                listing = self._list_triage(db, state, at)
        except Exception as error:  # a bug must not stop the timetable; it is logged and shown
            log.exception("recomputation failed")
            self.listener.job_failed("Recomputing the figures", str(error))
            return None
        if isinstance(listing, Exception):
            self.listener.job_failed("Listing the triage", str(listing))
        else:
            self.listener.triage_ready(listing)
        self._save_for_next_start(state)
        return state

    def _refresh(self, db, at: float) -> services.MonitorState:
        """The figures, series and clocks as of `at` (saved for the next start once the list is out too)."""
        records: list = []
        clocks: list = []
        state = self.state_at(db, at, records, clocks)
        self.figures.keep(db, _figures_of(state, records), clocks[0] if clocks else None)
        return state

    def _save_for_next_start(self, state: services.MonitorState) -> None:
        """Keep the figures for the next start, after the seller has them (a megabyte written on years of
        data). Unnoted: nothing computed reads them."""
        try:
            with self.figures.connection() as db, self.figures.unnoted(db):
                services.save_last_state(db, state)
        except Exception:  # only a head start for the next launch (disk full, locked): the figures still go out
            log.exception("the figures could not be kept for the next start")

    def state_at(self, db, at: float, records: list | None = None, clocks: list | None = None) -> services.MonitorState:
        """`services.refresh` at `at`, with the cards and charts of the last recomputation when nothing they
        are computed from changed since, or patched when only a few buyer-message threads did; the clocks
        counted from the clock inputs last read when those still hold (`app.figure_cache`). `records`,
        `clocks`: lists the figures' records and the clock inputs are added to, to be kept."""
        settings = services.load_settings(db)
        as_of = services.today(settings, lambda: at)
        kept = self.figures.reusable(db, settings, as_of)
        changed = None if kept is not None else self.figures.changes(db, settings, as_of)
        kept_clocks = self.figures.kept_clocks(db)
        self._triage_offered = self.figures.kept_triage(db)
        self.figures.keep(db, None)  # forgotten until kept again: a failure below must not leave them
        if changed is not None:
            kept = _patched(db, *changed)
        if kept is not None and records is not None and kept.records is not None:
            records.append(kept.records)
        inputs = _clock_inputs(db, at, settings, kept_clocks)
        if inputs is not None and clocks is not None:
            clocks.append(inputs)
        open_now = clock_rules.open_clocks(inputs.inputs, at, settings) if inputs is not None else True
        if kept is None:
            return services.refresh(db, lambda: at, records=records, clocks=open_now)
        return services.state_as_of(db, as_of, at, settings=settings, clocks=open_now, kept=kept)

    def _list_triage(self, db, state: services.MonitorState, at: float):
        """The triage list, or the error that kept it from being listed (the figures still count). Its records
        are kept for the next list (`FigureCache.keep_triage`)."""
        reads = TriageReads(self._triage_offered)
        self._triage_offered = None
        try:
            listing = services.load_triage(db, at, settings=state.settings, clocks=state.clocks, reads=reads)
        except Exception as error:
            return error
        self.figures.keep_triage(db, reads.kept)
        return listing

    def _alert_after_refresh(self, db, state: services.MonitorState, at: float) -> None:
        figures = {key: state.metrics[key] for key in METRIC_NAMES}
        # Only this thread delivers status changes: no race with the clock check, so no lock held while
        # their record waits for another program's write.
        alerts.alert_status_changes(db, self._sink_for(db), figures, state.as_of.isoformat(), at, self.paused_until)
        settings = state.settings
        found = alerts.clock_alerts(state.clocks, at, settings.alert_thresholds_hours, zone=settings.zone)
        self._deliver(db, found, at)
        self._aim_next_check(state.clocks, at, settings)

    def _sink_for(self, db) -> alerts.AlertSink:
        """The sink, or for the demo seller one that keeps every alert inside the window."""
        return _WindowOnly(self.sink) if demo_state.is_active(db) else self.sink

    def _aim_next_check(self, clocks: list, at: float, settings: Settings) -> None:
        """Set a one-off clock check for the next threshold crossing, so its alert is not up to a periodic
        interval late. `at` is on the injected clock; APScheduler runs on the real one, so the job is set
        the same distance ahead of the real time. The periodic check stays as the safety net (a sleep, a
        clock changed by hand)."""
        target = alerts.next_alert_at(clocks, at, settings.alert_thresholds_hours)
        with self._aim:
            if target is None or not self._scheduler.running:
                return
            delay = target - at + THRESHOLD_MARGIN_S
            if target == self.next_check_at:
                if self._scheduler.get_job(THRESHOLD_JOB):
                    return
                # The check for it ran and found the crossing still ahead (the injected clock lags the real
                # one): look again soon, but never in a tight loop when that clock does not move at all.
                delay = max(delay, REAIM_S)
            self.next_check_at = target
            run = datetime.now(UTC) + timedelta(seconds=delay)
            self._scheduler.add_job(
                self.check_clocks,
                "date",
                run_date=run,
                id=THRESHOLD_JOB,
                executor=CHECK_EXECUTOR,
                replace_existing=True,
            )

    def _deliver(self, db, found: list, at: float, bundle_over: int = 3) -> list:
        """Deliver the alerts not delivered before, then record them. The sink is told first: recording waits
        for a running import's write lock, and an alert must not. A delivery whose record could not be written
        yet is kept here and written with the next one."""
        with self._delivery:
            shown = {key for alert, _ in self._unrecorded.values() for key in (alert.key, *alert.covers)}
            fresh = [alert for alert in found if alert.key not in shown]
            sink = self._sink_for(db)
            delivered = alerts.deliver_new(
                db, sink, fresh, at, self.paused_until, bundle_over=bundle_over, record=False
            )
            for alert in delivered:
                self._unrecorded[alert.key] = (alert, at)
            with _not_waiting(db):  # never hold the lock (and the clock check) behind another writer
                try:
                    for alert, when in list(self._unrecorded.values()):
                        alerts.record_delivered(db, [alert], when)
                        del self._unrecorded[alert.key]
                except (StorageError, sqlite3.OperationalError) as error:
                    log.info("alerts delivered; recording them waits for the database (%s)", error)
        return delivered

    def check_clocks(self) -> None:
        """Alert for every clock that crossed a threshold since the last look (cheap: clocks only)."""
        try:
            at = self.now()
            with self.database() as db:
                settings = load_settings(db)
                clocks = services.open_clocks(db, at, settings)
                found = alerts.clock_alerts(clocks, at, settings.alert_thresholds_hours, zone=settings.zone)
                self._deliver(db, found, at)
                self._aim_next_check(clocks, at, settings)
                self._remind_triage(db, at, settings)
        except Exception as error:
            log.exception("clock check failed")
            self.listener.job_failed("Checking the clocks", str(error))

    def _remind_triage(self, db, at: float, settings: Settings) -> None:
        """Monday morning (the seller's setting): remind while the week's triage is not completed."""
        if not services.triage_reminder_due(db, at, settings):
            return
        reminder = alerts.triage_reminder(services.today(settings, lambda: at))
        if self._deliver(db, [reminder], at):
            try:
                with _not_waiting(db):
                    services.record_triage_reminder(db, at)
            except (StorageError, sqlite3.OperationalError):  # an import holds the lock: the next look records it
                log.info("the triage reminder is recorded at the next check")

    def watch_for_resume(self) -> None:
        """Run the checks at once when the machine has just woken up (the wall clock jumped)."""
        if self._resume.resumed():
            log.info("the machine slept: running the checks now")
            self.sync_now()  # queued: runs after the recomputation below
            self.pull_amazon_now()
            self.recompute()

    def _reconfigure(self) -> None:
        try:
            with self.database() as db:
                self._configure(load_settings(db))
        except Exception as error:
            log.exception("applying the settings failed")
            self.listener.job_failed("Applying the mailbox settings", str(error))

    def _configure(self, settings: Settings) -> None:
        """Add, re-time or remove the mailbox and watched-folder jobs to match the settings."""
        if settings.imap_enabled:
            self._scheduler.add_job(
                self.sync_mail,
                "interval",
                seconds=settings.imap_poll_minutes * 60,
                id=MAIL_JOB,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
                # "Sync now" while a poll still runs: the second waits its turn on the one worker instead of
                # being skipped as "maximum number of running instances reached".
                max_instances=2,
            )
        elif self._scheduler.get_job(MAIL_JOB):
            self._scheduler.remove_job(MAIL_JOB)
        if settings.watch_enabled:
            if not self._scheduler.get_job(FOLDER_JOB):
                self._scheduler.add_job(self.watch_folder, "interval", seconds=self._folder_seconds, id=FOLDER_JOB)
        elif self._scheduler.get_job(FOLDER_JOB):
            self._scheduler.remove_job(FOLDER_JOB)
        self._configure_amazon(settings)

    def _configure_amazon(self, settings: Settings) -> bool:
        """The pull every `amazon_pull_hours` while a region is set; the first one at once (the start). A
        settings change that keeps the interval leaves the timetable alone: each pull spends Amazon's quota.
        True when a first pull was just set to start now."""
        if not getattr(settings, "amazon_region", ""):
            for job in (AMAZON_JOB, AMAZON_STEP_JOB):
                if self._scheduler.get_job(job):
                    self._scheduler.remove_job(job)
            return False
        seconds = float(settings.amazon_pull_hours) * 3600
        job = self._scheduler.get_job(AMAZON_JOB)
        if job is not None and job.trigger.interval.total_seconds() == seconds:
            return False
        self._scheduler.add_job(
            self.start_amazon_pull,
            "interval",
            seconds=seconds,
            id=AMAZON_JOB,
            replace_existing=True,
            next_run_time=job.next_run_time if job is not None else datetime.now(UTC),
        )
        return job is None

    def next_amazon_pull_at(self) -> float | None:
        """When the next scheduled pull starts, on `now`'s clock (None: no connection)."""
        job = self._scheduler.get_job(AMAZON_JOB)
        when = getattr(job, "next_run_time", None)
        if when is None:
            return None
        return self.now() + max(0.0, (when - datetime.now(UTC)).total_seconds())

    def apply_amazon_settings(self) -> None:
        """Follow a saved Amazon connection and pull at once (called on the worker, right after the save)."""
        self._amazon_secrets = None  # new secrets may have been typed
        with self.database() as db:
            started = self._configure_amazon(load_settings(db))
        if not started:
            self.pull_amazon_now()

    def start_amazon_pull(self) -> None:
        """Mark every report kind of every marketplace due, then take the first step at once."""
        from app import amazon_pull

        try:
            with self.database() as db:
                amazon_pull.start_pull(db, load_settings(db), self.now())
            self._amazon_imported = 0
            self._amazon_secrets = None  # read again, once, by the first step
        except Exception as error:
            log.exception("starting the Amazon pull failed")
            self.listener.job_failed(AMAZON_PULL, str(error))
            return
        self.step_amazon()

    def step_amazon(self) -> AmazonProgress | None:
        """Advance every due report by one action; new data recomputes the figures and alerts like an import."""
        from app import amazon_pull

        progress, imported = None, False
        try:
            with self.database() as db:
                settings = load_settings(db)
                if not settings.amazon_region:  # disconnected while this step waited: nothing to say
                    self._aim_amazon_step(None)
                    return None
                connection = self._amazon_connection(db, settings)
                before = _data_held(db)
                if connection is None:
                    result = self._no_amazon_connection(db, settings)
                else:
                    result = amazon_pull.step(db, connection, self.now())
                imported = any(found.outcome == "imported" for found in result.imported)
                if imported:
                    self._alert_new_defects(db, before)
                self._amazon_imported += sum(1 for found in result.imported if found.outcome == "imported")
                at = self.now()
                progress = AmazonProgress(
                    reports=amazon_reports(db),
                    imported=self._amazon_imported,
                    errors=list(result.errors),
                    busy=result.busy,
                    at=at,
                    next_pull_at=self.next_amazon_pull_at(),
                )
            self.listener.job_finished(AMAZON_PULL, progress)
            self._aim_amazon_step(result.next_at)
        except Exception as error:  # a bug must not stop the timetable: the next pull starts afresh
            log.exception("the Amazon pull failed")
            self.listener.job_failed(AMAZON_PULL, str(error))
        if imported:
            self.recompute()
        return progress

    def _amazon_connection(self, db, settings: Settings):
        """The connection the settings, the keyring and the environment describe; None when there is none.
        The keyring is read once per pull, not at every step: a locked one would ask to be unlocked each time."""
        from app import spapi

        if self._amazon_secrets is None:
            self._amazon_secrets = _SecretsOfOnePull(self.passwords)
        connection = spapi.connection_from(settings, self._amazon_secrets, os.environ)
        from_keyring = spapi.credentials_from_environment(os.environ) is None
        # The window's note says whether the secrets are kept from this flag: keep it true to the keyring,
        # unless the keyring itself failed (then it cannot tell).
        if from_keyring and settings.amazon_marketplaces and getattr(self.passwords, "problem", None) is None:
            note_amazon_secrets_saved(db, connection is not None)
        return connection

    def _no_amazon_connection(self, db, settings: Settings):
        """A region without usable secrets: every report due fails with the reason, said like any failed pull
        (the status bar, the table, and after a day the tray), and is tried again in an hour."""
        from app import amazon_pull, spapi

        if not settings.amazon_marketplaces:
            sentence = spapi.region_problem(settings.amazon_region, ()) or SECRETS_UNAVAILABLE
        else:
            problem = getattr(self.passwords, "problem", None)
            sentence = f"{SECRETS_UNAVAILABLE} {problem}" if problem else SECRETS_UNAVAILABLE
        at = self.now()
        result = amazon_pull.StepResult(next_at=at + amazon_pull.RETRY_AFTER_FAILURE_S)
        amazon_pull._fail_pull(db, sentence, at, result)  # the same record as a pull a wrong secret stopped
        return result

    def _aim_amazon_step(self, next_at: float | None) -> None:
        """The next step at `next_at` (on `now`'s clock, so the same distance ahead of the real time)."""
        if next_at is None or not self._scheduler.running:
            if self._scheduler.get_job(AMAZON_STEP_JOB):
                self._scheduler.remove_job(AMAZON_STEP_JOB)
            return
        run = datetime.now(UTC) + timedelta(seconds=max(0.0, next_at - self.now()))
        # Set from inside the step job itself, and often due at once: a second instance waits in the worker's
        # queue behind the first, where APScheduler's default of one would drop it.
        self._scheduler.add_job(
            self.step_amazon, "date", run_date=run, id=AMAZON_STEP_JOB, replace_existing=True, max_instances=2
        )

    def sync_mail(self) -> mailsync.SyncResult | None:
        """Poll the mailbox; new messages recompute the figures and clocks and alert like an import."""
        result = None
        try:
            with self.database() as db:
                before = _data_held(db)
                result, status = mailsync.run_sync(db, self.passwords, now=self.now, timeout=self.mail_timeout)
                self.listener.sync_status(status)
                if result.changed:
                    self._alert_new_defects(db, before)
            self._pace_mail(status)
        except Exception as error:  # a bug must not stop the timetable
            log.exception("mail sync failed")
            self.listener.job_failed("Reading the mailbox", str(error))
        if result is not None and result.changed:
            self.recompute()
        return result

    def _pace_mail(self, status: mailsync.SyncStatus) -> None:
        """Wait the poll interval after a success, longer after each failure in a row (the back-off)."""
        job = self._scheduler.get_job(MAIL_JOB)
        if job is None or status.next_attempt_at is None or status.last_attempt_at is None:
            return
        delay = max(1, status.next_attempt_at - status.last_attempt_at)
        if job.trigger.interval.total_seconds() != delay:
            self._scheduler.reschedule_job(MAIL_JOB, trigger="interval", seconds=delay)

    def watch_folder(self) -> WatchOutcome | None:
        """Import the reports that finished arriving in the watched folder."""
        outcome = None
        try:
            with self.database() as db:
                before = _data_held(db)
                outcome = self.folder_watcher.poll(db)
                if outcome.imported:
                    self.listener.folder_imported(outcome.imported)
                    self._alert_new_defects(db, before)
            if outcome.problem != self._folder_problem:  # said once, not every 5 s
                self._folder_problem = outcome.problem
                if outcome.problem:
                    self.listener.job_failed("Watching the folder", outcome.problem)
        except Exception as error:
            log.exception("watching the folder failed")
            self.listener.job_failed("Watching the folder", str(error))
        if outcome is not None and outcome.imported:
            self.recompute()
        return outcome

    @contextmanager
    def _held_before(self, db) -> Iterator[Callable[[], tuple | None]]:
        """What the database held before an import (`_data_held`), asked for after it; None when the import
        wrote no feedback or claim, so no defect can be new. On the worker's connection it is read only then,
        through a second connection whose read began before the import: SQLite's WAL shows it the rows as
        they were (reading every defect before each import was a fifth of a few-row import's time)."""
        if not self.figures.owns(db):
            held = _data_held(db)
            yield lambda: held
            return
        with self.database() as reader:
            reader.conn.execute("BEGIN")
            reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the read, and what it sees, starts
            try:
                yield lambda: _data_held(reader) if self.figures.touched(db) & DEFECT_TABLES else None
            finally:
                reader.conn.rollback()

    def _alert_new_defects(self, db, before: tuple[set[tuple[str, str]], str | None]) -> None:
        """After new data arrived (an import, the mailbox, the watched folder): one alert per defect dated
        after the newest day held before (`before`, from `_data_held`), one summary for the rest
        (`alerts.import_alerts`)."""
        known, latest = before
        found = alerts.import_alerts(alerts.new_defects(db, known), latest, first=latest is None)
        # Already at most a few and one summary: bundling them again would hide the summary's words.
        self._deliver(db, found, self.now(), bundle_over=len(found))

    def _run_write(self, what: str, action: Callable, args: tuple, recompute: bool = True) -> None:
        with collected_after():
            self._write(what, action, args, recompute)

    def _write(self, what: str, action: Callable, args: tuple, recompute: bool) -> None:
        try:
            if recompute:  # on the worker's connection, whose changes the next recomputation sees table by table
                with self.figures.connection() as db:
                    try:
                        result = action(db, *args)
                    finally:
                        self.figures.settle(db)
            else:
                with self.database() as db:
                    result = action(db, *args)
            self.listener.job_finished(what, result)
        except Exception as error:
            log.exception("%s failed", what)
            self.listener.job_failed(what, str(error))
        if recompute:
            self.recompute()

    def _run_import(self, paths: list, cancelled: Callable[[], bool], marketplace: str | None = None) -> None:
        small = _report_bytes(paths, self.db_path) <= SMALL_IMPORT_BYTES
        # A small import is over in a blink and its figures follow: no collection of the worker's kept records
        # in between (a large one's rows are better collected as it goes).
        with collected_after() if small else contextlib.nullcontext():
            self._import(paths, cancelled, marketplace, small)

    def _import(self, paths: list, cancelled: Callable[[], bool], marketplace: str | None, small: bool) -> None:
        try:
            # The worker's own connection for a small import: the next recomputation is told which orders and
            # threads it wrote (`app.figure_cache`). A large one has a connection of its own: nothing noted per
            # row, and everything is computed again (it would be anyway).
            with self.figures.connection() if small else self.database() as db, self._held_before(db) as before:
                at = self.now()
                try:
                    results = import_files(
                        db,
                        paths,
                        progress=self.listener.import_progress,
                        cancelled=cancelled,
                        now=lambda: at,
                        marketplace=marketplace,
                    )
                finally:
                    self.figures.settle(db)
                self.listener.import_finished(results)
                held = before()
                if held is not None:
                    self._alert_new_defects(db, held)
        except Exception as error:
            log.exception("import failed")
            self.listener.job_failed("Importing", str(error))
            # The Import dialog waits for a result: tell it, file by file, instead of leaving it waiting.
            message = f"The import stopped before it finished ({error}). A file cut off this way keeps nothing."
            self.listener.import_finished([FileResult(Path(path).name, "refused", message=message) for path in paths])
        self.recompute()


@contextmanager
def collected_after() -> Iterator[None]:
    """No collection of cyclic garbage until the seller has what they wait for. The worker keeps the records
    of its last figures, clocks and triage list (millions of objects with years of history), and a full
    collection walks them all: 0.1–0.3 s that, falling inside a recomputation, delayed the new figures by as
    much. Collected once the state and the list are out (nested: by the outermost)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _report_bytes(paths: list, db_path: Path) -> float:
    """The reports' bytes together as the import reads them (a gzip file's or a zip archive's members' once
    decompressed); a file that cannot be looked at counts as large (the import says why). The monitor's own
    database and SQLite's files beside it are never opened here: closing them would drop this process's
    SQLite locks on them (the import refuses them by name)."""
    own = DatabaseFiles(db_path)
    try:
        return sum(text_bytes(source) for path in paths if not own.holds(path) for source in open_sources(path))
    except (ReportError, OSError):
        return math.inf


# The tables the defects `_data_held` holds are read from (`alerts.known_defects`).
DEFECT_TABLES = frozenset({"feedback", "claims"})


def _data_held(db) -> tuple[set[tuple[str, str]], str | None]:
    """What the database held before new data arrives: the defects known, and the newest day of any data."""
    return alerts.known_defects(db), alerts.latest_data_day(db)


class _SecretsOfOnePull:
    """The password store, read through for one pull: a secret found is kept, one missing is asked for again."""

    def __init__(self, passwords: mailsync.PasswordStore):
        self.passwords = passwords
        self.found: dict[tuple[str, str], str] = {}

    def get(self, user: str, host: str) -> str | None:
        if (user, host) not in self.found:
            value = self.passwords.get(user, host)
            if not value:
                return value
            self.found[user, host] = value
        return self.found[user, host]


class _WindowOnly:
    """A sink that marks each alert as for the window only (the demo seller's)."""

    def __init__(self, sink: alerts.AlertSink):
        self.sink = sink

    def deliver(self, alert: alerts.Alert) -> None:
        self.sink.deliver(replace(alert, window_only=True))


def _figures_of(state: services.MonitorState, records: list) -> Figures:
    return Figures(
        settings=state.settings,
        as_of=state.as_of,
        metrics=state.metrics,
        series=state.series,
        series_by_marketplace=state.series_by_marketplace,
        has_orders=state.has_orders,
        demo=state.demo,
        records=records[0] if records else None,
    )


def _clock_inputs(db, at: float, settings: Settings, kept: tuple | None) -> KeptClockInputs | None:
    """The clock inputs at `at`: those kept (`FigureCache.kept_clocks`) when they still hold and none of their
    records names an order written to since, with the threads written to since read again, or read anew;
    None for a seller in several marketplaces (each marketplace's clocks are read in its own days:
    `services.open_clocks`)."""
    if not only_home_marketplace(db, settings.marketplace):
        return None
    if kept is None or not kept[0].usable_at(at, settings) or kept[0].inputs.names_any(kept[1].orders):
        return clock_rules.read_clock_inputs(db, at, settings)
    inputs, changes = kept
    if changes.threads:
        inputs = clock_rules.with_threads_read(db, inputs, changes.threads, at)
    return clock_rules.with_resolved_money(db, inputs)


def _patched(db, kept: Figures, changes: Changes) -> Figures | None:
    """The kept figures with the buyer-message threads and the orders the worker's writes changed counted
    again, or None when they cannot be patched (`services.patched_figures`)."""
    patched = services.patched_figures(db, kept.records, kept.series, changes, kept.as_of, kept.settings)
    if patched is None:
        return None
    metrics, series, records = patched
    if changes.orders:  # the first orders imported (the demo flag is a setting: a write to it is never patched)
        kept = replace(kept, has_orders=services.has_orders_imported(db))
    return replace(kept, metrics=metrics, series=series, records=records)
