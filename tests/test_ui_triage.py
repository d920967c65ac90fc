"""The triage view on the demo seller: the list arrives from the worker, items are resolved, reopened and
recategorised, the session is completed, the list is exported and the escalation matrix edited."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtWidgets import QMessageBox

from app import services
from app.triage import CATEGORIES, NEGATIVE_FEEDBACK
from storage import open_db
from tests.ui_support import SAMPLE_NOW, WAIT_MS, reading
from ui.matrix_dialog import ACTION, HOURS, MatrixDialog
from ui.triage_view import TriageModel


@pytest.fixture
def desktop(qtbot, launch, demo_path):
    app = launch(demo_path)
    qtbot.waitUntil(lambda: app.triage_listing is not None, timeout=WAIT_MS)
    app.window.show_view("triage")
    return app


def items_by_key(desktop):
    return {item.key: item for item in desktop.triage_listing.items}


def test_model_passes_qt_model_tester(qtmodeltester, demo_path):
    db = open_db(demo_path)
    listing = services.load_triage(db, SAMPLE_NOW)
    db.close()
    model = TriageModel(lambda: SAMPLE_NOW)
    model.set_rows(listing.items)
    assert model.rowCount() == len(listing.items) > 5
    qtmodeltester.check(model)


def test_the_list_arrives_with_counts_in_the_tab(desktop):
    view = desktop.window.triage
    listing = desktop.triage_listing
    assert view.model.rowCount() == len(listing.items)
    tab = desktop.window.tabs.tabText(desktop.window.tabs.indexOf(view))
    assert tab == f"Tri&age ({listing.counts['open']})"
    assert "first triage" in view.heading.text()
    # The first open item is selected and its path shown.
    item = view.selected_item()
    assert item is not None and not item.resolved
    assert item.suggestion.action[:40] in view.detail.toPlainText()


def test_resolving_and_reopening_an_item(qtbot, desktop):
    view = desktop.window.triage
    item = view.selected_item()
    view.resolve_button.click()  # nothing said about what was done: refused, nothing written
    assert view.action_taken.hasFocus() or "Say what you did" in view.action_taken.placeholderText()
    view.action_taken.setText("Replied with tracking")
    view.note.setText("carrier confirms delivery tomorrow")
    with qtbot.waitSignal(desktop.bridge.triage_ready, timeout=WAIT_MS):
        view.resolve_button.click()
    resolved = items_by_key(desktop)[item.key]
    assert resolved.resolved and resolved.resolution.action == "Replied with tracking"
    assert view.select_item(item.key) and view.reopen_button.isEnabled()
    assert "Replied with tracking" in view.detail.toPlainText()
    with reading(desktop.db_path) as db:
        history = services.order_resolutions(db, item.order_id) if item.order_id else []
    assert not item.order_id or history[-1].action == "Replied with tracking"
    with qtbot.waitSignal(desktop.bridge.triage_ready, timeout=WAIT_MS):
        view.reopen_button.click()
    assert not items_by_key(desktop)[item.key].resolved


def test_hiding_resolved_items(qtbot, desktop):
    view = desktop.window.triage
    view.action_taken.setText("Done")
    with qtbot.waitSignal(desktop.bridge.triage_ready, timeout=WAIT_MS):
        view.resolve_button.click()
    total = view.proxy.rowCount()
    view.show_resolved.setChecked(False)
    assert view.proxy.rowCount() == total - 1


def test_the_seller_can_change_an_items_category(qtbot, desktop):
    view = desktop.window.triage
    item = view.selected_item()
    other = next(key for key in CATEGORIES if key != item.derived_category)
    view.category_choice.setCurrentIndex(view.category_choice.findData(other))
    with qtbot.waitSignal(desktop.bridge.triage_ready, timeout=WAIT_MS):
        view.category_choice.activated.emit(view.category_choice.currentIndex())
    changed = items_by_key(desktop)[item.key]
    assert changed.category == other and changed.derived_category == item.derived_category


def test_filtering_by_category(desktop):
    view = desktop.window.triage
    view.category_filter.setCurrentIndex(view.category_filter.findData(NEGATIVE_FEEDBACK))
    expected = sum(1 for item in desktop.triage_listing.items if item.category == NEGATIVE_FEEDBACK)
    assert view.proxy.rowCount() == expected > 0


def test_completing_the_triage_carries_the_open_items_over(qtbot, desktop, monkeypatch):
    asked = []
    monkeypatch.setattr(
        "ui.confirm.QMessageBox.question",
        lambda *args, **kwargs: asked.append(args[2]) or QMessageBox.StandardButton.Yes,
    )
    view = desktop.window.triage
    open_before = desktop.triage_listing.counts["open"]
    with qtbot.waitSignal(desktop.bridge.triage_ready, timeout=WAIT_MS):
        view.complete_button.click()
    assert asked and f"{open_before} items are still open" in asked[0]
    assert "carried over" in asked[0]
    listing = desktop.triage_listing
    assert listing.session_number == 2 and listing.counts["open"] == listing.counts["carried"] == open_before
    assert view.stack.currentWidget() is view.page and "carried over" in view.heading.text()
    with reading(desktop.db_path) as db:
        assert services.triage_sessions(db)[-1]["items"] == open_before
    assert "Triage 1 completed" in desktop.window.statusBar().currentMessage()


def test_export_csv_and_printable_report(qtbot, desktop, tmp_path):
    view = desktop.window.triage
    target = tmp_path / "week.csv"
    view.export_csv_requested.emit(str(target))
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == len(desktop.triage_listing.items) + 1
    report = tmp_path / "week.html"
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS) as done:
        view.export_report_requested.emit(str(report))
    assert done.args[1] == str(report)
    text = report.read_text(encoding="utf-8")
    assert "<svg" in text and desktop.triage_listing.items[0].order_id in text


def test_editing_the_escalation_matrix(qtbot, desktop, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    desktop.edit_matrix()
    dialog = desktop.matrix_dialog
    assert isinstance(dialog, MatrixDialog)
    model = dialog.model
    assert not model.setData(model.index(0, HOURS), "-3")  # refused with a message, not stored
    assert warnings and "response time" in warnings[0]
    assert model.setData(model.index(0, ACTION), "Call the courier first, then the buyer")
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        dialog.buttons.accepted.emit()
    with reading(desktop.db_path) as db:
        first = services.get_matrix(db)[0]
    assert first.action == "Call the courier first, then the buyer" and first.customised


def test_a_refresh_keeps_what_the_seller_is_typing(qtbot, desktop):
    view = desktop.window.triage
    item = view.selected_item()
    view.action_taken.setText("Half-written answer")
    with qtbot.waitSignal(desktop.bridge.triage_ready, timeout=WAIT_MS):
        desktop.host.send("recompute_soon")
    assert view.selected_item().key == item.key
    assert view.action_taken.text() == "Half-written answer"


def test_a_new_defect_alert_opens_its_item_in_the_triage(qtbot, desktop):
    from app.alerts import defect_alerts

    feedback = next(i for i in desktop.triage_listing.items if i.kind == "feedback")
    [alert] = defect_alerts([{"kind": "negative_feedback", "order_id": feedback.order_id, "day": None}])
    desktop.window.show_view("dashboard")
    desktop.window.triage.category_filter.setCurrentIndex(1)  # a filter that hides it
    desktop.open_alert(alert)
    assert desktop.window.current_view() == "triage"
    assert desktop.window.triage.selected_item().key == feedback.key


def test_the_removal_column_and_panel_give_the_last_day(desktop):
    view = desktop.window.triage
    feedback = next(i for i in desktop.triage_listing.items if i.removal and i.removal["eligible"])
    view.select_item(feedback.key)
    closes = feedback.removal["window_closes"]
    from datetime import date, timedelta

    last = (date.fromisoformat(closes) - timedelta(days=1)).strftime("%a %d %b %Y")
    assert f"request removal by {last}" in view.detail.toPlainText()


def test_matrix_model_passes_qt_model_tester(qtmodeltester, db):
    from ui.matrix_dialog import MatrixModel

    model = MatrixModel(services.get_matrix(db))
    assert model.rowCount() > 7
    qtmodeltester.check(model)


def test_the_matrix_offers_no_refund_on_rows_whose_items_have_none(db):
    from PySide6.QtCore import Qt

    from app.triage import GUIDELINE_BREACH, NEGATIVE_FEEDBACK, SAFET_CLAIM
    from ui.matrix_dialog import AMOUNT, ITEM_VALUE, NO_REFUND, MatrixModel

    model = MatrixModel(services.get_matrix(db))
    rows = {entry.category: row for row, entry in enumerate(model.entries) if not entry.case}
    for category, shown, editable in (
        (SAFET_CLAIM, NO_REFUND, False),
        (GUIDELINE_BREACH, NO_REFUND, False),
        (NEGATIVE_FEEDBACK, ITEM_VALUE, True),
    ):
        cell = model.index(rows[category], AMOUNT)
        assert model.data(cell) == shown
        assert bool(model.flags(cell) & Qt.ItemFlag.ItemIsEditable) is editable
