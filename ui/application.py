"""Starting the desktop app and wiring it: the window, the tray and the background worker.

`DesktopApp` owns the pieces and connects them; the window and the tray only show and emit, the worker
(`app.scheduler.MonitorScheduler`) does every database job, and results come back through the Bridge's
signals. Tests build a DesktopApp on a temporary database with an injected clock.
"""

from __future__ import annotations

import argparse
import functools
import gc
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app import demo_state, mailsync, services
from app.alerts import Alert
from app.clocks import Clock
from app.scheduler import MonitorScheduler
from app.settings import save_setting
from app.timeline import order_timeline
from storage import StorageError, default_db_path, open_db
from storage.db import DB_ENV
from ui.bridge import AlertRelay, Bridge, WorkerListener
from ui.clocks_model import REPLY_KINDS, countdown_text
from ui.import_dialog import ImportDialog
from ui.main_window import MainWindow
from ui.matrix_dialog import MatrixDialog
from ui.theme import AMBER_S, RED_S, urgency, worst_status
from ui.timeline_dialog import TimelineDialog
from ui.tray import Tray, status_tooltip

APP_NAME = "Account Health Monitor"
PAUSE_S = 3600
TRAY_NOTICE_KEY = "state.tray_notice_shown"
SAVE_REPORT = "Saving the triage report"
CHECK_MAILBOX = "Testing the mailbox connection"
REMOVE_DEMO = "Removing the demo data"
COMPLETE_TRIAGE = "Completing the triage"


def while_running(handler):
    """For the worker's results: ignored once the app is quitting (the GUI's database is closed by then,
    and results still queued from the last job have nowhere to go)."""

    @functools.wraps(handler)
    def guarded(self, *args):
        if not self.window.quitting:
            return handler(self, *args)
        return None

    return guarded


