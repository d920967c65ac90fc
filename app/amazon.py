"""Amazon's own figures, as its account health report states them (`GET_V2_SELLER_PERFORMANCE_REPORT`).

These are Amazon's numbers, never recomputed: the Account Health Rating, the seller-fulfilment rates,
Amazon's ODR per channel and the policy counters, each with the dates and target the report gives. They
are kept apart from the monitor's own figures (the `amazon` block of the metrics); `app.reconcile` is
where the two meet.

Real reports vary (Amazon's own schema names the same field differently across versions; counts, dates or
whole blocks can be missing), so every key is matched without regard to case and under its known names,
and anything missing is None rather than a guess.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

import sqlite_utils

from app.importers.account_health import (
    ODR_KEYS,
    POLICIES,
    POLICY_COUNT_KEYS,
    RATE_METRICS,
    RATING_KEYS,
    RATING_STATUS_KEYS,
    SCORE_KEYS,
    WARNING_KEYS,
)
from app.settings import Settings, load_settings
from app.timeutil import to_iso
from storage import account_health as store

# The account health report's marketplace ids, by the seller's marketplace setting.
MARKETPLACE_IDS = {
    "US": "ATVPDKIKX0DER",
    "CA": "A2EUQ1WTGCTBG2",
    "MX": "A1AM78C64UM0Y8",
    "BR": "A2Q3Y263D00KWC",
    "UK": "A1F83G8C2ARO7P",
    "GB": "A1F83G8C2ARO7P",
    "IE": "A28R8C7NBKEWEA",
    "DE": "A1PA6795UKMFR9",
    "FR": "A13V1IB3VIYZZH",
    "IT": "APJ6JRA9NG5V4",
    "ES": "A1RKKUPIHCS9HS",
    "NL": "A1805IZSGTT6HS",
    "SE": "A2NODRKZP88ZB9",
    "PL": "A1C3SOZRARQ6R3",
    "BE": "AMEN7PMS3EDWL",
    "TR": "A33AVAJ2PDY3EV",
    "AE": "A2VIGQ35RCS4UG",
    "SA": "A17E79C6D8DWNP",
    "IN": "A21TJRUUN4KGV",
    "JP": "A1VC38T7YXB528",
    "AU": "A39IBJ37TRP1C6",
    "SG": "A19VAU5U5O7RUS",
}
MARKETPLACE_CODES = {marketplace_id: code for code, marketplace_id in reversed(MARKETPLACE_IDS.items())}

ODR_CHANNELS = (("FBA", "afn"), ("FBM", "mfn"))
# What a warning state object names its state by, where it is an object rather than a word.
STATE_KEYS = (*WARNING_KEYS, "state", "status", "name", "type", "value")
NOT_A_WARNING = {"", "NONE", "NO_WARNING"}
_KNOWN = {
    name.lower()
    for names in (*RATE_METRICS.values(), *POLICIES.values(), ODR_KEYS, RATING_KEYS, WARNING_KEYS)
    for name in names
}


def lookup(mapping: object, *names: str) -> Any:
    """A key of a JSON object, whatever its case, under any of its known names (None if absent)."""
    if not isinstance(mapping, dict):
        return None
    wanted = [name.lower() for name in names]
    lowered = {str(key).lower(): value for key, value in mapping.items()}
    for name in wanted:
        if name in lowered:
            return lowered[name]
    return None


def _lower_keys(mapping: dict) -> set[str]:
    return {str(key).lower() for key in mapping}


def number(value: object) -> int | float | None:
    """A JSON number as it is (not true/false, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def day(value: object) -> str | None:
    """The calendar day of a report date (`2026-08-27T00:00:00Z`, `2020-09-06T00:00Z`, `2026-08-27`).

    Amazon writes a reporting day as an instant at its start or end (midnight UTC, 23:59:59Z, or the
    marketplace's midnight in UTC, `07:00:00Z`), so the date part is the day meant.
    """
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None


def count(value: object) -> int | None:
    """`{defectsCount: 2}`, `{count: 2}`, a bare number, or a list of requests (its length)."""
    if isinstance(value, dict):
        value = lookup(value, *POLICY_COUNT_KEYS)
    elif isinstance(value, list):
        return len(value)
    value = number(value)
    return int(value) if value is not None and value >= 0 and float(value).is_integer() else None


def snake(name: str) -> str:
    """`receivedIntellectualPropertyComplaints` as `received_intellectual_property_complaints`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).replace("-", "_").lower()


def target(block: dict) -> tuple[int | float | None, str | None]:
    """(target value, condition such as LESS_THAN) from `targetValue`, `target` or the first of `targets`."""
    value = lookup(block, "targetValue", "target")
    condition = text(lookup(block, "targetCondition"))
    if isinstance(value, dict):
        value, condition = lookup(value, "targetValue", "value"), text(lookup(value, "targetCondition")) or condition
    targets = lookup(block, "targets")
    if value is None and isinstance(targets, list) and targets and isinstance(targets[0], dict):
        value, condition = lookup(targets[0], "targetValue", "value"), text(lookup(targets[0], "targetCondition"))
    return number(value), condition


def rate_figure(block: object) -> dict | None:
    """One of Amazon's rates: {rate, status, target, target_condition, window_start, window_end}."""
    if not isinstance(block, dict):
        return None
    span = lookup(block, "reportingDateRange")
    goal, condition = target(block)
    return {
        "rate": number(lookup(block, "rate")),
        "status": text(lookup(block, "status")),
        "target": goal,
        "target_condition": condition,
        "window_start": day(lookup(span, "reportingDateFrom")),
        "window_end": day(lookup(span, "reportingDateTo")),
    }


def warning_states(value: object) -> list[str]:
    """Amazon's warning states however the report writes them: a word, a list, or an object."""
    found: list[str] = []
    if isinstance(value, str):
        found = [value.strip()]
    elif isinstance(value, list):
        found = [state for item in value for state in warning_states(item)]
    elif isinstance(value, dict):
        named = [lookup(value, key) for key in STATE_KEYS]
        named = [state for item in named if item is not None for state in warning_states(item)]
        flagged = [str(key) for key, flag in value.items() if flag is True]
        described = [f"{key}: {item.strip()}" for key, item in value.items() if isinstance(item, str) and item.strip()]
        found = named or flagged or described
    return list(dict.fromkeys(state for state in found if state.upper() not in NOT_A_WARNING))


def figures(entry: object) -> dict:
    """Amazon's figures for one marketplace entry of `performanceMetrics`, None for what it lacks."""
    entry = entry if isinstance(entry, dict) else {}
    rating = lookup(entry, *RATING_KEYS)
    blocks: dict[str, object] = {}
    result: dict[str, Any] = {"account_health_rating": None}
    if isinstance(rating, dict):
        score = number(lookup(rating, *SCORE_KEYS))
        result["account_health_rating"] = {
            "score": int(score) if score is not None and float(score).is_integer() else score,
            "status": text(lookup(rating, *RATING_STATUS_KEYS)),
        }
        blocks["account_health_rating"] = rating
    for name, aliases in RATE_METRICS.items():
        block = lookup(entry, *aliases)
        result[name] = rate_figure(block)
        blocks[name] = block
    odr = lookup(entry, *ODR_KEYS)
    result["order_defect_rate"] = None
    if isinstance(odr, dict):
        result["order_defect_rate"] = {channel: rate_figure(lookup(odr, key)) for channel, key in ODR_CHANNELS}
        for channel, key in ODR_CHANNELS:
            blocks[f"order_defect_rate.{channel}"] = lookup(odr, key)
    counters = {name: lookup(entry, *aliases) for name, aliases in POLICIES.items()}
    for key, block in entry.items():
        if str(key).lower() not in _KNOWN and isinstance(block, dict) and "defectscount" in _lower_keys(block):
            counters[snake(str(key))] = block
    blocks.update(counters)
    result["policy"] = {name: count(block) for name, block in counters.items()}
    statuses = {name: text(lookup(block, "status")) for name, block in counters.items()}
    result["policy_status"] = {name: status for name, status in statuses.items() if status}
    warnings = [{"metric": None, "state": state} for state in warning_states(lookup(entry, *WARNING_KEYS))]
    for name, block in blocks.items():
        warnings += [{"metric": name, "state": state} for state in warning_states(lookup(block, *WARNING_KEYS))]
    result["warning_states"] = warnings
    return result


def figures_of_row(row: dict, marketplaces: list[str | None] | None = None) -> dict:
    """The `amazon` block of one stored report row (one report, one marketplace)."""
    try:
        entry = json.loads(row["metrics_json"])
    except (TypeError, ValueError):
        entry = {}
    marketplace = row["marketplace_id"]
    return {
        "report_sha256": row["sha256"],
        "imported_at": to_iso(row["imported_at"]),
        "reported_through": row["reported_through"],
        "marketplace_id": marketplace,
        "marketplace": MARKETPLACE_CODES.get(marketplace),
        "marketplaces": [m for m in (marketplaces if marketplaces is not None else [marketplace]) if m],
        "account_status": row["account_status"],
        **figures(entry),
    }


def _chosen(rows: list[dict], settings: Settings) -> dict:
    """The seller's own marketplace (the marketplace setting) when the report has it, else its first."""
    wanted = MARKETPLACE_IDS.get(settings.marketplace)
    return next((row for row in rows if row["marketplace_id"] == wanted), rows[0])


def amazon_block(db: sqlite_utils.Database, as_of: date | None = None, settings: Settings | None = None) -> dict | None:
    """Amazon's figures from the newest report that existed by the end of `as_of`; None without one.

    A report reporting on days after `as_of` did not exist then (so last month's figures do not change
    when this month's report is imported). The block is about the seller's marketplace; `marketplaces`
    lists every marketplace the report covers.
    """
    sha256 = store.newest_report(db, as_of)
    if sha256 is None:
        return None
    rows = store.report_rows(db, sha256)
    if not rows:  # a report listing no marketplace: every figure is missing from it
        kept = store.snapshot(db, sha256)
        row = dict.fromkeys(store.COLUMNS) | {"sha256": sha256, "imported_at": kept["imported_at"]}
        return figures_of_row(row, [])
    row = _chosen(rows, settings or load_settings(db))
    return figures_of_row(row, [r["marketplace_id"] for r in rows])


def amazon_history(
    db: sqlite_utils.Database, as_of: date | None = None, settings: Settings | None = None
) -> list[dict]:
    """Amazon's figures from every imported report for the seller's marketplace, oldest report first."""
    settings = settings or load_settings(db)
    rows = store.history_rows(db, as_of=as_of)
    marketplaces = {row["marketplace_id"] for row in rows}
    wanted = MARKETPLACE_IDS.get(settings.marketplace)
    if wanted not in marketplaces:
        # A seller who never set the marketplace: the one the reports are about, when they agree.
        wanted = next(iter(marketplaces)) if len(marketplaces) == 1 else wanted
    return [figures_of_row(row) for row in rows if row["marketplace_id"] == wanted]
