"""Buyer messages straight from the seller's mailbox: the IMAP sync the scheduler runs every few minutes.

Amazon has no API for buyer messages, but e-mails each one; reading the mailbox locally (no third party in
between) is what makes the 24-hour reply clock appear on its own. A poll reads the inbox and the sent
folder with the same logic as importing an `.mbox` export (`app.importers.mail.read_mail`, the MESSAGE and
REPLY record specs, `TableWriter`), so the stored rows are exactly those an import of the same mail gives:
notifications become messages, replies to a buyer alias close them, automatic acknowledgements do not,
and mail that is not from Amazon is never stored. A-to-z claim and chargeback notifications create or
update claims (`app.claim_mail` says which wording is recognised).

Only new mail is fetched. Per account and folder the folder's UIDVALIDITY and the highest UID read are
kept (table `mail_folders`); a poll asks for UIDs above it, and reads the folder again from the start when
UIDVALIDITY changed (the server renumbered it), which is harmless because records are keyed by Message-ID.
Headers come first and only mail from or to Amazon is fetched whole, so a first poll of a large mailbox
does not download every attachment in it. Each batch is written in one transaction together with its UID
pointer: an interrupted poll loses nothing and repeats nothing.

Failures (wrong password, server unreachable, certificate not trusted, folder missing, ...) become a
`MailError` with a `kind` and a sentence for the seller; `run_sync` stores the outcome (`mail_sync_status`)
so the window shows it across restarts, and `next_poll_delay` spaces the retries out.

The password is never in the database or a file: it is in the operating system's keyring (`keyring`,
service "account-health-monitor", user name `user@host`), or, where no keyring works, in memory for the
session (`Passwords` says which, and why).

Everything here blocks on the network for up to `timeout` seconds: call it off the GUI thread.
"""

from __future__ import annotations

import base64
import email
import email.policy
import imaplib
import ipaddress
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses
from typing import Protocol
from zoneinfo import ZoneInfo

import keyring
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import sqlite_utils

from app import claim_mail, demo_state, records
from app.importers import mail as mail_importer
from app.settings import Settings, load_settings
from storage.transaction import write_transaction
from storage.writer import TableWriter

log = logging.getLogger(__name__)

KEYRING_SERVICE = "account-health-monitor"
DEFAULT_TIMEOUT_S = 30
MAX_BACKOFF_S = 30 * 60
HEADER_BATCH = 200  # UIDs whose From/To/Cc are fetched, then written, per transaction
BODY_BATCH = 20  # whole messages fetched at once (bounds memory when replies carry attachments)

# Error kinds, for the window to pick an icon or a settings field to highlight.
NOT_CONFIGURED = "not_configured"
INSECURE = "insecure"
NO_PASSWORD = "no_password"
AUTH = "auth"
UNREACHABLE = "unreachable"
CERTIFICATE = "certificate"
TLS = "tls"
FOLDER = "folder"
SERVER = "server"


class MailError(Exception):
    """A poll or check that failed, with a sentence the seller can act on."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


# --- settings ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """Where the mailbox is: the `imap_*` settings (see `app.settings`)."""

    host: str
    user: str
    port: int = 993
    security: str = "tls"  # "tls" (implicit, port 993) | "starttls" (port 143) | "none" (loopback only)
    inbox: str = "INBOX"
    sent: str = "Sent"
    poll_minutes: float = 2
    enabled: bool = False
    ca_file: str = ""  # trust this certificate authority instead of the system's

    @classmethod
    def from_settings(cls, settings: Settings) -> MailSettings:
        return cls(
            host=settings.imap_host,
            user=settings.imap_user,
            port=settings.imap_port,
            security=settings.imap_security,
            inbox=settings.imap_inbox,
            sent=settings.imap_sent,
            poll_minutes=settings.imap_poll_minutes,
            enabled=settings.imap_enabled,
            ca_file=settings.imap_ca_file,
        )

    @property
    def account(self) -> str:
        """What the UID pointers belong to: another server or user starts from the beginning."""
        return f"{self.user}@{self.host}:{self.port}"

    @property
    def folders(self) -> list[str]:
        return list(dict.fromkeys((self.inbox, self.sent)))

    def problem(self) -> MailError | None:
        """What stops a connection before it is tried: nothing set up, or no encryption to another computer."""
        if not self.host or not self.user:
            return MailError(NOT_CONFIGURED, "The mailbox is not set up: enter the server and user name in Settings.")
        if self.security == "none" and not is_loopback(self.host):
            return MailError(
                INSECURE,
                f"An unencrypted connection is allowed only to a server on this computer; choose TLS or "
                f"STARTTLS for {self.host} (the password would otherwise cross the network readable).",
            )
        return None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- passwords ---------------------------------------------------------------------------------------------------


class PasswordStore(Protocol):
    """Where the IMAP password is kept, by user name and server."""

    def get(self, user: str, host: str) -> str | None: ...
    def set(self, user: str, host: str, password: str) -> None: ...
    def delete(self, user: str, host: str) -> None: ...


class KeyringUnavailable(Exception):
    """The system keyring cannot be used; the message says why, for the seller."""


def keyring_username(user: str, host: str) -> str:
    return f"{user}@{host}"


class SessionPasswords:
    """Passwords kept in this process's memory only: gone when the app quits."""

    def __init__(self):
        self._passwords: dict[tuple[str, str], str] = {}

    def get(self, user: str, host: str) -> str | None:
        return self._passwords.get((user, host))

    def set(self, user: str, host: str, password: str) -> None:
        self._passwords[(user, host)] = password

    def delete(self, user: str, host: str) -> None:
        self._passwords.pop((user, host), None)


