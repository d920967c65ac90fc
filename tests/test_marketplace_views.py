"""The clocks and the triage of a seller on Amazon.co.uk and Amazon.de: each row names its marketplace, a
filter limits the list to one without hiding an overdue deadline in silence, and the import dialog asks
which marketplace a row of an order not yet imported belongs to. A seller on one marketplace sees none of it.

Real reports (the UK+DE seller of test_marketplaces, with buyer e-mails of both), real widgets and the real
window, at a fixed instant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app import services
from app.clocks import Clock
from app.imports import import_files
from app.settings import save_setting
from tests.conftest import SAMPLE_FILES
from tests.test_marketplaces import UNKNOWN_ORDER, de_id, uk_id, write_reports
from tests.ui_support import WAIT_MS, FixedClock, reading
from ui import clocks_model, triage_view
from ui.messages_view import MessagesView
from ui.triage_view import TriageView

NOW = datetime(2026, 11, 8, 23, 0, tzinfo=UTC).timestamp()  # the UK claim and the DE return are overdue
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ORDER_OF = {"UK": uk_id, "DE": de_id}


def buyer_mail(order_id: str, received: str, domain: str, number: int, question: str) -> str:
    token = f"B{number:04d}MKT{order_id[-4:]}"
    return (
        "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
        f'From: "Buyer - Amazon Marketplace" <b{number}+{token.lower()}@marketplace.amazon.{domain}>\n'
        "To: seller@example.com\n"
        f"Subject: Order delivery inquiry from Amazon customer Buyer (Order: {order_id})\n"
        f"Date: {received}\n"
        f"Message-ID: <{token}@amazon.{domain}>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
        f"Order ID {order_id}:\n------------- Begin message -------------\n\n{question}\n\n"
        "------------- End message -------------\n\n"
        f"[commMgrTok:{token}]\n\n"
    )


def write_inbox(folder: Path) -> Path:
    """Buyer e-mails on UK and DE orders: one UK question 11 hours from its deadline at NOW, one DE question
    overdue since the morning."""
    mails = [
        buyer_mail(uk_id(40), "Sun, 08 Nov 2026 10:00:00 +0000", "co.uk", 1, "Has my mug been posted yet?"),
        buyer_mail(de_id(40), "Sat, 07 Nov 2026 08:00:00 +0000", "de", 2, "Wann kommt meine Bestellung an?"),
    ]
    path = folder / "Inbox.mbox"
    path.write_text("".join(mails), encoding="utf-8")
    return path


def import_uk_de(db, folder: Path) -> None:
    files = write_reports(folder)
    results = import_files(db, [files["orders"], files["uk_feedback"], files["returns"], files["claims"]])
    results += import_files(db, [files["de_feedback"]], marketplace="DE")
    results += import_files(db, [write_inbox(folder)])
    assert all(result.outcome == "imported" and not result.rejected for result in results), [
        (r.file, r.message, r.rejections) for r in results
    ]


@pytest.fixture
def uk_de_seller(db, tmp_path):
    """The UK+DE seller's reports and buyer e-mails, in a database of its own (home marketplace: UK)."""
    save_setting(db, "marketplace", "UK")
    save_setting(db, "timezone", "Europe/London")
    import_uk_de(db, tmp_path)
    return db


def clocks_view(qtbot, db, size=(1366, 768)) -> MessagesView:
    view = MessagesView(FixedClock(NOW))
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.show_state(services.refresh(db, FixedClock(NOW)))
    QApplication.processEvents()
    return view


def triage_of(qtbot, db, size=(1366, 768)) -> TriageView:
    view = TriageView(FixedClock(NOW))
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.show_listing(services.load_triage(db, NOW, since=datetime(2026, 9, 1).date()))
    QApplication.processEvents()
    return view


def listed_clocks(view: MessagesView) -> list[Clock]:
    return [view.proxy.index(row, 0).data(clocks_model.CLOCK_ROLE) for row in range(view.proxy.rowCount())]


def listed_items(view: TriageView) -> list:
    return [view.proxy.index(row, 0).data(triage_view.ITEM_ROLE) for row in range(view.proxy.rowCount())]


# --- Clocks ---------------------------------------------------------------------------------------------------------


