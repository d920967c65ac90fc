"""The All Orders importer reads its rows by position and remembers repeated values, for speed on the
largest reports. Here its results are compared with those of the plain row reader it replaced (kept below,
unchanged), over seeded reports holding every quirk the importer handles: both must store the same orders
and items and reject the same lines for the same reasons, on a first import, a re-import and an update.

Each report is made here from a seed: orders of one to three consecutive item rows (cancelled items among
live ones), columns dropped, renamed, moved or added, and up to three odd cells a row (order ids a
spreadsheet mangled, dates without an offset or out of range, both spellings of cancelled, odd channels,
European and symbol amounts, amounts that are not finite, bad quantities and flags), plus rows cut short,
padded, with an extra cell, or blank.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from app.importers import ahead, orders
from app.importers.common import ImportOptions, Memo, Parsed, amount_at, flat_rows, quantity_at
from app.importers.flat import Header, cell
from app.importers.orders import CANCELLED, CANCELLED_SPELLINGS, CHANNELS, LABEL, SIGNATURE
from app.importers.values import amazon_order_id, flag, instant, is_amazon_order_id
from app.imports import import_files
from app.marketplaces import of_sales_channel
from storage import open_db
from tests.report_files import ALL_ORDERS_HEADER

ROWS = 2500
SEEDS = range(6)

# Odd cells, by column; a row takes up to three.
ODD = {
    "amazon-order-id": ["", " 111-1234567-1234567 ", "scrubbed", "1.13E+18", "#N/A", "999-0000000-0000000"],
    "purchase-date": [
        "",
        "2026-10-01T12:00:00",
        "2026-10-01T12:00:00Z",
        "1990-01-01T00:00:00+00:00",
        "2100-12-31T23:30:00-12:00",
        "yesterday",
        " 2026-10-01T12:00:00-07:00 ",
        "2026-10-01",
        "2026-10-01 12:00:00.250+05:30",
        "20261001T120000Z",
    ],
    "last-updated-date": ["", "2026-13-01T00:00:00+00:00", "2101-01-01T00:00:00+00:00", "2026-10-02T09:00:00+02:00"],
    "order-status": ["", "canceled", "CANCELLED", " Shipped ", "Pending", "Shipped" + " and more" * 10],
    "fulfillment-channel": ["", "AFN", "mfn", "merchant ", "Other", "AMAZON"],
    "sales-channel": ["", "Non-Amazon", "non-amazon shop", "Amazon.co.uk", "amazon.ca", " Amazon.de ", "Unknown.shop"],
    "item-status": ["", "Canceled", "cancelled", "Shipped", "Unshipped"],
    "quantity": ["", "0", "-1", "1.5", "99999999", "1000000", "3", " 2", "x"],
    "item-price": [
        "",
        "1,234.56",
        "12,99",
        "1.234,56",
        "1 234,56",
        "$5.00",
        "€3",
        "\u00a07.50",
        "1e999",
        "NaN",
        "-inf",
        "abc",
        " 7.5 ",
        "1_000",
        "0" * 70 + "1.5",
    ],
    "item-tax": ["", "0.80", "x", "0,80"],
    "shipping-price": ["", "4.99", "£4.99"],
    "item-promotion-discount": ["", "-1.00", "-0"],
    "is-business-order": ["", "true", "N", "maybe", "1", "YES", "False"],
    "sku": ["", " SKU-1 "],
    "asin": ["", "B0001"],
    "product-name": ["", "  Mug ☕  ", 'Phone Case "Slim"'],
    "currency": ["", "EUR"],
    "ship-state": ["", " TX "],
    "ship-country": ["", "US"],
}
# Columns a report may lack, and the names a column may go by.
DROPPABLE = [name for name in ODD if name not in SIGNATURE and name != "sku"] + ["merchant-order-id"]


def quirky_header(rng: random.Random) -> list[str]:
    header = [name for name in ALL_ORDERS_HEADER if name not in DROPPABLE or rng.random() > 0.2]
    if rng.random() < 0.3:
        header.remove("sku")
    elif rng.random() < 0.3:
        header[header.index("sku")] = "seller-sku"
    if rng.random() < 0.5:
        rng.shuffle(header)
    if rng.random() < 0.5:
        header.insert(rng.randrange(len(header) + 1), "is-heavy-or-bulky")
    return header


def plain_item(rng: random.Random, order_id: str, channel: str, live: bool) -> dict[str, str]:
    item_status = "Shipped" if live else rng.choice(("Cancelled", "Canceled"))
    sku = f"SKU-{rng.randrange(4)}"
    return {
        "amazon-order-id": order_id,
        "merchant-order-id": order_id if channel == "Amazon" else "",
        "purchase-date": "2026-10-01T12:00:00+00:00",
        "last-updated-date": f"2026-10-0{rng.randint(2, 9)}T09:00:00+00:00",
        "order-status": "Shipped",
        "fulfillment-channel": channel,
        "sales-channel": "Amazon.com",
        "ship-service-level": "Standard",
        "product-name": f"Item {sku}",
        "sku": sku,
        "seller-sku": sku,
        "asin": f"B0{sku}",
        "item-status": item_status,
        "quantity": "1" if live else "0",
        "currency": "USD",
        "item-price": f"{rng.randrange(100, 5000) / 100:.2f}",
        "item-tax": "",
        "is-business-order": "false",
        "ship-state": "TX",
        "ship-country": "US",
    }


def odd_cells(rng: random.Random, cells: dict[str, str]) -> None:
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        name = rng.choice(list(ODD))
        value = rng.choice(ODD[name])
        cells[name] = value
        if name == "sku":
            cells["seller-sku"] = value


def odd_shape(rng: random.Random, row: list[str]) -> list[str]:
    """Rows a spreadsheet cut short or padded, with a stray cell, or blank."""
    chance = rng.random()
    if chance < 0.03:
        return row[: rng.randrange(1, len(row))]
    if chance < 0.05:
        return [*row, "", ""]
    if chance < 0.06:
        return [*row, "extra"]
    if chance < 0.07:
        return [" "] * len(row)
    return row


def quirky_report(path: Path, seed: int, order_ids: list[str], rows: int = ROWS) -> Path:
    rng = random.Random(seed)
    header = quirky_header(rng)
    lines = ["\t".join(header)]
    while len(lines) <= rows:
        order_id, channel = rng.choice(order_ids), rng.choice(("Amazon", "Merchant"))
        for _ in range(rng.choice((1, 1, 2, 3))):
            cells = plain_item(rng, order_id, channel, live=rng.random() > 0.25)
            odd_cells(rng, cells)
            lines.append("\t".join(odd_shape(rng, [cells.get(name, "") for name in header])))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def imported(db_path: Path, reports: list[Path]) -> dict:
    """What importing each report in turn, then each again, stored and answered."""
    db = open_db(db_path)
    try:
        results = [result.to_json() for result in import_files(db, [*reports, *reports], now=lambda: 0)]
        tables = {
            table: db.conn.execute(f"SELECT * FROM {table} ORDER BY order_id, rowid").fetchall()
            for table in ("orders", "order_items")
        }
    finally:
        db.close()
    return {"results": results, "tables": tables}


def compare(tmp_path: Path, seed: int) -> tuple[dict, dict]:
    """The importer's outcome and the plain row reader's, for two quirky reports of the same orders."""
    rng = random.Random(seed)
    order_ids = [f"{rng.randrange(111, 115)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}" for _ in range(400)]
    reports = [quirky_report(tmp_path / f"orders-{n}.txt", seed * 10 + n, order_ids) for n in (1, 2)]
    fast = imported(tmp_path / "fast.db", reports)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orders, "parse", reference_parse)
        patch.setattr(ahead, "AHEAD_BYTES", 10**15)  # the plain reader is this process's
        plain = imported(tmp_path / "plain.db", reports)
    return fast, plain


@pytest.fixture(autouse=True)
def away_from_utc(monkeypatch):
    """The computer's clock in a zone away from UTC, so that a time read in local time would show."""
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("seed", SEEDS)
def test_the_importer_stores_and_rejects_what_the_plain_reader_does(tmp_path, seed):
    fast, plain = compare(tmp_path, seed)
    assert fast["results"] == plain["results"]
    assert fast["tables"] == plain["tables"]
    # The reports did hold what the comparison is about: stored orders of both states and many rejections.
    first = fast["results"][0]
    assert first["added"] > 500 and len({reason.split(":")[-1] for reason in _reasons(first)}) > 10
    assert {row[4] for row in fast["tables"]["orders"]} >= {"Shipped", "Cancelled"}


def test_memos_that_fill_up_or_meet_long_texts_change_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(Memo, "LIMIT", 3)
    monkeypatch.setattr(Memo, "LONGEST", 4)
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 10**15)  # the limits are this process's
    fast, plain = compare(tmp_path, seed=99)
    assert fast == plain


def _reasons(result: dict) -> list[str]:
    return [rejection["reason"] for rejection in result["rejections"]]


# The plain row reader, as the importer had it before rows were read by position: each cell through `cell`,
# each value through its reader, every time.


def reference_parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
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
