"""Turning a file on disk into report sources: decompression, hashing, encoding, line-accurate errors.

A file may be plain, gzip-compressed or a zip archive (each member is its own report); which one is
decided by the file's first bytes, never by its name. Text is UTF-8 (with or without a byte-order mark),
windows-1252 or ISO-8859-1: UTF-8 is tried first and, when a line turns out not to be UTF-8, the file is
read again as windows-1252 (falling back to ISO-8859-1, which decodes any byte). A file that mixes
valid UTF-8 with bytes that are not is refused, naming the first bad line, rather than imported with
garbled product names.

Reading is bounded (`app.importers.limits`): a file that is not a regular file, decompresses past the
size limit, holds a line longer than the line limit or a run of blank lines longer than any real file's
is refused as soon as that is seen, naming the limit and the line or archive member.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.importers.limits import (
    MAX_BLANK_LINES,
    MAX_LINE_BYTES,
    MAX_REPORT_BYTES,
    MAX_ZIP_MEMBERS,
    size_text,
)

SNIFF_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
TEXT_ENCODINGS = ("utf-8", "cp1252", "latin-1")
READ_CHUNK = 256 * 1024  # at most this much is checked at once, so a run inside one chunk stays short
BLANK_BYTES = b" \t\r\n\x00\x0b\x0c"  # NUL too: a blank line of a UTF-16 file
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


class ReportError(Exception):
    """A file cannot be read as a report. The message says what was expected and, where known, the line."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


class UnknownReport(ReportError):
    """The content is not any report this app knows."""


class MixedEncodingError(ReportError):
    """Part of the file is UTF-8 and part is not."""


class LimitExceeded(ReportError):
    """The file goes past one of the limits of `app.importers.limits`; the message names it."""


