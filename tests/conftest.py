"""Shared fixtures: the sample seller, fresh databases, an injected clock. Qt runs offscreen."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from app.imports import import_files
from storage import open_db, order_counts

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "samples"
# Optional: where the sample seller is maintained. Only the extra checks use it, when it is there.
SHARED = Path(os.environ.get("AHM_SHARED", ROOT.parent / "shared"))
SAMPLE_FILES = (
    "all-orders.txt",
    "seller-feedback.txt",
    "fbm-returns.txt",
    "fba-customer-returns.txt",
    "claims.csv",
    "account-health.json",
    "Inbox.mbox",
    "Sent.mbox",
)


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.fail(f"the sample seller is missing: expected {SAMPLES}")
    return SAMPLES


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "health.db"


@pytest.fixture
def db(db_path: Path):
    database = open_db(db_path)
    yield database
    assert_order_counts_whole(database)
    database.close()


def assert_order_counts_whole(database) -> None:
    """Whatever a test wrote, by whichever path, the per-quarter-hour order counts match the orders they cover
    (a test that closed its database or took it to an older schema has nothing to check)."""
    try:
        counted = "order_counts_mark" in database.table_names()
    except sqlite3.ProgrammingError:
        return
    if counted:
        assert not order_counts.differences(database), "the order counts disagree with the orders"


@pytest.fixture
def new_db(tmp_path: Path):
    """Open further fresh databases in the test's own folder, by name (closed at the end of the test)."""
    opened = []

    def make(name: str):
        database = open_db(tmp_path / name)
        opened.append(database)
        return database

    yield make
    for database in opened:
        database.close()


@pytest.fixture
def sample_db(db, samples: Path):
    """A database holding every sample report, imported once."""
    results = import_files(db, [samples / name for name in SAMPLE_FILES])
    assert all(result.outcome == "imported" for result in results), [r.message for r in results]
    return db


@pytest.fixture
def sample_copy(tmp_path: Path, samples: Path):
    """Copy a sample into the test's own folder (tests/samples must stay as committed)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copy(samples / name, target)
        return target

    return copy


@pytest.fixture
def demo_path(db_path):
    """A database holding the demo seller as of SAMPLE_NOW (buyer messages with 1.5 h and 5 h left then)."""
    from app.demo import load_demo
    from tests.ui_support import SAMPLE_NOW

    db = open_db(db_path)
    load_demo(db, lambda: SAMPLE_NOW)
    db.close()
    return db_path


@pytest.fixture(scope="session")
def seller_file(tmp_path_factory) -> Path:
    """A closed database file holding the sample seller (built once; tests work on copies)."""
    path = tmp_path_factory.mktemp("seller") / "health.db"
    db = open_db(path)
    try:
        assert all(r.outcome == "imported" for r in import_files(db, [SAMPLES / name for name in SAMPLE_FILES]))
    finally:
        db.close()
    return path


@pytest.fixture
def seller_copy(seller_file, tmp_path) -> Path:
    """A copy of the sample seller's database file, in a private folder of the test's own."""
    target = tmp_path / "copy" / "health.db"
    target.parent.mkdir(mode=0o700)
    shutil.copy2(seller_file, target)
    return target


@pytest.fixture
def launch(qtbot, tmp_path):
    """Start a DesktopApp on a database; it is shut down at the end of the test."""
    started = []

    def start(db_path, now=None, use_tray=False, login_item=None, menu_entry=None):
        from tests.ui_support import WAIT_MS, desktop_app

        desktop = desktop_app(db_path, tmp_path, now=now, use_tray=use_tray)
        desktop.login_item = login_item  # None: the seller's own login is never touched
        desktop.menu_entry = menu_entry  # nor their applications menu
        qtbot.addWidget(desktop.window)
        with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
            desktop.start()
        started.append(desktop)
        return desktop

    yield start
    for desktop in started:
        desktop.quit()


@pytest.fixture(scope="module")
def dovecot():
    """A real IMAP server (Dovecot) on loopback for the module's tests; skipped only where it cannot run."""
    from tests.imap_server import Dovecot, missing_tools

    problem = missing_tools()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the IMAP tests: {problem}")
        pytest.skip(f"no real IMAP server to test against: {problem}")
    server = Dovecot()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def account(dovecot, samples):
    """A fresh mailbox holding the sample Inbox.mbox and Sent.mbox, and the settings to reach it."""
    from app.mailsync import MailSettings
    from tests.imap_server import append_mbox

    user, password = dovecot.add_user()
    conn = dovecot.session(user, password)
    try:
        assert append_mbox(conn, "INBOX", samples / "Inbox.mbox") == 20
        assert append_mbox(conn, "Sent", samples / "Sent.mbox") == 17
    finally:
        conn.logout()
    settings = MailSettings(host="127.0.0.1", user=user, port=dovecot.imap_port, security="none")
    return settings, password


def pytest_addoption(parser):
    parser.addoption(
        "--read-ahead-always",
        action="store_true",
        help="read every All Orders report in a process of its own, however small (tests/test_import_ahead.py)",
    )


@pytest.fixture(autouse=True)
def _read_ahead_always(request, monkeypatch):
    if request.config.getoption("--read-ahead-always"):
        from app.importers import ahead

        monkeypatch.setattr(ahead, "AHEAD_BYTES", 0)
        warned = ahead.log.warning

        def never_read_here(message, *args):
            assert not message.startswith("the report is read in this process"), message % args
            warned(message, *args)

        monkeypatch.setattr(ahead.log, "warning", never_read_here)
