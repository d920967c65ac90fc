"""Account Health Monitor from the sources: `python main.py` opens the window; subcommands run without a
display. Installed, the same is `account-health-monitor` (the window) and `ahm` (the command line).

python main.py [--db PATH] [--minimized] [--open FILE...]   open the desktop app (one per database file)
python main.py --screenshot PATH [--view NAME]   render a view offscreen to PNG and exit
python main.py import [--db PATH] [--json] FILE...
python main.py demo [--db PATH] [--clear]
python main.py metrics [--db PATH] [--as-of YYYY-MM-DD] [--json]
python main.py clocks [--db PATH] [--at INSTANT] [--json]
python main.py config [--db PATH] get KEY | set KEY VALUE | list | export FILE | import FILE
python main.py check-message [--json] [FILE|-]   a reply against Amazon's Communication Guidelines
python main.py triage [--db PATH] [--as-of DAY] [--since DAY] [--json] [--csv FILE] [--html FILE]
python main.py triage resolve KEY --action TEXT [--note TEXT] | reopen KEY | complete
python main.py triage category KEY CATEGORY | matrix | history ORDER_ID
python main.py account list | add NAME [--file DB] | rename NAME NEW_NAME | remove NAME [--yes]

Every command and the window take --account NAME (a seller account, each with a database of its own).
"""

from app.entry import window

if __name__ == "__main__":
    window()