class HashingReader(io.RawIOBase):
    """Reads a binary stream while hashing it and counting bytes (for the import log and progress)."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            self.sha256.update(view)
            self.bytes_read += n
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class ReportSource:
    """One report inside a file: the file itself, or one member of a zip archive.

    `open_binary()` returns a fresh decompressed byte stream each time (an import may need to read the
    report twice when its encoding turns out not to be UTF-8).
    """

    path: Path
    name: str
    compression: str  # "none" | "gzip" | "zip"
    member: str | None = None
    total_bytes: int = 0
    _hasher: HashingReader | _ReadElsewhere | None = None

    def open_binary(self, *, lines: bool = True) -> BinaryIO:
        """The decompressed bytes, refused past the size limit and, with `lines`, the line limits.

        `lines=False` is for JSON, which may rightly be one long line: its own size limit bounds it.
        """
        if self.compression == "zip":
            archive = zipfile.ZipFile(self.path)
            inner = _ClosingMember(archive, archive.open(self.member or ""))
            owned = ()
        else:
            self._hasher = HashingReader(open(self.path, "rb"))  # noqa: SIM115 - closed by the caller
            inner, owned = self._hasher, ()
            if self.compression == "gzip":
                buffered = io.BufferedReader(self._hasher, buffer_size=256 * 1024)
                inner, owned = gzip.GzipFile(fileobj=buffered, mode="rb"), (buffered,)
        # Buffered: an mbox is read line by line, which would otherwise cost one read per byte.
        return io.BufferedReader(_Bounded(inner, self, lines, owned), 256 * 1024)

    @property
    def bytes_read(self) -> int:
        """Bytes of the file on disk read so far by the latest `open_binary()` stream."""
        return self._hasher.bytes_read if self._hasher else 0

    def read_elsewhere(self, bytes_read: int, digest: str | None = None) -> None:
        """Another process reads this report (`app.importers.ahead`): how far it got, and at the end the
        report's SHA-256, stand for this process's own stream's."""
        self._hasher = _ReadElsewhere(bytes_read, digest)

    def sha256(self) -> str:
        """SHA-256 of the file as it lies on disk (of the member's bytes for a zip member).

        Taken from the latest stream when that read the whole file, so an import reads it only once.
        """
        hasher = self._hasher
        if isinstance(hasher, _ReadElsewhere) and hasher.digest is not None:
            return hasher.digest
        if isinstance(hasher, HashingReader) and hasher.bytes_read == self.total_bytes:
            return hasher.sha256.hexdigest()
        digest = hashlib.sha256()
        if self.compression == "zip":
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member or "") as member:
                for chunk in iter(lambda: member.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.hexdigest()
        with open(self.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


class _ReadElsewhere:
    """A `HashingReader`'s count and digest, as another process read them."""

    def __init__(self, bytes_read: int, digest: str | None):
        self.bytes_read = bytes_read
        self.digest = digest


class _ClosingMember(io.RawIOBase):
    """A zip member stream that also closes its archive."""

    def __init__(self, archive: zipfile.ZipFile, member: BinaryIO):
        self._archive, self._member = archive, member

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._member.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._member.close()
        self._archive.close()
        super().close()


class _Bounded(io.RawIOBase):
    """A report's decompressed bytes, counted as they are read against the limits.

    The checks run on whole chunks in C (`count`, `rfind`, `rstrip`), so they cost next to nothing
    beside parsing the rows, and a hostile file is refused after at most one limit's worth of reading.
    """

    def __init__(self, inner: BinaryIO, source: ReportSource, lines: bool, owned: tuple = ()):
        self._inner, self._owned = inner, owned
        # What is there, not a full buffer: the first bytes of a gzip still being downloaded must read
        # (to recognise it) though a full buffer would run into its truncated end.
        self._read = getattr(inner, "read1", inner.read)
        self._name, self._compressed = source.name, source.compression != "none"
        self._lines = lines
        self._total = 0
        self._line_ends = 0  # line ends read so far: the current line is the next one
        self._line_bytes = 0  # bytes of the current line so far
        self._blank_ends = 0  # line ends since the last byte that is not blank
        self._blank_from = 1  # the line the current run of blank lines starts on
        self._lf_seen = False  # until a LF is seen, CR alone ends a line (Excel for Mac's CSV)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._read(min(len(buffer), READ_CHUNK))
        size = len(data)
        if not size:
            return 0
        self._total += size
        if self._total > MAX_REPORT_BYTES:
            grows = "decompresses to" if self._compressed else "is"
            raise LimitExceeded(
                f"{self._name}: {grows} more than {size_text(MAX_REPORT_BYTES)}, the most one report may hold "
                f"(a 1,000,000-row All Orders report is about 300 MB); split it into several reports"
            )
        if self._lines:
            self._check_lines(data)
        buffer[:size] = data
        return size

    def _check_lines(self, data: bytes) -> None:
        newlines = data.count(b"\n")
        self._lf_seen = self._lf_seen or newlines > 0
        ends = newlines if self._lf_seen else data.count(b"\r")
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last < 0:
            self._line_bytes += len(data)
        else:
            self._line_bytes += min(index for index in (data.find(b"\n"), data.find(b"\r")) if index >= 0)
        if self._line_bytes > MAX_LINE_BYTES:
            raise LimitExceeded(
                f"{self._name}: line {self._line_ends + 1:,} is longer than {size_text(MAX_LINE_BYTES)}, the longest "
                "line a report may have; expected a report with one row per line"
            )
        if last >= 0:
            self._line_bytes = len(data) - last - 1
        content = data.rstrip(BLANK_BYTES)
        if not content:
            self._blank_ends += ends
        else:
            self._blank_ends += self._ends_in(data[: _NOT_BLANK.search(data).start()])
            self._check_blank_run()
            trailing = self._ends_in(data[len(content) :])
            self._blank_ends = trailing
            # The last line with content is the one before the trailing line ends; the run starts after it.
            self._blank_from = self._line_ends + ends - trailing + 2
        self._line_ends += ends
        self._check_blank_run()

    def _ends_in(self, data: bytes) -> int:
        """How many lines end in `data`: at LF (or CRLF), or at CR alone in a classic Mac file."""
        return data.count(b"\n") if self._lf_seen else data.count(b"\r")

    def _check_blank_run(self) -> None:
        # The line end of the last line with content counts too: allow for it.
        if self._blank_ends > MAX_BLANK_LINES + 1:
            raise LimitExceeded(
                f"{self._name}: from line {self._blank_from:,} on, more than {MAX_BLANK_LINES:,} lines in a row "
                "are blank, more than any real report holds; the file is damaged or not a report"
            )

    def close(self) -> None:
        try:
            self._inner.close()
            for stream in self._owned:
                stream.close()
        finally:
            super().close()


_NOT_BLANK = re.compile(rb"[^ \t\r\n\x00\x0b\x0c]")  # any byte but BLANK_BYTES


def _file_type(mode: int) -> str | None:
    """What a path that is not a regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _refuse_special(path: Path, kind: str) -> ReportError:
    if kind == "folder":
        return ReportError(f"{path}: is a folder, not a report file")
    return ReportError(f"{path}: not a regular file (a {kind}); expected a report file saved on disk")


def open_sources(path: str | Path) -> list[ReportSource]:
    """The reports a file holds, recognised by its first bytes.

    Raises:
        ReportError: the file is missing, unreadable, an empty or broken archive.
    """
    path = Path(path)
    try:
        kind = _file_type(path.stat().st_mode)
        if kind:
            raise _refuse_special(path, kind)
        # Opened without waiting and checked again: a named pipe put in its place meanwhile would block
        # `open` until something writes to it, and the import would hang.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            opened = os.fstat(handle)
            kind = _file_type(opened.st_mode)
            if kind:
                raise _refuse_special(path, kind)
            magic = os.read(handle, 4)
        finally:
            os.close(handle)
        size = opened.st_size
    except FileNotFoundError as error:
        raise ReportError(f"{path}: no such file") from error
    except IsADirectoryError as error:
        raise ReportError(f"{path}: is a folder, not a report file") from error
    except OSError as error:
        raise ReportError(f"{path}: cannot be read ({error.strerror})") from error
    if magic.startswith(GZIP_MAGIC):
        return [ReportSource(path, path.name, "gzip", total_bytes=size)]
    if magic.startswith(ZIP_MAGIC) or magic.startswith(EMPTY_ZIP_MAGIC):
        return _zip_sources(path)
    if size > MAX_REPORT_BYTES:
        raise LimitExceeded(
            f"{path.name}: is {size_text(size)}, more than the {size_text(MAX_REPORT_BYTES)} one report may hold "
            "(a 1,000,000-row All Orders report is about 300 MB); split it into several reports"
        )
    return [ReportSource(path, path.name, "none", total_bytes=size)]


def _zip_sources(path: Path) -> list[ReportSource]:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise ReportError(f"{path.name}: the zip archive is damaged or truncated ({error})") from error
    if len(entries) > MAX_ZIP_MEMBERS:
        raise LimitExceeded(
            f"{path.name}: the zip archive holds {len(entries):,} entries, more than the {MAX_ZIP_MEMBERS} one "
            "archive may hold; zip fewer reports together"
        )
    members = [
        info
        for info in entries
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not Path(info.filename).name.startswith(".")
    ]
    if not members:
        raise ReportError(f"{path.name}: the zip archive holds no files")
    # A member cannot decompress to more than the size it declares: the zip reader stops there.
    largest = max(members, key=lambda info: info.file_size)
    if largest.file_size > MAX_REPORT_BYTES:
        raise LimitExceeded(
            f"{path.name}:{largest.filename}: decompresses to {size_text(largest.file_size)}, more than the "
            f"{size_text(MAX_REPORT_BYTES)} one report may hold; split it into several reports"
        )
    total = sum(info.file_size for info in members)
    if total > MAX_REPORT_BYTES:
        raise LimitExceeded(
            f"{path.name}: the zip archive decompresses to {size_text(total)} in all, more than the "
            f"{size_text(MAX_REPORT_BYTES)} one file may hold; zip fewer reports together"
        )
    return [
        ReportSource(path, f"{path.name}:{info.filename}", "zip", member=info.filename, total_bytes=info.file_size)
        for info in members
    ]


def read_prefix(source: ReportSource, size: int = SNIFF_BYTES) -> bytes:
    """The first `size` decompressed bytes of a report (for recognising its kind)."""
    with source.open_binary() as stream:
        try:
            return stream.read(size)
        except (EOFError, OSError, zlib.error, zipfile.BadZipFile) as error:
            raise ReportError(f"{source.name}: {describe_stream_error(error)}") from error


def describe_stream_error(error: BaseException) -> str:
    """A seller-readable sentence for a decompression failure."""
    if isinstance(error, EOFError):
        return "the compressed file is truncated: it ends before its end marker (download it again)"
    if isinstance(error, gzip.BadGzipFile):
        return f"the gzip file is damaged ({error})"
    if isinstance(error, zipfile.BadZipFile):
        return f"the zip archive is damaged ({error})"
    if isinstance(error, zlib.error):
        return f"the compressed data is damaged ({error})"
    return f"the file cannot be read ({error})"


def bom_encoding(prefix: bytes) -> str | None:
    """The encoding a byte-order mark announces, if any."""
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def looks_binary(prefix: bytes) -> bool:
    """True for content that is not text in any encoding this app reads (NUL bytes, no UTF-16 mark)."""
    return b"\x00" in prefix and bom_encoding(prefix) != "utf-16"


def first_encoding(prefix: bytes) -> str:
    return bom_encoding(prefix) or TEXT_ENCODINGS[0]


def next_encoding(source: ReportSource, failed: str) -> str:
    """The encoding to try after `failed` raised a decoding error while reading `source`.

    Raises:
        MixedEncodingError: the file holds valid UTF-8 beside lines that are not UTF-8.
        ReportError: a UTF-16 or BOM-marked UTF-8 file has bytes its mark does not allow.
    """
    if failed == "utf-8":
        bad_line, has_utf8 = _scan_utf8(source)
        if has_utf8:
            raise MixedEncodingError(
                f"{source.name}: line {bad_line} is not valid UTF-8 although other lines are; "
                "expected the whole file in one encoding (UTF-8, windows-1252 or ISO-8859-1)",
                line=bad_line,
            )
        return "cp1252"
    if failed == "cp1252":
        return "latin-1"
    bad_line, _ = _scan_utf8(source) if failed == "utf-8-sig" else (None, False)
    where = f" at line {bad_line}" if bad_line else ""
    raise ReportError(f"{source.name}: the file announces {failed} but holds other bytes{where}", line=bad_line)


def _scan_utf8(source: ReportSource) -> tuple[int | None, bool]:
    """First line that is not UTF-8, and whether any line holds non-ASCII UTF-8 (the error path only)."""
    first_bad, has_utf8 = None, False
    with source.open_binary() as stream:
        for number, raw in enumerate(stream, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                first_bad = first_bad or number
                if _UTF8_MULTIBYTE.search(raw):
                    has_utf8 = True
                continue
            if not has_utf8 and not raw.isascii():
                has_utf8 = True
            if first_bad and has_utf8:
                break
    return first_bad, has_utf8


def text_lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """Decoded lines (line endings kept, CRLF preserved for the csv module)."""
    return io.TextIOWrapper(stream, encoding=encoding, newline="")
