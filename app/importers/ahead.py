"""A large All Orders report read in a process of its own, while the importer writes what it has read.

Reading a row (splitting, checking and converting its cells) and writing it (SQLite keeping the keys and
indexes) each take about half of a large import, and Python runs one thread at a time: a reading thread
only made the writer wait for it. A second process reads on the other core instead, with the very same
`parse`, and sends the rows in batches (pickled, through a pipe); the writer stores each batch as the next
is read. What is stored, rejected or refused is that of reading in the importer's own process, since the
same code reads the same bytes.

Only reports worth a process's start are read this way (`AHEAD_BYTES`). When the process cannot start, or
ends before it says it is ready (a broken install), the report is read in the importer's own process. The
reading process holds no database connection and ends with the import, whatever ends it (a cancel, an
error, the app quitting): it is killed, and its pipe breaking ends it if the importer itself dies.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from app.importers import ALL_ORDERS, KINDS, ImportOptions, ReportKind, ReportSource, parse
from app.importers import source as sources
from app.launch import READ_AHEAD

log = logging.getLogger(__name__)

AHEAD_BYTES = 32 * 1024 * 1024  # about 140,000 rows: below this, starting the process costs what it saves
SIZE_BYTES = 8  # each message is its pickle's length, then the pickle
LARGEST_MESSAGE = 256 * 1024 * 1024  # a length past this is not one the reading process wrote
BATCH_ROWS = 2_000  # rows per message: enough to make pickling cheap, few enough to keep both sides busy
ROOT = Path(__file__).resolve().parents[2]
# Windows: no console window for the reading process, and a Ctrl+C in the importer's console is not its.
WINDOWS_FLAGS = getattr(subprocess, "CREATE_NO_WINDOW", 0) | getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)


class ReadingFailed(RuntimeError):
    """The reading process met an error that is not the report's (a bug): raised as reading here raises it."""


def parse_maybe_ahead(source: ReportSource, kind: ReportKind, encoding: str, options: ImportOptions):
    """`parse`, read in a process of its own when the report is a large All Orders report."""
    if kind is not ALL_ORDERS or text_bytes(source) < AHEAD_BYTES:
        return parse(source, kind, encoding, options)
    return _read_ahead(source, kind, encoding, options)


def text_bytes(source: ReportSource) -> int:
    """The report's size once decompressed: a gzip file says it (modulo 4 GB) in its last four bytes."""
    if source.compression != "gzip":
        return source.total_bytes
    try:
        with open(source.path, "rb") as handle:
            handle.seek(-4, os.SEEK_END)
            return max(source.total_bytes, int.from_bytes(handle.read(4), "little"))
    except OSError:
        return source.total_bytes


def _read_ahead(source: ReportSource, kind: ReportKind, encoding: str, options: ImportOptions) -> Iterator:
    # Started at the first row asked for, inside the generator: however the import ends, its `finally` ends it.
    try:
        reader = _start(source, kind, encoding, options)
    except OSError as error:
        log.warning("the report is read in this process: its reading process could not start (%s)", error)
        yield from parse(source, kind, encoding, options)
        return
    messages = None
    try:
        messages = _Messages(reader)
        if not messages.ready():  # why is logged as it is found
            log.warning("the report is read in this process: its reading process ended at its start")
            yield from parse(source, kind, encoding, options)
            return
        yield from _rows(messages, source)
    finally:
        _end(reader, messages)


def request_for(source: ReportSource, kind: ReportKind, encoding: str, options: ImportOptions) -> tuple:
    """What the reading process is told to read (`read` takes it apart): plain values only."""
    return (
        (str(source.path), source.name, source.compression, source.member, source.total_bytes),
        kind.key,
        encoding,
        (options.date_order, options.marketplace, options.file_marketplace),
    )


def _start(source: ReportSource, kind: ReportKind, encoding: str, options: ImportOptions) -> subprocess.Popen:
    request = request_for(source, kind, encoding, options)
    frozen = getattr(sys, "frozen", False)
    # A bundle has no `python -m`: its own executable becomes the reading process (`app.entry`). -P: the
    # importer's working folder is not searched for modules.
    command = [sys.executable, READ_AHEAD] if frozen else [sys.executable, "-P", "-m", __name__]
    env = dict(os.environ)
    if (ROOT / "main.py").is_file():  # run from the sources: the package is found from here
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process
    try:
        reader = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
            creationflags=WINDOWS_FLAGS,
        )
    except OSError:
        errors.close()
        raise
    reader.errors = errors
    try:
        pickle.dump(request, reader.stdin)
    except OSError:  # it ended at once: the first read says so
        pass
    finally:
        with contextlib.suppress(OSError):
            reader.stdin.close()
    return reader


def _rows(messages: _Messages, source: ReportSource) -> Iterator:
    while True:
        tag, bytes_read, body = messages.next()
        if tag == "rows":
            source.read_elsewhere(bytes_read)
            yield from body
        elif tag == "end":
            source.read_elsewhere(bytes_read, body)
            return
        else:
            raise _error(tag, body)


