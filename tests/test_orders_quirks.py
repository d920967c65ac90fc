"""All Orders reports as sellers really have them: cancelled items in shipped orders, both spellings of
cancelled, rows a spreadsheet saved without their trailing empty cells, and the columns Amazon added
(`is-replacement-order`, `is-heavy-or-bulky`, `customized-url`, `ship-promotion-id`).

Each test writes a report into the test's folder, imports it into a real database, and checks what was
stored and the Order Defect Rate computed from it. As of 2026-11-08 the lagging window is 2026-08-27 to
2026-10-25; every order here is purchased on 2026-10-01, inside it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import app.imports
from app.services import compute_metrics
from tests.report_files import ALL_ORDERS_HEADER, import_one, rows_by, table_state

AS_OF = date(2026, 11, 8)
# The real report's columns with the four Amazon added at the end, as recent downloads have them.
HEADER = [*ALL_ORDERS_HEADER, "is-replacement-order", "is-heavy-or-bulky", "customized-url", "ship-promotion-id"]


def item_row(order_id: str, sku: str = "MUG-11OZ", status: str = "Shipped", item_status: str | None = None, **cells):
    """One item row; `item_status` follows the order's unless given; other cells by column name."""
    values = {
        "amazon-order-id": order_id,
        "purchase-date": "2026-10-01T12:00:00+00:00",
        "last-updated-date": cells.pop("updated", "2026-10-02T09:00:00+00:00"),
        "order-status": status,
        "fulfillment-channel": "Merchant",
        "sales-channel": "Amazon.com",
        "ship-service-level": "Standard",
        "product-name": f"Item {sku}",
        "sku": sku,
        "asin": f"B0{sku[:3]}0001",
        "item-status": item_status or status,
        "quantity": "0" if (item_status or status).lower().startswith("cancel") else "1",
        "currency": "USD",
        "item-price": "14.99",
        "ship-city": "AUSTIN",
        "ship-state": "TX",
        "ship-postal-code": "78701",
        "ship-country": "US",
        "is-business-order": "false",
        "is-replacement-order": "false",
        "is-heavy-or-bulky": "false",
    }
    values.update({name.replace("_", "-"): value for name, value in cells.items()})
    return [values.get(name, "") for name in HEADER]


