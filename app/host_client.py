"""The window's side of the pipe to the database's process (`app.host`).

Nothing here opens the database: requests go down the pipe, answers and events come back. `call` waits
for its answer (reads that take milliseconds: the settings, an order's timeline); `send` does not (writes,
imports, the seller's marks, whose results arrive later as events). A reader thread takes everything
that comes back: answers wake their caller, events go to the `on_event` callback on that thread (the
window's callback turns them into Qt signals).

If the database's process ends unexpectedly, every waiting `call` fails at once with `HostGone` and
`on_event("host_stopped", message)` tells the window; nothing hangs.

The window starts the database's process before it loads Qt and its own modules (`start_database`), so
that the other core imports the host's modules and opens the database meanwhile: this module therefore
imports nothing of the host until a host is run in this process.
"""

from __future__ import annotations

import gc
import itertools
import logging
import multiprocessing
import operator
import pickle
import threading
import time
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass, fields, is_dataclass, replace
from multiprocessing.connection import Connection
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.host import HostOptions

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 60
LARGE_MESSAGE_BYTES = 1 << 20
# A list longer than this in a message goes in parts of this many (`InParts`): a part of triage items takes
# the window's reader thread a few milliseconds to unpickle.
PART_ITEMS = 400
# A process that closed its end of the pipe is ending: on a loaded machine its exit can take a few seconds.
EXIT_WAIT_S = 5
STOP_TIMEOUT_S = 120


class HostGone(Exception):
    """The database's process is not there (it stopped, or it did not answer in time)."""


class HostRefused(Exception):
    """The database's process answered with an error (an environment failure, said in words)."""