def test_each_clock_names_its_marketplace_and_the_filter_limits_the_list(qtbot, uk_de_seller):
    view = clocks_view(qtbot, uk_de_seller)
    by_order = {clock.order_id: clock.marketplace for clock in listed_clocks(view)}
    assert by_order == {uk_id(3): "UK", uk_id(40): "UK", de_id(5): "DE", de_id(40): "DE"}
    assert not view.table.isColumnHidden(clocks_model.MARKETPLACE)
    assert not view.marketplace_filter.isHidden()
    entries = [view.marketplace_filter.itemText(i) for i in range(view.marketplace_filter.count())]
    # Alphabetical, each with what is open and overdue there.
    assert entries == ["All marketplaces", "DE (2 open, 2 overdue)", "UK (2 open, 1 overdue)"]
    row = next(r for r in range(view.proxy.rowCount()) if listed_clocks(view)[r].order_id == de_id(5))
    assert view.proxy.index(row, clocks_model.MARKETPLACE).data() == "DE"
    assert "DE marketplace" in view.proxy.index(row, clocks_model.WHAT).data(Qt.ItemDataRole.ToolTipRole)

    view.marketplace_filter.setCurrentIndex(view.marketplace_filter.findData("UK"))
    assert {clock.order_id for clock in listed_clocks(view)} == {uk_id(3), uk_id(40)}
    assert view.table.isColumnHidden(clocks_model.MARKETPLACE)  # every row would say UK
    # The DE return request and the DE buyer's question are overdue: the filter says so, and the counts
    # stay those of every clock.
    assert not view.hidden_overdue.isHidden()
    assert view.hidden_overdue.text() == "2 overdue in other marketplaces"
    assert view.summary.text().replace("\u00a0", " ") == "4 open · 2 buyer messages · 3 overdue"

    view.marketplace_filter.setCurrentIndex(view.marketplace_filter.findData("DE"))
    assert {clock.order_id for clock in listed_clocks(view)} == {de_id(5), de_id(40)}
    assert view.hidden_overdue.text() == "1 overdue in another marketplace"
    view.show_all()  # an alert's clock must be listed to be selected
    assert len(listed_clocks(view)) == 4 and view.hidden_overdue.isHidden()


def test_the_filter_keeps_its_choice_across_a_recomputation(qtbot, uk_de_seller):
    view = clocks_view(qtbot, uk_de_seller)
    view.marketplace_filter.setCurrentIndex(view.marketplace_filter.findData("DE"))
    view.show_state(services.refresh(uk_de_seller, FixedClock(NOW + 60)))
    assert view.marketplace_filter.currentData() == "DE"
    assert {clock.marketplace for clock in listed_clocks(view)} == {"DE"}


def test_the_marketplace_filter_is_reached_from_the_keyboard(qtbot, uk_de_seller):
    view = clocks_view(qtbot, uk_de_seller)
    view.activateWindow()
    qtbot.waitActive(view)
    view.channel_filter.setFocus()
    qtbot.waitUntil(view.channel_filter.hasFocus)
    qtbot.keyClick(view.channel_filter, Qt.Key.Key_Tab)
    assert view.marketplace_filter.hasFocus()
    qtbot.keyClick(view.marketplace_filter, Qt.Key.Key_Down)  # the next entry: DE
    assert {clock.marketplace for clock in listed_clocks(view)} == {"DE"}


def test_the_whole_list_is_each_marketplace_dated_in_its_own_days(uk_de_seller):
    # 22:30 UTC on 19 Sep: 00:30 on 20 Sep in Berlin, still 19 Sep in London. The DE return request made
    # on 20 Sep has started its 48 hours there, and the whole list has it as the DE list does.
    at = datetime(2026, 9, 19, 22, 30, tzinfo=UTC).timestamp()
    every = services.open_clocks(uk_de_seller, at)
    alone = services.open_clocks(uk_de_seller, at, only="UK") + services.open_clocks(uk_de_seller, at, only="DE")
    assert sorted(every, key=lambda clock: clock.item_id) == sorted(alone, key=lambda clock: clock.item_id)
    (request,) = [clock for clock in every if clock.order_id == de_id(5)]
    assert request.started_at == datetime(2026, 9, 19, 22, tzinfo=UTC).timestamp()  # midnight in Berlin
    assert request.marketplace == "DE" and request.to_json(at)["marketplace"] == "DE"


# --- Triage ---------------------------------------------------------------------------------------------------------


