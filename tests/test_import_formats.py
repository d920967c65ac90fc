"""Every importer on real files: the samples as they are, and the shapes real downloads take.

The kind of report is recognised by content (files get misleading names here), stored values are
checked against the sample's own cells, and every variant (encodings, byte-order mark, CRLF, gzip, zip,
single-space cells, reordered, extra and dropped columns, marketplace date formats) must store exactly
what the plain sample stores.
"""

from __future__ import annotations

import json
import mailbox
import re
import shutil
from datetime import date, datetime
from email.utils import parsedate_to_datetime

import pytest

from app.imports import import_files
from app.settings import save_setting
from tests.conftest import SAMPLE_FILES
from tests.report_files import Flat, gzipped, import_log, import_one, rows_by, table_state, zipped

KIND_OF_SAMPLE = {
    "all-orders.txt": "all_orders",
    "seller-feedback.txt": "seller_feedback",
    "fbm-returns.txt": "fbm_returns",
    "fba-customer-returns.txt": "fba_returns",
    "claims.csv": "claims",
    "account-health.json": "account_health",
    "Inbox.mbox": "mail",
    "Sent.mbox": "mail",
}
FLAT_SAMPLES = ("all-orders.txt", "seller-feedback.txt", "fbm-returns.txt", "fba-customer-returns.txt", "claims.csv")
# All in ISO-8859-1, so every encoding under test can carry them.
NON_ASCII_NAMES = ("Crème brûlée set", "Grüner Tee Becher", "Smørrebrød board", "Piñata größe XL")


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def us_date(text: str) -> date:
    month, day, year = (int(part) for part in text.split("/"))
    return date(2000 + year, month, day)


def reference_state(new_db, path):
    """What importing `path` into a fresh database stores."""
    reference = new_db("reference.db")
    assert import_one(reference, path).outcome == "imported"
    return table_state(reference)


# --- every kind, recognised by content ---------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_FILES)
@pytest.mark.parametrize("misleading", ["report.csv", "rotated"])
def test_sample_is_recognised_by_content_not_by_name(name, misleading, samples, tmp_path, db, new_db):
    if misleading == "rotated":  # the name of another kind of report
        misleading = SAMPLE_FILES[(SAMPLE_FILES.index(name) + 1) % len(SAMPLE_FILES)]
    renamed = shutil.copy(samples / name, tmp_path / misleading)
    result = import_one(db, renamed)
    assert (result.outcome, result.kind, result.rejected) == ("imported", KIND_OF_SAMPLE[name], 0)
    assert result.added > 0
    assert table_state(db) == reference_state(new_db, samples / name)
    logged = import_log(db)[-1]
    assert (logged["file_name"], logged["kind"], logged["outcome"]) == (misleading, result.kind, "imported")


def test_order_rows_are_stored_with_channel_status_and_instants(sample_db, samples):
    flat = Flat.read(samples / "all-orders.txt")
    orders = rows_by(sample_db, "orders", "order_id")
    items = {(row["order_id"], row["sku"]): row for row in sample_db["order_items"].rows}
    channels = {"Amazon": "FBA", "Merchant": "FBM"}
    assert set(flat.values("fulfillment-channel")) == set(channels)
    assert {"Pending", "Shipped", "Cancelled"} <= set(flat.values("order-status"))
    for row in flat.rows:
        cell = dict(zip(flat.header, row, strict=True))
        order = orders[cell["amazon-order-id"]]
        assert order["channel"] == channels[cell["fulfillment-channel"]]
        assert order["status"] == cell["order-status"]
        assert order["purchased_at"] == epoch(cell["purchase-date"])
        assert order["last_updated_at"] == epoch(cell["last-updated-date"])
        assert (order["ship_state"], order["ship_country"]) == (cell["ship-state"], cell["ship-country"])
        assert order["is_business"] == (cell["is-business-order"] == "true")
        item = items[cell["amazon-order-id"], cell["sku"]]
        assert item["product_name"] == cell["product-name"]
        assert item["quantity"] == int(cell["quantity"])
        assert item["item_price"] == float(cell["item-price"])
        assert item["asin"] == cell["asin"]


