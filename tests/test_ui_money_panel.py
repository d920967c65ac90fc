"""The dashboard's money line, from a real database, in a real widget: the month's figures as computed
off the GUI thread with the rest of the state, and a line that costs the dashboard no height."""

from __future__ import annotations

import json
from datetime import date

import pytest
from PySide6.QtWidgets import QApplication

from app import services
from app.money import MoneySummary
from tests.builders import Seller, at
from ui.dashboard import DashboardView

NOW = at("2026-11-20 12:00")


@pytest.fixture
def state(db):
    seller = Seller(db)
    usd, eur = seller.orders(2, "2026-10-20 10:00", "FBA")
    seller.order("2026-11-20 08:00")  # reports up to date: no old-reports banner above the line
    db.execute("UPDATE order_items SET item_price = 42.0, currency = 'USD' WHERE order_id = ?", [usd])
    db.execute("UPDATE order_items SET item_price = 15.5, currency = 'EUR' WHERE order_id = ?", [eur])
    for number, (order_id, disposition, status) in enumerate(
        ((usd, "WAREHOUSE_DAMAGED", "Unit returned to inventory"), (eur, "SELLABLE", "Reimbursed"))
    ):
        db["fba_returns"].insert(
            {
                "return_key": f"R{number}",
                "order_id": order_id,
                "returned_at": at(f"2026-11-1{number} 09:00"),
                "sku": "SKU-1",
                "quantity": 1,
                "disposition": disposition,
                "status": status,
            }
        )
    for sent, breaches in (
        ("2026-11-02 10:00", [{"rule": "marketing", "phrase": "20% off"}]),
        ("2026-11-03 10:00", []),
    ):
        seller.reply(sent)
        db.execute("UPDATE replies SET breaches = ? WHERE sent_at = ?", [json.dumps(breaches), at(sent)])
    return services.refresh(db, lambda: NOW)


def shown(qtbot, state, size=(1366, 768)) -> DashboardView:
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show_state(state)
    view.show()
    qtbot.waitExposed(view)
    for _ in range(3):
        QApplication.processEvents()
    return view


def test_the_money_line_shows_the_months_figures_from_the_state(qtbot, state):
    view = shown(qtbot, state)
    text = view.money.label.text()
    assert view.money.isVisible()
    assert "Amazon may owe you <b>$42.00</b> (1 claim)" in text
    assert "<b>€15.50</b> recovered in November" in text
    assert "1 reply broke a guideline" in text


def test_an_empty_line_names_no_currency_and_reads_as_english(qtbot, state):
    empty = MoneySummary(month=date(2026, 12, 1))
    view = shown(qtbot, services.MonitorState(**{**state.__dict__, "money": empty}))
    text = view.money.label.text()
    assert text.startswith("No money claim open · nothing recovered in December · ")
    assert "No reply broke a guideline" in text and "$" not in text and "broke no" not in text


def test_refunds_stored_before_the_delivery_date_was_read_ask_for_a_reimport(qtbot, state):
    unknown = MoneySummary(month=date(2026, 11, 1), unknown_delivery=4)
    view = shown(qtbot, services.MonitorState(**{**state.__dict__, "money": unknown}))
    assert "re-import FBM returns to check 4 refunded returns" in view.money.label.text()
    assert (
        "Re-import the FBM returns report to check 4 refunded returns for SAFE-T claims" in view.money.label.toolTip()
    )


def test_the_state_carries_the_figures_through_a_restart(db, state):
    services.save_last_state(db, state)
    assert services.load_last_state(db).money == state.money


@pytest.mark.parametrize("size", [(1366, 768), (1024, 768)])
def test_the_money_line_makes_the_dashboard_no_taller(qtbot, state, size):
    with_line = shown(qtbot, state, size)
    without = shown(qtbot, services.MonitorState(**{**state.__dict__, "money": None}), size)
    assert not without.money.isVisible()
    assert with_line.scroll.verticalScrollBar().maximum() == without.scroll.verticalScrollBar().maximum()