def orders_file(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.write_text("\n".join("\t".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    return path


def feedback_file(path: Path, order_ids: list[str]) -> Path:
    lines = ["Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"]
    lines += [f"10/20/26\t1\tBroken on arrival\t\t{order_id}\t" for order_id in order_ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def odr(db) -> dict:
    return compute_metrics(db, AS_OF)["order_defect_rate"]["by_channel"]["FBM"]


def order_id(number: int) -> str:
    return f"111-{number:07d}-{number:07d}"


# --- a cancelled item in a shipped order ------------------------------------------------------------------

SOME_CANCELLED, ALL_CANCELLED, ORDER_CANCELED, PLAIN = order_id(1), order_id(2), order_id(3), order_id(4)


@pytest.mark.parametrize("spelling", ["Cancelled", "Canceled"])
@pytest.mark.parametrize("cancelled_first", [False, True], ids=["shipped-item-first", "cancelled-item-first"])
@pytest.mark.parametrize("batch_rows", [1, 5000], ids=["row-by-row", "one-batch"])
def test_an_order_counts_while_one_of_its_items_is_not_cancelled(
    spelling, cancelled_first, batch_rows, db, tmp_path, monkeypatch
):
    # One row per write too, so the order's records meet in the database and not only inside a batch.
    monkeypatch.setattr(app.imports, "BATCH_ROWS", batch_rows)
    some = [item_row(SOME_CANCELLED, "MUG-11OZ"), item_row(SOME_CANCELLED, "CASE-PH12", item_status=spelling)]
    rows = [
        *(some[::-1] if cancelled_first else some),
        item_row(ALL_CANCELLED, "MUG-11OZ", item_status=spelling),
        item_row(ALL_CANCELLED, "CASE-PH12", item_status=spelling),
        item_row(ORDER_CANCELED, status=spelling),
        item_row(PLAIN),
    ]
    result = import_one(db, orders_file(tmp_path / "orders.txt", rows))
    assert (result.outcome, result.added, result.rejected) == ("imported", 6, 0)
    orders = rows_by(db, "orders", "order_id")
    assert {number: row["status"] for number, row in orders.items()} == {
        SOME_CANCELLED: "Shipped",
        ALL_CANCELLED: "Cancelled",
        ORDER_CANCELED: "Cancelled",
        PLAIN: "Shipped",
    }
    items = {(row["order_id"], row["sku"]): row for row in db["order_items"].rows}
    assert items[(SOME_CANCELLED, "CASE-PH12")]["item_status"] == "Cancelled"
    assert items[(SOME_CANCELLED, "CASE-PH12")]["quantity"] == 0
    assert items[(SOME_CANCELLED, "MUG-11OZ")]["item_status"] == "Shipped"
    import_one(db, feedback_file(tmp_path / "feedback.txt", [SOME_CANCELLED]))
    figure = odr(db)
    assert (figure["orders"], figure["defective_orders"], figure["negative_feedback"]) == (2, 1, 1)
    assert figure["rate"] == 0.5


def test_a_later_report_cancelling_the_last_item_takes_the_order_out_and_an_older_one_does_not_bring_it_back(
    db, tmp_path
):
    pending = orders_file(
        tmp_path / "by-order-date.txt", [item_row(SOME_CANCELLED, status="Pending", updated="2026-10-01T12:00:00Z")]
    )
    import_one(db, pending)
    assert odr(db)["orders"] == 1
    later = item_row(SOME_CANCELLED, status="Shipped", item_status="Canceled", updated="2026-10-03T08:00:00Z")
    import_one(db, orders_file(tmp_path / "by-last-update.txt", [later]))
    assert rows_by(db, "orders", "order_id")[SOME_CANCELLED]["status"] == "Cancelled"
    assert odr(db)["orders"] == 0
    assert import_one(db, pending).rejected == 0
    assert rows_by(db, "orders", "order_id")[SOME_CANCELLED]["status"] == "Cancelled"
    assert odr(db)["orders"] == 0


# --- rows a spreadsheet saved without their trailing empty cells ------------------------------------------


def trimmed(row: list[str]) -> list[str]:
    """The row as a spreadsheet saves it: without its trailing empty cells."""
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def test_a_row_without_its_trailing_empty_cells_reads_as_the_full_row(db, new_db, tmp_path):
    full = [
        item_row(order_id(1), is_replacement_order="", is_heavy_or_bulky=""),
        item_row(order_id(2), is_business_order="", is_replacement_order="", is_heavy_or_bulky=""),
        item_row(order_id(3), ship_country="", is_business_order="", is_replacement_order="", is_heavy_or_bulky=""),
    ]
    cut = [trimmed(row) for row in full]
    assert [len(row) for row in cut] == [30, 28, 27]  # is-business-order, ship-state, ship-postal-code last
    result = import_one(db, orders_file(tmp_path / "saved-by-a-spreadsheet.txt", cut))
    assert (result.outcome, result.added, result.rejected) == ("imported", 3, 0)
    reference = new_db("reference.db")
    assert import_one(reference, orders_file(tmp_path / "downloaded.txt", full)).added == 3
    assert table_state(db) == table_state(reference)
    stored = rows_by(db, "orders", "order_id")
    assert (stored[order_id(1)]["is_business"], stored[order_id(2)]["is_business"]) == (0, None)
    assert stored[order_id(3)]["ship_country"] is None
    assert odr(db)["orders"] == 3


@pytest.mark.parametrize(
    ("kept", "missing"),
    [
        (3, "order-status, fulfillment-channel and sku"),
        (5, "fulfillment-channel and sku"),
        (11, "sku"),
    ],
)
def test_a_row_that_stops_before_a_needed_column_is_rejected_with_its_line(kept, missing, db, tmp_path):
    rows = [item_row(order_id(1)), item_row(order_id(2))[:kept], item_row(order_id(3))]
    result = import_one(db, orders_file(tmp_path / "orders.txt", rows))
    assert (result.outcome, result.added) == ("imported", 2)
    expected = f"expected {len(HEADER)} fields as in the header, found {kept}"
    assert [(r.line, r.reason) for r in result.rejections] == [
        (3, f"{expected}: the row ends before {missing}, which every row needs")
    ]
    assert sorted(rows_by(db, "orders", "order_id")) == [order_id(1), order_id(3)]
    assert odr(db)["orders"] == 2


def test_a_row_that_stops_after_the_sku_is_read(db, tmp_path):
    row = item_row(order_id(1))[: HEADER.index("sku") + 1]
    result = import_one(db, orders_file(tmp_path / "orders.txt", [row]))
    assert (result.outcome, result.added, result.rejected) == ("imported", 1, 0)
    (item,) = db["order_items"].rows
    assert (item["sku"], item["asin"], item["quantity"], item["item_price"]) == ("MUG-11OZ", None, None, None)
    assert odr(db)["orders"] == 1


# --- the columns Amazon added; replacement orders ---------------------------------------------------------


def test_the_added_columns_are_read_past_and_a_replacement_order_counts(db, new_db, tmp_path):
    original, replacement = order_id(1), order_id(2)
    rows = [
        item_row(original, customized_url="https://zme-caps.amazon.com/t/abc/def", ship_promotion_id="FreeShip-1"),
        item_row(replacement, item_price="0.00", is_replacement_order="true", is_heavy_or_bulky="true"),
        *(item_row(order_id(number)) for number in range(3, 11)),
    ]
    result = import_one(db, orders_file(tmp_path / "orders.txt", rows))
    assert (result.outcome, result.added, result.rejected) == ("imported", 10, 0)
    # The same report without the four columns stores exactly the same.
    positions = [HEADER.index(name) for name in HEADER[:-4]]
    reference = new_db("reference.db")
    without = orders_file(tmp_path / "older.txt", [[row[p] for p in positions] for row in rows], HEADER[:-4])
    assert import_one(reference, without).added == 10
    assert table_state(db) == table_state(reference)
    # The replacement is an order of its own: in the denominator, and a defect on it is a defect.
    import_one(db, feedback_file(tmp_path / "feedback.txt", [replacement]))
    figure = odr(db)
    assert (figure["orders"], figure["defective_orders"], figure["rate"]) == (10, 1, 0.1)
    assert compute_metrics(db, AS_OF)["order_defect_rate"]["defects"][0]["order_id"] == replacement
