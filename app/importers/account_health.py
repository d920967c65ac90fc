"""Account health report (`GET_V2_SELLER_PERFORMANCE_REPORT`, JSON): Amazon's own snapshot.

Amazon's schema is inconsistent across versions (`ahrStatus` vs `accountHealthRatingStatus`,
`prefulfillmentCancelRate` vs `preFulfillmentCancellationRate`), so the report is kept whole, unknown
fields included, and read leniently when it is compared with the monitor's own figures. A snapshot is
identified by its content, so saving the same report twice (even re-indented) stores it once.

Before it is kept, the parts the comparison reads are checked: one entry per marketplace, ODR blocks
that are objects, counts that are whole numbers, dates that are dates. Anything else would be stored and
then read again on every refresh of the figures, so a file of another shape is refused instead, saying
what was expected.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date
from typing import Any

from app.importers.common import Parsed
from app.importers.limits import FIRST_YEAR, LAST_YEAR, MAX_JSON_DEPTH, MAX_MARKETPLACES
from app.importers.source import LimitExceeded, ReportError, UnknownReport

LABEL = "account health report (JSON)"
MARKER_KEYS = ("performancemetrics", "accountstatuses")
EXPECTED = (
    "expected {accountStatuses: [...], performanceMetrics: [{marketplaceId, orderDefectRate: {afn: {...}, "
    "mfn: {...}}, ...}, one entry per marketplace]} as Amazon's GET_V2_SELLER_PERFORMANCE_REPORT writes it"
)
# What the comparison with the monitor's ODR reads of each channel's block, under Amazon's known names.
COUNTS = ("orderCount", "orderWithDefects", "claims", "aToZClaims", "chargebacks", "negativeFeedback")
DATE_FIELDS = ("reportingDateFrom", "reportingDateTo")
# A whole JSON string (or the rest of the text when one is never closed) or a bracket: the brackets inside
# strings are skipped, and each character is looked at once however the text is made.
_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)
MAX_DIGITS = 30


def _lower_keys(value: dict) -> set[str]:
    return {str(key).lower() for key in value}


def recognises(document: Any) -> bool:
    return isinstance(document, dict) and bool(_lower_keys(document) & set(MARKER_KEYS))


def load(text: str, name: str) -> Any:
    """The JSON document, or a refusal naming the line where it breaks or nests too deep."""
    text = text.lstrip("\ufeff")
    _check_depth(text, name)
    try:
        return json.loads(text, parse_int=_whole, parse_float=_finite, parse_constant=_not_a_number)
    except json.JSONDecodeError as error:
        raise UnknownReport(
            f"{name}: not valid JSON at line {error.lineno} ({error.msg}); expected an account health report",
            line=error.lineno,
        ) from error
    except _ImpossibleNumber as error:
        line = text.count("\n", 0, max(text.find(error.text), 0)) + 1
        raise ReportError(
            f"{name}: line {line}: {error}; expected an account health report's counts and rates", line=line
        ) from error


class _ImpossibleNumber(ValueError):
    def __init__(self, text: str, why: str):
        super().__init__(f"{text[:MAX_DIGITS]}{'…' if len(text) > MAX_DIGITS else ''} {why}")
        self.text = text


def _whole(text: str) -> int:
    if len(text) > MAX_DIGITS:  # Python refuses to read a number of thousands of digits, with a cryptic error
        raise _ImpossibleNumber(text, f"has {len(text):,} digits, more than any count")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _ImpossibleNumber(text, "is too large to be a count or a rate")
    return value


def _not_a_number(text: str) -> float:
    raise _ImpossibleNumber(text, "is not a number (JSON has no NaN or Infinity)")


def _check_depth(text: str, name: str) -> None:
    """Refuse nesting deeper than any account health report before parsing, which would recurse that deep."""
    depth = 0
    for match in _TOKENS.finditer(text):
        bracket = text[match.start()]
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise LimitExceeded(
                    f"{name}: the JSON is nested more than {MAX_JSON_DEPTH} levels deep at line {line:,}; an "
                    f"account health report is nested a few levels ({EXPECTED})",
                    line=line,
                )
        elif bracket in "]}":
            depth -= 1


def check_shape(document: dict, name: str) -> None:
    """Refuse a document whose marketplaces, ODR blocks, counts or dates are not what Amazon writes."""
    problem = _shape_problem(document)
    if problem:
        raise ReportError(f"{name}: not an account health report as Amazon writes it: {problem}; {EXPECTED}")


def _field(mapping: dict, *names: str) -> tuple[str, Any] | None:
    """A key (as the file spells it) and its value, whatever its case, under any of its known names."""
    wanted = [name.lower() for name in names]
    for key, value in mapping.items():
        if str(key).lower() in wanted:
            return str(key), value
    return None


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value[:40] + ("…" if len(value) > 40 else "")
        return f"the text '{shown}'"
    return "a list" if isinstance(value, list) else "an object"


def _shape_problem(document: dict) -> str | None:
    found = _field(document, "performanceMetrics")
    if found is None:
        return "it has no performanceMetrics"
    key, metrics = found
    if not isinstance(metrics, list):
        return f"{key} is {_what(metrics)}, not a list"
    for list_key, entries in (found, _field(document, "accountStatuses") or ("", [])):
        if not isinstance(entries, list):
            return f"{list_key} is {_what(entries)}, not a list"
        if len(entries) > MAX_MARKETPLACES:
            return (
                f"{list_key} has {len(entries):,} entries, more than the {MAX_MARKETPLACES} a report may have "
                "(one per marketplace)"
            )
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                return f"{list_key}[{index}] is {_what(entry)}, not an object"
    seen: set[str] = set()
    for index, entry in enumerate(metrics):
        where = f"{key}[{index}]"
        market = _field(entry, "marketplaceId")
        marketplace = market[1] if market else None
        if not isinstance(marketplace, str) or not 0 < len(marketplace.strip()) <= 40:
            return f"{where}.marketplaceId is {_what(marketplace)}; expected a marketplace id like ATVPDKIKX0DER"
        if marketplace in seen:
            return f"{where} repeats marketplace {marketplace}"
        seen.add(marketplace)
        odr = _field(entry, "orderDefectRate", "odr")
        if odr is None:
            continue
        if not isinstance(odr[1], dict):
            return f"{where}.{odr[0]} is {_what(odr[1])}, not an object"
        for channel in ("afn", "mfn"):
            block = _field(odr[1], channel)
            if block is None:
                continue
            block_where = f"{where}.{odr[0]}.{block[0]}"
            if not isinstance(block[1], dict):
                return f"{block_where} is {_what(block[1])}, not an object"
            problem = _block_problem(block[1], block_where)
            if problem:
                return problem
    return None


def _block_problem(block: dict, where: str) -> str | None:
    """What is wrong with one channel's ODR block, or None."""
    for name in COUNTS:
        found = _field(block, name)
        if found is None:
            continue
        key, value = found
        if isinstance(value, dict):
            found = _field(value, "count")
            if found is None:
                continue
            key, value = f"{key}.{found[0]}", found[1]
        if not _is_count(value):
            return f"{where}.{key} is {_what(value)}; expected a whole number of 0 or more"
    rate = _field(block, "rate")
    if rate is not None and not (_is_number(rate[1]) and rate[1] >= 0):
        return f"{where}.{rate[0]} is {_what(rate[1])}; expected a fraction like 0.0042"
    span = _field(block, "reportingDateRange")
    if span is None:
        return None
    if not isinstance(span[1], dict):
        return f"{where}.{span[0]} is {_what(span[1])}, not an object"
    days = []
    for name in DATE_FIELDS:
        found = _field(span[1], name)
        if found is None:
            continue
        day = _day(found[1])
        if day is None:
            return (
                f"{where}.{span[0]}.{found[0]} is {_what(found[1])}; expected a date like 2026-08-27T00:00:00Z "
                f"from {FIRST_YEAR} to {LAST_YEAR}"
            )
        days.append(day)
    if len(days) == 2 and days[0] > days[1]:
        return f"{where}.{span[0]} ends before it starts"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value: Any) -> bool:
    return _is_number(value) and value >= 0 and float(value).is_integer()


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def parse(document: dict) -> Parsed:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    yield 1, ((digest, json.dumps(document, ensure_ascii=False, indent=1)),)
