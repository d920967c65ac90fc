"""Several seller accounts: each on a database of its own, chosen with --account on every command and in
the window with one click; one tray for all, whose icon shows the worst account and whose alerts name it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app import accounts
from tests.conftest import SAMPLE_FILES
from tests.test_marketplaces import write_reports
from tests.ui_support import SAMPLE_NOW, WAIT_MS, FixedClock, account_app_maker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """The usual database lives here (as `$AHM_DB` says), and so does the accounts file."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("AHM_DB", str(folder / "monitor.sqlite3"))
    return folder


def ahm(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=ROOT,
        timeout=120,
    )


def figures(*args: str) -> dict:
    done = ahm("metrics", "--as-of", "2026-11-08", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def order_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM orders").fetchone()[0]


@pytest.fixture
def two_accounts(home, samples, tmp_path) -> dict[str, Path]:
    """'Main' holds the sample seller (US), 'EU' a UK + DE seller: two sellers, nothing in common."""
    done = ahm("import", *(str(samples / name) for name in SAMPLE_FILES))
    assert done.returncode == 0, done.stdout + done.stderr
    added = ahm("account", "add", "EU")
    assert added.returncode == 0, added.stderr
    (tmp_path / "eu-reports").mkdir()
    reports = write_reports(tmp_path / "eu-reports")
    assert ahm("--account", "EU", "config", "set", "marketplace", "UK").returncode == 0
    # The sample buyers' e-mails too: EU then has reply clocks running at the same instant as Main.
    uk_files = [reports[kind] for kind in ("orders", "uk_feedback", "returns", "claims")]
    uk_files += [samples / "Inbox.mbox", samples / "Sent.mbox"]
    done = ahm("--account", "EU", "import", *(str(path) for path in uk_files))
    assert done.returncode == 0, done.stdout + done.stderr
    done = ahm("--account", "EU", "import", "--marketplace", "DE", str(reports["de_feedback"]))
    assert done.returncode == 0, done.stdout + done.stderr
    listed = accounts.load_accounts(home)
    return {account.name: account.database for account in listed.accounts}


def test_each_account_keeps_its_own_orders_and_figures(two_accounts, samples):
    assert set(two_accounts) == {"Main", "EU"}
    main, eu = two_accounts["Main"], two_accounts["EU"]
    assert main != eu and main.exists() and eu.exists()
    lines = (samples / "all-orders.txt").read_text(encoding="utf-8-sig").splitlines()
    sample_orders = len({line.split("\t", 1)[0] for line in lines[1:]})
    assert order_count(main) == sample_orders  # the EU import went to EU's database only
    assert order_count(eu) > 0
    main_figures = figures("--account", "Main")
    eu_figures = figures("--account", "eu")  # names are matched without regard to case
    assert set(main_figures["marketplaces"]) == {"US"}
    assert set(eu_figures["marketplaces"]) == {"UK", "DE"}
    assert figures("--db", str(eu)) == eu_figures


def test_without_account_a_command_uses_the_account_used_last(two_accounts):
    figures("--account", "EU")
    assert accounts.load_accounts(two_accounts["EU"].parent.parent).current.name == "EU"
    assert set(figures()["marketplaces"]) == {"UK", "DE"}
    figures("--account", "Main")
    assert set(figures()["marketplaces"]) == {"US"}


def test_account_list_marks_the_one_used_last(two_accounts):
    figures("--account", "EU")
    done = ahm("account", "list", "--json")
    listed = json.loads(done.stdout)["accounts"]
    assert [(row["name"], row["last_used"]) for row in listed] == [("Main", False), ("EU", True)]
    assert listed[1]["database"] == str(two_accounts["EU"])
    text = ahm("account", "list").stdout.splitlines()
    assert text[1].startswith("* EU")


def test_a_seller_with_one_account_has_no_accounts_file(home, samples):
    assert ahm("import", str(samples / "all-orders.txt")).returncode == 0
    assert not (home / accounts.ACCOUNTS_FILE).exists()
    done = ahm("account", "list")
    assert done.stdout.split() == ["*", "Main", str(home / "monitor.sqlite3")]


def test_rename_keeps_the_database_and_refuses_a_name_taken(two_accounts):
    done = ahm("account", "rename", "eu", "Europe")
    assert done.returncode == 0 and "'EU' is now 'Europe'" in done.stdout
    assert figures("--account", "Europe")["marketplaces"].keys() == {"UK", "DE"}
    taken = ahm("account", "rename", "Europe", "MAIN")
    assert taken.returncode == 2 and "already an account named 'Main'" in taken.stderr
    blank = ahm("account", "add", "   ")
    assert blank.returncode == 2 and "needs a name" in blank.stderr


def test_remove_asks_keeps_a_checked_backup_then_deletes(two_accounts, home):
    eu = two_accounts["EU"]
    orders = order_count(eu)
    unasked = ahm("account", "remove", "EU", stdin="")
    assert unasked.returncode == 2 and "--yes" in unasked.stderr
    assert eu.exists() and "EU" in accounts.load_accounts(home).names
    done = ahm("account", "remove", "EU", "--yes")
    assert done.returncode == 0, done.stderr
    backup = Path(done.stdout.strip().rsplit(" ", 1)[1].rstrip("."))
    assert backup.parent == home / accounts.BACKUPS_FOLDER
    assert order_count(backup) == orders  # the seller's whole history, in a file SQLite opens
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert not eu.exists() and not Path(f"{eu}-wal").exists()
    assert accounts.load_accounts(home).names == ["Main"]
    only = ahm("account", "remove", "Main", "--yes")
    assert only.returncode == 2 and "only account" in only.stderr


def test_an_account_whose_database_another_process_has_open_is_not_removed(two_accounts):
    from storage import open_db

    eu = two_accounts["EU"]
    held = open_db(eu)  # as an import or a window's database process holds it
    try:
        done = ahm("account", "remove", "EU", "--yes")
        assert (
            done.returncode == 2 and "open in another process" in done.stderr and "Nothing was removed" in done.stderr
        )
        held.execute("INSERT INTO settings (key, value) VALUES ('written_after', '1')")  # still its own file
        held.conn.commit()
    finally:
        held.close()
    assert accounts.load_accounts(eu.parent.parent).names == ["Main", "EU"]
    done = ahm("account", "remove", "EU", "--yes")
    assert done.returncode == 0, done.stderr
    backup = Path(done.stdout.strip().rsplit(" ", 1)[1].rstrip("."))
    with sqlite3.connect(backup) as conn:  # what was written before the removal is in the backup
        assert conn.execute("SELECT value FROM settings WHERE key = 'written_after'").fetchone() == ("1",)


def test_a_new_account_never_takes_the_name_of_files_left_beside_a_removed_one(two_accounts, home):
    eu = two_accounts["EU"]
    assert ahm("account", "remove", "EU", "--yes").returncode == 0
    Path(f"{eu}-wal").write_bytes(b"")  # as a process that still had the old file open would leave it
    assert ahm("account", "add", "EU").returncode == 0
    assert accounts.load_accounts(home).find("EU").database != eu


def test_an_account_a_monitor_runs_on_is_not_removed(qtbot, two_accounts):
    from ui import single_instance

    running = single_instance.RunningInstance(single_instance.listen(single_instance.instance_name(two_accounts["EU"])))
    try:
        done = ahm("account", "remove", "EU", "--yes")
    finally:
        running.close()
    assert done.returncode == 2 and "running on 'EU'" in done.stderr
    assert two_accounts["EU"].exists()


def test_unknown_account_damaged_file_and_two_choices_are_errors(two_accounts, home):
    empty = ahm("metrics", "--account", "")
    assert empty.returncode == 2 and "needs an account's name" in empty.stderr
    unknown = ahm("metrics", "--account", "Nowhere")
    assert unknown.returncode == 2 and "no account named 'Nowhere'" in unknown.stderr and "Main, EU" in unknown.stderr
    both = ahm("metrics", "--account", "EU", "--db", str(two_accounts["EU"]))
    assert both.returncode == 2 and "give one of them" in both.stderr
    (home / accounts.ACCOUNTS_FILE).write_text("{not json", encoding="utf-8")
    damaged = ahm("metrics")
    assert damaged.returncode == 2 and "damaged" in damaged.stderr and "Traceback" not in damaged.stderr
    assert order_count(two_accounts["EU"]) > 0  # the databases are untouched


def test_an_existing_database_can_become_an_account(home, tmp_path, samples):
    other = tmp_path / "elsewhere.sqlite3"
    assert ahm("--db", str(other), "import", str(samples / "all-orders.txt")).returncode == 0
    done = ahm("account", "add", "Old shop", "--file", str(other))
    assert done.returncode == 0, done.stderr
    assert (
        figures("--account", "old shop")["order_defect_rate"]["orders"]
        == figures("--db", str(other))["order_defect_rate"]["orders"]
    )
    again = ahm("account", "add", "Twice", "--file", str(other))
    assert again.returncode == 2 and "already uses" in again.stderr
    foreign = tmp_path / "bookmarks.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
    before = foreign.read_bytes()
    refused = ahm("account", "add", "Bookmarks", "--file", str(foreign))
    assert refused.returncode == 2 and "another program" in refused.stderr
    assert foreign.read_bytes() == before
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello " * 1000, encoding="utf-8")
    refused = ahm("account", "add", "Notes", "--file", str(not_a_db))
    assert refused.returncode == 2 and "cannot be used" in refused.stderr
    assert not_a_db.read_text(encoding="utf-8") == "hello " * 1000


# --- the window -----------------------------------------------------------------------------------------------


@pytest.fixture
def monitor(qtbot, two_accounts, tmp_path, monkeypatch):
    """Both accounts running at once, as the app starts them, with a tray (faked visible offscreen)."""
    monkeypatch.setattr("ui.tray.QSystemTrayIcon.show", lambda self: None)
    monkeypatch.setattr("ui.tray.QSystemTrayIcon.isVisible", lambda self: True)
    from ui.accounts_app import AccountsMonitor

    clock = FixedClock(SAMPLE_NOW)
    listed = accounts.load_accounts(two_accounts["EU"].parent.parent)
    make_app = account_app_maker(tmp_path, clock, check_seconds=0.2)
    running = AccountsMonitor(list(listed.accounts), "Main", make_app, use_tray=True)
    shown = []
    monkeypatch.setattr(running.tray.icon, "showMessage", lambda title, *rest: shown.append(title))
    running.shown = shown
    for desktop in running.apps.values():
        qtbot.addWidget(desktop.window)
    with qtbot.waitSignals([desktop.bridge.state_ready for desktop in running.apps.values()], timeout=WAIT_MS):
        running.start()
    running.clock = clock
    yield running
    running.quit()


def test_the_window_shows_which_account_is_open_and_switches_in_one_click(qtbot, monitor):
    main, eu = monitor.apps["Main"].window, monitor.apps["EU"].window
    assert main.isVisible() and not eu.isVisible()
    assert main.windowTitle().endswith("— Main")
    bar = main.account_bar
    assert bar.isVisible() and list(bar.buttons) == ["Main", "EU"] and bar.buttons["Main"].isChecked()
    main.resize(1100, 700)
    bar.buttons["EU"].click()
    assert monitor.front == "EU" and eu.isVisible() and not main.isVisible()
    assert eu.size() == main.size()
    assert eu.account_bar.buttons["EU"].isChecked()
    assert set(monitor.apps["EU"].state.metrics["marketplaces"]) == {"UK", "DE"}
    assert set(monitor.apps["Main"].state.metrics["marketplaces"]) == {"US"}
    home = monitor.apps["EU"].db_path.parent.parent
    qtbot.waitUntil(lambda: accounts.load_accounts(home).current.name == "EU", timeout=WAIT_MS)  # the next start


def test_the_tray_shows_the_worst_account_and_each_accounts_status(qtbot, monitor):
    qtbot.waitUntil(lambda: len(monitor.statuses) == 2, timeout=WAIT_MS)
    statuses = {name: status for name, (status, _) in monitor.statuses.items()}
    from app.metrics import worst_status

    assert monitor.tray.status == worst_status(list(statuses.values()))
    tooltip = monitor.tray.icon.toolTip()
    assert "Main: Account health:" in tooltip and "EU: Account health:" in tooltip
    assert statuses["EU"] == "breach"  # DE's ODR is over 1 %: the whole tray says so, whatever Main's is
    assert monitor.tray.status == "breach"
    button = monitor.apps["Main"].window.account_bar.buttons["EU"]
    assert "Over the limit" in button.toolTip()
    icon_before = button.icon().pixmap(16, 16).toImage()
    monitor.account_status("EU", "good", "Account health: Good")
    assert monitor.tray.status == worst_status([statuses["Main"], "good"])
    assert button.icon().pixmap(16, 16).toImage() != icon_before


def test_both_accounts_raise_their_alerts_each_named(qtbot, monitor):
    # Both accounts hold a buyer's message due at 03:00 the next day: 10 h later it is under the 6 h line.
    monitor.clock.at += 10 * 3600
    qtbot.waitUntil(lambda: all(desktop.delivered for desktop in monitor.apps.values()), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: any(t.startswith("EU: ") for t in monitor.shown + _queued(monitor)), timeout=WAIT_MS)
    titles = monitor.shown + _queued(monitor)
    assert any(title.startswith("Main: ") for title in titles)
    assert all(title.startswith(("Main: ", "EU: ")) for title in titles)
    eu_alert = next(named for named in monitor.named_alerts if named.title.startswith("EU: "))
    monitor.tray.alert_clicked.emit(eu_alert)  # a click on EU's notification opens EU's window on its item
    assert monitor.front == "EU" and monitor.apps["EU"].window.isVisible()
    assert monitor.apps["EU"].window.current_view() == eu_alert.view


def _queued(monitor) -> list[str]:
    return [alert.title for alert in monitor.tray.queue]


def test_an_account_added_in_settings_gets_its_own_database_and_offers_a_restart(
    qtbot, launch, home, samples, monkeypatch, tmp_path
):
    from ui import application

    mine = tmp_path / "chosen-in-settings.sqlite3"  # the window's database is not the usual one
    assert ahm("--db", str(mine), "import", str(samples / "all-orders.txt")).returncode == 0
    desktop = launch(mine)
    asked = []
    monkeypatch.setattr(
        application.QMessageBox,
        "question",
        lambda parent, title, text: asked.append(text) or application.QMessageBox.StandardButton.No,
    )
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        desktop.window.settings_view.account_add_requested.emit("North America")
    listed = accounts.load_accounts(home)
    assert listed.names == ["Main", "North America"]
    assert listed.find("Main").database == mine  # the seller's figures stay the first account's
    added = listed.find("north america").database
    assert added.exists() and order_count(added) == 0 and order_count(mine) > 0
    assert asked and "Restart the monitor now?" in asked[0] and not desktop.window.quitting
    failures = []
    desktop.bridge.job_failed.connect(lambda what, message: failures.append(message))
    with qtbot.waitSignal(desktop.bridge.job_failed, timeout=WAIT_MS):
        desktop.window.settings_view.account_add_requested.emit("main")
    assert "already an account named 'Main'" in failures[0]


def test_a_restart_starts_the_app_again_with_its_options_but_not_its_files(qtbot, monkeypatch):
    from ui import application

    started = []
    monkeypatch.setattr(application.subprocess, "Popen", lambda command, **options: started.append(command))
    argv = ["main.py", "--minimized", "--open", "a.txt", "b.txt", "--db", "x.db", "--open=c.txt", "-v"]
    monkeypatch.setattr(application.sys, "argv", argv)
    application.restart_if_asked()
    assert started == []  # nobody asked
    application.ask_restart()
    application.restart_if_asked()
    assert started[0][1].endswith("main.py") and started[0][2:] == ["--minimized", "--db", "x.db", "-v"]
    application.restart_if_asked()
    assert len(started) == 1  # once per request
    application.ask_restart(["--account", "North America"])  # after adding an account: every account, it in front
    application.restart_if_asked()
    assert started[1][2:] == ["--minimized", "-v", "--account", "North America"]


def test_without_a_tray_a_start_in_the_background_leaves_a_minimised_window(qtbot, two_accounts, tmp_path):
    from ui.accounts_app import AccountsMonitor

    make_app = account_app_maker(tmp_path, FixedClock(SAMPLE_NOW))
    listed = accounts.load_accounts(two_accounts["EU"].parent.parent)
    running = AccountsMonitor(list(listed.accounts), "EU", make_app, use_tray=False)
    try:
        for desktop in running.apps.values():
            qtbot.addWidget(desktop.window)
        with qtbot.waitSignals([desktop.bridge.state_ready for desktop in running.apps.values()], timeout=WAIT_MS):
            running.start(show=False)  # --minimized, as at login
        eu = running.apps["EU"].window
        assert eu.isMinimized() and not running.apps["Main"].window.isVisible()
        # No tray: the account bar still shows each account's status, from its own figures.
        qtbot.waitUntil(lambda: set(running.statuses) == {"Main", "EU"}, timeout=WAIT_MS)
        assert running.statuses["EU"][0] == "breach"
    finally:
        running.quit()
