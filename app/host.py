"""The database's process: the only process of the app that opens the seller's SQLite file.

Why a process of its own: SQLite's locks are POSIX advisory locks, held by the process, and *any*
`close()` of *any* descriptor of the database or its `-wal`/`-shm` file drops all of them
(sqlite.org/howtocorrupt.html §2.2). The window's process cannot promise never to open those files: Qt's
file dialog sniffs every file it lists, drag-and-drop and icon providers read content. A dialog listing the
database's folder would silently strip the locks of a connection in the same process, and the next writer
would rebuild the WAL index under it ("database disk image is malformed"). So the window's process holds
no connection at all, and this process, which shows no dialog and opens no file but the seller's reports,
owns every one.

The window talks to it over one pipe (`app.host_client.HostClient`): requests go in (`call` with an id
waits for its answer; `send` without one does not), and results come out as events (the figures, an
import's progress, an alert). Here a reader thread takes each request; the scheduler's worker threads do
the database jobs (`app.scheduler.MonitorScheduler`) and report through `PipeEvents`.

The same `DatabaseHost` also runs on a thread of the caller's process (`HostClient.in_thread`): the
window's tests use it with a clock they move by hand. It is the same code on the same pipe; only the
isolation from the window's file descriptors is missing there, which is why the app itself never uses it.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path

from app import demo_state, mailsync, reply_templates, services
from app.host_client import SentAgainstLast, in_parts
from app.imports import FileResult
from app.settings import load_settings, save_setting
from app.timeline import order_timeline
from storage import StorageError, open_db
from storage.db import check_usable
from storage.transaction import write_transaction

log = logging.getLogger(__name__)

TRAY_NOTICE_KEY = "state.tray_notice_shown"

# What the window may ask for. Anything else is a bug in the window and is answered as one.
REQUESTS = frozenset(
    {
        "open",
        "start",
        "shutdown",
        "startup_view",
        "settings_view",
        "demo_active",
        "timeline",
        "matrix",
        "reply_facts",
        "tray_notice_shown",
        "check_database",
        "refresh_now",
        "submit",
        "submit_import",
        "cancel_import",
        "recompute_soon",
        "pause_alerts",
        "resume_alerts",
        "sync_now",
        "save_settings",
        "check_mailbox",
        "amazon_test",
        "amazon_save",
        "amazon_pull_now",
        "amazon_status",
        "ping",
    }
)


@dataclass(frozen=True)
class HostOptions:
    """How the database's process is set up (sent to it when it starts, so everything here pickles)."""

    db_path: str
    now: Callable[[], float] = time.time
    passwords: mailsync.PasswordStore | None = None
    load_demo_if_empty: bool = False
    check_seconds: float = 30
    recompute_minutes: float = 5


# What the window hears about the Amazon pull (`job_finished` with an AmazonProgress after every step).
AMAZON_PULL = "Pulling reports from Amazon"
AMAZON_KEYS = ("amazon_region", "amazon_marketplaces", "amazon_pull_hours", "amazon_endpoint", "amazon_token_endpoint")
SECRETS_KEPT = "Kept in the system keyring (never in the database); type a new one here to replace it."
SECRETS_MISSING = "Paste the three values from Developer Central (LWA credentials, and Authorize for the token)."
SECRETS_FROM_ENVIRONMENT = (
    "Taken from AHM_LWA_CLIENT_ID, AHM_LWA_CLIENT_SECRET and AHM_LWA_REFRESH_TOKEN (never stored)."
)
SECRETS_UNAVAILABLE = "The LWA secrets are not available: paste them again in Settings → Amazon connection."
SECRETS_FORGOTTEN = "Saved: not connected to Amazon; the LWA client id, client secret and refresh token are forgotten."
# Whether the three secrets are in the system keyring (a flag, never a secret): the window's note reads it
# instead of the keyring, whose unlock prompt would hold the window's request until it is answered.
AMAZON_SECRETS_KEY = "state.amazon_secrets_saved"


