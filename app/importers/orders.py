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
from datetime import datetime

from app.importers.common import ImportOptions, Memo, Parsed, flat_rows
from app.importers.flat import Header
from app.importers.limits import FIRST_YEAR, LAST_YEAR
from app.importers.values import amazon_order_id, flag, instant, is_amazon_order_id, money, quantity
from app.marketplaces import of_sales_channel

LABEL = "All Orders report"
CHANNELS = {"amazon": "FBA", "afn": "FBA", "merchant": "FBM", "mfn": "FBM"}
SIGNATURE = ("amazon-order-id", "purchase-date", "order-status", "fulfillment-channel")
CANCELLED = "Cancelled"
# Amazon's reports write `Cancelled`; tools that rebuild them from the Selling Partner API write the US
# `Canceled`. Both are stored one way, so that the rates' "not cancelled" test sees every cancellation.
CANCELLED_SPELLINGS = frozenset(("cancelled", "canceled"))


# A column the file lacks is read at position -1: the empty cell appended to every row before it is read,
# so each optional cell is one `row[position].strip()`, with no test for an absent column.
ABSENT = -1
OPTIONAL = (
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
from_iso = datetime.fromisoformat  # bound once: it runs twice on every row of the largest reports


def _status(text: str) -> str:
    """An order's or item's status as stored: either spelling of cancelled as `Cancelled`."""
    return CANCELLED if text.lower() in CANCELLED_SPELLINGS else text


def _channel(text: str) -> str | None:
    """The fulfillment channel a cell names, in any case; None for another channel."""
    return CHANNELS.get(text.lower())


def _instant(text: str) -> int:
    """`values.instant` for the text of every real row (an offset, a plausible year), without its checks'
    cost; any other text goes through `instant` itself, which gives the same value or the same reason."""
    try:
        moment = from_iso(text)
    except ValueError:
        return instant(text)
    if moment.tzinfo is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return instant(text)
    return int(moment.timestamp())


def _at(header: Header, *aliases: str) -> int:
    position = header.position(*aliases)
    return ABSENT if position is None else position


def recognises(header: Header) -> bool:
    return header.has(*SIGNATURE)


def parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
    p_order, p_purchase, p_status, p_channel = header.require(LABEL, *SIGNATURE)
    p_sku, p_asin, p_updated = _at(header, "sku", "seller-sku"), _at(header, "asin"), _at(header, "last-updated-date")
    # A row cut short by a spreadsheet (its trailing empty cells dropped) is read if it still reaches
    # every column a row needs: the four that identify the report and the first of sku and asin. `flat_rows`
    # pads it to the header's length, so every position read below is inside the row.
    item_columns = [position for position in (p_sku, p_asin) if position != ABSENT]
    needed = [p_order, p_purchase, p_status, p_channel, *([min(item_columns)] if item_columns else [])]
    at = {name: _at(header, name) for name in OPTIONAL}
    p_merchant, p_sales, p_level = at["merchant-order-id"], at["sales-channel"], at["ship-service-level"]
    p_state, p_country, p_business = at["ship-state"], at["ship-country"], at["is-business-order"]
    p_name, p_item_status, p_quantity, p_currency = (
        at["product-name"],
        at["item-status"],
        at["quantity"],
        at["currency"],
    )
    p_price, p_tax, p_shipping, p_discount = (
        at["item-price"],
        at["item-tax"],
        at["shipping-price"],
        at["item-promotion-discount"],
    )
    # This is the hot path of the largest reports, so the values that repeat from row to row are read once
    # each by the same readers and remembered: what is stored and what is rejected, with its reason, are
    # those of reading every cell.
    amounts, quantities, flags = Memo(money), Memo(quantity), Memo(flag)
    statuses, channels = Memo(_status), Memo(_channel)
    marketplaces = Memo(lambda sales_channel: of_sales_channel(sales_channel) or options.file_marketplace)
    # Whether the order being read (its item rows are consecutive in Amazon's reports) has an item that
    # is not cancelled so far: until it has, the order is stored cancelled. When a later item row of
    # the same order is live, its record (same last-updated instant, later in the file) replaces that.
    current = ["", False]

    def read_row(row: list[str]) -> tuple:
        row.append("")  # the cell at ABSENT
        # The checks run in the order of the row's meaning (its order, item, dates, status, channel, then
        # the values), so a row with two bad cells is rejected for the first of them.
        order_id = row[p_order].strip()
        if not order_id:
            raise ValueError("missing amazon-order-id")
        sales_channel = row[p_sales].strip()
        # Orders of other sales channels (Multi-Channel Fulfillment) carry that channel's own ids; they are
        # kept as they are and left out of every rate, as `storage.queries.COUNTABLE` does.
        if not is_amazon_order_id(order_id) and not sales_channel.lower().startswith("non-amazon"):
            amazon_order_id(order_id)
        asin = row[p_asin].strip() or None
        sku = row[p_sku].strip() or asin
        if not sku:
            raise ValueError(f"order {order_id}: missing sku")
        purchased_text = row[p_purchase].strip()
        if not purchased_text:
            raise ValueError(f"order {order_id}: missing purchase-date")
        purchased_at = _instant(purchased_text)
        updated_text = row[p_updated].strip()
        updated_at = _instant(updated_text) if updated_text else purchased_at
        status = row[p_status].strip()
        if not status:
            raise ValueError(f"order {order_id}: missing order-status")
        status = statuses[status]
        channel_text = row[p_channel].strip()
        channel = channels[channel_text]
        if channel is None:
            raise ValueError(f"order {order_id}: fulfillment-channel '{channel_text}' is not Amazon or Merchant")
        item_status = row[p_item_status].strip()
        item_status = statuses[item_status] if item_status else None
        number = row[p_quantity].strip()
        price, tax = row[p_price].strip(), row[p_tax].strip()
        shipping, discount = row[p_shipping].strip(), row[p_discount].strip()
        item = (
            order_id,
            sku,
            updated_at,
            asin,
            row[p_name].strip() or None,
            item_status,
            quantities[number] if number else None,
            row[p_currency].strip() or None,
            amounts[price] if price else None,
            amounts[tax] if tax else None,
            amounts[shipping] if shipping else None,
            amounts[discount] if discount else None,
        )
        if current[0] != order_id:
            current[0], current[1] = order_id, False
        if item_status != CANCELLED:
            current[1] = True
        elif not current[1]:
            status = CANCELLED
        business = row[p_business].strip()
        order = (
            order_id,
            row[p_merchant].strip() or None,
            purchased_at,
            updated_at,
            status,
            channel,
            sales_channel or None,
            row[p_level].strip() or None,
            row[p_state].strip() or None,
            row[p_country].strip() or None,
            flags[business] if business else None,
            marketplaces[sales_channel],
        )
        return order, item

    return flat_rows(lines, header, read_row, needed)