class DesktopApp:
    """The running app: window, tray (where the desktop has one), worker and the wiring between them."""

    def __init__(
        self,
        db_path: Path,
        *,
        now: Callable[[], float] = time.time,
        settings: QSettings | None = None,
        use_tray: bool | None = None,
        passwords: mailsync.Passwords | None = None,
    ):
        self.db_path = Path(db_path)
        self.now = now
        self.qsettings = settings or QSettings()
        self.db = open_db(self.db_path)  # the GUI thread's own connection: reads only
        self.bridge = Bridge()
        self.passwords = passwords or mailsync.Passwords()
        self.scheduler = MonitorScheduler(
            self.db_path, WorkerListener(self.bridge), AlertRelay(self.bridge), now=now, passwords=self.passwords
        )
        self.window = MainWindow(self.db_path, now)
        self.window.restore_geometry(self.qsettings)
        self.tray = Tray() if (Tray.available() if use_tray is None else use_tray) else None
        self.window.keep_in_tray = self.tray is not None
        self.import_dialog: ImportDialog | None = None
        self.triage_listing = None
        self.sync_problem: str | None = None
        self.folder_dialog: ImportDialog | None = None
        self.matrix_dialog: MatrixDialog | None = None
        self.state: services.MonitorState | None = None
        self.delivered: list[Alert] = []
        self._connect()

    def _connect(self) -> None:
        bridge, window = self.bridge, self.window
        bridge.state_ready.connect(self.apply_state)
        bridge.alert_raised.connect(self.show_alert)
        bridge.job_failed.connect(self.show_failure)
        bridge.import_progressed.connect(self._import_progressed)
        bridge.import_finished.connect(self._import_finished)
        window.import_requested.connect(self.choose_and_import)
        window.files_dropped.connect(self.import_paths)
        window.quit_requested.connect(self.quit)
        window.close_to_tray.connect(self._closed_to_tray)
        window.alert_banner.open_clicked.connect(self.open_alert)
        window.demo_banner.clear_requested.connect(self.clear_demo)
        messages = window.messages
        messages.mark_replied.connect(
            lambda message_id: self._write("Marking the message replied", services.mark_replied, message_id, self.now())
        )
        messages.mark_no_response_needed.connect(
            lambda message_id: self._write(
                "Marking the message as needing no response", services.mark_no_response_needed, message_id, self.now()
            )
        )
        messages.timeline_requested.connect(self.open_timeline)
        self._connect_triage()
        self._connect_arrivals()
        settings = window.settings_view
        settings.save_requested.connect(self.save_settings)
        settings.clear_demo_requested.connect(self.clear_demo)
        settings.database_change_requested.connect(self.change_database)
        if self.tray:
            self.tray.open_requested.connect(window.bring_to_front)
            self.tray.import_requested.connect(self.choose_and_import)
            self.tray.pause_requested.connect(self.pause_alerts)
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
            lambda settings, typed: self.scheduler.submit(
                CHECK_MAILBOX, check_mailbox, self.passwords, settings, typed, recompute=False
            )
        )

    # --- life cycle -----------------------------------------------------------------------------------------

    def start(self, show: bool = True) -> None:
        """Show the window with the last figures and start the worker (which recomputes them and checks the
        clocks at once)."""
        self.show_settings()
        status = mailsync.load_status(self.db)
        if status.last_attempt_at is not None:
            self.show_sync_status(status)
        last = services.load_last_state(self.db)
        if last is not None:
            self.apply_state(last)
            when = datetime.fromtimestamp(last.computed_at, tz=last.settings.zone).strftime("%a %d %b, %H:%M")
            self.window.status_text.setText(f"Figures from {when}; updating…")
        # Everything built so far lives as long as the app: out of the garbage collector's way, its full
        # collections (run on whichever thread allocates, the importer's too) stop rescanning it, which
        # kept the GUI thread waiting for the interpreter for up to 100 ms during big imports.
        gc.freeze()
        # The worker is busy Python (imports, recomputation); by default it keeps the interpreter lock up to
        # 5 ms each time the GUI thread asks for it, and the window feels it. 1 ms keeps the GUI thread's
        # turns short at a cost of a few percent of the worker's speed.
        sys.setswitchinterval(0.001)
        if self.tray:
            self.tray.show()
        if show:
            self.window.show()
        self.scheduler.start()

    def quit(self) -> None:
        if self.window.quitting:
            return
        self.window.save_geometry(self.qsettings)
        self.window.quitting = True
        if self.import_dialog is not None and self.import_dialog.results is None:
            self.import_dialog.cancel()  # quitting mid-import keeps nothing of the file, and does not wait for it
        self.scheduler.shutdown(wait=True)
        if self.tray:
            self.tray.hide()
        self.window.close()
        self.db.close()
        QApplication.instance().quit()

    # --- results from the worker ------------------------------------------------------------------------------

    @while_running
    def apply_state(self, state: services.MonitorState) -> None:
        self.state = state
        self.window.apply_state(state)
        self._update_tray()

    def _update_tray(self) -> None:
        if self.tray and self.state is not None:
            status, deadline = tray_status(self.state, self.now())
            tooltip = status_tooltip(status, deadline)
            self.tray.set_status(status, tooltip + (f"\nMailbox: {self.sync_problem}" if self.sync_problem else ""))

    @while_running
    def show_triage(self, listing) -> None:
        self.triage_listing = listing
        self.window.triage.show_listing(listing)
        open_items = len(listing.open_items)
        self.window.tabs.setTabText(
            self.window.tabs.indexOf(self.window.triage), f"Tri&age ({open_items})" if open_items else "Tri&age"
        )

    def show_settings(self) -> None:
        note = (
            self.passwords.problem
            or "Kept in the system keyring (never in the database); type a new one here to replace it."
        )
        self.window.settings_view.show_settings(services.load_settings(self.db), demo_state.is_active(self.db), note)

    @while_running
    def show_sync_status(self, status) -> None:
        zone = self.state.settings.zone if self.state else None
        text = status.describe(zone)
        self.window.settings_view.mailbox.show_status(text, status.ok)
        self.window.mail_status.setText(("Mailbox: " if status.ok else "Mailbox problem: ") + text)
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
        dialog = ImportDialog([result.file for result in results], self.window)
        dialog.on_finished(results)
        self.folder_dialog = dialog
        if self.window.isVisible():
            dialog.show()
        if self.tray and self.tray.icon.isVisible():
            self.tray.icon.showMessage("Report imported", text)

    @while_running
    def _job_finished(self, what: str, result) -> None:
        if what == CHECK_MAILBOX and result is not None:
            self.window.settings_view.mailbox.show_check(result)
        elif what == REMOVE_DEMO:
            self.show_settings()  # "start with demo data" is off now
        elif what == SAVE_REPORT and result:
            self.window.notify(f"Report saved: {result}")
            if QGuiApplication.platformName() != "offscreen":  # tests render offscreen: no browser to open
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(result)))
        elif what == COMPLETE_TRIAGE and result:
            self.window.notify(
                f"Triage {result['number']} completed: {result['resolved']} of {result['items']} items resolved."
            )

    @while_running
    def show_alert(self, alert: Alert) -> None:
        self.delivered.append(alert)
        if self.tray and self.tray.icon.isVisible():
            self.tray.show_alert(alert)
        else:
            self.window.alert_banner.show_alert(alert)

    @while_running
    def show_failure(self, what: str, message: str) -> None:
        if what == CHECK_MAILBOX:  # the Test connection button waits for an answer
            self.window.settings_view.mailbox.show_check(mailsync.ConnectionCheck(False, "error", message))
        self.window.notify(f"{what} failed: {message}", error=True)

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

    def _write(self, what: str, action: Callable, *args) -> None:
        self.window.notify(f"{what}…")
        self.scheduler.submit(what, action, *args)

    def choose_and_import(self) -> None:
        self.window.bring_to_front()
        paths = self.window.ask_for_files()
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: list[str]) -> None:
        if self.import_dialog is not None and self.import_dialog.results is None:
            QMessageBox.information(self.window, APP_NAME, "An import is running; wait for it to finish.")
            return
        self.import_dialog = ImportDialog(paths, self.window)
        self.import_dialog.show()
        self.scheduler.submit_import(paths, self.import_dialog.cancelled)

    @while_running
    def _import_progressed(self, progress) -> None:
        if self.import_dialog is not None:
            self.import_dialog.on_progress(progress)

    @while_running
    def _import_finished(self, results) -> None:
        if self.import_dialog is not None:
            self.import_dialog.on_finished(results)
        self.window.settings_view.clear_demo.setEnabled(demo_state.is_active(self.db))

    def save_settings(self, values: dict) -> None:
        typed = self.window.settings_view.mailbox.password.text()
        self.window.settings_view.mailbox.password.clear()
        self._write("Saving settings", save_all_settings, values, self.passwords, typed, self.scheduler)
        self.window.settings_view.settings = replace(self.window.settings_view.settings, **values)

    def clear_demo(self) -> None:
        self._write(REMOVE_DEMO, demo_state.remove)
        self.window.settings_view.clear_demo.setEnabled(False)

    def change_database(self, path: str) -> None:
        try:
            open_db(path).close()  # a file that is not a database (or cannot be created) is refused now
        except StorageError as error:
            QMessageBox.warning(self.window, APP_NAME, f"{error}\n\nThe app keeps using {self.db_path}.")
            return
        self.qsettings.setValue("database/path", path)
        QMessageBox.information(
            self.window,
            APP_NAME,
            f"The app will use {path} from its next start. Quit and start it again to switch.",
        )

    def pause_alerts(self) -> None:
        self.scheduler.pause_alerts(PAUSE_S)
        if self.tray:
            zone = self.state.settings.zone if self.state else None
            self.tray.set_paused(datetime.fromtimestamp(self.now() + PAUSE_S, tz=zone).strftime("%H:%M"))
            QTimer.singleShot(PAUSE_S * 1000, lambda: self.tray.set_paused(None))

    def open_timeline(self, order_id: str) -> None:
        zone = self.state.settings.zone if self.state else services.load_settings(self.db).zone
        TimelineDialog(order_id, order_timeline(self.db, order_id, zone), zone, self.window).show()

    def export_triage_csv(self, path: str) -> None:
        if self.triage_listing is None:
            return
        try:
            services.save_triage_csv(self.triage_listing, path)
        except OSError as error:
            QMessageBox.warning(self.window, APP_NAME, f"The list could not be saved to {path}: {error.strerror}")
            return
        self.window.notify(f"Triage list saved: {path}")

    def export_triage_report(self, path: str) -> None:
        if self.triage_listing is not None:
            # The report draws the ODR chart from the database: the worker builds it, off the GUI thread.
            self.scheduler.submit(SAVE_REPORT, save_report, self.triage_listing, path, recompute=False)

    def edit_matrix(self) -> None:
        dialog = MatrixDialog(services.get_matrix(self.db), self.window)
        dialog.save_requested.connect(lambda entries: self._write("Saving the escalation matrix", save_matrix, entries))
        dialog.reset_requested.connect(lambda: self._write("Resetting the escalation matrix", services.reset_matrix))
        self.matrix_dialog = dialog
        dialog.open()

    def _closed_to_tray(self) -> None:
        if not self.tray:
            return
        shown = self.db.execute("SELECT 1 FROM settings WHERE key = ?", [TRAY_NOTICE_KEY]).fetchone()
        if shown:
            return
        self.tray.icon.showMessage(
            APP_NAME,
            "Still running in the tray, watching your reply clocks. Use Quit in the tray menu to stop it.",
        )
        self._write("Remembering the tray notice", save_tray_notice)


