"""How fast a big All Orders report imports, against a minimal baseline measured in the same run.

    python bench/import_orders.py [--rows 1000000] [--repeat 2] [--keep DIR]

1. Generates an All Orders flat file of N item rows (every column of the real report, realistic values,
   13 % of orders with two items, UTF-8 product names, a few cancelled orders).
2. Imports it with the baseline: stdlib `csv` + `sqlite3.executemany` into the same schema (the orders'
   and items' keyed tables), one transaction, no checks. It holds every row in memory before writing.
3. Imports it with the project's importer (`main.py import`) into a fresh database, then again into the
   same database (the re-import: every row unchanged).
4. For comparison, the baseline's rows written by one plain `executemany` into one table with no key or
   index: what the two keyed tables cost the baseline.
5. The importer's reading process alone (app.importers.ahead: from AHEAD_BYTES on, a report is read by a
   second process while the importer writes), its rows thrown away.
The five run in turns, `--repeat` rounds, and each figure is the best of its rounds: the machine is shared,
and a slow moment then weighs on no single side. Each import runs in its own process so its peak memory
(max RSS) is its own; the importer's peak is that of both of its processes, as both run at once.
Targets: the importer's time at most 1.2x the baseline's; peak memory at most 300 MB; the re-import no
slower than the first import.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.demo import PRODUCTS  # noqa: E402 - the demo seller's catalogue, with its non-ASCII names
from app.importers.ahead import AHEAD_BYTES  # noqa: E402 - from this size on, a second process reads the report
from tests.report_files import ALL_ORDERS_HEADER as HEADER  # noqa: E402 - the real report's columns

CITIES = (("AUSTIN", "TX", "78701"), ("BOSTON", "MA", "02108"), ("SEATTLE", "WA", "98101"), ("DENVER", "CO", "80202"))


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\t".join(HEADER) + "\n")
        while written < rows:
            purchased = start + timedelta(seconds=written * 63 + rng.randrange(60))
            order_id = f"{rng.randrange(111, 115)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}"
            channel = "Amazon" if rng.random() < 0.55 else "Merchant"
            status = "Cancelled" if rng.random() < 0.02 else "Shipped"
            city, state, postcode = rng.choice(CITIES)
            items = rng.sample(PRODUCTS, 2 if rng.random() < 0.13 else 1)
            for sku, asin, name, price in items[: rows - written]:
                quantity = 1 if rng.random() < 0.9 else 2
                cells = [
                    order_id,
                    order_id if channel == "Amazon" else "",
                    purchased.isoformat(),
                    (purchased + timedelta(hours=9)).isoformat(),
                    status,
                    channel,
                    "Amazon.com",
                    "",
                    "",
                    rng.choice(("Standard", "Expedited")),
                    name,
                    sku,
                    asin,
                    status,
                    str(quantity),
                    "USD",
                    f"{price * quantity:.2f}",
                    f"{price * quantity * 0.08:.2f}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    city,
                    state,
                    postcode,
                    "US",
                    "",
                    "false",
                    "",
                    "",
                ]
                out.write("\t".join(cells) + "\n")
                written += 1


# The baseline's reading: every row converted and held in two lists, as a bare script would.
READ_ALL = r"""
import csv, sqlite3, sys
from datetime import datetime
sys.path.insert(0, sys.argv[3])
from storage import open_db
orders, items = [], []
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    at = {name: index for index, name in enumerate(header)}
    for row in reader:
        purchased = int(datetime.fromisoformat(row[at["purchase-date"]]).timestamp())
        updated = int(datetime.fromisoformat(row[at["last-updated-date"]]).timestamp())
        channel = "FBA" if row[at["fulfillment-channel"]] == "Amazon" else "FBM"
        orders.append((row[at["amazon-order-id"]], purchased, updated, row[at["order-status"]], channel))
        items.append((row[at["amazon-order-id"]], row[at["sku"]], updated, row[at["asin"]], row[at["product-name"]],
                      int(row[at["quantity"]]), float(row[at["item-price"]] or 0)))
"""
BASELINE = (
    READ_ALL
    + r"""
open_db(sys.argv[2]).close()  # the same schema
conn = sqlite3.connect(sys.argv[2])
with conn:
    conn.executemany("INSERT OR REPLACE INTO orders (order_id, purchased_at, last_updated_at, status, channel) "
                     "VALUES (?, ?, ?, ?, ?)", orders)
    conn.executemany("INSERT OR REPLACE INTO order_items (order_id, sku, last_updated_at, asin, product_name, "
                     "quantity, item_price) VALUES (?, ?, ?, ?, ?, ?, ?)", items)
"""
)
# The same rows, each order's and item's values side by side (one tuple more a row than the baseline
# builds), into one table with no key or index.
PLAIN = (
    READ_ALL
    + r"""