def test_each_triage_item_names_its_marketplace_and_the_filter_says_what_it_hides(qtbot, uk_de_seller):
    view = triage_of(qtbot, uk_de_seller)
    named = {item.order_id: item.marketplace for item in listed_items(view)}
    assert named == {
        uk_id(3): "UK",
        uk_id(40): "UK",
        de_id(0): "DE",
        de_id(5): "DE",
        de_id(40): "DE",
        UNKNOWN_ORDER: "DE",  # its feedback file was imported for DE
    }
    assert not view.table.isColumnHidden(triage_view.MARKETPLACE)
    heading = view.heading.text()

    view.marketplace_filter.setCurrentIndex(view.marketplace_filter.findData("DE"))
    assert {item.marketplace for item in listed_items(view)} == {"DE"}
    assert view.table.isColumnHidden(triage_view.MARKETPLACE)
    assert view.hidden_overdue.text() == "1 overdue in another marketplace"  # the UK A-to-z claim
    assert view.heading.text() == heading  # the counts are those of the whole list
    item = view.selected_item()
    assert item.marketplace == "DE"
    assert "DE marketplace" in view.detail.toPlainText().replace("\u00a0", " ")


def test_the_json_names_the_marketplace_only_when_there_are_several(uk_de_seller, new_db, samples):
    listing = services.load_triage(uk_de_seller, NOW, since=datetime(2026, 9, 1).date())
    assert {item["marketplace"] for item in listing.to_json()["items"]} == {"UK", "DE"}
    one_marketplace = new_db("us.db")
    import_files(one_marketplace, [samples / name for name in SAMPLE_FILES])
    one = services.load_triage(one_marketplace, NOW)
    assert one.items and all("marketplace" not in item for item in one.to_json()["items"])
    clocks = services.open_clocks(one_marketplace, NOW)
    assert clocks and all("marketplace" not in clock.to_json(NOW) for clock in clocks)


def test_a_seller_in_one_marketplace_sees_no_marketplace_column_or_filter(qtbot, sample_db):
    clocks = clocks_view(qtbot, sample_db)
    assert listed_clocks(clocks) and all(clock.marketplace is None for clock in listed_clocks(clocks))
    assert clocks.table.isColumnHidden(clocks_model.MARKETPLACE) and clocks.marketplace_filter.isHidden()
    triage = triage_of(qtbot, sample_db)
    assert listed_items(triage)
    assert triage.table.isColumnHidden(triage_view.MARKETPLACE) and triage.marketplace_filter.isHidden()


# --- The last state saved ------------------------------------------------------------------------------------------


def test_a_last_state_saved_before_clocks_named_their_marketplace_still_loads(uk_de_seller):
    state = services.refresh(uk_de_seller, FixedClock(NOW))
    services.save_last_state(uk_de_seller, state)
    key = services.LAST_STATE_KEY
    payload = json.loads(uk_de_seller.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()[0])
    assert all(len(row) == len(services.CLOCK_FIELDS) for row in payload["clocks"])
    payload["clocks"] = [row[:-1] for row in payload["clocks"]]  # the rows as saved before: no marketplace
    uk_de_seller.execute("UPDATE settings SET value = ? WHERE key = ?", [json.dumps(payload), key])
    uk_de_seller.conn.commit()
    loaded = services.load_last_state(uk_de_seller)
    assert loaded is not None
    assert [(clock.item_id, clock.due_at) for clock in loaded.clocks] == [(c.item_id, c.due_at) for c in state.clocks]
    assert all(clock.marketplace is None for clock in loaded.clocks)


# --- The import dialog ---------------------------------------------------------------------------------------------


def feedback_file(folder: Path) -> Path:
    """German feedback on an order no imported report holds (its dates as Amazon.de writes them)."""
    path = folder / "neu-feedback.txt"
    path.write_text(
        "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n"
        "05.11.26\t1\tNie angekommen\t\t302-7777777-7777777\t\n",
        encoding="utf-8",
    )
    return path


def test_the_import_dialog_asks_the_marketplace_of_unknown_orders_and_the_rows_take_it(
    qtbot, launch, uk_de_seller, db_path, tmp_path
):
    desktop = launch(db_path, now=FixedClock(NOW))
    desktop.import_paths([str(feedback_file(tmp_path))])
    dialog = desktop.import_dialog
    assert dialog.asking and not dialog.choice.isHidden()
    assert dialog.marketplace_choice.currentData() == "UK"  # the home marketplace unless the seller says
    codes = [dialog.marketplace_choice.itemData(i) for i in range(dialog.marketplace_choice.count())]
    assert codes[:2] == ["UK", "DE"]  # the seller's own marketplaces first
    dialog.marketplace_choice.setCurrentIndex(dialog.marketplace_choice.findData("DE"))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=WAIT_MS)
    (result,) = dialog.results
    assert result.outcome == "imported" and not result.rejected, result.rejections
    assert "1 row for orders not among your imported orders: given the DE marketplace" in (dialog.summary.toPlainText())
    with reading(db_path) as db:
        stored = db.execute("SELECT feedback_date, marketplace FROM feedback WHERE order_id = '302-7777777-7777777'")
        assert stored.fetchall() == [("2026-11-05", "DE")]  # 05.11.26 read as Amazon.de writes it
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Close) is not None


