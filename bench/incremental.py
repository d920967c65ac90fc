"""How long the seller waits after a write for the new figures and triage list, on years of data.

A generated seller with 1,000,000 orders (bench/metrics.py's generator). The worker (`MonitorScheduler`) runs
on this thread, as the app's worker thread runs it, and each figure is the time from the request (the write
job starting) until the state *and* the triage list have been handed to the window (`state_ready`,
`triage_ready`), split into the two:
  - a mark: *Mark replied* on a buyer message of the last day;
  - a resolve: a triage item resolved (one whose resolution ends no clock);
  - a category: a triage item's category changed;
  - a 3-row import: an All Orders report of three new orders;
  - the baseline: a full recomputation (nothing kept), measured in the same run.
Target (a mark, a resolve or a few-row import): < 0.2 s for the state (cards, charts, clocks) and for the
triage list, each given its verdict. Best of `--rounds`, the machine being shared.

    python bench/incremental.py [--orders 1000000] [--db PATH] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import END, generate  # bench/metrics.py

from app import marks, services
from app.alerts import RecordingSink
from app.scheduler import MonitorScheduler
from app.timeutil import end_of_day
from storage import open_db
from tests.report_files import made_up_orders, made_up_orders_held

TARGET_S = 0.2


class Stopwatch:
    """The worker's Listener: notes when the state and the triage list leave."""

    def __init__(self):
        self.state_at = self.triage_at = None
        self.listing = None
        self.failures = []
        self.imported = []

    def state_ready(self, state):
        self.state_at = time.perf_counter()

    def triage_ready(self, listing):
        self.triage_at, self.listing = time.perf_counter(), listing

    def job_failed(self, what, message):
        self.failures.append((what, message))

    def import_finished(self, results):
        self.imported = results

    def __getattr__(self, name):
        return lambda *args: None


def timed(watch: Stopwatch, job) -> tuple[float, float]:
    """(seconds to the state, seconds to the triage list) of `job`."""
    watch.state_at = watch.triage_at = None
    started = time.perf_counter()
    job()
    if watch.failures or watch.triage_at is None:
        raise SystemExit(f"the job failed: {watch.failures}")
    return watch.state_at - started, watch.triage_at - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="reuse (or keep) the generated database at this path")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.db or Path(scratch) / "seller.db"
        if not path.exists():
            db = open_db(path)
            started = time.perf_counter()
            print(f"generated {generate(db, args.orders, 730)} in {time.perf_counter() - started:.1f} s")
            db.close()
        return run(path, Path(scratch), args.rounds)


def run(path: Path, scratch: Path, rounds: int) -> int:
    at = end_of_day(END, ZoneInfo("UTC")) - 5 * 3600
    watch = Stopwatch()
    worker = MonitorScheduler(path, watch, RecordingSink(), now=lambda: at)
    worker.figures.adopt()  # this thread is the worker
    db = open_db(path)
    # Not marked yet (a database kept from an earlier run has some): marking one again changes nothing.
    messages = [
        row[0]
        for row in db.execute(
            "SELECT message_id FROM messages WHERE 'manual:' || message_id NOT IN "
            "(SELECT message_id FROM replies WHERE source = 'manual') ORDER BY received_at DESC LIMIT 50"
        )
    ]
    imported = [made_up_orders_held(db)]  # a kept database may hold those of earlier runs
    db.close()
    results: dict[str, list[tuple[float, float]]] = {}

    def full():
        worker.figures.keep(None, None)
        worker.recompute()

    def mark():
        worker._run_write("mark", marks.mark_replied, (messages.pop(), at))

    def unclocked_item():
        return next(item for item in watch.listing.items if item.clock is None and not item.resolved)

    def resolve():
        worker._run_write("resolve", services.resolve_item, (unclocked_item().key, "Refunded", "", at))

    def category():
        worker._run_write("category", services.set_category, (unclocked_item().key, "general_inquiry", at))

    def import_three():
        report = made_up_orders(3, first=imported[0])  # three orders none of the seller's records names
        imported[0] += 3
        worker._run_import([report.write(scratch / f"orders-{imported[0]}.txt")], lambda: False)
        added = sum(result.added for result in watch.imported)
        if added != 3:
            raise SystemExit(f"the report of three new orders added {added}: {watch.imported}")

    try:
        worker.recompute()  # the start's recomputation: the figures are kept from here
        jobs = {"full recomputation (baseline)": full, "mark": mark, "resolve": resolve}
        jobs |= {"category": category, "3-row import": import_three}
        for _ in range(rounds):
            for name, job in jobs.items():
                results.setdefault(name, []).append(timed(watch, job))
    finally:
        worker.figures.close()
    print(f"{'figure':32} {'state ready':>17} {'triage ready':>18}   target {TARGET_S:.1f} s for both")
    for name, times in results.items():
        state_s, triage_s = min(t[0] for t in times), min(t[1] for t in times)
        print(f"{name:32} {state_s:8.3f} s {_verdict(name, state_s)} {triage_s:9.3f} s {_verdict(name, triage_s)}")
    return 0


def _verdict(name: str, seconds: float) -> str:
    if name.startswith("full"):
        return "    "
    return "PASS" if seconds < TARGET_S else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
