"""Hostile files are refused quickly, naming the limit they went past, and change nothing already stored.

Each file is real and made here: a named pipe, gzip and zip archives, JSON nested or padded past the
limits, lines and runs of blank lines past them. The size limits of gigabytes are lowered for a test
(the limit is the same code either way) so the files stay small. None of these tests measures time: a
file that made the importer hang or take minutes would keep the test from finishing.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest

from app.importers import EMAIL_ADDRESS, ahead, limits, mail, source
from app.importers.limits import (
    MAX_BLANK_LINES,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_LINE_BYTES,
    MAX_MARKETPLACES,
    MAX_ZIP_MEMBERS,
)
from app.imports import import_files
from storage import open_db
from tests.report_files import import_log, import_one, made_up_orders, table_state

ODR_BLOCK = {
    "reportingDateRange": {"reportingDateFrom": "2026-08-27T00:00:00Z", "reportingDateTo": "2026-10-25T23:59:59Z"},
    "orderCount": 151,
    "orderWithDefects": {"count": 6, "status": "NONE"},
    "claims": {"count": 1, "status": "NONE"},
    "chargebacks": {"count": 1, "status": "NONE"},
    "negativeFeedback": {"count": 4, "status": "NONE"},
    "fulfillmentType": "AFN",
    "status": "BAD",
    "rate": 0.0397,
    "targetValue": 0.01,
}
HEALTH_REPORT = {
    "accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
    "performanceMetrics": [
        {
            "marketplaceId": "ATVPDKIKX0DER",
            "orderDefectRate": {"afn": ODR_BLOCK, "mfn": {**ODR_BLOCK, "fulfillmentType": "MFN", "orderCount": 115}},
            "lateShipmentRate": {"orderCount": 120, "lateShipmentCount": 2, "rate": 0.0167},
            "accountHealthRating": {"ahrStatus": "GREAT", "ahrScore": 312},
            "someFutureMetric": {"value": 1},
        }
    ],
}


def health_report() -> dict:
    return copy.deepcopy(HEALTH_REPORT)


@pytest.fixture
def stored(db, tmp_path):
    """A database already holding orders and an account health report."""
    folder = tmp_path / "stored"
    folder.mkdir()
    orders = made_up_orders(30).write(folder / "orders.txt")
    health = folder / "account-health.json"
    health.write_text(json.dumps(health_report(), indent=2))
    results = import_files(db, [orders, health])
    assert [(r.outcome, r.added) for r in results] == [("imported", 30), ("imported", 1)]
    return db


def refused(db, path: Path, *expected: str):
    """Import `path`; assert it was refused with every `expected` text in its message and logged as such."""
    before, logged = table_state(db), len(import_log(db))
    results = import_files(db, [path])
    assert [r.outcome for r in results] == ["refused"], [r.message for r in results]
    (result,) = results
    for text in expected:
        assert text in result.message, result.message
    assert table_state(db) == before
    log = import_log(db)
    assert len(log) == logged + 1 and (log[-1]["outcome"], log[-1]["message"]) == ("refused", result.message)
    return result


# --- the e-mail pattern --------------------------------------------------------------------------------


def test_e_mail_pattern_reads_a_5_mb_line_once():
    word = "a" * (5 * limits.MB)
    assert EMAIL_ADDRESS.sub("<e-mail>", word) == word
    assert EMAIL_ADDRESS.sub("<e-mail>", word + "@" + word) == "<e-mail>"
    assert EMAIL_ADDRESS.sub("<e-mail>", "@".join(["ab"] * 1_000_000)) == "<e-mail>@" * 499_999 + "<e-mail>"
    assert EMAIL_ADDRESS.sub("<e-mail>", "x " * 2_000_000) == "x " * 2_000_000


def test_e_mail_pattern_masks_what_it_masked_before():
    line = "jane.doe@example.com\t4\tGreat\t\tbob+x@mail.example.co.uk; @handle a@b@c x@ y"
    assert EMAIL_ADDRESS.sub("<e-mail>", line) == "<e-mail>\t4\tGreat\t\t<e-mail> @handle <e-mail>@c x@ y"


def test_zip_of_three_64_kb_lines_is_refused_member_by_member(stored, tmp_path):
    path = tmp_path / "reports.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, filler in enumerate(("a", "b@", "@c")):
            archive.writestr(f"report-{number}.txt", filler * (64 * limits.KB // len(filler)))
    assert path.stat().st_size < 2 * limits.KB
    before = table_state(stored)
    results = import_files(stored, [path])
    assert [r.outcome for r in results] == ["refused"] * 3
    for number, result in enumerate(results):
        assert f"reports.zip:report-{number}.txt" in result.message
        assert "is not the header of a known report" in result.message
    assert "b@b" not in results[1].message and "<e-mail>" in results[1].message
    assert table_state(stored) == before


# --- files that are not files -------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_named_pipe_is_refused_at_once(stored, db_path, tmp_path):
    pipe = tmp_path / "all-orders.txt"
    os.mkfifo(pipe)
    before, logged = table_state(stored), len(import_log(stored))
    results = []

    def run() -> None:  # in its own thread (and connection), so a pipe that blocks cannot stall the tests
        database = open_db(db_path)
        try:
            results.extend(import_files(database, [pipe]))
        finally:
            database.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    if worker.is_alive():
        while worker.is_alive():  # it blocked opening the pipe: let each open through before failing
            try:
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader at this instant
                worker.join(0.1)
        pytest.fail("importing a named pipe waited for something to write to it")
    ((outcome, message),) = [(result.outcome, result.message) for result in results]
    assert outcome == "refused"
    assert "not a regular file (a named pipe)" in message
    assert table_state(stored) == before
    assert [row["outcome"] for row in import_log(stored)[logged:]] == ["refused"]


# --- lines ----------------------------------------------------------------------------------------------


def test_line_longer_than_the_limit_is_refused_naming_it(stored, tmp_path):
    flat = made_up_orders(10)
    flat.set(6, "product-name", "x" * (MAX_LINE_BYTES + 1))
    result = refused(stored, flat.write(tmp_path / "orders.txt"), "line 8 ", "longer than 1 MB")
    assert result.kind == "all_orders"


def test_header_followed_by_5_mb_without_a_line_end_is_refused_at_line_1(stored, tmp_path):
    path = tmp_path / "orders.txt"
    path.write_bytes(made_up_orders(0).text().rstrip("\n").encode() + b"\t" * (5 * limits.MB))
    refused(stored, path, "line 1 ", "longer than 1 MB")


def test_line_at_the_limit_is_read(db, tmp_path):
    flat = made_up_orders(3)
    line = flat.text().splitlines()[2]
    flat.set(1, "product-name", "x" * (MAX_LINE_BYTES - len(line.encode()) + len("Mug 1")))
    assert len(flat.text().splitlines()[2].encode()) == MAX_LINE_BYTES  # its line end not counted
    result = import_one(db, flat.write(tmp_path / "orders.txt"))
    assert (result.outcome, result.added, result.rejected) == ("imported", 3, 0)


def test_gzip_of_a_header_and_64_mb_of_line_ends_is_refused_by_the_blank_line_limit(stored, tmp_path):
    path = tmp_path / "all-orders.txt.gz"
    with gzip.open(path, "wb") as out:
        out.write(made_up_orders(1).text().encode())
        for _ in range(64):
            out.write(b"\n" * limits.MB)
    assert path.stat().st_size < limits.MB // 4
    refused(stored, path, f"from line 3 on, more than {MAX_BLANK_LINES:,} lines in a row are blank")


def test_blank_lines_as_excel_pads_a_sheet_are_read(db, tmp_path):
    """Excel writes empty rows up to the last formatted one: at most its 1,048,576 rows, which pass."""
    flat = made_up_orders(2)
    header, first, second = flat.text("\r\n").splitlines(keepends=True)
    path = tmp_path / "orders.txt"
    path.write_bytes((header + first + "\t\t\r\n" * MAX_BLANK_LINES + second).encode())
    result = import_one(db, path)
    assert (result.outcome, result.added, result.rejected) == ("imported", 2, 0)


def test_blank_lines_in_a_file_with_cr_line_ends_are_counted(stored, tmp_path):
    path = tmp_path / "claims.csv"
    header = "order-id,type,filed-date,status,reason\r"
    path.write_bytes((header + "\r" * (MAX_BLANK_LINES + 2)).encode())
    refused(stored, path, "from line 2 on")


# --- sizes: the limit lowered to 1 MB so the files stay small --------------------------------------------


@pytest.fixture
def one_mb_reports(monkeypatch):
    monkeypatch.setattr(source, "MAX_REPORT_BYTES", limits.MB)
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 10**15)  # the limit is lowered in this process only


def test_gzip_decompressing_past_the_size_limit_is_refused(stored, tmp_path, one_mb_reports):
    text = made_up_orders(8000).text().encode()
    assert len(text) > limits.MB
    path = tmp_path / "orders.gz"
    path.write_bytes(gzip.compress(text))
    refused(stored, path, "orders.gz: decompresses to more than 1 MB")


def test_plain_file_past_the_size_limit_is_refused_before_it_is_read(stored, tmp_path, one_mb_reports):
    path = made_up_orders(8000).write(tmp_path / "orders.txt")
    refused(stored, path, "orders.txt: is 1.", "more than the 1 MB one report may hold")


def test_zip_member_past_the_size_limit_is_refused_naming_it(stored, tmp_path, one_mb_reports):
    path = tmp_path / "reports.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("small.txt", made_up_orders(5).text())
        archive.writestr("big.txt", "\n" * (limits.MB + 1))
    refused(stored, path, "reports.zip:big.txt: decompresses to 1.0 MB, more than the 1 MB")


def test_zip_members_past_the_size_limit_together_are_refused(stored, tmp_path, one_mb_reports):
    path = tmp_path / "reports.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number in range(3):
            archive.writestr(f"orders-{number}.txt", made_up_orders(2500).text())
    refused(stored, path, "reports.zip: the zip archive decompresses to", "in all, more than the 1 MB")


def test_zip_with_more_members_than_the_limit_is_refused(stored, tmp_path):
    path = tmp_path / "reports.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"claims-{number}.csv", "order-id,type,filed-date,status,reason\n")
    refused(stored, path, f"holds {MAX_ZIP_MEMBERS + 1:,} entries, more than the {MAX_ZIP_MEMBERS}")


# --- JSON -----------------------------------------------------------------------------------------------


def test_json_nested_200000_deep_is_refused_by_the_depth_limit(stored, tmp_path):
    path = tmp_path / "account-health.json"
    path.write_text('{\n"performanceMetrics":\n' + "[" * 200_000 + "]" * 200_000 + "\n}")
    refused(stored, path, f"nested more than {MAX_JSON_DEPTH} levels deep at line 3")


def test_brackets_inside_json_strings_do_not_count_as_nesting(db, tmp_path):
    report = health_report()
    report["performanceMetrics"][0]["note"] = '[{"\\"' * 1000
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report))
    assert import_one(db, path).outcome == "imported"


def test_json_larger_than_the_limit_is_refused(stored, tmp_path):
    report = health_report()
    report["padding"] = "x" * MAX_JSON_BYTES
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report))
    refused(stored, path, "larger than 4 MB, the largest account health report")


def test_json_on_one_line_longer_than_the_line_limit_is_read_up_to_the_json_limit(db, tmp_path):
    report = health_report()
    report["performanceMetrics"][0]["note"] = "x" * (2 * MAX_LINE_BYTES)
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report))
    assert import_one(db, path).outcome == "imported"


def test_a_report_of_many_made_up_marketplaces_is_refused(stored, tmp_path):
    """Such a file was stored, then every refresh of the figures compared each entry (37 s, 700 MB)."""
    report = health_report()
    entry = report["performanceMetrics"][0]
    report["performanceMetrics"] = [{**entry, "marketplaceId": f"M{number}"} for number in range(2000)]
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report))
    refused(stored, path, f"performanceMetrics has 2,000 entries, more than the {MAX_MARKETPLACES}")


def broken(change) -> dict:
    report = health_report()
    change(report)
    return report


def _set(path: list, value):
    def change(report):
        target = report
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


AFN = ["performanceMetrics", 0, "orderDefectRate", "afn"]
WRONG_SHAPES = {
    "metrics-not-a-list": (_set(["performanceMetrics"], {"marketplaceId": "X"}), "performanceMetrics is an object"),
    "entry-not-an-object": (_set(["performanceMetrics", 0], "ATVPDKIKX0DER"), "performanceMetrics[0] is the text"),
    "no-marketplace": (_set(["performanceMetrics", 0, "marketplaceId"], None), "marketplaceId is null"),
    "odr-a-list": (_set(["performanceMetrics", 0, "orderDefectRate"], []), "orderDefectRate is a list"),
    "afn-a-number": (_set(AFN, 0.04), "orderDefectRate.afn is the number 0.04"),
    "count-a-text": (_set([*AFN, "orderCount"], "many"), "afn.orderCount is the text 'many'"),
    "negative-count": (_set([*AFN, "claims", "count"], -1), "afn.claims.count is the number -1"),
    "fraction-of-order": (_set([*AFN, "orderCount"], 15.5), "afn.orderCount is the number 15.5"),
    "rate-a-text": (_set([*AFN, "rate"], "4%"), "afn.rate is the text '4%'"),
    "year-1": (_set([*AFN, "reportingDateRange", "reportingDateFrom"], "0001-01-01T00:00:00Z"), "reportingDateFrom"),
    "year-9999": (_set([*AFN, "reportingDateRange", "reportingDateTo"], "9999-12-31T23:59:59Z"), "reportingDateTo"),
    "range-reversed": (
        _set([*AFN, "reportingDateRange"], {"reportingDateFrom": "2026-10-25", "reportingDateTo": "2026-08-27"}),
        "reportingDateRange ends before it starts",
    ),
    "statuses-not-a-list": (_set(["accountStatuses"], "NORMAL"), "accountStatuses is the text 'NORMAL'"),
    "repeated-marketplace": (
        lambda report: report["performanceMetrics"].append(report["performanceMetrics"][0]),
        "performanceMetrics[1] repeats marketplace ATVPDKIKX0DER",
    ),
    "no-metrics": (lambda report: report.pop("performanceMetrics"), "it has no performanceMetrics"),
}


@pytest.mark.parametrize("case", list(WRONG_SHAPES))
def test_account_health_report_of_the_wrong_shape_is_refused_saying_what_was_expected(case, stored, tmp_path):
    change, problem = WRONG_SHAPES[case]
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(broken(change), indent=2))
    refused(stored, path, problem, "expected {accountStatuses: [...], performanceMetrics: [{marketplaceId")


@pytest.mark.parametrize(
    ("number", "why"),
    [("NaN", "JSON has no NaN"), ("Infinity", "JSON has no NaN or Infinity"), ("1e999", "too large")],
)
def test_account_health_numbers_that_cannot_be_true_are_refused_with_their_line(number, why, stored, tmp_path):
    text = json.dumps(health_report(), indent=2).replace('"rate": 0.0397', f'"rate": {number}', 1)
    path = tmp_path / "account-health.json"
    path.write_text(text)
    line = text[: text.index(number)].count("\n") + 1
    refused(stored, path, f"line {line}: {number}", why)


def test_account_health_report_in_amazon_s_other_spellings_is_kept(db, tmp_path):
    report = health_report()
    metrics = report["performanceMetrics"][0]
    metrics["ODR"] = metrics.pop("orderDefectRate")
    metrics["ODR"]["AFN"] = metrics["ODR"].pop("afn")
    metrics["ODR"]["AFN"]["aToZClaims"] = metrics["ODR"]["AFN"].pop("claims")
    metrics["accountHealthRating"] = {"accountHealthRatingStatus": "GOOD"}
    metrics["preFulfillmentCancellationRate"] = {"rate": 0.0}
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report))
    result = import_one(db, path)
    assert (result.outcome, result.added) == ("imported", 1)
    (snapshot,) = db["account_health_snapshots"].rows
    assert json.loads(snapshot["report_json"]) == report


# --- e-mail ---------------------------------------------------------------------------------------------


def buyer_message(number: int, subject: str | None = None, body: str = "Where is my parcel?") -> bytes:
    subject = subject or f"Order delivery inquiry from Amazon customer Alisa (Order: 111-0000000-{number:07d})"
    return (
        f"From buyer{number}@example.com Mon Oct  5 10:00:00 2026\n"
        f'From: "Alisa - Amazon Marketplace" <alias{number}+tok@marketplace.amazon.com>\n'
        f"To: seller@example.com\n"
        f"Subject: {subject}\n"
        f"Date: Mon, 5 Oct 2026 10:0{number}:00 +0000\n"
        f"Message-ID: <m{number}@amazon.com>\n"
        "\n"
        f"------------- Begin message -------------\n{body}\n------------- End message -------------\n\n"
    ).encode()


def test_e_mail_of_hostile_headers_is_rejected_at_its_line_and_the_rest_imported(stored, tmp_path):
    spaces = "\n ".join([" " * 60_000] * 5)  # one Subject of 300 KB folded over lines
    nested = "(" * 3000 + ")" * 3000
    mails = [
        buyer_message(1),
        buyer_message(2, subject=f"x{spaces}y from Amazon customer"),
        buyer_message(3).replace(b"Message-ID: <m3@amazon.com>", b"Message-ID: " + b"<" * 5000),
        buyer_message(4).replace(b"From: ", f"From: {nested} ".encode(), 1),
        buyer_message(5, body="-" * (MAX_LINE_BYTES // 2)),
    ]
    path = tmp_path / "Inbox.mbox"
    path.write_bytes(b"".join(mails))
    starts = [1 + b"".join(mails[:index]).count(b"\n") + 1 for index in range(len(mails))]
    result = import_one(stored, path)
    assert (result.outcome, result.added) == ("imported", 2)
    reasons = {line: reason for line, reason in result.rejections}
    assert sorted(reasons) == starts[1:4]
    assert "Subject header is longer than 16 KB" in reasons[starts[1]]
    assert "headers cannot be read" in reasons[starts[2]]
    assert "headers cannot be read" in reasons[starts[3]]
    (body,) = [row["body"] for row in stored["messages"].rows if row["thread_key"] == "alias5"]
    assert body == "-" * (MAX_LINE_BYTES // 2)


def test_e_mail_past_the_size_limit_is_rejected_unread(stored, tmp_path, monkeypatch):
    monkeypatch.setattr(mail, "MAX_EMAIL_BYTES", 256 * limits.KB)
    large = buyer_message(2, body="\n".join(["Photo: " + "A" * 76] * 4000))
    path = tmp_path / "Inbox.mbox"
    path.write_bytes(buyer_message(1) + large + buyer_message(3))
    result = import_one(stored, path)
    assert (result.outcome, result.added) == ("imported", 2)
    ((line, reason),) = result.rejections
    assert line == buyer_message(1).count(b"\n") + 2
    assert "larger than 256 KB" in reason
