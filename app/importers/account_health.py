"""Account health report (`GET_V2_SELLER_PERFORMANCE_REPORT`, JSON): Amazon's own snapshot.

Amazon's schema is inconsistent across versions (`ahrStatus` vs `accountHealthRatingStatus`,
`prefulfillmentCancelRate` vs `preFulfillmentCancellationRate`), so the report is kept whole, unknown
fields included, and read leniently when it is compared with the monitor's own figures. A snapshot is
identified by its content, so saving the same report twice (even re-indented) stores it once.

Before it is kept, the parts the monitor reads are checked: one entry per marketplace; ODR, rate and
rating blocks that are objects; counts that are whole numbers, rates that are fractions, scores and targets
that are numbers, dates that are dates. Anything else would be stored and then read again on every refresh
of the figures, so a file of another shape is refused instead, saying what was expected. A value that is
null or missing is accepted: real reports leave out what does not apply (counts, dates, whole blocks).

The names Amazon gives each figure are listed here, with the name the monitor shows it under.
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
ODR_KEYS = ("orderDefectRate", "odr")
RATING_KEYS = ("accountHealthRating", "ahr")
SCORE_KEYS = ("ahrScore", "accountHealthRatingScore", "score")
RATING_STATUS_KEYS = ("ahrStatus", "accountHealthRatingStatus", "status")
MAX_SCORE = 1000  # Amazon's Account Health Rating runs from 0 to 1,000
# The rates Amazon holds seller fulfilment to: the monitor's name, Amazon's names.
RATE_METRICS = {
    "late_shipment_rate": ("lateShipmentRate",),
    "pre_fulfillment_cancel_rate": (
        "preFulfillmentCancellationRate",
        "prefulfillmentCancelRate",
        "preFulfillmentCancelRate",
    ),
    "valid_tracking_rate": ("validTrackingRate",),
    "on_time_delivery_rate": ("onTimeDeliveryRate",),
    "invoice_defect_rate": ("invoiceDefectRate",),
}
# Amazon's policy counters. Any other block of an entry that carries `defectsCount` is one too (Amazon adds
# policies over time).
POLICIES = {
    "listing_policy_violations": ("listingPolicyViolations",),
    "received_intellectual_property_complaints": ("receivedIntellectualPropertyComplaints",),
    "suspected_intellectual_property_violations": ("suspectedIntellectualPropertyViolations",),
    "product_authenticity_customer_complaints": ("productAuthenticityCustomerComplaints",),
    "product_condition_customer_complaints": ("productConditionCustomerComplaints",),
    "product_safety_customer_complaints": ("productSafetyCustomerComplaints",),
    "food_and_product_safety_issues": ("foodAndProductSafetyIssues",),
    "restricted_product_policy_violations": ("restrictedProductPolicyViolations",),
    "customer_product_reviews_policy_violations": ("customerProductReviewsPolicyViolations",),
    "other_policy_violations": ("otherPolicyViolations",),
    "document_requests": ("documentRequests", "documentRequest"),
}
POLICY_COUNT_KEYS = ("defectsCount", "defectCount", "count")
WARNING_KEYS = ("warningStates", "warningState")
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
        problem = _entry_problem(entry, where)
        if problem:
            return problem
    return None


def _present(mapping: dict, *names: str) -> tuple[str, Any] | None:
    """Like `_field`, but a null value counts as absent (real reports write null for what does not apply)."""
    found = _field(mapping, *names)
    return found if found is not None and found[1] is not None else None


def _entry_problem(entry: dict, where: str) -> str | None:
    """What is wrong with one marketplace's figures, or None."""
    odr = _present(entry, *ODR_KEYS)
    if odr is not None:
        if not isinstance(odr[1], dict):
            return f"{where}.{odr[0]} is {_what(odr[1])}, not an object"
        for channel in ("afn", "mfn"):
            block = _present(odr[1], channel)
            if block is None:
                continue
            block_where = f"{where}.{odr[0]}.{block[0]}"
            if not isinstance(block[1], dict):
                return f"{block_where} is {_what(block[1])}, not an object"
            problem = _block_problem(block[1], block_where, COUNTS)
            if problem:
                return problem
    rating = _present(entry, *RATING_KEYS)
    if rating is not None:
        if not isinstance(rating[1], dict):
            return f"{where}.{rating[0]} is {_what(rating[1])}, not an object"
        score = _present(rating[1], *SCORE_KEYS)
        if score is not None and not (_is_number(score[1]) and 0 <= score[1] <= MAX_SCORE):
            return f"{where}.{rating[0]}.{score[0]} is {_what(score[1])}; expected a score from 0 to {MAX_SCORE}"
    for aliases in RATE_METRICS.values():
        block = _present(entry, *aliases)
        if block is None:
            continue
        if not isinstance(block[1], dict):
            return f"{where}.{block[0]} is {_what(block[1])}, not an object"
        problem = _block_problem(block[1], f"{where}.{block[0]}", _count_keys(block[1]))
        if problem:
            return problem
    policies = {name.lower() for aliases in POLICIES.values() for name in aliases}
    for key, value in entry.items():
        is_counter = isinstance(value, dict) and _present(value, "defectsCount") is not None
        if str(key).lower() in policies or is_counter:
            problem = _policy_problem(value, f"{where}.{key}")
            if problem:
                return problem
    return _dates_problem(entry, where)


