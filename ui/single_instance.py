"""One monitor per database: a second start brings the running window forward instead.

Two monitors on one database would alert twice and race each other's imports, so the first window listens
on a local socket (QLocalServer) named after the user and the database file; a second start on the same
file connects, asks the running window to show itself (passing the files it was given to import), and
exits. Another database file is another name: a second monitor on it is allowed.

The name is a socket in the user's private runtime folder where there is one ($XDG_RUNTIME_DIR), else a
name Qt places in the temporary folder (Windows: a named pipe) with the user's name in it; either way only
this user may connect. A monitor that crashed leaves its socket behind: nobody answers on it, so it is
removed and the new start listens there. A lock file around the check makes two starts at the same instant
take turns, so exactly one of them listens.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import hashlib
import json
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, QSettings, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app import accounts
from app.autostart import APP_NAME
from storage.db import APP_NAME as ORGANIZATION
from storage.db import DB_ENV, default_db_path

log = logging.getLogger(__name__)

PREFIX = "account-health-monitor"
CONNECT_MS = 1000
# The running window answers from its event loop, which may still be opening the database (a migration):
# the request waits in the socket for it, so a slow answer is not a failure.
ANSWER_MS = 2000
LOCK_MS = 10000
MAX_REQUEST = 1 << 20
SOCKET_PATH_MAX = 100  # a Unix socket's path holds 104 (macOS) to 108 (Linux) bytes
ALREADY_RUNNING = "Account Health Monitor is already running on {path}: its window is brought forward."


def database_path(args: argparse.Namespace, settings: QSettings) -> Path:
    """`--db`, then `--account`, then the account used last (`app.accounts`), then `$AHM_DB`, then the file
    chosen in Settings, then the platform's data folder."""
    account = getattr(args, "account", None)
    if args.db and account:
        raise accounts.AccountError("--db and --account both name a database: give one of them.")
    if args.db:
        return Path(args.db)
    if account or accounts.load_accounts().registered:
        return accounts.choose_database(None, account)
    if os.environ.get(DB_ENV):
        return default_db_path()
    chosen = settings.value("database/path")
    return Path(chosen) if chosen else default_db_path()


def one_database(args: argparse.Namespace) -> Path | None:
    """The database of a start that opens one seller's window, read as `handed_over` reads it; None when
    several seller accounts may open (`ui.accounts_app`) or the options are wrong (the start says why)."""
    try:
        if not args.db and accounts.load_accounts().registered:
            return None
        return database_path(args, QSettings(ORGANIZATION, APP_NAME))
    except accounts.AccountError:
        return None


def handed_over(args: argparse.Namespace) -> bool:
    """Before the window's modules load (seconds): when a monitor already runs on this start's database,
    ask it to come forward and say so; True then, and this start ends. The app's settings are read by name
    here (the window sets the same names on its QApplication), since no QApplication exists yet."""
    try:
        path = database_path(args, QSettings(ORGANIZATION, APP_NAME))
    except accounts.AccountError:  # the window's start says why, in a message box a login start shows too
        return False
    files = [str(file) for file in getattr(args, "open", None) or []]
    if ask_running(instance_name(path), files) is None:
        return False
    print(ALREADY_RUNNING.format(path=path.absolute()))
    return True


def instance_name(db_path: Path, *, user: str | None = None, runtime_dir: str | None = None) -> str:
    """The local socket's name for this user and this database file (however the path was written)."""
    resolved = str(Path(db_path).expanduser().resolve())
    digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:16]
    runtime = os.environ.get("XDG_RUNTIME_DIR", "") if runtime_dir is None else runtime_dir
    private = os.path.join(runtime, f"{PREFIX}-{digest}") if runtime else ""
    if os.name == "posix" and runtime and os.path.isdir(runtime) and len(private.encode()) < SOCKET_PATH_MAX:
        return private
    return f"{PREFIX}-{_safe(user or _user_name())}-{digest}"


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container): its number does
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)[:32]


