"""Amazon's own ODR (from an imported account health report) beside the monitor's, with the differences
explained as far as the seller's data can tell.

Amazon's report is read leniently: its schema names the same field differently across versions, so
keys are matched without regard to case and under their known aliases. The monitor recomputes the same
channel and the same reporting range, with defects known 14 days after the range ends (the report's
lag).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import sqlite_utils

from app.metrics import odr_for_window
from app.settings import Settings, load_settings
from app.snapshot import LAGGING_DAYS, ODR_REACH, load_snapshot
from app.timeutil import to_iso
from storage import queries

CHANNEL_KEYS = {"afn": "FBA", "mfn": "FBM"}
COMPONENTS = (
    ("orders", ("orderCount",)),
    ("defective_orders", ("orderWithDefects",)),
    ("negative_feedback", ("negativeFeedback",)),
    ("a_to_z_claims", ("claims", "aToZClaims", "atozClaims")),
    ("chargebacks", ("chargebacks", "chargeBacks")),
)
DEFECT_KIND_OF = {
    "negative_feedback": "negative_feedback",
    "a_to_z_claims": "a_to_z_claim",
    "chargebacks": "chargeback",
}


def lookup(mapping: object, *names: str):
    """A key of a JSON object, whatever its case, under any of its known names."""
    if not isinstance(mapping, dict):
        return None
    lowered = {str(key).lower(): value for key, value in mapping.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _count(value: object) -> int | None:
    """`{count: 6}` or a bare number."""
    value = lookup(value, "count") if isinstance(value, dict) else value
    return int(value) if isinstance(value, int | float) else None


def _day(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def amazon_odr(report: dict) -> list[dict]:
    """Amazon's ODR blocks: channel, reporting range and counts, per marketplace."""
    blocks = []
    for metrics in lookup(report, "performanceMetrics") or []:
        odr = lookup(metrics, "orderDefectRate", "odr")
        for key, channel in CHANNEL_KEYS.items():
            block = lookup(odr, key)
            span = lookup(block, "reportingDateRange")
            start, end = _day(lookup(span, "reportingDateFrom")), _day(lookup(span, "reportingDateTo"))
            if not isinstance(block, dict) or start is None or end is None:
                continue
            figures = {name: _count(lookup(block, *aliases)) for name, aliases in COMPONENTS}
            rate = lookup(block, "rate")
            blocks.append(
                {
                    "marketplace": lookup(metrics, "marketplaceId"),
                    "channel": channel,
                    "window_start": start,
                    "window_end": end,
                    **figures,
                    "rate": rate if isinstance(rate, int | float) else None,
                    "status": lookup(block, "status"),
                }
            )
    return blocks


def reconcile(db: sqlite_utils.Database, settings: Settings | None = None) -> dict | None:
    """The latest account health report beside the monitor's figures; None when none was imported."""
    snapshots = queries.health_snapshots(db)
    if not snapshots:
        return None
    latest = snapshots[-1]
    settings = settings or load_settings(db)
    channels = [_compare(db, block, settings) for block in amazon_odr(json.loads(latest["report_json"]))]
    return {
        "report_imported_at": to_iso(latest["imported_at"]),
        "channels": channels,
        "agrees": all(channel["agrees"] for channel in channels),
    }


def _compare(db, block: dict, settings: Settings) -> dict:
    start, end = block["window_start"], block["window_end"]
    as_of = end + timedelta(days=LAGGING_DAYS)
    snapshot = load_snapshot(db, min(as_of, start + timedelta(days=ODR_REACH)), as_of, settings)
    figure = odr_for_window(snapshot, as_of, start, end)
    mine = figure["by_channel"][block["channel"]]
    listed = [d for d in figure["defects"] if d["channel"] == block["channel"]]
    differences = []
    for name, _ in COMPONENTS:
        theirs, ours = block[name], mine[name]
        if theirs is not None and theirs != ours:
            explanation = _explain(name, theirs, ours, listed, snapshot, start, end)
            differences.append({"figure": name, "amazon": theirs, "monitor": ours, "explanation": explanation})
    return {
        "marketplace": block["marketplace"],
        "channel": block["channel"],
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "amazon": {name: block[name] for name, _ in COMPONENTS} | {"rate": block["rate"], "status": block["status"]},
        "monitor": {name: mine[name] for name, _ in COMPONENTS} | {"rate": mine["rate"], "status": mine["status"]},
        "agrees": not differences,
        "differences": differences,
    }


def _explain(name: str, theirs: int, ours: int, listed: list[dict], snapshot, start: date, end: date) -> str:
    gap = abs(theirs - ours)
    if name == "orders":
        if theirs > ours:
            first = snapshot.first_order_day
            hint = f" (your imported orders start on {first.isoformat()})" if first and first > start else ""
            return (
                f"Amazon counts {gap} more orders: your imported All Orders reports miss some orders of "
                f"{start.isoformat()} to {end.isoformat()}{hint}. Import a report covering that range."
            )
        return (
            f"The monitor counts {gap} more orders than Amazon: orders your report lists that Amazon leaves out "
            "(for example orders cancelled after the report was downloaded: import a newer All Orders report)."
        )
    kind = DEFECT_KIND_OF.get(name)
    ids = ", ".join(d["order_id"] for d in listed if kind is None or d["kind"] == kind)
    if theirs > ours:
        source = {
            "negative_feedback": "your imported feedback reports",
            "a_to_z_claims": "your claims file",
            "chargebacks": "your claims file",
        }.get(name, "your imported reports")
        return f"Amazon counts {gap} more: they are missing from {source}. Add them so the monitor can track them."
    return (
        f"The monitor counts {gap} more than Amazon. Amazon may have removed or excluded some of these "
        f"(orders {ids}); mark removed feedback or decided claims so the monitor agrees."
    )
