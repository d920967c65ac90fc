"""Starting the desktop app and wiring it: the window, the tray and the database's process.

This is the window's process, and it holds no connection to the seller's database: Qt's file dialogs,
drag-and-drop and icon providers open files behind the app's back, and a `close()` of any descriptor of
the database in a process drops every SQLite lock that process holds (see `app.host`). The database's
process (`app.host`, started through `app.host_client.HostClient`) does every read and write; the window
asks it and shows what it reports, through the Bridge's signals. Tests build a DesktopApp on a temporary
database with an injected clock, with the same host on a thread (`own_process=False`) or in its process.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QSocketNotifier, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from app import (
    accounts,
    autostart,
    demo_state,
    launch,
    marks,
    output_files,
    services,
    settings_transfer,
)
from app.alerts import Alert
from app.clocks import CLOSES_WHEN_DUE, Clock
from app.host_client import CALL_TIMEOUT_S, EarlyStart, HostClient, HostGone, HostRefused, host_fields
from app.menu_entry import MenuEntry
from app.metrics import worst_status
from storage.db import DB_ENV, default_db_path
from ui import menu_entry_setting, single_instance, start_at_login
from ui.amazon_connection import pull_line
from ui.bridge import Bridge
from ui.clocks_model import REPLY_KINDS, countdown_text
from ui.import_dialog import ImportDialog
from ui.main_window import MainWindow
from ui.matrix_dialog import MatrixDialog, listing_currency
from ui.single_instance import database_path
from ui.theme import AMBER_S, RED_S, urgency
from ui.timeline_dialog import TimelineDialog
from ui.tray import Tray, amazon_tooltip_line, status_tooltip

if TYPE_CHECKING:
    from app import mailsync

APP_NAME = "Account Health Monitor"
RESTART_PROPERTY = "ahm_restart"
PAUSE_S = 3600
# Opening migrates the schema and may load the demo: minutes on a huge old database, so a long wait; a
# database process that died says so at once anyway.
OPEN_TIMEOUT_S = 900
SAVE_REPORT = "Saving the triage report"
CHECK_MAILBOX = "Testing the mailbox connection"
TEST_AMAZON = "Testing the Amazon connection"
SAVE_AMAZON = "Saving the Amazon connection"
REMOVE_DEMO = "Removing the demo data"
COMPLETE_TRIAGE = "Completing the triage"
FIGURES_AS_OF = "Computing the figures as of that day"
RECOMPUTING = "Recomputing the figures"
UPDATING = "; updating…"
# What a finished job says in the status bar, in place of its "…" (jobs with a result of their own say it).
DONE_WORDS = {
    "Saving settings": "Settings saved.",
    REMOVE_DEMO: "Demo data removed.",
    "Resolving the item": "Item marked resolved.",
    "Reopening the item": "Item reopened.",
    "Changing the category": "Category changed.",
    "Saving the escalation matrix": "Escalation matrix saved.",
    "Resetting the escalation matrix": "Escalation matrix back to the defaults.",
}
EXPORT_SETTINGS = "Exporting the settings"
IMPORT_SETTINGS = "Importing the settings"
UNDO_MARK = "Taking the mark back"
ADD_ACCOUNT = "Adding the seller account"


def while_running(handler):
    """For the database process's results: ignored once the app is quitting (results still queued from the
    last job have nowhere to go)."""

    @functools.wraps(handler)
    def guarded(self, *args):
        if not self.window.quitting:
            return handler(self, *args)
        return None

    return guarded


def settle_memory() -> None:
    """Out of the garbage collector's way: what the window holds now (its widgets, the figures, a triage list
    of tens of thousands of items) is not rescanned by every full collection, which would stop the window for
    hundreds of milliseconds on a large seller. The figures and lists are plain data without reference
    cycles, so they are still freed when replaced; what stays is the window, which lives as long as the app."""
    gc.freeze()


def host_module():
    """`app.host`, for its jobs and words: loaded when first needed, so the window's start does not wait
    for the host's modules (the database's process loads them, on the other core)."""
    from app import host

    return host


def open_in_browser(path) -> bool:
    """Open a saved file in the seller's browser; False when none could (tests render offscreen: none)."""
    if QGuiApplication.platformName() == "offscreen":
        return False
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class StartRefused(Exception):
    """The database could not be opened: refused in words by the database's process (`lost` False), or that
    process itself failed or did not answer (`lost` True)."""

    def __init__(self, message: str, lost: bool = False):
        super().__init__(message)
        self.lost = lost


class StartFailed:
    """The database's process refused the background work, or ended before it began (`error`)."""

    def __init__(self, error: Exception):
        self.error = error


