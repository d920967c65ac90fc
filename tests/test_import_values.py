"""Values no real report holds are rejected row by row, with the line and what was expected.

Amounts that are not finite (`1e999` would be stored as infinity, `NaN` as not-a-number), negative or
absurd quantities, dates before 1995 or after 2100, and order ids that are not Amazon's: each rejects its
row only, and the rest of the file imports exactly as the same file without that row does. The reports
are made here, in each report's real columns.
"""

from __future__ import annotations

from datetime import date

import pytest

from app.importers import values
from tests.report_files import Flat, import_one, made_up_orders, table_state


def claims(rows: int) -> Flat:
    header = ["order-id", "type", "filed-date", "status", "reason", "amount", "currency", "decided-date"]
    header.append("buy-shipping-protected")
    return Flat(
        header,
        [
            [f"112-{n:07d}-{n:07d}", "a-to-z", f"2026-09-{1 + n:02d}", "granted", "not-received", "29.50", "USD",
             f"2026-10-{1 + n:02d}", "N"]
            for n in range(rows)
        ],
        delimiter=",",
    )  # fmt: skip


def feedback(rows: int) -> Flat:
    header = ["Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email"]
    return Flat(
        header,
        [[f"9/{1 + n}/26", str(1 + n % 5), "Arrived late", "", f"113-{n:07d}-{n:07d}", ""] for n in range(rows)],
    )


def fbm_returns(rows: int) -> Flat:
    header = [
        "Order ID",
        "Order date",
        "Return request date",
        "Return request status",
        "Amazon RMA ID",
        "ASIN",
        "Merchant SKU",
        "Item Name",
        "Return quantity",
        "Order Amount",
        "Refunded Amount",
        "Currency code",
    ]
    return Flat(
        header,
        [
            [f"114-{n:07d}-{n:07d}", f"{1 + n}-Aug-2026", f"{1 + n}-Sep-2026", "Approved", f"RMA{n:05d}", "B0MUG00001",
             "MUG-1", "Mug", "1", "12.99", "12.99", "USD"]
            for n in range(rows)
        ],
    )  # fmt: skip


def fba_returns(rows: int) -> Flat:
    header = [
        "return-date",
        "order-id",
        "sku",
        "asin",
        "fnsku",
        "product-name",
        "quantity",
        "fulfillment-center-id",
        "detailed-disposition",
        "reason",
        "status",
        "license-plate-number",
        "customer-comments",
    ]
    return Flat(
        header,
        [
            [f"2026-09-{1 + n:02d}T10:00:00+00:00", f"111-{n:07d}-{n:07d}", "MUG-1", "B0MUG00001", "X00", "Mug", "1",
             "PHX7", "SELLABLE", "DEFECTIVE", "Unit returned to inventory", f"LPN{n:08d}", ""]
            for n in range(rows)
        ],
    )  # fmt: skip


