"""Settings → Amazon connection: the seller's own SP-API application (its three LWA secrets, the region and
marketplaces), Test connection, Refresh now, and how each report kind stands.

The widget only shows and asks: the settings and secrets go to the database's process (`amazon_save`), which
writes the settings to the database and the secrets to the system keyring. A secret field is never filled
back in: once saved it stays empty, with a note saying where the secret is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.settings import AMAZON_REGIONS, amazon_region_problem, check_setting, setting_label

REGION_WORDS = {"": "Not connected", **{code: name for code, (name, _) in AMAZON_REGIONS.items()}}
REGION_MARKETPLACES = {code: members for code, (_, members) in AMAZON_REGIONS.items()}
KIND_WORDS = {
    "orders": "All Orders",
    "feedback": "Feedback",
    "fbm_returns": "FBM returns",
    "fba_returns": "FBA returns",
    "performance": "Account health",
}
SECRETS = {
    "client_id": ("LWA client &identifier", "amzn1.application-oa2-client.…"),
    "client_secret": ("LWA client s&ecret", ""),
    "refresh_token": ("LWA re&fresh token", "Atzr|…"),
}
COLUMNS = ("Report", "Marketplace", "Last pulled", "Next pull", "Last error")
OK_STYLE, ERROR_STYLE, QUIET_STYLE = "color: #2e7d32;", "color: #c62828;", "color: #666;"
TIME_FORMAT = "%a %d %b %H:%M"


class AmazonConnection(QWidget):
    """The "Amazon connection" group of Settings.

    Signals carry the form's checked settings (`amazon_*` keys) and the secrets typed into it (only those
    typed: an empty field keeps the saved one).
    """

    save_requested = Signal(dict, dict)
    test_requested = Signal(dict, dict)
    pull_requested = Signal()

    def __init__(self):
        super().__init__()
        self.region = QComboBox()
        for code, words in REGION_WORDS.items():
            self.region.addItem(words, code)
        self.region.currentIndexChanged.connect(self._region_changed)
        self.marketplaces = QLineEdit()
        self.marketplaces.setPlaceholderText("US, CA")
        self.marketplaces.setToolTip("The marketplaces to pull, by their codes, separated by commas")
        self.marketplace_hint = self._note("")
        self.secrets: dict[str, QLineEdit] = {}
        for key, (label, placeholder) in SECRETS.items():
            field = QLineEdit()
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setPlaceholderText(placeholder or "leave empty to keep the saved one")
            field.setAccessibleName(label.replace("&", ""))
            self.secrets[key] = field
        self.secret_note = self._note("")
        self.hours = QSpinBox()
        self.hours.setRange(1, 168)
        self.hours.setSuffix(" h")
        self.hours.setMaximumWidth(100)
        self.test_server = QCheckBox("Use a test server instead of Amazon's")
        self.endpoint = QLineEdit()
        self.endpoint.setPlaceholderText("http://127.0.0.1:8000")
        self.token_endpoint = QLineEdit()
        self.token_endpoint.setPlaceholderText("http://127.0.0.1:8000/auth/o2/token")
        self.save_button = QPushButton("Sa&ve connection")
        self.save_button.clicked.connect(self._save)
        self.test_button = QPushButton("Test co&nnection")
        self.test_button.clicked.connect(self._test)
        self.pull_button = QPushButton("Refresh &now")
        self.pull_button.setToolTip("Ask Amazon for every report now instead of at the next scheduled pull")
        self.pull_button.clicked.connect(self.pull_requested)
        self.check_result = QLabel("")
        self.check_result.setWordWrap(True)
        self.check_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_pull = QLabel("")
        self.last_pull.setWordWrap(True)
        self.table = self._status_table()
        self._build()
        self.show_settings(None, "")

    @staticmethod
    def _note(text: str) -> QLabel:
        note = QLabel(text)
        note.setWordWrap(True)
        note.setStyleSheet(f"{QUIET_STYLE} font-size: 8pt;")
        return note

    def _build(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("&Region", self.region)
        form.addRow("&Marketplaces", self.marketplaces)
        form.addRow("", self.marketplace_hint)
        for key, (label, _) in SECRETS.items():
            form.addRow(label, self.secrets[key])
        form.addRow("", self.secret_note)
        form.addRow("&Pull reports every", self.hours)
        form.addRow("", self.test_server)
        self.endpoint_label = QLabel("Reports API address")
        self.token_label = QLabel("LWA token address")
        self.endpoint_label.setBuddy(self.endpoint)
        self.token_label.setBuddy(self.token_endpoint)
        form.addRow(self.endpoint_label, self.endpoint)
        form.addRow(self.token_label, self.token_endpoint)
        self.form = form
        self.test_server.toggled.connect(self._show_test_server)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.pull_button)
        buttons.addWidget(self.check_result, 1)
        form.addRow("", buttons)
        form.addRow("Last pull", self.last_pull)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.table)

    def _status_table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels(COLUMNS)
        table.setAccessibleName("How each Amazon report stands")
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setTabKeyNavigation(False)  # Tab leaves the table for the next control, as everywhere else
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setWordWrap(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # The error takes what is left and is cut with "…"; its whole sentence is the cell's tooltip.
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.hide()
        return table

    # --- showing ----------------------------------------------------------------------------------------------

    def show_settings(self, settings, secret_note: str) -> None:
        """The saved connection (`settings` None: nothing saved yet); the secret fields are emptied."""
        region = getattr(settings, "amazon_region", "") or ""
        self.region.setCurrentIndex(max(0, self.region.findData(region)))
        self.marketplaces.setText(", ".join(getattr(settings, "amazon_marketplaces", None) or ()))
        self.hours.setValue(int(getattr(settings, "amazon_pull_hours", 4) or 4))
        self.endpoint.setText(getattr(settings, "amazon_endpoint", "") or "")
        self.token_endpoint.setText(getattr(settings, "amazon_token_endpoint", "") or "")
        self.test_server.setChecked(bool(self.endpoint.text() or self.token_endpoint.text()))
        self._show_test_server(self.test_server.isChecked())
        for field in self.secrets.values():
            field.clear()
        self.secret_note.setText(secret_note)
        self._region_changed()

    def _region_changed(self) -> None:
        region = self.region.currentData()
        codes = REGION_MARKETPLACES.get(region)
        self.marketplace_hint.setText(
            f"{REGION_WORDS[region]}: {', '.join(codes)}" if codes else "Choose the region of your seller account."
        )
        if codes and not self.marketplaces.text().strip():
            self.marketplaces.setText(codes[0])

    def _show_test_server(self, shown: bool) -> None:
        for widget in (self.endpoint, self.token_endpoint):
            self.form.setRowVisible(widget, shown)

    def show_check(self, ok: bool, message: str, *, until_pull_ends: bool = False) -> None:
        """The answer of Test connection, or of saving, beside the buttons; `until_pull_ends`: it announces
        a pull ("asking Amazon for the reports now"), so it goes once the pull has ended."""
        self.test_button.setEnabled(True)
        self.check_result.setText(message)
        self.check_result.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.check_result.setProperty("until_pull_ends", until_pull_ends)

    def show_pull(self, text: str, ok: bool, *, ended: bool = False) -> None:
        self.last_pull.setText(text)
        self.last_pull.setStyleSheet("" if ok else ERROR_STYLE)
        if ended and self.check_result.property("until_pull_ends"):
            self.check_result.clear()
            self.check_result.setProperty("until_pull_ends", False)

    def show_reports(
        self, reports: Sequence, zone: tzinfo | None, now: float, next_pull_at: float | None = None
    ) -> None:
        """One row per report kind and marketplace: when it was last pulled, when it is pulled next, and
        why the last attempt failed (nothing when it did not)."""
        self.table.setRowCount(len(reports))
        for row, report in enumerate(reports):
            error = report.last_error or ""
            cells = (
                KIND_WORDS.get(report.kind, report.kind),
                report.marketplace,
                last_pulled_text(report, zone),
                next_pull_text(report, zone, now, next_pull_at),
                error,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == len(COLUMNS) - 1 and error:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)
        self.table.setVisible(bool(reports))
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """As tall as its rows: the Settings page scrolls, not a box inside it."""
        table = self.table
        height = table.horizontalHeader().height() + 2 * table.frameWidth()
        height += sum(table.rowHeight(row) for row in range(table.rowCount()))
        table.setFixedHeight(height)

    # --- asking ---------------------------------------------------------------------------------------------

    def values(self) -> dict:
        """The connection's settings, checked; raises ValueError saying what is wrong."""
        region = self.region.currentData()
        codes = check_setting("amazon_marketplaces", self.marketplaces.text())
        if region and not codes:
            raise ValueError(
                f"{setting_label('amazon_marketplaces')}: name at least one, such as {REGION_MARKETPLACES[region][0]}"
            )
        problem = amazon_region_problem(region, codes)
        if problem:
            raise ValueError(f"{problem}.")
        test_server = self.test_server.isChecked()
        raw = {
            "amazon_region": region,
            "amazon_marketplaces": codes,
            "amazon_pull_hours": self.hours.value(),
            "amazon_endpoint": self.endpoint.text().strip() if test_server else "",
            "amazon_token_endpoint": self.token_endpoint.text().strip() if test_server else "",
        }
        return {key: check_setting(key, value) for key, value in raw.items()}

    def typed_secrets(self) -> dict:
        return {key: field.text().strip() for key, field in self.secrets.items() if field.text().strip()}

    def _checked(self) -> dict | None:
        try:
            return self.values()
        except ValueError as error:
            self.show_check(False, str(error))
            return None

    def _save(self) -> None:
        values = self._checked()
        if values is None:
            return
        secrets = self.typed_secrets()
        for field in self.secrets.values():  # never left in the form, whatever happens next
            field.clear()
        self.check_result.setText("Saving…")
        self.check_result.setStyleSheet("")
        self.save_requested.emit(values, secrets)

    def _test(self) -> None:
        values = self._checked()
        if values is None:
            return
        if not values["amazon_region"]:
            self.show_check(False, "Choose the region of your seller account first.")
            return
        self.check_result.setText("Connecting to Amazon…")
        self.check_result.setStyleSheet("")
        self.test_button.setEnabled(False)
        self.test_requested.emit(values, self.typed_secrets())


