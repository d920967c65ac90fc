"""The mailbox sync against a real IMAP server (Dovecot on loopback, see tests/imap_server.py).

What importing Inbox.mbox and Sent.mbox stores, a sync of the same mail from the server stores too; new
mail appears after one poll, the same mail twice changes nothing, mail not from Amazon is never stored,
and every failure (wrong password, server down or silent, certificate, missing folder) is a clear status
that loses nothing already stored. Passwords live in an in-memory keyring backend set here, never the
developer's real keyring.
"""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from app import mailsync
from app.alerts import RecordingSink
from app.clocks import clocks_at
from app.imports import import_files
from app.mailsync import MailSettings, Passwords, SessionPasswords, run_sync, sync_mailbox
from app.scheduler import MAIL_JOB, MonitorScheduler
from app.services import compute_metrics
from app.settings import save_setting
from tests.conftest import SAMPLE_FILES
from tests.imap_server import append, append_mbox
from tests.recording import MemoryKeyring, RecordingListener
from tests.ui_support import SAMPLE_NOW, FixedClock

REPORTS = [name for name in SAMPLE_FILES if not name.endswith(".mbox")]
NOT_FROM_AMAZON = b"""From: Newsletter <news@shop.example>
To: seller@example.com
Subject: Order inquiry from your customer (Order: 111-0000000-0000001)
Date: Sun, 08 Nov 2026 10:00:00 +0000
Message-ID: <newsletter-1@shop.example>

Not a buyer message: not from a marketplace alias.
"""


@pytest.fixture(autouse=True)
def no_real_keyring(monkeypatch):
    """Whatever a test does, the keyring library hands out this in-memory backend."""
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


def rows(db, table: str) -> list[tuple]:
    return db.execute(f"SELECT * FROM [{table}] ORDER BY 1").fetchall()


def snapshot(db) -> dict:
    tables = ("messages", "replies", "claims", "mail_folders", "mail_claim_notices")
    return {table: rows(db, table) for table in tables}


def sync(db, settings, password, **kwargs):
    return sync_mailbox(db, settings, password, now=lambda: SAMPLE_NOW, **kwargs)


def notification(order_id: str, alias: str, sent: datetime, token: str) -> bytes:
    return (
        f'From: "Mia - Amazon Marketplace" <{alias}+{token.lower()}@marketplace.amazon.com>\n'
        "To: seller@example.com\n"
        f"Subject: Order delivery inquiry from Amazon customer Mia (Order: {order_id})\n"
        f"Date: {format_datetime(sent)}\n"
        f"Message-ID: <{token}@amazon.com>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
        f"Order ID {order_id}:\n------------- Begin message -------------\n\n"
        "Where is my parcel?\n\n------------- End message -------------\n"
        f"[commMgrTok:{token}]\n"
    ).encode()


def reply(order_id: str, alias: str, sent: datetime, message_id: str) -> bytes:
    return (
        "From: Shop Support <seller@example.com>\n"
        f"To: {alias}@marketplace.amazon.com\n"
        f"Subject: Re: Order delivery inquiry from Amazon customer Mia (Order: {order_id})\n"
        f"Date: {format_datetime(sent)}\nMessage-ID: <{message_id}>\n\nIt ships today.\n"
    ).encode()


def claim_mail(subject: str, sent: datetime, message_id: str, sender: str = "atoz-guarantee-no-reply@amazon.com"):
    return (
        f"From: Amazon <{sender}>\nTo: seller@example.com\nSubject: {subject}\n"
        f"Date: {format_datetime(sent)}\nMessage-ID: <{message_id}>\n\n"
        "If you do not respond within 48 hours, the claim will be granted.\n"
    ).encode()


# --- the same rows as importing the mbox files -------------------------------------------------------------------


