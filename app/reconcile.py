"""Amazon's own ODR (from an imported account health report) beside the monitor's, with the differences
explained as far as the seller's data can tell.

Amazon's report is read leniently: its schema names the same field differently across versions, so
keys are matched without regard to case and under their known aliases. The monitor recomputes the same
channel and the same reporting range, with defects known 14 days after the range ends (the report's
lag).

Only what both sides state is compared: the counts Amazon gives, its rate (to the precision Amazon wrote
it) and its status where it is one the monitor has a word for. A report that states nothing comparable is
never said to agree: `agrees` is then None, with the `reason`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import sqlite_utils

from app.amazon import MARKETPLACE_CODES, count, lookup, number, text
from app.marketplaces import canonical
from app.metrics import odr_for_window
from app.settings import Settings, load_settings
from app.snapshot import LAGGING_DAYS, ODR_REACH, load_snapshot
from app.summary import STATUS_WORDS, percent
from app.timeutil import to_iso
from storage import account_health as store
from storage.queries import Market

__all__ = ["amazon_odr", "lookup", "reconcile", "verdict"]

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
# Amazon's ODR statuses and the monitor's statuses they are consistent with. The monitor's "at risk" is its
# own early warning under 1 %, still good to Amazon. Any other word of Amazon's (NONE, FAIR, …) is not
# compared: there is no sure reading of it.
AMAZON_STATUS = {"GOOD": ("good", "at_risk"), "BAD": ("breach",), "POOR": ("breach",)}
# How far the monitor's rate may be from Amazon's and still agree: half a unit in the last decimal Amazon
# wrote (0.0397 is 3.97 % rounded), never less than 0.005 % nor more than 0.05 %.
FINEST, COARSEST = 0.00005, 0.0005


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def amazon_odr(report: dict) -> list[dict]:
    """Amazon's ODR blocks per marketplace and channel: reporting range (None when the block gives none),
    the counts, rate and status it states (None for what it leaves out)."""
    blocks = []
    for metrics in lookup(report, "performanceMetrics") or []:
        odr = lookup(metrics, "orderDefectRate", "odr")
        for key, channel in CHANNEL_KEYS.items():
            block = lookup(odr, key)
            if not isinstance(block, dict):
                continue
            span = lookup(block, "reportingDateRange")
            blocks.append(
                {
                    "marketplace": lookup(metrics, "marketplaceId"),
                    "channel": channel,
                    "window_start": _day(lookup(span, "reportingDateFrom")),
                    "window_end": _day(lookup(span, "reportingDateTo")),
                    **{name: _count(lookup(block, *aliases)) for name, aliases in COMPONENTS},
                    "rate": number(lookup(block, "rate")),
                    "status": text(lookup(block, "status")),
                }
            )
    return blocks


def _count(value: object) -> int | None:
    """`{count: 6}` or a bare number; None for `{status: NONE}` with no count."""
    return None if isinstance(value, list) else count(value)


def reconcile(db: sqlite_utils.Database, settings: Settings | None = None, as_of: date | None = None) -> dict | None:
    """The newest account health report (that existed by the end of `as_of`, when given) beside the
    monitor's figures; None when none was imported."""
    sha256 = store.newest_report(db, as_of)
    if sha256 is None:
        return None
    report = store.snapshot(db, sha256)
    settings = settings or load_settings(db)
    channels = [_compare(db, block, settings) for block in amazon_odr(json.loads(report["report_json"]))]
    compared = [channel for channel in channels if channel["agrees"] is not None]
    if not channels:
        reason = "Amazon's report has no ODR figures for FBA or FBM, so there is nothing to compare."
    elif not compared:
        reason = " ".join(dict.fromkeys(channel["reason"] for channel in channels))
    else:
        reason = None
    return {
        "report_sha256": sha256,
        "report_imported_at": to_iso(report["imported_at"]),
        "channels": channels,
        "agrees": all(channel["agrees"] for channel in compared) if compared else None,
        "reason": reason,
    }


def verdict(reconciliation: dict | None) -> str:
    """The comparison in one sentence: agrees, differs, or could not be compared and why ("" without a
    report). The differences themselves are each channel's `differences`."""
    if not reconciliation:
        return ""
    if reconciliation["agrees"] is None:
        return f"Amazon's account health report could not be compared with the monitor: {reconciliation['reason']}"
    if reconciliation["agrees"]:
        return "Amazon's account health report agrees with the monitor for its reporting range."
    return "Amazon's account health report differs from the monitor:"


