"""Settings: the figures' rules the seller can change (time zone, CSBA enrolment, response hours,
warning levels, alert thresholds), where the database lives, and the demo data."""

from __future__ import annotations

import html
import zoneinfo
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import MARKETPLACE_DATE_ORDER, Settings, check_setting, setting_label
from ui.amazon_connection import AmazonConnection
from ui.confirm import REMOVE_DEMO_TEXT, REMOVE_DEMO_TITLE, confirm
from ui.mailbox_settings import MailboxSettings

WARNING_NAMES = {
    "odr": "Order Defect Rate",
    "lrr": "Late Response Rate",
    "nfr": "Negative Feedback Rate",
    "rdr": "Return Dissatisfaction Rate",
}


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class PathLabel(QLabel):
    """A file path on one line: elided in the middle when the window is narrow, so the folder's start and the
    file's name both stay in view; the whole path is the tooltip (and what Copy copies)."""

    MINIMUM_WIDTH = 160

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.setToolTip(path)
        self.setAccessibleName(path)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._elide()

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self.path) + margins.left() + margins.right() + 2
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.MINIMUM_WIDTH, self.sizeHint().width()), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        self.setText(self.fontMetrics().elidedText(self.path, Qt.TextElideMode.ElideMiddle, width))


class PeriodRow(QWidget):
    """One CSBA enrolment period: opted in on a day, optionally opted out on a later one."""

    removed = Signal(object)

    def __init__(self, start: date, end: date | None):
        super().__init__()
        self.start = QDateEdit(qdate(start))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.start.setAccessibleName("Opted in on")
        self.ended = QCheckBox("opted out on")
        self.end = QDateEdit(qdate(end or start))
        self.end.setCalendarPopup(True)
        self.end.setDisplayFormat("yyyy-MM-dd")
        self.end.setAccessibleName("Opted out on")
        self.ended.setChecked(end is not None)
        self.end.setEnabled(end is not None)
        self.ended.toggled.connect(self.end.setEnabled)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.removed.emit(self))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Opted in on"))
        layout.addWidget(self.start)
        layout.addWidget(self.ended)
        layout.addWidget(self.end)
        layout.addWidget(remove)
        layout.addStretch()

    def value(self) -> dict:
        end = pydate(self.end.date()).isoformat() if self.ended.isChecked() else None
        return {"start": pydate(self.start.date()).isoformat(), "end": end}