def save_all_settings(db, values: dict, passwords, typed_password: str, scheduler: MonitorScheduler) -> None:
    """Write the settings, keep a newly typed mailbox password (keyring, or this session), then let the
    mailbox and watched-folder jobs follow the new settings."""
    with db.atomic():
        for key, value in values.items():
            save_setting(db, key, value)
    if typed_password and values.get("imap_user") and values.get("imap_host"):
        passwords.set(values["imap_user"], values["imap_host"], typed_password)
    scheduler.reschedule_sync()


def check_mailbox(db, passwords, settings: mailsync.MailSettings, typed_password: str) -> mailsync.ConnectionCheck:
    """Test connection, with the password just typed or else the saved one."""
    password = typed_password or passwords.get(settings.user, settings.host)
    if not password:
        return mailsync.ConnectionCheck(False, mailsync.NO_PASSWORD, "Enter the mailbox password first.")
    return mailsync.test_connection(settings, password)


def save_report(db, listing, path: str) -> str:
    services.save_triage_html(db, listing, path)
    return path


def save_matrix(db, entries) -> None:
    with db.atomic():
        for entry in entries:
            services.save_matrix_entry(
                db, entry.category, entry.action, entry.who, entry.response_hours, entry.amount, entry.case
            )


def save_tray_notice(db) -> None:
    from storage.settings import write_setting

    write_setting(db, TRAY_NOTICE_KEY, True)


