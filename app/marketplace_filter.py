"""Which marketplace a clock or a triage item belongs to: its record's (its order's, else the one chosen for
its file), so `clocks`, `triage` and their deadlines can be limited to one marketplace and run in its days."""

from __future__ import annotations

from collections import defaultdict

import sqlite_utils

from app import clocks as clock_kinds
from storage.queries import marketplaces_of

# The table each kind of clock's record is kept in, and whether the clock names it by its item or its order.
CLOCK_RECORDS = {
    clock_kinds.BUYER_REPLY: ("messages", "item"),
    clock_kinds.CSBA_INQUIRY: ("messages", "item"),
    clock_kinds.RETURN_RESPONSE: ("fbm_returns", "item"),
    clock_kinds.A_TO_Z_RESPONSE: ("claims", "order"),
    clock_kinds.CHARGEBACK_RESPONSE: ("claims", "order"),
    clock_kinds.A_TO_Z_APPEAL: ("claims", "order"),
    clock_kinds.FEEDBACK_REMOVAL: ("feedback", "item"),
}
# Triage item keys (`feedback:…`, `claim:ORDER:TYPE`) by the table of their record.
ITEM_TABLES = {
    "feedback": "feedback",
    "message": "messages",
    "return": "fbm_returns",
    "fba_return": "fba_returns",
    "claim": "claims",
}


def _lookup(db: sqlite_utils.Database, refs: list[tuple[str, str]], home: str) -> dict[tuple[str, str], str]:
    by_table: dict[str, list[str]] = defaultdict(list)
    for table, key in refs:
        by_table[table].append(key)
    found = {}
    for table, keys in by_table.items():
        found.update({(table, key): code for key, code in marketplaces_of(db, table, keys, home).items()})
    return found


def clock_record(clock) -> tuple[str, str]:
    table, by = CLOCK_RECORDS[clock.kind]
    return table, clock.item_id if by == "item" else clock.order_id


def clock_marketplaces(db: sqlite_utils.Database, clocks: list, home: str) -> list[str]:
    """The marketplace of each clock, in order (the home one for a record no longer found)."""
    refs = [clock_record(clock) for clock in clocks]
    found = _lookup(db, refs, home)
    return [found.get(ref, home) for ref in refs]


def item_record(key: str) -> tuple[str, str] | None:
    """The record a triage item key names, or None (a status change belongs to no marketplace)."""
    prefix, _, rest = key.partition(":")
    if prefix not in ITEM_TABLES or not rest:
        return None
    if prefix == "claim":
        rest = rest.rsplit(":", 1)[0]
    return ITEM_TABLES[prefix], rest


def items_of_marketplace(db: sqlite_utils.Database, items: list, marketplace: str, home: str) -> list:
    """The triage items whose record belongs to `marketplace`: status changes are about figures over every
    marketplace, so a list limited to one leaves them out."""
    refs = {item.key: item_record(item.key) for item in items}
    found = _lookup(db, [ref for ref in refs.values() if ref], home)
    return [item for item in items if refs[item.key] and found.get(refs[item.key], home) == marketplace]