class DesktopApp:
    """The running app: window, tray (where the desktop has one), the database's process and the wiring.

    Args:
        own_process: run the database's host in a process of its own (the app); False runs the same host on
            a thread of this process (tests that move the clock by hand).
        load_demo: put the demo seller in an empty database (the app's first start).
        login_item: the file that starts the monitor at login (`app.autostart`); None leaves the seller's
            login alone (tests, screenshots) while the choice is still saved.
        tray: the tray shared by every seller account (`ui.accounts_app`), which routes its menu itself;
            None: this app makes its own where the desktop has one (`use_tray`).
        account: the seller account's name, in the window's title.
        menu_entry: this copy's entry in the desktop's applications menu (`app.menu_entry`); None hides the
            Settings button (no such menu here, or a test).
        started: the database's process for `db_path`, started early by `app.host_client.start_database`, its
            first answers on the way; None starts it here.

    Raises:
        StartRefused: the database cannot be opened; the message says why.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        now: Callable[[], float] = time.time,
        settings: QSettings | None = None,
        use_tray: bool | None = None,
        passwords: mailsync.PasswordStore | None = None,
        own_process: bool = True,
        load_demo: bool = False,
        check_seconds: float = 30,
        login_item: autostart.LoginItem | None = None,
        tray=None,
        account: str | None = None,
        menu_entry: MenuEntry | None = None,
        started: EarlyStart | None = None,
    ):
        self.db_path = Path(db_path)
        self.menu_entry = menu_entry
        self.account = account
        self.login_item = login_item
        self.now = now
        self.qsettings = settings or QSettings()
        self.bridge = Bridge()
        if started is None:
            options = host_fields(
                self.db_path, now=now, passwords=passwords, load_demo_if_empty=load_demo, check_seconds=check_seconds
            )
            self.host = HostClient(options, self.bridge.relay, in_thread=not own_process)
            self.host.start()
            opened = self.host.ask("open")
        else:
            self.host, opened = started.client, started.opened
        self.early = started
        # The window is built while the database's process opens the file (on the other core).
        self.window = MainWindow(self.db_path, now)
        try:
            opened(OPEN_TIMEOUT_S)
        except (HostRefused, HostGone) as error:
            self.host.stop()
            raise StartRefused(str(error), lost=isinstance(error, HostGone)) from None
        self.paused_until: float | None = None
        if account:
            self.window.setWindowTitle(f"{APP_NAME} — {account}")
        self.window.settings_view.show_accounts([account] if account else [], account)
        self.window.restore_geometry(self.qsettings)
        self.shares_tray = tray is not None
        if tray is None and (Tray.available() if use_tray is None else use_tray):
            tray = Tray()
        self.tray = tray
        self.window.keep_in_tray = self.tray is not None
        self.import_dialog: ImportDialog | None = None
        self.triage_listing = None
        self.sync_problem: str | None = None
        self.amazon_reports: list = []  # how each Amazon report stands (when it began failing, and why)
        # The last Amazon pull, beside the mailbox's line: permanent, so passing messages do not cover it.
        self.amazon_status = QLabel("")
        self.amazon_status.hide()
        self.window.statusBar().insertPermanentWidget(1, self.amazon_status)
        self.folder_dialog: ImportDialog | None = None
        self.matrix_dialog: MatrixDialog | None = None
        self.state: services.MonitorState | None = None
        self.as_of_choice = None  # a past day the dashboard shows instead of today, chosen by the seller
        self.delivered: list[Alert] = []
        self.pause_timer = QTimer()
        self.pause_timer.setSingleShot(True)
        self.pause_timer.timeout.connect(self._pause_ended)
        self._connect()

    def _connect(self) -> None:
        bridge, window = self.bridge, self.window
        bridge.state_ready.connect(self.apply_state)
        bridge.alert_raised.connect(self.show_alert)
        bridge.job_failed.connect(self.show_failure)
        bridge.host_stopped.connect(self._host_stopped)
        bridge.answered.connect(self._answered)
        bridge.import_progressed.connect(self._import_progressed)
        bridge.import_finished.connect(self._import_finished)
        window.import_requested.connect(self.choose_and_import)
        window.files_dropped.connect(self.import_paths)
        window.quit_requested.connect(self.quit)
        window.close_to_tray.connect(self._closed_to_tray)
        window.alert_banner.open_clicked.connect(self.open_alert)
        window.demo_banner.clear_requested.connect(self.clear_demo)
        window.dashboard.as_of_chosen.connect(self.choose_as_of)
        messages = window.messages
        messages.mark_replied.connect(
            lambda message_id: self._write("Marking the message replied", marks.mark_replied, message_id, self.now())
        )
        messages.mark_no_response_needed.connect(
            lambda message_id: self._write(
                "Marking the message as needing no response", marks.mark_no_response_needed, message_id, self.now()
            )
        )
        messages.timeline_requested.connect(self.open_timeline)
        messages.reply_facts = lambda clock: self._query("reply_facts", clock)
        window.undo_offer.undo_requested.connect(self.undo_mark)
        self._connect_triage()
        self._connect_arrivals()
        settings = window.settings_view
        settings.save_requested.connect(self.save_settings)
        settings.clear_demo_requested.connect(self.clear_demo)
        settings.database_change_requested.connect(self.change_database)
        settings.account_add_requested.connect(
            lambda name: self._write(ADD_ACCOUNT, accounts.add_account_job, name, str(self.db_path), recompute=False)
        )
        settings.menu_entry_requested.connect(lambda add: menu_entry_setting.apply_choice(self, add))
        settings.export_requested.connect(
            lambda path: self._write(EXPORT_SETTINGS, settings_transfer.export_file, path, recompute=False)
        )
        settings.import_requested.connect(
            lambda path: self._write(IMPORT_SETTINGS, settings_transfer.import_file, path)
        )
        if self.tray and not self.shares_tray:
            self.tray.open_requested.connect(window.bring_to_front)
            self.tray.import_requested.connect(self.choose_and_import)
            self.tray.pause_requested.connect(self.pause_alerts)
            self.tray.resume_requested.connect(self.resume_alerts)
            self.tray.quit_requested.connect(self.quit)
            self.tray.alert_clicked.connect(self.open_alert)

    def _connect_triage(self) -> None:
        triage, now = self.window.triage, self.now
        self.bridge.triage_ready.connect(self.show_triage)
        self.bridge.job_finished.connect(self._job_finished)
        triage.resolve_requested.connect(
            lambda key, action, note: self._write("Resolving the item", services.resolve_item, key, action, note, now())
        )
        triage.reopen_requested.connect(lambda key: self._write("Reopening the item", services.reopen_item, key, now()))
        triage.category_requested.connect(
            lambda key, category: self._write("Changing the category", services.set_category, key, category, now())
        )
        triage.complete_requested.connect(
            lambda keys: self._write(COMPLETE_TRIAGE, services.complete_session, now(), keys)
        )
        triage.export_csv_requested.connect(self.export_triage_csv)
        triage.export_report_requested.connect(self.export_triage_report)
        triage.matrix_requested.connect(self.edit_matrix)
        triage.timeline_requested.connect(self.open_timeline)

    def _connect_arrivals(self) -> None:
        """The mailbox and the watched folder: their status, what they brought, the connection test."""
        self.bridge.sync_status_changed.connect(self.show_sync_status)
        self.bridge.folder_imported.connect(self.show_folder_import)
        self.window.settings_view.mailbox.check_requested.connect(
            lambda settings, typed: self._ask("check_mailbox", CHECK_MAILBOX, settings, typed)
        )
        amazon = self.window.settings_view.amazon
        amazon.test_requested.connect(lambda values, typed: self._ask("amazon_test", TEST_AMAZON, values, typed))
        amazon.save_requested.connect(self.save_amazon)
        amazon.pull_requested.connect(self.pull_amazon_now)

    # --- life cycle -----------------------------------------------------------------------------------------

    def start(self, show: bool = True) -> None:
        """Show the window with the last figures and start the background work (which recomputes them and
        checks the clocks at once)."""
        view = self.early.startup_view(CALL_TIMEOUT_S) if self.early else self.host.call("startup_view")
        self.window.settings_view.show_settings(view.settings, view.demo_active, view.password_note)
        start_at_login.restore(self)
        menu_entry_setting.show(self)
        if view.sync_status is not None:
            self.show_sync_status(view.sync_status)
        last = view.last_state
        if last is not None:
            self.apply_state(last)
            when = datetime.fromtimestamp(last.computed_at, tz=last.settings.zone).strftime("%a %d %b, %H:%M")
            self.window.status_text.setText(f"Figures from {when}{UPDATING}")
        settle_memory()
        if self.tray and not self.shares_tray:
            self.tray.show()
        if show:
            self.window.show()
        if self.early is None:
            self.host.call("start")
            self.show_amazon_view()
            return
        # Asked for once the start kept the database: the figures may be on their way already. The Amazon view
        # is read after the start (its next pull is the scheduler's). Both are waited for off the GUI thread,
        # so the saved figures are painted meanwhile; the events held until then are taken after them.
        running = self.early.running or self.host.ask("start")
        self._after_start(running, self.host.ask("amazon_status"))

    def _after_start(self, running: Callable[..., object], amazon: Callable[..., object]) -> None:
        def wait() -> None:
            try:
                running(CALL_TIMEOUT_S)
            except (HostGone, HostRefused) as error:
                answer: object = StartFailed(error)
            else:
                try:
                    answer = amazon(CALL_TIMEOUT_S)
                except (HostGone, HostRefused) as error:
                    answer = error
            with contextlib.suppress(RuntimeError):  # the window has gone meanwhile: nobody left to tell
                self.bridge.answered.emit(self._started, answer)

        threading.Thread(target=wait, name="ask-start", daemon=True).start()

    def _started(self, answer) -> None:
        """The background work runs: the Amazon view, then the events held since the start, in their order.
        Taken only now, after the saved figures were shown, so newer figures are never covered by older ones;
        and after the Amazon view, so a pull's later step is never covered by it."""
        if isinstance(answer, StartFailed):
            self.host.receive_events(self.bridge.relay)  # "the process stopped", if that is why
            QMessageBox.critical(self.window, APP_NAME, f"The monitor could not start: {answer.error}")
            self.quit()
            QApplication.instance().exit(2)
            return
        if isinstance(answer, Exception):
            self._read_failed(answer)
        elif answer is not None:
            self._show_amazon_view(answer)
        self.host.receive_events(self.bridge.relay)

    def quit(self) -> None:
        """Stop: a running import is cancelled (nothing of its file is kept), queued writes finish, the
        database's process ends, then the window."""
        if self.window.quitting:
            return
        self.window.save_geometry(self.qsettings)
        self.window.quitting = True
        self.host.stop()  # cancels a running import first, so this does not wait for the rest of the file
        if self.tray and not self.shares_tray:
            self.tray.hide()
        self.window.close()
        QApplication.instance().quit()

    # --- results from the worker ------------------------------------------------------------------------------

    @while_running
    def apply_state(self, state: services.MonitorState) -> None:
        self.state = state
        self.window.apply_state(state, figures=self.as_of_choice is None)
        self._update_tray()
        settle_memory()

    def choose_as_of(self, day) -> None:
        """Look at the figures as of `day` (None: today, the live figures again)."""
        self.as_of_choice = day
        if day is None:
            if self.state is not None:
                self.window.apply_state(self.state)
            return
        self._write(FIGURES_AS_OF, host_module().figures_as_of, day, self.now(), recompute=False)

    def _update_tray(self) -> None:
        health = self.health()
        if self.tray and health is not None:
            self.tray.set_status(*health)

    def health(self) -> tuple[str, str] | None:
        """The worst status of the figures and reply clocks, and the tray's words for it (None before the
        first figures)."""
        if self.state is None:
            return None
        at = self.now()
        status, deadline = tray_status(self.state, at)
        tooltip = status_tooltip(status, deadline, overdue_count(self.state, at))
        tooltip += f"\nMailbox: {self.sync_problem}" if self.sync_problem else ""
        amazon = amazon_tooltip_line(self.amazon_reports, at)
        return status, tooltip + (f"\n{amazon}" if amazon else "")

    @while_running
    def show_triage(self, listing) -> None:
        self.triage_listing = listing
        triage = self.window.triage
        triage.show_listing(listing, self.bridge.triage_facts)
        open_items = triage.facts.open
        settle_memory()
        self.window.tabs.setTabText(
            self.window.tabs.indexOf(self.window.triage), f"Tri&age ({open_items})" if open_items else "Tri&age"
        )

    def show_settings(self) -> None:
        answer = self._query("settings_view")
        if answer is not None:
            self.window.settings_view.show_settings(*answer)

    @while_running
    def show_sync_status(self, status) -> None:
        zone = self.state.settings.zone if self.state else None
        text = status.describe(zone)
        self.window.settings_view.mailbox.show_status(text, status.ok)
        self.window.mail_status.setText(text if status.ok else f"Mailbox problem: {text}")  # "Mailbox checked …"
        self.window.mail_status.setStyleSheet("" if status.ok else "color: #c62828;")
        self.window.mail_status.show()
        self.sync_problem = None if status.ok else text
        if self.state is not None:
            self._update_tray()

    @while_running
    def show_folder_import(self, results) -> None:
        """Reports picked up from the watched folder: a notice, and the usual summary."""
        names = ", ".join(result.file for result in results)
        rows = sum(result.rows for result in results)
        rejected = sum(result.rejected for result in results)
        text = f"Imported from the watched folder: {names} ({rows:,} rows, {rejected} rejected)."
        self.window.notify(text)
        start_at_login.after_import(self, results, self._query("demo_active"))
        dialog = ImportDialog([result.file for result in results], self.window)
        dialog.on_finished(results)
        self.folder_dialog = dialog
        if self.window.isVisible():
            dialog.show()
        if self.tray and self.tray.icon.isVisible():
            title = f"{self.account}: Report imported" if self.shares_tray else "Report imported"
            self.tray.icon.showMessage(title, text)

    @while_running
    def _job_finished(self, what: str, result) -> None:
        self._progress_done(what)
        if what == CHECK_MAILBOX and result is not None:
            self.window.settings_view.mailbox.show_check(result)
        elif what == host_module().AMAZON_PULL and result is not None:
            self.show_amazon_progress(result)
        elif what == TEST_AMAZON and result is not None:
            self.window.settings_view.amazon.show_check(result.ok, result.message)
        elif what == SAVE_AMAZON and result is not None:
            self.window.settings_view.amazon.show_check(result.ok, result.message, until_pull_ends=result.ok)
            self.show_amazon_view()
        elif what in (EXPORT_SETTINGS, IMPORT_SETTINGS) and result is not None:
            if what == IMPORT_SETTINGS:
                self.show_settings()
            done = "Exported" if what == EXPORT_SETTINGS else "Imported"
            self.window.notify(
                f"{done} {result['settings']} settings and {result['matrix']} matrix rows: {result['path']}"
            )
        elif what == REMOVE_DEMO:
            self.show_settings()  # "start with demo data" is off now
            self._forget_demo_alert()
        elif what == SAVE_REPORT and result:
            if open_in_browser(result):
                self.window.notify(f"Report saved and opened in your browser: {result}")
            else:
                self.window.notify(
                    f"Report saved to {result}. No browser could open it: open that file to print it.", seconds=60
                )
        elif what == FIGURES_AS_OF and result is not None and result.as_of == self.as_of_choice:
            self.window.dashboard.show_state(result, self.state.as_of if self.state else None)
            self.window.notify(f"Figures as of the end of {result.as_of.strftime('%a %d %b %Y')}.")
        elif isinstance(result, marks.Mark):
            self.window.undo_offer.offer(result)
        elif what == UNDO_MARK:
            self._mark_taken_back(result)
        elif what == ADD_ACCOUNT and result is not None:
            self._account_added(result)
        elif what == COMPLETE_TRIAGE and result:
            self.window.notify(
                f"Triage {result['number']} completed: {result['resolved']} of {result['items']} items resolved."
            )

    @while_running
    def show_alert(self, alert: Alert) -> None:
        self.delivered.append(alert)
        if self.tray and self.tray.icon.isVisible() and not alert.window_only:
            self.tray.show_alert(alert)
        else:
            self.window.alert_banner.show_alert(alert)

    @while_running
    def _host_stopped(self, message: str) -> None:
        self.window.notify(
            f"The monitor cannot reach its database: {message}. Quit and start it again.", error=True, seconds=0
        )
        if self.import_dialog is not None and self.import_dialog.results is None:
            self.import_dialog.on_finished([])

    @while_running
    def show_failure(self, what: str, message: str) -> None:
        if what == CHECK_MAILBOX:  # the Test connection button waits for an answer
            from app.mailsync import ConnectionCheck

            self.window.settings_view.mailbox.show_check(ConnectionCheck(False, "error", message))
        elif what in (TEST_AMAZON, SAVE_AMAZON):
            self.window.settings_view.amazon.show_check(False, message)
        elif what == host_module().AMAZON_PULL:
            self._show_amazon_line(f"Amazon: {message}", ok=False)
        self.window.notify(f"{what} failed: {message}", error=True)
        status = self.window.status_text
        if what == RECOMPUTING and status.text().endswith(UPDATING):  # the last figures stay, no longer "updating"
            status.setText(status.text().removesuffix(UPDATING) + "; they could not be updated")

    def _progress_done(self, what: str) -> None:
        """A "Saving settings…" still showing when its work ends says it is done, or goes."""
        bar = self.window.statusBar()
        if bar.currentMessage() != f"{what}…":
            return
        if what in DONE_WORDS:
            self.window.notify(DONE_WORDS[what])
        else:
            bar.clearMessage()

    def open_alert(self, alert: Alert | None) -> None:
        """Bring the window up on the alert's item: its clock in Messages & clocks, its defect in Triage."""
        self.window.bring_to_front()
        if alert is None:
            return
        self.window.show_view(alert.view)
        if alert.view == "messages" and alert.item_id:
            self.window.messages.show_all()
            self.window.messages.select_item(alert.item_id)
        elif alert.view == "triage" and alert.item_id:
            self.window.triage.show_all()
            self.window.triage.select_item(alert.item_id)

    # --- the seller's actions -----------------------------------------------------------------------------

    def _write(self, what: str, action: Callable, *args, recompute: bool = True) -> None:
        """Have the database's process run `action(db, *args)`; its result comes back as `job_finished`."""
        self.window.notify(f"{what}…")
        self._ask("submit", what, action, args, recompute)

    def _ask(self, request: str, *args) -> None:
        """A request whose answer comes later as an event; a process that is gone is said at once."""
        try:
            self.host.send(request, *args)
        except HostGone as error:
            self.show_failure(args[0] if args and isinstance(args[0], str) else request, str(error))

    def _query(self, request: str, *args):
        """A short read from the database's process; None (and the reason in the status bar) if it failed."""
        try:
            return self.host.call(request, *args)
        except (HostGone, HostRefused) as error:
            self._read_failed(error)
            return None

    def _read_failed(self, error: Exception) -> None:
        self.window.notify(f"The monitor could not read its database: {error}", error=True)

    def _query_then(self, request: str, then: Callable[[object], None], *args) -> None:
        """`_query` on a thread of its own; `then(answer)` runs on the GUI thread when the answer comes (None if
        the read failed, the reason said in the status bar as `_query` says it)."""

        def ask() -> None:
            try:
                answer = self.host.call(request, *args)
            except (HostGone, HostRefused) as error:
                answer = error
            with contextlib.suppress(RuntimeError):  # the window has gone meanwhile: nobody left to tell
                self.bridge.answered.emit(then, answer)

        threading.Thread(target=ask, name=f"ask-{request}", daemon=True).start()

    @while_running
    def _answered(self, then: Callable[[object], None], answer) -> None:
        if isinstance(answer, HostGone | HostRefused):
            self._read_failed(answer)
            answer = None
        then(answer)

    def choose_and_import(self) -> None:
        self.window.bring_to_front()
        paths = self.window.ask_for_files()
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: list[str]) -> None:
        """Import the files. A seller in more than one marketplace is asked first which marketplace rows of
        orders not imported yet take; a seller in one imports at once (the summary names the marketplace)."""
        if self.import_dialog is not None and self.import_dialog.results is None:
            if not self.import_dialog.started:  # still asking for the marketplace: bring it forward
                self.import_dialog.raise_()
                self.import_dialog.activateWindow()
                text = "An import is waiting for you to choose the marketplace; import or cancel it first."
            else:
                text = "An import is running; wait for it to finish."
            QMessageBox.information(self.window, APP_NAME, text)
            return
        home, sold_in = None, set()
        if self.state is not None:
            home = self.state.settings.marketplace
            sold_in = {*(self.state.metrics.get("marketplaces") or ())}
            sold_in |= {clock.marketplace for clock in self.state.clocks if clock.marketplace}
        files = [str(path) for path in paths]
        dialog = ImportDialog(paths, self.window, home, sorted(sold_in))
        dialog.cancel_requested.connect(lambda: self._ask("cancel_import"))
        dialog.start_requested.connect(lambda marketplace: self._ask("submit_import", files, marketplace))
        self.import_dialog = dialog
        dialog.show()
        if not dialog.asking:
            dialog.start()

    @while_running
    def _import_progressed(self, progress) -> None:
        if self.import_dialog is not None:
            self.import_dialog.on_progress(progress)

    @while_running
    def _import_finished(self, results) -> None:
        if self.import_dialog is not None:
            self.import_dialog.on_finished(results)
        # The question to the database's process and what follows from it wait for the next turn of the event
        # loop: the summary is painted first, and the window never stops for both at once.
        QTimer.singleShot(0, lambda: self._after_import(results))

    @while_running
    def _after_import(self, results) -> None:
        # Asked without waiting: the database's process is busy with the figures the import changed, and
        # even a read waits its turns there, which the window must not wait through.
        self._query_then("demo_active", lambda demo_active: self._demo_after_import(results, demo_active))

    @while_running
    def _demo_after_import(self, results, demo_active) -> None:
        self.window.settings_view.clear_demo.setEnabled(bool(demo_active))
        if not demo_active:
            self._forget_demo_alert()
        start_at_login.after_import(self, results, demo_active)

    def _forget_demo_alert(self) -> None:
        """The demo seller is gone: an alert about one of its made-up buyers no longer stays in the window."""
        banner = self.window.alert_banner
        if banner.alert is not None and banner.alert.window_only:
            banner.hide()

    def save_settings(self, values: dict) -> None:
        typed = self.window.settings_view.mailbox.password.text()
        self.window.settings_view.mailbox.password.clear()
        self.window.notify("Saving settings…")
        self._ask("save_settings", "Saving settings", values, typed)
        self.window.settings_view.settings = replace(self.window.settings_view.settings, **values)
        if "start_at_login" in values:
            start_at_login.apply_choice(self, values["start_at_login"])

    def save_amazon(self, values: dict, typed: dict) -> None:
        """Save the connection (the secrets go to the keyring); a pull starts once it is saved."""
        self._ask("amazon_save", SAVE_AMAZON, values, typed)
        self.window.settings_view.settings = replace(self.window.settings_view.settings, **values)

    def pull_amazon_now(self) -> None:
        amazon = self.window.settings_view.amazon
        started = self._query("amazon_pull_now")
        if started:
            amazon.show_pull("Asking Amazon for the reports…", ok=True)
            self._show_amazon_line("Amazon: asking for the reports…", ok=True)
        elif started is False:
            amazon.show_pull("Not connected: choose the region and save the connection first.", ok=False)

    def show_amazon_view(self) -> None:
        """The connection's note and its reports' table, read from the database's process."""
        view = self._query("amazon_status")
        if view is not None:
            self._show_amazon_view(view)

    def _show_amazon_view(self, view) -> None:
        amazon = self.window.settings_view.amazon
        amazon.secret_note.setText(view.secret_note)
        amazon.show_reports(view.reports, self._zone(), self.now(), view.next_pull_at)
        self._note_amazon_reports(view.reports)

    @while_running
    def show_amazon_progress(self, progress) -> None:
        """After each step of a pull: the table; at its end (or on an error) the status line too."""
        amazon = self.window.settings_view.amazon
        amazon.show_reports(progress.reports, self._zone(), self.now(), progress.next_pull_at)
        self._note_amazon_reports(progress.reports)
        if progress.errors or not progress.busy:
            text, ok = pull_line(progress, self._zone())
            amazon.show_pull(text.removeprefix("Amazon: "), ok, ended=not progress.busy)
            self._show_amazon_line(text, ok)

    def _show_amazon_line(self, text: str, ok: bool) -> None:
        self.amazon_status.setText(text)
        self.amazon_status.setToolTip(text)
        self.amazon_status.setStyleSheet("" if ok else "color: #c62828;")
        self.amazon_status.show()

    def _note_amazon_reports(self, reports) -> None:
        self.amazon_reports = list(reports)
        if self.state is not None:
            self._update_tray()

    def _zone(self):
        return self.state.settings.zone if self.state else None

    def clear_demo(self) -> None:
        self._write(REMOVE_DEMO, demo_state.remove)
        self.window.settings_view.clear_demo.setEnabled(False)

    def _account_added(self, account: accounts.Account) -> None:
        answer = QMessageBox.question(
            self.window,
            APP_NAME,
            f"The account {account.name} was added, with a database of its own:\n{account.database}\n\n"
            "The monitor watches it beside this one from its next start. Restart the monitor now?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            ask_restart(["--account", account.name])  # every account, the new one in front
            self.quit()

    def change_database(self, path: str) -> None:
        try:  # a file that is not a database (or cannot be created) is refused now, by the database's process
            self.host.call("check_database", path)
        except (HostRefused, HostGone) as error:
            QMessageBox.warning(self.window, APP_NAME, f"{error}\n\nThe app keeps using {self.db_path}.")
            return
        if self.account is not None:  # one of several seller accounts: the accounts file names its database
            try:
                accounts.move_account(self.account, Path(path))
            except (accounts.AccountError, OSError) as error:
                QMessageBox.warning(self.window, APP_NAME, f"{error}\n\nThe app keeps using {self.db_path}.")
                return
        else:
            self.qsettings.setValue("database/path", path)
        QMessageBox.information(
            self.window,
            APP_NAME,
            f"The app will use {path} from its next start. Quit and start it again to switch.",
        )

    def pause_alerts(self) -> None:
        self.paused_until = self.now() + PAUSE_S
        self._ask("pause_alerts", PAUSE_S)
        if self.tray:
            zone = self.state.settings.zone if self.state else None
            self.tray.set_paused(datetime.fromtimestamp(self.paused_until, tz=zone).strftime("%H:%M"))
        self.pause_timer.start(int(PAUSE_S * 1000))

    def resume_alerts(self) -> None:
        """End the pause now; the database's process then delivers what the pause held back."""
        self._ask("resume_alerts")
        self._pause_ended()

    def _pause_ended(self) -> None:
        self.pause_timer.stop()
        self.paused_until = None
        if self.tray:
            self.tray.set_paused(None)

    def open_timeline(self, order_id: str) -> None:
        answer = self._query("timeline", order_id)
        if answer is not None:
            events, zone = answer
            dialog = TimelineDialog(order_id, events, zone, self.window, now=self.now)
            dialog.undo_requested.connect(self.undo_mark)
            dialog.show()

    def undo_mark(self, mark: marks.Mark) -> None:
        """Take a mark back, from the status bar or an order's timeline; the figures are recomputed."""
        self.window.undo_offer.withdraw(mark)
        self._write(UNDO_MARK, marks.undo_mark, mark, self.now())

    def _mark_taken_back(self, undone: marks.Undone | None) -> None:
        if undone is None:
            self.window.notify("That mark was already taken back.")
        else:
            self.window.notify(f"Undone — {undone.mark.words.lower()}: {undone.mark.subject}.")
            banner = self.window.alert_banner  # an alert about a flip only the mark caused is no longer true
            if banner.alert is not None and banner.alert.key in undone.forgotten_alerts:
                banner.hide()
        self._refresh_timelines()

    def _refresh_timelines(self) -> None:
        for dialog in self.window.findChildren(TimelineDialog):
            answer = self._query("timeline", dialog.order_id)
            if answer is not None:
                dialog.show_events(answer[0])

    def export_triage_csv(self, path: str) -> None:
        if self.triage_listing is None:
            return
        try:
            services.save_triage_csv(self.triage_listing, path, self.db_path)
        except OSError as error:
            QMessageBox.warning(self.window, APP_NAME, f"The list could not be saved to {path}: {error.strerror}")
            return
        except output_files.OutputRefused as error:
            QMessageBox.warning(self.window, APP_NAME, f"The list was not saved: {error}")
            return
        self.window.notify(f"Triage list saved: {path}")

    def export_triage_report(self, path: str) -> None:
        if self.triage_listing is not None:
            # The report draws the ODR chart from the database: the worker builds it, off the GUI thread.
            self._write(SAVE_REPORT, host_module().save_report, self.triage_listing, path, recompute=False)

    def edit_matrix(self) -> None:
        entries = self._query("matrix")
        if entries is None:
            return
        dialog = MatrixDialog(entries, self.window, listing_currency(self.triage_listing))
        dialog.save_requested.connect(
            lambda entries: self._write("Saving the escalation matrix", host_module().save_matrix, entries)
        )
        dialog.reset_requested.connect(lambda: self._write("Resetting the escalation matrix", services.reset_matrix))
        self.matrix_dialog = dialog
        dialog.open()

    def _closed_to_tray(self) -> None:
        if not self.tray or self._query("tray_notice_shown") is not False:
            return
        self.tray.icon.showMessage(
            APP_NAME,
            "Still running in the tray, watching your reply clocks. Use Quit in the tray menu to stop it.",
        )
        self._write("Remembering the tray notice", host_module().save_tray_notice, recompute=False)


def ask_restart(database: list[str] | None = None) -> None:
    """Start the app again once this one has quit (its database processes ended, its socket closed);
    `database`: the options choosing its database instead of this start's (`--account NAME`)."""
    QApplication.instance().setProperty(RESTART_PROPERTY, json.dumps(database))


def restart_if_asked() -> None:
    """After the event loop ended: a new start of the app, on its own, if the seller asked for one."""
    app = QApplication.instance()
    asked = app.property(RESTART_PROPERTY) if app is not None else None
    if not asked:
        return
    app.setProperty(RESTART_PROPERTY, "")
    database = json.loads(asked)
    program = launch.program(launch.system_of())
    command = [*program, *restart_arguments(drop_database=database is not None), *(database or [])]
    subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL)