def test_feedback_dates_are_read_as_us_month_day_year(sample_db, samples):
    flat = Flat.read(samples / "seller-feedback.txt")
    stored = rows_by(sample_db, "feedback", "order_id")
    assert any(us_date(text).day > 12 for text in flat.values("Date")), "the sample needs an unambiguous date"
    for row in flat.rows:
        cell = dict(zip(flat.header, row, strict=True))
        feedback = stored[cell["Order ID"]]
        assert feedback["feedback_date"] == us_date(cell["Date"]).isoformat()
        assert feedback["rating"] == int(cell["Rating"])
        assert feedback["comments"] == (cell["Comments"] or None)
        assert feedback["response"] == (cell["Your Response"] or None)


def test_fbm_returns_dates_like_10_jul_2026(sample_db, samples):
    flat = Flat.read(samples / "fbm-returns.txt")
    stored = rows_by(sample_db, "fbm_returns", "return_id")
    for row in flat.rows:
        cell = dict(zip(flat.header, row, strict=True))
        assert re.fullmatch(r"\d{2}-[A-Z][a-z]{2}-\d{4}", cell["Return request date"])
        request = stored[cell["Amazon RMA ID"]]
        assert request["request_date"] == datetime.strptime(cell["Return request date"], "%d-%b-%Y").date().isoformat()
        assert request["order_date"] == datetime.strptime(cell["Order date"], "%d-%b-%Y").date().isoformat()
        assert (request["order_id"], request["status"]) == (cell["Order ID"], cell["Return request status"])
        assert request["item_name"] == cell["Item Name"]
        assert request["reason"] == cell["Return Reason"]


def test_fba_returns_keep_reason_and_comment(sample_db, samples):
    flat = Flat.read(samples / "fba-customer-returns.txt")
    stored = {(row["order_id"], row["returned_at"]): row for row in sample_db["fba_returns"].rows}
    for row in flat.rows:
        cell = dict(zip(flat.header, row, strict=True))
        returned = stored[cell["order-id"], epoch(cell["return-date"])]
        assert returned["reason"] == cell["reason"]
        assert returned["customer_comments"] == (cell["customer-comments"] or None)
        assert (returned["product_name"], returned["sku"]) == (cell["product-name"], cell["sku"])
        assert returned["disposition"] == cell["detailed-disposition"]


def test_claims_are_stored_per_order_and_type(sample_db, samples):
    flat = Flat.read(samples / "claims.csv")
    stored = {(row["order_id"], row["type"]): row for row in sample_db["claims"].rows}
    assert len(stored) == len(flat.rows)
    for row in flat.rows:
        cell = dict(zip(flat.header, row, strict=True))
        claim = stored[cell["order-id"], cell["type"]]
        assert (claim["filed_on"], claim["status"], claim["reason"]) == (
            cell["filed-date"],
            cell["status"],
            cell["reason"],
        )
        assert claim["decided_on"] == (cell["decided-date"] or None)
        assert claim["buy_shipping_protected"] == (cell["buy-shipping-protected"] == "Y")


def test_account_health_report_is_kept_whole(sample_db, samples):
    (snapshot,) = sample_db["account_health_snapshots"].rows
    assert json.loads(snapshot["report_json"]) == json.loads((samples / "account-health.json").read_text())


def read_mbox(path, folder) -> list:
    """The e-mails of an mbox (read from a copy: the mailbox module opens its file for writing)."""
    box = mailbox.mbox(shutil.copy(path, folder / path.name), create=False)
    try:
        return list(box)
    finally:
        box.close()


def alias_of(address: str) -> str:
    return address.split("@")[0].split("+")[0].lower()