def tray_status(state: services.MonitorState, at: float) -> tuple[str, str | None]:
    """The worst of the metrics' statuses and of the reply clocks' urgency, and the next deadline."""
    statuses = [state.metrics[key]["status"] for key in ("order_defect_rate", "late_response_rate")]
    statuses += [state.metrics[key]["status"] for key in ("negative_feedback_rate", "return_dissatisfaction_rate")]
    replies = [clock for clock in state.clocks if clock.kind in REPLY_KINDS]
    for clock in replies:
        level = urgency(clock.remaining_s(at), AMBER_S, RED_S)
        statuses.append({"overdue": "breach", "red": "breach", "amber": "at_risk"}.get(level, "good"))
    status = worst_status(statuses)
    upcoming = [clock for clock in state.clocks if clock.remaining_s(at) >= 0]
    return status, next_deadline_text(min(upcoming, key=lambda c: c.due_at), at, state) if upcoming else None


def next_deadline_text(clock: Clock, at: float, state: services.MonitorState) -> str:
    due = datetime.fromtimestamp(clock.due_at, tz=state.settings.zone).strftime("%a %H:%M")
    left = countdown_text(clock.remaining_s(at))
    return f"{clock.label}, {clock.order_id or 'pre-order question'}: {left} left (due {due})"


# --- starting --------------------------------------------------------------------------------------------------


def database_path(args: argparse.Namespace, settings: QSettings) -> Path:
    """`--db`, then `$AHM_DB`, then the file chosen in Settings, then the platform's data folder."""
    if args.db:
        return Path(args.db)
    if os.environ.get(DB_ENV):
        return default_db_path()
    chosen = settings.value("database/path")
    return Path(chosen) if chosen else default_db_path()


def run_desktop(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("account-health-monitor")
    app.setQuitOnLastWindowClosed(False)
    qsettings = QSettings()
    path = database_path(args, qsettings)
    try:
        try:
            db = open_db(path)
        except StorageError as error:
            if not qsettings.value("database/path") or args.db or os.environ.get(DB_ENV):
                raise
            # The file chosen in Settings is gone (a USB drive) or broken: say so, use the usual place.
            qsettings.remove("database/path")
            path = default_db_path()
            QMessageBox.warning(None, APP_NAME, f"{error}\n\nThe app uses {path} instead.")
            db = open_db(path)
        try:
            _load_demo_if_empty(db)
        except Exception:  # the demo is a courtesy: without it the app starts empty, never not at all
            logging.getLogger(__name__).exception("the demo data could not be loaded")
        db.close()
        desktop = DesktopApp(path, settings=qsettings, use_tray=False if args.screenshot else None)
    except StorageError as error:
        QMessageBox.critical(None, APP_NAME, str(error))
        return 2
    if args.screenshot:
        return screenshot(desktop, args.screenshot, args.view)
    desktop.start()
    return app.exec()


def screenshot(desktop: DesktopApp, target: Path, view: str) -> int:
    """Render one view offscreen to PNG with figures computed right here (no worker), then exit."""
    from ui.main_window import VIEWS

    if view not in VIEWS:
        print(f"error: --view must be one of {', '.join(VIEWS)}", file=sys.stderr)
        return 2
    desktop.show_settings()
    desktop.apply_state(services.refresh(desktop.db, desktop.now))
    desktop.show_triage(services.load_triage(desktop.db, desktop.now()))
    window = desktop.window
    window.resize(1366, 768)
    window.show_view(view)
    window.show()
    QApplication.processEvents()
    saved = window.grab().save(str(target))
    desktop.db.close()
    return 0 if saved else 1


def _load_demo_if_empty(db) -> None:
    from app.demo import load_demo

    if services.load_settings(db).demo_on_empty and not demo_state.has_data(db):
        load_demo(db)