class KeyringPasswords:
    """The operating system's keyring (macOS Keychain, Windows Credential Locker, Secret Service on Linux).

    Args:
        backend: a keyring backend to use instead of the system's (tests pass an in-memory one).
    """

    NO_KEYRING = (
        "No system keyring is available on this computer (on Linux it needs a running Secret Service, such as "
        "GNOME Keyring or KWallet), so the password cannot be remembered: it is asked for once per session."
    )

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None):
        self._backend = backend

    def backend(self) -> keyring.backend.KeyringBackend:
        if self._backend is None:
            try:
                self._backend = keyring.get_keyring()
            except Exception as error:  # a broken keyring configuration must not stop the app
                raise KeyringUnavailable(f"The system keyring cannot be used ({error}).") from error
        if isinstance(self._backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
            raise KeyringUnavailable(self.NO_KEYRING)
        return self._backend

    def problem(self) -> str | None:
        """Why the keyring cannot be used, or None when it can."""
        try:
            self.backend()
        except KeyringUnavailable as error:
            return str(error)
        return None

    def get(self, user: str, host: str) -> str | None:
        return self._call("read", lambda b: b.get_password(KEYRING_SERVICE, keyring_username(user, host)))

    def set(self, user: str, host: str, password: str) -> None:
        self._call("save", lambda b: b.set_password(KEYRING_SERVICE, keyring_username(user, host), password))

    def delete(self, user: str, host: str) -> None:
        with suppress(keyring.errors.PasswordDeleteError):  # there was none
            self._call("delete", lambda b: b.delete_password(KEYRING_SERVICE, keyring_username(user, host)))

    def _call(self, what: str, action: Callable):
        backend = self.backend()
        try:
            return action(backend)
        except keyring.errors.PasswordDeleteError:
            raise
        except Exception as error:  # locked keyring, D-Bus gone, user refused access: all say the same
            raise KeyringUnavailable(f"The system keyring could not {what} the password ({error}).") from error


class Passwords:
    """The app's password store: the system keyring where one works, else memory for this session.

    `problem` is None while the keyring works; otherwise it says why not, and passwords set are kept in
    memory only (the window should say the password will be asked for again next time). A password set
    for the session also wins over the keyring's (typed after the keyring failed, or to try another).
    """

    def __init__(self, keyring_store: KeyringPasswords | None = None):
        self.keyring = keyring_store if keyring_store is not None else KeyringPasswords()
        self.session = SessionPasswords()
        self.problem: str | None = self.keyring.problem()

    @property
    def remembered(self) -> bool:
        """Whether a password set now is still there after a restart."""
        return self.problem is None

    def get(self, user: str, host: str) -> str | None:
        password = self.session.get(user, host)
        if password is not None or self.problem is not None:
            return password
        try:
            return self.keyring.get(user, host)
        except KeyringUnavailable as error:
            self.problem = str(error)
            return None

    def set(self, user: str, host: str, password: str) -> str:
        """Keep the password; returns where: "keyring" or "session"."""
        if self.problem is None:
            try:
                self.keyring.set(user, host, password)
                self.session.delete(user, host)
                return "keyring"
            except KeyringUnavailable as error:
                self.problem = str(error)
        self.session.set(user, host, password)
        return "session"

    def delete(self, user: str, host: str) -> None:
        self.session.delete(user, host)
        if self.problem is None:
            try:
                self.keyring.delete(user, host)
            except KeyringUnavailable as error:
                self.problem = str(error)


# --- connecting ----------------------------------------------------------------------------------------------


def tls_context(settings: MailSettings) -> ssl.SSLContext:
    """Certificates verified and the host name checked, against the system's authorities or `ca_file`."""
    try:
        return ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as error:
        raise MailError(
            CERTIFICATE, f"The certificate authority file {settings.ca_file} cannot be used ({_reason(error)})."
        ) from error


@contextmanager
def connect(settings: MailSettings, password: str, timeout: float = DEFAULT_TIMEOUT_S) -> Iterator[imaplib.IMAP4]:
    """A signed-in IMAP connection, logged out afterwards.

    Raises:
        MailError: with the kind and the seller's sentence for whatever went wrong.
    """
    problem = settings.problem()
    if problem:
        raise problem
    if not password:
        raise MailError(NO_PASSWORD, f"No password for {settings.user} at {settings.host}: enter it in Settings.")
    context = tls_context(settings) if settings.security != "none" else None
    conn = None
    try:
        if settings.security == "tls":
            conn = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=timeout)
        else:
            conn = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
            if settings.security == "starttls":
                _starttls(conn, settings, context)
        _login(conn, settings, password)
        yield conn  # errors of the caller's reading come back here and are worded the same way
    except MailError:
        raise
    except ssl.SSLCertVerificationError as error:
        raise MailError(
            CERTIFICATE,
            f"The certificate of {settings.host} could not be verified ({error.verify_message or _reason(error)}), "
            "so the connection was closed before the password was sent. If the server uses its own certificate, "
            "choose its certificate authority file in Settings.",
        ) from error
    except ssl.SSLError as error:
        raise MailError(
            TLS,
            f"No encrypted connection could be made with {settings.host} on port {settings.port} "
            f"({_reason(error)}). Check the security setting: TLS uses port 993, STARTTLS port 143.",
        ) from error
    except imaplib.IMAP4.abort as error:
        raise _unreachable(settings, error) from error
    except imaplib.IMAP4.error as error:
        raise MailError(SERVER, f"The mail server {settings.host} answered with an error: {_reason(error)}") from error
    except OSError as error:  # refused, timed out, no route, name not found
        raise _unreachable(settings, error) from error
    finally:
        if conn is not None:
            with suppress(imaplib.IMAP4.error, OSError):  # the connection is already gone: nothing to tidy
                conn.logout()