REPORTS = {"orders": made_up_orders, "claims": claims, "feedback": feedback, "fbm": fbm_returns, "fba": fba_returns}
NOT_AN_AMOUNT = "is not an amount: expected a finite amount like 1234.56"
NOT_A_QUANTITY = "is not a quantity: expected a whole number from 0 to 1,000,000"
NOT_PLAUSIBLE = "is not a plausible date: expected a year from 1995 to 2100"
NOT_AN_ORDER_ID = "is not an Amazon order id like 113-1234567-1234567"
CASES = [
    ("orders", "item-price", "1e999", NOT_AN_AMOUNT),
    ("orders", "item-tax", "NaN", NOT_AN_AMOUNT),
    ("orders", "shipping-price", "inf", NOT_AN_AMOUNT),
    ("orders", "item-promotion-discount", "-Infinity", NOT_AN_AMOUNT),
    ("orders", "quantity", "-1", NOT_A_QUANTITY),
    ("orders", "quantity", "1000001", NOT_A_QUANTITY),
    ("orders", "quantity", "99999999999999999999", NOT_A_QUANTITY),  # past SQLite's integers
    ("orders", "purchase-date", "0001-01-01T00:00:00+00:00", NOT_PLAUSIBLE),
    ("orders", "purchase-date", "9999-12-31T23:59:59+00:00", NOT_PLAUSIBLE),
    ("orders", "last-updated-date", "9999-12-31T23:59:59-05:00", NOT_PLAUSIBLE),
    ("orders", "amazon-order-id", "scrubbed", NOT_AN_ORDER_ID),
    ("orders", "amazon-order-id", "1.13E+18", NOT_AN_ORDER_ID),
    ("orders", "amazon-order-id", "113-1234567-123456", NOT_AN_ORDER_ID),
    ("claims", "amount", "1e999", NOT_AN_AMOUNT),
    ("claims", "filed-date", "0001-01-01", NOT_PLAUSIBLE),
    ("claims", "decided-date", "9999-12-31", NOT_PLAUSIBLE),
    ("claims", "order-id", "scrubbed", NOT_AN_ORDER_ID),
    ("feedback", "Date", "12/31/9999", NOT_PLAUSIBLE),
    ("feedback", "Order ID", "#N/A", NOT_AN_ORDER_ID),
    ("fbm", "Return quantity", "-1", NOT_A_QUANTITY),
    ("fbm", "Refunded Amount", "NaN", NOT_AN_AMOUNT),
    ("fbm", "Return request date", "10-Jul-9999", NOT_PLAUSIBLE),
    ("fbm", "Order date", "1-Jan-0001", NOT_PLAUSIBLE),
    ("fbm", "Order ID", "scrubbed", NOT_AN_ORDER_ID),
    ("fba", "quantity", "-2", NOT_A_QUANTITY),
    ("fba", "return-date", "0001-01-01T00:00:00+00:00", NOT_PLAUSIBLE),
    ("fba", "order-id", "scrubbed", NOT_AN_ORDER_ID),
]


@pytest.mark.parametrize(("report", "column", "value", "expected"), CASES, ids=[f"{r}-{c}-{v}" for r, c, v, _ in CASES])
def test_value_that_cannot_be_true_rejects_its_row_only(report, column, value, expected, db, new_db, tmp_path):
    flat = REPORTS[report](12)
    bad = 7
    result = import_one(db, flat.copy().set(bad, column, value).write(tmp_path / "report.txt"))
    assert (result.outcome, result.rejected) == ("imported", 1)
    ((line, reason),) = result.rejections
    assert line == bad + 2  # the header is line 1
    assert f"'{value}' {expected}" in reason
    reference = new_db("reference.db")
    import_one(reference, flat.only_rows(i for i in range(len(flat.rows)) if i != bad).write(tmp_path / "rest.txt"))
    assert table_state(db) == table_state(reference)


def test_several_impossible_values_keep_their_own_lines(db, tmp_path):
    flat = made_up_orders(40)
    changes = {3: ("item-price", "1e999"), 9: ("quantity", "-3"), 20: ("purchase-date", "0001-01-01T00:00:00Z")}
    for row, (column, value) in changes.items():
        flat.set(row, column, value)
    flat.set(30, "amazon-order-id", "scrubbed")
    flat.set(31, "amazon-order-id", "scrubbed")
    result = import_one(db, flat.write(tmp_path / "orders.txt", newline="\r\n"))
    assert [line for line, _ in result.rejections] == [5, 11, 22, 32, 33]
    assert (result.added, db["order_items"].count) == (35, 35)
    finite = "SELECT count(*) FROM order_items WHERE abs(item_price) > 1e308 OR item_price <> item_price"
    assert db.execute(finite).fetchone()[0] == 0
    assert db.execute("SELECT min(quantity) FROM order_items").fetchone()[0] >= 0
    assert "scrubbed" not in {row["order_id"] for row in db["orders"].rows}


