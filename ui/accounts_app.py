"""Every seller account watched at once: one window per account (one shown), one tray for all.

Each account is a whole `DesktopApp` with its own database process, scheduler, clocks and alerts, so an
account in the background still raises its alerts on time. The windows share one tray icon: it shows the
worst status over every account, its tooltip says each account's, and each alert names its account.
Switching account hides one window and shows the other in the same place; the account bar in each window
says which one is open.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from app import accounts as account_store
from app.alerts import Alert
from app.metrics import worst_status
from ui import single_instance
from ui.application import APP_NAME, DesktopApp, StartRefused
from ui.tray import Tray

log = logging.getLogger(__name__)


class AccountTray:
    """What one account's app sees of the shared tray: its status and alerts go through the monitor,
    which adds the account's name."""

    def __init__(self, monitor: AccountsMonitor, name: str):
        self.monitor, self.name = monitor, name

    @property
    def icon(self):
        return self.monitor.tray.icon

    def set_status(self, status: str, tooltip: str) -> None:
        self.monitor.account_status(self.name, status, tooltip)

    def show_alert(self, alert: Alert) -> None:
        self.monitor.tray_alert(self.name, alert)

    def set_paused(self, paused_until_text: str | None) -> None:
        self.monitor.tray.set_paused(paused_until_text)


class AccountsMonitor:
    """Args:
    accounts: every seller account, in the order the seller added them.
    front: the account whose window shows first (the one used last).
    make_app: builds one account's DesktopApp (tests inject the clock and run the database in a thread).
    """

    def __init__(
        self,
        accounts: list[account_store.Account],
        front: str,
        make_app: Callable[..., DesktopApp],
        *,
        use_tray: bool | None = None,
        claimed: dict[str, single_instance.RunningInstance] | None = None,
    ):
        self.tray = Tray() if (Tray.available() if use_tray is None else use_tray) else None
        self.apps: dict[str, DesktopApp] = {}
        claim_instances = claimed is not None
        self.instances: dict[str, single_instance.RunningInstance] = dict(claimed or {})
        self.statuses: dict[str, tuple[str, str]] = {}
        self.named_alerts: dict[Alert, tuple[str, Alert]] = {}
        self.refused: dict[str, str] = {}
        for account in accounts:
            if claim_instances and not self._claim(account):
                continue
            try:
                self.apps[account.name] = make_app(account, AccountTray(self, account.name) if self.tray else None)
            except StartRefused as error:
                self.refused[account.name] = str(error)
                if account.name in self.instances:  # a later start on it gets its own answer, not this monitor's
                    self.instances.pop(account.name).close()
        if not self.apps:
            raise StartRefused("; ".join(f"{name}: {why}" for name, why in self.refused.items()) or "no account")
        self.front = front if front in self.apps else next(iter(self.apps))
        for name, desktop in self.apps.items():
            desktop.window.account_bar.set_accounts(list(self.apps), name)
            desktop.window.settings_view.show_accounts(list(self.apps), name)
            desktop.window.account_bar.chosen.connect(self.switch)
            desktop.bridge.alert_raised.connect(lambda alert, name=name: self._background_alert(name, alert))
            if self.tray is None:  # no tray to report through: the account bar still shows each status
                desktop.bridge.state_ready.connect(lambda _, name=name: self._state_ready(name))
        if self.tray:
            self._connect_tray()

    def _claim(self, account: account_store.Account) -> bool:
        """This monitor answers later starts on the account's database; an account another monitor already
        runs (started with --db) is left to it."""
        if account.name in self.instances:
            instance = self.instances[account.name]
        else:
            instance = single_instance.start(account.database)
        if instance is None:
            return False
        instance.activated.connect(lambda files, name=account.name: self.bring_forward(name, files))
        self.instances[account.name] = instance
        return True

    def _connect_tray(self) -> None:
        tray = self.tray
        tray.open_requested.connect(lambda: self.front_app.window.bring_to_front())
        tray.import_requested.connect(lambda: self.front_app.choose_and_import())
        tray.pause_requested.connect(lambda: self._each(DesktopApp.pause_alerts))
        tray.resume_requested.connect(lambda: self._each(DesktopApp.resume_alerts))
        tray.quit_requested.connect(self.quit)
        tray.alert_clicked.connect(self.open_alert)

    @property
    def window(self):
        return self.front_app.window

    @property
    def front_app(self) -> DesktopApp:
        return self.apps[self.front]

    def _each(self, action: Callable[[DesktopApp], None]) -> None:
        for desktop in self.apps.values():
            action(desktop)

    # --- life cycle -----------------------------------------------------------------------------------------

    def start(self, show: bool = True) -> None:
        """Every account's figures and background work; the front window shown (`show`), else waiting in the
        tray, or minimised where there is no tray."""
        for name, desktop in self.apps.items():
            desktop.start(show=show and name == self.front)
        if self.tray:
            self.tray.show()
        elif not show:
            self.front_app.window.showMinimized()
        for name, why in self.refused.items():
            # Said once the event loop runs: a modal box here would keep a quit (SIGTERM) from ending the app.
            QTimer.singleShot(0, lambda name=name, why=why: self._say_refused(name, why))

    def _say_refused(self, name: str, why: str) -> None:
        if not self.front_app.window.quitting:
            QMessageBox.warning(self.front_app.window, APP_NAME, f"The account {name} could not be opened: {why}")

    def quit(self) -> None:
        front = self.front_app
        for name, desktop in self.apps.items():
            if name != self.front:
                desktop.quit()
        front.quit()  # last, so the window's size and place kept are the one the seller saw
        if self.tray:
            self.tray.hide()
        for instance in self.instances.values():
            instance.close()

    # --- switching --------------------------------------------------------------------------------------------

    def switch(self, name: str) -> None:
        """Show the account's window where the open one is, and hide the other."""
        if name not in self.apps or name == self.front:
            return
        old, new = self.front_app.window, self.apps[name].window
        visible = old.isVisible()
        new.setGeometry(old.geometry())
        if old.isMaximized():
            new.showMaximized()
        self.front = name
        for desktop in self.apps.values():
            desktop.window.account_bar.set_current(name)
        if visible:
            new.bring_to_front()
            old.hide()
        # Off the GUI thread: the accounts file's lock may be held a while (a backup of a removed account).
        threading.Thread(target=remember_used, args=(name,), daemon=True).start()

    def bring_forward(self, name: str, files: list[str]) -> None:
        """A later start on one account's database: that account in front, its files imported."""
        if name not in self.apps:
            return
        self.switch(name)
        single_instance.bring_forward(self.apps[name], files)

    # --- the shared tray ----------------------------------------------------------------------------------------

    def account_status(self, name: str, status: str, tooltip: str) -> None:
        """One account's status changed: the icon shows the worst of all, the tooltip each account's."""
        self.statuses[name] = (status, tooltip)
        for desktop in self.apps.values():
            desktop.window.account_bar.set_status(name, status, tooltip.split("\n", 1)[0])
        if self.tray is None:
            return
        worst = worst_status([status for status, _ in self.statuses.values()])
        lines = [f"{account}: {text}" for account, (_, text) in self.statuses.items()]
        self.tray.set_status(worst, "\n".join(lines))

    def _state_ready(self, name: str) -> None:
        health = self.apps[name].health()
        if health is not None:
            self.account_status(name, *health)

    def _background_alert(self, name: str, alert: Alert) -> None:
        """Without a tray, an alert of an account in the background waits in its own window's banner: the
        open window says it came."""
        if self.tray is None and name != self.front:
            number = list(self.apps).index(name) + 1
            self.front_app.window.notify(f"{name}: {alert.title} (Ctrl+Alt+{number} shows {name})", seconds=60)

    def tray_alert(self, name: str, alert: Alert) -> None:
        """An account's alert on the desktop, its title naming the account."""
        named = replace(alert, title=f"{name}: {alert.title}")
        self.named_alerts[named] = (name, alert)
        self.tray.show_alert(named)

    def open_alert(self, named: Alert | None) -> None:
        if named is None or named not in self.named_alerts:
            self.front_app.open_alert(named)
            return
        name, alert = self.named_alerts[named]
        self.switch(name)
        self.apps[name].open_alert(alert)


