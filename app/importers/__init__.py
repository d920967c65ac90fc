"""Importers: report files in, typed records out (no database, no Qt).

`recognise` tells what a report is from its content (header row, JSON structure or e-mail headers),
never from its file name; `parse` streams its rows as record tuples or rejections with line numbers.
"""

from __future__ import annotations

import csv
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from types import ModuleType

from app import records
from app.importers import account_health, claims, fba_returns, fbm_returns, feedback, mail, orders
from app.importers.common import ImportOptions, Parsed, Rejection
from app.importers.flat import parse_header_line
from app.importers.limits import MAX_JSON_BYTES, size_text
from app.importers.source import (
    LimitExceeded,
    MixedEncodingError,
    ReportError,
    ReportSource,
    UnknownReport,
    describe_stream_error,
    first_encoding,
    looks_binary,
    next_encoding,
    open_sources,
    read_prefix,
    text_lines,
)

__all__ = [
    "KINDS",
    "ImportOptions",
    "LimitExceeded",
    "MixedEncodingError",
    "Rejection",
    "ReportError",
    "ReportKind",
    "ReportSource",
    "UnknownReport",
    "first_encoding",
    "next_encoding",
    "open_sources",
    "parse",
    "recognise",
]


@dataclass(frozen=True)
class ReportKind:
    """A kind of report: its key (in logs and JSON output), its name for the seller, what it stores."""

    key: str
    label: str
    specs: tuple[records.RecordSpec, ...]
    module: ModuleType | None = None


ALL_ORDERS = ReportKind("all_orders", orders.LABEL, (records.ORDER, records.ORDER_ITEM), orders)
SELLER_FEEDBACK = ReportKind("seller_feedback", feedback.LABEL, (records.FEEDBACK,), feedback)
FBM_RETURNS = ReportKind("fbm_returns", fbm_returns.LABEL, (records.FBM_RETURN,), fbm_returns)
FBA_RETURNS = ReportKind("fba_returns", fba_returns.LABEL, (records.FBA_RETURN,), fba_returns)
CLAIMS = ReportKind("claims", claims.LABEL, (records.CLAIM,), claims)
ACCOUNT_HEALTH = ReportKind("account_health", account_health.LABEL, (records.HEALTH_SNAPSHOT,), account_health)
MAIL = ReportKind("mail", mail.LABEL, (records.MESSAGE, records.REPLY), mail)
CANCELLED = ReportKind("cancelled", "cancelled report (Amazon produced no rows)", ())

FLAT_KINDS = (ALL_ORDERS, SELLER_FEEDBACK, FBM_RETURNS, FBA_RETURNS, CLAIMS)
KINDS = (*FLAT_KINDS, ACCOUNT_HEALTH, MAIL)
ACCEPTED = (
    "All Orders report, Seller Feedback report, FBM returns report, FBA customer returns report, "
    "account health report (JSON), claims file (the CSV template), buyer-message e-mails (.mbox or .eml); "
    "plain, .gz or .zip"
)


# It only starts where a word starts (after a space or an @, or at the start): tried inside a long word, as
# a plain `[^\s@]+@` is, each start reads the rest of the word again, and a 64 KB line took about a minute.
# The matches are the same, since a match cannot start inside a word that an earlier match did not take.
EMAIL_ADDRESS = re.compile(r"(?<![^\s@])[^\s@]++@[^\s@]++")


def unknown(name: str, what: str) -> UnknownReport:
    return UnknownReport(f"{name}: {what}. This app imports: {ACCEPTED}.", line=1)


def recognise(source: ReportSource) -> ReportKind:
    """What kind of report `source` is, from its first bytes.

    Raises:
        ReportError: the file is empty, binary, a web page or not a known report.
    """
    prefix = read_prefix(source)
    if not prefix.removeprefix(b"\xef\xbb\xbf").strip():
        raise unknown(source.name, "the file is empty")
    if looks_binary(prefix):
        raise unknown(source.name, "this is a binary file, not a text report (line 1 holds NUL bytes)")
    if mail.recognises(prefix):
        return MAIL
    text = prefix.decode(first_encoding(prefix), errors="replace").lstrip("\ufeff").lstrip()
    lowered = text[:200].lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<?xml")):
        raise unknown(
            source.name,
            "this is a web page (HTML), not a report: Seller Central probably showed an error or sign-in "
            "page instead of the download; download the report again",
        )
    if text.startswith(("{", "[")):
        return ACCOUNT_HEALTH
    first_line = text.splitlines()[0] if text else ""
    if first_line.strip().strip('"').upper() == "CANCELLED":
        return CANCELLED
    header = parse_header_line(first_line)
    for kind in FLAT_KINDS:
        if kind.module.recognises(header):
            return kind
    # The line is kept in the import log: a header-less export's first row may hold a buyer's e-mail.
    line = EMAIL_ADDRESS.sub("<e-mail>", first_line.strip())
    shown = line[:80] + ("…" if len(line) > 80 else "")
    raise unknown(source.name, f"its first line «{shown}» is not the header of a known report")


def parse(source: ReportSource, kind: ReportKind, encoding: str, options: ImportOptions) -> Parsed:
    """The rows of `source` as `(line, payload | Rejection)`; payload holds one tuple per `kind.specs`.

    Raises (while iterating):
        ReportError: the file breaks off (truncated archive), holds binary data or is not valid JSON.
        UnicodeDecodeError: the text is not in `encoding` (the caller tries `next_encoding`).
    """
    if kind is CANCELLED:
        return iter(())
    if kind is MAIL:
        return _guarded(source, lambda stream: mail.parse(stream))
    if kind is ACCOUNT_HEALTH:
        return _guarded(source, lambda stream: _account_health(source, stream, encoding), lines=False)
    return _guarded(source, lambda stream: _flat(kind, stream, encoding, options))


def _flat(kind: ReportKind, stream, encoding: str, options: ImportOptions) -> Parsed:
    lines = text_lines(stream, encoding)
    first = next(lines, "")
    skipped: list[str] = []
    while first and not first.lstrip("\ufeff").strip():  # blank lines before the header, as `recognise` skips
        skipped.append("\n")
        first = next(lines, "")
    header = parse_header_line(first)
    # The skipped lines go back in front of the body as blank rows (which parsers skip), so the row line
    # numbers stay those of the file.
    yield from kind.module.parse(chain(skipped, lines), header, options)


def _account_health(source: ReportSource, stream, encoding: str) -> Parsed:
    data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise LimitExceeded(
            f"{source.name}: this JSON file is larger than {size_text(MAX_JSON_BYTES)}, the largest account health "
            "report this app reads (Amazon's is a few KB per marketplace)"
        )
    document = account_health.load(data.decode(encoding), source.name)
    if not account_health.recognises(document):
        raise unknown(source.name, "this JSON file is not an account health report (no performanceMetrics)")
    account_health.check_shape(document, source.name)
    yield from account_health.parse(document)


def _guarded(source: ReportSource, rows, lines: bool = True) -> Iterator:
    """Run a parser over a fresh stream, turning broken archives and binary data into ReportErrors."""
    line = 0
    with source.open_binary(lines=lines) as stream:
        try:
            for line, payload in rows(stream):
                yield line, payload
        except (EOFError, zlib.error, zipfile.BadZipFile, OSError) as error:
            raise ReportError(f"{source.name}: {describe_stream_error(error)} (after line {line})", line) from error
        except csv.Error as error:
            raise ReportError(
                f"{source.name}: line {line + 1} cannot be read as text ({error}); "
                "expected a text report in UTF-8, windows-1252 or ISO-8859-1",
                line + 1,
            ) from error
