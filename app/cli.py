"""The command line: the same use-cases the window calls, without a display.

Every command takes `--db PATH` (before or after the command name); without it the database is
`$AHM_DB` or the file in the platform's data folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from app import demo_state, services
from app.imports import FileResult, import_files
from app.settings import SETTINGS, load_settings, save_setting
from app.summary import text_summary
from app.timeutil import parse_instant
from storage import StorageError, default_db_path, open_db

SHOWN_REJECTIONS = 20


def build_parser() -> argparse.ArgumentParser:
    db_help = "database file (default: $AHM_DB or the file in the platform's data folder)"
    # The commands' --db leaves the namespace alone when not given (SUPPRESS), so a --db before the command
    # name survives; only the top-level parser's own --db action has the default None.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=db_help)
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Account Health Monitor for Amazon sellers. Without a command, opens the desktop app.",
    )
    parser.add_argument("--db", type=Path, default=None, help=db_help)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument("--screenshot", type=Path, help="render a view offscreen to this PNG file and exit")
    parser.add_argument("--view", default="dashboard", help="the view to render with --screenshot")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    imp = commands.add_parser("import", parents=[common], help="import report files")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--json", action="store_true", help="print one JSON document")

    demo = commands.add_parser("demo", parents=[common], help="fill an empty database with a demo seller")
    demo.add_argument("--clear", action="store_true", help="remove the demo data instead")

    metrics = commands.add_parser("metrics", parents=[common], help="ODR, LRR, NFR and RDR as of a day")
    metrics.add_argument("--as-of", help="a day in the marketplace time zone, YYYY-MM-DD (default: today)")
    metrics.add_argument("--json", action="store_true")

    clocks = commands.add_parser("clocks", parents=[common], help="open deadlines, most urgent first")
    clocks.add_argument("--at", help="an ISO 8601 instant (default: now)")
    clocks.add_argument("--json", action="store_true")

    config = commands.add_parser("config", parents=[common], help="read and change settings")
    config_actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    get = config_actions.add_parser("get", parents=[common], help="print one setting")
    get.add_argument("key", choices=sorted(SETTINGS))
    put = config_actions.add_parser("set", parents=[common], help="change one setting (VALUE as JSON or plain text)")
    put.add_argument("key", choices=sorted(SETTINGS))
    put.add_argument("value")
    config_actions.add_parser("list", parents=[common], help="print every setting")
    return parser


def run_command(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    try:
        return handler(args)
    except StorageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def database(args: argparse.Namespace):
    return open_db(args.db or default_db_path())


def cmd_import(args: argparse.Namespace) -> int:
    db = database(args)
    results = import_files(db, args.files)
    if args.json:
        print(json.dumps({"files": [result.to_json() for result in results]}, indent=2))
    else:
        for result in results:
            print(describe_result(result))
    return 0 if all(result.recognised for result in results) else 1


def describe_result(result: FileResult) -> str:
    """A few lines a seller can read: what the file was and what happened to its rows."""
    if result.outcome == "refused":
        return f"{result.file}: refused. {result.message}"
    if result.outcome == "no_rows":
        return f"{result.file}: {result.kind_label}: {result.message}"
    counts = (
        f"{result.rows} rows: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.rejected} rejected"
    )
    if result.ignored:
        counts += f", {result.ignored} skipped (not from Amazon)"
    lines = [f"{result.file}: {result.kind_label}: {counts}"]
    lines += [f"  note: {note}" for note in result.notes]
    lines += [f"  line {r.line}: {r.reason}" for r in result.rejections[:SHOWN_REJECTIONS]]
    if result.rejected > SHOWN_REJECTIONS:
        lines.append(f"  … and {result.rejected - SHOWN_REJECTIONS} more rejected lines (see --json)")
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import load_demo  # the generator is only needed here

    db = database(args)
    if args.clear:
        if not demo_state.is_active(db):
            print("This database holds no demo data; nothing was removed.")
            return 0
        demo_state.clear(db)
        print("Demo data removed.")
        return 0
    if demo_state.has_data(db) and not demo_state.is_active(db):
        print("This database already holds your own reports; demo data goes only into an empty database.")
        return 1
    summary = load_demo(db)
    print(f"Demo seller loaded: {summary}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    db = database(args)
    settings = load_settings(db)
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else services.today(settings)
    except ValueError:
        print(f"error: --as-of '{args.as_of}' is not a day like 2026-11-08", file=sys.stderr)
        return 2
    figures = services.compute_metrics(db, as_of, settings)
    print(json.dumps(figures, indent=2) if args.json else text_summary(figures))
    return 0


def cmd_clocks(args: argparse.Namespace) -> int:
    db = database(args)
    try:
        at = parse_instant(args.at) if args.at else time.time()
    except ValueError:
        print(f"error: --at '{args.at}' is not an ISO 8601 instant like 2026-11-09T00:00:00Z", file=sys.stderr)
        return 2
    clocks = services.open_clocks(db, at)
    if args.json:
        print(json.dumps([clock.to_json(at) for clock in clocks], indent=2))
        return 0
    if not clocks:
        print("No open clocks.")
    for clock in clocks:
        order = clock.order_id or "(no order: a question before buying)"
        print(f"{describe_remaining(clock.remaining_s(at)):>18}  {clock.label:<36} {order}  {clock.detail}")
    return 0


def describe_remaining(seconds: float) -> str:
    """`5 h 12 min left`, `overdue by 2 d 3 h`."""
    span = abs(int(seconds))
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days} d {hours} h" if days else f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"overdue {text}"


def cmd_config(args: argparse.Namespace) -> int:
    db = database(args)
    if args.action == "list":
        current = load_settings(db)
        for key, setting in SETTINGS.items():
            print(f"{key} = {json.dumps(getattr(current, key))}    # {setting.description}")
        return 0
    if args.action == "get":
        print(json.dumps(getattr(load_settings(db), args.key)))
        return 0
    try:
        value = json.loads(args.value)
    except json.JSONDecodeError:
        value = args.value
    try:
        stored = save_setting(db, args.key, value)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.key} = {json.dumps(stored)}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "import": cmd_import,
    "demo": cmd_demo,
    "metrics": cmd_metrics,
    "clocks": cmd_clocks,
    "config": cmd_config,
}
