"""Account Health Monitor: `python main.py` opens the window; subcommands run without a display.

python main.py [--db PATH] [--minimized] [--open FILE...]   open the desktop app (one per database file)
python main.py --screenshot PATH [--view NAME]   render a view offscreen to PNG and exit
python main.py import [--db PATH] [--json] FILE...
python main.py demo [--db PATH] [--clear]
python main.py metrics [--db PATH] [--as-of YYYY-MM-DD] [--json]
python main.py clocks [--db PATH] [--at INSTANT] [--json]
python main.py config [--db PATH] get KEY | set KEY VALUE | list
python main.py triage [--db PATH] [--as-of DAY] [--since DAY] [--json] [--csv FILE] [--html FILE]
python main.py triage resolve KEY --action TEXT [--note TEXT] | reopen KEY | complete
python main.py triage category KEY CATEGORY | matrix | history ORDER_ID
python main.py account list | add NAME [--file DB] | rename NAME NEW_NAME | remove NAME [--yes]

Every command and the window take --account NAME (a seller account, each with a database of its own).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from app.autostart import MINIMIZED_FLAG
from app.cli import build_parser, run_command


def main(argv: list[str]) -> int:
    parser = build_parser()
    window = parser.add_argument_group("the desktop app")
    window.add_argument(MINIMIZED_FLAG, action="store_true", help="start in the tray, the window hidden (at login)")
    window.add_argument(
        "--open",
        nargs="+",
        action="extend",
        type=Path,
        metavar="FILE",
        help="import these reports in the window (the running one, when the app already runs on the database)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if args.command is None:
        from ui.single_instance import handed_over  # Qt's network module only: a second start ends at once

        if args.screenshot is None and handed_over(args):
            return 0
        from ui.application import run_desktop  # Qt is loaded only for the window

        return run_desktop(args)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
