"""The system tray: an icon coloured by the worst status, the next deadline in its tooltip, a menu, and
alerts as notifications. Where no tray exists, alerts go to a banner in the window instead."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QPushButton, QSystemTrayIcon

from app.alerts import Alert
from ui.amazon_connection import KIND_WORDS
from ui.icons import status_icon
from ui.theme import STATUS_COLOURS, STATUS_WORDS

SEVERITY_ICONS = {
    "critical": QSystemTrayIcon.MessageIcon.Critical,
    "warning": QSystemTrayIcon.MessageIcon.Warning,
    "info": QSystemTrayIcon.MessageIcon.Information,
}
ALERT_SHOWN_MS = 15000
# A notification replaces the one still on screen, so alerts arriving together are shown one after
# another, the most severe first.
ALERT_GAP_MS = 8000
# A pull that failed once may be Amazon's hiccup; a connection failing this long needs the seller.
AMAZON_FAILING_SAID_AFTER_S = 24 * 3600
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


class Tray(QObject):
    """The tray icon and its menu. `alert_clicked` carries the alert whose notification was clicked."""

    open_requested = Signal()
    import_requested = Signal()
    pause_requested = Signal()
    resume_requested = Signal()
    quit_requested = Signal()
    alert_clicked = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.icon = QSystemTrayIcon(status_icon("insufficient_data"), self)
        self.menu = QMenu()
        self.actions: dict[str, QAction] = {}
        for key, text, signal in (
            ("open", "Open", self.open_requested),
            ("import", "Import…", self.import_requested),
            ("pause", "Pause alerts for 1 h", self.pause_requested),
            ("resume", "Resume alerts", self.resume_requested),
            ("quit", "Quit", self.quit_requested),
        ):
            if key == "quit":
                self.menu.addSeparator()
            action = self.menu.addAction(text)
            action.triggered.connect(signal)
            self.actions[key] = action
        self.actions["resume"].setVisible(False)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self.status = "insufficient_data"
        self.last_alert: Alert | None = None
        self.queue: list[Alert] = []
        self.gap = QTimer(self)
        self.gap.setSingleShot(True)
        self.gap.setInterval(ALERT_GAP_MS)
        self.gap.timeout.connect(self._show_next)
        self.paused_until_text: str | None = None
        self.tooltip = "Account Health Monitor"
        self._show_tooltip()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def set_status(self, status: str, tooltip: str) -> None:
        if status != self.status:
            self.icon.setIcon(status_icon(status))
            self.status = status
        self.tooltip = tooltip
        self._show_tooltip()

    def _show_tooltip(self) -> None:
        # The pause is said here too: a seller who wonders why nothing pops up looks at the icon first.
        paused = f"\nAlerts paused until {self.paused_until_text}" if self.paused_until_text else ""
        self.icon.setToolTip(self.tooltip + paused)

    def show_alert(self, alert: Alert) -> None:
        """Show the alert now, or after the one on screen has had its time."""
        self.queue.append(alert)
        self.queue.sort(key=lambda queued: SEVERITY_ORDER.get(queued.severity, 3))
        if not self.gap.isActive():
            self._show_next()

    def _show_next(self) -> None:
        if not self.queue:
            return
        alert = self.queue.pop(0)
        self.last_alert = alert
        self.icon.showMessage(alert.title, alert.body, SEVERITY_ICONS.get(alert.severity), ALERT_SHOWN_MS)
        self.gap.start()

    def set_paused(self, paused_until_text: str | None) -> None:
        action = self.actions["pause"]
        action.setText(f"Alerts paused until {paused_until_text}" if paused_until_text else "Pause alerts for 1 h")
        action.setEnabled(paused_until_text is None)
        self.actions["resume"].setVisible(paused_until_text is not None)
        self.paused_until_text = paused_until_text
        self._show_tooltip()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def _message_clicked(self) -> None:
        if self.last_alert is not None:
            self.alert_clicked.emit(self.last_alert)


class AlertBanner(QFrame):
    """The in-window alert, for desktops without a system tray (and for the latest alert while open)."""

    open_clicked = Signal(object)

    def __init__(self):
        super().__init__()
        self.alert: Alert | None = None
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.show_button = QPushButton("Show")
        self.show_button.clicked.connect(lambda: self.open_clicked.emit(self.alert))
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.show_button)
        layout.addWidget(dismiss)
        self.hide()

    def show_alert(self, alert: Alert) -> None:
        self.alert = alert
        colour = {"critical": STATUS_COLOURS["breach"], "warning": STATUS_COLOURS["at_risk"]}.get(
            alert.severity, STATUS_COLOURS["good"]
        )
        self.setStyleSheet(f"QFrame {{ background: {colour}; border-radius: 4px; }} QLabel {{ color: white; }}")
        self.text.setText(f"<b>{html.escape(alert.title)}</b><br>{html.escape(alert.body)}")  # buyer text inside
        self.show()


def status_tooltip(status: str, next_deadline: str | None, overdue: int = 0) -> str:
    """The status, then the deadlines: overdue ones first, since they are already costing the account."""
    lines = [f"Account health: {STATUS_WORDS.get(status, status)}"]
    if overdue:
        lines.append(f"{overdue} overdue · next: {next_deadline}" if next_deadline else f"{overdue} overdue")
    else:
        lines.append(f"Next deadline: {next_deadline}" if next_deadline else "No open deadline")
    return "\n".join(lines)


def amazon_tooltip_line(reports: Sequence, now: float) -> str | None:
    """The tooltip's line for Amazon reports failing for more than a day (None before then): the report
    kinds that fail, or "no report pulled" only when every one does (then for as long as none came in)."""
    late = [
        report
        for report in reports
        if report.failing_since is not None and now - report.failing_since > AMAZON_FAILING_SAID_AFTER_S
    ]
    if not late:
        return None
    oldest = min(late, key=lambda report: report.failing_since)
    if len(late) == len(reports):
        newest = max(late, key=lambda report: report.failing_since)
        line = f"Amazon: no report pulled for {_days(now - newest.failing_since)}"
    else:
        markets: dict[str, list[str]] = {}  # kind -> its failing marketplaces, in the table's order
        for report in late:
            markets.setdefault(report.kind, []).append(report.marketplace)
        kinds = ", ".join(f"{KIND_WORDS.get(kind, kind)} ({', '.join(codes)})" for kind, codes in markets.items())
        line = f"Amazon: {kinds} not pulled for {_days(now - oldest.failing_since)}"
    return f"{line}: {oldest.last_error}" if oldest.last_error else line


def _days(seconds: float) -> str:
    days = int(seconds // (24 * 3600))
    return f"{days} day{'' if days == 1 else 's'}"
