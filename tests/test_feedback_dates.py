"""Feedback dates like 3/4/17: the file's own dates decide the day/month order when any of them can, the
marketplace setting when none can, and the import summary says which order was used.

Each test writes a Seller Feedback report into the test's folder, imports it into a real database and
checks the stored dates, the note the seller sees, and the Negative Feedback Rate computed from them for
a fixed day (a misread date moves feedback in or out of the 90-day window).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from app.cli import describe_result
from app.services import compute_metrics
from app.settings import save_setting
from tests.report_files import import_log, import_one, table_state

HEADER = ("Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email")


def feedback_file(path: Path, rows: list[tuple[str, int]]) -> Path:
    """A feedback report with one row per (date as written, rating); order ids 111-0000001-0000001, …"""
    lines = ["\t".join(HEADER)]
    for number, (written, rating) in enumerate(rows, start=1):
        order_id = f"111-{number:07d}-{number:07d}"
        comment = "Never arrived" if rating <= 2 else "Fine"
        lines.append("\t".join((written, str(rating), comment, "", order_id, f"r{number}@marketplace.amazon.com")))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_dates(db) -> list[str]:
    return [row["feedback_date"] for row in db.query("SELECT feedback_date FROM feedback ORDER BY order_id")]


def nfr(db, as_of: date) -> tuple[int, int]:
    figure = compute_metrics(db, as_of)["negative_feedback_rate"]
    return figure["negative"], figure["feedback"]


def year(text: str, digits: int) -> str:
    """`13/1/17` with its year written in two or four digits."""
    first, second, written = text.split("/")
    return f"{first}/{second}/{written if digits == 2 else '20' + written}"


# A UK seller's file: 13 and 28 January settle it, 3 and 5 February alone could be read either way.
UK_ROWS = [("13/1/17", 1), ("3/2/17", 5), ("28/1/17", 2), ("5/2/17", 4)]
UK_DATES = ["2017-01-13", "2017-02-03", "2017-01-28", "2017-02-05"]


@pytest.mark.parametrize("digits", [2, 4])
def test_a_day_first_file_under_the_us_setting_is_read_day_first_with_a_warning(digits, db, tmp_path):
    save_setting(db, "marketplace", "US")
    rows = [(year(written, digits), rating) for written, rating in UK_ROWS]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert (result.outcome, result.added, result.rejected) == ("imported", 4, 0)
    # Read as the setting says, 13/1/17 would not be a date and 3/2/17 would be 2 March.
    assert stored_dates(db) == UK_DATES
    (note,) = result.notes
    assert note.startswith("Warning: feedback dates read day first (D/M/Y), not month first")
    assert "marketplace setting (US)" in note
    assert f"line 2 ({year('13/1/17', digits)}) cannot be month first, and reads as 13 January 2017" in note
    assert "Check the marketplace in Settings" in note
    assert f"note: {note}" in describe_result(result)
    # Every rating lies in the 90 days ending 28 February 2017; 3 February would be outside them as 2 March.
    assert nfr(db, date(2017, 2, 28)) == (2, 4)


def test_two_digit_years_are_not_read_as_the_year_written_first(db, tmp_path):
    """13/1/17 also reads as 17 January 2013 year first; the file's span tells it is 13 January 2017."""
    save_setting(db, "marketplace", "US")
    rows = [("13/1/17", 1), ("20/1/17", 5), ("14/2/17", 4)]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert stored_dates(db) == ["2017-01-13", "2017-01-20", "2017-02-14"]
    assert "year first would fit too, but would spread them over 7 years" in result.notes[0]
    assert nfr(db, date(2017, 2, 28)) == (1, 3)


def test_a_month_first_file_under_the_uk_setting_is_read_month_first_with_a_warning(db, tmp_path):
    save_setting(db, "marketplace", "UK")
    rows = [("1/13/2017", 2), ("2/3/17", 5), ("1/28/2017", 4)]  # two and four digits in one file
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert stored_dates(db) == ["2017-01-13", "2017-02-03", "2017-01-28"]
    (note,) = result.notes
    assert "read month first (M/D/Y), not day first as the marketplace setting (UK) says" in note
    assert "line 2 (1/13/2017) cannot be day first" in note
    assert nfr(db, date(2017, 2, 28)) == (1, 3)


@pytest.mark.parametrize("digits", [2, 4])
def test_a_file_that_agrees_with_the_setting_says_so(digits, db, tmp_path):
    save_setting(db, "marketplace", "UK")
    rows = [(year(written, digits), rating) for written, rating in UK_ROWS]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert stored_dates(db) == UK_DATES
    (note,) = result.notes
    assert not note.startswith("Warning")
    assert "read day first (D/M/Y), as the marketplace setting (UK) says and the file's dates confirm" in note
    assert f"line 2 ({year('13/1/17', digits)}) cannot be month first" in note