class HostClient:
    """Starts the database's process and talks to it.

    Args:
        options: the database file, clock and passwords for the process: a HostOptions, or its fields in a
            SimpleNamespace (`host_fields`: the process builds the HostOptions, so this one need not import the
            host).
        on_event: called on the reader thread with (name, args) for every event; None keeps the events
            until `receive_events` names the receiver (a start before the window exists).
        in_thread: run the same host on a thread of this process instead (tests with a clock they move).
    """

    def __init__(
        self,
        options: HostOptions | SimpleNamespace,
        on_event: Callable[[str, tuple], None] | None,
        *,
        in_thread: bool = False,
    ):
        self.options = options
        self.on_event = on_event
        self._held: list[tuple[str, tuple]] = []  # events that came before their receiver
        self._received = SentAgainstLast()
        self.in_thread = in_thread
        self._ids = itertools.count(1)
        self._waiting: dict[int, list] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._conn: Connection | None = None
        self._process = None
        self._host_thread: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._gone: str | None = None
        self.stopping = False

    # --- life cycle ------------------------------------------------------------------------------------------

    def start(self) -> None:
        ours, theirs = multiprocessing.Pipe(duplex=True)
        if self.in_thread:
            from app.host import DatabaseHost

            host = DatabaseHost(host_options(self.options), theirs)
            self._host_thread = threading.Thread(target=host.serve, name="database-host", daemon=True)
            self._host_thread.start()
        else:
            context = multiprocessing.get_context("spawn")  # never fork a process that has Qt and threads
            # Daemonic: should the window's process end without stopping it (an error before Quit), Python's
            # exit sends it SIGTERM, which it answers by finishing its queued writes, instead of waiting for ever.
            self._process = context.Process(target=serve, args=(self.options, theirs), name="ahm-database", daemon=True)
            self._process.start()
            theirs.close()  # only the child's copy stays open: its exit is then our EOF
        self._conn = ours
        self._reader = threading.Thread(target=self._read, name="database-events", daemon=True)
        self._reader.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Ask the process to finish its queued writes and end; wait for it (and make sure it has ended)."""
        if self._conn is None:
            return
        self.stopping = True
        try:
            if self._gone is None:
                self.call("shutdown", timeout=timeout)
        except (HostGone, HostRefused) as error:
            log.warning("the database process did not stop cleanly: %s", error)
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():  # never leave it behind: a hung child would hold the file for ever
                self._process.kill()
                self._process.join()
        if self._host_thread is not None:
            self._host_thread.join(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)  # the host closed its end: the reader has seen it, or sees it now
        self._conn.close()
        self._conn = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._gone is None and self._conn is not None

    # --- requests ------------------------------------------------------------------------------------------

    def call(self, name: str, *args, timeout: float = CALL_TIMEOUT_S):
        """Ask and wait for the answer. Raises HostRefused with the process's message, HostGone if it is not
        there."""
        return self.ask(name, *args)(timeout)

    def _answer(self, request_id: int, slot: list, timeout: float):
        if not slot[0].wait(timeout):
            with self._lock:
                self._waiting.pop(request_id, None)
            raise HostGone(f"the database process did not answer within {timeout:.0f} s")
        ok, value = slot[1], slot[2]
        if ok is None:
            raise HostGone(value)
        if not ok:
            raise HostRefused(value)
        return value

    def send(self, name: str, *args) -> None:
        """Ask without waiting; a failure comes back as a `job_failed` event."""
        self._send((None, name, args))

    def ask(self, name: str, *args) -> Callable[..., object]:
        """Ask now and wait for the answer later: the result, called (with an optional timeout), waits for
        the answer as `call` does. The window asks the database's process to open the file this way before
        it builds itself."""
        request_id = next(self._ids)
        slot: list = [threading.Event(), None, None]
        with self._lock:
            if self._gone is not None:
                raise HostGone(self._gone)
            self._waiting[request_id] = slot
        try:
            self._send((request_id, name, args))
        except HostGone:
            with self._lock:
                self._waiting.pop(request_id, None)
            raise
        return lambda timeout=CALL_TIMEOUT_S: self._answer(request_id, slot, timeout)

    def receive_events(self, on_event: Callable[[str, tuple], None]) -> None:
        """From now on events go to `on_event`; those that came before it go first, in their order."""
        with self._lock:
            held, self._held = self._held, []
            self.on_event = on_event
        for name, args in held:
            self._deliver(name, args)

    def _send(self, message: tuple) -> None:
        with self._send_lock:
            if self._conn is None or self._gone is not None:
                raise HostGone(self._gone or "the database process is not running")
            try:
                self._conn.send(message)
            except (OSError, ValueError) as error:
                self._lost(f"the database process cannot be reached ({error})")
                raise HostGone(self._gone) from None

    # --- what comes back -------------------------------------------------------------------------------------

    def _read(self) -> None:
        conn = self._conn
        while True:
            try:
                message = self._received.restored(receive(conn))
            except (EOFError, OSError):
                break
            except Exception:  # a message that cannot be read (a bug): the pipe can no longer be trusted
                log.exception("unreadable message from the database process")
                break
            if message[0] == "reply":
                _, request_id, ok, value = message
                with self._lock:
                    slot = self._waiting.pop(request_id, None)
                if slot is not None:
                    slot[1], slot[2] = ok, value
                    slot[0].set()
            else:
                _, name, args = message
                with self._lock:
                    if self.on_event is None:
                        self._held.append((name, args))
                        continue
                self._deliver(name, args)
        if self._process is not None:
            self._process.join(timeout=EXIT_WAIT_S)  # reaped, so its exit code is known
        code = self._process.exitcode if self._process is not None else None
        self._lost(f"the database process stopped unexpectedly (exit code {code})", tell=not self.stopping)

    def _deliver(self, name: str, args: tuple) -> None:
        try:
            self.on_event(name, args)
        except Exception:  # a broken receiver must not stop the answers from arriving
            log.exception("the window could not take the event %s", name)

    def _lost(self, message: str, tell: bool = True) -> None:
        """The process is gone: every waiting call fails now (a stop in progress too), and the window is told
        unless it is the one stopping it."""
        with self._lock:
            if self._gone is not None:
                return
            self._gone = message
            waiting, self._waiting = self._waiting, {}
        for slot in waiting.values():
            slot[1], slot[2] = None, message
            slot[0].set()
        if not tell:
            return
        with self._lock:
            if self.on_event is None:
                self._held.append(("host_stopped", (message,)))
                return
        try:
            self.on_event("host_stopped", (message,))
        except Exception:
            log.exception("the window could not be told that the database process stopped")


class InParts:
    """A long list of a message, pickled in parts apart. `pickle.loads` holds the GIL for the whole call, so a
    triage list of ten thousand items unpickled in one piece stops the window's GUI thread for 150 ms and more
    while the reader thread reads it; between two parts the reader runs Python again and lets it go."""

    def __init__(self, items: list):
        self.parts = [
            pickle.dumps(items[start : start + PART_ITEMS], protocol=pickle.HIGHEST_PROTOCOL)
            for start in range(0, len(items), PART_ITEMS)
        ]

    def joined(self) -> list:
        items: list = []
        for part in self.parts:
            items += pickle.loads(part)
            time.sleep(0)  # the GUI thread's turn, if it waits for the GIL
        return items


@dataclass(frozen=True)
class AsBefore:
    """A long list as its entries' keys in order, with only the entries new or changed since the list of the
    same kind sent before (`changed`)."""

    keys: list
    changed: list


def _clock_key(clock) -> tuple:
    return (clock.kind, clock.item_id, clock.marketplace)


# Event -> the field of its value sent against the last one, an entry's key, and whether an entry is unchanged.
# The worker keeps most triage items from one list to the next (the very objects); the clocks are counted
# anew each time, mostly equal. Pickling, sending and unpickling nine thousand of each after every mark was
# most of the window's wait for the list.
SENT_AGAINST_LAST = {
    "triage_ready": ("items", operator.attrgetter("key"), operator.is_),
    "state_ready": ("clocks", _clock_key, operator.eq),
}


def _sent_against_last(message: tuple) -> tuple | None:
    return SENT_AGAINST_LAST.get(message[1]) if message[0] == "event" else None


class SentAgainstLast:
    """The entries of the last triage list and the last state's clocks that crossed the pipe, by key, held on
    both sides of it: the database's process sends each against them (`shortened`, then `keep` once sent),
    the window's reader puts them back whole (`restored`). The pipe delivers every message, in order, so both
    hold the same entries."""

    def __init__(self):
        self.held: dict[str, dict] = {}

    def shortened(self, message: tuple) -> tuple[tuple, tuple | None]:
        """The message to send, and what to hold once it is sent (None: nothing changes)."""
        kind = _sent_against_last(message)
        if kind is None:
            return message, None
        name, key_of, unchanged = kind
        (value,) = message[2]
        entries = getattr(value, name)
        keys = [key_of(entry) for entry in entries]
        by_key = dict(zip(keys, entries, strict=True))
        if len(by_key) < len(keys):  # a key twice: sent whole
            return message, (message[1], {})
        before = self.held.get(message[1], {})
        missing = object()
        changed = [
            entry for key, entry in zip(keys, entries, strict=True) if not unchanged(before.get(key, missing), entry)
        ]
        sent = copy(value)
        object.__setattr__(sent, name, AsBefore(keys, changed))  # this copy is the sender's own
        return ("event", message[1], (sent,)), (message[1], by_key)

    def keep(self, held: tuple | None) -> None:
        if held is not None:
            event, by_key = held
            self.held[event] = by_key

    def restored(self, message: tuple) -> tuple:
        """A message as it was before `shortened` (the value is this reader's own, just unpickled)."""
        kind = _sent_against_last(message)
        if kind is None:
            return message
        name, key_of, _ = kind
        (value,) = message[2]
        entries = getattr(value, name)
        if not isinstance(entries, AsBefore):
            self.held[message[1]] = {}
            return message
        before = self.held.get(message[1], {})
        changed = {key_of(entry): entry for entry in entries.changed}
        whole = [changed[key] if key in changed else before[key] for key in entries.keys]
        self.held[message[1]] = dict(zip(entries.keys, whole, strict=True))
        object.__setattr__(value, name, whole)
        return message


def in_parts(message: tuple) -> tuple:
    """`message` with every long list of the dataclasses it carries (and theirs, one level down: the state in
    the start's view) in parts. What is sent is copied, never changed: the sender keeps using it."""
    return tuple(_split(value, depth=2) for value in message)


def _split(value, depth: int):
    if type(value) is tuple:  # a named tuple stays whole, as it was sent
        return tuple(_split(each, depth) for each in value)
    if depth == 0 or not is_dataclass(value) or isinstance(value, type):
        return value
    changed = {}
    for field in fields(value):
        inner = getattr(value, field.name)
        if isinstance(inner, list) and len(inner) > PART_ITEMS:
            changed[field.name] = InParts(inner)
        elif is_dataclass(inner) and not isinstance(inner, type):
            split = _split(inner, depth - 1)
            if split is not inner:
                changed[field.name] = split
    if not changed:
        return value
    sent = copy(value)
    for name, inner in changed.items():
        object.__setattr__(sent, name, inner)  # frozen dataclasses too: this copy is the sender's own
    return sent


def _join(value, depth: int = 3) -> None:
    """Put the lists `in_parts` split back in place (the values are this reader's own, just unpickled)."""
    if isinstance(value, tuple):
        for each in value:
            _join(each, depth)
        return
    if depth == 0 or not is_dataclass(value) or isinstance(value, type):
        return
    for field in fields(value):
        inner = getattr(value, field.name)
        if isinstance(inner, InParts):
            object.__setattr__(value, field.name, inner.joined())
        else:
            _join(inner, depth - 1)


def receive(conn: Connection):
    """The next message, unpickled with the garbage collector paused: a triage list of tens of thousands of
    items is a million new objects, and the collections they set off would each rescan them all, holding
    the GIL (and so the window) for a hundred milliseconds and more. A large message's objects are then kept
    out of later full collections, as the window keeps what it shows (plain data: freed when replaced). Its
    long lists come in parts (`InParts`), unpickled one at a time so that the window keeps its turns."""
    data = conn.recv_bytes()
    collecting = gc.isenabled()
    gc.disable()
    try:
        message = pickle.loads(data)
        _join(message)
    finally:
        if collecting:
            gc.enable()
    if len(data) >= LARGE_MESSAGE_BYTES:
        gc.freeze()
    return message


def host_fields(db_path: str, **options) -> SimpleNamespace:
    """HostOptions' fields, read as its attributes are (`options.passwords`), without importing the host."""
    return SimpleNamespace(db_path=str(db_path), **options)


def host_options(options: HostOptions | SimpleNamespace) -> HostOptions:
    from app.host import HostOptions

    return options if isinstance(options, HostOptions) else HostOptions(**vars(options))


def serve(options: HostOptions | SimpleNamespace, conn: Connection) -> None:
    """The database process's main, by way of this light module: the host's modules load in that process."""
    from app.host import run_process

    run_process(host_options(options), conn)


@dataclass(frozen=True)
class EarlyStart:
    """The database's process started before the window exists, and the answers the window will want first,
    asked for at once so that the process works on them while the window's process loads and builds: the
    opening and the view the window starts with. The background work (the figures, the clocks, the mail and
    Amazon pulls) is asked for only once this start is known to keep the database (`keep`): a second monitor
    started at the same moment hands over to the first, and its process must not have recorded alerts
    nobody sees, nor pulled from Amazon, by then."""

    client: HostClient
    opened: Callable[..., object]
    startup_view: Callable[..., object]
    running: Callable[..., object] | None = None

    @property
    def db_path(self) -> str:
        return self.client.options.db_path

    def keep(self) -> EarlyStart:
        """This start is the monitor on its database (its single-instance claim succeeded): the background
        work starts now, while the window builds. The process refuses it if the file did not open."""
        return replace(self, running=self.client.ask("start"))

    def stop(self) -> None:
        """Not needed after all (the start went another way): the process ends."""
        self.client.stop()


def start_database(db_path: str, **options) -> EarlyStart:
    """Start the database's process for `db_path` and ask it to open the file and read the start's view,
    without waiting: the window's process loads Qt and builds the window meanwhile. `options`: HostOptions'
    other fields. Its events are held until the window takes them (`HostClient.receive_events`), after it
    has shown the start's view."""
    client = HostClient(host_fields(db_path, **options), None)
    client.start()
    return EarlyStart(client, client.ask("open"), client.ask("startup_view"))
