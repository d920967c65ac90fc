"""The heavy database work (imports, recomputing the figures and the triage, listing the clocks) in a
process of its own, so the window never waits for it.

Why a process and not the worker thread: Python threads share one interpreter lock, and SQLite and file
reads release and retake it thousands of times a second. A thread waiting for the lock (the window's) is
woken by every release and loses the race to take it almost every time (CPython's "convoy effect",
bpo-7946). Measured here: importing 200,000 rows on a thread kept a 10 ms timer on another thread waiting
up to 270 ms; a recomputation on a million orders froze the window for over 100 ms at a time. A process
has its own interpreter lock.

One process serves every job, one job at a time (the scheduler's single worker thread waits for each), so
there is still only one write at a time. It is started with "spawn" (never "fork" from a process with Qt
and threads) on first use, about 0.4 s, and reused. `inline=True` runs the same functions in the caller's
thread (the scheduler's own tests, where a second process per test only costs time).
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

POLL_S = 0.05

# Set in the child by `_start_child` (or in the caller's thread for inline runs): where progress goes and
# how a cancellation is seen.
_report: Callable | None = None
_cancelled: Callable[[], bool] | None = None


def _start_child(progress: multiprocessing.Queue, cancel) -> None:
    global _report, _cancelled
    _report, _cancelled = progress.put, cancel.is_set


# --- the jobs (run in the child process) ------------------------------------------------------------------------


def refresh(db_path: str, at: float):
    """The figures, series and clocks as of `at`, saved for the next start, and the triage list."""
    from app import services
    from storage import open_db

    db = open_db(db_path)
    try:
        state = services.refresh(db, lambda: at)
        try:
            services.save_last_state(db, state)
        except Exception:  # only a head start for the next launch (disk full, locked): the figures still go out
            logging.getLogger(__name__).exception("the figures could not be kept for the next start")
        try:
            listing = services.load_triage(db, at, settings=state.settings)
        except Exception as error:  # the figures still count when the triage cannot be listed
            listing = error
        return state, listing
    finally:
        db.close()


def clocks(db_path: str, at: float):
    """The clocks open at `at` (for the alert check every 30 s)."""
    from app import services
    from storage import open_db

    db = open_db(db_path)
    try:
        settings = services.load_settings(db)
        return settings, services.open_clocks(db, at, settings)
    finally:
        db.close()


def import_paths(db_path: str, paths: Sequence[str], at: float):
    """Import report files, telling the progress and watching for a cancellation."""
    from app.imports import import_files
    from storage import open_db

    db = open_db(db_path)
    try:
        return import_files(db, paths, progress=_report, cancelled=_cancelled, now=lambda: at)
    finally:
        db.close()


# --- the parent's side --------------------------------------------------------------------------------------------


class HeavyWork:
    """Runs the jobs above in the child process and waits for them (from the scheduler's worker thread)."""

    def __init__(self, inline: bool = False):
        self.inline = inline
        self._context = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None
        self._progress = None
        self._cancel = None

    def call(
        self,
        job: Callable,
        *args,
        progress: Callable | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        """Run `job(*args)` and return its result (its exception is raised here)."""
        if self.inline:
            return self._call_inline(job, args, progress, cancelled)
        pool = self._started()
        future = pool.submit(job, *args)
        try:
            while True:
                try:
                    result = future.result(timeout=POLL_S)
                    break
                except FutureTimeout:
                    self._relay(progress)
                    if cancelled is not None and cancelled():
                        self._cancel.set()
            self._relay(progress)
            return result
        except BrokenProcessPool:
            self.shutdown()  # a new process next time
            raise RuntimeError("the background process stopped unexpectedly; the work was not done") from None
        finally:
            self._cancel.clear()

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._progress = self._context.Queue()
            self._cancel = self._context.Event()
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=self._context,
                initializer=_start_child,
                initargs=(self._progress, self._cancel),
            )
        return self._pool

    def _relay(self, progress: Callable | None) -> None:
        """Hand the child's progress reports to `progress`, the latest last."""
        while True:
            try:
                report = self._progress.get_nowait()
            except queue.Empty:
                return
            if progress is not None:
                progress(report)

    @staticmethod
    def _call_inline(job: Callable, args: tuple, progress, cancelled):
        global _report, _cancelled
        saved = _report, _cancelled
        _report, _cancelled = progress, cancelled
        try:
            return job(*args)
        finally:
            _report, _cancelled = saved