class RunningInstance(QObject):
    """The first monitor on a database: answers later starts on the same file.

    `activated` carries the files a later start was given (often none): show the window, import them.
    """

    activated = Signal(list)

    def __init__(self, server: QLocalServer | None):
        super().__init__()
        self.server = server  # None: no socket could be made; this monitor runs without answering others
        self._received: dict[QLocalSocket, bytearray] = {}
        if server is not None:
            server.setParent(self)
            server.newConnection.connect(self._accept)

    @property
    def name(self) -> str:
        return self.server.serverName() if self.server is not None else ""

    def close(self) -> None:
        for socket in list(self._received):
            self._forget(socket)
            socket.abort()
        if self.server is not None:
            self.server.close()

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._received[socket] = bytearray()
            socket.readyRead.connect(functools.partial(self._read, socket))
            socket.disconnected.connect(functools.partial(self._closed, socket))
            # A request sent just before its sender exited is already waiting: read it now.
            self._read(socket)

    def _closed(self, socket: QLocalSocket) -> None:
        if socket.isOpen() and socket.bytesAvailable():
            self._read(socket)
        self._forget(socket)

    def _forget(self, socket: QLocalSocket) -> None:
        # Its handlers go before the socket does: PySide crashes later on a deleted socket still connected.
        self._received.pop(socket, None)
        socket.readyRead.disconnect()
        socket.disconnected.disconnect()
        socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        received = self._received.get(socket)
        if received is None or not socket.isOpen():
            return
        received += bytes(socket.readAll().data())
        if b"\n" not in received:
            if len(received) > MAX_REQUEST:
                socket.abort()
            return
        line = bytes(received).split(b"\n", 1)[0]
        received.clear()
        files = parse_request(line)
        if files is None:
            log.warning("a later start sent a request this monitor does not understand: %r", line[:200])
            socket.disconnectFromServer()
            return
        log.info("brought forward by a later start on the same database (%d file(s) to import)", len(files))
        if socket.state() == QLocalSocket.LocalSocketState.ConnectedState:
            socket.write(b"ok\n")
            socket.flush()
        self.activated.emit(files)


def request_line(files: Sequence[str]) -> bytes:
    return json.dumps({"request": "show", "files": [str(Path(f).absolute()) for f in files]}).encode() + b"\n"


def parse_request(line: bytes) -> list[str] | None:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(request, dict) or request.get("request") != "show":
        return None
    files = request.get("files", [])
    if not isinstance(files, list) or not all(isinstance(item, str) for item in files):
        return None
    return files


def ask_running(name: str, files: Sequence[str] = ()) -> bool | None:
    """Ask the monitor listening on `name` to come forward.

    Returns:
        True when it confirmed, False when it took the request but has not answered yet (still starting),
        None when no monitor listens there (none runs, or one crashed and left its socket).
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_MS):
        return None
    socket.write(request_line(files))
    socket.waitForBytesWritten(CONNECT_MS)
    answered = socket.waitForReadyRead(ANSWER_MS) and bytes(socket.readAll().data()).startswith(b"ok")
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(CONNECT_MS)
    return answered


def is_running(db_path: Path) -> bool:
    """Whether a monitor runs on the database: it listens on its name (nothing is asked of it)."""
    socket = QLocalSocket()
    socket.connectToServer(instance_name(Path(db_path)))
    connected = socket.waitForConnected(CONNECT_MS)
    socket.abort()
    return connected


def claim(name: str, files: Sequence[str] = ()) -> RunningInstance | bool:
    """Listen on `name` as the one monitor on its database, or hand over to the one already listening.

    Returns:
        The RunningInstance when this start is the first; else what `ask_running` said (True or False): the
        running monitor has the request and this start should exit.

    Raises:
        OSError: the socket could not be made (the reason in words).
    """
    lock = QLockFile(os.path.join(QDir.tempPath(), f"{PREFIX}-{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"))
    if not lock.tryLock(LOCK_MS):  # the other start is stuck: go on without taking turns rather than not start
        log.warning("could not take the start lock %s", lock.fileName())
    try:
        answer = ask_running(name, files)
        if answer is not None:
            return answer
        return RunningInstance(listen(name))
    finally:
        lock.unlock()


def start(db_path: Path, files: Sequence[str] = ()) -> RunningInstance | None:
    """The window's start on `db_path`: this monitor's RunningInstance, or None when one already runs on
    the database and has been asked to come forward (this start then ends, having said so in one line)."""
    name = instance_name(db_path)
    try:
        answer = claim(name, files)
    except OSError as error:  # two monitors are worse than one, but no monitor is worse still
        log.warning("%s; a later start on this database will not find this one", error)
        return RunningInstance(None)
    if isinstance(answer, RunningInstance):
        return answer
    print(ALREADY_RUNNING.format(path=Path(db_path).absolute()))
    return None


def bring_forward(desktop, files: list[str]) -> None:
    """What a later start asked for: the window in front (from the tray too), then its files imported."""
    desktop.window.bring_to_front()
    if files:
        desktop.import_paths(files)


def listen(name: str) -> QLocalServer:
    server = QLocalServer()
    server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
    if not server.listen(name):
        # Nobody answered on it (checked just before): a monitor that crashed left its socket. Remove it.
        QLocalServer.removeServer(name)
        if not server.listen(name):
            raise OSError(f"could not listen on {name}: {server.errorString()}")
    log.info("listening for later starts on %s", server.fullServerName())
    return server
