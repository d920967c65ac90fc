"""Figures per marketplace: a seller selling on Amazon.co.uk and Amazon.de is judged in each marketplace on
its own, each counted in its own days, and the figure over both never hides one marketplace's breach."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlite_utils

from app import services
from app.imports import import_files
from app.metrics import FIGURE_KEYS
from app.settings import load_settings, save_setting
from storage import open_db
from storage.migrations import MIGRATIONS, ROWS_WITH_A_MARKETPLACE
from storage.queries import only_home_marketplace
from tests.builders import Seller
from tests.report_files import ORDER_COLUMNS, Flat

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 8)
AT = "2026-11-08T23:00:00Z"
UK_ORDERS, DE_ORDERS = 300, 100
UNKNOWN_ORDER = "302-9999999-9999999"  # feedback on an order no imported report holds


def order_row(order_id: str, purchased: str, sales_channel: str) -> list[str]:
    values = {
        "amazon-order-id": order_id,
        "purchase-date": purchased,
        "last-updated-date": purchased,
        "order-status": "Shipped",
        "fulfillment-channel": "Merchant",
        "sales-channel": sales_channel,
        "sku": "MUG-1",
        "item-status": "Shipped",
        "quantity": "1",
        "currency": "EUR" if sales_channel == "Amazon.de" else "GBP",
        "item-price": "12.99",
    }
    return [values.get(name, "") for name in ORDER_COLUMNS]


def uk_id(n: int) -> str:
    return f"202-{n:07d}-{n:07d}"


def de_id(n: int) -> str:
    return f"302-{n:07d}-{n:07d}"


def write_reports(folder: Path) -> dict[str, Path]:
    """The UK+DE seller's reports: 300 UK and 100 DE seller-fulfilled orders in September; one A-to-z claim
    in the UK (1 in 300: good), one negative feedback in DE (1 in 100: over 1 %); all 400 together 0.5 %."""
    orders = [order_row(uk_id(n), f"2026-09-{1 + n % 28:02d}T10:00:00+00:00", "Amazon.co.uk") for n in range(UK_ORDERS)]
    orders += [order_row(de_id(n), f"2026-09-{1 + n % 28:02d}T10:00:00+00:00", "Amazon.de") for n in range(DE_ORDERS)]
    feedback_header = ["Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email"]
    uk_feedback = [["20/09/26", "5", "Lovely mug", "", uk_id(n), ""] for n in range(1, 21)]
    # German dates (D.M.YY), as Amazon.de writes them; one rating is for an order not imported yet.
    de_feedback = [["20.09.26", "1", "Kaputt angekommen", "", de_id(0), ""]]
    de_feedback += [["21.09.26", "5", "Prima", "", de_id(n), ""] for n in range(1, 10)]
    de_feedback += [["22.09.26", "2", "Zu spät", "", UNKNOWN_ORDER, ""]]
    claims_header = "order-id,type,filed-date,status,reason,amount,currency,decided-date,buy-shipping-protected"
    returns = Flat.read(ROOT / "tests" / "samples" / "fbm-returns.txt")
    returns.rows = [list(returns.rows[0]), list(returns.rows[0])]
    for row, (order_id, rma, status) in enumerate(
        [(uk_id(5), "D1UKRMA", "Approved"), (de_id(5), "D1DERMA", "Pending")]
    ):
        returns.set(row, "Order ID", order_id).set(row, "Amazon RMA ID", rma).set(row, "Return request status", status)
        returns.set(row, "Order date", "05-Sep-2026").set(row, "Return request date", "20-Sep-2026")
    files = {
        "orders": Flat(list(ORDER_COLUMNS), orders).write(folder / "all-orders.txt"),
        "uk_feedback": Flat(feedback_header, uk_feedback).write(folder / "uk-feedback.txt"),
        "de_feedback": Flat(feedback_header, de_feedback).write(folder / "de-feedback.txt"),
        "returns": returns.write(folder / "returns.txt"),
    }
    claims = folder / "claims.csv"
    claims.write_text(f"{claims_header}\n{uk_id(3)},a-to-z,2026-09-25,open,not-as-described,12.99,GBP,,N\n")
    files["claims"] = claims
    return files


@pytest.fixture
def uk_de(db, tmp_path):
    files = write_reports(tmp_path)
    results = import_files(db, [files["orders"], files["uk_feedback"], files["returns"], files["claims"]])
    results += import_files(db, [files["de_feedback"]], marketplace="DE")
    assert all(result.outcome == "imported" and not result.rejected for result in results), [
        (r.file, r.message, r.rejections) for r in results
    ]
    return db, results


def run(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args, "--db", str(db_path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


# --- One breached marketplace in a calm blend ---------------------------------------------------------------------


def test_de_breaches_odr_while_all_orders_together_are_calm(uk_de):
    db, _ = uk_de
    figures = services.compute_metrics(db, AS_OF)
    uk, de = figures["marketplaces"]["UK"], figures["marketplaces"]["DE"]
    assert set(figures["marketplaces"]) == {"UK", "DE"}
    assert (de["order_defect_rate"]["orders"], de["order_defect_rate"]["defective_orders"]) == (DE_ORDERS, 1)
    assert de["order_defect_rate"]["status"] == "breach"
    assert (uk["order_defect_rate"]["orders"], uk["order_defect_rate"]["defective_orders"]) == (UK_ORDERS, 1)
    assert uk["order_defect_rate"]["status"] == "good"
    top = figures["order_defect_rate"]
    assert (top["orders"], top["defective_orders"]) == (UK_ORDERS + DE_ORDERS, 2)
    assert top["rate"] == pytest.approx(2 / 400)
    assert top["combined_status"] == "good"  # all 400 orders together: 0.5 %
    assert top["status"] == "breach"  # but DE alone is at 1 %
    assert top["worst_marketplace"] == "DE"
    assert top["by_channel"]["FBM"]["orders"] == UK_ORDERS + DE_ORDERS


def test_top_level_counts_are_the_sums_of_the_marketplaces(uk_de):
    db, _ = uk_de
    figures = services.compute_metrics(db, AS_OF)
    blocks = figures["marketplaces"].values()
    counted = {
        "order_defect_rate": ("orders", "defective_orders", "negative_feedback", "a_to_z_claims", "chargebacks"),
        "live_order_defect_rate": ("orders", "defective_orders"),
        "late_response_rate": ("late", "on_time", "pending"),
        "negative_feedback_rate": ("feedback", "negative"),
        "return_dissatisfaction_rate": ("returns", "dissatisfied"),
    }
    for figure, keys in counted.items():
        for key in keys:
            assert figures[figure][key] == sum(block[figure][key] for block in blocks), (figure, key)
    # 20 UK ratings; 10 DE ones on DE orders and one on an unknown order, which the file gave DE.
    assert figures["marketplaces"]["DE"]["negative_feedback_rate"]["feedback"] == 11
    assert figures["negative_feedback_rate"]["feedback"] == 31
    assert figures["return_dissatisfaction_rate"]["returns"] == 2
    for key in FIGURE_KEYS:
        assert figures[key]["status"] == max(
            (block[key]["status"] for block in blocks), key=["insufficient_data", "good", "at_risk", "breach"].index
        )


def test_each_marketplace_reads_its_own_feedback_dates(uk_de):
    db, _ = uk_de
    days = dict(
        db.execute("SELECT order_id, feedback_date FROM feedback WHERE order_id IN (?, ?)", [uk_id(1), de_id(0)])
    )
    assert days == {uk_id(1): "2026-09-20", de_id(0): "2026-09-20"}


def test_a_feedback_date_is_read_as_its_orders_marketplace_writes_it(db, tmp_path):
    """The home marketplace is the US (month first), but 3/10/26 on an Amazon.co.uk order is 3 October."""
    orders = Flat(list(ORDER_COLUMNS), [order_row(uk_id(1), "2026-09-20T10:00:00+00:00", "Amazon.co.uk")])
    import_files(db, [orders.write(tmp_path / "orders.txt")])
    header = ["Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email"]
    path = Flat(header, [["3/10/26", "1", "Broken", "", uk_id(1), ""]]).write(tmp_path / "feedback.txt")
    (result,) = import_files(db, [path])
    assert result.outcome == "imported" and not result.rejected, result.rejections
    assert db.execute("SELECT feedback_date FROM feedback").fetchone()[0] == "2026-10-03"


# --- Rows whose order is unknown ----------------------------------------------------------------------------------


def test_feedback_on_an_unknown_order_takes_the_marketplace_chosen_for_the_file(uk_de):
    db, results = uk_de
    de_result = results[-1]
    assert (de_result.marketplace, de_result.unknown_order_rows) == ("DE", 1)
    assert db.execute("SELECT marketplace FROM feedback WHERE order_id = ?", [UNKNOWN_ORDER]).fetchone()[0] == "DE"
    figures = services.compute_metrics(db, AS_OF)
    assert [row["order_id"] for row in figures["unmatched_defects"]] == [UNKNOWN_ORDER]
    # Files of known orders need no marketplace of their own: their rows take their order's.
    assert [result.unknown_order_rows for result in results[:-1]] == [0, 0, 0, 0]


def test_a_file_without_a_chosen_marketplace_gives_unknown_orders_the_home_one(db, tmp_path):
    Seller(db).setting("marketplace", "UK")
    path = Flat(
        ["Date", "Rating", "Comments", "Your Response", "Order ID", "Rater Email"],
        [["20/09/26", "1", "Bad", "", UNKNOWN_ORDER, ""]],
    ).write(tmp_path / "feedback.txt")
    (result,) = import_files(db, [path])
    assert (result.marketplace, result.unknown_order_rows) == ("UK", 1)


def test_a_row_moves_to_its_orders_marketplace_once_the_order_is_imported(uk_de, tmp_path):
    db, _ = uk_de
    orders = Flat(list(ORDER_COLUMNS), [order_row(UNKNOWN_ORDER, "2026-09-15T10:00:00+00:00", "Amazon.co.uk")])
    import_files(db, [orders.write(tmp_path / "late-order.txt")])
    figures = services.compute_metrics(db, AS_OF)
    assert figures["marketplaces"]["UK"]["order_defect_rate"]["defective_orders"] == 2
    assert figures["marketplaces"]["DE"]["negative_feedback_rate"]["feedback"] == 10


# --- Each marketplace's own days --------------------------------------------------------------------------------


def test_an_order_at_23_30_utc_falls_on_different_days_in_the_uk_and_in_japan(db):
    seller = Seller(db)
    seller.order("2026-11-01 23:30", sales_channel="Amazon.co.uk")  # 23:30 in London (GMT)
    seller.order("2026-11-01 23:30", sales_channel="Amazon.co.jp")  # 08:30 on 2 Nov in Tokyo
    first = services.compute_metrics(db, date(2026, 11, 1))["marketplaces"]
    assert first["UK"]["live_order_defect_rate"]["orders"] == 1
    assert first["JP"]["live_order_defect_rate"]["orders"] == 0
    assert (first["UK"]["timezone"], first["JP"]["timezone"]) == ("Europe/London", "Asia/Tokyo")
    second = services.compute_metrics(db, date(2026, 11, 2))["marketplaces"]
    assert second["JP"]["live_order_defect_rate"]["orders"] == 1


def test_the_home_marketplace_keeps_the_timezone_setting_and_others_can_be_set(db):
    seller = Seller(db)
    seller.setting("timezone", "UTC")
    seller.order("2026-11-01 23:30", sales_channel="Amazon.com")  # home: counted in UTC, 1 Nov
    seller.order("2026-11-01 23:30", sales_channel="Amazon.de")  # 00:30 on 2 Nov in Berlin
    blocks = services.compute_metrics(db, date(2026, 11, 1))["marketplaces"]
    assert (blocks["US"]["live_order_defect_rate"]["orders"], blocks["DE"]["live_order_defect_rate"]["orders"]) == (
        1,
        0,
    )
    seller.setting("timezone.DE", "UTC")
    blocks = services.compute_metrics(db, date(2026, 11, 1))["marketplaces"]
    assert blocks["DE"]["live_order_defect_rate"]["orders"] == 1
    assert load_settings(db).timezone_of("FR") == "Europe/Paris"


def test_an_order_stored_without_a_marketplace_counts_in_the_home_one(db):
    seller = Seller(db)
    seller.order("2026-10-20 12:00", sales_channel="")  # stored with no marketplace: the home one's
    seller.order("2026-10-21 12:00", sales_channel="Amazon.com")
    seller.order("2026-10-21 12:00", sales_channel="Amazon.de")
    assert db.execute("SELECT count(*) FROM orders WHERE marketplace IS NULL").fetchone()[0] == 1
    figures = services.compute_metrics(db, date(2026, 11, 1))
    blocks = figures["marketplaces"]
    assert (
        blocks["US"]["live_order_defect_rate"]["orders"] == 2 and blocks["DE"]["live_order_defect_rate"]["orders"] == 1
    )
    assert figures["live_order_defect_rate"]["orders"] == 3
    state = services.refresh(db, lambda: datetime(2026, 11, 1, 12, tzinfo=UTC).timestamp())
    assert state.series[-1]["live_orders"] == 3  # the line of all marketplaces misses none either


def test_setting_the_home_marketplaces_own_zone_key_sets_the_timezone_it_is_counted_in(db, db_path):
    save_setting(db, "marketplace", "US")
    save_setting(db, "timezone.US", "America/New_York")
    assert load_settings(db).timezone == "America/New_York"
    db.close()
    done = subprocess.run(
        [sys.executable, "main.py", "config", "get", "timezone.US", "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == '"America/New_York"'


# --- The schema migration -----------------------------------------------------------------------------------------


def test_the_migration_gives_every_stored_order_its_marketplace(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(sqlite3.connect(path))
    for version, (_name, step) in enumerate(MIGRATIONS[:5], start=1):  # the schema before marketplaces
        step(old)
        old.execute(f"PRAGMA user_version = {version}")
    old.execute("INSERT INTO settings (key, value) VALUES ('marketplace', '\"CA\"')")
    for order_id, channel in [
        ("202-0000001-0000001", "Amazon.co.uk"),
        ("302-0000001-0000001", "amazon.de "),
        ("111-0000001-0000001", "Amazon.com"),
        ("MCF-1", "Non-Amazon"),
        ("701-0000001-0000001", None),
    ]:
        old.execute(
            "INSERT INTO orders (order_id, purchased_at, last_updated_at, status, channel, sales_channel) "
            "VALUES (?, 1789000000, 1789000000, 'Shipped', 'FBM', ?)",
            [order_id, channel],
        )
    old.execute(
        "INSERT INTO feedback (order_id, feedback_date, rating) VALUES ('302-0000001-0000001', '2026-09-20', 1)"
    )
    old.conn.commit()
    old.close()

    db = open_db(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        stored = dict(db.execute("SELECT order_id, marketplace FROM orders"))
        assert stored == {
            "202-0000001-0000001": "UK",
            "302-0000001-0000001": "DE",
            "111-0000001-0000001": "US",
            "MCF-1": "CA",  # no marketplace in its channel: the seller's home one
            "701-0000001-0000001": "CA",
        }
        # Feedback keeps no marketplace of its own: it takes its order's.
        assert db.execute("SELECT marketplace FROM feedback").fetchone()[0] is None
        figures = services.compute_metrics(db, date(2026, 9, 30))
        assert figures["marketplaces"]["DE"]["live_order_defect_rate"]["defective_orders"] == 1
    finally:
        db.close()


# --- One marketplace at a time on the command line ----------------------------------------------------------------


def test_metrics_for_one_marketplace(uk_de, db_path):
    done = run(db_path, "metrics", "--as-of", AS_OF.isoformat(), "--json", "--marketplace", "de")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert list(figures["marketplaces"]) == ["DE"]
    assert figures["order_defect_rate"]["orders"] == DE_ORDERS
    assert figures["order_defect_rate"]["status"] == "breach"
    assert figures["timezone"] == "Europe/Berlin"
    text = run(db_path, "metrics", "--as-of", AS_OF.isoformat(), "--marketplace", "UK")
    assert text.returncode == 0, text.stderr
    assert "300" in text.stdout


def test_clocks_for_one_marketplace(uk_de, db_path):
    every = json.loads(run(db_path, "clocks", "--at", AT, "--json").stdout)
    uk = json.loads(run(db_path, "clocks", "--at", AT, "--json", "--marketplace", "UK").stdout)
    de = json.loads(run(db_path, "clocks", "--at", AT, "--json", "--marketplace", "DE").stdout)
    assert {clock["order_id"] for clock in uk} == {uk_id(3)}  # the open A-to-z claim
    assert {clock["order_id"] for clock in de} == {de_id(5)}  # the pending return request
    assert sorted(json.dumps(c, sort_keys=True) for c in every) == sorted(
        json.dumps(c, sort_keys=True) for c in uk + de
    )
    text = run(db_path, "clocks", "--at", AT, "--marketplace", "DE")
    assert de_id(5) in text.stdout and uk_id(3) not in text.stdout


def test_triage_for_one_marketplace(uk_de, db_path):
    def items(*args: str) -> list[dict]:
        done = run(db_path, "triage", "--as-of", AS_OF.isoformat(), "--since", "2026-09-01", "--json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["items"]

    uk, de = items("--marketplace", "UK"), items("--marketplace", "DE")
    assert {item["order_id"] for item in uk} == {uk_id(3)}
    assert {item["order_id"] for item in de} == {de_id(0), de_id(5), UNKNOWN_ORDER}
    every = {item["key"] for item in items() if not item["key"].startswith("status:")}
    assert every == {item["key"] for item in uk + de}


def test_the_import_summary_says_which_marketplace_rows_of_unknown_orders_were_given(db_path, tmp_path):
    files = write_reports(tmp_path)
    done = run(db_path, "import", "--marketplace", "DE", str(files["de_feedback"]))
    assert done.returncode == 0, done.stderr
    assert "11 rows for orders not among your imported orders: given the DE marketplace" in done.stdout
    summary = json.loads(run(db_path, "import", "--json", str(files["uk_feedback"])).stdout)["files"][0]
    assert (summary["marketplace"], summary["unknown_order_rows"]) == ("US", 20)


@pytest.mark.parametrize("command", [["metrics"], ["clocks"], ["triage"], ["import", "nothing.txt"]])
def test_an_unknown_marketplace_code_is_refused(db_path, command):
    done = run(db_path, *command, "--marketplace", "XX")
    assert done.returncode == 2
    assert "'XX' is not a marketplace code: US, CA" in done.stderr
    assert "DE" in done.stderr and "JP" in done.stderr


# --- A seller on one marketplace sees exactly what they saw before ------------------------------------------------


def test_one_marketplace_is_the_whole(sample_db, samples):
    figures = services.compute_metrics(sample_db, AS_OF)
    assert list(figures["marketplaces"]) == ["US"]
    block = figures["marketplaces"]["US"]
    assert {key: figures[key] for key in FIGURE_KEYS} == {key: block[key] for key in FIGURE_KEYS}
    assert block["timezone"] == figures["timezone"] == "UTC"


def test_the_text_summary_names_the_marketplace_over_the_limit(uk_de, db_path):
    done = run(db_path, "metrics", "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    odr_line = next(line for line in done.stdout.splitlines() if line.startswith("Order Defect Rate"))
    assert "DE FBM 1.00 %" in odr_line and "over the limit" in odr_line
    assert "Each marketplace: DE FBM 1.00 % (over the limit)   UK FBM 0.33 % (good)" in done.stdout


def test_amazons_figure_for_de_is_held_against_the_de_orders(uk_de, tmp_path):
    db, _ = uk_de
    window = {"reportingDateFrom": "2026-08-27T00:00:00Z", "reportingDateTo": "2026-10-25T23:59:59Z"}
    mfn = {
        "reportingDateRange": window,
        "orderCount": DE_ORDERS,
        "orderWithDefects": {"count": 1},
        "claims": {"count": 0},
        "chargebacks": {"count": 0},
        "negativeFeedback": {"count": 1},
        "rate": 0.01,
        "status": "BAD",
    }
    report = {
        "accountStatuses": [{"marketplaceId": "A1PA6795UKMFR9", "status": "NORMAL"}],
        "performanceMetrics": [{"marketplaceId": "A1PA6795UKMFR9", "orderDefectRate": {"mfn": mfn}}],
    }
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report))
    (result,) = import_files(db, [path])
    assert result.outcome == "imported", result.message
    (channel,) = services.compute_metrics(db, AS_OF)["reconciliation"]["channels"]
    assert channel["monitor"]["orders"] == DE_ORDERS
    assert channel["agrees"] is True, channel["differences"]


# --- The dashboard -------------------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_breached_marketplace_not_the_calm_total(qtbot, uk_de):
    from datetime import UTC, datetime

    from ui.dashboard import DashboardView

    db, _ = uk_de
    noon = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC).timestamp()
    state = services.refresh(db, lambda: noon)
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_state(state)
    odr = view.cards["order_defect_rate"]
    assert "DE FBM" in odr.rate.text() and odr.rate.text().endswith("1.00 %")  # not the total's 0.50 %
    assert odr.shown_status == "breach"
    assert odr.sentence.text().startswith("DE: FBM is over 1 %")
    assert set(odr.channels.text().split(" · ")) == {"UK FBM 0.33 %", "DE FBM 1.00 %", "all 0.50 %"}
    nfr = view.cards["negative_feedback_rate"]
    de_nfr = state.metrics["marketplaces"]["DE"]["negative_feedback_rate"]
    assert nfr.rate.text().endswith(f"{de_nfr['rate'] * 100:.2f} %") and "DE" in nfr.rate.text()
    assert not nfr.channels.isHidden()  # each marketplace's NFR, listed under the headline


@pytest.mark.parametrize("width", [683, 1366])
def test_the_charts_say_which_marketplace_they_draw(qtbot, uk_de, width):
    from datetime import UTC, datetime

    from ui.dashboard import ALL_MARKETPLACES, DashboardView

    db, _ = uk_de
    noon = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC).timestamp()
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(width, 720)
    view.show()
    view.show_state(services.refresh(db, lambda: noon))
    qtbot.wait(50)
    # They open on DE, over the limit; every marketplace together is one click away.
    for scope in ("DE", "all marketplaces together"):
        for chart in (view.odr_chart, view.lrr_chart, view.nfr_chart, view.rdr_chart):
            title = chart.getPlotItem().titleLabel
            assert scope in title.text
            assert title.item.boundingRect().width() <= chart.width(), title.text
        view.chart_choice.buttons[ALL_MARKETPLACES].click()
        qtbot.wait(50)


# A row of each table that may name a marketplace of its own, with every column it cannot go without.
ROW_OF = {
    "feedback": {"order_id": "o", "feedback_date": "2026-11-01", "rating": 1, "struck_through": 0},
    "fbm_returns": {
        "return_id": "r",
        "order_id": "o",
        "request_date": "2026-11-01",
        "status": "Pending",
        "negative_return_feedback": 0,
        "incorrectly_closed": 0,
    },
    "fba_returns": {"return_key": "k", "order_id": "o", "returned_at": 1},
    "claims": {
        "order_id": "o",
        "type": "a-to-z",
        "filed_on": "2026-11-01",
        "status": "open",
        "reason": "x",
        "buy_shipping_protected": 0,
    },
    "messages": {"message_id": "m", "thread_key": "t", "received_at": 1, "kind": "buyer"},
}


@pytest.mark.parametrize("table", ROWS_WITH_A_MARKETPLACE)
def test_a_row_of_another_marketplace_is_found_by_its_index(db, table):
    """Whether the seller sells in one marketplace, asked at every recomputation: a row of an unknown order
    in another marketplace (before or after the home one in the alphabet) says no, a row of the home
    marketplace or of none says yes; found by two ranges of the table's marketplace index, not a scan."""
    db[table].insert(ROW_OF[table] | {"marketplace": None})
    assert only_home_marketplace(db, "US")
    db.execute(f"UPDATE {table} SET marketplace = 'US'")
    assert only_home_marketplace(db, "US")
    for other in ("CA", "UK"):
        db.execute(f"UPDATE {table} SET marketplace = ?", [other])
        assert not only_home_marketplace(db, "US")
        assert only_home_marketplace(db, other)
    plan = db.execute(f"EXPLAIN QUERY PLAN SELECT 1 FROM {table} WHERE marketplace < 'US' OR marketplace > 'US'")
    details = [row[3] for row in plan.fetchall()]
    assert not any(detail.startswith("SCAN") for detail in details), details
    assert any(f"idx_{table}_marketplace" in detail for detail in details), details
