"""How fast the figures are on years of data: a generated seller with 1,000,000 orders over two years.

Measures, on the same database in the same run:
  - a full `metrics` computation as of the last day (every figure, Amazon's report beside it);
  - the 180-day daily series for the charts (one pass);
  - the open clocks at the end of the last day;
  - the window's refresh (`state_as_of`: figures, the charts' series, clocks and the money line), and its
    figures and series from one read of the records against the same two read apart (its baseline);
  - a naive series: the full computation repeated for each of the 180 days (the series' baseline).
Targets on a 2-core laptop: metrics < 0.2 s, series < 1 s and at least 10x faster than the naive series.
Each time is the best of several runs, and the processor time beside it: on a busy machine the wall clock
also counts the other programs' turns.

    python bench/metrics.py [--orders 1000000] [--days 730] [--series-days 180] [--db PATH]

With `--marketplaces 3`, the same seller twice: once selling only on Amazon.com, once with the same orders
and defects spread over Amazon.com (60 %), Amazon.co.uk (25 %) and Amazon.ca (15 %), each marketplace
counted in its own days (the US, home, in UTC as in the one-marketplace seller; the others in their own
zones). Full metrics, the series and the open clocks are timed on both in the same run, taking turns, and
printed side by side with their targets (metrics < 0.2 s, series < 1 s) and the cost of the marketplaces
(3 marketplaces / 1). `--profile` adds where the time goes, as file:function: in full metrics, and in
whatever several marketplaces make more than 1.5 times dearer.

    python bench/metrics.py --marketplaces 3 [--profile] [--orders 1000000] [--db PATH]

The seller is written straight into the schema (the import path has its own benchmark), with
proportionate defects: ~8 % of orders get feedback (7 % of it negative), 0.3 % an A-to-z claim,
0.1 % a chargeback, 4 % a buyer message, 2 % of FBM orders a return request.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from math import inf
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import services
from app.metrics import metrics_as_of
from app.snapshot import load_snapshot
from app.timeutil import end_of_day
from storage import open_db, order_counts, write_transaction

END = date(2026, 11, 8)
BATCH = 20000
CLAIM_REASONS = ("not-received", "late-delivery", "damaged-in-transit", "not-as-described", "defective", "other")
CLAIM_STATUSES = ("open", "granted", "granted", "denied", "withdrawn", "withdrawn-after-grant")
# A North-American seller who also sells in the UK: each marketplace's sales channel, order id prefixes and
# share of the orders. The first `--marketplaces` of them are used.
MARKETPLACE_MIX = {
    "US": ("Amazon.com", (111, 112, 113, 114), 0.60),
    "UK": ("Amazon.co.uk", (202, 203, 204, 205, 206), 0.25),
    "CA": ("Amazon.ca", (701, 702), 0.15),
}
METRICS_TARGET_S = 0.2
SERIES_TARGET_S = 1.0


def generate(db, orders: int, days: int, seed: int = 11, marketplaces: int = 1) -> dict[str, int]:
    """Write a seller with `orders` orders spread over `days` days ending on END, over the first
    `marketplaces` of MARKETPLACE_MIX."""
    rng = random.Random(seed)
    # The marketplaces are drawn from a generator of their own: the orders and their defects are the same
    # whatever the number of marketplaces, so two sellers differ in their marketplaces only.
    draw = random.Random(seed + 1)
    codes = list(MARKETPLACE_MIX)[:marketplaces]
    shares = [MARKETPLACE_MIX[code][2] for code in codes]
    start = datetime.combine(END - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC).timestamp()
    span = days * 86400
    tallies = dict.fromkeys(("orders", "feedback", "claims", "messages", "replies", "returns"), 0)
    buffers: dict[str, list[tuple]] = {
        name: [] for name in ("orders", "items", "feedback", "claims", "messages", "replies", "returns")
    }
    with write_transaction(db):
        for index in range(orders):
            code = draw.choices(codes, shares)[0] if len(codes) > 1 else codes[0]
            purchased = int(start + span * index / orders + rng.random() * 60)
            _one_order(rng, index, purchased, code, buffers, tallies)
            if len(buffers["orders"]) >= BATCH:
                _flush(db, buffers)
        _flush(db, buffers)
        order_counts.catch_up(db)  # as the importer does after a report
    return tallies


def _one_order(rng: random.Random, index: int, purchased: int, code: str, buffers: dict, tallies: dict) -> None:
    sales_channel, prefixes, _ = MARKETPLACE_MIX[code]
    order_id = f"{prefixes[index % len(prefixes)]}-{index:07d}-{rng.randrange(10**7):07d}"
    channel = "FBA" if rng.random() < 0.55 else "FBM"
    status = "Cancelled" if rng.random() < 0.03 else "Shipped"
    buffers["orders"].append((order_id, purchased, purchased + 3600, status, channel, sales_channel, code))
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
    seconds, _, result = timed_both(action, repeat)
    return seconds, result


def timed_both(action, repeat: int = 3) -> tuple[float, float, object]:
    """Best wall-clock and best processor seconds of `repeat` runs."""
    best, best_cpu, result = inf, inf, None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = action()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    return best, best_cpu, result


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
    parser.add_argument(
        "--marketplaces",
        type=int,
        choices=range(1, len(MARKETPLACE_MIX) + 1),
        default=1,
        help="compare a seller on this many marketplaces with the same seller on one",
    )
    parser.add_argument("--profile", action="store_true", help="with --marketplaces: where the time goes")
    args = parser.parse_args()
    if args.marketplaces > 1:
        return compare_marketplaces(args)

    folder = tempfile.TemporaryDirectory(prefix="ahm-bench-")
    path = args.db or Path(folder.name) / "bench.db"
    db = open_db(path)
    if not db["orders"].count:
        started = time.perf_counter()
        tallies = generate(db, args.orders, args.days)
        print(f"generated {tallies} in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {path}: {db['orders'].count} orders")

    print_one_seller(db, args.series_days)
    db.close()
    folder.cleanup()
    return 0


def print_one_seller(db, series_days: int) -> None:
    """Each figure's best time and processor time against its target, and the baselines of the same run."""
    settings = services.load_settings(db)
    at = end_of_day(END, settings.zone)
    codes = services.snapshot_marketplaces(db, END, END, settings)
    first = END - timedelta(days=series_days - 1)
    runs = {
        "metrics": timed_both(lambda: services.compute_metrics(db, END), 5),
        "series": timed_both(lambda: services.compute_series(db, END, series_days)),
        "clocks": timed_both(lambda: services.open_clocks(db, at)),
        "refresh": timed_both(lambda: services.state_as_of(db, END, at, series_days, clocks=True)),
        "one read": timed_both(lambda: services.state_as_of(db, END, at, series_days)),
        "apart": timed_both(lambda: read_apart(db, END, codes, series_days, settings)),
    }
    state = runs["one read"][2]
    assert (state.metrics, state.series) == runs["apart"][2], "the figures from one read disagree with those apart"
    naive_s, naive = timed(lambda: naive_series(db, first, END), repeat=1)
    assert [point["odr"] for point in runs["series"][2]] == naive, "the one-pass series disagrees with the naive one"

    odr = runs["metrics"][2]["order_defect_rate"]
    print(f"ODR as of {END}: {odr['rate']:.4%} ({odr['defective_orders']}/{odr['orders']} orders)")
    aims = {
        "metrics": aim(runs["metrics"][0], METRICS_TARGET_S),
        "series": aim(runs["series"][0], SERIES_TARGET_S),
        "refresh": "-  (figures, series, clocks and money)",
        "apart": f"-  one read is {runs['apart'][0] / runs['one read'][0]:.2f}x faster",
    }
    labels = {
        "metrics": "full metrics",
        "series": f"{series_days}-day series",
        "clocks": f"open clocks ({len(runs['clocks'][2])})",
        "refresh": "the window's refresh",
        "one read": "  its figures + series, one read",
        "apart": "  the same read apart (baseline)",
    }
    print(f"{'':34}{'best':>10}{'processor':>13}   target")
    for key, (seconds, cpu, _) in runs.items():
        print(f"{labels[key]:34}{seconds * 1000:7.1f} ms{cpu * 1000:10.1f} ms   {aims.get(key, '-')}")
    print(f"{'naive series (baseline)':34}{naive_s * 1000:7.1f} ms{'':13}   {series_days} full computations")
    ratio = naive_s / runs["series"][0]
    print(f"{'series speed-up':34}{ratio:7.1f}x {'':13}   >= 10x  {verdict(ratio >= 10)}")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def aim(seconds: float, target: float) -> str:
    return f"< {target * 1000:.0f} ms  {verdict(seconds < target)}"


