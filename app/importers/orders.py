"""All Orders report (flat file, by order date or by last update): one row per order item.

Each row yields the order (its order-level fields repeat on every item row) and the item. Only the
buyer's state and country are kept of the shipping address: no feature needs the city or postcode.

An order is cancelled when Amazon says so, or when every one of its items is cancelled: metrics.md
counts orders "with at least one item", and a cancelled item is one the buyer will never get. Such an
order is stored as `Cancelled`, the status every rate already leaves out. An order with some items
cancelled keeps its status and counts. Columns the rates do not need (`is-replacement-order`,
`is-heavy-or-bulky`, `customized-url`, `ship-promotion-id`, …) are read past: a replacement order is a
new order and counts as any other (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.importers.common import ImportOptions, Parsed, amount_at, flat_rows, quantity_at
from app.importers.flat import Header, cell
from app.importers.values import amazon_order_id, flag, instant, is_amazon_order_id
from app.marketplaces import of_sales_channel

LABEL = "All Orders report"
CHANNELS = {"amazon": "FBA", "afn": "FBA", "merchant": "FBM", "mfn": "FBM"}
SIGNATURE = ("amazon-order-id", "purchase-date", "order-status", "fulfillment-channel")
CANCELLED = "Cancelled"
# Amazon's reports write `Cancelled`; tools that rebuild them from the Selling Partner API write the US
# `Canceled`. Both are stored one way, so that the rates' "not cancelled" test sees every cancellation.
CANCELLED_SPELLINGS = frozenset(("cancelled", "canceled"))


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
    # A row cut short by a spreadsheet (its trailing empty cells dropped) is read if it still reaches
    # every column a row needs: the four that identify the report and the first of sku and asin.
    item_columns = [position for position in (p_sku, p_asin) if position is not None]
    needed = [p_order, p_purchase, p_status, p_channel, *([min(item_columns)] if item_columns else [])]
    # Whether the order being read (its item rows are consecutive in Amazon's reports) has an item that
    # is not cancelled so far: until it has, the order is stored cancelled. When a later item row of
    # the same order is live, its record (same last-updated instant, later in the file) replaces that.
    current = ["", False]

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
        if status.lower() in CANCELLED_SPELLINGS:
            status = CANCELLED
        channel_text = row[p_channel].strip()
        channel = CHANNELS.get(channel_text.lower())
        if channel is None:
            raise ValueError(f"order {order_id}: fulfillment-channel '{channel_text}' is not Amazon or Merchant")
        business = cell(row, o["is-business-order"])
        item_status = cell(row, o["item-status"])
        if item_status is not None and item_status.lower() in CANCELLED_SPELLINGS:
            item_status = CANCELLED
        item = (
            order_id,
            sku,
            updated_at,
            cell(row, p_asin),
            cell(row, o["product-name"]),
            item_status,
            quantity_at(row, o["quantity"]),
            cell(row, o["currency"]),
            amount_at(row, o["item-price"]),
            amount_at(row, o["item-tax"]),
            amount_at(row, o["shipping-price"]),
            amount_at(row, o["item-promotion-discount"]),
        )
        if current[0] != order_id:
            current[0], current[1] = order_id, False
        if item_status != CANCELLED:
            current[1] = True
        elif not current[1]:
            status = CANCELLED
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
            of_sales_channel(sales_channel) or options.file_marketplace,
        )
        return order, item

    return flat_rows(lines, header, read_row, needed)
