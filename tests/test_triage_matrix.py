"""The escalation matrix: its defaults (from metrics.md), the seller's edits with their checks, going
back to the defaults, and the path and pre-approved amount each item gets from it."""

from __future__ import annotations

import pytest

from app import services
from app.triage import CATEGORIES
from tests.builders import Seller, at

MONDAY = at("2026-11-09 09:00")


def entry(db, category: str, case: str = ""):
    return next(e for e in services.get_matrix(db) if (e.category, e.case) == (category, case))


def test_every_category_ships_with_a_default_path(db):
    matrix = services.get_matrix(db)
    assert {e.category for e in matrix if e.case == ""} == set(CATEGORIES)
    assert all(e.action and e.who and e.response_hours > 0 and e.amount is None for e in matrix)
    assert not any(e.customised for e in matrix)
    assert [e.category for e in matrix if e.case == ""] == list(CATEGORIES)  # display order


def test_the_defaults_follow_the_product_rules(db):
    fba = entry(db, "a_to_z_claim", "fba_fulfilment")
    assert "exclude" in fba.action and "Amazon" in fba.action
    chargeback = entry(db, "chargeback")
    assert chargeback.response_hours == 7 * 24 and "tracking" in chargeback.action
    negative = entry(db, "negative_feedback")
    assert "Buyer-Seller Messaging" in negative.action and "Never ask" in negative.action
    assert "Request removal" in entry(db, "negative_feedback", "removable").action
    assert entry(db, "return_request").response_hours == 48
    assert entry(db, "general_inquiry").response_hours == 24


def test_an_edit_is_stored_and_used(db):
    saved = services.save_matrix_entry(db, "chargeback", "  Send the carrier's proof  ", "Ops", 72, 15)
    assert (saved.action, saved.who, saved.response_hours, saved.amount) == ("Send the carrier's proof", "Ops", 72, 15)
    stored = entry(db, "chargeback")
    assert stored.customised and stored.action == "Send the carrier's proof" and stored.amount == 15
    assert stored.to_json()["amount_basis"] == "fixed"
    # Other entries keep their defaults.
    assert not entry(db, "a_to_z_claim").customised
    services.save_matrix_entry(db, "chargeback", "Again", "Ops", 24)
    assert entry(db, "chargeback").amount is None and entry(db, "chargeback").to_json()["amount_basis"] == "item_value"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("urgent", "Act", "Me", 24), "not a category"),
        (("chargeback", "Act", "Me", 24, None, "fba_fulfilment"), "not a case"),
        (("chargeback", " ", "Me", 24), "action"),
        (("chargeback", "Act", "", 24), "who"),
        (("chargeback", "Act", "Me", 0), "response time"),
        (("chargeback", "Act", "Me", -3), "response time"),
        (("chargeback", "Act", "Me", "soon"), "not a number"),
        (("chargeback", "Act", "Me", 24 * 365), "response time"),
        (("chargeback", "Act", "Me", 24, -1), "negative"),
        (("chargeback", "Act", "Me", 24, "lots"), "not a number"),
        (("chargeback", "Act", "Me", float("nan")), "not a number"),
    ],
)
def test_edits_are_checked(db, args, message):
    with pytest.raises(ValueError, match=message):
        services.save_matrix_entry(db, *args)
    assert not entry(db, "chargeback").customised


def test_reset_goes_back_to_the_defaults(db):
    default = entry(db, "chargeback").action
    services.save_matrix_entry(db, "chargeback", "Mine", "Me", 24)
    services.save_matrix_entry(db, "a_to_z_claim", "Mine", "Me", 24, case="fba_fulfilment")
    services.save_matrix_entry(db, "a_to_z_claim", "Mine too", "Me", 24)
    services.reset_matrix(db, "a_to_z_claim", "fba_fulfilment")
    assert not entry(db, "a_to_z_claim", "fba_fulfilment").customised
    assert entry(db, "a_to_z_claim").customised
    services.reset_matrix(db)
    assert entry(db, "chargeback").action == default
    assert not any(e.customised for e in services.get_matrix(db))


def test_items_get_their_category_s_path_and_the_order_s_item_value(db):
    seller = Seller(db)
    order = seller.order("2026-10-25 10:00", "FBM")
    db["order_items"].insert(
        {"order_id": order, "sku": "SKU-2", "last_updated_at": 0, "quantity": 2, "item_price": 19.9, "currency": "USD"}
    )
    seller.claim(order, "2026-11-06", type="chargeback", reason="service")
    [claim] = services.load_triage(db, MONDAY).items
    assert claim.suggestion.action == entry(db, "chargeback").action
    assert claim.suggestion.who == "Account owner" and claim.suggestion.response_hours == 168
    assert claim.suggestion.amount == 39.9  # 20.00 + 19.90: the sum of the order's item prices
    assert claim.suggestion.respond_by == at("2026-11-13 00:00")
    as_json = claim.to_json(MONDAY)
    assert (as_json["preapproved_amount"], as_json["amount_basis"]) == (39.9, "item_value")
    services.save_matrix_entry(db, "chargeback", "Respond", "Ops", 24, amount=10)
    [fixed] = services.load_triage(db, MONDAY).items
    assert (fixed.suggestion.amount, fixed.suggestion.amount_basis, fixed.suggestion.who) == (10, "fixed", "Ops")


def test_special_cases_pick_their_own_path(db):
    seller = Seller(db)
    fba, fbm = seller.order("2026-10-25 10:00", "FBA"), seller.order("2026-10-25 10:00", "FBM")
    seller.claim(fba, "2026-11-06", reason="not-received")
    seller.claim(fbm, "2026-11-06", reason="not-received")
    listing = services.load_triage(db, MONDAY)
    paths = {i.order_id: i.suggestion.action for i in listing.items}
    assert paths[fba] == entry(db, "a_to_z_claim", "fba_fulfilment").action
    assert paths[fbm] == entry(db, "a_to_z_claim").action
    services.save_matrix_entry(db, "a_to_z_claim", "Open a case", "Me", 12, case="fba_fulfilment")
    paths = {i.order_id: i.suggestion.action for i in services.load_triage(db, MONDAY).items}
    assert paths[fba] == "Open a case"


def test_an_item_without_an_order_has_no_amount(db):
    Seller(db).message("2026-11-09 06:00", order_id=None, topic="Product details", message_id="q")
    [question] = services.load_triage(db, MONDAY).items
    assert question.category == "general_inquiry"
    assert (question.suggestion.amount, question.suggestion.amount_basis) == (None, "none")