# Every part at most 12: 1/5/17 is 5 January in the US, 1 May in the UK.
AMBIGUOUS_ROWS = [("1/5/17", 1), ("2/3/17", 5), ("12/1/17", 4)]
READINGS = {
    "US": (["2017-01-05", "2017-02-03", "2017-12-01"], "month first (M/D/Y)", "1/5/17 reads as 5 January 2017"),
    "UK": (["2017-05-01", "2017-03-02", "2017-01-12"], "day first (D/M/Y)", "1/5/17 reads as 1 May 2017"),
}


@pytest.mark.parametrize("digits", [2, 4])
@pytest.mark.parametrize("marketplace", list(READINGS))
def test_an_ambiguous_file_is_read_by_the_setting_and_the_summary_says_so(marketplace, digits, db, tmp_path):
    save_setting(db, "marketplace", marketplace)
    rows = [(year(written, digits), rating) for written, rating in AMBIGUOUS_ROWS]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert (result.outcome, result.added, result.rejected) == ("imported", 3, 0)
    dates, order, example = READINGS[marketplace]
    assert stored_dates(db) == dates
    (note,) = result.notes
    assert f"Feedback dates read {order}, as the marketplace setting ({marketplace}) says" in note
    assert "none of the file's dates tells which order they are written in" in note
    assert example.replace("1/5/17", year("1/5/17", digits)) in note
    assert "change the marketplace in Settings and import the file again" in note
    # As of 4 February: the US reading has 5 January (negative) and 3 February in its window, the UK
    # reading only 12 January (positive); 1 May and 2 March have not happened yet.
    assert nfr(db, date(2017, 2, 4)) == {"US": (1, 2), "UK": (0, 1)}[marketplace]


CONTRADICTORY_ROWS = [("13/1/17", 1), ("3/2/17", 5), ("1/13/17", 4), ("14/1/17", 2), ("2/20/17", 5)]


def test_a_file_whose_dates_contradict_each_other_is_refused_naming_the_lines(db, tmp_path):
    save_setting(db, "marketplace", "UK")
    import_one(db, feedback_file(tmp_path / "earlier.txt", [("20/12/16", 1)]))
    before, logged = table_state(db), len(import_log(db))
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", CONTRADICTORY_ROWS))
    assert (result.outcome, result.added, result.notes) == ("refused", 0, [])
    assert result.message.startswith("The dates of this Seller Feedback report contradict each other")
    # Month first is ruled out by lines 2 and 5 (day first), day first by lines 4 and 6 (month first).
    assert "month first is ruled out by line 2 (13/1/17), line 5 (14/1/17)" in result.message
    assert "day first and year first by line 4 (1/13/17), line 6 (2/20/17)" in result.message
    assert "line 3" not in result.message  # 3/2/17 fits either order
    assert result.message.endswith("Nothing from it was stored.")
    assert table_state(db) == before
    log = import_log(db)
    assert len(log) == logged + 1 and (log[-1]["outcome"], log[-1]["message"]) == ("refused", result.message)
    assert nfr(db, date(2017, 2, 28)) == (1, 1)  # only the earlier file's feedback


def test_a_refusal_names_at_most_five_lines_per_order(db, tmp_path):
    rows = [(f"{day}/1/17", 5) for day in range(13, 21)] + [("1/13/17", 1)]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert result.outcome == "refused"
    assert "line 2 (13/1/17), line 3 (14/1/17), line 4 (15/1/17), line 5 (16/1/17), line 6 (17/1/17) and 3 more" in (
        result.message
    )
    assert db["feedback"].count == 0


@pytest.mark.parametrize("written", ["13.1.17", "2017-01-13", "2017/1/13"])
def test_dates_that_read_one_way_only_need_no_note(written, db, tmp_path):
    save_setting(db, "marketplace", "US")
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", [(written, 1), (written, 5)]))
    assert (result.outcome, result.rejected, result.notes) == ("imported", 0, [])
    assert stored_dates(db) == ["2017-01-13", "2017-01-13"]


def test_a_year_first_file_under_the_us_setting_is_read_year_first_with_a_warning(db, tmp_path):
    """JP dates fit day first too (26/9/16 as 26 September 2016), but that spreads them over years."""
    save_setting(db, "marketplace", "US")
    rows = [("26/9/16", 1), ("26/10/3", 5), ("26/11/13", 4)]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert stored_dates(db) == ["2026-09-16", "2026-10-03", "2026-11-13"]
    (note,) = result.notes
    assert "read year first (Y/M/D), not month first as the marketplace setting (US) says" in note
    assert "day first would fit too, but would spread them over" in note
    assert nfr(db, date(2026, 11, 30)) == (1, 3)


def test_a_bad_date_is_rejected_and_has_no_say_in_the_order(db, tmp_path):
    save_setting(db, "marketplace", "US")
    rows = [("13/1/17", 1), ("13/13/17", 5), ("3/2/17", 4)]
    result = import_one(db, feedback_file(tmp_path / "feedback.txt", rows))
    assert (result.outcome, result.added) == ("imported", 2)
    assert [(r.line, "13/13/17" in r.reason) for r in result.rejections] == [(3, True)]
    assert stored_dates(db) == ["2017-01-13", "2017-02-03"]
    assert "day first" in result.notes[0]