def read_apart(db, last: date, codes: list[str], series_days: int, settings) -> tuple[dict, list[dict]]:
    """The window's figures and its series each from a read of its own (as before one read served both)."""
    metrics = services.compute_metrics(db, last, settings)
    return metrics, services.window_series(db, last, codes, series_days, settings)[0]


# --- One marketplace against several ------------------------------------------------------------------------------


def compare_marketplaces(args: argparse.Namespace) -> int:
    """The same seller on one marketplace and on `args.marketplaces`, timed side by side."""
    folder = tempfile.TemporaryDirectory(prefix="ahm-bench-")
    one_path = args.db or Path(folder.name) / "bench.db"
    many_path = one_path.with_name(f"{one_path.stem}-{args.marketplaces}-marketplaces{one_path.suffix}")
    sellers = {1: seller_db(one_path, args, 1), args.marketplaces: seller_db(many_path, args, args.marketplaces)}
    runs = measure(sellers, args.series_days)
    print_comparison(runs, args)
    if args.profile:
        print_profiles(sellers, runs, args.series_days)
    for db in sellers.values():
        db.close()
    folder.cleanup()
    return 0


def seller_db(path: Path, args: argparse.Namespace, marketplaces: int):
    db = open_db(path)
    if not db["orders"].count:
        started = time.perf_counter()
        tallies = generate(db, args.orders, args.days, marketplaces=marketplaces)
        print(f"generated {marketplaces} marketplace(s): {tallies} in {time.perf_counter() - started:.1f} s")
    counts = dict(db.execute("SELECT marketplace, count(*) FROM orders GROUP BY marketplace").fetchall())
    print(f"{path}: {', '.join(f'{code} {number:,}' for code, number in counts.items())} orders")
    return db


