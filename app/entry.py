"""Where the monitor starts: the installed `account-health-monitor` (the window) and `ahm` (the command
line), the bundle's executable and `python main.py` all come here.

`account-health-monitor` without a command opens the window and with one runs it, like main.py; `ahm`
without a command prints its help, so a seller typing it in a terminal never opens a window by surprise.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
from pathlib import Path

from app.autostart import MINIMIZED_FLAG
from app.launch import READ_AHEAD


def window() -> None:
    """The `account-health-monitor` script and the bundle's executable."""
    sys.exit(main(sys.argv[1:]))


def command_line() -> None:
    """The `ahm` script."""
    sys.exit(main(sys.argv[1:], window=False))


def main(argv: list[str], *, window: bool = True) -> int:
    # The database's process is started with "spawn": in a bundle that start runs this executable again,
    # and this call turns it into that process instead of a second monitor.
    multiprocessing.freeze_support()
    if argv[:1] == [READ_AHEAD]:  # a bundle's process reading a large report for an import
        from app.importers import ahead

        return ahead.main()
    started = early_database(argv) if window else None
    if started is HANDED_OVER:
        return 0
    from app.cli import build_parser, run_command  # with every command's modules: a second or more

    parser = build_parser(prog=Path(sys.argv[0]).name or "ahm", opens_window=window)
    if window:
        add_window_options(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if args.command is not None or not window:
        stop_early(started)
        if args.command is not None:
            return run_command(args)
        parser.print_help()
        return 0
    if started is None:
        from ui.single_instance import handed_over  # Qt's network module only: a second start ends at once

        if args.screenshot is None and handed_over(args):
            return 0
    from ui.application import run_desktop  # Qt is loaded only for the window

    return run_desktop(args, started)


HANDED_OVER = "handed over"


def early_database(argv: list[str]):
    """A plain start of one seller's window: ask a monitor already running on its database to come forward
    (HANDED_OVER), else start the database's process now, before the command line's and the window's modules
    load, so that it loads its own and opens the file on the other core meanwhile. None for anything else
    (a command, a screenshot, several seller accounts, options to check): the usual start decides."""
    quick = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    quick.add_argument("--db", type=Path)
    quick.add_argument("--account")
    quick.add_argument("-v", "--verbose", action="store_true")
    quick.add_argument(MINIMIZED_FLAG, action="store_true")
    quick.add_argument("--open", nargs="+", action="extend", type=Path)
    try:
        args, rest = quick.parse_known_args(argv)
    except SystemExit:  # said again, in full, by the real parser
        return None
    if rest:
        return None
    from ui import single_instance  # Qt's network module only

    path = single_instance.one_database(args)
    if path is None:
        return None
    if single_instance.handed_over(args):
        return HANDED_OVER
    from app.host_client import start_database

    return start_database(str(path), load_demo_if_empty=True)


def stop_early(started) -> None:
    if started is not None:
        started.stop()


def add_window_options(parser: argparse.ArgumentParser) -> None:
    window = parser.add_argument_group("the desktop app")
    window.add_argument("--screenshot", type=Path, help="render a view offscreen to this PNG file and exit")
    window.add_argument("--view", default="dashboard", help="the view to render with --screenshot")
    window.add_argument(
        "--size", default="1366x768", help="the window's size for --screenshot, WIDTHxHEIGHT (a laptop: 1366x768)"
    )
    window.add_argument(MINIMIZED_FLAG, action="store_true", help="start in the tray, the window hidden (at login)")
    window.add_argument(
        "--open",
        nargs="+",
        action="extend",
        type=Path,
        metavar="FILE",
        help="import these reports in the window (the running one, when the app already runs on the database)",
    )


if __name__ == "__main__":
    window()