def _compare(db, block: dict, settings: Settings) -> dict:
    start, end = block["window_start"], block["window_end"]
    theirs = {name: block[name] for name, _ in COMPONENTS} | {"rate": block["rate"], "status": block["status"]}
    result = {
        "marketplace": block["marketplace"],
        "channel": block["channel"],
        "window_start": start.isoformat() if start else None,
        "window_end": end.isoformat() if end else None,
        "amazon": theirs,
    }
    if start is None or end is None:
        reason = (
            f"Amazon's {block['channel']} figure gives no reporting range, so the monitor cannot count the same orders."
        )
        return result | {"monitor": None, "compared": [], "agrees": None, "reason": reason, "differences": []}
    as_of = end + timedelta(days=LAGGING_DAYS)
    # Amazon's figure is one marketplace's: the monitor's beside it counts that marketplace's orders, in its
    # days (a report of a marketplace the monitor does not know is held against every order, as before).
    code = MARKETPLACE_CODES.get(block["marketplace"])
    market = Market(canonical(code), settings.marketplace) if code else None
    mine_settings = settings.for_marketplace(market.code) if market else settings
    snapshot = load_snapshot(db, min(as_of, start + timedelta(days=ODR_REACH)), as_of, mine_settings, market)
    figure = odr_for_window(snapshot, as_of, start, end)
    mine = figure["by_channel"][block["channel"]]
    listed = [d for d in figure["defects"] if d["channel"] == block["channel"]]
    compared, differences = [], []
    for name, _ in COMPONENTS:
        if block[name] is None:
            continue
        compared.append(name)
        if block[name] != mine[name]:
            explanation = _explain(name, block[name], mine[name], listed, snapshot, start, end)
            differences.append(
                {"figure": name, "amazon": block[name], "monitor": mine[name], "explanation": explanation}
            )
    counts_differ = bool(differences)
    if block["rate"] is not None:
        compared.append("rate")
        if mine["rate"] is None or abs(mine["rate"] - block["rate"]) > _tolerance(block["rate"]) + 1e-12:
            explanation = _explain_rate(block, mine, start, end, counts_differ)
            differences.append(
                {"figure": "rate", "amazon": block["rate"], "monitor": mine["rate"], "explanation": explanation}
            )
    consistent = AMAZON_STATUS.get((block["status"] or "").upper())
    if consistent and mine["status"] != "insufficient_data":
        compared.append("status")
        if mine["status"] not in consistent:
            explanation = _explain_status(block, mine, bool(differences))
            differences.append(
                {"figure": "status", "amazon": block["status"], "monitor": mine["status"], "explanation": explanation}
            )
    reason = None
    if not compared and consistent:
        reason = (
            f"The monitor has no {block['channel']} orders purchased from {start.isoformat()} to "
            f"{end.isoformat()} to set against Amazon's status {block['status']}."
        )
    elif not compared:
        reason = (
            f"Amazon's {block['channel']} figure states no order count or rate, and its status "
            f"({block['status'] or 'none'}) is not one the monitor can check."
        )
    return result | {
        "monitor": {name: mine[name] for name, _ in COMPONENTS} | {"rate": mine["rate"], "status": mine["status"]},
        "compared": compared,
        "agrees": (not differences) if compared else None,
        "reason": reason,
        "differences": differences,
    }


def _tolerance(rate: float) -> float:
    if rate == 0:
        return FINEST
    exponent = Decimal(repr(float(rate))).normalize().as_tuple().exponent
    return min(max(0.5 * 10.0**exponent, FINEST), COARSEST)


def _explain_rate(block: dict, mine: dict, start: date, end: date, counts_differ: bool) -> str:
    channel, theirs = block["channel"], percent(block["rate"])
    if mine["rate"] is None:
        return (
            f"Amazon's {channel} rate is {theirs}, but the monitor has no {channel} orders purchased from "
            f"{start.isoformat()} to {end.isoformat()}: import an All Orders report covering that range."
        )
    ours = f"{percent(mine['rate'])} ({mine['defective_orders']} of {mine['orders']} orders)"
    if counts_differ:
        return f"Amazon {theirs}, monitor {ours}: it follows from the counts that differ."
    if all(block[name] is None for name, _ in COMPONENTS):
        return (
            f"Amazon {theirs}, monitor {ours}. Amazon's report gives no counts for {channel}, so the orders or "
            f"defects that differ cannot be named: check that your All Orders, feedback and claims imports cover "
            f"{start.isoformat()} to {end.isoformat()}, and mark feedback Amazon removed or claims it decided."
        )
    return f"Amazon {theirs}, monitor {ours}, with the counts Amazon gives agreeing: the counts it leaves out differ."


def _explain_status(block: dict, mine: dict, rate_differs: bool) -> str:
    at = f" at {percent(block['rate'])}" if block["rate"] is not None else ""
    said = f"Amazon rates {block['channel']} {block['status']}{at}"
    ours = f"the monitor's rate for the same orders is {percent(mine['rate'])}, {STATUS_WORDS[mine['status']]}"
    return f"{said}; {ours}" + (": it follows from the difference above." if rate_differs else ".")


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