def _starttls(conn: imaplib.IMAP4, settings: MailSettings, context: ssl.SSLContext) -> None:
    try:
        conn.starttls(ssl_context=context)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:  # not offered, or refused
        raise MailError(
            TLS,
            f"{settings.host} does not offer STARTTLS on port {settings.port} ({_reason(error)}); "
            "choose TLS on port 993.",
        ) from error


def _login(conn: imaplib.IMAP4, settings: MailSettings, password: str) -> None:
    try:
        if (settings.user + password).isascii() or "AUTH=PLAIN" not in conn.capabilities:
            conn.login(settings.user, password)
        else:  # LOGIN's quoted strings are ASCII in imaplib; SASL PLAIN carries UTF-8
            credentials = f"\0{settings.user}\0{password}".encode()
            conn.authenticate("PLAIN", lambda _challenge: credentials)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as error:
        reason = _reason(error)
        code = reason.upper()
        if "PRIVACYREQUIRED" in code or "LOGINDISABLED" in code:
            message = f"{settings.host} accepts passwords only over an encrypted connection: choose TLS or STARTTLS."
            raise MailError(INSECURE, message) from error
        if "UNAVAILABLE" in code:
            message = f"{settings.host} cannot sign anyone in right now ({reason}); the app will try again."
            raise MailError(SERVER, message) from error
        raise MailError(
            AUTH,
            f"{settings.host} refused the user name or password for {settings.user} ({reason}). "
            "Check them in Settings.",
        ) from error