def test_a_sync_stores_exactly_what_importing_the_mbox_files_stores(account, new_db, samples):
    settings, password = account
    imported, synced = new_db("imported.db"), new_db("synced.db")
    for db in (imported, synced):  # the other reports too, so clocks and LRR have their orders
        assert {r.outcome for r in import_files(db, [samples / name for name in REPORTS])} == {"imported"}
    import_files(imported, [samples / "Inbox.mbox", samples / "Sent.mbox"])

    started = time.monotonic()
    result = sync(synced, settings, password)
    elapsed = time.monotonic() - started

    assert result.ok, result.error_message
    assert (result.messages_added, result.replies_added) == (20, 17)
    assert result.folders_polled == ["INBOX", "Sent"]
    assert rows(synced, "messages") == rows(imported, "messages")
    assert rows(synced, "replies") == rows(imported, "replies")
    assert [c.to_json(SAMPLE_NOW) for c in clocks_at(synced, SAMPLE_NOW)] == [
        c.to_json(SAMPLE_NOW) for c in clocks_at(imported, SAMPLE_NOW)
    ]
    day = datetime.fromtimestamp(SAMPLE_NOW, UTC).date()
    assert compute_metrics(synced, day)["late_response_rate"] == compute_metrics(imported, day)["late_response_rate"]
    assert elapsed < 10


def test_only_new_mail_is_fetched_and_a_new_message_appears_after_one_poll(account, dovecot, db):
    settings, password = account
    assert sync(db, settings, password).messages_added == 20
    pointers = dict(db.execute("SELECT folder, last_uid FROM mail_folders").fetchall())
    assert pointers == {"INBOX": 20, "Sent": 17}
    nothing = sync(db, settings, password)
    assert (nothing.ok, nothing.changed) == (True, False)

    received = datetime(2026, 11, 8, 11, 0, tzinfo=UTC)
    conn = dovecot.session(settings.user, password)
    append(conn, "INBOX", notification("112-5555555-0000001", "newbuyer77", received, "AB12CD34EF"))
    result = sync(db, settings, password)
    assert (result.messages_added, result.replies_added) == (1, 0)
    clock = next(c for c in clocks_at(db, SAMPLE_NOW) if c.order_id == "112-5555555-0000001")
    assert clock.due_at == received.timestamp() + 24 * 3600  # the 24-hour reply clock runs

    append(conn, "Sent", reply("112-5555555-0000001", "newbuyer77", datetime(2026, 11, 8, 11, 30, tzinfo=UTC), "r1@x"))
    conn.logout()
    result = sync(db, settings, password)
    assert (result.messages_added, result.replies_added) == (0, 1)
    assert all(c.order_id != "112-5555555-0000001" for c in clocks_at(db, SAMPLE_NOW)), "the reply closes it"


def test_the_same_mail_twice_changes_nothing_and_other_mail_is_never_stored(account, dovecot, db, samples):
    settings, password = account
    sync(db, settings, password)
    before = snapshot(db)
    conn = dovecot.session(settings.user, password)
    append_mbox(conn, "INBOX", samples / "Inbox.mbox")  # every notification again, under new UIDs
    append(conn, "INBOX", NOT_FROM_AMAZON)
    conn.logout()

    result = sync(db, settings, password)

    assert (result.ok, result.changed) == (True, False)
    after = snapshot(db)
    assert after.pop("mail_folders") != before.pop("mail_folders")  # the pointer moved past them
    assert after == before
    stored = str(rows(db, "messages") + rows(db, "replies"))
    assert "newsletter" not in stored and "111-0000000-0000001" not in stored


def test_a_new_uidvalidity_reads_the_folder_again_without_duplicates(account, dovecot, db, samples):
    settings, password = account
    sync(db, settings, password)
    validity = db.execute("SELECT uidvalidity FROM mail_folders WHERE folder = 'Sent'").fetchone()[0]
    conn = dovecot.session(settings.user, password)
    assert conn.delete("Sent")[0] == "OK"  # the folder is recreated: its UIDs start again, under a new UIDVALIDITY
    append_mbox(conn, "Sent", samples / "Sent.mbox")
    append(conn, "Sent", reply("113-3310973-8853720", "3f2e5afa4b844cfd", datetime(2026, 11, 8, 6, tzinfo=UTC), "r2@x"))
    conn.logout()
    before = rows(db, "replies")

    result = sync(db, settings, password)

    assert result.ok and (result.messages_added, result.replies_added) == (0, 1)
    new_validity, last = db.execute("SELECT uidvalidity, last_uid FROM mail_folders WHERE folder = 'Sent'").fetchone()
    assert new_validity != validity and last == 18
    assert len(rows(db, "replies")) == len(before) + 1