DROPPED_ON_RESTART = {"--open": True, "--db": False, "--account": False}  # option: takes several values


def restart_arguments(*, drop_database: bool = False) -> list[str]:
    """This start's options, without the files it was given to import (they were imported), and without
    the ones choosing its database when the restart chooses another."""
    dropped = {"--open"} | ({"--db", "--account"} if drop_database else set())
    kept, skipping, several = [], False, False
    for argument in sys.argv[1:]:
        name = argument.split("=", 1)[0]
        if name in dropped:
            skipping, several = "=" not in argument, DROPPED_ON_RESTART[name]
        elif skipping and not argument.startswith("-"):
            skipping = several
        else:
            skipping = False
            kept.append(argument)
    return kept


def tray_status(state: services.MonitorState, at: float) -> tuple[str, str | None]:
    """The worst of the metrics' statuses and of the reply clocks' urgency, and the next deadline."""
    statuses = [state.metrics[key]["status"] for key in ("order_defect_rate", "late_response_rate")]
    statuses += [state.metrics[key]["status"] for key in ("negative_feedback_rate", "return_dissatisfaction_rate")]
    # The soonest reply deadline is the most urgent (urgency only grows as the time left shrinks): one look
    # instead of one per clock, which costs the window 15 ms with years of unanswered messages.
    soonest = min((clock.due_at for clock in state.clocks if clock.kind in REPLY_KINDS), default=None)
    if soonest is not None:
        level = urgency(soonest - at, AMBER_S, RED_S)
        statuses.append({"overdue": "breach", "red": "breach", "amber": "at_risk"}.get(level, "good"))
    status = worst_status(statuses)
    upcoming = [clock for clock in state.clocks if clock.due_at >= at]  # remaining_s(at) >= 0
    return status, next_deadline_text(min(upcoming, key=lambda c: c.due_at), at, state) if upcoming else None