rows = [(*order, item[1], *item[3:]) for order, item in zip(orders, items)]
conn = sqlite3.connect(sys.argv[2])
conn.execute("CREATE TABLE rows (order_id, purchased_at, last_updated_at, status, channel, "
             "sku, asin, product_name, quantity, item_price)")
with conn:
    conn.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
"""
)


# The importer's second process alone (app.importers.ahead), its rows thrown away: how long reading takes, and
# the memory it adds to the importer's while both run.
READER_ONLY = r"""
import os, sys
sys.path.insert(0, sys.argv[2])
from app.importers import ALL_ORDERS, ImportOptions, ahead, open_sources
request = ahead.request_for(open_sources(sys.argv[1])[0], ALL_ORDERS, "utf-8", ImportOptions())
with open(os.devnull, "wb") as nowhere:
    ahead.read(request, nowhere)
"""


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run a command in a child process: seconds taken, its own peak memory (max RSS) in MB, its output."""
    with tempfile.TemporaryFile(mode="w+") as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stdout=output, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"{command[1]} failed with status {child.returncode}")
        output.seek(0)
        return seconds, usage.ru_maxrss / 1024, output.read()


@dataclass
class Figure:
    """One contender's runs: seconds and peak memory of each."""

    label: str
    seconds: list[float] = field(default_factory=list)
    peaks_mb: list[float] = field(default_factory=list)

    def add(self, measured: tuple[float, float, str]) -> str:
        self.seconds.append(measured[0])
        self.peaks_mb.append(measured[1])
        return measured[2]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peaks_mb)

    def line(self, rows: int) -> str:
        runs = ", ".join(f"{seconds:.1f}" for seconds in self.seconds)
        return (
            f"{self.label:<44} {self.best:6.1f} s  {rows / self.best:9,.0f} rows/s  peak {self.peak:5.0f} MB"
            f"  (runs {runs} s)"
        )


def fresh(database: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the four runs; each figure is its best")
    parser.add_argument("--keep", type=Path, help="keep the generated file and databases in this folder")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ahm-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "all-orders.txt"

    started = time.perf_counter()
    generate(report, args.rows)
    size_mb = report.stat().st_size / 1e6
    print(f"generated {args.rows:,} item rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")

    baseline = Figure("baseline (csv + executemany, 2 keyed tables)")
    first = Figure("importer, first import")
    again = Figure("importer, re-import (every row unchanged)")
    plain = Figure("plain executemany into 1 unkeyed table")
    reader = Figure("the importer's reading process alone")
    base_db, db, plain_db = folder / "baseline.db", folder / "import.db", folder / "plain.db"
    importer = [sys.executable, "main.py", "import", "--json", "--db", str(db), str(report)]
    for round_ in range(1, args.repeat + 1):
        print(f"round {round_} of {args.repeat}: baseline, importer, re-import, plain executemany, reader", flush=True)
        baseline.add(run_measured([sys.executable, "-c", BASELINE, str(report), str(fresh(base_db)), str(ROOT)]))
        fresh(db)
        result = json.loads(first.add(run_measured(importer)))["files"][0]
        assert result["added"] == args.rows and result["rejected"] == 0, result
        result = json.loads(again.add(run_measured(importer)))["files"][0]
        assert result["unchanged"] == args.rows and result["added"] == result["updated"] == 0, result
        plain.add(run_measured([sys.executable, "-c", PLAIN, str(report), str(fresh(plain_db)), str(ROOT)]))
        reader.add(run_measured([sys.executable, "-c", READER_ONLY, str(report), str(ROOT)]))

    print(f"best of {args.repeat} rounds, {args.rows:,} rows:")
    for figure in (baseline, first, again, plain, reader):
        print("  " + figure.line(args.rows))
    print("  (the baseline and the plain executemany hold every row in memory before writing; the importer")
    print("   writes in batches of 5,000 rows, as it reads)")
    ratio = first.best / baseline.best
    # A report of AHEAD_BYTES or more is read by a second process while the importer writes: both at once.
    peak = max(first.peak, again.peak) + (reader.peak if report.stat().st_size >= AHEAD_BYTES else 0)
    print(f"importer / baseline time        {ratio:6.2f}x   target <= 1.2x     {verdict(ratio <= 1.2)}")
    print(f"importer peak memory (both)     {peak:6.0f} MB  target <= 300 MB   {verdict(peak <= 300)}")
    print(
        f"re-import / first import time   {again.best / first.best:6.2f}x   target <= 1.0x     "
        f"{verdict(again.best <= first.best)}"
    )
    print(
        f"baseline / plain executemany    {baseline.best / plain.best:6.2f}x   (what two keyed tables cost the "
        "baseline over one plain table)"
    )
    if not args.keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