def _unreachable(settings: MailSettings, error: BaseException) -> MailError:
    if isinstance(error, socket.gaierror):
        why = "no server by that name was found"
    elif isinstance(error, TimeoutError):
        why = "it did not answer in time"
    elif isinstance(error, ConnectionRefusedError):
        why = "the connection was refused"
    elif isinstance(error, imaplib.IMAP4.abort):
        why = f"the connection was closed: {_reason(error)}"
    else:
        why = _reason(error)
    return MailError(
        UNREACHABLE,
        f"Cannot reach the mail server {settings.host} on port {settings.port} ({why}). "
        "Check the server name, the port and the internet connection; the app will try again.",
    )


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return _said(error.args[0] if error.args else None) or type(error).__name__


def _said(value) -> str:
    """What the server said, as text: imaplib hands over bytes, lists of bytes or their repr."""
    if isinstance(value, list | tuple):
        value = b" ".join(part for part in value if isinstance(part, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value or "")
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


# --- folders -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailFolder:
    """A folder on the server, with its flags (RFC 6154 marks the sent folder `\\Sent`)."""

    name: str
    flags: tuple[str, ...] = ()

    @property
    def selectable(self) -> bool:
        return not any(flag.lower() in ("\\noselect", "\\nonexistent") for flag in self.flags)

    @property
    def is_sent(self) -> bool:
        return any(flag.lower() == "\\sent" for flag in self.flags)


LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\)\s+(?:"(?:[^"\\]|\\.)*"|NIL)\s*(?P<name>.*)$', re.IGNORECASE)


def list_folders(settings: MailSettings, password: str, timeout: float = DEFAULT_TIMEOUT_S) -> list[MailFolder]:
    """The server's folders that can hold mail, for choosing the inbox and sent folders.

    Raises:
        MailError: the connection failed (see `connect`).
    """
    with connect(settings, password, timeout) as conn:
        return [folder for folder in _list(conn, settings) if folder.selectable]


def suggested_sent_folder(folders: Sequence[MailFolder]) -> MailFolder | None:
    """The folder the server marks as the sent folder, else one with a usual name."""
    for folder in folders:
        if folder.is_sent:
            return folder
    usual = ("sent", "sent items", "sent mail", "sent messages", "[gmail]/sent mail", "inbox.sent", "gesendet")
    return next((folder for folder in folders if folder.name.lower() in usual), None)


def _list(conn: imaplib.IMAP4, settings: MailSettings) -> list[MailFolder]:
    status, data = conn.list()
    if status != "OK":
        raise MailError(SERVER, f"{settings.host} did not list its folders ({_said(data)}).")
    folders = []
    for item in data:
        if item is None:
            continue
        literal = None
        if isinstance(item, tuple):  # the name came as a literal: {n}\r\n<name>
            item, literal = item
        match = LIST_LINE.match(item)
        if not match:
            continue
        flags = tuple(flag.decode("ascii", errors="replace") for flag in match.group("flags").split())
        raw = literal if literal is not None else match.group("name")
        folders.append(MailFolder(decode_folder_name(_unquote(raw.strip())), flags))
    return folders


def _unquote(raw: bytes) -> bytes:
    if raw.startswith(b'"') and raw.endswith(b'"') and len(raw) >= 2:
        return re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return raw


def encode_folder_name(name: str) -> str:
    """A folder name as IMAP writes it: modified UTF-7 (RFC 3501 5.1.3), quoted for the command line."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode("ascii") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    text = "".join(out)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def decode_folder_name(raw: bytes) -> str:
    """The readable name of a folder from its modified UTF-7 form."""
    text = raw.decode("ascii", errors="replace")

    def decode(match: re.Match) -> str:
        body = match.group(1)
        if not body:
            return "&"
        padded = body.replace(",", "/") + "=" * (-len(body) % 4)
        try:
            return base64.b64decode(padded).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", decode, text)


# --- checking the connection -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    """What the "Test connection" button shows."""

    ok: bool
    kind: str | None
    message: str
    folders: tuple[MailFolder, ...] = ()


def test_connection(settings: MailSettings, password: str, timeout: float = DEFAULT_TIMEOUT_S) -> ConnectionCheck:
    """Sign in, list the folders and open the inbox and sent folders; never raises."""
    try:
        with connect(settings, password, timeout) as conn:
            folders = tuple(folder for folder in _list(conn, settings) if folder.selectable)
            counts = {folder: _open_folder(conn, settings, folder)[1] for folder in settings.folders}
    except MailError as error:
        return ConnectionCheck(False, error.kind, str(error))
    found = " and ".join(f"“{folder}” ({count:,} e-mails)" for folder, count in counts.items())
    return ConnectionCheck(True, None, f"Signed in to {settings.host} as {settings.user}; found {found}.", folders)


test_connection.__test__ = False  # a use-case named test_*, not a test for pytest to collect


# --- syncing -----------------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What one poll did. Counts include what was stored before a failure stopped it."""

    started_at: float
    finished_at: float | None = None
    messages_added: int = 0
    replies_added: int = 0
    claims_touched: int = 0
    rejected: int = 0  # mail from or to Amazon that could not be read (no date, say); logged, not stored
    folders_polled: list[str] = field(default_factory=list)
    error_kind: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def changed(self) -> bool:
        """Whether anything was stored: the figures, clocks and alerts need recomputing."""
        return bool(self.messages_added or self.replies_added or self.claims_touched)