def overdue_count(state: services.MonitorState, at: float) -> int:
    """Clocks past their deadline that still want an answer (a closed appeal window wants none)."""
    return sum(1 for clock in state.clocks if clock.due_at < at and clock.kind not in CLOSES_WHEN_DUE)


def next_deadline_text(clock: Clock, at: float, state: services.MonitorState) -> str:
    due = datetime.fromtimestamp(clock.due_at, tz=state.settings.zone).strftime("%a %H:%M")
    left = countdown_text(clock.remaining_s(at))
    return f"{clock.label}, {clock.order_id or 'pre-order question'}: {left} left (due {due})"


# --- starting --------------------------------------------------------------------------------------------------


def run_desktop(args: argparse.Namespace, started: EarlyStart | None = None) -> int:
    """`started`: the database's process `app.entry` started for this start's database before Qt loaded."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("account-health-monitor")
    # The desktop matches the windows and the tray icon to the menu entry of this name (its name and icon).
    app.setDesktopFileName(autostart.APP_ID)
    app.setQuitOnLastWindowClosed(False)
    if args.screenshot:
        stop_early(started)
        return screenshot(args)
    listen_for_signals()
    qsettings = QSettings()
    files = [str(file) for file in getattr(args, "open", None) or []]
    try:
        listed = accounts.load_accounts()
        if not args.db and listed.registered:
            from ui.accounts_app import run_accounts  # several seller accounts, one window each

            stop_early(started)
            return run_accounts(args, listed, qsettings, files)
        path = database_path(args, qsettings)
    except accounts.AccountError as error:
        stop_early(started)
        QMessageBox.critical(None, APP_NAME, str(error))
        return 2
    if started is not None and started.db_path != str(path):
        stop_early(started)  # the database changed in between: not this start's
        started = None
    instance = single_instance.start(path, files)  # None: a monitor on this database runs and was told
    if instance is None:
        stop_early(started)
        return 0
    if started is not None:
        started = started.keep()  # this start is the monitor on the file: its background work may begin
    chosen = bool(args.db or os.environ.get(DB_ENV))
    login_item = start_at_login.login_item(path, chosen=chosen)
    entry = menu_entry_setting.for_this_computer(path, chosen=chosen)
    try:
        try:
            desktop = DesktopApp(
                path, settings=qsettings, load_demo=True, login_item=login_item, menu_entry=entry, started=started
            )
        except StartRefused as error:
            if error.lost or not qsettings.value("database/path") or args.db or os.environ.get(DB_ENV):
                raise
            # The file chosen in Settings is gone (a USB drive) or broken: say so, use the usual place.
            qsettings.remove("database/path")
            path = default_db_path()
            instance.close()
            instance = single_instance.start(path, files)
            if instance is None:
                return 0
            QMessageBox.warning(None, APP_NAME, f"{error}\n\nThe app uses {path} instead.")
            desktop = DesktopApp(path, settings=qsettings, load_demo=True, login_item=login_item, menu_entry=entry)
    except StartRefused as error:
        QMessageBox.critical(None, APP_NAME, str(error))
        return 2
    if quit_on_signals(desktop):  # asked to end while the window was being built
        desktop.quit()
        single_instance_close(instance)
        return 0
    app.aboutToQuit.connect(desktop.quit)  # the session ending (logout) quits Qt itself: stop the same way
    instance.activated.connect(lambda files: single_instance.bring_forward(desktop, files))
    try:
        minimized = getattr(args, "minimized", False)
        desktop.start(show=not minimized)
        if minimized and desktop.tray is None:  # no tray to wait in: a minimised window instead
            desktop.window.showMinimized()
        if files:
            desktop.import_paths(files)
    except (HostGone, HostRefused) as error:
        QMessageBox.critical(None, APP_NAME, f"The monitor could not start: {error}")
        desktop.quit()
        return 2
    try:
        return app.exec()
    finally:
        desktop.quit()  # whatever ended the loop, the database's process ends with the window
        single_instance_close(instance)
        restart_if_asked()


def stop_early(started: EarlyStart | None) -> None:
    """A database's process started before it was known where this start goes: not needed after all."""
    if started is not None:
        started.stop()