@dataclass(frozen=True)
class AmazonReport:
    """One report kind of one marketplace as the window shows it (plain values: the window's process never
    loads the SP-API client library)."""

    kind: str
    marketplace: str
    state: str
    last_pulled_at: float | None
    next_at: float | None
    last_error: str | None
    failing_since: float | None


@dataclass(frozen=True)
class AmazonProgress:
    """How the Amazon pull stands after one step: every report, and what this pull has done so far.

    `imported`: reports imported since the pull began; `errors`: this step's sentences; `busy`: reports are
    still being requested or prepared. How long each report has failed is in `reports` (`failing_since`).
    """

    reports: list
    imported: int
    errors: list
    busy: bool
    at: float
    next_pull_at: float | None = None  # the next scheduled pull, on the same clock as `at`


@dataclass(frozen=True)
class AmazonView:
    """Settings → Amazon connection on opening: the note beside the secrets, and each report's state."""

    secret_note: str
    reports: list
    next_pull_at: float | None = None


@dataclass(frozen=True)
class AmazonAnswer:
    """The answer of Test connection, or of saving the connection, in one sentence."""

    ok: bool
    message: str


@dataclass(frozen=True)
class StartupView:
    """What the window shows before the first recomputation ends: the settings and the last figures."""

    settings: object
    demo_active: bool
    password_note: str
    sync_status: object | None
    last_state: services.MonitorState | None


class PipeEvents:
    """The scheduler's Listener and AlertSink: each call goes to the window as an event on the pipe."""

    def __init__(self, send: Callable[[tuple], None]):
        self._send = send

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self._send(("event", name, args))