def _when(at: float | None, zone: tzinfo | None) -> str:
    return datetime.fromtimestamp(at, tz=zone).strftime(TIME_FORMAT) if at else ""


def last_pulled_text(report, zone: tzinfo | None) -> str:
    text = _when(report.last_pulled_at, zone) or "never"
    return f"{text} (no data)" if report.state == "no_data" else text


def next_pull_text(report, zone: tzinfo | None, now: float, next_pull_at: float | None = None) -> str:
    """When the report is next acted on: a retry or a wait Amazon asked for, else the next scheduled pull."""
    if report.state == "requested":
        return "Amazon is preparing it"
    at = report.next_at if report.next_at is not None else next_pull_at
    if at is None:
        return "at the next pull"
    return "now" if at <= now else _when(at, zone)


def pull_line(progress, zone: tzinfo | None) -> tuple[str, bool]:
    """The status bar's words for the Amazon pull: its problem as soon as there is one, else at its end
    how many reports came in ("Amazon: 10 reports pulled 14:02"); and whether all went well."""
    if progress.errors:
        return f"Amazon: {progress.errors[0]}", False
    at = datetime.fromtimestamp(progress.at, tz=zone).strftime("%H:%M")
    count = sum(1 for report in progress.reports if report.state == "done")
    text = f"Amazon: {count} report{'' if count == 1 else 's'} pulled {at}"
    empty = sum(1 for report in progress.reports if report.state == "no_data")
    if empty:
        text += f", {empty} without data"
    failed = [report for report in progress.reports if report.state == "failed"]
    if failed:
        return f"{text}; {len(failed)} failed: {failed[0].last_error}", False
    return text, True