def test_buyer_messages_keep_order_topic_and_thread_alias(sample_db, samples, tmp_path):
    stored = rows_by(sample_db, "messages", "message_id")
    inbox = read_mbox(samples / "Inbox.mbox", tmp_path)
    assert len(stored) == len(inbox)
    pre_order = 0
    for mail in inbox:
        message = stored[mail["Message-ID"].strip("<>")]
        order = re.search(r"\(Order: ([\d-]+)\)", mail["Subject"])
        pre_order += order is None
        assert message["order_id"] == (order.group(1) if order else None)
        assert message["topic"] == mail["Subject"].split(" inquiry from ")[0]
        assert message["thread_key"] == alias_of(re.search(r"<(.+)>", mail["From"]).group(1))
        assert message["received_at"] == int(parsedate_to_datetime(mail["Date"]).timestamp())
        assert "Begin message" not in message["body"] and message["body"] in mail.get_payload()
    assert pre_order > 0, "the sample should hold a pre-order question"


def test_replies_are_tied_to_the_alias_and_auto_replies_flagged(sample_db, samples, tmp_path):
    stored = rows_by(sample_db, "replies", "message_id")
    threads = {row["thread_key"] for row in sample_db["messages"].rows}
    sent = read_mbox(samples / "Sent.mbox", tmp_path)
    assert len(stored) == len(sent)
    automatic = [mail for mail in sent if mail["Auto-Submitted"] == "auto-replied"]
    assert len(automatic) == 1
    for mail in sent:
        reply = stored[mail["Message-ID"].strip("<>")]
        assert reply["automatic"] == (mail in automatic)
        assert reply["thread_key"] == alias_of(mail["To"]) and reply["thread_key"] in threads
        order = re.search(r"\(Order: ([\d-]+)\)", mail["Subject"])
        assert reply["order_id"] == (order.group(1) if order else None)


# --- encodings, line endings, compression ------------------------------------------------------------


def with_names(flat: Flat, column: str, names=NON_ASCII_NAMES) -> Flat:
    """The report with `column` holding the given product names in turn."""
    changed = flat.copy()
    for index in range(len(changed.rows)):
        changed.set(index, column, names[index % len(names)])
    return changed


ENCODINGS = [
    pytest.param("utf-8", False, "\n", id="utf8"),
    pytest.param("utf-8", True, "\n", id="utf8-bom"),
    pytest.param("utf-8", True, "\r\n", id="utf8-bom-crlf"),
    pytest.param("cp1252", False, "\n", id="windows-1252"),
    pytest.param("cp1252", False, "\r\n", id="windows-1252-crlf"),
    pytest.param("latin-1", False, "\n", id="iso-8859-1"),
    pytest.param("latin-1", False, "\r\n", id="iso-8859-1-crlf"),
    pytest.param("utf-16", False, "\r\n", id="utf16-excel-unicode-text"),
]


@pytest.mark.parametrize(("encoding", "bom", "newline"), ENCODINGS)
def test_product_names_survive_every_encoding(encoding, bom, newline, samples, tmp_path, db):
    flat = with_names(Flat.read(samples / "all-orders.txt"), "product-name")
    result = import_one(db, flat.write(tmp_path / "orders.txt", encoding=encoding, bom=bom, newline=newline))
    assert (result.outcome, result.rejected, result.added) == ("imported", 0, len(flat.rows))
    stored = {(row["order_id"], row["sku"]): row["product_name"] for row in db["order_items"].rows}
    order, sku, name = flat.at("amazon-order-id"), flat.at("sku"), flat.at("product-name")
    assert stored == {(row[order], row[sku]): row[name] for row in flat.rows}
    assert "Crème brûlée set" in stored.values()


def encodable(flat: Flat, encoding: str) -> Flat:
    """The report with characters the encoding lacks replaced, so every encoding carries the same text."""
    rows = [[cell.encode(encoding, errors="replace").decode(encoding) for cell in row] for row in flat.rows]
    return Flat(flat.header, rows, flat.delimiter)