# --- claims from notification e-mails -------------------------------------------------------------------------


def test_claim_and_chargeback_notifications_create_and_update_claims(account, dovecot, db):
    settings, password = account
    sync(db, settings, password)
    filed = datetime(2026, 11, 7, 15, 0, tzinfo=UTC)
    conn = dovecot.session(settings.user, password)
    for raw in (
        claim_mail("A-to-z Guarantee claim filed for order 111-2222222-3333333", filed, "c1@amazon.com"),
        claim_mail(
            "Chargeback Notification: Order 114-4444444-5555555", filed, "c2@amazon.com", "cb-seller-query@amazon.com"
        ),
        claim_mail("Your Amazon order update", filed, "c3@amazon.com"),  # no claim words: not a claim
        claim_mail("A-to-z Guarantee claim filed for order 111-9999999-9999999", filed, "c4@x", "atoz@amaz0n.com"),
    ):
        append(conn, "INBOX", raw)
    result = sync(db, settings, password)
    assert result.claims_touched == 2
    claims = db.execute("SELECT order_id, type, filed_on, status, reason FROM claims ORDER BY order_id").fetchall()
    assert claims == [
        ("111-2222222-3333333", "a-to-z", "2026-11-07", "open", "other"),
        ("114-4444444-5555555", "chargeback", "2026-11-07", "open", "other"),
    ]
    kinds = {c.kind for c in clocks_at(db, SAMPLE_NOW) if c.order_id in ("111-2222222-3333333", "114-4444444-5555555")}
    assert kinds == {"a_to_z_response", "chargeback_response"}

    decided = datetime(2026, 11, 8, 9, 0, tzinfo=UTC)
    append(conn, "INBOX", claim_mail("A-to-z Guarantee Claim granted - order 111-2222222-3333333", decided, "c5@a"))
    append(conn, "INBOX", claim_mail("A-to-z Guarantee claim filed for order 111-2222222-3333333", filed, "c1@a.com"))
    conn.logout()
    result = sync(db, settings, password)
    assert result.claims_touched == 1
    row = db.execute("SELECT status, decided_on FROM claims WHERE order_id = '111-2222222-3333333'").fetchone()
    assert row == ("granted", "2026-11-08")


# --- failures: a clear status, nothing lost --------------------------------------------------------------------


def stored_settings(db, settings: MailSettings) -> None:
    for key, value in (
        ("imap_enabled", True),
        ("imap_host", settings.host),
        ("imap_port", settings.port),
        ("imap_security", settings.security),
        ("imap_user", settings.user),
        ("imap_inbox", settings.inbox),
        ("imap_sent", settings.sent),
        ("imap_poll_minutes", 2),
        ("imap_ca_file", settings.ca_file),
    ):
        save_setting(db, key, value)


def test_a_wrong_password_is_a_clear_status_and_loses_nothing(account, db):
    settings, password = account
    stored_settings(db, settings)
    passwords = SessionPasswords()
    passwords.set(settings.user, settings.host, password)
    first, status = run_sync(db, passwords, now=lambda: SAMPLE_NOW)
    assert first.ok and status.ok and status.last_success_at == SAMPLE_NOW
    before = snapshot(db)

    passwords.set(settings.user, settings.host, "not the password")
    result, status = run_sync(db, passwords, now=lambda: SAMPLE_NOW + 120)

    assert result.error_kind == mailsync.AUTH
    assert "refused the user name or password" in result.error_message
    assert settings.user in result.error_message and "not the password" not in result.error_message
    assert snapshot(db) == before
    assert mailsync.load_status(db) == status
    assert (status.consecutive_failures, status.last_success_at) == (1, SAMPLE_NOW)
    assert status.next_attempt_at == SAMPLE_NOW + 120 + 240  # the back-off: twice the 2-minute interval
    assert "refused" in status.describe()