class DatabaseHost:
    """Answers the window's requests on a pipe; owns the database, the scheduler and the passwords."""

    def __init__(self, options: HostOptions, conn: Connection):
        self.options = options
        self.db_path = Path(options.db_path)
        self.now = options.now
        self.conn = conn
        self._send_lock = threading.Lock()
        self._sent = SentAgainstLast()
        self.events = PipeEvents(self.send)
        self.passwords = options.passwords or mailsync.Passwords()
        self.scheduler = None
        self._prepared = None  # the scheduler made at `open`, its figures computing before `start` keeps it
        self._reads = None  # the connection for the window's reads: opened by `open`, used on the serve thread
        self._import_cancel = threading.Event()
        self._done = threading.Event()
        self.terminate_requested = False

    # --- the pipe ------------------------------------------------------------------------------------------

    def send(self, message: tuple) -> None:
        with self._send_lock:
            held = None
            try:
                # Pickled whole before a byte is written: a value that cannot be sent never leaves half a
                # message on the pipe.
                shortened, held = self._sent.shortened(message)
                payload = pickle.dumps(in_parts(shortened), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # a bug: the window is told, in place of the value
                log.exception("could not send %s", message[:2])
                payload, held = pickle.dumps(_unsendable(message, error)), None
            try:
                self.conn.send_bytes(payload)
            except (OSError, EOFError, ValueError):  # the window has gone: nobody left to tell
                self._done.set()
                return
            self._sent.keep(held)

    def serve(self, wake: socket.socket | None = None) -> None:
        """Take requests until the window says shutdown or goes away (its end of the pipe closes), or this
        process is asked to end (`terminate_requested`, set by the SIGTERM handler of `run_process`, which
        also writes to `wake` so the wait ends at once)."""
        waiting_on = [self.conn] if wake is None else [self.conn, wake]
        try:
            while not self._done.is_set():
                ready = wait(waiting_on)
                if wake in ready:
                    drain(wake)
                if self.terminate_requested:
                    log.info("asked to end: stopping after the queued writes")
                    break
                if self.conn not in ready:
                    continue
                try:
                    request_id, name, args = self.conn.recv()
                except (EOFError, OSError):
                    log.info("the window has gone: stopping")
                    break
                self._answer(request_id, name, args)
        finally:
            self._stop()
            self.conn.close()  # the window's reader sees the end

    def _answer(self, request_id, name: str, args: tuple) -> None:
        try:
            if name not in REQUESTS:
                raise ValueError(f"unknown request {name!r}")
            value = getattr(self, name)(*args)
            ok = True
        except (StorageError, OSError) as error:  # the environment failed: a message for the seller
            value, ok = str(error), False
        except Exception as error:  # a bug: logged here with its traceback; the window says it was not done
            log.exception("%s failed", name)
            value, ok = f"an internal error ({type(error).__name__}: {error})", False
        if request_id is not None:
            self.send(("reply", request_id, ok, value))
        elif not ok:  # the window's own words for the work (`what`) when the request carries them
            self.events.job_failed(args[0] if args and isinstance(args[0], str) else name, value)

    # --- life cycle -------------------------------------------------------------------------------------------

    def open(self) -> str:
        """Open (creating or migrating) the database, with the demo seller on an empty one when asked.

        The connection stays open for the window's reads for as long as the app runs: its locks live here,
        in the one process that never shows a file dialog.
        """
        if self._reads is None:
            self._reads = open_db(self.db_path)
            if self.options.load_demo_if_empty:
                _load_demo_if_empty(self._reads)
            self._prepared = self._new_scheduler()
            if not services.has_last_state(self._reads):  # a first start: no saved figures to show meanwhile
                self._prepared.prepare()
        return str(self.db_path)

    def start(self) -> None:
        """The background work. Never on a file that did not open: the scheduler would wait the busy timeout
        again on a locked one, and alert behind a window that is about to say it cannot start."""
        if self._reads is None:
            raise StorageError("The database is not open.")
        self.scheduler, self._prepared = self._prepared or self._new_scheduler(), None
        self.scheduler.start()

    def _new_scheduler(self):
        from app.scheduler import MonitorScheduler

        return MonitorScheduler(
            self.db_path,
            self.events,
            self.events,
            now=self.now,
            passwords=self.passwords,
            check_seconds=self.options.check_seconds,
            recompute_minutes=self.options.recompute_minutes,
        )

    def shutdown(self) -> None:
        """Cancel a running import, let queued writes finish, then stop taking requests."""
        self._stop()

    def _stop(self) -> None:
        self._import_cancel.set()
        scheduler, self.scheduler = self.scheduler or self._prepared, None
        self._prepared = None
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if self._reads is not None:
            self._reads.close()
            self._reads = None
        self._done.set()

    def ping(self) -> int:
        return os.getpid()

    # --- reads for the window ------------------------------------------------------------------------------

    def _read(self, job: Callable):
        if self._reads is None:
            raise StorageError("The database is not open.")
        return job(self._reads)

    def startup_view(self) -> StartupView:
        def read(db) -> StartupView:
            status = mailsync.load_status(db)
            return StartupView(
                settings=services.load_settings(db),
                demo_active=demo_state.is_active(db),
                password_note=self._password_note(),
                sync_status=status if status.last_attempt_at is not None else None,
                last_state=services.load_last_state(db),
            )

        return self._read(read)

    def settings_view(self) -> tuple:
        return self._read(lambda db: (services.load_settings(db), demo_state.is_active(db), self._password_note()))

    def _password_note(self) -> str:
        return (
            self.passwords.problem
            or "Kept in the system keyring (never in the database); type a new one here to replace it."
        )

    def demo_active(self) -> bool:
        return self._read(demo_state.is_active)

    def timeline(self, order_id: str):
        def read(db):
            zone = load_settings(db).zone
            return order_timeline(db, order_id, zone), zone

        return self._read(read)

    def matrix(self):
        return self._read(services.get_matrix)

    def reply_facts(self, clock) -> reply_templates.ReplyFacts:
        return self._read(lambda db: reply_templates.reply_facts(db, clock))

    def tray_notice_shown(self) -> bool:
        return self._read(
            lambda db: db.execute("SELECT 1 FROM settings WHERE key = ?", [TRAY_NOTICE_KEY]).fetchone() is not None
        )

    def check_database(self, path: str) -> None:
        """Refuse now a file that is not a database of this app (or a folder where none can be created),
        before the seller switches to it; nothing in the file is changed."""
        check_usable(path)

    def refresh_now(self):
        """The figures and the triage list computed right here (the window's screenshot command)."""

        def read(db):
            state = services.refresh(db, self.now)
            return state, services.load_triage(db, state.computed_at, settings=state.settings, clocks=state.clocks)

        return self._read(read)

    # --- work for the scheduler's worker -------------------------------------------------------------------

    def _scheduler(self):
        if self.scheduler is None:
            raise StorageError("The monitor is not running its background work.")
        return self.scheduler

    def submit(self, what: str, action: Callable, args: tuple, recompute: bool = True) -> None:
        self._scheduler().submit(what, action, *args, recompute=recompute)

    def submit_import(self, paths: list[str], marketplace: str | None = None) -> None:
        """Import the files, rows of orders not imported yet given `marketplace` (None: the home one); a
        refusal to start is said file by file too, since the Import dialog waits for a result."""
        self._import_cancel = threading.Event()
        try:
            self._scheduler().submit_import(paths, self._import_cancel.is_set, marketplace)
        except StorageError as error:
            self.events.import_finished([FileResult(Path(path).name, "refused", message=str(error)) for path in paths])

    def cancel_import(self) -> None:
        self._import_cancel.set()

    def recompute_soon(self) -> None:
        self._scheduler().recompute_soon()

    def pause_alerts(self, seconds: float) -> None:
        self._scheduler().pause_alerts(seconds)

    def resume_alerts(self) -> None:
        self._scheduler().resume_alerts()

    def sync_now(self) -> None:
        self._scheduler().sync_now()

    def save_settings(self, what: str, values: dict, typed_password: str) -> None:
        self._scheduler().submit(what, save_all_settings, values, self.passwords, typed_password, self._scheduler())

    def check_mailbox(self, what: str, settings: mailsync.MailSettings, typed_password: str) -> None:
        self._scheduler().submit(what, check_mailbox, self.passwords, settings, typed_password, recompute=False)

    def amazon_test(self, what: str, values: dict, typed: dict) -> None:
        """Test connection on the worker: the only thread that uses the client library's token cache."""
        self._scheduler().submit(what, test_amazon, self.passwords, values, typed, recompute=False)

    def amazon_save(self, what: str, values: dict, typed: dict) -> None:
        self._scheduler().submit(what, save_amazon, values, typed, self.passwords, self._scheduler(), recompute=False)

    def amazon_pull_now(self) -> bool:
        """Start a pull now; False when no connection is set up."""
        return self._scheduler().pull_amazon_now()

    def amazon_status(self) -> AmazonView:
        def read(db) -> AmazonView:
            settings = load_settings(db)
            if not settings.amazon_region:  # never connected: the client library is not even loaded
                return AmazonView(SECRETS_MISSING, [])
            return AmazonView(
                secret_note=self._secret_note(db),
                reports=amazon_reports(db),
                next_pull_at=self.scheduler.next_amazon_pull_at() if self.scheduler else None,
            )

        return self._read(read)

    def _secret_note(self, db) -> str:
        """Where the secrets are (never what they are), without reading them: only the worker does that."""
        from app import spapi

        if spapi.credentials_from_environment(os.environ) is not None:
            return SECRETS_FROM_ENVIRONMENT
        if self.passwords.problem:
            return self.passwords.problem
        return SECRETS_KEPT if amazon_secrets_saved(db) else SECRETS_MISSING


# --- the writes the window asks for (run on the scheduler's worker with its connection) -----------------------


def save_all_settings(db, values: dict, passwords, typed_password: str, scheduler) -> None:
    """Write the settings, keep a newly typed mailbox password (keyring, or this session), then let the
    mailbox and watched-folder jobs follow the new settings."""
    with write_transaction(db):
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


def test_amazon(db, passwords, values: dict, typed: dict) -> AmazonAnswer:
    """Test connection with the form's settings and the secrets just typed (else the saved ones)."""
    from app import spapi

    settings = replace(load_settings(db), **values)
    saved = spapi.stored_credentials(passwords, settings.amazon_connection_id)
    environment = spapi.credentials_from_environment(os.environ)
    known = environment or saved
    secrets = {name: typed.get(name) or (getattr(known, name) if known else "") for name in spapi.SECRET_NAMES}
    connection = spapi.Connection(
        region=settings.amazon_region,
        marketplaces=tuple(settings.amazon_marketplaces),
        endpoint=settings.amazon_endpoint,
        token_endpoint=settings.amazon_token_endpoint,
        credentials=spapi.Credentials(**secrets),
    )
    try:
        return AmazonAnswer(True, spapi.test_connection(connection))
    except spapi.AmazonProblem as problem:
        return AmazonAnswer(False, problem.sentence)


def save_amazon(db, values: dict, typed: dict, passwords, scheduler) -> AmazonAnswer:
    """Write the connection's settings, keep the secrets typed in the keyring (under this account's
    connection id, made on the first save), then pull at once when the connection is complete."""
    from app import spapi

    values = {key: values[key] for key in AMAZON_KEYS if key in values}
    with write_transaction(db):
        # Region and marketplaces are checked against each other as each is written: empty the list first,
        # so a move to another region is not refused half-way.
        save_setting(db, "amazon_marketplaces", [])
        for key, value in values.items():
            save_setting(db, key, value)
        connection_id = load_settings(db).amazon_connection_id
        if not connection_id:
            connection_id = spapi.new_connection_id()
            save_setting(db, "amazon_connection_id", connection_id)
    if not load_settings(db).amazon_region:
        return _disconnect_amazon(db, connection_id, passwords, scheduler)
    spapi.store_credentials(passwords, connection_id, **typed)
    saved = spapi.stored_credentials(passwords, connection_id) is not None
    note_amazon_secrets_saved(db, saved and getattr(passwords, "remembered", True))
    if not saved and spapi.credentials_from_environment(os.environ) is None:
        return AmazonAnswer(False, "Saved, but not connected yet: the three LWA values are all needed.")
    scheduler.apply_amazon_settings()
    where = "" if getattr(passwords, "remembered", True) else " (secrets kept for this session only)"
    return AmazonAnswer(True, f"Saved{where}; asking Amazon for the reports now.")


def _disconnect_amazon(db, connection_id: str, passwords, scheduler) -> AmazonAnswer:
    """Not connected: the secrets leave the keyring too, since nothing else in the app could remove them."""
    from app import spapi

    spapi.forget_credentials(passwords, connection_id)
    note_amazon_secrets_saved(db, False)
    scheduler.apply_amazon_settings()
    problem = getattr(passwords, "problem", None)
    # Without any keyring they lived in this session's memory only, and are gone; a keyring that failed
    # (locked, refused) may still hold them.
    if problem and problem != mailsync.KeyringPasswords.NO_KEYRING:
        return AmazonAnswer(
            False, f"Saved: not connected to Amazon, but the LWA secrets may still be in the system keyring: {problem}"
        )
    return AmazonAnswer(True, SECRETS_FORGOTTEN)


def amazon_secrets_saved(db) -> bool:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [AMAZON_SECRETS_KEY]).fetchone()
    return row is not None and json.loads(row[0]) is True


