"""The command line: the same use-cases the window calls, without a display.

Every command takes `--db PATH` (before or after the command name); without it the database is
`$AHM_DB` or the file in the platform's data folder.

When the environment fails (the database is locked, damaged, read-only or on a full disk, a file cannot
be written) a command prints one `error: …` line on stderr and exits with status 2; only a fault of the
program itself ends in a traceback. Commands that only read open a read-only database file as it is.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from app import accounts, demo_state, launch, menu_entry, output_files, removal, services, triage
from app.autostart import APP_NAME
from app.imports import FileResult, import_files
from app.marketplaces import CODES, canonical
from app.settings import (
    MARKETPLACE_ZONE_SETTINGS,
    SETTINGS,
    SettingError,
    load_settings,
    save_setting,
    setting_keys,
    setting_value,
)
from app.summary import text_summary
from app.timeutil import end_of_day, parse_instant, to_iso
from storage import DiskFullError, ReadOnlyDatabaseError, StorageError, is_read_only, open_db
from storage.db import DEFAULT_BUSY_TIMEOUT_S, busy_timeout_from_env
from storage.errors import translate
from storage.transaction import database_path

SHOWN_REJECTIONS = 20
# Days outside these make the date arithmetic of the windows overflow (year 1 or 9999), and the
# marketplace has no reports from before 2000.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
FIRST_INSTANT = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC).timestamp()
END_INSTANT = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, tzinfo=UTC).timestamp() + 86400
EXIT_ERROR = 2


class CommandError(Exception):
    """What stops a command, told in one line: an option's value it cannot use, a file it cannot write."""