def _count_keys(block: dict) -> tuple[str, ...]:
    """The counts of a rate block, whatever the rate: `orderCount`, `lateShipmentCount`, `invoiceDefect`
    ({count: 1}), …"""
    return tuple(
        str(key)
        for key, value in block.items()
        if str(key).lower().endswith("count") or (isinstance(value, dict) and _field(value, "count") is not None)
    )


def _policy_problem(value: Any, where: str) -> str | None:
    """A policy counter is an object with a defect count, a bare count, or a list (of document requests)."""
    if value is None or isinstance(value, list):
        return None
    if isinstance(value, dict):
        found = _present(value, *POLICY_COUNT_KEYS)
        if found is None or _is_count(found[1]):
            return None
        where, value = f"{where}.{found[0]}", found[1]
    if _is_count(value):
        return None
    return f"{where} is {_what(value)}; expected a whole number of 0 or more"


def _block_problem(block: dict, where: str, counts: tuple[str, ...]) -> str | None:
    """What is wrong with one figure's block (an ODR channel, a rate), or None."""
    for name in counts:
        found = _present(block, name)
        if found is None:
            continue
        key, value = found
        if isinstance(value, dict):
            found = _present(value, "count")
            if found is None:
                continue
            key, value = f"{key}.{found[0]}", found[1]
        if not _is_count(value):
            return f"{where}.{key} is {_what(value)}; expected a whole number of 0 or more"
    rate = _present(block, "rate")
    if rate is not None and not (_is_number(rate[1]) and 0 <= rate[1] <= 1):
        return f"{where}.{rate[0]} is {_what(rate[1])}; expected a fraction like 0.0042"
    goal = _present(block, "targetValue")
    if goal is not None and not (_is_number(goal[1]) and goal[1] >= 0):
        return f"{where}.{goal[0]} is {_what(goal[1])}; expected a number like 0.01"
    return None


def _dates_problem(value: Any, where: str) -> str | None:
    """Every reporting range anywhere in an entry: its dates are dates, and it does not end before it starts.

    The report is dated by the latest of these days, so none may be something else.
    """
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _dates_problem(item, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if not isinstance(value, dict):
        return None
    days = {}
    for key, item in value.items():
        name = str(key).lower()
        if name in {field.lower() for field in DATE_FIELDS} and item is not None:
            day = _day(item)
            if day is None:
                return (
                    f"{where}.{key} is {_what(item)}; expected a date like 2026-08-27T00:00:00Z "
                    f"from {FIRST_YEAR} to {LAST_YEAR}"
                )
            days[name] = day
        elif name == "reportingdaterange" and item is not None and not isinstance(item, dict):
            return f"{where}.{key} is {_what(item)}, not an object"
        else:
            problem = _dates_problem(item, f"{where}.{key}")
            if problem:
                return problem
    start, end = days.get(DATE_FIELDS[0].lower()), days.get(DATE_FIELDS[1].lower())
    if start and end and start > end:
        return f"{where} ends before it starts"
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
