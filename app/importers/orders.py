"""All Orders report (flat file, by order date or by last update): one row per order item.

Each row yields the order (its order-level fields repeat on every item row) and the item. Only the
buyer's state and country are kept of the shipping address: no feature needs the city or postcode.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.importers.common import ImportOptions, Parsed, amount_at, flat_rows, quantity_at
from app.importers.flat import Header, cell
from app.importers.values import amazon_order_id, flag, instant, is_amazon_order_id

LABEL = "All Orders report"
CHANNELS = {"amazon": "FBA", "afn": "FBA", "merchant": "FBM", "mfn": "FBM"}
SIGNATURE = ("amazon-order-id", "purchase-date", "order-status", "fulfillment-channel")


def recognises(header: Header) -> bool:
    return header.has(*SIGNATURE)


def parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
    p_order, p_purchase, p_status, p_channel = header.require(LABEL, *SIGNATURE)
    p_sku = header.position("sku", "seller-sku")
    p_asin = header.position("asin")
    p_updated = header.position("last-updated-date")
    optional = {
        name: header.position(name)
        for name in (
            "merchant-order-id",
            "sales-channel",
            "ship-service-level",
            "ship-state",
            "ship-country",
            "is-business-order",
            "product-name",
            "item-status",
            "quantity",
            "currency",
            "item-price",
            "item-tax",
            "shipping-price",
            "item-promotion-discount",
        )
    }
    o = optional

    def read_row(row: list[str]) -> tuple:
        order_id = row[p_order].strip()
        if not order_id:
            raise ValueError("missing amazon-order-id")
        sales_channel = cell(row, o["sales-channel"])
        # Orders of other sales channels (Multi-Channel Fulfillment) carry that channel's own ids; they are
        # kept as they are and left out of every rate, as `storage.queries.COUNTABLE` does.
        if not is_amazon_order_id(order_id) and not (sales_channel or "").lower().startswith("non-amazon"):
            amazon_order_id(order_id)
        sku = cell(row, p_sku) or cell(row, p_asin)
        if not sku:
            raise ValueError(f"order {order_id}: missing sku")
        purchased_text = row[p_purchase].strip()
        if not purchased_text:
            raise ValueError(f"order {order_id}: missing purchase-date")
        purchased_at = instant(purchased_text)
        updated_text = cell(row, p_updated)
        updated_at = instant(updated_text) if updated_text else purchased_at
        status = row[p_status].strip()
        if not status:
            raise ValueError(f"order {order_id}: missing order-status")
        channel_text = row[p_channel].strip()
        channel = CHANNELS.get(channel_text.lower())
        if channel is None:
            raise ValueError(f"order {order_id}: fulfillment-channel '{channel_text}' is not Amazon or Merchant")
        business = cell(row, o["is-business-order"])
        order = (
            order_id,
            cell(row, o["merchant-order-id"]),
            purchased_at,
            updated_at,
            status,
            channel,
            sales_channel,
            cell(row, o["ship-service-level"]),
            cell(row, o["ship-state"]),
            cell(row, o["ship-country"]),
            flag(business) if business else None,
        )
        item = (
            order_id,
            sku,
            updated_at,
            cell(row, p_asin),
            cell(row, o["product-name"]),
            cell(row, o["item-status"]),
            quantity_at(row, o["quantity"]),
            cell(row, o["currency"]),
            amount_at(row, o["item-price"]),
            amount_at(row, o["item-tax"]),
            amount_at(row, o["shipping-price"]),
            amount_at(row, o["item-promotion-discount"]),
        )
        return order, item

    return flat_rows(lines, header, read_row)