class _Messages:
    """The reading process's messages, taken off the pipe by a thread as they come. A pipe holds 64 KB, less
    than a batch: read only between the importer's writes, it would keep the reading process waiting while
    SQLite writes, the very time it should read on. The thread only moves bytes, which lets go of Python's
    lock while it waits; the rows are unpickled by the importer's thread, or each of SQLite's steps (which
    let go of the lock too) would wait to get it back from the unpickling. A few messages wait here
    (`QUEUED`), no more: what the process reads beyond them waits in it, so memory stays bounded."""

    QUEUED = 4

    def __init__(self, reader: subprocess.Popen):
        self.reader = reader
        self.queue: queue.Queue = queue.Queue(self.QUEUED)
        self.thread = threading.Thread(target=self._take, name="report reader", daemon=True)
        self.thread.start()

    def _take(self) -> None:
        pipe = self.reader.stdout
        ended: BaseException = EOFError("the pipe ended")
        try:
            while True:
                size = int.from_bytes(_exactly(pipe, SIZE_BYTES), "little")
                if size > LARGEST_MESSAGE:
                    raise ValueError(f"a message of {size} bytes, past any the reading process writes")
                self.queue.put(_exactly(pipe, size))
        except BaseException as error:  # whatever it is, the importer must hear of it, never wait
            ended = error
        finally:
            self.queue.put(ended)

    def ready(self) -> bool:
        """Whether the reading process started and said so (False: it ended first)."""
        try:
            tag, *_ = self.next()
        except sources.ReportError:
            return False
        return tag == "ready"

    def next(self) -> tuple:
        message = self.queue.get()
        if isinstance(message, BaseException):
            raise sources.ReportError(_stopped(self.reader, message)) from message
        try:
            return pickle.loads(message)
        except Exception as error:  # bytes that are not its message: the pipe is broken
            raise sources.ReportError(_stopped(self.reader, error)) from error

    def stop(self) -> None:
        """After the process ended: let the thread put what it holds, and end."""
        while self.thread.is_alive():
            try:
                while True:
                    self.queue.get_nowait()
            except queue.Empty:
                pass
            self.thread.join(0.05)


def _exactly(pipe, size: int) -> bytes:
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError(f"the pipe ended after {len(data)} of {size} bytes")
    return data


def _send(message: tuple, out) -> None:
    data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(SIZE_BYTES, "little"))
    out.write(data)


def _stopped(reader: subprocess.Popen, error: BaseException) -> str:
    """What the seller reads; what the process wrote on its way out goes to the log only (it may quote
    the report's cells)."""
    try:
        code = reader.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = None
    reader.errors.seek(0)
    said = reader.errors.read()[-2000:].decode("utf-8", "replace").strip()
    log.warning("the process reading the report stopped (exit code %s, %r): %s", code, error, said)
    return f"the process reading the report stopped (exit code {code})"


def _error(tag: str, body: tuple) -> Exception:
    """The reading process's error, raised here as `parse` would have raised it."""
    if tag == "decode":
        return UnicodeDecodeError(*body)
    name, message, line = body
    if tag == "failed":
        return ReadingFailed(f"{name}: {message}")
    kind = getattr(sources, name, sources.ReportError)
    if not (isinstance(kind, type) and issubclass(kind, sources.ReportError)):
        kind = sources.ReportError
    return kind(message, line)


def _end(reader: subprocess.Popen, messages: _Messages | None) -> None:
    if reader.poll() is None:
        reader.kill()  # cancelled or failed half-way: what it read is not wanted
    reader.wait()
    if messages is not None:
        messages.stop()  # the pipe has ended: the thread sees it and stops
    for stream in (reader.stdout, reader.errors):
        stream.close()


# --- the reading process ------------------------------------------------------------------------------------


def read(request: tuple, out) -> None:
    """Parse the report `request` names and send its rows to `out`, then the end (or the error)."""
    (path, name, compression, member, total), key, encoding, (date_order, marketplace, file_marketplace) = request
    source = ReportSource(Path(path), name, compression, member=member, total_bytes=total)
    kind = next(kind for kind in KINDS if kind.key == key)
    options = ImportOptions(date_order=date_order, marketplace=marketplace, file_marketplace=file_marketplace)
    _send(("ready", 0, None), out)
    out.flush()
    batch: list = []
    try:
        for row in parse(source, kind, encoding, options):
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                _send(("rows", source.bytes_read, batch), out)
                batch = []
    except UnicodeDecodeError as error:
        ending = ("decode", 0, (error.encoding, error.object, error.start, error.end, error.reason))
    except sources.ReportError as error:
        ending = ("error", 0, (type(error).__name__, str(error), error.line))
    except Exception as error:  # a bug: said to the importer, which raises it as its own
        ending = ("failed", 0, (type(error).__name__, str(error), None))
    else:
        ending = ("end", source.bytes_read, source.sha256())
    if batch:
        _send(("rows", source.bytes_read, batch), out)
    _send(ending, out)
    out.flush()


def main() -> int:
    # The importer ends this process (a kill) when it no longer wants its rows: a Ctrl+C or a logout reaching
    # it as well must not end it first, or a cancelled import would read as a report that failed.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    # The rows go out on a copy of the output; anything else writing to the output (a library, a stray print)
    # lands in the error stream instead of among them.
    rows_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    read(pickle.load(sys.stdin.buffer), rows_out)
    rows_out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
