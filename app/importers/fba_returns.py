"""FBA customer returns (`GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA`): returns Amazon handled.

They never enter RDR; their reason and the buyer's comment are product-quality signals for triage.
The report has no return ID, so a return is identified by order, SKU, return instant and the unit's
licence plate number.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.importers.common import ImportOptions, Parsed, flat_rows, quantity_at
from app.importers.flat import Header, cell
from app.importers.values import amazon_order_id, instant

LABEL = "FBA customer returns report"
SIGNATURE = ("return-date", "order-id", "reason")


def recognises(header: Header) -> bool:
    return header.has(*SIGNATURE) and (header.has("detailed-disposition") or header.has("fnsku"))


def parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
    p_date, p_order, p_reason = header.require(LABEL, *SIGNATURE)
    p = {
        name: header.position(name)
        for name in (
            "sku",
            "asin",
            "product-name",
            "quantity",
            "detailed-disposition",
            "status",
            "license-plate-number",
            "customer-comments",
        )
    }

    def read_row(row: list[str]) -> tuple:
        order_id = row[p_order].strip()
        if not order_id:
            raise ValueError("missing order-id")
        amazon_order_id(order_id)
        date_text = row[p_date].strip()
        if not date_text:
            raise ValueError(f"order {order_id}: missing return-date")
        returned_at = instant(date_text)
        sku = cell(row, p["sku"])
        key = f"{order_id}|{sku or ''}|{returned_at}|{cell(row, p['license-plate-number']) or ''}"
        return (
            (
                key,
                order_id,
                returned_at,
                sku,
                cell(row, p["asin"]),
                cell(row, p["product-name"]),
                quantity_at(row, p["quantity"]),
                cell(row, p["detailed-disposition"]),
                cell(row, p_reason),
                cell(row, p["status"]),
                cell(row, p["customer-comments"]),
            ),
        )

    return flat_rows(lines, header, read_row)
