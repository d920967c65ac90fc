"""The triage list and its session: what is new, each kind of item with its clock and ODR effect, and
the workflow (resolve, reopen, complete) with resolutions kept as the order's history.

The seller is in UTC; every instant is injected. The reference Monday is 9 Nov 2026.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from app import services
from app.alerts import save_statuses
from app.timeline import order_timeline
from tests.builders import Seller, at

MONDAY = at("2026-11-09 09:00")
NEXT_MONDAY = at("2026-11-16 09:00")
HOUR = 3600


def keys(listing) -> list[str]:
    return [item.key for item in listing.items]


def item(listing, key: str):
    return next(i for i in listing.items if i.key == key)


def fba_return(db, order_id: str, when: str, reason: str, comments: str = "", key: str | None = None) -> str:
    key = key or f"{order_id}|SKU-1|{at(when)}|LPN1"
    db["fba_returns"].insert(
        {
            "return_key": key,
            "order_id": order_id,
            "returned_at": at(when),
            "sku": "SKU-1",
            "product_name": "Desk Lamp",
            "reason": reason,
            "disposition": "CUSTOMER_DAMAGED",
            "customer_comments": comments,
        }
    )
    return key


# --- The window -------------------------------------------------------------------------------------------------


def test_the_first_triage_lists_the_last_seven_days(db):
    seller = Seller(db)
    old, new = seller.order("2026-10-20 10:00"), seller.order("2026-10-20 11:00")
    seller.feedback(old, "2026-11-02", rating=1, comments="Seller never replied")
    seller.feedback(new, "2026-11-03", rating=1, comments="Seller never replied")
    listing = services.load_triage(db, MONDAY)
    assert (listing.window_start, listing.window_end, listing.window_reason) == (
        date(2026, 11, 3),
        date(2026, 11, 9),
        "first",
    )
    assert keys(listing) == [f"feedback:{new}"]
    assert listing.session_number == 1 and listing.last_completed_at is None


def test_the_end_of_a_day_is_still_that_day(db):
    seller = Seller(db)
    order = seller.order("2026-10-20 10:00")
    seller.feedback(order, "2026-11-09", rating=1, comments="Seller never replied")
    as_of_8th = services.load_triage(db, at("2026-11-09 00:00"))
    assert as_of_8th.as_of == date(2026, 11, 8) and as_of_8th.items == []
    assert keys(services.load_triage(db, at("2026-11-09 00:01"))) == [f"feedback:{order}"]


def test_a_day_given_replaces_the_window(db):
    seller = Seller(db)
    order = seller.order("2026-09-01 10:00")
    seller.feedback(order, "2026-09-20", rating=2, comments="Seller never replied")
    assert services.load_triage(db, MONDAY).items == []
    listing = services.load_triage(db, MONDAY, since=date(2026, 9, 1))
    assert listing.window_reason == "given" and keys(listing) == [f"feedback:{order}"]


# --- What is listed ---------------------------------------------------------------------------------------------


@pytest.fixture
def week(db):
    """One of everything in the week before MONDAY, listed or deliberately not."""
    seller = Seller(db)
    o = {name: seller.order("2026-10-25 10:00", channel) for name, channel in _ORDERS}
    seller.feedback(o["neg"], "2026-11-05", rating=1, comments="Seller never answered my messages")
    seller.feedback(o["neutral"], "2026-11-05", rating=3, comments="Ok item, delivery took a while.")
    seller.feedback(o["happy"], "2026-11-05", rating=5, comments="Great")
    seller.claim(o["claim"], "2026-11-06", reason="not-as-described")
    seller.claim(o["fba_claim"], "2026-11-04", reason="not-received", status="granted", decided="2026-11-07")
    seller.claim(o["denied"], "2026-11-04", reason="not-received", status="denied", decided="2026-11-06")
    seller.claim(o["chargeback"], "2026-11-07", type="chargeback", reason="service")
    seller.claim(o["fraud"], "2026-11-07", type="chargeback", reason="fraud")
    seller.return_request(o["pending"], "2026-11-08", status="Pending", reason="CR-DEFECTIVE")
    seller.return_request(o["rejected"], "2026-11-04", status="Rejected", reason="CR-UNWANTED_ITEM")
    seller.return_request(o["approved"], "2026-11-04", status="Approved", reason="CR-DEFECTIVE")
    seller.message("2026-11-09 06:00", thread="t-open", order_id=o["open_msg"], message_id="open")
    seller.message(
        "2026-11-05 08:00", thread="t-late", order_id=o["late_msg"], message_id="late", topic="Return policy"
    )
    seller.reply("2026-11-06 14:00", thread="t-late")
    seller.message("2026-11-05 08:00", thread="t-ok", order_id=o["ok_msg"], message_id="ok")
    seller.reply("2026-11-05 09:00", thread="t-ok")
    fba_return(db, o["fba_defect"], "2026-11-06 12:00", "DEFECTIVE", "Stopped working after 2 days", key="R1")
    fba_return(db, o["fba_damaged"], "2026-11-06 12:00", "DAMAGED_BY_FC", key="R2")
    fba_return(db, o["fba_unwanted"], "2026-11-06 12:00", "UNWANTED_ITEM", key="R3")
    save_statuses(db, {"order_defect_rate": {"status": "good", "rate": 0.005}}, at("2026-11-01 12:00"))
    save_statuses(db, {"order_defect_rate": {"status": "breach", "rate": 0.012}}, at("2026-11-07 12:00"))
    return o


_ORDERS = (
    ("neg", "FBM"),
    ("neutral", "FBA"),
    ("happy", "FBM"),
    ("claim", "FBM"),
    ("fba_claim", "FBA"),
    ("denied", "FBM"),
    ("chargeback", "FBM"),
    ("fraud", "FBM"),
    ("pending", "FBM"),
    ("rejected", "FBM"),
    ("approved", "FBM"),
    ("open_msg", "FBM"),
    ("late_msg", "FBM"),
    ("ok_msg", "FBM"),
    ("fba_defect", "FBA"),
    ("fba_damaged", "FBA"),
    ("fba_unwanted", "FBA"),
)


def test_every_kind_of_new_item_is_listed_and_nothing_else(db, week):
    o = week
    listing = services.load_triage(db, MONDAY)
    assert set(keys(listing)) == {
        f"feedback:{o['neg']}",
        f"feedback:{o['neutral']}",
        f"claim:{o['claim']}:a-to-z",
        f"claim:{o['fba_claim']}:a-to-z",
        f"claim:{o['denied']}:a-to-z",
        f"claim:{o['chargeback']}:chargeback",
        f"claim:{o['fraud']}:chargeback",
        "return:RMA0",
        "return:RMA1",
        "message:open",
        "message:late",
        "fba_return:R1",
        "fba_return:R2",
        "fba_reimbursement:R2",  # damaged in Amazon's warehouse: a reimbursement claim as well
        f"status:order_defect_rate:{at('2026-11-07 12:00')}",
    }
    kinds = {i.key: i.kind for i in listing.items}
    assert kinds[f"claim:{o['fraud']}:chargeback"] == "chargeback"
    assert kinds["fba_return:R1"] == "fba_return" and kinds["message:late"] == "message"


def test_each_item_says_what_happened_and_its_effect_on_odr(db, week):
    o = week
    listing = services.load_triage(db, MONDAY)
    effects = {i.key: i.odr_effect for i in listing.items}
    assert effects[f"feedback:{o['neg']}"] == "counts"
    assert effects[f"feedback:{o['neutral']}"] == "not an ODR defect"
    assert effects[f"claim:{o['claim']}:a-to-z"] == "counts"
    assert effects[f"claim:{o['fba_claim']}:a-to-z"] == "excluded: FBA fulfilment"
    assert effects[f"claim:{o['denied']}:a-to-z"] == "excluded: denied"
    assert effects[f"claim:{o['chargeback']}:chargeback"] == "counts"
    assert effects[f"claim:{o['fraud']}:chargeback"] == "excluded: fraud chargeback"
    assert effects["message:open"] == "not an ODR defect"
    late = item(listing, "message:late")
    assert "answered after 1 d 6 h (late)" in late.what and late.affects == ("LRR",)
    assert "Stopped working after 2 days" in item(listing, "fba_return:R1").what
    status = next(i for i in listing.items if i.kind == "status_change")
    assert status.what == "Order Defect Rate went from good to over the limit (1.20 %)."
    assert status.order_id is None and status.category == "metric_status"


def test_each_item_carries_the_clock_it_is_on(db, week):
    o = week
    listing = services.load_triage(db, MONDAY)
    message = item(listing, "message:open").to_json(MONDAY)["clock"]
    assert message == {
        "kind": "buyer_reply",
        "label": "Reply to buyer",
        "due_at": "2026-11-10T06:00:00Z",
        "remaining_s": 21.0 * HOUR,
    }
    claim = item(listing, f"claim:{o['claim']}:a-to-z").to_json(MONDAY)["clock"]
    assert claim["kind"] == "a_to_z_response" and claim["due_at"] == "2026-11-08T00:00:00Z"
    assert claim["remaining_s"] == -33.0 * HOUR
    assert item(listing, f"claim:{o['fba_claim']}:a-to-z").clock.kind == "a_to_z_appeal"
    assert item(listing, f"claim:{o['chargeback']}:chargeback").clock.kind == "chargeback_response"
    assert item(listing, "return:RMA0").clock.kind == "return_response"
    assert item(listing, "return:RMA1").clock is None  # rejected: nothing to answer any more
    assert item(listing, "message:late").clock is None
    assert item(listing, f"feedback:{o['neg']}").clock is None  # no removal ground: no removal to request
    # The most urgent first: overdue clocks lead.
    assert listing.items[0].key == f"claim:{o['claim']}:a-to-z"


def test_removable_feedback_is_on_the_removal_clock(db):
    seller = Seller(db)
    order = seller.order("2026-10-25 10:00", "FBM")
    seller.feedback(order, "2026-11-05", rating=1, comments="Call me at (415) 555-0132")
    [found] = services.load_triage(db, MONDAY).items
    assert found.removal == {"eligible": True, "ground": "personal_info", "window_closes": "2027-02-03"}
    assert found.odr_effect == "would drop out if removed"
    assert found.clock.kind == "feedback_removal" and found.clock.due_at == at("2027-02-03 00:00")
    assert "Request removal" in found.suggestion.action


def test_removing_feedback_does_not_help_an_order_that_another_defect_keeps_defective(db):
    seller = Seller(db)
    order = seller.order("2026-10-25 10:00", "FBM")
    seller.feedback(order, "2026-11-05", rating=1, comments="The switch feels cheap and the lamp flickers")
    seller.claim(order, "2026-11-04", type="chargeback", reason="service")
    found = next(i for i in services.load_triage(db, MONDAY).items if i.key == f"feedback:{order}")
    assert found.removal["eligible"] and found.removal["ground"] == "product_review"
    # One order counts once: with the chargeback counting, removal leaves ODR where it is.
    assert found.odr_effect == "counts (order also has a chargeback)"
    seller.db.execute("UPDATE claims SET status = 'denied', decided_on = '2026-11-06' WHERE order_id = ?", [order])
    found = next(i for i in services.load_triage(db, MONDAY).items if i.key == f"feedback:{order}")
    assert found.odr_effect == "would drop out if removed"


def test_the_removal_window_follows_the_setting_and_closes(db):
    seller = Seller(db)
    seller.setting("feedback_removal_days", 60)
    order = seller.order("2026-08-01 10:00", "FBM")
    seller.feedback(order, "2026-09-01", rating=1, comments="Zipper broke on day two")
    [found] = services.load_triage(db, at("2026-10-30 12:00"), since=date(2026, 8, 1)).items
    assert found.removal == {"eligible": True, "ground": "product_review", "window_closes": "2026-10-31"}
    [closed] = services.load_triage(db, at("2026-11-01 12:00"), since=date(2026, 8, 1)).items
    assert closed.removal == {"eligible": False, "ground": "product_review", "window_closes": "2026-10-31"}
    assert closed.odr_effect == "counts" and closed.clock is None


def test_removed_feedback_says_it_no_longer_counts(db):
    seller = Seller(db)
    order = seller.order("2026-10-25 10:00", "FBM")
    seller.feedback(order, "2026-11-05", rating=1, comments="sh*t", removal_status="removed", removed_on="2026-11-07")
    [found] = services.load_triage(db, MONDAY).items
    assert found.odr_effect == "excluded: removed"
    assert found.removal["ground"] == "obscene" and found.removal["eligible"] is False


def test_a_csba_covered_message_is_not_the_seller_s_and_not_listed(db):
    seller = Seller(db)
    seller.setting("csba_periods", [{"start": "2026-10-01", "end": None}])
    order = seller.order("2026-10-25 10:00", "FBM")
    seller.message("2026-11-09 06:00", order_id=order, message_id="covered")
    assert services.load_triage(db, MONDAY).items == []


# --- Workflow ---------------------------------------------------------------------------------------------------


def test_resolve_keeps_the_item_listed_as_resolved_until_the_session_is_completed(db, week):
    before = services.load_triage(db, MONDAY)
    services.resolve_item(db, "message:open", "Replied with the tracking link", "Parcel due Wednesday", MONDAY + 60)
    # The reply goes out and the message no longer qualifies; it stays listed, resolved, this session.
    Seller(db).reply("2026-11-09 09:01", thread="t-open")
    after = services.load_triage(db, MONDAY + 120)
    assert set(keys(after)) == set(keys(before))
    resolved = item(after, "message:open")
    assert resolved.status == "resolved" and resolved.clock is None
    assert resolved.resolution.action == "Replied with the tracking link"
    assert resolved.resolution.note == "Parcel due Wednesday"
    assert after.counts["resolved"] == 1 and after.counts["open"] == len(after.items) - 1
    assert resolved.to_json(MONDAY)["resolution"]["resolved_at"] == "2026-11-09T09:01:00Z"


def test_reopen_takes_the_resolution_back_and_history_keeps_both(db, week):
    o = week
    key = f"claim:{o['claim']}:a-to-z"
    services.resolve_item(db, key, "Sent proof of delivery", at=MONDAY + 10)
    assert services.reopen_item(db, key, MONDAY + 20) is True
    assert services.reopen_item(db, key, MONDAY + 30) is False
    assert item(services.load_triage(db, MONDAY + 40), key).status == "open"
    [first] = services.order_resolutions(db, o["claim"])
    assert (first.action, first.ended_by, first.ended_at) == ("Sent proof of delivery", "reopened", MONDAY + 20)
    services.resolve_item(db, key, "Refunded", at=MONDAY + 50)
    services.resolve_item(db, key, "Refunded and apologised", at=MONDAY + 60)
    history = services.order_resolutions(db, o["claim"])
    assert [(r.action, r.ended_by) for r in history] == [
        ("Sent proof of delivery", "reopened"),
        ("Refunded", "superseded"),
        ("Refunded and apologised", None),
    ]
    assert item(services.load_triage(db, MONDAY + 70), key).resolution.action == "Refunded and apologised"


def test_resolutions_appear_in_the_order_timeline(db, week):
    o = week
    key = f"feedback:{o['neg']}"
    services.resolve_item(db, key, "Messaged the buyer with a refund offer", "Buyer accepted", MONDAY)
    services.reopen_item(db, key, MONDAY + HOUR)
    events = order_timeline(db, o["neg"], ZoneInfo("UTC"))
    whats = [event.what for event in events]
    assert "Triage: resolved — Messaged the buyer with a refund offer" in whats
    assert "Triage: reopened" in whats
    assert whats.index("Triage: reopened") > whats.index("Triage: resolved — Messaged the buyer with a refund offer")


def test_complete_session_defines_what_is_new_next_week(db, week):
    first = services.load_triage(db, MONDAY)
    for listed in first.items:
        services.resolve_item(db, listed.key, "Done", at=MONDAY + 60)
    done = services.complete_session(db, MONDAY + 120)
    assert done["items"] == len(first.items) == done["resolved"] and done["open"] == 0
    assert done["number"] == 1 and done["completed_at"] == "2026-11-09T09:02:00Z"
    seller = Seller(db)
    later = seller.order("2026-11-01 10:00", order_id="114-0000001-0000001")
    seller.feedback(later, "2026-11-12", rating=2, comments="Seller never replied")
    nxt = services.load_triage(db, NEXT_MONDAY)
    assert (nxt.window_start, nxt.window_reason, nxt.session_number) == (date(2026, 11, 9), "since_last", 2)
    assert nxt.last_completed_at == MONDAY + 120
    assert keys(nxt) == [f"feedback:{later}"]
    assert services.triage_sessions(db)[0]["items"] == len(first.items)


def test_records_that_arrive_after_the_triage_of_their_days_are_listed_next_time(db):
    seller = Seller(db)
    services.complete_session(db, MONDAY)
    late_order, ancient_order = seller.order("2026-10-01 10:00"), seller.order("2026-09-01 10:00")
    # Imported after Monday's triage, dated before it: the seller has not seen them.
    seller.feedback(late_order, "2026-11-06", rating=1, comments="Seller never replied")
    seller.feedback(ancient_order, "2026-09-20", rating=1, comments="Seller never replied")
    nxt = services.load_triage(db, NEXT_MONDAY)
    assert keys(nxt) == [f"feedback:{late_order}"]  # the one from September is too old to be news


def test_unresolved_items_a_completed_triage_showed_are_carried_over(db, week):
    first = services.load_triage(db, MONDAY)
    services.complete_session(db, MONDAY + 60)
    nxt = services.load_triage(db, NEXT_MONDAY)
    assert set(keys(nxt)) == set(keys(first))
    assert all(i.carried_since == MONDAY + 60 and nxt.carried_days(i) == 7 for i in nxt.items)


def test_completing_with_the_keys_the_seller_saw(db, week):
    first = services.load_triage(db, MONDAY)
    shown = keys(first)[:3]
    done = services.complete_session(db, MONDAY + 60, keys=shown)
    assert done["items"] == 3
    later = services.load_triage(db, MONDAY + 120)
    assert set(keys(later)) == set(keys(first))
    assert {i.key for i in later.items if i.carried_since is not None} == set(shown)


def test_a_session_cannot_be_completed_before_the_last_one(db):
    services.complete_session(db, MONDAY)
    with pytest.raises(ValueError, match="later triage"):
        services.complete_session(db, MONDAY - 60)


def test_resolving_needs_a_real_item_and_an_action(db, week):
    with pytest.raises(LookupError):
        services.resolve_item(db, "feedback:999-0000000-0000000", "Done", at=MONDAY)
    with pytest.raises(LookupError):
        services.resolve_item(db, "nonsense", "Done", at=MONDAY)
    with pytest.raises(ValueError, match="action"):
        services.resolve_item(db, "message:open", "   ", at=MONDAY)
    status_key = next(i.key for i in services.load_triage(db, MONDAY).items if i.kind == "status_change")
    services.resolve_item(db, status_key, "Checked the dashboard", at=MONDAY)


def test_the_seller_s_category_overrides_the_derived_one_and_its_path(db, week):
    o = week
    key = f"feedback:{o['neg']}"
    services.set_category(db, key, "delivery_issue", MONDAY)
    changed = item(services.load_triage(db, MONDAY), key)
    assert (changed.category, changed.derived_category) == ("delivery_issue", "negative_feedback")
    assert changed.to_json(MONDAY)["category_source"] == "seller"
    assert changed.suggestion.action.startswith("Check the tracking")
    services.set_category(db, key, None)
    assert item(services.load_triage(db, MONDAY), key).category == "negative_feedback"
    with pytest.raises(ValueError, match="not a category"):
        services.set_category(db, key, "urgent")
    with pytest.raises(LookupError):
        services.set_category(db, "message:nope", "delivery_issue")


def test_keys_are_stable_across_recomputation_and_imports(db, week):
    first = keys(services.load_triage(db, MONDAY))
    Seller(db).order("2026-11-08 10:00", order_id="114-0000001-0000001")
    assert sorted(keys(services.load_triage(db, MONDAY + 600))) == sorted(first)


def test_every_item_gets_a_category_from_its_data(db, week):
    o = week
    categories = {i.key: i.category for i in services.load_triage(db, MONDAY).items}
    assert categories[f"feedback:{o['neg']}"] == "negative_feedback"
    assert categories[f"feedback:{o['neutral']}"] == "delivery_issue"
    assert categories[f"claim:{o['claim']}:a-to-z"] == "a_to_z_claim"
    assert categories[f"claim:{o['chargeback']}:chargeback"] == "chargeback"
    assert categories["return:RMA0"] == categories["return:RMA1"] == "return_request"
    assert categories["message:open"] == "delivery_issue"  # topic Order delivery
    assert categories["message:late"] == "return_request"  # topic Return policy
    assert categories["fba_return:R1"] == "product_defect"
    assert categories["fba_return:R2"] == "delivery_issue"


def test_an_item_reopened_after_its_triage_was_completed_comes_back(db, week):
    o = week
    key = f"claim:{o['claim']}:a-to-z"
    services.resolve_item(db, key, "Sent proof of delivery", at=MONDAY + 10)
    services.complete_session(db, MONDAY + 20)
    assert key not in keys(services.load_triage(db, NEXT_MONDAY))
    services.reopen_item(db, key, NEXT_MONDAY + 10)
    back = item(services.load_triage(db, NEXT_MONDAY + 20), key)
    assert back.status == "open" and back.day == date(2026, 11, 6)  # older than the window: listed anyway
    services.resolve_item(db, key, "Refunded", at=NEXT_MONDAY + 30)
    services.complete_session(db, NEXT_MONDAY + 40)
    assert key not in keys(services.load_triage(db, NEXT_MONDAY + 7 * 86400))


def test_feedback_with_a_removal_ground_takes_the_removal_path_whatever_its_rating(db):
    seller = Seller(db)
    order = seller.order("2026-10-25 10:00", "FBA")
    seller.feedback(order, "2026-11-05", rating=3, comments="Package arrived late and the box was crushed")
    [found] = services.load_triage(db, MONDAY).items
    assert found.removal["ground"] == "fba_fulfillment" and found.odr_effect == "not an ODR defect"
    assert found.category == "negative_feedback" and "Request removal" in found.suggestion.action
