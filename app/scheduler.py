"""Background work: one worker thread runs every database job, APScheduler decides when.

Every job (recomputing the figures, checking the clocks for alerts, importing files, the seller's marks)
runs on the same single worker, so there is only ever one write at a time and the GUI thread never
waits on the database. Results leave through a `Listener`; the window's listener turns each call into a
Qt signal, so nothing here touches a widget.

APScheduler 3 pitfalls this avoids (see Vorta issue #347): the default `misfire_grace_time` of one
second silently drops a run that was due while the laptop slept, so it is `None` (always run late) with
`coalesce` (one catch-up run, not one per missed interval). A wall-clock jump that the monotonic clock
did not see means the machine was asleep: the checks run at once instead of waiting for their next
interval. They also run at once on start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from app import alerts, services
from app.imports import FileResult, Progress, import_files
from app.summary import METRIC_NAMES
from storage import open_db

log = logging.getLogger(__name__)

RECOMPUTE_JOB, CHECK_JOB, WATCH_JOB = "recompute", "check-clocks", "watch-for-resume"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class Listener(Protocol):
    """Where results go. Called on the worker thread: implementations hand them to their own thread."""

    def state_ready(self, state: services.MonitorState) -> None: ...
    def import_progress(self, progress: Progress) -> None: ...
    def import_finished(self, results: list[FileResult]) -> None: ...
    def job_failed(self, what: str, message: str) -> None: ...


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
    ):
        self.db_path = Path(db_path)
        self.listener = listener
        self.sink = sink
        self.now = now
        self.paused_until: float | None = None
        self._intervals = (recompute_minutes * 60, check_seconds, watch_seconds)
        self._resume = ResumeDetector(wall=now, monotonic=monotonic)
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)}, job_defaults=JOB_DEFAULTS, timezone="UTC"
        )

    # --- life cycle -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timetable; the recomputation and the clock check run at once (catch-up on start)."""
        recompute_s, check_s, watch_s = self._intervals
        add = self._scheduler.add_job
        add(self.recompute, "interval", seconds=recompute_s, id=RECOMPUTE_JOB, next_run_time=datetime.now(UTC))
        add(self.check_clocks, "interval", seconds=check_s, id=CHECK_JOB)
        add(self.watch_for_resume, "interval", seconds=watch_s, id=WATCH_JOB)
        self._scheduler.start()

    def shutdown(self, wait: bool = True) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def jobs(self):
        return self._scheduler.get_jobs()

    # --- asking for work --------------------------------------------------------------------------------------

    def recompute_soon(self) -> None:
        """Recompute now (after an import, a mark, a settings change); queued behind running work."""
        self._scheduler.modify_job(RECOMPUTE_JOB, next_run_time=datetime.now(UTC))

    def submit(self, what: str, action: Callable, *args) -> None:
        """Run `action(db, *args)` on the worker (a write), then recompute."""
        self._scheduler.add_job(self._run_write, args=(what, action, args), misfire_grace_time=None)

    def submit_import(self, paths: Sequence[str | Path], cancelled: Callable[[], bool]) -> None:
        self._scheduler.add_job(self._run_import, args=(list(paths), cancelled), misfire_grace_time=None)

    def pause_alerts(self, seconds: float) -> None:
        self.paused_until = self.now() + seconds

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
        try:
            with self.database() as db:
                return self._recompute(db)
        except Exception as error:  # a bug must not stop the timetable; it is logged and shown
            log.exception("recomputation failed")
            self.listener.job_failed("Recomputing the figures", str(error))
            return None

    def _recompute(self, db) -> services.MonitorState:
        state = services.refresh(db, self.now)
        self.listener.state_ready(state)
        at = self.now()
        figures = {key: state.metrics[key] for key in METRIC_NAMES}
        alerts.alert_status_changes(db, self.sink, figures, state.as_of.isoformat(), at, self.paused_until)
        settings = state.settings
        found = alerts.clock_alerts(state.clocks, at, settings.alert_thresholds_hours, zone=settings.zone)
        alerts.deliver_new(db, self.sink, found, at, self.paused_until)
        return state

    def check_clocks(self) -> None:
        """Alert for every clock that crossed a threshold since the last look (cheap: clocks only)."""
        try:
            with self.database() as db:
                at = self.now()
                settings = services.load_settings(db)
                clocks = services.open_clocks(db, at, settings)
                found = alerts.clock_alerts(clocks, at, settings.alert_thresholds_hours, zone=settings.zone)
                alerts.deliver_new(db, self.sink, found, at, self.paused_until)
        except Exception as error:
            log.exception("clock check failed")
            self.listener.job_failed("Checking the clocks", str(error))

    def watch_for_resume(self) -> None:
        """Run the checks at once when the machine has just woken up (the wall clock jumped)."""
        if self._resume.resumed():
            log.info("the machine slept: running the checks now")
            self.recompute()

    def _run_write(self, what: str, action: Callable, args: tuple) -> None:
        try:
            with self.database() as db:
                action(db, *args)
        except Exception as error:
            log.exception("%s failed", what)
            self.listener.job_failed(what, str(error))
        self.recompute()

    def _run_import(self, paths: list, cancelled: Callable[[], bool]) -> None:
        try:
            with self.database() as db:
                before = alerts.known_defects(db)
                results = import_files(
                    db, paths, progress=self.listener.import_progress, cancelled=cancelled, now=self.now
                )
                self.listener.import_finished(results)
                found = alerts.defect_alerts(alerts.new_defects(db, before))
                alerts.deliver_new(db, self.sink, found, self.now(), self.paused_until)
        except Exception as error:
            log.exception("import failed")
            self.listener.job_failed("Importing", str(error))
        self.recompute()