@pytest.mark.parametrize("name", FLAT_SAMPLES)
@pytest.mark.parametrize(("encoding", "bom", "newline"), ENCODINGS)
def test_every_flat_report_reads_the_same_in_every_encoding(
    name, encoding, bom, newline, samples, tmp_path, db, new_db
):
    flat = encodable(Flat.read(samples / name), encoding)
    reference = flat.write(tmp_path / "reference.txt")
    result = import_one(db, flat.write(tmp_path / "report.txt", encoding=encoding, bom=bom, newline=newline))
    assert (result.outcome, result.rejected) == ("imported", 0)
    assert table_state(db) == reference_state(new_db, reference)


def test_windows_1252_found_only_after_the_first_64_kib(samples, tmp_path, db):
    """The first bytes look like ASCII; the file is read again as windows-1252 when the accent shows up."""
    flat = with_names(Flat.read(samples / "all-orders.txt"), "product-name", ["Plain mug"])
    flat.set(len(flat.rows) - 1, "product-name", "Crème brûlée set")
    path = flat.write(tmp_path / "orders.txt", encoding="cp1252", newline="\r\n")
    assert path.stat().st_size > 64 * 1024 and path.read_bytes()[: 64 * 1024].isascii()
    result = import_one(db, path)
    assert (result.outcome, result.added, result.encoding) == ("imported", len(flat.rows), "cp1252")
    last = flat.rows[-1]
    stored = db.execute(
        "SELECT product_name FROM order_items WHERE order_id = ? AND sku = ?",
        [last[flat.at("amazon-order-id")], last[flat.at("sku")]],
    ).fetchone()
    assert stored == ("Crème brûlée set",)


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_gzipped_sample_imports_like_the_plain_one(name, samples, tmp_path, db, new_db):
    result = import_one(db, gzipped(samples / name, tmp_path / "download.txt"))
    assert (result.outcome, result.kind, result.rejected) == ("imported", KIND_OF_SAMPLE[name], 0)
    assert table_state(db) == reference_state(new_db, samples / name)


def test_gzipped_windows_1252_with_crlf(samples, tmp_path, db):
    flat = with_names(Flat.read(samples / "all-orders.txt"), "product-name")
    plain = flat.write(tmp_path / "orders.txt", encoding="cp1252", newline="\r\n")
    result = import_one(db, gzipped(plain, tmp_path / "orders.txt.gz"))
    assert (result.outcome, result.added) == ("imported", len(flat.rows))
    assert {row["product_name"] for row in db["order_items"].rows} == set(NON_ASCII_NAMES)


def test_zip_with_every_report_imports_each_member(samples, tmp_path, db, new_db):
    archive = zipped(tmp_path / "reports.zip", {f"folder/{name}": samples / name for name in SAMPLE_FILES})
    results = import_files(db, [archive])
    assert [(r.outcome, r.kind, r.rejected) for r in results] == [
        ("imported", KIND_OF_SAMPLE[name], 0) for name in SAMPLE_FILES
    ]
    assert [r.file for r in results] == [f"reports.zip:folder/{name}" for name in SAMPLE_FILES]
    reference = new_db("reference.db")
    import_files(reference, [samples / name for name in SAMPLE_FILES])
    assert table_state(db) == table_state(reference)


def test_zip_made_on_a_mac_skips_its_resource_forks(samples, tmp_path, db, new_db):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x05\x16\x07 Mac OS X resource fork")
    archive = zipped(
        tmp_path / "orders.zip",
        {"all-orders.txt": samples / "all-orders.txt", "__MACOSX/._all-orders.txt": junk, ".DS_Store": junk},
    )
    results = import_files(db, [archive])
    assert [(r.outcome, r.kind) for r in results] == [("imported", "all_orders")]
    assert table_state(db) == reference_state(new_db, samples / "all-orders.txt")


def test_zipped_windows_1252_report(samples, tmp_path, db):
    flat = with_names(Flat.read(samples / "all-orders.txt"), "product-name")
    plain = flat.write(tmp_path / "orders.txt", encoding="cp1252")
    (result,) = import_files(db, [zipped(tmp_path / "orders.zip", {"orders.txt": plain})])
    assert (result.outcome, result.added) == ("imported", len(flat.rows))
    assert {row["product_name"] for row in db["order_items"].rows} == set(NON_ASCII_NAMES)