def test_a_server_that_is_down_or_silent_is_unreachable_and_loses_nothing(account, db):
    settings, password = account
    sync(db, settings, password)
    before = snapshot(db)
    closed_port = MailSettings(
        host="127.0.0.1", user=settings.user, port=free_port_nobody_listens_on(), security="none"
    )

    down = sync(db, closed_port, password)

    assert down.error_kind == mailsync.UNREACHABLE
    assert "Cannot reach the mail server 127.0.0.1" in down.error_message and "refused" in down.error_message
    with silent_server() as port:
        started = time.monotonic()
        silent = sync(db, MailSettings(host="127.0.0.1", user="x", port=port, security="none"), password, timeout=1)
        assert time.monotonic() - started < 5
    assert silent.error_kind == mailsync.UNREACHABLE and "did not answer in time" in silent.error_message
    assert snapshot(db) == before


def test_a_missing_folder_is_named_and_the_other_folder_still_syncs(account, db):
    settings, password = account
    missing = MailSettings(
        host=settings.host, user=settings.user, port=settings.port, security="none", sent="Sent Mail"
    )

    result = sync(db, missing, password)

    assert result.error_kind == mailsync.FOLDER
    assert "“Sent Mail” was not found" in result.error_message and "sent folder" in result.error_message
    assert result.folders_polled == ["INBOX"] and result.messages_added == 20
    assert db["messages"].count == 20 and db["replies"].count == 0


def test_an_untrusted_certificate_is_refused_and_a_trusted_authority_works(account, dovecot, db):
    settings, password = account
    tls = MailSettings(host="localhost", user=settings.user, port=dovecot.imaps_port, security="tls")

    refused = sync(db, tls, password)

    assert refused.error_kind == mailsync.CERTIFICATE
    assert "could not be verified" in refused.error_message and "before the password was sent" in refused.error_message
    assert db["messages"].count == 0

    trusted = replace(tls, ca_file=str(dovecot.ca_file))
    assert sync(db, trusted, password).messages_added == 20
    starttls = replace(trusted, port=dovecot.imap_port, security="starttls")
    result = sync(db, starttls, password)
    assert result.ok and not result.changed  # same account, other port: read from the start, nothing new
    plain_on_tls_port = replace(tls, security="none", host="127.0.0.1")
    assert sync(db, plain_on_tls_port, password, timeout=2).error_kind in (mailsync.UNREACHABLE, mailsync.SERVER)


def test_no_unencrypted_connection_leaves_this_computer():
    remote = MailSettings(host="imap.example.com", user="seller", security="none")
    check = mailsync.test_connection(remote, "secret")
    assert (check.ok, check.kind) == (False, mailsync.INSECURE)
    assert "only to a server on this computer" in check.message
    assert mailsync.is_loopback("localhost") and mailsync.is_loopback("::1") and not mailsync.is_loopback("10.0.0.1")


def test_test_connection_and_the_folder_list(account, dovecot, new_db):
    settings, password = account
    check = mailsync.test_connection(settings, password)
    assert check.ok, check.message
    assert "“INBOX” (20 e-mails)" in check.message and "“Sent” (17 e-mails)" in check.message
    wrong = mailsync.test_connection(settings, "nope")
    assert (wrong.ok, wrong.kind) == (False, mailsync.AUTH)

    conn = dovecot.session(settings.user, password)
    conn.create('"Gesendete Objekte &- Entw&APw-rfe"')  # modified UTF-7, as IMAP spells it
    conn.logout()
    folders = mailsync.list_folders(settings, password)
    names = [folder.name for folder in folders]
    assert {"INBOX", "Sent", "Gesendete Objekte & Entwürfe"} <= set(names)
    assert mailsync.suggested_sent_folder(folders).name == "Sent"
    unicode_folder = replace(settings, sent="Gesendete Objekte & Entwürfe")
    assert sync_mailbox(new_db("folders.db"), unicode_folder, password).folders_polled == [
        "INBOX",
        "Gesendete Objekte & Entwürfe",
    ]


