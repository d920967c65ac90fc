"""A-to-z Guarantee claims and chargebacks, in the monitor's own CSV template.

Amazon offers no report or API that lists claims, so the seller keeps them in this template (an empty
copy ships as `resources/claims-template.csv`) or enters them by hand. One row per claim; a row with the
same order and type updates the claim (its status changes over time).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.importers.common import ImportOptions, Parsed, flat_rows
from app.importers.flat import Header, cell
from app.importers.values import amazon_order_id, flag, iso_date, money

LABEL = "claims file (A-to-z claims and chargebacks)"
TEMPLATE_COLUMNS = (
    "order-id",
    "type",
    "filed-date",
    "status",
    "reason",
    "amount",
    "currency",
    "decided-date",
    "buy-shipping-protected",
)
SIGNATURE = ("order-id", "type", "filed-date", "status", "reason")
TYPES = ("a-to-z", "chargeback")
STATUSES = ("open", "granted", "denied", "withdrawn", "withdrawn-after-grant")
REASONS = {
    "a-to-z": ("not-received", "late-delivery", "damaged-in-transit", "not-as-described", "defective", "other"),
    "chargeback": ("service", "fraud", "other"),
}


def recognises(header: Header) -> bool:
    return header.has(*SIGNATURE)


def _choice(value: str | None, allowed: tuple[str, ...], column: str, order_id: str) -> str:
    normalised = (value or "").lower().replace("_", "-").replace(" ", "-")
    if normalised == "a-z" or normalised == "atoz":
        normalised = "a-to-z"
    if normalised not in allowed:
        raise ValueError(f"order {order_id}: {column} '{value or ''}' is not one of {', '.join(allowed)}")
    return normalised


def parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
    p_order, p_type, p_filed, p_status, p_reason = header.require(LABEL, *SIGNATURE)
    p_amount, p_currency, p_decided, p_protected = (
        header.position(name) for name in ("amount", "currency", "decided-date", "buy-shipping-protected")
    )

    def read_row(row: list[str]) -> tuple:
        order_id = row[p_order].strip()
        if not order_id:
            raise ValueError("missing order-id")
        amazon_order_id(order_id)
        claim_type = _choice(cell(row, p_type), TYPES, "type", order_id)
        filed = cell(row, p_filed)
        if not filed:
            raise ValueError(f"order {order_id}: missing filed-date")
        decided = cell(row, p_decided)
        amount = cell(row, p_amount)
        protected = cell(row, p_protected)
        return (
            (
                order_id,
                claim_type,
                iso_date(filed),
                _choice(cell(row, p_status), STATUSES, "status", order_id),
                _choice(cell(row, p_reason), REASONS[claim_type], "reason", order_id),
                money(amount) if amount else None,
                cell(row, p_currency),
                iso_date(decided) if decided else None,
                flag(protected) if protected else 0,
            ),
        )

    return flat_rows(lines, header, read_row)