@pytest.mark.parametrize("name", ["Inbox.mbox", "Sent.mbox"])
def test_mailbox_with_crlf_line_endings(name, samples, tmp_path, db, new_db):
    crlf = tmp_path / name
    crlf.write_bytes((samples / name).read_bytes().replace(b"\n", b"\r\n"))
    result = import_one(db, crlf)
    assert (result.outcome, result.rejected) == ("imported", 0)
    assert table_state(db) == reference_state(new_db, samples / name)


def test_single_eml_file_is_one_message(samples, tmp_path, db, new_db):
    first = read_mbox(samples / "Inbox.mbox", tmp_path)[0]
    eml = tmp_path / "message.txt"
    eml.write_bytes(first.as_bytes().split(b"\n", 1)[1] if first.as_bytes().startswith(b"From ") else first.as_bytes())
    result = import_one(db, eml)
    assert (result.outcome, result.kind, result.added) == ("imported", "mail", 1)
    reference = new_db("reference.db")
    import_one(reference, samples / "Inbox.mbox")
    (stored,) = db["messages"].rows
    assert stored == reference["messages"].get(stored["message_id"])


@pytest.mark.parametrize(("bom", "newline", "indent"), [(True, "\r\n", 4), (False, "\n", None)])
def test_account_health_json_with_bom_crlf_or_reindented(bom, newline, indent, samples, tmp_path, db, new_db):
    document = json.loads((samples / "account-health.json").read_text())
    text = json.dumps(document, indent=indent).replace("\n", newline)
    path = tmp_path / "health.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    assert import_one(db, path).outcome == "imported"
    assert table_state(db) == reference_state(new_db, samples / "account-health.json")


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_blank_lines_before_the_content(name, samples, tmp_path, db, new_db):
    padded = tmp_path / name
    padded.write_bytes(b"\xef\xbb\xbf\r\n\r\n" + (samples / name).read_bytes())
    result = import_one(db, padded)
    assert (result.outcome, result.kind, result.rejected) == ("imported", KIND_OF_SAMPLE[name], 0)
    assert table_state(db) == reference_state(new_db, samples / name)


# --- empty cells and reports without rows ------------------------------------------------------------


@pytest.mark.parametrize("name", FLAT_SAMPLES)
def test_single_space_cells_count_as_empty(name, samples, tmp_path, db, new_db):
    flat = Flat.read(samples / name)
    spaced = Flat(flat.header, [[cell or " " for cell in row] for row in flat.rows], flat.delimiter)
    assert spaced.text() != flat.text(), "the sample should have empty cells"
    result = import_one(db, spaced.write(tmp_path / "report.txt"))
    assert (result.outcome, result.rejected) == ("imported", 0)
    assert table_state(db) == reference_state(new_db, samples / name)


@pytest.mark.parametrize(
    "content",
    [b"CANCELLED", b"CANCELLED\n", b"\xef\xbb\xbfCANCELLED\r\n", b'"CANCELLED"\r\n'],
    ids=["bare", "newline", "bom-crlf", "quoted"],
)
def test_cancelled_report_has_no_rows(content, sample_db, tmp_path):
    before = table_state(sample_db)
    path = tmp_path / "report.txt"
    path.write_bytes(content)
    for candidate in (path, gzipped(path, tmp_path / "report.txt.gz")):
        result = import_one(sample_db, candidate)
        assert (result.outcome, result.kind, result.recognised) == ("no_rows", "cancelled", True)
        assert import_log(sample_db)[-1]["outcome"] == "no_rows"
    assert table_state(sample_db) == before