TIMED = ("metrics", "series", "window_series", "clocks", "refresh")


def actions(db, series_days: int) -> dict:
    """What is timed, as the command line and the window call it: full metrics, the series of every
    marketplace together, the series the window draws (with several marketplaces, each one's own too), the
    open clocks, and the window's whole refresh."""
    at = end_of_day(END, services.load_settings(db).zone)
    codes = [code for (code,) in db.execute("SELECT DISTINCT marketplace FROM orders")]
    return {
        "metrics": lambda: services.compute_metrics(db, END),
        "series": lambda: services.compute_series(db, END, series_days),
        "window_series": lambda: services.window_series(db, END, codes, series_days),
        "clocks": lambda: services.open_clocks(db, at),
        "refresh": lambda: services.state_as_of(db, END, at, series_days, clocks=True),
    }


def measure(sellers: dict, series_days: int, rounds: int = 5) -> dict[int, dict]:
    """Best seconds of each of TIMED on each seller. The sellers take turns, round after round, so a busy
    moment of the machine weighs on both alike."""
    runs: dict[int, dict] = {count: dict.fromkeys(TIMED, inf) for count in sellers}
    results: dict[int, dict] = {count: {} for count in sellers}
    for _ in range(rounds):
        for count, db in sellers.items():
            for key, action in actions(db, series_days).items():
                seconds, results[count][key] = timed(action, repeat=1)
                runs[count][key] = min(runs[count][key], seconds)
    for count, run in runs.items():
        run["figures"] = results[count]["metrics"]
        run["open"] = len(results[count]["clocks"])
    return runs


