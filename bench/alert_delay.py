"""How late a deadline alert comes while a big report imports, against the periodic check alone.

    python bench/alert_delay.py [--rows 400000] [--lead 3] [--no-baseline] [--keep DIR]

1. Generates an All Orders flat file of N item rows (`bench/import_orders.py`'s generator).
2. Starts the monitor's scheduler (`app.scheduler.MonitorScheduler`, the periodic clock check every 30 s
   as the app runs it) on a fresh database holding one unanswered buyer message, whose 6 h threshold is
   crossed `--lead` seconds after the import starts; the import runs on the worker meanwhile.
3. Measures the delay from the crossing to the alert reaching the sink (what the window receives), and
   checks that the import was still running then.
The baseline is the same run with the one-off check at the crossing turned off: only the 30 s periodic
check, so the alert waits for the next one (up to 30 s; this run lasts that long).
The app's clock is pinned to a fixed day, running at real speed, so the run does not depend on today.
Target: the alert within 1 s of its crossing, during the import.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.scheduler import MonitorScheduler  # noqa: E402
from bench.import_orders import generate, verdict  # noqa: E402
from storage import open_db  # noqa: E402

TARGET_S = 1.0
CHECK_SECONDS = 30
REPLY_WINDOW_H, THRESHOLD_H = 24, 6
PINNED = datetime(2026, 11, 8, 12, tzinfo=UTC).timestamp()


class RunningClock:
    """Real seconds passing, from a fixed instant."""

    def __init__(self):
        self.started = time.monotonic()

    def __call__(self) -> float:
        return PINNED + (time.monotonic() - self.started)


class Listener:
    """What the window would be told; here only the moments that matter."""

    def __init__(self):
        self.states = 0
        self.state_seen = threading.Event()
        self.import_started = threading.Event()
        self.import_done = threading.Event()
        self.failures: list[str] = []

    def state_ready(self, state) -> None:
        self.states += 1
        self.state_seen.set()

    def import_progress(self, progress) -> None:
        self.import_started.set()

    def import_finished(self, results) -> None:
        self.import_done.set()

    def job_failed(self, what: str, message: str) -> None:
        self.failures.append(f"{what}: {message}")

    def job_finished(self, what, result) -> None: ...
    def triage_ready(self, listing) -> None: ...
    def sync_status(self, status) -> None: ...
    def folder_imported(self, results) -> None: ...


class TimedSink:
    def __init__(self, clock: RunningClock, key: str, import_done: threading.Event):
        self.clock, self.key, self.import_done = clock, key, import_done
        self.arrived: float | None = None
        self.during_import: bool | None = None
        self.received = threading.Event()

    def deliver(self, alert) -> None:
        if alert.key == self.key and self.arrived is None:
            self.arrived = self.clock()
            self.during_import = not self.import_done.is_set()
            self.received.set()


def add_message(db, crossing: int) -> None:
    db["messages"].insert(
        {
            "message_id": "bench-1",
            "thread_key": "bench-buyer",
            "order_id": "111-0000000-0000001",
            "received_at": crossing - (REPLY_WINDOW_H - THRESHOLD_H) * 3600,
            "kind": "buyer",
            "topic": "Where is my order",
        }
    )


def run(folder: Path, report: Path, lead: float, exact: bool) -> tuple[float | None, bool | None, float]:
    """One run: (delay of the alert after its crossing, whether the import was still running, import time)."""
    db_path = folder / ("exact.db" if exact else "baseline.db")
    open_db(db_path).close()
    clock, listener = RunningClock(), Listener()
    sink = TimedSink(clock, "clock:buyer_reply:bench-1:6h", listener.import_done)
    scheduler = MonitorScheduler(db_path, listener, sink, now=clock, check_seconds=CHECK_SECONDS, recompute_minutes=60)
    if not exact:
        scheduler._aim_next_check = lambda *args: None  # the periodic check alone, as before
    scheduler.start()
    try:
        assert listener.state_seen.wait(60), "no first recomputation"
        listener.state_seen.clear()
        crossing = int(clock()) + int(lead) + 2  # whole seconds, as the message's time is stored
        # Written on the worker like a mail sync, which then recomputes: the new clock is seen.
        scheduler.submit("Adding a message", add_message, crossing)
        assert listener.state_seen.wait(60), "no recomputation after the message"
        started = time.monotonic()
        scheduler.submit_import([report], lambda: False)
        sink.received.wait(CHECK_SECONDS + lead + 15)
        listener.import_done.wait(600)
        import_s = time.monotonic() - started
    finally:
        scheduler.shutdown()
    if listener.failures:
        print("failures:", *listener.failures, sep="\n  ")
    delay = None if sink.arrived is None else sink.arrived - crossing
    return delay, sink.during_import, import_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--lead", type=float, default=3, help="seconds from the import's start to the crossing")
    parser.add_argument("--no-baseline", action="store_true", help="skip the 30 s periodic-check run")
    parser.add_argument("--keep", type=Path, help="keep the report and the databases in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="alert-delay-"))
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "all-orders.txt"
    started = time.perf_counter()
    generate(report, args.rows)
    print(f"generated {args.rows:,} item rows in {time.perf_counter() - started:.1f} s")

    delay, during, import_s = run(folder, report, args.lead, exact=True)
    shown = "never" if delay is None else f"{delay:6.3f} s"
    ok = delay is not None and 0 <= delay <= TARGET_S and bool(during)
    print(f"import took                   {import_s:6.1f} s")
    print(
        f"alert delay, at the crossing  {shown}  during the import: {during}  target <= {TARGET_S:g} s  {verdict(ok)}"
    )
    if not args.no_baseline:
        base, base_during, _ = run(folder, report, args.lead, exact=False)
        shown = "never" if base is None else f"{base:6.3f} s"
        print(f"baseline, {CHECK_SECONDS} s check alone    {shown}  during the import: {base_during}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
