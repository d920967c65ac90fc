"""Which marketplace a clock or a triage item belongs to: its record's (its order's, else the one chosen for
its file), so `clocks`, `triage` and their deadlines can be limited to one marketplace and run in its days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields

import sqlite_utils

from app.clocks import ClockInputs
from storage.queries import marketplaces_of

# What may be on a clock, by the table its records are kept in and the key naming one there (the key the
# clock of that record carries as its item, or as its order for a claim).
INPUT_RECORDS = {
    "unanswered": ("messages", lambda message: message.message_id),
    "pending_returns": ("fbm_returns", lambda request: request.return_id),
    "claims": ("claims", lambda claim: claim.order_id),
    "negative_feedback": ("feedback", lambda feedback: feedback.order_id),
    "fba_claims": ("fba_returns", lambda claim: claim.return_key),
    "safet_returns": ("fbm_returns", lambda request: request.return_id),
}
# Triage item keys (`feedback:…`, `claim:ORDER:TYPE`) by the table of their record.
ITEM_TABLES = {
    "feedback": "feedback",
    "message": "messages",
    "return": "fbm_returns",
    "fba_return": "fba_returns",
    "claim": "claims",
    "fba_reimbursement": "fba_returns",
    "safet": "fbm_returns",
    "reply": "replies",
}


def _lookup(db: sqlite_utils.Database, refs: list[tuple[str, str]], home: str) -> dict[tuple[str, str], str]:
    by_table: dict[str, list[str]] = defaultdict(list)
    for table, key in refs:
        by_table[table].append(key)
    found = {}
    for table, keys in by_table.items():
        found.update({(table, key): code for key, code in marketplaces_of(db, table, keys, home).items()})
    return found


def inputs_by_marketplace(db: sqlite_utils.Database, inputs: ClockInputs, home: str) -> dict[str, ClockInputs]:
    """What may be on a clock, split by the marketplace of each record (the home one for a record no longer
    found), each part with the orders its records name, so each can be dated in its own marketplace's days."""
    refs = [(table, key(record)) for name, (table, key) in INPUT_RECORDS.items() for record in getattr(inputs, name)]
    found = _lookup(db, refs, home)
    parts: dict[str, dict[str, list]] = defaultdict(lambda: {name: [] for name in INPUT_RECORDS})
    for name, (table, key) in INPUT_RECORDS.items():
        for record in getattr(inputs, name):
            parts[found.get((table, key(record)), home)][name].append(record)
    return {code: _part(inputs, lists) for code, lists in parts.items()}


def _part(inputs: ClockInputs, lists: dict[str, list]) -> ClockInputs:
    order_ids = {record.order_id for records in lists.values() for record in records}
    orders = {order_id: inputs.orders[order_id] for order_id in order_ids if order_id in inputs.orders}
    shared = {f.name: getattr(inputs, f.name) for f in fields(inputs) if f.name not in INPUT_RECORDS}
    return ClockInputs(**(shared | lists | {"orders": orders}))


def item_record(key: str) -> tuple[str, str] | None:
    """The record a triage item key names, or None (a status change belongs to no marketplace)."""
    prefix, _, rest = key.partition(":")
    if prefix not in ITEM_TABLES or not rest:
        return None
    if prefix == "claim":
        rest = rest.rsplit(":", 1)[0]
    return ITEM_TABLES[prefix], rest


def item_marketplaces(db: sqlite_utils.Database, items: list, home: str) -> dict[str, str | None]:
    """The marketplace of each triage item by its key: None for a status change, which is about a figure
    over every marketplace."""
    refs = {item.key: item_record(item.key) for item in items}
    found = _lookup(db, [ref for ref in refs.values() if ref], home)
    return {key: found.get(ref, home) if ref else None for key, ref in refs.items()}