LABELS = {
    "metrics": "full metrics",
    "series": "180-day series",
    "window_series": "the window's series",
    "clocks": "open clocks",
    "refresh": "the window's refresh",
}
# Above this cost of the marketplaces (several / one), `--profile` shows where the time goes.
PROFILE_ABOVE = 1.5


def print_profiles(sellers: dict, runs: dict[int, dict], series_days: int) -> None:
    """Full metrics always, and whatever several marketplaces make more than PROFILE_ABOVE times dearer."""
    many = max(runs)
    keys = ["metrics"] + [key for key in TIMED[1:] if runs[many][key] / runs[1][key] > PROFILE_ABOVE]
    for key in keys:
        for count, db in sellers.items():
            print(f"\nwhere the time of {LABELS[key]} goes, {count} marketplace{'s' if count > 1 else ''}:")
            print(profile(actions(db, series_days)[key]))


def print_comparison(runs: dict[int, dict], args: argparse.Namespace) -> None:
    many = max(runs)
    for count, run in runs.items():
        blocks = run["figures"]["marketplaces"]
        odr = "   ".join(
            f"{code} {b['order_defect_rate']['rate']:.3%} "
            f"({b['order_defect_rate']['defective_orders']}/{b['order_defect_rate']['orders']})"
            for code, b in blocks.items()
        )
        print(f"ODR as of {END}, {count} marketplace(s): {odr}; {run['open']} open clocks")
    print()
    print(f"{'':22}{'target':>10}{'1 marketplace':>16}{f'{many} marketplaces':>17}{f'{many} / 1':>9}")
    targets = {"metrics": METRICS_TARGET_S, "series": SERIES_TARGET_S, "window_series": SERIES_TARGET_S}
    for key in TIMED:
        label, target = LABELS[key].replace("180", str(args.series_days)), targets.get(key)
        one, several = runs[1][key], runs[many][key]
        aim = f"< {target * 1000:.0f} ms" if target else "-"
        verdicts = f"  {verdict(one < target)} / {verdict(several < target)}" if target else ""
        print(f"{label:22}{aim:>10}{one * 1000:13.1f} ms{several * 1000:14.1f} ms{several / one:8.2f}x{verdicts}")


def profile(action, top: int = 15) -> str:
    """Where `action` spends its time: the functions with the most time of their own, then the project's
    functions with the most time under them, each as file:function."""
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.perf_counter()
    action()
    total = time.perf_counter() - started
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, function) -> (calls, primitive, own, cumulative, callers)
    rows = [(place(key), calls, own, cumulative) for key, (_, calls, own, cumulative, _) in stats.items()]
    lines = [f"{total * 1000:.0f} ms under the profiler", f"{'own ms':>9}{'total ms':>10}{'calls':>9}  function"]
    for name, calls, own, cumulative in sorted(rows, key=lambda row: -row[2])[:top]:
        lines.append(f"{own * 1000:9.1f}{cumulative * 1000:10.1f}{calls:9d}  {name}")
    lines.append(f"{'':>9}{'total ms':>10}{'calls':>9}  the project's own functions")
    ours = [row for row in rows if row[0].startswith(("app/", "storage/"))]
    for name, calls, _, cumulative in sorted(ours, key=lambda row: -row[3])[:top]:
        lines.append(f"{'':>9}{cumulative * 1000:10.1f}{calls:9d}  {name}")
    return "\n".join(lines)


def place(key: tuple) -> str:
    """`app/snapshot.py:load_snapshot`, `sqlite_utils/db.py:query`, or a built-in's name."""
    file, _, function = key
    if file == "~":
        return function
    path = Path(file)
    parts = path.parts
    for anchor in ("app", "storage", "site-packages"):
        if anchor in parts:
            start = parts.index(anchor) + (1 if anchor == "site-packages" else 0)
            return f"{'/'.join(parts[start:])}:{function}"
    return f"{path.name}:{function}"


if __name__ == "__main__":
    sys.exit(main())