def build_parser(prog: str = "main.py", *, opens_window: bool = True) -> argparse.ArgumentParser:
    """The commands; `opens_window`: without a command the program opens the window (else it prints help)."""
    db_help = "database file (default: the account used last, else $AHM_DB or the file in the platform's data folder)"
    account_help = "the seller account to work on (see `account list`; default: the only or the last used one)"
    # The commands' --db leaves the namespace alone when not given (SUPPRESS), so a --db before the command
    # name survives; only the top-level parser's own --db action has the default None.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS, help=db_help)
    common.add_argument("--account", metavar="NAME", default=argparse.SUPPRESS, help=account_help)
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Account Health Monitor for Amazon sellers. "
        + (
            "Without a command, opens the desktop app."
            if opens_window
            else "To open the window: account-health-monitor."
        ),
    )
    parser.add_argument("--db", type=Path, default=None, help=db_help)
    parser.add_argument("--account", metavar="NAME", default=None, help=account_help)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    imp = commands.add_parser("import", parents=[common], help="import report files")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--json", action="store_true", help="print one JSON document")
    imp.add_argument(
        "--marketplace",
        metavar="CODE",
        help="the marketplace of rows whose order is unknown, e.g. DE (default: your marketplace setting)",
    )

    demo = commands.add_parser("demo", parents=[common], help="fill an empty database with a demo seller")
    demo.add_argument("--clear", action="store_true", help="remove the demo data instead")

    metrics = commands.add_parser("metrics", parents=[common], help="ODR, LRR, NFR and RDR as of a day")
    metrics.add_argument("--as-of", help="a day in the marketplace time zone, YYYY-MM-DD (default: today)")
    metrics.add_argument("--json", action="store_true")
    metrics.add_argument("--marketplace", metavar="CODE", help="one marketplace's figures only, e.g. UK")

    clocks = commands.add_parser("clocks", parents=[common], help="open deadlines, most urgent first")
    clocks.add_argument("--at", help="an ISO 8601 instant (default: now)")
    clocks.add_argument("--json", action="store_true")
    clocks.add_argument("--marketplace", metavar="CODE", help="one marketplace's deadlines only, e.g. UK")

    tri = commands.add_parser(
        "triage",
        parents=[common],
        help="the weekly triage list: new defects and contacts, categorised, with their resolution path",
    )
    tri.add_argument("--as-of", help="list as of the end of this day, YYYY-MM-DD (default: now)")
    tri.add_argument("--since", help="list everything from this day, YYYY-MM-DD (default: since the last triage)")
    tri.add_argument("--json", action="store_true", help='print {"items": [...]} with the session and counts')
    tri.add_argument("--csv", type=Path, metavar="FILE", help="also write the list as CSV (spreadsheet-safe)")
    tri.add_argument("--html", type=Path, metavar="FILE", help="also write the printable report with the ODR chart")
    tri.add_argument("--marketplace", metavar="CODE", help="one marketplace's items only, e.g. UK")
    tri_actions = tri.add_subparsers(dest="triage_action", metavar="ACTION")
    resolve = tri_actions.add_parser("resolve", parents=[common], help="mark an item resolved")
    resolve.add_argument("key", help='the item\'s key, e.g. "feedback:111-0000000-0000000"')
    resolve.add_argument("--action", required=True, help="what was done")
    resolve.add_argument("--note", default="", help="anything worth keeping as evidence")
    reopen = tri_actions.add_parser("reopen", parents=[common], help="take an item's resolution back")
    reopen.add_argument("key")
    tri_actions.add_parser("complete", parents=[common], help="complete this week's triage")
    category = tri_actions.add_parser("category", parents=[common], help="set an item's category")
    category.add_argument("key")
    category.add_argument("category", help="a category, or 'derived' to go back to the derived one")
    tri_actions.add_parser("matrix", parents=[common], help="print the escalation matrix")
    history = tri_actions.add_parser("history", parents=[common], help="an order's recorded resolutions")
    history.add_argument("order_id")

    config = commands.add_parser("config", parents=[common], help="read and change settings")
    config_actions = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    get = config_actions.add_parser("get", parents=[common], help="print one setting")
    get.add_argument("key", choices=setting_keys())
    put = config_actions.add_parser("set", parents=[common], help="change one setting (VALUE as JSON or plain text)")
    put.add_argument("key", choices=setting_keys())
    put.add_argument("value")
    config_actions.add_parser("list", parents=[common], help="print every setting")
    export = config_actions.add_parser(
        "export", parents=[common], help="write your settings and escalation matrix (no secrets) to a JSON file"
    )
    export.add_argument("file", type=Path)
    load = config_actions.add_parser(
        "import", parents=[common], help="replace your settings and escalation matrix with an exported file's"
    )
    load.add_argument("file", type=Path)
    _amazon_parser(commands, common)
    _account_parser(commands)
    _menu_entry_parsers(commands)
    _check_message_parser(commands)
    return parser


def _check_message_parser(commands) -> None:
    check = commands.add_parser(
        "check-message", help="check a reply against Amazon's Communication Guidelines (exit 1 when it breaks one)"
    )
    check.add_argument("file", nargs="?", default="-", metavar="FILE", help="the message, a text file (-: stdin)")
    check.add_argument("--json", action="store_true", help='print {"breaches": [{"rule": …, "phrase": …}]}')


def _menu_entry_parsers(commands) -> None:
    db_help = "name this database file in the entry (default: the one the monitor chooses at each start)"
    install = commands.add_parser(
        "install-desktop-entry", help="add the monitor, with its icon, to your desktop's applications menu (Linux)"
    )
    install.add_argument("--db", type=Path, default=None, help=db_help)
    commands.add_parser("remove-desktop-entry", help="take the monitor out of the applications menu again")


def _amazon_parser(commands, common) -> None:
    amazon = commands.add_parser(
        "amazon", parents=[common], help="pull reports from Amazon's Selling Partner API (see config amazon_*)"
    )
    actions = amazon.add_subparsers(dest="amazon_action", metavar="ACTION", required=True)
    pull = actions.add_parser("pull", parents=[common], help="pull every report now, waiting until all have come")
    pull.add_argument("--json", action="store_true", help="print one JSON document")
    actions.add_parser("test", parents=[common], help="sign in to Amazon and say whether the connection works")
    status = actions.add_parser("status", parents=[common], help="each report's last pull, next pull and error")
    status.add_argument("--json", action="store_true")


