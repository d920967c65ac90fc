"""How fast a big All Orders report imports, against a minimal baseline measured in the same run.

    python bench/import_orders.py [--rows 1000000] [--keep DIR]

1. Generates an All Orders flat file of N item rows (every column of the real report, realistic values,
   13 % of orders with two items, UTF-8 product names, a few cancelled orders).
2. Imports it with the project's importer (`main.py import`) into a fresh database, then again into the
   same database (the re-import: every row unchanged).
3. Imports it with the baseline: stdlib `csv` + `sqlite3.executemany` into the same schema, one
   transaction, no checks.
Each import runs in its own process so its peak memory (max RSS) is its own.
Targets: rows/s at least 0.5x the baseline's; peak memory under 300 MB; re-import at least as fast as
the first import.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.demo import PRODUCTS  # noqa: E402 - the demo seller's catalogue, with its non-ASCII names
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


BASELINE = r"""
import csv, sqlite3, sys
from datetime import datetime
sys.path.insert(0, sys.argv[3])
from storage import open_db
open_db(sys.argv[2]).close()  # the same schema
conn = sqlite3.connect(sys.argv[2])
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
with conn:
    conn.executemany("INSERT OR REPLACE INTO orders (order_id, purchased_at, last_updated_at, status, channel) "
                     "VALUES (?, ?, ?, ?, ?)", orders)
    conn.executemany("INSERT OR REPLACE INTO order_items (order_id, sku, last_updated_at, asin, product_name, "
                     "quantity, item_price) VALUES (?, ?, ?, ?, ?, ?, ?)", items)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the generated file and databases in this folder")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ahm-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "all-orders.txt"

    started = time.perf_counter()
    generate(report, args.rows)
    size_mb = report.stat().st_size / 1e6
    print(f"generated {args.rows:,} item rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")

    base_db, db = folder / "baseline.db", folder / "import.db"
    for stale in (base_db, db):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{stale}{suffix}").unlink(missing_ok=True)
    base_s, base_mb, _ = run_measured([sys.executable, "-c", BASELINE, str(report), str(base_db), str(ROOT)])
    first_s, first_mb, output = run_measured(
        [sys.executable, "main.py", "import", "--json", "--db", str(db), str(report)]
    )
    first = json.loads(output)["files"][0]
    again_s, again_mb, output = run_measured(
        [sys.executable, "main.py", "import", "--json", "--db", str(db), str(report)]
    )
    again = json.loads(output)["files"][0]
    assert first["added"] == args.rows and first["rejected"] == 0, first
    assert again["unchanged"] == args.rows and again["added"] == again["updated"] == 0, again

    base_rate, first_rate, again_rate = args.rows / base_s, args.rows / first_s, args.rows / again_s
    ratio = first_rate / base_rate
    print(f"baseline (csv + executemany)  {base_rate:10,.0f} rows/s  {base_s:6.1f} s  peak {base_mb:5.0f} MB")
    print(f"importer, first import        {first_rate:10,.0f} rows/s  {first_s:6.1f} s  peak {first_mb:5.0f} MB")
    print(f"importer, re-import           {again_rate:10,.0f} rows/s  {again_s:6.1f} s  peak {again_mb:5.0f} MB")
    print(f"importer / baseline           {ratio:10.2f}x        target >= 0.5x    {verdict(ratio >= 0.5)}")
    print(
        f"importer peak memory          {max(first_mb, again_mb):10.0f} MB       target < 300 MB   "
        f"{verdict(max(first_mb, again_mb) < 300)}"
    )
    print(
        f"re-import / first import      {again_rate / first_rate:10.2f}x        target >= 1.0x    "
        f"{verdict(again_rate >= first_rate)}"
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
