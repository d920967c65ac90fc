"""Money Amazon may owe back: the FBM returns report's SAFE-T columns imported from held-out style files
(columns in another order, extra columns, empty cells, missing columns), FBA reimbursement and SAFE-T
items in triage with their amount, deadline and clock, and the month's figures for the dashboard.

Every case is a real report file imported through the real path into a real SQLite file, at an injected
instant."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from app import money, services, triage
from app.clocks import FBA_REIMBURSEMENT_CLAIM, SAFET_FILING, clocks_at
from app.settings import SettingError, load_settings, save_setting
from app.timeutil import DAY_S, day_start
from tests.builders import Seller, at
from tests.report_files import Flat, import_one, rows_by

NOW = at("2026-11-20 12:00")
TODAY = date(2026, 11, 20)

FBM_COLUMNS = [
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Currency code",
    "Merchant SKU",
    "Item Name",
    "Return quantity",
    "Return Reason",
    "Return delivery date",
    "Order Amount",
    "SafeT Action reason",
    "SafeT claim id",
    "SafeT claim state",
    "SafeT claim creation time",
    "SafeT claim reimbursement amount",
    "Refunded Amount",
]


def fbm_row(order_id: str, rma: str, requested: str, **cells: str) -> dict[str, str]:
    row = dict.fromkeys(FBM_COLUMNS, "")
    row |= {
        "Order ID": order_id,
        "Order date": "01-Sep-2026",
        "Return request date": requested,
        "Return request status": "Closed",
        "Amazon RMA ID": rma,
        "Currency code": "USD",
        "Merchant SKU": "SKU-1",
        "Item Name": "Desk Lamp",
        "Return quantity": "1",
        "Return Reason": "CR-DEFECTIVE",
        "Order Amount": "20.00",
    }
    return row | cells


def fbm_file(tmp_path, rows: list[dict[str, str]], columns: list[str], name: str = "returns.txt"):
    """The report with `columns` in that order: names as Amazon writes them or in kebab/snake case."""
    source = [next(original for original in FBM_COLUMNS if _same(original, column)) for column in columns]
    flat = Flat(columns, [[row.get(original, "") for original in source] for row in rows])
    return flat.write(tmp_path / name)


def _same(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        return "".join(name.lower().replace("-", " ").replace("_", " ").split())

    return norm(a) == norm(b)


# Held-out shape: kebab and snake case, reversed order, an extra column, no "Merchant RMA ID".
SHUFFLED = [
    "refunded-amount",
    "safet_claim_reimbursement_amount",
    "SafeT claim creation time",
    "safet-claim-state",
    "SafeT claim id",
    "SafeT Action reason",
    "return-delivery-date",
    "Item Name",
    "Merchant SKU",
    "Currency code",
    "Amazon RMA ID",
    "Return request status",
    "Return request date",
    "Order date",
    "Order ID",
    "Return quantity",
    "Return Reason",
    "Order Amount",
]


@pytest.fixture
def seller(db):
    return Seller(db)


def test_safet_columns_are_imported_in_any_order_with_extra_and_empty_cells(db, seller, tmp_path):
    orders = seller.orders(3)
    rows = [
        fbm_row(
            orders[0],
            "RMA-OPEN",
            "02-Oct-2026",
            **{
                "Return delivery date": "09-Oct-2026",
                "SafeT Action reason": "Item returned damaged",
                "SafeT claim id": "SAFET-1",
                "SafeT claim state": "Under investigation",
                "SafeT claim creation time": "2026-10-12T08:30:00-07:00",
                "Refunded Amount": "20.00",
            },
        ),
        fbm_row(
            orders[1],
            "RMA-PAID",
            "05-Oct-2026",
            **{
                "Return delivery date": "10-Oct-2026",
                "SafeT claim id": "SAFET-2",
                "SafeT claim state": "Granted",
                "SafeT claim creation time": "14-Oct-2026 10:02:11 PDT",
                "SafeT claim reimbursement amount": "1.234,50",
                "Refunded Amount": "20.00",
            },
        ),
        fbm_row(orders[2], "RMA-PLAIN", "06-Oct-2026"),  # every SAFE-T cell empty
    ]
    path = fbm_file(tmp_path, rows, SHUFFLED)
    text = path.read_text().splitlines()
    path.write_text("\n".join([text[0] + "\tLabel cost", *(line + "\t4.14" for line in text[1:])]) + "\n")

    result = import_one(db, path)

    assert (result.outcome, result.added, result.rejected) == ("imported", 3, 0)
    stored = rows_by(db, "fbm_returns", "return_id")
    assert {k: stored["RMA-OPEN"][k] for k in ("return_delivery_date", "safet_reason", "safet_claim_id")} == {
        "return_delivery_date": "2026-10-09",
        "safet_reason": "Item returned damaged",
        "safet_claim_id": "SAFET-1",
    }
    assert stored["RMA-OPEN"]["safet_claim_state"] == "Under investigation"
    assert stored["RMA-OPEN"]["safet_claim_created"] == "2026-10-12"
    assert stored["RMA-PAID"]["safet_claim_created"] == "2026-10-14"  # a date-time with its zone's name
    assert stored["RMA-PAID"]["safet_reimbursed"] == 1234.5
    plain = stored["RMA-PLAIN"]
    # The column is there and empty: the report says the item has not come back ('' is not "unknown").
    assert [plain[k] for k in ("return_delivery_date", "safet_claim_id", "safet_reimbursed")] == ["", None, None]


def test_a_report_without_the_safet_columns_still_imports(db, seller, tmp_path):
    order = seller.order()
    columns = [c for c in FBM_COLUMNS if not c.startswith("SafeT") and c != "Return delivery date"]
    result = import_one(db, fbm_file(tmp_path, [fbm_row(order, "RMA-OLD", "02-Oct-2026")], columns))
    assert (result.outcome, result.added) == ("imported", 1)
    stored = rows_by(db, "fbm_returns", "return_id")["RMA-OLD"]
    assert (stored["safet_claim_id"], stored["return_delivery_date"]) == (None, None)  # nothing said: unknown


def test_a_bad_safet_value_rejects_its_row_at_its_line(db, seller, tmp_path):
    orders = seller.orders(3)
    rows = [
        fbm_row(orders[0], "RMA-A", "02-Oct-2026", **{"SafeT claim creation time": "soon"}),
        fbm_row(orders[1], "RMA-B", "02-Oct-2026", **{"SafeT claim reimbursement amount": "lots"}),
        fbm_row(orders[2], "RMA-C", "02-Oct-2026", **{"Return delivery date": "31-Feb-2026"}),
    ]
    result = import_one(db, fbm_file(tmp_path, rows, FBM_COLUMNS))
    assert result.rejected == 3
    (line_a, why_a), (line_b, why_b), (line_c, why_c) = result.rejections
    assert (line_a, line_b, line_c) == (2, 3, 4)
    assert "soon" in why_a and "lots" in why_b and "31-Feb-2026" in why_c


# --- FBA reimbursement claims -------------------------------------------------------------------------------

FBA_COLUMNS = [
    "status",
    "return-date",
    "order-id",
    "sku",
    "asin",
    "fnsku",
    "product-name",
    "quantity",
    "fulfillment-center-id",
    "detailed-disposition",
    "reason",
    "license-plate-number",
    "customer-comments",
    "extra-column-amazon-added",
]


def fba_file(tmp_path, rows: list[dict[str, str]], name: str = "fba.txt"):
    cells = [[row.get(column, "") for column in FBA_COLUMNS] for row in rows]
    return Flat(FBA_COLUMNS, cells).write(tmp_path / name)


def fba_row(order_id: str, returned: str, disposition: str, **cells) -> dict[str, str]:
    row = {
        "return-date": returned,
        "order-id": order_id,
        "sku": "SKU-1",
        "asin": "B000000001",
        "product-name": "Desk Lamp",
        "quantity": "1",
        "detailed-disposition": disposition,
        "reason": "UNWANTED_ITEM",
        "status": "Unit returned to inventory",
        "license-plate-number": f"LPN{order_id[-4:]}",
    }
    return row | cells


def priced(db, order_id: str, price: float, quantity: int = 1, currency: str = "USD") -> None:
    db.execute(
        "UPDATE order_items SET item_price = ?, quantity = ?, currency = ? WHERE order_id = ?",
        [price, quantity, currency, order_id],
    )


def items_of(db, kind: str, now: float = NOW) -> dict[str, triage.TriageItem]:
    listing = services.load_triage(db, now)
    return {item.key: item for item in listing.items if item.kind == kind}


def test_fba_returns_amazon_damaged_are_claims_with_amount_deadline_and_clock(db, seller, tmp_path):
    damaged, carrier, by_fc, unpaid, sellable, paid = seller.orders(6, "2026-10-20 10:00", "FBA")
    priced(db, damaged, 60.0, quantity=3)  # three ordered, one came back: a third of the line
    priced(db, carrier, 15.5, currency="EUR")
    rows = [
        fba_row(damaged, "2026-11-15T09:00:00+00:00", "WAREHOUSE_DAMAGED"),
        fba_row(carrier, "2026-11-16T09:00:00+00:00", "CARRIER_DAMAGED"),
        fba_row(by_fc, "2026-11-16T10:00:00+00:00", "CUSTOMER_DAMAGED", reason="CR-DAMAGED_BY_FC"),
        fba_row(unpaid, "2026-11-17T09:00:00+00:00", "SELLABLE", status="Refunded - not reimbursed"),
        fba_row(sellable, "2026-11-17T09:00:00+00:00", "SELLABLE"),
        fba_row(paid, "2026-11-18T09:00:00+00:00", "DISTRIBUTOR_DAMAGED", status="Reimbursed"),
    ]
    assert import_one(db, fba_file(tmp_path, rows)).added == 6

    items = items_of(db, triage.FBA_REIMBURSEMENT)

    claims = {item.order_id: item for item in items.values()}
    assert set(claims) == {damaged, carrier, by_fc, unpaid}  # not the sellable unit, not the one Amazon paid
    first = claims[damaged]
    assert first.category == triage.FBA_REIMBURSEMENT
    # Listed every week from when it arrives, but nothing runs or is due yet: Amazon refuses the claim for
    # 60 days.
    assert first.key.startswith("fba_reimbursement:") and first.still_open and first.clock is None
    assert first.waiting == "claimable from 14 Jan" and not first.passed(NOW + 40 * DAY_S)
    assert (first.details["amount"], first.details["currency"]) == (20.0, "USD")
    assert (claims[carrier].details["amount"], claims[carrier].details["currency"]) == (15.5, "EUR")
    # The default window: 90 calendar days from the day Amazon took it back, the return's day the first.
    assert first.due_at == at("2027-02-13 00:00")
    assert "$20.00 claimable from 14 Jan 2027 until 12 Feb 2027" in first.what
    assert "damaged in Amazon's warehouse" in first.what and "keep this open until you have filed" in first.what
    assert "not reimbursed" in claims[unpaid].what
    assert [c for c in clocks_at(db, NOW) if c.kind == FBA_REIMBURSEMENT_CLAIM] == []

    opening = at("2027-01-14 00:00")  # the clock starts the day Amazon first accepts the claim
    assert damaged not in {c.order_id for c in clocks_at(db, opening - 1)}
    (clock,) = [c for c in clocks_at(db, opening) if c.order_id == damaged]
    assert clock.label == "File FBA reimbursement claim" and (clock.started_at, clock.due_at) == (opening, first.due_at)
    later = {item.order_id: item for item in items_of(db, triage.FBA_REIMBURSEMENT, opening + 60).values()}
    assert later[damaged].still_open and later[damaged].clock == clock and later[damaged].waiting is None
    assert "keep this open" not in later[damaged].what


def test_a_claim_stays_listed_whatever_its_age_until_its_window_closes(db, seller, tmp_path):
    order = seller.order("2026-08-01 10:00", "FBA")
    import_one(db, fba_file(tmp_path, [fba_row(order, "2026-08-30T09:00:00+00:00", "CARRIER_DAMAGED")]))
    services.complete_session(db, at("2026-09-01 12:00"))  # a triage long after the return was shown

    (item,) = items_of(db, triage.FBA_REIMBURSEMENT).values()  # 82 days old, outside a one-week window
    assert item.still_open and item.clock is not None

    closed = at("2026-08-30 09:00") + 90 * DAY_S + 60
    # Shown by a completed triage and never resolved, it stays carried over, but nothing runs any more.
    (after,) = items_of(db, triage.FBA_REIMBURSEMENT, closed).values()
    assert not after.still_open and after.clock is None and after.carried_since is not None
    assert [c for c in clocks_at(db, closed) if c.kind == FBA_REIMBURSEMENT_CLAIM] == []


def test_resolving_a_claim_stops_its_clock_and_settles_it(db, seller, tmp_path):
    order = seller.order("2026-09-01 10:00", "FBA")
    import_one(db, fba_file(tmp_path, [fba_row(order, "2026-09-12T09:00:00+00:00", "WAREHOUSE_DAMAGED")]))
    (key,) = items_of(db, triage.FBA_REIMBURSEMENT)
    assert [c.kind for c in clocks_at(db, NOW) if c.order_id == order] == [FBA_REIMBURSEMENT_CLAIM]

    services.resolve_item(db, key, "Filed reimbursement case 123456", at=NOW)

    assert [c for c in clocks_at(db, NOW + 60) if c.order_id == order] == []
    assert items_of(db, triage.FBA_REIMBURSEMENT, NOW + 60)[key].resolved  # listed, resolved, this session
    services.complete_session(db, NOW + 120)
    assert key not in items_of(db, triage.FBA_REIMBURSEMENT, NOW + 180)


def test_the_window_is_a_setting_and_refuses_what_is_not_a_number_of_days(db, seller, tmp_path):
    order = seller.order("2026-11-01 10:00", "FBA")
    import_one(db, fba_file(tmp_path, [fba_row(order, "2026-11-12T09:00:00+00:00", "WAREHOUSE_DAMAGED")]))
    save_setting(db, "fba_reimbursement_days", 75)
    save_setting(db, "safet_claim_days", "45")
    assert (load_settings(db).fba_reimbursement_days, load_settings(db).safet_claim_days) == (75, 45)
    (item,) = items_of(db, triage.FBA_REIMBURSEMENT, at("2027-01-12 12:00")).values()
    assert item.due_at == at("2027-01-26 00:00")  # 75 days, 12 Nov the first: the end of 25 Jan
    for key, bad in (("fba_reimbursement_days", 0), ("fba_reimbursement_days", "soon"), ("safet_claim_days", -3)):
        with pytest.raises(SettingError, match="window"):
            save_setting(db, key, bad)


# --- SAFE-T ---------------------------------------------------------------------------------------------------


def test_safet_claims_open_decided_and_to_file(db, seller, tmp_path):
    old_open, granted, lost, back, late_lost, awaiting = seller.orders(6, "2026-07-01 10:00")
    rows = [
        # Open for months: listed whatever its age while Amazon decides.
        fbm_row(old_open, "RMA-1", "10-Jul-2026", **{"SafeT claim id": "S-1", "SafeT claim state": "Under review"}),
        fbm_row(
            granted,
            "RMA-2",
            "05-Nov-2026",
            **{
                "SafeT claim id": "S-2",
                "SafeT claim state": "Granted",
                "SafeT claim creation time": "2026-11-12",
                "SafeT claim reimbursement amount": "18.00",
                "Refunded Amount": "20.00",
            },
        ),
        # Refunded, never came back 20 days on: file a claim within 30 days of the request.
        fbm_row(lost, "RMA-3", "31-Oct-2026", **{"Refunded Amount": "20.00"}),
        fbm_row(back, "RMA-4", "31-Oct-2026", **{"Refunded Amount": "20.00", "Return delivery date": "05-Nov-2026"}),
        fbm_row(late_lost, "RMA-5", "10-Sep-2026", **{"Refunded Amount": "20.00"}),  # its window closed
        fbm_row(
            awaiting,
            "RMA-6",
            "01-Nov-2026",
            **{
                "Refunded Amount": "20.00",
                "Return delivery date": "06-Nov-2026",
                "SafeT Action reason": "Item returned damaged",
            },
        ),
    ]
    import_one(db, fbm_file(tmp_path, rows, FBM_COLUMNS))
    services.complete_session(db, at("2026-11-13 12:00"))

    items = items_of(db, triage.SAFET_CLAIM)

    # Not the return that came back unflagged, nor the one whose window closed; the granted claim was news
    # last week and is carried over until the seller resolves it.
    assert set(items) == {"safet:RMA-1", "safet:RMA-2", "safet:RMA-3", "safet:RMA-6"}
    assert items["safet:RMA-2"].carried_since is not None and not items["safet:RMA-2"].still_open
    assert items["safet:RMA-1"].still_open and "Under review" in items["safet:RMA-1"].what
    lost_item = items["safet:RMA-3"]
    assert lost_item.clock.kind == SAFET_FILING and lost_item.category == triage.SAFET_CLAIM
    assert lost_item.due_at == day_start(date(2026, 10, 31), load_settings(db).zone) + 30 * DAY_S
    assert "never" not in lost_item.what and "has not come back 20 days" in lost_item.what
    flagged = items["safet:RMA-6"]  # counted from its delivery back to the seller
    assert flagged.due_at == day_start(date(2026, 11, 6), load_settings(db).zone) + 30 * DAY_S

    fresh = {item.key: item for item in services.load_triage(db, NOW, since=date(2026, 11, 1)).items}
    assert "$18.00 reimbursed" in fresh["safet:RMA-2"].what and not fresh["safet:RMA-2"].still_open
    decided = fresh["safet:RMA-2"]  # news, not a task that could be overdue, and not "file a claim" again
    assert decided.waiting == "decided" and not decided.passed(NOW)
    assert decided.suggestion.action == triage.SAFET_DECIDED_ACTION
    assert items["safet:RMA-1"].suggestion.action == triage.SAFET_FILED_ACTION


def test_a_filed_safet_claim_waits_on_amazon_and_is_never_overdue_until_amazon_asks(db, seller, tmp_path):
    deciding, asking = seller.orders(2, "2026-07-01 10:00")
    claim = {"SafeT claim id": "S-1", "SafeT claim creation time": "2026-07-20", "Refunded Amount": "20.00"}
    rows = [
        fbm_row(deciding, "RMA-1", "10-Jul-2026", **claim, **{"SafeT claim state": "Under investigation"}),
        fbm_row(
            asking,
            "RMA-2",
            "10-Jul-2026",
            **(claim | {"SafeT claim id": "S-2"}),
            **{"SafeT claim state": "Awaiting seller response"},
        ),
    ]
    import_one(db, fbm_file(tmp_path, rows, FBM_COLUMNS))
    listing = services.load_triage(db, NOW)
    items = {item.key: item for item in listing.items}
    waiting, asked = items["safet:RMA-1"], items["safet:RMA-2"]
    assert waiting.waiting == "Amazon deciding" and not waiting.passed(NOW) and waiting.still_open
    assert waiting.to_json(NOW)["deadline"]["waiting"] == "Amazon deciding"
    assert asked.waiting is None and asked.passed(NOW)  # Amazon asked and the 7 days are long gone
    assert listing.counts["overdue"] == sum(1 for item in listing.open_items if item.passed(NOW))


# --- The month's figures ----------------------------------------------------------------------------------------


def test_month_figures_keep_currencies_apart_and_count_breached_replies(db, seller, tmp_path):
    usd, eur, last_month, paid = seller.orders(4, "2026-10-20 10:00", "FBA")
    priced(db, usd, 30.0)
    priced(db, eur, 12.5, currency="EUR")
    priced(db, last_month, 99.0)
    priced(db, paid, 8.0)
    fba = [
        fba_row(usd, "2026-11-03T09:00:00+00:00", "WAREHOUSE_DAMAGED"),
        fba_row(eur, "2026-11-04T09:00:00+00:00", "CARRIER_DAMAGED"),
        fba_row(last_month, "2026-10-30T09:00:00+00:00", "CARRIER_DAMAGED"),
        fba_row(paid, "2026-11-05T09:00:00+00:00", "SELLABLE", status="Reimbursed"),
    ]
    import_one(db, fba_file(tmp_path, fba))
    fbm_orders = seller.orders(3, "2026-10-01 10:00")
    fbm = [
        fbm_row(fbm_orders[0], "RMA-L", "01-Nov-2026", **{"Refunded Amount": "20.00"}),  # never came back
        fbm_row(
            fbm_orders[1],
            "RMA-G",
            "02-Nov-2026",
            **{
                "Refunded Amount": "20.00",
                "SafeT claim id": "S-9",
                "SafeT claim state": "Granted",
                "SafeT claim creation time": "08-Nov-2026",
                "SafeT claim reimbursement amount": "17.25",
            },
        ),
        fbm_row(fbm_orders[2], "RMA-D", "03-Nov-2026", **{"SafeT claim id": "S-8", "SafeT claim state": "Denied"}),
    ]
    import_one(db, fbm_file(tmp_path, fbm, FBM_COLUMNS))
    for sent, breaches in (
        ("2026-11-02 10:00", json.dumps([{"rule": "external_link", "phrase": "mystore.com"}])),
        ("2026-11-10 10:00", json.dumps([{"rule": "review_request", "phrase": "leave us a review"}])),
        ("2026-11-11 10:00", "[]"),
        ("2026-11-12 10:00", None),
        ("2026-10-31 10:00", json.dumps([{"rule": "marketing", "phrase": "20% off"}])),
    ):
        seller.reply(sent)
        db.execute("UPDATE replies SET breaches = ? WHERE sent_at = ?", [breaches, at(sent)])

    summary = money.month_summary(db, NOW, load_settings(db))

    assert summary.month == date(2026, 11, 1)
    # 30 + 99 (FBA, last month's too: its window is open) + 20 (SAFE-T to file); never summed across currencies
    assert summary.at_stake == {"EUR": 12.5, "USD": 149.0}
    assert (summary.claims, summary.filed, summary.unpriced) == (4, 0, 0)
    assert summary.recovered == {"USD": 25.25}  # 8 (FBA reimbursed) + 17.25 (SAFE-T granted)
    assert summary.breached_replies == 2
    assert money.amounts_text(summary.at_stake) == "€12.50 + $149.00"
    assert money.MoneySummary.from_json(json.loads(json.dumps(summary.to_json()))) == summary


def test_a_refund_without_a_known_amount_is_counted_not_guessed(db, seller, tmp_path):
    order = seller.order("2026-11-01 10:00", "FBA")
    db.execute("UPDATE order_items SET sku = 'OTHER' WHERE order_id = ?", [order])
    import_one(db, fba_file(tmp_path, [fba_row(order, "2026-11-12T09:00:00+00:00", "WAREHOUSE_DAMAGED")]))
    summary = money.month_summary(db, NOW, load_settings(db))
    assert (summary.claims, summary.unpriced, summary.at_stake) == (1, 1, {})
    listing = services.load_triage(db, NOW, since=date(2026, 11, 1))
    (item,) = [item for item in listing.items if item.kind == triage.FBA_REIMBURSEMENT]
    assert item.details["amount"] is None and "import its order" in item.what


@pytest.mark.parametrize(
    ("state", "final", "granted"),
    [
        ("Under investigation", False, False),
        ("Awaiting seller response", False, False),
        ("Pending", False, False),
        ("Granted", True, True),
        ("No grant", True, False),
        ("Denied", True, False),
        ("Closed", True, False),
    ],
)
def test_safet_states(state, final, granted):
    assert (money.safet_final(state), money.safet_granted(state, None)) == (final, granted)


def test_the_month_is_the_marketplace_zones(db, seller, tmp_path):
    seller.setting("timezone", "America/Los_Angeles")
    order = seller.order("2026-10-20 10:00", "FBA")
    priced(db, order, 10.0)
    # 1 Nov 03:00 UTC is still 31 Oct in Los Angeles: recovered last month.
    import_one(db, fba_file(tmp_path, [fba_row(order, "2026-11-01T03:00:00+00:00", "SELLABLE", status="Reimbursed")]))
    settings = load_settings(db)
    assert money.month_summary(db, NOW, settings).recovered == {}
    halloween_night = day_start(date(2026, 10, 31), settings.zone) + timedelta(hours=22).total_seconds()
    assert money.month_summary(db, halloween_night, settings).recovered == {"USD": 10.0}


# --- Fixes: delivery unknown, the line on the 1st, recoveries across months, days not seconds -----------------


def test_a_refund_no_report_said_came_back_is_not_a_claim_until_the_report_is_reimported(db, seller, tmp_path):
    order = seller.order("2026-10-01 10:00")
    row = fbm_row(order, "RMA-U", "01-Nov-2026", **{"Refunded Amount": "20.00"})
    # As rows stored before the delivery date was read: a report without the column says nothing.
    without = [c for c in FBM_COLUMNS if c != "Return delivery date"]
    import_one(db, fbm_file(tmp_path, [row], without, "old.txt"))
    assert "safet:RMA-U" not in items_of(db, triage.SAFET_CLAIM)
    assert [c for c in clocks_at(db, NOW) if c.kind == SAFET_FILING] == []
    summary = money.month_summary(db, NOW, load_settings(db))
    assert (summary.claims, summary.unknown_delivery) == (0, 1)

    import_one(db, fbm_file(tmp_path, [row], FBM_COLUMNS, "new.txt"))  # the column there, empty: not back

    assert "has not come back 19 days" in items_of(db, triage.SAFET_CLAIM)["safet:RMA-U"].what
    summary = money.month_summary(db, NOW, load_settings(db))
    assert (summary.claims, summary.unknown_delivery) == (1, 0)


def test_a_report_that_says_nothing_of_a_claim_or_a_delivery_never_erases_them(db, seller, tmp_path):
    order = seller.order("2026-10-01 10:00")
    said = {
        "Refunded Amount": "20.00",
        "Return delivery date": "06-Nov-2026",
        "SafeT Action reason": "Item returned damaged",
        "SafeT claim id": "S-9",
        "SafeT claim state": "Under investigation",
        "SafeT claim creation time": "2026-11-07",
    }
    import_one(db, fbm_file(tmp_path, [fbm_row(order, "RMA-K", "01-Nov-2026", **said)], FBM_COLUMNS, "new.txt"))
    stored_first = rows_by(db, "fbm_returns", "return_id")["RMA-K"]

    # The same return again: from a report without those columns, then from an older one with them empty.
    without = [c for c in FBM_COLUMNS if not c.startswith("SafeT") and c != "Return delivery date"]
    plain = fbm_row(order, "RMA-K", "01-Nov-2026", **{"Refunded Amount": "20.00"})
    import_one(db, fbm_file(tmp_path, [plain], without, "plain.txt"))
    import_one(db, fbm_file(tmp_path, [plain], FBM_COLUMNS, "older.txt"))

    assert rows_by(db, "fbm_returns", "return_id")["RMA-K"] == stored_first
    assert "Under investigation" in items_of(db, triage.SAFET_CLAIM)["safet:RMA-K"].what

    # What a report does say still changes: Amazon decided.
    granted = said | {"SafeT claim state": "Granted", "SafeT claim reimbursement amount": "20.00"}
    import_one(db, fbm_file(tmp_path, [fbm_row(order, "RMA-K", "01-Nov-2026", **granted)], FBM_COLUMNS, "z.txt"))
    stored = rows_by(db, "fbm_returns", "return_id")["RMA-K"]
    assert (stored["safet_claim_state"], stored["safet_reimbursed"]) == ("Granted", 20.0)


def test_on_the_first_of_the_month_last_months_open_claims_are_still_at_stake(db, seller, tmp_path):
    fba_order = seller.order("2026-10-20 10:00", "FBA")
    priced(db, fba_order, 30.0)
    import_one(db, fba_file(tmp_path, [fba_row(fba_order, "2026-11-25T09:00:00+00:00", "WAREHOUSE_DAMAGED")]))
    lost, filed = seller.orders(2, "2026-10-20 10:00")
    rows = [
        fbm_row(lost, "RMA-L", "20-Nov-2026", **{"Refunded Amount": "20.00"}),
        fbm_row(filed, "RMA-F", "21-Nov-2026", **{"Refunded Amount": "15.00"}),
    ]
    import_one(db, fbm_file(tmp_path, rows, FBM_COLUMNS))
    first_of_december = at("2026-12-05 09:00")
    services.resolve_item(db, "safet:RMA-F", "Filed SAFE-T claim", at=first_of_december - 60)

    summary = money.month_summary(db, first_of_december, load_settings(db))

    assert summary.month == date(2026, 12, 1)
    assert summary.at_stake == {"USD": 65.0}  # 30 + 20 to file, 15 filed and waiting
    assert (summary.claims, summary.filed) == (2, 1)
    listing = services.load_triage(db, first_of_december, since=date(2026, 11, 1))
    to_file = {item.key for item in listing.items if item.kind in (triage.FBA_REIMBURSEMENT, triage.SAFET_CLAIM)}
    assert len(to_file - {"safet:RMA-F"}) == summary.claims  # what the line counts is what triage lists


def test_a_safet_claim_granted_the_month_after_its_request_is_recovered_once(db, seller, tmp_path):
    order = seller.order("2026-10-01 10:00")
    cells = {
        "Refunded Amount": "20.00",
        "Return delivery date": "29-Oct-2026",
        "SafeT claim id": "SAFET-9",
        "SafeT claim state": "Granted",
        "SafeT claim creation time": "03-Nov-2026",
        "SafeT claim reimbursement amount": "20.00",
    }
    import_one(db, fbm_file(tmp_path, [fbm_row(order, "RMA-9", "28-Oct-2026", **cells)], FBM_COLUMNS))
    settings = load_settings(db)
    months = {
        when: money.month_summary(db, at(when), settings).recovered
        for when in ("2026-10-31 20:00", "2026-11-15 12:00", "2026-12-15 12:00")
    }
    assert months == {"2026-10-31 20:00": {}, "2026-11-15 12:00": {"USD": 20.0}, "2026-12-15 12:00": {}}


def test_a_safet_window_is_counted_in_days_across_a_clock_change(db, seller, tmp_path):
    seller.setting("timezone", "Europe/Berlin")
    order = seller.order("2026-02-20 10:00")
    cells = {"Refunded Amount": "20.00", "Return delivery date": "10-Mar-2026", "SafeT Action reason": "Damaged"}
    import_one(db, fbm_file(tmp_path, [fbm_row(order, "RMA-D", "01-Mar-2026", **cells)], FBM_COLUMNS))
    settings = load_settings(db)
    listing = services.load_triage(db, at("2026-03-20 12:00"), since=date(2026, 3, 1))
    (item,) = [item for item in listing.items if item.kind == triage.SAFET_CLAIM]
    # 30 days from 10 March, summer time beginning on 29 March: the last day is 8 April, to its midnight.
    assert item.due_at == day_start(date(2026, 4, 9), settings.zone)
    assert "file a SAFE-T claim by 08 Apr 2026" in item.what


def test_an_fba_claim_opens_after_45_days_on_a_european_marketplace(db, seller, tmp_path):
    order = seller.order("2026-10-20 10:00", "FBA", sales_channel="Amazon.de")
    import_one(db, fba_file(tmp_path, [fba_row(order, "2026-11-15T09:00:00+00:00", "WAREHOUSE_DAMAGED")]))
    (item,) = items_of(db, triage.FBA_REIMBURSEMENT).values()
    assert "claimable from 30 Dec 2026 until 12 Feb 2027" in item.what


def test_a_money_items_reply_names_its_product_and_a_day_for_its_deadline(db, seller, tmp_path):
    from app import reply_templates

    order = seller.order("2026-10-20 10:00", "FBA")
    db.execute("UPDATE order_items SET product_name = 'Brass Desk Lamp, 40 W' WHERE order_id = ?", [order])
    db.execute(
        "INSERT INTO order_items (order_id, sku, last_updated_at, product_name, item_price) "
        "VALUES (?, 'SKU-9', 0, ?, 5)",
        [order, "Spare Bulb, E27"],
    )
    returned = fba_row(order, "2026-11-15T09:00:00+00:00", "WAREHOUSE_DAMAGED", **{"product-name": "Brass Desk Lamp"})
    import_one(db, fba_file(tmp_path, [returned]))
    (item,) = items_of(db, triage.FBA_REIMBURSEMENT).values()
    assert item.suggestion.product == "Brass Desk Lamp"  # what came back, not "… and other items"
    assert reply_templates.deadline_words(item.due_at, load_settings(db).zone) == "end of Fri 12 Feb 2027"
    reply = reply_templates.item_reply(item, load_settings(db).zone)
    assert "(Brass Desk Lamp)" in reply and "[60 / 45] or more days ago" in reply


def test_the_triage_table_says_who_a_filed_claim_waits_on_instead_of_a_countdown(qtbot, db, seller, tmp_path):
    from PySide6.QtCore import Qt

    from ui.triage_view import CLOCK, TriageModel, item_html

    (deciding,) = seller.orders(1, "2026-07-01 10:00")
    claim = {"SafeT claim id": "S-1", "SafeT claim state": "Under investigation", "Refunded Amount": "20.00"}
    import_one(db, fbm_file(tmp_path, [fbm_row(deciding, "RMA-1", "10-Jul-2026", **claim)], FBM_COLUMNS))
    (item,) = [i for i in services.load_triage(db, NOW).items if i.key == "safet:RMA-1"]
    model = TriageModel(lambda: NOW)
    model.set_rows([item])
    cell = model.index(0, CLOCK)
    assert model.data(cell) == "Amazon deciding"
    assert model.data(cell, Qt.ItemDataRole.BackgroundRole) is None  # no red "overdue" for what Amazon holds
    assert "Deadline passed" not in item_html(item, load_settings(db).zone, NOW)