def _account_parser(commands) -> None:
    account = commands.add_parser("account", help="your seller accounts, each with a database of its own")
    actions = account.add_subparsers(dest="account_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every account, the one used last marked *")
    listing.add_argument("--json", action="store_true")
    add = actions.add_parser("add", help="a new account, on a new empty database (or --file, an existing one)")
    add.add_argument("name")
    add.add_argument("--file", type=Path, metavar="PATH", help="an existing database file for the account")
    rename = actions.add_parser("rename", help="give an account a new name (its database stays)")
    rename.add_argument("name")
    rename.add_argument("new_name")
    remove = actions.add_parser("remove", help="remove an account; its database is kept in the backups folder")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="remove without asking")


def run_command(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    try:
        code = handler(args)
        # Output still buffered would meet a closed pipe only at exit, as an "Exception ignored" message.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader (`| head`) has gone: stop quietly. Further writes to stdout, including the
        # interpreter's final flush, go to devnull (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (CommandError, accounts.AccountError, menu_entry.MenuEntryError) as error:
        return fail(str(error))
    except StorageError as error:
        return fail(str(error))
    except sqlite3.Error as error:
        converted = translate(error, db_path(args), _busy_timeout())
        if converted is None:
            raise  # a fault of the program (bad SQL, a constraint): it must crash loudly
        return fail(str(converted))
    except OSError as error:
        return fail(describe_os_error(error))


def fail(message: str) -> int:
    """One line on stderr, whatever line breaks the message holds."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_ERROR


def describe_os_error(error: OSError, path: object = None) -> str:
    where = error.filename if error.filename is not None else path
    reason = error.strerror or str(error) or type(error).__name__
    return f"{where}: {reason}" if where is not None else reason


def _busy_timeout() -> float:
    try:
        return busy_timeout_from_env()
    except StorageError:
        return DEFAULT_BUSY_TIMEOUT_S


def db_path(args: argparse.Namespace) -> Path:
    return accounts.choose_database(getattr(args, "db", None), getattr(args, "account", None))


def database(args: argparse.Namespace, *, write: bool = True):
    """The command's database; a command that only reads opens a read-only file read-only, as it is."""
    path = db_path(args)
    if not write and is_read_only(path):
        return open_db(path, read_only=True)
    try:
        return open_db(path)
    except ReadOnlyDatabaseError as error:
        raise ReadOnlyDatabaseError(
            f"{error} Commands that only read (metrics, clocks, triage without an action, config get and "
            "list) still work on it as it is."
        ) from error


def parse_day(option: str, text: str | None) -> date | None:
    """A YYYY-MM-DD day between FIRST_DAY and LAST_DAY (None when the option was not given)."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} '{text}' is not a day like 2026-11-08") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise CommandError(
            f"{option} '{text}' is out of range: the monitor accepts days from {FIRST_DAY} to {LAST_DAY}"
        )
    return day


def parse_at(text: str) -> float:
    try:
        at = parse_instant(text)
    except (ValueError, OverflowError):
        raise CommandError(f"--at '{text}' is not an ISO 8601 instant like 2026-11-09T00:00:00Z") from None
    if not FIRST_INSTANT <= at < END_INSTANT:
        raise CommandError(
            f"--at '{text}' is out of range: the monitor accepts instants from {FIRST_DAY}T00:00:00Z "
            f"to {LAST_DAY}T23:59:59Z"
        )
    return at


def parse_marketplace(text: str | None) -> str | None:
    """A marketplace code (`UK`, `DE`, …; None when the option was not given)."""
    if text is None:
        return None
    code = canonical(text)
    if code not in CODES:
        raise CommandError(f"--marketplace '{text}' is not a marketplace code: {', '.join(CODES)}")
    return code


def cmd_import(args: argparse.Namespace) -> int:
    marketplace = parse_marketplace(args.marketplace)
    db = database(args)
    results: list[FileResult] = []
    for path in args.files:
        try:
            done = import_files(db, [path], marketplace=marketplace)
        except DiskFullError as error:
            raise DiskFullError(
                f"The disk is full: {path} could not be stored in the database {db_path(args)}, and nothing of "
                "this file was kept. Free some space, then import it again."
            ) from error
        except StorageError as error:
            raise StorageError(f"{path} was not imported, nothing of it was kept. {error}") from error
        results += done
        if not args.json:  # as each file is stored, so a failure later still shows what was kept
            for result in done:
                print(describe_result(result), flush=True)
    if args.json:
        print(json.dumps({"files": [result.to_json() for result in results]}, indent=2))
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
    if result.unknown_order_words:
        lines.append(f"  {result.unknown_order_words}")
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
        demo_state.remove(db)
        print("Demo data removed.")
        return 0
    if demo_state.has_data(db) and not demo_state.is_active(db):
        print("This database already holds your own reports; demo data goes only into an empty database.")
        return 1
    summary = load_demo(db)
    print(f"Demo seller loaded: {summary}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    given = parse_day("--as-of", args.as_of)
    marketplace = parse_marketplace(args.marketplace)
    db = database(args, write=False)
    settings = load_settings(db)
    as_of = given or services.today(settings.for_marketplace(marketplace) if marketplace else settings)
    figures = services.compute_metrics(db, as_of, settings, only=marketplace)
    print(json.dumps(figures, indent=2) if args.json else text_summary(figures))
    return 0


def cmd_clocks(args: argparse.Namespace) -> int:
    at = parse_at(args.at) if args.at else time.time()
    marketplace = parse_marketplace(args.marketplace)
    db = database(args, write=False)
    clocks = services.open_clocks(db, at, only=marketplace)
    if args.json:
        print(json.dumps([clock.to_json(at) for clock in clocks], indent=2))
        return 0
    if not clocks:
        print("No open clocks.")
    for clock in clocks:
        order = clock.order_id or "(no order: a question before buying)"
        where = f"{clock.marketplace:<3} " if clock.marketplace else ""
        print(f"{describe_remaining(clock.remaining_s(at)):>18}  {where}{clock.label:<36} {order}  {clock.detail_text}")
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
    db = database(args, write=args.action in ("set", "import"))
    if args.action in ("export", "import"):
        return _transfer_settings(db, args.action, args.file)
    if args.action == "list":
        current = load_settings(db)
        for key, setting in SETTINGS.items():
            print(f"{key} = {json.dumps(getattr(current, key))}    # {setting.description}")
        for key, setting in MARKETPLACE_ZONE_SETTINGS.items():
            print(f"{key} = {json.dumps(setting_value(current, key))}    # {setting.description}")
        return 0
    if args.action == "get":
        print(json.dumps(setting_value(load_settings(db), args.key)))
        return 0
    try:
        value = json.loads(args.value)
    except json.JSONDecodeError:
        value = args.value
    try:
        stored = save_setting(db, args.key, value)
    except SettingError as error:  # the command line names a setting by the key typed, the window by its label
        print(f"error: {error.key}: {error.problem}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.key} = {json.dumps(stored)}")
    return 0


def _transfer_settings(db, action: str, path: Path) -> int:
    from app import settings_transfer

    try:
        if action == "export":
            done = settings_transfer.export_file(db, path)
            print(f"Exported {done['settings']} settings and {done['matrix']} matrix rows to {path}")
        else:
            done = settings_transfer.import_file(db, path)
            print(f"Imported {done['settings']} settings and {done['matrix']} matrix rows from {path}")
    except (settings_transfer.SettingsFileError, output_files.OutputRefused) as error:
        return fail(f"{path}: {error}" if str(path) not in str(error) else str(error))
    except OSError as error:
        return fail(f"cannot {'write' if action == 'export' else 'read'} {describe_os_error(error, path)}")
    return 0


TRIAGE_READERS = {None, "matrix", "history"}


def cmd_triage(args: argparse.Namespace) -> int:
    action = getattr(args, "triage_action", None)
    as_of = parse_day("--as-of", getattr(args, "as_of", None))
    since = parse_day("--since", getattr(args, "since", None))
    marketplace = parse_marketplace(getattr(args, "marketplace", None))
    db = database(args, write=action not in TRIAGE_READERS)
    if action is not None:
        return _triage_action(db, args, action)
    settings = load_settings(db)
    # --as-of is a day of the marketplace the list is limited to.
    zone = settings.for_marketplace(marketplace).zone if marketplace else settings.zone
    at = end_of_day(as_of, zone) if as_of else time.time()
    listing = services.load_triage(db, at, since, settings, marketplace=marketplace)
    if args.csv:
        _save(args.csv, lambda: services.save_triage_csv(listing, args.csv, database_path(db)))
    if args.html:
        _save(args.html, lambda: services.save_triage_html(db, listing, args.html, settings))
    if args.json:
        print(json.dumps(listing.to_json(), indent=2, ensure_ascii=False))
    else:
        print(describe_triage(listing))
    return 0


def _save(path: Path, write: Callable[[], None]) -> None:
    try:
        write()
    except output_files.OutputRefused as error:
        raise CommandError(str(error)) from error
    except OSError as error:
        # A write that fails at the final flush or close (/proc, a full disk) raises an error naming no file.
        raise CommandError(f"cannot write {describe_os_error(error, path)}") from error


def _triage_action(db, args: argparse.Namespace, action: str) -> int:
    try:
        if action == "resolve":
            resolution = services.resolve_item(db, args.key, args.action, args.note)
            print(f"Resolved {args.key}: {resolution.action}")
        elif action == "reopen":
            print(f"Reopened {args.key}." if services.reopen_item(db, args.key) else f"{args.key} was not resolved.")
        elif action == "complete":
            done = services.complete_session(db)
            print(f"Triage {done['number']} completed: {done['resolved']} of {done['items']} items resolved.")
        elif action == "category":
            chosen = None if args.category == "derived" else args.category
            services.set_category(db, args.key, chosen)
            print(f"{args.key}: {chosen or 'derived category'}")
        elif action == "matrix":
            for entry in services.get_matrix(db):
                amount = "item value" if entry.amount is None else f"{entry.amount:.2f}"
                print(f"{entry.label}: {entry.who}, within {entry.response_hours:g} h, up to {amount}")
                print(f"    {entry.action}")
                print("    Reply template:")
                print("\n".join(f"      {line}".rstrip() for line in entry.template.splitlines()))
        elif action == "history":
            resolutions = services.order_resolutions(db, args.order_id)
            if not resolutions:
                print(f"No resolution recorded for order {args.order_id}.")
            for r in resolutions:
                ended = f" ({r.ended_by} {to_iso(r.ended_at)})" if r.ended_at else ""
                print(f"{to_iso(r.resolved_at)}  {r.key}: {r.action}{' — ' + r.note if r.note else ''}{ended}")
    except (LookupError, ValueError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    return 0


def describe_triage(listing) -> str:
    """The list as a seller reads it in a terminal: one block per item, most urgent first."""
    counts = listing.counts
    reasons = {"first": "first triage: the last 7 days", "since_last": "since the last triage", "given": "as asked"}
    lines = [
        f"Triage {listing.session_number}: {listing.window_start.isoformat()} to {listing.window_end.isoformat()} "
        f"({reasons[listing.window_reason]}) — {counts['total']} items, {counts['open']} open, "
        f"{counts['overdue']} overdue, {counts['removable']} feedback removable"
    ]
    if not listing.items:
        lines.append("Nothing new needs triage.")
    for item in listing.items:
        order = item.order_id or "no order"
        channel = f" ({item.channel})" if item.channel else ""
        lines.append("")
        lines.append(
            f"[{item.status}] {item.day.isoformat()}  {triage.CATEGORIES[item.category]}  {order}{channel}  {item.key}"
        )
        lines.append(f"    {item.what}")
        clock = ""
        if item.clock is not None:
            clock = f"{item.clock.label}: {describe_remaining(item.clock.remaining_s(listing.at))}; "
        lines.append(f"    {clock}ODR: {item.odr_effect}")
        s = item.suggestion
        amount = f", pre-approved up to {s.amount:.2f}{' ' + s.currency if s.currency else ''}" if s.amount else ""
        lines.append(f"    → {s.action} ({s.who}, within {s.response_hours:g} h{amount})")
        if item.removal and item.removal["ground"]:
            state = "eligible" if item.removal["eligible"] else "not eligible now"
            lines.append(
                f"    Removal: {removal.GROUND_LABELS[item.removal['ground']]} ({state}; "
                f"window closes {item.removal['window_closes']})"
            )
        if item.resolution:
            lines.append(
                f"    Resolved: {item.resolution.action}{' — ' + item.resolution.note if item.resolution.note else ''}"
            )
    return "\n".join(lines)


def cmd_amazon(args: argparse.Namespace) -> int:
    from app import amazon_pull, spapi  # the Selling Partner API client is loaded only for this command

    action = args.amazon_action
    db = database(args, write=action != "status")
    if action == "status":
        return _amazon_status(amazon_pull.report_status(db), args.json)
    connection = _amazon_connection(db)
    if connection is None:
        # Exit 1, not the environment's 2: nothing is broken, the pull simply cannot run yet.
        fail(spapi.NOT_CONFIGURED)
        return 1
    if action == "test":
        try:
            print(spapi.test_connection(connection))
        except spapi.AmazonProblem as problem:
            print(problem.sentence)
            return 1
        return 0
    progress = None if args.json else _print_progress
    reports = amazon_pull.pull_now(db, load_settings(db), connection, progress=progress)
    ok = all(report.state in ("done", "no_data") for report in reports)
    if args.json:
        print(json.dumps({"reports": [_report_json(report) for report in reports], "ok": ok}, indent=2))
    else:
        for report in reports:
            print(amazon_pull.describe(report))
    return 0 if ok else 1


def _amazon_connection(db):
    """The configured connection (secrets from AHM_LWA_* or the system keyring); None when there is none."""
    from app import spapi

    settings = load_settings(db)
    connection = spapi.connection_from(settings, None)
    if connection is None and settings.amazon_region and settings.amazon_connection_id:
        from app.mailsync import Passwords  # the keyring is asked only when the environment has no secrets

        connection = spapi.connection_from(settings, Passwords())
    return connection


def _print_progress(outcome) -> None:
    for result in outcome.imported:
        print(describe_result(result), flush=True)
    for error in outcome.errors:
        print(f"  {error}", flush=True)


def _report_json(report) -> dict:
    data = report.to_json()
    return {key: data[key] for key in ("kind", "marketplace", "state", "report_id", "imported_rows", "error")}


def _amazon_status(reports, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"reports": [report.to_json() for report in reports]}, indent=2))
        return 0
    if not reports:
        print("Nothing pulled from Amazon yet.")
    for report in reports:
        last = to_iso(int(report.last_pulled_at)) if report.last_pulled_at else "never"
        upcoming = to_iso(int(report.next_at)) if report.next_at else "at the next pull"
        line = f"{report.label:<15} {report.marketplace:<3} {report.state:<9} last pulled {last}, next {upcoming}"
        print(line + (f"  error: {report.last_error}" if report.last_error else ""))
    return 0


def cmd_account(args: argparse.Namespace) -> int:
    action = args.account_action
    if action == "list":
        return _list_accounts(args)
    if action == "add":
        added = accounts.add_account(args.name, args.file)
        print(f"Account '{added.name}' added, on {added.database}. Use it with --account \"{added.name}\".")
        return 0
    if action == "rename":
        old = accounts.load_accounts().find(args.name).name
        renamed = accounts.rename_account(old, args.new_name)
        print(f"Account '{old}' is now '{renamed.name}' (its database stays {renamed.database}).")
        return 0
    return _remove_account(args)


def _list_accounts(args: argparse.Namespace) -> int:
    listed = accounts.load_accounts()
    current = listed.current.name
    if args.json:
        rows = [{"name": a.name, "database": str(a.database), "last_used": a.name == current} for a in listed.accounts]
        print(json.dumps({"accounts": rows}, indent=2, ensure_ascii=False))
        return 0
    for account in listed.accounts:
        print(f"{'*' if account.name == current else ' '} {account.name:<24} {account.database}")
    return 0


def _remove_account(args: argparse.Namespace) -> int:
    account = accounts.load_accounts().find(args.name)
    if _monitor_runs_on(account.database):
        raise CommandError(
            f"The monitor is running on '{account.name}': quit it (Quit in the tray menu), then remove the account."
        )
    if not args.yes and not _confirmed(account):
        print("Nothing was removed.")
        return 1
    removed, backup = accounts.remove_account(account.name)
    if backup is None:
        print(f"Account '{removed.name}' removed. Its database {removed.database} was not there; nothing was deleted.")
    else:
        print(f"Account '{removed.name}' removed. Its database is kept in {backup}.")
    return 0


def _confirmed(account: accounts.Account) -> bool:
    if not sys.stdin.isatty():
        raise CommandError(f"Removing '{account.name}' asks first: run it in a terminal, or add --yes.")
    print(f"Remove the account '{account.name}'? Its database {account.database} is deleted after a backup.")
    try:
        typed = input("Type the account's name to remove it: ")
    except EOFError:
        return False
    return typed.strip().casefold() == account.name.casefold()


def _monitor_runs_on(path: Path) -> bool:
    try:
        from ui.single_instance import is_running  # Qt's network module only
    except ImportError:  # no Qt here: nothing to ask
        return False
    return is_running(path)


def cmd_install_desktop_entry(args: argparse.Namespace) -> int:
    entry = _menu_entry(args)
    written = entry.install()
    print(f"Added {APP_NAME} to the applications menu: {written[0]}")
    print(f"Icons: {len(written) - 1} files in {entry.data_home / 'icons' / 'hicolor'}")
    print(f"Remove it with: {launch.command_line_name()} remove-desktop-entry")
    return 0


def cmd_remove_desktop_entry(args: argparse.Namespace) -> int:
    removed = _menu_entry(args).remove()
    if not removed:
        print(f"{APP_NAME} was not in the applications menu: nothing to remove.")
        return 0
    print(f"Removed {APP_NAME} from the applications menu ({len(removed)} files).")
    return 0


def _menu_entry(args: argparse.Namespace) -> menu_entry.MenuEntry:
    if not menu_entry.supported():
        raise CommandError("the applications menu entry is for Linux desktops; this computer has its own installer")
    return menu_entry.for_this_computer(db_path=getattr(args, "db", None))


def cmd_check_message(args: argparse.Namespace) -> int:
    """The seller's own words of one message, checked; quoted buyer text does not count against the seller."""
    from app import guidelines  # the phone-number library loads only for this command

    breaches = guidelines.check(guidelines.own_words(_message_text(args.file)))
    if args.json:
        print(json.dumps({"breaches": [breach.to_json() for breach in breaches]}, ensure_ascii=False))
    elif not breaches:
        print("Compliant: nothing in the message breaks Amazon's Communication Guidelines.")
    for breach in [] if args.json else breaches:
        print(f"{breach.rule}: {' '.join(breach.phrase.split())}  ({guidelines.RULES[breach.rule]})")
    return 1 if breaches else 0


def _message_text(file: str) -> str:
    name = "standard input" if file == "-" else file
    data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(f"{name}: not UTF-8 text; save the message as UTF-8 and check it again") from None


def version() -> str:
    try:
        return importlib.metadata.version("account-health-monitor")
    except importlib.metadata.PackageNotFoundError:
        return "(from the sources)"


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "install-desktop-entry": cmd_install_desktop_entry,
    "remove-desktop-entry": cmd_remove_desktop_entry,
    "check-message": cmd_check_message,
    "account": cmd_account,
    "amazon": cmd_amazon,
    "import": cmd_import,
    "demo": cmd_demo,
    "metrics": cmd_metrics,
    "clocks": cmd_clocks,
    "config": cmd_config,
    "triage": cmd_triage,
}