def note_amazon_secrets_saved(db, saved: bool) -> None:
    """Keep the flag `amazon_secrets_saved` reads (written only when it changes: the worker checks it often)."""
    from storage.settings import write_setting

    if amazon_secrets_saved(db) != saved:
        with write_transaction(db):
            write_setting(db, AMAZON_SECRETS_KEY, saved)


def amazon_reports(db) -> list[AmazonReport]:
    from app import amazon_pull

    return [
        AmazonReport(
            kind=report.kind,
            marketplace=report.marketplace,
            state=report.state,
            last_pulled_at=report.last_pulled_at,
            next_at=report.next_at,
            last_error=report.last_error,
            failing_since=report.failing_since,
        )
        for report in amazon_pull.report_status(db)
    ]


def figures_as_of(db, day, at: float) -> services.MonitorState:
    """The figures and charts as they stood at the end of a past day (the dashboard's as-of picker)."""
    return services.state_as_of(db, day, at)


def save_report(db, listing, path: str) -> str:
    services.save_triage_html(db, listing, path)
    return path


def save_matrix(db, entries) -> None:
    with write_transaction(db):
        for entry in entries:
            services.save_matrix_entry(
                db,
                entry.category,
                entry.action,
                entry.who,
                entry.response_hours,
                entry.amount,
                entry.case,
                template=entry.template,
            )