def test_a_seller_in_one_marketplace_is_not_asked_and_the_summary_names_the_marketplace(
    qtbot, launch, sample_db, db_path, tmp_path
):
    desktop = launch(db_path, now=FixedClock(NOW))
    desktop.import_paths([str(feedback_file(tmp_path))])
    dialog = desktop.import_dialog
    assert not dialog.asking and dialog.choice.isHidden() and dialog.started
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=WAIT_MS)
    assert "given the US marketplace" in dialog.summary.toPlainText()


def test_closing_the_dialog_before_choosing_imports_nothing(qtbot, launch, uk_de_seller, db_path, tmp_path):
    desktop = launch(db_path, now=FixedClock(NOW))
    desktop.import_paths([str(feedback_file(tmp_path))])
    dialog = desktop.import_dialog
    dialog.reject()
    assert not dialog.isVisible() and dialog.results == []
    with reading(db_path) as db:
        assert db.execute("SELECT count(*) FROM feedback WHERE order_id = '302-7777777-7777777'").fetchone()[0] == 0
    desktop.import_paths([str(feedback_file(tmp_path))])  # a new import is not held up by the closed one
    assert desktop.import_dialog is not dialog and desktop.import_dialog.asking


# --- A laptop's screen ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1366, 768), (1024, 768), (683, 720)], ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_marketplace_column_fits_without_sideways_scrolling(qtbot, launch, uk_de_seller, db_path, size):
    from tests.test_window_fit import (
        assert_no_sideways_scrolling,
        clipped_titles,
        cut_cells_without_their_text,
        show_window,
    )

    desktop = launch(db_path, now=FixedClock(NOW))
    qtbot.waitUntil(lambda: desktop.triage_listing is not None, timeout=WAIT_MS)
    wide = size[0] >= 1024
    window = show_window(qtbot, desktop, size, "messages")
    clocks = window.messages
    assert_no_sideways_scrolling(clocks.table)
    assert not clipped_titles(clocks.table) and not cut_cells_without_their_text(clocks.table)
    assert clocks.table.isColumnHidden(clocks_model.MARKETPLACE) is not wide  # folded at half a screen
    for row in range(clocks.proxy.rowCount()):  # …and still in each row's tooltip
        code = clocks.proxy.index(row, clocks_model.MARKETPLACE).data()
        assert f"{code} marketplace" in clocks.proxy.index(row, clocks_model.WHAT).data(Qt.ItemDataRole.ToolTipRole)
    assert clocks.marketplace_filter.isVisible()
    window = show_window(qtbot, desktop, size, "triage")
    triage = window.triage
    assert_no_sideways_scrolling(triage.table)
    assert not clipped_titles(triage.table) and not cut_cells_without_their_text(triage.table)
    assert triage.table.isColumnHidden(triage_view.MARKETPLACE) is not wide
    assert triage.marketplace_filter.isVisible()
    assert "marketplace" in triage.detail.toPlainText()


def test_alerts_csv_and_the_command_line_name_each_clocks_marketplace(uk_de_seller, db_path, tmp_path):
    import subprocess
    import sys

    from app import alerts
    from app.settings import load_settings
    from app.triage_report import triage_csv

    settings = load_settings(uk_de_seller)
    clocks = services.open_clocks(uk_de_seller, NOW, settings)
    de_question = next(clock for clock in clocks if clock.order_id == de_id(40))
    raised = alerts.clock_alerts(clocks, NOW, settings.alert_thresholds_hours, lookback_s=NOW, zone=settings.zone)
    de_alert = next(alert for alert in raised if alert.item_id == de_question.item_id)
    assert de_alert.body.startswith(f"DE order {de_id(40)}")
    listing = services.load_triage(uk_de_seller, NOW, None, settings)
    rows = triage_csv(listing).splitlines()
    header = rows[0].split(",")
    column = header.index('"marketplace"')
    by_order = {row.split(",")[3].strip('"'): row.split(",")[column].strip('"') for row in rows[1:]}
    assert by_order[de_id(40)] == "DE" and by_order[uk_id(40)] == "UK"
    uk_de_seller.close()
    at = datetime.fromtimestamp(NOW, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = subprocess.run(
        [sys.executable, "main.py", "clocks", "--db", str(db_path), "--at", at],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    line = next(line for line in done.stdout.splitlines() if de_id(40) in line)
    assert "DE  Reply to buyer" in line