def remember_used(name: str) -> None:
    try:
        account_store.mark_used(name)
    except (account_store.AccountError, OSError) as error:  # the next start opens another account: no harm
        log.warning("could not remember the account used last: %s", error)


def run_accounts(args, listed: account_store.AccountList, qsettings, files: list[str]) -> int:
    """The window's start with several seller accounts: the one asked for (`--account`) or used last in front."""
    from PySide6.QtWidgets import QApplication

    from ui import menu_entry_setting, start_at_login
    from ui.application import quit_on_signals, restart_if_asked

    front = listed.find(args.account) if args.account else listed.current
    instance = single_instance.start(front.database, files)
    if instance is None:  # a monitor runs on these accounts and was told
        return 0
    if args.account:
        account_store.mark_used(front.name)
    login_item = start_at_login.login_item(front.database, chosen=False)
    entry = menu_entry_setting.for_this_computer(front.database, chosen=False)

    def make_app(account: account_store.Account, tray) -> DesktopApp:
        return DesktopApp(
            account.database,
            settings=qsettings,
            load_demo=len(listed.accounts) == 1,
            login_item=login_item if account == front else None,
            menu_entry=entry,
            tray=tray,
            account=account.name,
        )

    try:
        monitor = AccountsMonitor(list(listed.accounts), front.name, make_app, claimed={front.name: instance})
    except StartRefused as error:
        QMessageBox.critical(None, APP_NAME, str(error))
        return 2
    if quit_on_signals(monitor):  # asked to end while the windows were being built
        monitor.quit()
        return 0
    QApplication.instance().aboutToQuit.connect(monitor.quit)
    try:
        monitor.start(show=not getattr(args, "minimized", False))
        if files:
            monitor.front_app.import_paths(files)
        return QApplication.instance().exec()
    finally:
        monitor.quit()
        restart_if_asked()
