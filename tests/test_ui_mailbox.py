"""Mailbox settings in the window against a real IMAP server: Test connection fills the folder lists, a
wrong password says so, and saving turns on the background sync whose status the window shows."""

from __future__ import annotations

from tests.ui_support import WAIT_MS, reading
from ui.application import CHECK_MAILBOX


def fill(mailbox, settings, password: str) -> None:
    mailbox.host.setText(settings.host)
    mailbox.port.setValue(settings.port)
    mailbox.security.setCurrentIndex(mailbox.security.findData(settings.security))
    mailbox.user.setText(settings.user)
    mailbox.password.setText(password)


def test_connection_check_lists_the_folders(qtbot, launch, db_path, account):
    settings, password = account
    desktop = launch(db_path)
    mailbox = desktop.window.settings_view.mailbox
    fill(mailbox, settings, password)
    with qtbot.waitSignal(
        desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=lambda what, _: what == CHECK_MAILBOX
    ):
        mailbox.test_button.click()
    assert mailbox.check_result.styleSheet() == "color: #2e7d32;", mailbox.check_result.text()
    folders = [mailbox.inbox.itemText(i) for i in range(mailbox.inbox.count())]
    assert "INBOX" in folders and "Sent" in folders


def test_a_wrong_password_is_reported(qtbot, launch, db_path, account):
    settings, _ = account
    desktop = launch(db_path)
    mailbox = desktop.window.settings_view.mailbox
    fill(mailbox, settings, "not the password")
    with qtbot.waitSignal(
        desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=lambda what, _: what == CHECK_MAILBOX
    ):
        mailbox.test_button.click()
    assert mailbox.check_result.styleSheet() == "color: #c62828;"
    assert "password" in mailbox.check_result.text().lower()


def test_saving_turns_on_the_sync_and_the_window_shows_it(qtbot, launch, db_path, account):
    settings, password = account
    desktop = launch(db_path)
    view = desktop.window.settings_view
    fill(view.mailbox, settings, password)
    view.mailbox.enabled.setChecked(True)
    with qtbot.waitSignal(desktop.bridge.sync_status_changed, timeout=WAIT_MS) as synced:
        view.save_button.click()
    status = synced.args[0]
    assert status.ok and status.messages_added == 20 and status.replies_added == 17
    assert view.mailbox.password.text() == ""  # never left in the form
    assert desktop.host.options.passwords.get(settings.user, settings.host) == password  # kept in the (test) keyring
    with reading(db_path) as db:
        stored = db.execute("SELECT value FROM settings WHERE value LIKE ?", [f"%{password}%"]).fetchall()
    assert stored == []  # and never in the database
    qtbot.waitUntil(lambda: desktop.window.mail_status.isVisible(), timeout=WAIT_MS)
    assert desktop.window.mail_status.text().startswith("Mailbox checked")
    qtbot.waitUntil(lambda: desktop.state is not None and desktop.window.messages.model.rowCount() > 0, timeout=WAIT_MS)