def test_folder_names_round_trip_through_modified_utf7():
    for name in ("INBOX", "Sent Items", "Gesendete Objekte & Entwürfe", "送信済み", 'a "quoted" \\ name'):
        encoded = mailsync.encode_folder_name(name)
        inner = encoded[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        assert mailsync.decode_folder_name(inner.encode("ascii")) == name
    assert mailsync.encode_folder_name("Entwürfe") == '"Entw&APw-rfe"'  # RFC 3501's own form


# --- passwords --------------------------------------------------------------------------------------------


def test_the_password_goes_to_the_keyring_never_the_database(account, db, db_path, no_real_keyring):
    settings, password = account
    stored_settings(db, settings)
    passwords = Passwords()
    assert passwords.problem is None and passwords.remembered
    assert passwords.set(settings.user, settings.host, password) == "keyring"
    assert no_real_keyring.passwords == {("account-health-monitor", f"{settings.user}@127.0.0.1"): password}

    result, _ = run_sync(db, Passwords(), now=lambda: SAMPLE_NOW)  # a new session reads it from the keyring

    assert result.ok and result.messages_added == 20
    db.execute("PRAGMA wal_checkpoint(FULL)")
    for path in db_path.parent.iterdir():
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def test_without_a_keyring_it_says_so_and_keeps_the_password_for_the_session(account, db, monkeypatch):
    settings, password = account
    stored_settings(db, settings)
    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    passwords = Passwords()
    assert not passwords.remembered and "No system keyring" in passwords.problem

    result, status = run_sync(db, passwords, now=lambda: SAMPLE_NOW)
    assert result.error_kind == mailsync.NO_PASSWORD
    assert "enter it in Settings" in status.error_message and "No system keyring" in status.error_message

    assert passwords.set(settings.user, settings.host, password) == "session"
    result, status = run_sync(db, passwords, now=lambda: SAMPLE_NOW)
    assert result.ok and status.ok and status.consecutive_failures == 0


def test_next_poll_delay_doubles_per_failure_up_to_half_an_hour():
    assert mailsync.next_poll_delay(0, 2) == 120
    assert [mailsync.next_poll_delay(n, 2) for n in range(1, 6)] == [240, 480, 960, 1800, 1800]
    assert mailsync.next_poll_delay(10_000, 2) == 1800
    assert mailsync.next_poll_delay(3, 60) == 3600  # never less often than the seller's own interval


# --- the scheduler's job ---------------------------------------------------------------------------------


Listener = RecordingListener


def test_the_scheduler_polls_recomputes_alerts_and_backs_off(account, db, db_path):
    settings, password = account
    stored_settings(db, settings)
    passwords = SessionPasswords()
    passwords.set(settings.user, settings.host, password)
    listener, sink = Listener(), RecordingSink()
    scheduler = MonitorScheduler(db_path, listener, sink, now=FixedClock(SAMPLE_NOW), passwords=passwords)
    scheduler.start()
    try:
        assert listener.status_seen.wait(20), "no poll on start"
        assert listener.statuses[0].ok and listener.statuses[0].messages_added == 20
        # The poll stored messages, so the figures were recomputed with their clocks.
        assert eventually(lambda: any(c.kind == "buyer_reply" for state in listener.states for c in state.clocks))
        job = scheduler._scheduler.get_job
        assert job(MAIL_JOB).trigger.interval.total_seconds() == 120

        passwords.set(settings.user, settings.host, "wrong")
        listener.status_seen.clear()
        scheduler.sync_now()
        assert listener.status_seen.wait(20)
        assert listener.statuses[-1].error_kind == mailsync.AUTH
        assert eventually(lambda: job(MAIL_JOB).trigger.interval.total_seconds() == 240), "no back-off"

        save_setting(db, "imap_enabled", False)
        scheduler.reschedule_sync()
        assert eventually(lambda: job(MAIL_JOB) is None)
    finally:
        scheduler.shutdown()
    assert listener.failures == []


# --- helpers -----------------------------------------------------------------------------------------------


def free_port_nobody_listens_on() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class silent_server:
    """A listening socket that accepts connections and never says anything (a hung server)."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def eventually(predicate, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