class PeriodsEditor(QWidget):
    """The seller's Customer Service by Amazon enrolment periods."""

    def __init__(self):
        super().__init__()
        self.rows: list[PeriodRow] = []
        self.list = QVBoxLayout()
        self.list.setContentsMargins(0, 0, 0, 0)
        self.none = QLabel("Not enrolled: every buyer message is on your clock.")
        self.none.setStyleSheet("color: #666;")
        add = QPushButton("Add enrolment period")
        add.clicked.connect(lambda: self.add(date.today(), None))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.none)
        layout.addLayout(self.list)
        layout.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)

    def set_periods(self, periods: list[dict]) -> None:
        for row in list(self.rows):
            self.remove(row)
        for period in periods:
            end = period.get("end")
            self.add(date.fromisoformat(period["start"]), date.fromisoformat(end) if end else None)
        self.none.setVisible(not self.rows)

    def add(self, start: date, end: date | None) -> None:
        row = PeriodRow(start, end)
        row.removed.connect(self.remove)
        self.rows.append(row)
        self.list.addWidget(row)
        self.none.hide()

    def remove(self, row: PeriodRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self.none.setVisible(not self.rows)

    def value(self) -> list[dict]:
        return [row.value() for row in self.rows]


class SettingsView(QWidget):
    """Edits the settings; `save_requested` carries the checked values (written by the worker)."""

    save_requested = Signal(dict)
    clear_demo_requested = Signal()
    database_change_requested = Signal(str)
    account_add_requested = Signal(str)  # the new seller account's name
    menu_entry_requested = Signal(bool)  # True: add the monitor to the applications menu; False: take it out
    export_requested = Signal(str)  # the settings file to write
    import_requested = Signal(str)  # the settings file to read (the seller confirmed the replacement)

    def __init__(self, db_path: Path):
        super().__init__()
        self.settings = Settings()
        self.timezone = QComboBox()
        self.timezone.setEditable(True)
        zones = sorted(zoneinfo.available_timezones())
        self.timezone.addItems(zones)
        completer = QCompleter(zones, self.timezone)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.timezone.setCompleter(completer)
        self.marketplace = QComboBox()
        self.marketplace.addItems(sorted(MARKETPLACE_DATE_ORDER))
        self.periods = PeriodsEditor()
        self.a_to_z_hours = QSpinBox()
        self.a_to_z_hours.setRange(1, 240)
        self.a_to_z_hours.setSuffix(" h")
        self.removal_days = QSpinBox()
        self.removal_days.setRange(1, 365)
        self.removal_days.setSuffix(" days")
        self.thresholds = QLineEdit()
        self.thresholds.setPlaceholderText("6, 2")
        self.reminder = QLineEdit()
        self.reminder.setPlaceholderText("Mon 09:00, or off")
        self.reminder.setToolTip("When the tray reminds you of the week's triage: a day and a time, or off")
        self.warnings = {key: self._percent_box() for key in WARNING_NAMES}
        self.demo_on_empty = QCheckBox("Start with demo data while nothing has been imported")
        self.clear_demo = QPushButton("Remove the demo data now…")
        self.clear_demo.clicked.connect(self._confirm_clear_demo)
        self.database = PathLabel(str(db_path))
        self.start_at_login = QCheckBox("Start the monitor in the tray when I log in")
        self.start_at_login.setToolTip(
            "The monitor warns only while it runs. On after your first import of your own reports."
        )
        self.mailbox = MailboxSettings()
        self.amazon = AmazonConnection()
        change_db = QPushButton("Use another database file…")
        change_db.clicked.connect(self._choose_database)

        rules = QFormLayout()
        rules.addRow("Marketplace time zone", self.timezone)
        rules.addRow("Marketplace (feedback dates)", self.marketplace)
        rules.addRow("A-to-z claim response time", self.a_to_z_hours)
        rules.addRow("Feedback removal window", self.removal_days)
        rules.addRow("Customer Service by Amazon", self.periods)
        levels = QFormLayout()
        for key, box in self.warnings.items():
            levels.addRow(f"{WARNING_NAMES[key]} turns amber at", box)
        levels.addRow("Alert before a deadline (hours)", self.thresholds)
        levels.addRow("Remind me of the triage on", self.reminder)
        levels.addRow("", self.start_at_login)
        self.menu_entry_row = self._menu_entry_row()
        levels.addRow("Applications menu", self.menu_entry_row)
        levels.setRowVisible(self.menu_entry_row, False)
        self.levels_form = levels
        data = QFormLayout()
        data.addRow("Database file", self._database_row())
        data.addRow("", change_db)
        data.addRow("", self.demo_on_empty)
        data.addRow("", self.clear_demo)
        data.addRow("Seller accounts", self._accounts_row())
        data.addRow("Settings file", self._transfer_row())

        self.save_button = QPushButton("&Save settings")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        revert = QPushButton("Revert")
        revert.clicked.connect(lambda: self.show_settings(self.settings, self.clear_demo.isEnabled()))
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(revert)
        buttons.addWidget(self.save_button)

        self.timezone.setMinimumWidth(280)
        self.marketplace.setMinimumWidth(90)
        self.thresholds.setMinimumWidth(120)
        self.reminder.setMinimumWidth(120)
        content = QWidget()
        content.setMaximumWidth(900)
        layout = QVBoxLayout(content)
        for title, form in (("How figures are computed", rules), ("Warnings and alerts", levels), ("Data", data)):
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            box = QGroupBox(title)
            box.setLayout(form)
            layout.addWidget(box)
            if title == "Warnings and alerts":
                arriving = QGroupBox("Messages and reports that arrive by themselves")
                QVBoxLayout(arriving).addWidget(self.mailbox)
                layout.addWidget(arriving)
                # Saved by its own button: its secrets go to the keyring, and a pull follows the save.
                self.amazon_group = QGroupBox("Amazon connection")
                QVBoxLayout(self.amazon_group).addWidget(self.amazon)
                layout.addWidget(self.amazon_group)
        layout.addStretch()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll)
        outer.addLayout(buttons)

    def _menu_entry_row(self) -> QWidget:
        self.menu_entry_button = QPushButton("Add to the applications menu")
        self.menu_entry_button.setToolTip("The monitor, with its icon, in your desktop's menu (for you only)")
        self.menu_entry_button.clicked.connect(
            lambda: self.menu_entry_requested.emit(not self.menu_entry_button.property("installed"))
        )
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.menu_entry_button)
        layout.addStretch()
        return row

    def show_menu_entry(self, installed: bool | None) -> None:
        """Whether the monitor is in the applications menu; None where this desktop has no such menu."""
        self.levels_form.setRowVisible(self.menu_entry_row, installed is not None)
        self.menu_entry_button.setProperty("installed", bool(installed))
        self.menu_entry_button.setText(
            "Remove from the applications menu" if installed else "Add to the applications menu"
        )

    def _accounts_row(self) -> QWidget:
        """Another seller account (a second region, a client): its own database, watched beside this one."""
        add = QPushButton("Add a seller account…")
        add.setToolTip("Each account keeps its own reports, settings and mailbox; the window switches between them")
        add.clicked.connect(self._ask_account_name)
        self.accounts_note = QLabel("")
        row = QWidget()
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.accounts_note)
        return row

    def show_accounts(self, names: list[str], current: str | None) -> None:
        """Which accounts there are and which one these settings belong to."""
        if len(names) > 1 and current:
            # Short lines rather than a wrapped paragraph: a form row gives a wrapped label too little height.
            self.accounts_note.setText(
                f"These settings are for <b>{html.escape(current)}</b>; your accounts: "
                f"{html.escape(', '.join(names))}.<br>To rename or remove one, on the command line:<br>"
                "<code>account rename</code>, <code>account remove</code> (asks first, keeps a backup)."
            )
        else:
            self.accounts_note.setText("One seller account.")

    def _ask_account_name(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        name, ok = QInputDialog.getText(
            self, "Add a seller account", "The account's name (for example EU, or North America):"
        )
        if ok and name.strip():
            self.account_add_requested.emit(name.strip())

    def _transfer_row(self) -> QWidget:
        """Settings and the escalation matrix (reply templates included) to and from a file, for another
        computer; the secrets stay in this one's keyring."""
        export = QPushButton("Export settings…")
        export.setToolTip("Your settings and escalation matrix in a file, without passwords or Amazon secrets")
        export.clicked.connect(self._choose_export)
        load = QPushButton("Import settings…")
        load.setToolTip("Replace these settings and the escalation matrix with an exported file's")
        load.clicked.connect(self._choose_import)
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(export)
        layout.addWidget(load)
        layout.addStretch()
        return row

    def _choose_export(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export settings", "account-health-settings.json", "Settings (*.json);;All files (*)"
        )
        if path:
            self.export_requested.emit(path)

    def _choose_import(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, "Import settings", "", "Settings (*.json);;All files (*)")
        if path and confirm(
            self,
            "Replace your settings?",
            "The file's settings and escalation matrix (reply templates included) replace the ones you have now; "
            "settings the file does not name go back to their defaults. Your passwords, the watched folder and "
            "start at login stay as they are.",
        ):
            self.import_requested.emit(path)

    def _database_row(self) -> QWidget:
        """The path, and buttons to copy it or open its folder (for a backup, or to find the file again)."""
        copy = QPushButton("Copy path")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.database.path))
        open_folder = QPushButton("Open folder")
        open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.database.path).parent)))
        )
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.database, 1)
        layout.addWidget(copy)
        layout.addWidget(open_folder)
        return row

    def _percent_box(self) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.01, 99.0)
        box.setDecimals(2)
        box.setSingleStep(0.1)
        box.setSuffix(" %")
        return box

    def show_settings(self, settings: Settings, demo_active: bool, password_note: str | None = None) -> None:
        self.settings = settings
        self.password_note = password_note if password_note is not None else getattr(self, "password_note", "")
        self.mailbox.show_settings(settings, self.password_note)
        self.amazon.show_settings(settings, self.amazon.secret_note.text())
        self.timezone.setCurrentText(settings.timezone)
        self.marketplace.setCurrentText(settings.marketplace)
        self.periods.set_periods(settings.csba_periods)
        self.a_to_z_hours.setValue(int(settings.a_to_z_response_hours))
        self.removal_days.setValue(int(settings.feedback_removal_days))
        for key, box in self.warnings.items():
            box.setValue(settings.warning_levels[key] * 100)
        self.thresholds.setText(", ".join(f"{hours:g}" for hours in settings.alert_thresholds_hours))
        self.reminder.setText(settings.triage_reminder)
        self.demo_on_empty.setChecked(settings.demo_on_empty)
        self.start_at_login.setChecked(bool(settings.start_at_login))
        self.clear_demo.setEnabled(demo_active)

    def values(self) -> dict:
        """The form's values, checked; raises ValueError naming the setting that is wrong."""
        try:
            hours = [float(part) for part in self.thresholds.text().replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise ValueError(
                f"{setting_label('alert_thresholds_hours')}: hours separated by commas, like 6, 2"
            ) from None
        raw = {
            "timezone": self.timezone.currentText().strip(),
            "marketplace": self.marketplace.currentText(),
            "csba_periods": self.periods.value(),
            "a_to_z_response_hours": self.a_to_z_hours.value(),
            "feedback_removal_days": self.removal_days.value(),
            "warning_levels": {key: round(box.value() / 100, 6) for key, box in self.warnings.items()},
            "alert_thresholds_hours": hours,
            "triage_reminder": self.reminder.text().strip() or "off",
            "demo_on_empty": self.demo_on_empty.isChecked(),
            **self.mailbox.values(),
        }
        # Left unsaved while the seller has never ticked it: the first import of their reports decides then.
        if self.settings.start_at_login is not None or self.start_at_login.isChecked():
            raw["start_at_login"] = self.start_at_login.isChecked()
        return {key: check_setting(key, value) for key, value in raw.items()}

    def save(self) -> None:
        try:
            values = self.values()
        except ValueError as error:
            QMessageBox.warning(self, "Settings not saved", str(error))
            return
        self.save_requested.emit(values)

    def _confirm_clear_demo(self) -> None:
        if confirm(self, REMOVE_DEMO_TITLE, REMOVE_DEMO_TEXT):
            self.clear_demo_requested.emit()

    def _choose_database(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self,
            "Use another database file",
            self.database.path,
            "Database (*.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.database_change_requested.emit(path)