@pytest.mark.parametrize("name", FLAT_SAMPLES)
@pytest.mark.parametrize(("bom", "newline", "trailer"), [(False, "\n", ""), (True, "\r\n", "\r\n \r\n")])
def test_header_only_report_has_no_rows(name, bom, newline, trailer, sample_db, samples, tmp_path):
    before = table_state(sample_db)
    header_only = Flat.read(samples / name).only_rows([])
    path = header_only.write(tmp_path / "report.txt", bom=bom, newline=newline)
    path.write_bytes(path.read_bytes() + trailer.encode())
    result = import_one(sample_db, path)
    assert (result.outcome, result.kind, result.added) == ("no_rows", KIND_OF_SAMPLE[name], 0)
    assert table_state(sample_db) == before


# --- columns matched by name -------------------------------------------------------------------------


@pytest.mark.parametrize("name", FLAT_SAMPLES)
def test_reordered_columns(name, samples, tmp_path, db, new_db):
    flat = Flat.read(samples / name)
    reordered = flat.select(list(reversed(flat.header)))
    assert import_one(db, reordered.write(tmp_path / "report.txt")).outcome == "imported"
    assert table_state(db) == reference_state(new_db, samples / name)


@pytest.mark.parametrize("name", FLAT_SAMPLES)
def test_extra_unknown_columns(name, samples, tmp_path, db, new_db):
    flat = Flat.read(samples / name).copy()
    flat.add_column("cpf", "123.456.789-00", position=1).add_column("fulfilled-by", "Amazon Partner")
    result = import_one(db, flat.write(tmp_path / "report.txt"))
    assert (result.outcome, result.rejected) == ("imported", 0)
    assert table_state(db) == reference_state(new_db, samples / name)


def test_unused_order_columns_may_be_missing(samples, tmp_path, db, new_db):
    unused = (
        "url",
        "order-channel",
        "ship-city",
        "ship-postal-code",
        "gift-wrap-price",
        "gift-wrap-tax",
        "promotion-ids",
        "purchase-order-number",
        "price-designation",
        "shipping-tax",
        "ship-promotion-discount",
    )
    flat = Flat.read(samples / "all-orders.txt").drop(*unused)
    assert import_one(db, flat.write(tmp_path / "orders.txt")).outcome == "imported"
    assert table_state(db) == reference_state(new_db, samples / "all-orders.txt")


def test_a_missing_optional_column_stores_nothing_for_it(samples, tmp_path, db, new_db):
    flat = Flat.read(samples / "all-orders.txt").drop("is-business-order", "item-tax")
    assert import_one(db, flat.write(tmp_path / "orders.txt")).outcome == "imported"
    reference = new_db("reference.db")
    import_one(reference, samples / "all-orders.txt")
    assert {row["is_business"] for row in db["orders"].rows} == {None}
    assert {row["item_tax"] for row in db["order_items"].rows} == {None}
    reference.execute("UPDATE orders SET is_business = NULL")
    reference.execute("UPDATE order_items SET item_tax = NULL")
    assert table_state(db) == table_state(reference)


@pytest.mark.parametrize("style", ["Title Case", "snake_case", "kebab-case"])
def test_column_names_in_any_spelling(style, samples, tmp_path, db, new_db):
    flat = Flat.read(samples / "fbm-returns.txt").copy()
    spell = {
        "Title Case": lambda n: n.replace("-", " ").title(),
        "snake_case": lambda n: n.lower().replace(" ", "_"),
        "kebab-case": lambda n: n.lower().replace(" ", "-"),
    }[style]
    flat.header = [spell(name) for name in flat.header]
    assert import_one(db, flat.write(tmp_path / "returns.txt")).outcome == "imported"
    assert table_state(db) == reference_state(new_db, samples / "fbm-returns.txt")


@pytest.mark.parametrize("column", ["Your Response", "Response"])
def test_feedback_response_column_may_be_called_response(column, samples, tmp_path, db):
    flat = Flat.read(samples / "seller-feedback.txt").copy().set(0, "Your Response", "Sorry, refund issued")
    flat.rename("Your Response", column)
    assert import_one(db, flat.write(tmp_path / "feedback.txt")).outcome == "imported"
    responses = {row["order_id"]: row["response"] for row in db["feedback"].rows}
    assert responses == {row[flat.at("Order ID")]: row[flat.at(column)] or None for row in flat.rows}
    assert "Sorry, refund issued" in responses.values()


