"""How fast the figures are on years of data: a generated seller with 1,000,000 orders over two years.

Measures, on the same database in the same run:
  - a full `metrics` computation as of the last day (every figure, Amazon's report beside it);
  - the 180-day daily series for the charts (one pass);
  - the open clocks at the end of the last day;
  - a naive series: the full computation repeated for each of the 180 days (the baseline).
Targets on a 2-core laptop: metrics < 0.5 s, series < 2 s and at least 10x faster than the naive series.

    python bench/metrics.py [--orders 1000000] [--days 730] [--series-days 180] [--db PATH]

The seller is written straight into the schema (the import path has its own benchmark), with
proportionate defects: ~8 % of orders get feedback (7 % of it negative), 0.3 % an A-to-z claim,
0.1 % a chargeback, 4 % a buyer message, 2 % of FBM orders a return request.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import services
from app.metrics import metrics_as_of
from app.snapshot import load_snapshot
from app.timeutil import end_of_day
from storage import open_db, write_transaction

END = date(2026, 11, 8)
BATCH = 20000
CLAIM_REASONS = ("not-received", "late-delivery", "damaged-in-transit", "not-as-described", "defective", "other")
CLAIM_STATUSES = ("open", "granted", "granted", "denied", "withdrawn", "withdrawn-after-grant")


def generate(db, orders: int, days: int, seed: int = 11) -> dict[str, int]:
    """Write a seller with `orders` orders spread over `days` days ending on END."""
    rng = random.Random(seed)
    start = datetime.combine(END - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC).timestamp()
    span = days * 86400
    tallies = dict.fromkeys(("orders", "feedback", "claims", "messages", "replies", "returns"), 0)
    buffers: dict[str, list[tuple]] = {
        name: [] for name in ("orders", "items", "feedback", "claims", "messages", "replies", "returns")
    }
    with write_transaction(db):
        for index in range(orders):
            _one_order(rng, index, int(start + span * index / orders + rng.random() * 60), buffers, tallies)
            if len(buffers["orders"]) >= BATCH:
                _flush(db, buffers)
        _flush(db, buffers)
    return tallies


def _one_order(rng: random.Random, index: int, purchased: int, buffers: dict, tallies: dict) -> None:
    order_id = f"{111 + index % 4}-{index:07d}-{rng.randrange(10**7):07d}"
    channel = "FBA" if rng.random() < 0.55 else "FBM"
    status = "Cancelled" if rng.random() < 0.03 else "Shipped"
    buffers["orders"].append((order_id, purchased, purchased + 3600, status, channel, "Amazon.com", "US"))
    for item in range(1 if rng.random() < 0.87 else 2):
        buffers["items"].append((order_id, f"SKU-{item}-{index % 40}", purchased + 3600, 1, 19.99))
    tallies["orders"] += 1
    if status == "Cancelled":
        return
    day = datetime.fromtimestamp(purchased, tz=UTC).date()
    if rng.random() < 0.08:
        rating = rng.choices((1, 2, 3, 4, 5), weights=(4, 3, 5, 20, 68))[0]
        buffers["feedback"].append((order_id, (day + timedelta(days=rng.randint(2, 30))).isoformat(), rating, "ok"))
        tallies["feedback"] += 1
    if rng.random() < 0.004:
        claim_type = "a-to-z" if rng.random() < 0.75 else "chargeback"
        reason = rng.choice(CLAIM_REASONS) if claim_type == "a-to-z" else rng.choice(("service", "service", "fraud"))
        filed = day + timedelta(days=rng.randint(5, 40))
        status = rng.choice(CLAIM_STATUSES)
        decided = (filed + timedelta(days=rng.randint(3, 12))).isoformat() if status != "open" else None
        buffers["claims"].append((order_id, claim_type, filed.isoformat(), status, reason, decided, 0))
        tallies["claims"] += 1
    if rng.random() < 0.04:
        received = purchased + rng.randint(3600, 10 * 86400)
        thread = f"alias{index}"
        buffers["messages"].append((f"<m{index}@amazon.com>", thread, order_id, received, "buyer", "Order delivery"))
        tallies["messages"] += 1
        if rng.random() < 0.92:
            automatic = rng.random() < 0.1
            delay = rng.choice((1800, 7200, 20 * 3600, 30 * 3600)) if not automatic else 60
            buffers["replies"].append((f"<r{index}@seller>", thread, order_id, received + delay, int(automatic)))
            tallies["replies"] += 1
    if channel == "FBM" and rng.random() < 0.02:
        requested = day + timedelta(days=rng.randint(3, 25))
        status = rng.choice(("Approved", "Approved", "Closed", "Rejected", "Pending"))
        buffers["returns"].append((f"RMA{index}", order_id, requested.isoformat(), status))
        tallies["returns"] += 1


def _flush(db, buffers: dict) -> None:
    conn = db.conn
    statements = {
        "orders": "INSERT INTO orders (order_id, purchased_at, last_updated_at, status, channel, sales_channel, "
        "marketplace) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "items": "INSERT OR IGNORE INTO order_items (order_id, sku, last_updated_at, quantity, item_price) "
        "VALUES (?, ?, ?, ?, ?)",
        "feedback": "INSERT INTO feedback (order_id, feedback_date, rating, comments) VALUES (?, ?, ?, ?)",
        "claims": "INSERT OR IGNORE INTO claims (order_id, type, filed_on, status, reason, decided_on, "
        "buy_shipping_protected) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "messages": "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        "replies": "INSERT INTO replies (message_id, thread_key, order_id, sent_at, automatic) VALUES (?, ?, ?, ?, ?)",
        "returns": "INSERT INTO fbm_returns (return_id, order_id, request_date, status) VALUES (?, ?, ?, ?)",
    }
    for name, rows in buffers.items():
        if rows:
            conn.executemany(statements[name], rows)
            rows.clear()


def timed(action, repeat: int = 3) -> tuple[float, object]:
    """Best of `repeat` runs (the first run also warms SQLite's page cache)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
    return best, result


def naive_series(db, first: date, last: date) -> list[float | None]:
    """The baseline: the whole computation, from the database, once per day."""
    rates = []
    day = first
    while day <= last:
        rates.append(metrics_as_of(load_snapshot(db, day, day), day)["order_defect_rate"]["rate"])
        day += timedelta(days=1)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--series-days", type=int, default=180)
    parser.add_argument("--db", type=Path, help="reuse (or keep) the generated database at this path")
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory(prefix="ahm-bench-")
    path = args.db or Path(folder.name) / "bench.db"
    db = open_db(path)
    if not db["orders"].count:
        started = time.perf_counter()
        tallies = generate(db, args.orders, args.days)
        print(f"generated {tallies} in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {path}: {db['orders'].count} orders")

    first = END - timedelta(days=args.series_days - 1)
    metrics_s, figures = timed(lambda: services.compute_metrics(db, END))
    series_s, series = timed(lambda: services.compute_series(db, END, args.series_days))
    at = end_of_day(END, services.load_settings(db).zone)
    clocks_s, clocks = timed(lambda: services.open_clocks(db, at))
    naive_s, naive = timed(lambda: naive_series(db, first, END), repeat=1)
    assert [point["odr"] for point in series] == naive, "the one-pass series disagrees with the naive one"

    odr = figures["order_defect_rate"]
    print(f"ODR as of {END}: {odr['rate']:.4%} ({odr['defective_orders']}/{odr['orders']} orders)")
    print(f"full metrics          {metrics_s * 1000:8.1f} ms   target < 500 ms   {verdict(metrics_s < 0.5)}")
    print(f"{args.series_days}-day series        {series_s * 1000:8.1f} ms   target < 2000 ms  {verdict(series_s < 2)}")
    print(f"open clocks ({len(clocks):5d})   {clocks_s * 1000:8.1f} ms")
    print(f"naive series          {naive_s * 1000:8.1f} ms   ({args.series_days} full computations)")
    ratio = naive_s / series_s
    print(f"series speed-up       {ratio:8.1f}x     target >= 10x     {verdict(ratio >= 10)}")
    db.close()
    folder.cleanup()
    return 0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


if __name__ == "__main__":
    sys.exit(main())
