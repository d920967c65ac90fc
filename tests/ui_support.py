"""What the window tests share: a fixed instant, a private QSettings file, a running DesktopApp."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QSettings

WAIT_MS = 20000

# The samples' as-of day (expected.json): noon UTC on 2026-11-08, so the figures are those of that day.
SAMPLE_NOW = datetime(2026, 11, 8, 12, 0, tzinfo=UTC).timestamp()


class FixedClock:
    """An injectable clock the test moves by hand."""

    def __init__(self, at: float):
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


def private_qsettings(folder: Path) -> QSettings:
    """Window geometry and the chosen database go to the test's own file, never the user's."""
    return QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)


def big_orders_file(path: Path, sample: Path, copies: int) -> Path:
    """The sample All Orders report repeated `copies` times with fresh order ids (a long import)."""
    lines = sample.read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    with open(path, "w", encoding="utf-8") as out:
        out.write(header + "\n")
        for copy in range(copies):
            for row in rows:
                order_id, rest = row.split("\t", 1)
                out.write(f"9{copy:02d}-{order_id[4:]}\t{rest}\n")
    return path


def memory_passwords():
    """The app's password store over a keyring that lives in the test only (never the developer's)."""
    from app.mailsync import KeyringPasswords, Passwords
    from tests.recording import MemoryKeyring

    return Passwords(KeyringPasswords(MemoryKeyring()))


def desktop_app(db_path, folder, now=None, use_tray=False, own_process=False):
    """A DesktopApp as the tests run it: a fixed clock, its own window settings and an in-memory keyring.

    The database's host runs on a thread here (`own_process=False`), so a test can move the clock by hand;
    the tests of the process boundary itself pass `own_process=True`, as the app runs.
    """
    from ui.application import DesktopApp

    return DesktopApp(
        db_path,
        now=now or FixedClock(SAMPLE_NOW),
        settings=private_qsettings(folder),
        passwords=memory_passwords(),
        use_tray=use_tray,
        own_process=own_process,
    )


@contextmanager
def reading(db_path):
    """The test's own connection to look at what the app stored (closed at once)."""
    from storage import open_db

    db = open_db(db_path)
    try:
        yield db
    finally:
        db.close()


def account_app_maker(folder, now, **options):
    """How the monitor of several seller accounts builds each account's DesktopApp, as the tests run it
    (`ui.accounts_app.AccountsMonitor`'s make_app): a fixed clock, the test's own settings and keyring."""
    from ui.application import DesktopApp

    def make_app(account, tray):
        return DesktopApp(
            account.database,
            now=now,
            settings=private_qsettings(folder),
            passwords=memory_passwords(),
            own_process=False,
            tray=tray,
            account=account.name,
            **options,
        )

    return make_app