def save_tray_notice(db) -> None:
    from storage.settings import write_setting

    write_setting(db, TRAY_NOTICE_KEY, True)


def _load_demo_if_empty(db) -> None:
    from app.demo import load_demo

    if not services.load_settings(db).demo_on_empty or demo_state.has_data(db):
        return
    try:
        # Looked at again under the write lock: two monitors started at once on a new file both get here,
        # and the second, once the first has put the demo seller in, leaves it as it is.
        with write_transaction(db):
            if not demo_state.has_data(db):
                load_demo(db)
    except Exception:  # the demo is a courtesy: without it the app starts empty, never not at all
        log.exception("the demo data could not be loaded")


# --- the process itself --------------------------------------------------------------------------------------


def run_process(options: HostOptions, conn: Connection) -> None:
    """The database process's main: serve the window until it says stop or goes away.

    Ctrl+C in a terminal reaches every process of the group: this one leaves it to the window, which asks
    it to stop once its queued writes are done. SIGTERM sent to this process alone (a logout, `kill`) ends it
    the same careful way: cancel the import, finish the queued writes, exit.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s database process: %(message)s")
    host = DatabaseHost(options, conn)
    # The handler only sets a flag: raising from it could cut a write to the pipe or a shutdown in half.
    # The wake-up socket ends the wait on the pipe at once.
    wake = signal_wake_socket()
    signal.signal(signal.SIGTERM, lambda *_: setattr(host, "terminate_requested", True))
    host.serve(wake)


def signal_wake_socket() -> socket.socket:
    """A socket that becomes readable whenever a signal arrives (Python's C-level handler writes to its other
    end), for a process whose main thread waits in a loop that Python's own handlers cannot interrupt."""
    readable, written = socket.socketpair()
    for end in (readable, written):
        end.setblocking(False)
    signal.set_wakeup_fd(written.fileno())
    _WAKE_ENDS.append(written)  # the signal module keeps only its number: the socket must stay open
    return readable


_WAKE_ENDS: list[socket.socket] = []


def drain(sock: socket.socket) -> None:
    """Read what the signals wrote, so the socket waits for the next one."""
    try:
        while sock.recv(64):
            pass
    except BlockingIOError:
        pass


def _unsendable(message: tuple, error: Exception) -> tuple:
    """What goes to the window instead of a message whose value cannot be pickled (a bug)."""
    if message[0] == "reply":
        return ("reply", message[1], False, f"an internal error: the answer could not be sent ({error})")
    return ("event", "job_failed", (str(message[1]), f"an internal error: the result could not be sent ({error})"))
