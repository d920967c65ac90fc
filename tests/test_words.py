"""The words a seller reads: Amazon's reason codes in words (the code kept beside them), status-bar messages
that go away, no empty "()" or "up to —", the mailbox said once, settings named as the window names them,
whole seconds in the CSV, and a printable report whose order ids stay on one line."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app import services
from app.alerts import clock_alerts
from app.cli import describe_triage
from app.clocks import REASON_KINDS, RETURN_RESPONSE
from app.imports import FileResult
from app.mailsync import SyncStatus
from app.reasons import WORDS, code_note, is_known, looks_like_code, reason_in_sentence, reason_words
from app.settings import SETTINGS, check_setting, setting_label
from app.timeline import order_timeline
from app.timeutil import to_iso
from app.triage_report import triage_csv, triage_html
from storage import open_db
from tests.ui_support import SAMPLE_NOW, WAIT_MS
from ui.clocks_model import TOPIC, ClocksModel
from ui.import_dialog import results_html
from ui.triage_view import item_html

ROOT = Path(__file__).resolve().parent.parent
REASON_ITEMS = ("a_to_z_claim", "chargeback", "return_request", "fba_return")


def column(path: Path, name: str, delimiter: str) -> set[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row[name] for row in csv.DictReader(handle, delimiter=delimiter) if row[name]}


@pytest.fixture
def demo_db(demo_path):
    db = open_db(demo_path)
    yield db
    db.close()


def text_of(html_text: str) -> str:
    return re.sub(r"<[^>]+>", "", html_text)


# --- reason codes in words -------------------------------------------------------------------------------------


def test_every_reason_in_the_samples_has_words(samples):
    codes = (
        column(samples / "fbm-returns.txt", "Return Reason", "\t")
        | column(samples / "fba-customer-returns.txt", "reason", "\t")
        | column(samples / "claims.csv", "reason", ",")
    )
    assert {"CR-DEFECTIVE", "AMZ-PG-BAD-DESC", "AMZ-PG-APP-TOO-SMALL", "not-received", "service"} <= codes
    assert [code for code in codes if not is_known(code)] == []
    assert reason_words("CR-DEFECTIVE") == "Defective / does not work properly"
    assert reason_words("AMZ-PG-BAD-DESC") == reason_words("NOT_AS_DESCRIBED") == "Item not as described"
    assert reason_words("AMZ-PG-APP-TOO-SMALL") == reason_words("APPAREL_TOO_SMALL") == "Too small"
    assert all(words[:1].isupper() for words in WORDS.values())
    assert not [words for words in WORDS.values() if "(" in words]  # they are put in brackets in a sentence


def test_an_unknown_code_still_reads_as_words_and_a_sentence_is_left_alone():
    assert reason_words("CR-SOME_NEW_REASON") == "Some new reason"
    assert reason_words("gift-wrap-torn") == "Gift wrap torn"
    assert reason_words("Arrived broken, box crushed") == "Arrived broken, box crushed"
    assert not looks_like_code("Arrived broken") and looks_like_code("CR-DEFECTIVE")
    assert reason_words(None) == reason_words("") == "" and code_note("") is None
    assert code_note("CR-DEFECTIVE") == "CR-DEFECTIVE" and code_note("Arrived broken") is None
    assert reason_in_sentence("not-received") == "item not received"


def test_the_clocks_table_shows_words_with_the_code_as_tooltip(demo_db):
    clocks = services.open_clocks(demo_db, SAMPLE_NOW)
    model = ClocksModel(lambda: SAMPLE_NOW)
    model.set_rows(clocks)
    reasons = 0
    for row, clock in enumerate(model.rows):
        cell = model.index(row, TOPIC)
        shown = model.data(cell)
        tooltip = model.data(cell, Qt.ItemDataRole.ToolTipRole)
        assert shown and shown in tooltip  # the full text, whatever the column's width
        if clock.kind in REASON_KINDS:
            reasons += 1
            assert shown == reason_words(clock.detail) != clock.detail
            assert f"Reason code: {clock.detail}" in tooltip
    assert reasons >= 4  # a return request, a chargeback, claims


def test_the_triage_says_reasons_in_words_and_keeps_the_code(demo_db):
    listing = services.load_triage(demo_db, SAMPLE_NOW)
    items = [item for item in listing.items if item.kind in REASON_ITEMS]
    assert {item.kind for item in items} >= {"a_to_z_claim", "chargeback", "return_request"}
    for item in items:
        code = item.reason_code
        words = f"({reason_in_sentence(code)})"
        assert code and words in item.what and code.lower() not in item.what.replace(words, "").lower()
        pane = item_html(item, services.load_settings(demo_db).zone, SAMPLE_NOW)
        assert f"<br><span style='color:#777'>Reason code: {code}</span>" in pane
        assert item.to_json(SAMPLE_NOW)["details"]["reason"] == code
    text = describe_triage(listing)
    assert not [item.reason_code for item in items if "-" in item.reason_code and item.reason_code in text]


def test_fba_returns_from_the_samples_read_in_words(sample_db):
    listing = services.load_triage(sample_db, SAMPLE_NOW, since=date(2026, 1, 1))  # every return in the samples
    returned = [item for item in listing.items if item.kind == "fba_return"]
    assert returned
    for item in returned:
        words = f"({reason_in_sentence(item.reason_code)})"
        assert words in item.what and item.reason_code.lower() not in item.what.replace(words, "").lower()


def test_the_order_timeline_says_reasons_in_words(demo_db):
    zone = services.load_settings(demo_db).zone
    coded = [item for item in services.load_triage(demo_db, SAMPLE_NOW).items if item.kind in REASON_ITEMS]
    assert coded
    for item in coded:
        details = " ".join(event.detail for event in order_timeline(demo_db, item.order_id, zone))
        assert reason_words(item.reason_code) in details
        assert item.reason_code not in details


def test_the_command_line_says_reasons_in_words_and_its_json_keeps_the_code(demo_path):
    at = to_iso(SAMPLE_NOW)
    command = [sys.executable, "main.py", "clocks", "--db", str(demo_path), "--at", at]
    text = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout
    listed = json.loads(
        subprocess.run([*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True).stdout
    )
    reasons = [clock for clock in listed if clock["reason_code"]]
    assert {clock["kind"] for clock in reasons} <= set(REASON_KINDS) and len(reasons) >= 4
    for clock in reasons:
        assert clock["detail"] == reason_words(clock["reason_code"])
        assert clock["detail"] in text and not re.search(rf"\s{re.escape(clock['reason_code'])}$", text, re.M)
    assert all(clock["reason_code"] is None for clock in listed if clock["kind"] not in REASON_KINDS)


def test_an_alert_names_the_reason_in_words(demo_db):
    clocks = services.open_clocks(demo_db, SAMPLE_NOW)
    request = next(clock for clock in clocks if clock.kind == RETURN_RESPONSE)
    [alert] = clock_alerts([request], request.due_at - 6 * 3600, [6, 2])
    assert f"Order {request.order_id}: {reason_words(request.detail)}." in alert.body
    assert request.detail not in alert.body


# --- no empty brackets, no "up to —" ---------------------------------------------------------------------------


def test_no_empty_brackets_and_no_amount_that_is_not_there(demo_db):
    listing = services.load_triage(demo_db, SAMPLE_NOW)
    zone = services.load_settings(demo_db).zone
    without_amount = [item for item in listing.items if item.suggestion.amount is None]
    assert without_amount  # the question before buying has no item value to pre-approve
    # An order the orders report does not hold yet has no channel.
    unknown_channel = replace(next(item for item in listing.items if item.order_id), channel=None)
    for item in [*listing.items, unknown_channel]:
        pane = text_of(item_html(item, zone, SAMPLE_NOW))
        assert "()" not in pane and "( )" not in pane and "—)" not in pane
        assert "up to —" not in pane and "up to  " not in pane
        if item.suggestion.amount is None:
            assert "pre-approved" not in pane
        else:
            assert f"pre-approved up to {item.suggestion.amount:.2f}" in pane
    assert f"Order {unknown_channel.order_id} ·" in text_of(item_html(unknown_channel, zone, SAMPLE_NOW))
    assert "()" not in describe_triage(listing)
    assert "()" not in text_of(triage_html(listing, []))


# --- the status bar ----------------------------------------------------------------------------------------------


def test_passing_messages_go_and_an_error_takes_its_red_with_it(qtbot, launch, demo_path, monkeypatch):
    monkeypatch.setattr("ui.main_window.NOTICE_SHOWN_S", 0.2)
    monkeypatch.setattr("ui.main_window.ERROR_SHOWN_S", 0.5)
    window = launch(demo_path).window
    bar = window.statusBar()
    window.notify("Settings saved.")
    assert bar.currentMessage() == "Settings saved."
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=2000)
    window.notify("Saving settings failed: the disk is full", error=True)
    qtbot.wait(300)
    assert bar.currentMessage().startswith("Saving settings failed") and "c62828" in bar.styleSheet()
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=2000)
    assert bar.styleSheet() == ""  # the figures' date on the right is not left red
    window.notify("The monitor cannot reach its database.", error=True, seconds=0)  # still true: it stays
    qtbot.wait(800)
    assert bar.currentMessage() == "The monitor cannot reach its database."


def test_saving_settings_says_when_it_is_done(qtbot, launch, demo_path):
    desktop = launch(demo_path)
    bar = desktop.window.statusBar()
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS) as finished:
        desktop.window.settings_view.save_button.click()
        assert bar.currentMessage() == "Saving settings…"
    assert finished.args[0] == "Saving settings"
    assert bar.currentMessage() == "Settings saved."


def test_a_failed_recomputation_does_not_leave_the_figures_updating(launch, demo_path):
    desktop = launch(demo_path)
    desktop.window.status_text.setText("Figures from Sun 08 Nov, 11:00; updating…")
    desktop.show_failure("Recomputing the figures", "database is locked")
    assert desktop.window.status_text.text() == "Figures from Sun 08 Nov, 11:00; they could not be updated"


def test_the_mailbox_status_says_mailbox_once(qtbot, launch, demo_path):
    desktop = launch(demo_path)
    status = SyncStatus(account="seller@example.com", last_attempt_at=int(SAMPLE_NOW), messages_added=2)
    desktop.bridge.sync_status_changed.emit(status)
    qtbot.waitUntil(lambda: desktop.window.mail_status.isVisible(), timeout=WAIT_MS)
    shown = desktop.window.mail_status.text()
    assert shown == "Mailbox checked Sun 12:00: 2 new buyer messages."
    assert shown.lower().count("mailbox") == 1
    failed = replace(status, error_kind="network", error_message="Cannot reach the mail server imap.example.com.")
    desktop.bridge.sync_status_changed.emit(failed)
    qtbot.waitUntil(lambda: "problem" in desktop.window.mail_status.text(), timeout=WAIT_MS)
    assert desktop.window.mail_status.text().startswith("Mailbox problem: Cannot reach the mail server")


# --- settings named as the window names them ----------------------------------------------------------------------

BAD_VALUES = (object(), "", "nonsense", -1, 0, [], {"xdr": 2}, [{"end": "2026-01-01"}], "/no/such/file.pem", "rel/dir")


def test_no_refused_setting_shows_its_internal_key():
    refused = 0
    for key in SETTINGS:
        for value in BAD_VALUES:
            try:
                check_setting(key, value)
            except ValueError as error:
                refused += 1
                assert str(error).startswith(f"{setting_label(key)}: ")
                assert not re.search(r"\b[a-z]+_[a-z_]+\b", str(error)), str(error)  # no `imap_port` or alike
    assert refused > len(SETTINGS)


def test_the_settings_view_names_the_triage_reminder_as_it_shows_it(launch, demo_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    view = launch(demo_path).window.settings_view
    view.reminder.setText("Funday 09:00")
    view.save_button.click()
    assert warnings == ["Remind me of the triage on: 'Funday' is not a day of the week (Mon, Tue, ... Sun)"]
    view.reminder.setText("Mon 09:00")
    view.thresholds.setText("six, two")
    view.save_button.click()
    assert warnings[1] == "Alert before a deadline (hours): hours separated by commas, like 6, 2"


def test_a_cancelled_file_of_no_known_kind_has_no_empty_brackets():
    cancelled = FileResult("orders.txt", "cancelled", message="Cancelled before its first row.")
    assert "()" not in results_html([cancelled]) and "<b>orders.txt</b>: Cancelled" in results_html([cancelled])


# --- the exports -----------------------------------------------------------------------------------------------


def test_the_csv_gives_whole_seconds_left_rounded_down_and_the_reason_code(demo_db):
    at = SAMPLE_NOW + 0.75  # a tick between two seconds, as the window's clock is
    listing = services.load_triage(demo_db, at)
    text = triage_csv(listing)
    rows = list(csv.DictReader(io.StringIO(text)))
    for item, row in zip(listing.items, rows, strict=True):
        assert row["remaining_s"] == str(math.floor(item.due_at - at))  # "83327", never "83327.25"
        assert row["reason_code"] == (item.reason_code or "")
    assert any(row["remaining_s"].startswith("-") for row in rows)  # overdue: -1 already, not 0
    assert isinstance(listing.items[0].to_json(at)["deadline"]["remaining_s"], float)  # the JSON keeps its fraction


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.classes: list[str | None] = []
        self.limit_label_y: float | None = None
        self.plot_bottom: float | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td":
            self.classes.append(attributes.get("class"))
        if tag == "rect" and self.plot_bottom is None:  # the plot's frame is the chart's first rectangle
            self.plot_bottom = float(attributes["y"]) + float(attributes["height"])
        if tag == "text" and attributes.get("class") == "limit-label":
            self.limit_label_y = float(attributes["y"])


def test_the_printable_report_keeps_order_ids_whole_and_the_limit_label_off_the_lines(demo_db):
    listing = services.load_triage(demo_db, SAMPLE_NOW)
    page = services.triage_report_html(demo_db, listing)
    assert re.search(r"td\.order[^{]*\{[^}]*white-space: nowrap", page)
    cells = _Cells()
    cells.feed(page)
    assert cells.classes.count("order") == len(listing.items)
    # The label names the dashed line in the legend, below the plot, where no figure's line runs.
    assert "1 % limit" in page and cells.limit_label_y is not None and cells.limit_label_y > cells.plot_bottom
    for item in listing.items:
        if item.reason_code:
            assert f'<span class="code">(code {item.reason_code})</span>' in page


@pytest.mark.parametrize("opened", [False, True])
def test_the_status_bar_says_where_the_report_is_when_no_browser_opens_it(
    qtbot, launch, demo_path, tmp_path, monkeypatch, opened
):
    asked = []
    monkeypatch.setattr("ui.application.open_in_browser", lambda path: asked.append(path) or opened)
    desktop = launch(demo_path)
    qtbot.waitUntil(lambda: desktop.triage_listing is not None, timeout=WAIT_MS)
    report = tmp_path / "week.html"
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        desktop.window.triage.export_report_requested.emit(str(report))
    assert asked == [str(report)] and report.exists()
    shown = desktop.window.statusBar().currentMessage()
    if opened:
        assert shown == f"Report saved and opened in your browser: {report}"
    else:
        assert shown == f"Report saved to {report}. No browser could open it: open that file to print it."