def single_instance_close(instance) -> None:
    """A new start right after this one must find nobody listening on the database's name."""
    if instance is not None:
        instance.close()


class _SignalsToQuit:
    """SIGTERM (a logout, `kill`) and SIGINT (Ctrl+C in a terminal) end the app as Quit does: the running
    import is cancelled, queued writes finish, the database's process ends.

    Installed when the start begins, before the window is built: a signal during the build is remembered and
    ends the app as soon as it exists, never a KeyboardInterrupt traceback or a kill that skips the careful end.
    """

    def __init__(self) -> None:
        self.app = None
        self.asked = False
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._arrived)

    def _arrived(self, *_) -> None:
        self.asked = True
        if self.app is not None:
            QTimer.singleShot(0, self.app.quit)
        else:  # a message box of the start (a refused database) is closed; a window being built sees `asked`
            QApplication.exit(0)

    def quit(self, app) -> bool:
        """From now on a signal quits `app`; True when one came already (the caller ends the start)."""
        # Python runs a signal handler only when the interpreter gets control, and Qt's event loop may not give
        # it any for a long time: the wake-up socket makes the loop call back into Python at once (qutebrowser's).
        wake = host_module().signal_wake_socket()
        notifier = QSocketNotifier(wake.fileno(), QSocketNotifier.Type.Read, app.window)
        notifier.activated.connect(lambda: host_module().drain(wake))
        app.signal_wakeup = (wake, notifier)  # kept alive as long as the app
        self.app = app
        return self.asked