def test_orders_of_other_sales_channels_keep_their_own_ids(db, tmp_path):
    """Multi-Channel Fulfillment orders carry the other channel's ids; every rate leaves them out anyway."""
    flat = made_up_orders(5).set(2, "sales-channel", "Non-Amazon").set(2, "amazon-order-id", "S01-7207421-0001")
    result = import_one(db, flat.write(tmp_path / "orders.txt"))
    assert (result.outcome, result.added, result.rejected) == ("imported", 5, 0)
    assert db["orders"].get("S01-7207421-0001")["sales_channel"] == "Non-Amazon"


def test_a_cancelled_item_of_quantity_0_is_kept(db, tmp_path):
    flat = made_up_orders(3).set(1, "quantity", "0").set(1, "order-status", "Cancelled")
    result = import_one(db, flat.write(tmp_path / "orders.txt"))
    assert (result.outcome, result.added, result.rejected) == ("imported", 3, 0)


def buyer_message(number: int, sent: str) -> bytes:
    return (
        f"From buyer{number}@example.com Mon Oct  5 10:00:00 2026\n"
        f'From: "Alisa - Amazon Marketplace" <alias{number}+tok@marketplace.amazon.com>\n'
        f"Subject: Order delivery inquiry from Amazon customer Alisa (Order: 111-0000000-{number:07d})\n"
        f"Date: {sent}\n"
        f"Message-ID: <m{number}@amazon.com>\n\n"
        "------------- Begin message -------------\nWhere is it?\n------------- End message -------------\n\n"
    ).encode()


def test_e_mail_dated_in_an_impossible_year_is_rejected_at_its_line(db, tmp_path):
    good = buyer_message(1, "Mon, 5 Oct 2026 10:00:00 +0000")
    path = tmp_path / "Inbox.mbox"
    path.write_bytes(
        good + buyer_message(2, "Fri, 31 Dec 9999 10:00:00 +0000") + buyer_message(3, "Sun, 4 Oct 2026 10:00:00 -0000")
    )
    result = import_one(db, path)
    assert (result.outcome, result.added) == ("imported", 1)
    ((line, reason), (_, no_zone)) = result.rejections
    assert line == good.count(b"\n") + 2
    assert NOT_PLAUSIBLE in reason and "9999" in reason
    assert "has no time zone" in no_zone


@pytest.mark.parametrize(
    ("reader", "earliest", "latest", "too_early", "too_late"),
    [
        (values.instant, "1995-01-01T00:00:00+00:00", "2100-12-31T23:59:59Z", "1994-12-31T23:59:59Z", "2101-01-01"),
        (values.iso_date, "1995-01-01", "2100-12-31", "1994-12-31", "2101-01-01"),
        (values.day_month_name_year, "1-Jan-1995", "31-Dec-2100", "31-Dec-1994", "1-Jan-2101"),
    ],
    ids=["instant", "iso_date", "day_month_name_year"],
)
def test_dates_are_read_from_1995_to_2100(reader, earliest, latest, too_early, too_late):
    assert reader(earliest) and reader(latest)
    for text in (too_early, too_late):
        with pytest.raises(ValueError, match=NOT_PLAUSIBLE):
            reader(text)


def test_feedback_dates_are_read_from_1995_to_2100():
    from app.importers.feedback import read_date

    assert read_date("1/1/1995", "MDY") == date(1995, 1, 1).isoformat()
    assert read_date("2100-12-31", "MDY") == "2100-12-31"
    assert read_date("9/16/26", "MDY") == "2026-09-16"
    for text, order in (("31/12/1994", "DMY"), ("1/2/0001", "MDY"), ("31.12.9999", "DMY")):
        with pytest.raises(ValueError, match=NOT_PLAUSIBLE):
            read_date(text, order)


def test_a_year_written_in_full_is_the_year_written():
    assert values.day_month_name_year("10-Jul-26") == "2026-07-10"
    with pytest.raises(ValueError, match=NOT_PLAUSIBLE):
        values.day_month_name_year("10-Jul-0026")


@pytest.mark.parametrize(
    ("text", "amount"), [("12.99", 12.99), ("1,234.56", 1234.56), ("1.234,56", 1234.56), ("-2.00", -2.0), ("0", 0)]
)
def test_real_amounts_still_read(text, amount):
    assert values.money(text) == amount
