"""Settings for data that arrives by itself: the mailbox Amazon's buyer-message e-mails go to, and the
folder downloaded reports land in. The password goes to the system keyring, never into the database."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import Settings

if TYPE_CHECKING:
    from app.mailsync import ConnectionCheck, MailSettings

SECURITY = {"tls": "TLS (port 993)", "starttls": "STARTTLS (port 143)", "none": "None (a server on this computer)"}
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}


class MailboxSettings(QWidget):
    """The mailbox and watched-folder part of Settings; `values()` joins the other settings when saved."""

    check_requested = Signal(object, str)  # MailSettings, password ("" : the saved one)

    def __init__(self):
        super().__init__()
        self.settings = Settings()
        self.enabled = QCheckBox("Read buyer messages from my mailbox (IMAP)")
        self.host = QLineEdit()
        self.host.setPlaceholderText("imap.example.com")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.security = QComboBox()
        for key, text in SECURITY.items():
            self.security.addItem(text, key)
        self.security.activated.connect(lambda _: self.port.setValue(DEFAULT_PORTS[self.security.currentData()]))
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("leave empty to keep the saved one")
        self.password_note = QLabel("")
        self.password_note.setWordWrap(True)
        self.password_note.setStyleSheet("color: #666; font-size: 8pt;")
        self.inbox = self._folder_box()
        self.sent = self._folder_box()
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 1440)
        self.minutes.setSuffix(" min")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("only for a server with a certificate of its own (optional)")
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self._test)
        self.check_result = QLabel("")
        self.check_result.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.watch_enabled = QCheckBox("Import reports that appear in this folder")
        self.watch_folder = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)

        server = QHBoxLayout()
        server.addWidget(self.host, 1)
        server.addWidget(QLabel("port"))
        server.addWidget(self.port)
        test = QHBoxLayout()
        test.addWidget(self.test_button)
        test.addWidget(self.check_result, 1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("", self.enabled)
        form.addRow("Server", server)
        form.addRow("Encryption", self.security)
        form.addRow("User name", self.user)
        form.addRow("Password", self.password)
        form.addRow("", self.password_note)
        form.addRow("Buyer messages arrive in", self.inbox)
        form.addRow("Your replies are kept in", self.sent)
        form.addRow("Look for new mail every", self.minutes)
        form.addRow("Certificate authority file", self.ca_file)
        form.addRow("", test)
        form.addRow("Last check", self.status)
        folder = QHBoxLayout()
        folder.addWidget(self.watch_folder, 1)
        folder.addWidget(browse)
        form.addRow("", self.watch_enabled)
        form.addRow("Watched folder", folder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)

    def _folder_box(self) -> QComboBox:
        box = QComboBox()
        box.setEditable(True)
        box.setMinimumWidth(200)
        return box

    def show_settings(self, settings: Settings, password_note: str) -> None:
        self.settings = settings
        self.enabled.setChecked(settings.imap_enabled)
        self.host.setText(settings.imap_host)
        self.port.setValue(settings.imap_port)
        self.security.setCurrentIndex(self.security.findData(settings.imap_security))
        self.user.setText(settings.imap_user)
        self.password.clear()
        self.password_note.setText(password_note)
        self.inbox.setCurrentText(settings.imap_inbox)
        self.sent.setCurrentText(settings.imap_sent)
        self.minutes.setValue(int(settings.imap_poll_minutes))
        self.ca_file.setText(settings.imap_ca_file)
        self.watch_enabled.setChecked(settings.watch_enabled)
        self.watch_folder.setText(settings.watch_folder)

    def values(self) -> dict:
        return {
            "imap_enabled": self.enabled.isChecked(),
            "imap_host": self.host.text().strip(),
            "imap_port": self.port.value(),
            "imap_security": self.security.currentData(),
            "imap_user": self.user.text().strip(),
            "imap_inbox": self.inbox.currentText().strip() or "INBOX",
            "imap_sent": self.sent.currentText().strip() or "Sent",
            "imap_poll_minutes": self.minutes.value(),
            "imap_ca_file": self.ca_file.text().strip(),
            "watch_enabled": self.watch_enabled.isChecked(),
            "watch_folder": self.watch_folder.text().strip(),
        }

    def mail_settings(self) -> MailSettings:
        """The mailbox as the form says it (for Test connection, before anything is saved)."""
        from app.mailsync import MailSettings  # imaplib, keyring: loaded when the seller tests the mailbox

        return MailSettings.from_settings(replace(self.settings, **self.values()))

    def _test(self) -> None:
        settings = self.mail_settings()
        problem = settings.problem()
        if problem is not None:
            from app.mailsync import ConnectionCheck

            self.show_check(ConnectionCheck(False, problem.kind, str(problem)))
            return
        self.check_result.setText("Connecting…")
        self.check_result.setStyleSheet("")
        self.test_button.setEnabled(False)
        self.check_requested.emit(settings, self.password.text())

    def show_check(self, check: ConnectionCheck) -> None:
        """The result of Test connection; on success the server's folders fill the two folder lists."""
        self.test_button.setEnabled(True)
        self.check_result.setText(check.message)
        self.check_result.setStyleSheet("color: #2e7d32;" if check.ok else "color: #c62828;")
        if not check.folders:
            return
        names = [folder.name for folder in check.folders if folder.selectable]
        for box in (self.inbox, self.sent):
            current = box.currentText()
            box.clear()
            box.addItems(names)
            box.setCurrentText(current)
        if self.sent.currentText() not in names:
            from app.mailsync import suggested_sent_folder

            sent = suggested_sent_folder(check.folders)
            if sent is not None:
                self.sent.setCurrentText(sent.name)

    def show_status(self, text: str, ok: bool) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("" if ok else "color: #c62828;")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder to watch for downloaded reports", self.watch_folder.text()
        )
        if folder:
            self.watch_folder.setText(folder)