@functools.cache
def listen_for_signals() -> _SignalsToQuit:
    """The start's first step: a signal from here on ends the app the careful way (see `_SignalsToQuit`)."""
    return _SignalsToQuit()


def quit_on_signals(app) -> bool:
    """`app` (a DesktopApp or the accounts' monitor) is what a signal ends; True when one came during the start."""
    return listen_for_signals().quit(app)


def screenshot(args: argparse.Namespace) -> int:
    """Render one view offscreen to PNG with figures computed at once, then exit. A database that cannot
    be opened is an error on stderr and exit code 2 (nobody is there to click a message box)."""
    from ui.main_window import VIEWS

    if args.view not in VIEWS:
        print(f"error: --view must be one of {', '.join(VIEWS)}", file=sys.stderr)
        return 2
    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size must be WIDTHxHEIGHT, such as 1366x768 (not {args.size})", file=sys.stderr)
        return 2
    try:
        path = database_path(args, QSettings())
        entry = menu_entry_setting.for_this_computer(path, chosen=bool(args.db))  # only shown, never written
        desktop = DesktopApp(path, use_tray=False, load_demo=True, menu_entry=entry)
    except (StartRefused, accounts.AccountError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        desktop.show_settings()
        menu_entry_setting.show(desktop)
        state, listing = desktop.host.call("refresh_now")
        desktop.apply_state(state)
        desktop.show_triage(listing)
        window = desktop.window
        window.resize(width, height)
        window.show_view(args.view)
        window.show()
        window.dashboard.draw_pending()  # the charts, drawn at once: there is no later turn before the grab
        QApplication.processEvents()
        saved = window.grab().save(str(args.screenshot))
    except (HostGone, HostRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        desktop.quit()
    return 0 if saved else 1