def sync_mailbox(
    db: sqlite_utils.Database,
    settings: MailSettings,
    password: str,
    *,
    zone: ZoneInfo | None = None,
    now: Callable[[], float] = time.time,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> SyncResult:
    """Fetch the mail that arrived since the last poll from the inbox and sent folders and store it.

    A missing folder does not stop the other one from being read; a connection failure stops the poll.
    Never raises MailError: the result carries the error kind and message.
    """
    zone = zone or load_settings(db).zone
    result = SyncResult(started_at=now())
    try:
        with connect(settings, password, timeout) as conn:
            for folder in settings.folders:
                try:
                    _sync_folder(db, conn, settings, folder, zone, now, result)
                except MailError as error:
                    if error.kind != FOLDER:
                        raise
                    _note_error(result, error)
                    continue
                result.folders_polled.append(folder)
    except MailError as error:
        _note_error(result, error)
    except (imaplib.IMAP4.error, OSError) as error:  # the connection broke while reading
        _note_error(result, _unreachable(settings, error))
    result.finished_at = now()
    return result


def _note_error(result: SyncResult, error: MailError) -> None:
    if result.error_kind is None:  # the first error is the one to fix first
        result.error_kind, result.error_message = error.kind, str(error)


def _open_folder(conn: imaplib.IMAP4, settings: MailSettings, folder: str) -> tuple[int, int]:
    """EXAMINE the folder (read-only: nothing is marked read); its UIDVALIDITY and message count."""
    status, data = conn.select(encode_folder_name(folder), readonly=True)
    if status != "OK":
        which = "inbox" if folder == settings.inbox else "sent"
        raise MailError(
            FOLDER,
            f"The folder “{folder}” was not found on {settings.host} ({_said(data)}). "
            f"Choose the {which} folder in Settings.",
        )
    _, validity = conn.response("UIDVALIDITY")
    try:
        uidvalidity = int(validity[0])
    except (TypeError, ValueError, IndexError):
        raise MailError(SERVER, f"{settings.host} gave the folder “{folder}” no UIDVALIDITY.") from None
    return uidvalidity, int(data[0] or 0)


def _sync_folder(db, conn, settings: MailSettings, folder: str, zone: ZoneInfo, now, result: SyncResult) -> None:
    uidvalidity, _count = _open_folder(conn, settings, folder)
    row = db.execute(
        "SELECT uidvalidity, last_uid FROM mail_folders WHERE account = ? AND folder = ?", [settings.account, folder]
    ).fetchone()
    last_uid = row[1] if row and row[0] == uidvalidity else 0
    if row and row[0] != uidvalidity:
        log.info("%s: UIDVALIDITY changed from %s to %s, reading the folder again", folder, row[0], uidvalidity)
    uids = _new_uids(conn, last_uid)
    if not uids:
        _save_pointer(db, settings.account, folder, uidvalidity, last_uid, now)
        return
    for start in range(0, len(uids), HEADER_BATCH):
        batch = uids[start : start + HEADER_BATCH]
        wanted = [
            uid for uid, header in _fetch(conn, batch, "BODY.PEEK[HEADER.FIELDS (FROM TO CC)]") if _wanted(header)
        ]
        messages, replies, notices = _read(conn, wanted, result)
        with write_transaction(db):
            _store(db, messages, replies, notices, zone, result)
            _save_pointer(db, settings.account, folder, uidvalidity, batch[-1], now)


def _new_uids(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    status, data = conn.uid("SEARCH", "UID", f"{last_uid + 1}:*")
    if status != "OK":
        raise imaplib.IMAP4.error(data[-1] if data else b"SEARCH failed")
    # "n:*" includes the highest UID even when it is below n (RFC 3501), hence the filter.
    return sorted(uid for uid in (int(part) for part in b" ".join(filter(None, data)).split()) if uid > last_uid)


UID_ITEM = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)


def _fetch(conn: imaplib.IMAP4, uids: Sequence[int], item: str) -> list[tuple[int, bytes]]:
    """(uid, bytes) for each message of `uids` that still exists, in UID order."""
    if not uids:
        return []
    status, data = conn.uid("FETCH", ",".join(map(str, uids)), f"(UID {item})")
    if status != "OK":
        raise imaplib.IMAP4.error(data[-1] if data else b"FETCH failed")
    fetched: dict[int, bytes] = {}
    pending = None
    for part in data:
        if isinstance(part, tuple):
            head, payload = part
            match = UID_ITEM.search(head)
            if match:
                fetched[int(match.group(1))] = payload
            else:
                pending = payload  # some servers send UID after the literal, in the closing part
        elif isinstance(part, bytes) and pending is not None:
            match = UID_ITEM.search(part)
            if match:
                fetched[int(match.group(1))] = pending
            pending = None
    wanted = set(uids)
    return sorted((uid, payload) for uid, payload in fetched.items() if uid in wanted)


def _wanted(header: bytes) -> bool:
    """From Amazon (a buyer alias or a notification) or to a buyer alias: worth fetching whole."""
    mail = email.message_from_bytes(header, policy=email.policy.default)
    try:
        senders = [address for _, address in getaddresses([str(v) for v in mail.get_all("from", [])])]
        recipients = [
            address for _, address in getaddresses([str(v) for v in mail.get_all("to", []) + mail.get_all("cc", [])])
        ]
    except Exception:  # a header too broken to read here: let the full reader decide
        return True
    if any(claim_mail.AMAZON_SENDER.search(address) for address in senders):
        return True
    return any(mail_importer.MARKETPLACE_ADDRESS.match(address.strip()) for address in recipients)


def _read(conn: imaplib.IMAP4, uids: Sequence[int], result: SyncResult) -> tuple[list, list, list]:
    messages, replies, notices = [], [], []
    for start in range(0, len(uids), BODY_BATCH):
        for uid, raw in _fetch(conn, uids[start : start + BODY_BATCH], "BODY.PEEK[]"):
            # IMAP sends CRLF line ends; an mbox export holds LF. The same bytes as the export give the same
            # rows (a message without Message-ID is keyed by the hash of its bytes).
            raw = raw.replace(b"\r\n", b"\n")
            mail = email.message_from_bytes(raw, policy=email.policy.default)
            try:
                message, reply = mail_importer.read_mail(mail, raw)
            except ValueError as error:
                log.warning("e-mail UID %s skipped: %s", uid, error)
                result.rejected += 1
                continue
            if message is not None:
                messages.append(message)
            elif reply is not None:
                replies.append(reply)
            else:
                notice = claim_mail.read_claim_notice(mail)
                if notice is not None:
                    notices.append(notice)
    return messages, replies, notices


def _store(db, messages: list, replies: list, notices: list, zone: ZoneInfo, result: SyncResult) -> None:
    """Write one batch like an import of the same mail would (call inside the batch's transaction)."""
    if not (messages or replies or notices):
        return
    if demo_state.is_active(db):  # the seller's own data never mixes with the demo's
        demo_state.clear(db)
    result.messages_added += _write(db, records.MESSAGE, messages)
    result.replies_added += _write(db, records.REPLY, replies)
    for notice in notices:
        result.claims_touched += claim_mail.apply_claim_notice(db, notice, zone)


def _write(db, spec, rows: list) -> int:
    """Rows added (the same Message-ID again adds nothing and changes nothing)."""
    writer = TableWriter(db, spec)
    mark = writer.mark()
    writer.write(rows)
    return writer.added_since(mark)


def _save_pointer(db, account: str, folder: str, uidvalidity: int, last_uid: int, now) -> None:
    db.execute(
        """INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, synced_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
               last_uid = excluded.last_uid, synced_at = excluded.synced_at""",
        [account, folder, uidvalidity, last_uid, int(now())],
    )


# --- the scheduled poll and its status ---------------------------------------------------------------------------


def next_poll_delay(consecutive_failures: int, poll_minutes: float) -> float:
    """Seconds until the next poll: the poll interval, doubled for each failure in a row, at most 30 minutes
    (or the poll interval, if the seller chose a longer one)."""
    interval = poll_minutes * 60
    if consecutive_failures <= 0:
        return interval
    return min(interval * 2 ** min(consecutive_failures, 20), max(interval, MAX_BACKOFF_S))


@dataclass(frozen=True)
class SyncStatus:
    """The latest poll as the window shows it (stored, so it survives a restart). Instants are epoch seconds."""

    account: str | None = None
    last_attempt_at: int | None = None
    last_success_at: int | None = None
    error_kind: str | None = None
    error_message: str | None = None
    consecutive_failures: int = 0
    messages_added: int = 0
    replies_added: int = 0
    claims_touched: int = 0
    next_attempt_at: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    def describe(self, zone: ZoneInfo | None = None) -> str:
        """One line for the status bar or the tray tooltip."""

        def at(instant: int) -> str:
            return datetime.fromtimestamp(instant, tz=zone).strftime("%a %H:%M")

        if self.last_attempt_at is None:
            return "The mailbox has not been checked yet."
        if not self.ok:
            retry = f" Next try {at(self.next_attempt_at)}." if self.next_attempt_at else ""
            return f"{self.error_message}{retry}"
        found = [
            f"{count} new {one if count == 1 else many}"
            for count, one, many in (
                (self.messages_added, "buyer message", "buyer messages"),
                (self.replies_added, "reply", "replies"),
                (self.claims_touched, "claim update", "claim updates"),
            )
            if count
        ]
        return f"Mailbox checked {at(self.last_attempt_at)}: {', '.join(found) or 'nothing new'}."


STATUS_COLUMNS = tuple(SyncStatus.__dataclass_fields__)


def load_status(db: sqlite_utils.Database) -> SyncStatus:
    """The latest poll's status (an empty status before the first poll)."""
    row = db.execute(f"SELECT {', '.join(STATUS_COLUMNS)} FROM mail_sync_status WHERE id = 1").fetchone()
    return SyncStatus(*row) if row else SyncStatus()


def save_status(db: sqlite_utils.Database, settings: MailSettings, result: SyncResult) -> SyncStatus:
    previous = load_status(db)
    failures = 0 if result.ok else previous.consecutive_failures + 1
    finished = int(result.finished_at or result.started_at)
    status = SyncStatus(
        account=settings.account,
        last_attempt_at=finished,
        last_success_at=finished if result.ok else previous.last_success_at,
        error_kind=result.error_kind,
        error_message=result.error_message,
        consecutive_failures=failures,
        messages_added=result.messages_added,
        replies_added=result.replies_added,
        claims_touched=result.claims_touched,
        next_attempt_at=finished + int(next_poll_delay(failures, settings.poll_minutes)),
    )
    values = [getattr(status, name) for name in STATUS_COLUMNS]
    updates = ", ".join(f"{name} = excluded.{name}" for name in STATUS_COLUMNS)
    with write_transaction(db):
        db.execute(
            f"INSERT INTO mail_sync_status (id, {', '.join(STATUS_COLUMNS)}) "
            f"VALUES (1, {', '.join('?' * len(STATUS_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET {updates}",
            values,
        )
    return status


def run_sync(
    db: sqlite_utils.Database,
    passwords: PasswordStore,
    *,
    now: Callable[[], float] = time.time,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> tuple[SyncResult, SyncStatus]:
    """One scheduled poll with the stored settings and password; the outcome is stored as the sync status."""
    settings = load_settings(db)
    mail = MailSettings.from_settings(settings)
    problem = mail.problem()
    password = None
    if problem is None:
        try:
            password = passwords.get(mail.user, mail.host)
        except KeyringUnavailable as error:
            problem = MailError(NO_PASSWORD, f"{error} Enter the password in Settings.")
    if problem is None and not password:
        keyring_problem = getattr(passwords, "problem", None)
        extra = f" {keyring_problem}" if isinstance(keyring_problem, str) else ""
        problem = MailError(NO_PASSWORD, f"No password for {mail.user} at {mail.host}: enter it in Settings.{extra}")
    if problem is not None:
        result = SyncResult(started_at=now(), finished_at=now(), error_kind=problem.kind, error_message=str(problem))
    else:
        result = sync_mailbox(db, mail, password, zone=settings.zone, now=now, timeout=timeout)
    return result, save_status(db, mail, result)