# --- feedback dates per marketplace ------------------------------------------------------------------

DATE_FORMATS = {
    "US": lambda d: f"{d.month}/{d.day}/{d:%y}",
    "UK": lambda d: f"{d.day}/{d.month}/{d:%y}",
    "DE": lambda d: f"{d.day}.{d.month}.{d:%y}",
    "JP": lambda d: f"{d:%y}/{d.month}/{d.day}",
    "SE": lambda d: d.isoformat(),
}


def feedback_in(flat: Flat, marketplace: str) -> Flat:
    """The feedback report with its US dates rewritten in another marketplace's format."""
    rewritten = flat.copy()
    for index, text in enumerate(flat.values("Date")):
        rewritten.set(index, "Date", DATE_FORMATS[marketplace](us_date(text)))
    return rewritten


def stored_dates(db) -> dict[str, str]:
    return {row["order_id"]: row["feedback_date"] for row in db["feedback"].rows}


@pytest.mark.parametrize("marketplace", list(DATE_FORMATS))
def test_feedback_dates_in_the_marketplace_format(marketplace, samples, tmp_path, db, new_db):
    save_setting(db, "marketplace", marketplace)
    flat = feedback_in(Flat.read(samples / "seller-feedback.txt"), marketplace)
    result = import_one(db, flat.write(tmp_path / "feedback.txt"))
    assert (result.outcome, result.rejected) == ("imported", 0)
    reference = new_db("reference.db")
    import_one(reference, samples / "seller-feedback.txt")
    assert stored_dates(db) == stored_dates(reference)


@pytest.mark.parametrize(
    ("written", "setting"),
    [("UK", "US"), ("US", "UK"), ("US", "JP"), ("DE", "US"), ("DE", "JP"), ("SE", "US"), ("SE", "UK")],
)
def test_unambiguous_feedback_dates_win_over_the_setting(written, setting, samples, tmp_path, db, new_db):
    save_setting(db, "marketplace", setting)
    flat = feedback_in(Flat.read(samples / "seller-feedback.txt"), written)
    assert import_one(db, flat.write(tmp_path / "feedback.txt")).rejected == 0
    reference = new_db("reference.db")
    import_one(reference, samples / "seller-feedback.txt")
    assert stored_dates(db) == stored_dates(reference)


def test_year_first_dates_under_a_setting_they_contradict(samples, tmp_path, db, new_db):
    """JP dates like 26/9/16 with the US setting: D/M/YY would fit too, but spread the file over decades."""
    flat = feedback_in(Flat.read(samples / "seller-feedback.txt"), "JP")
    assert import_one(db, flat.write(tmp_path / "feedback.txt")).rejected == 0
    reference = new_db("reference.db")
    import_one(reference, samples / "seller-feedback.txt")
    assert stored_dates(db) == stored_dates(reference)


@pytest.mark.parametrize("setting", ["US", "UK"])
def test_ambiguous_feedback_dates_follow_the_setting(setting, samples, tmp_path, db):
    flat = Flat.read(samples / "seller-feedback.txt")
    ambiguous = [i for i, text in enumerate(flat.values("Date")) if us_date(text).day <= 12 != us_date(text).month]
    assert len(ambiguous) >= 2, "the sample should hold dates with the day at most 12"
    flat = feedback_in(flat.only_rows(ambiguous), "UK")
    save_setting(db, "marketplace", setting)
    assert import_one(db, flat.write(tmp_path / "feedback.txt")).rejected == 0
    day_first = {
        row[flat.at("Order ID")]: datetime.strptime(row[flat.at("Date")], "%d/%m/%y").date() for row in flat.rows
    }
    month_first = {order: day.replace(month=day.day, day=day.month) for order, day in day_first.items()}
    expected = day_first if setting == "UK" else month_first
    assert stored_dates(db) == {order: day.isoformat() for order, day in expected.items()}
