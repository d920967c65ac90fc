"""Amazon's own figures from its account health report: read from the variants real reports come in,
shown as Amazon's (the `amazon` block of the metrics, never mixed with the monitor's), kept for every
report imported, and shown by the panel with their dates and targets."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import demo_state, services
from app.amazon import amazon_history, warning_states
from app.demo import load_demo
from app.imports import import_files
from storage import open_db
from storage.migrations import MIGRATIONS, schema_version
from storage.settings import write_setting
from tests.conftest import ROOT
from tests.ui_support import SAMPLE_NOW
from ui.amazon_panel import AmazonHealthPanel

AS_OF = date(2026, 11, 8)
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def span(start: str, end: str, time_from: str = "T00:00:00Z", time_to: str = "T23:59:59Z") -> dict:
    return {"reportingDateFrom": f"{start}{time_from}", "reportingDateTo": f"{end}{time_to}"}


def odr_block(kind: str, orders: int, defects: int, rate: float, status: str) -> dict:
    return {
        "reportingDateRange": span("2026-08-27", "2026-10-25"),
        "orderCount": orders,
        "orderWithDefects": {"count": defects, "status": "NONE"},
        "claims": {"count": 0, "status": "NONE"},
        "chargebacks": {"count": 0, "status": "NONE"},
        "negativeFeedback": {"count": defects, "status": "NONE"},
        "fulfillmentType": kind,
        "status": status,
        "rate": rate,
        "targetValue": 0.01,
        "targetCondition": "LESS_THAN",
    }


def policy(count: int, status: str = "GOOD") -> dict:
    return {"status": status, "targetValue": 0, "targetCondition": "LESS_THAN_OR_EQUAL_TO", "defectsCount": count}


# As Amazon's current report writes every figure (SP-API sellerPerformanceReport, V2).
FULL_REPORT = {
    "accountStatuses": [{"marketplaceId": US, "status": "NORMAL"}],
    "performanceMetrics": [
        {
            "marketplaceId": US,
            "accountHealthRating": {"ahrStatus": "GREAT", "ahrScore": 312},
            "orderDefectRate": {
                "afn": odr_block("AFN", 151, 6, 0.0397, "BAD"),
                "mfn": odr_block("MFN", 115, 5, 0.0435, "BAD"),
            },
            "lateShipmentRate": {
                "reportingDateRange": span("2026-10-29", "2026-11-07"),
                "status": "GOOD",
                "targetValue": 0.04,
                "targetCondition": "LESS_THAN",
                "orderCount": 120,
                "lateShipmentCount": 2,
                "rate": 0.0167,
            },
            "preFulfillmentCancellationRate": {
                "reportingDateRange": span("2026-10-08", "2026-11-07"),
                "status": "GOOD",
                "targetValue": 0.025,
                "targetCondition": "LESS_THAN",
                "orderCount": 118,
                "cancellationCount": 0,
                "rate": 0.0,
            },
            "validTrackingRate": {
                "reportingDateRange": span("2026-10-08", "2026-11-07"),
                "status": "GOOD",
                "targetValue": 0.95,
                "targetCondition": "GREATER_THAN",
                "shipmentCount": 110,
                "validTrackingCount": 108,
                "rate": 0.9818,
            },
            "onTimeDeliveryRate": {
                "reportingDateRange": span("2026-10-15", "2026-10-28"),
                "status": "BAD",
                "targetValue": 0.9,
                "targetCondition": "GREATER_THAN",
                "shipmentCountWithValidTracking": 60,
                "onTimeDeliveryCount": 51,
                "rate": 0.85,
            },
            "invoiceDefectRate": {
                "reportingDateRange": span("2026-10-08", "2026-11-07"),
                "status": "GOOD",
                "targetValue": 0.05,
                "targetCondition": "LESS_THAN",
                "invoiceDefect": {"count": 0},
                "missingInvoice": {"count": 0},
                "lateInvoice": {"count": 0},
                "orderCount": 12,
                "rate": 0.0,
            },
            "listingPolicyViolations": policy(0),
            "receivedIntellectualPropertyComplaints": policy(2, "BAD"),
            "productAuthenticityCustomerComplaints": policy(0),
            "productConditionCustomerComplaints": policy(1, "BAD"),
            "productSafetyCustomerComplaints": policy(0),
            "foodAndProductSafetyIssues": policy(0),
            "otherPolicyViolations": policy(0),
            "documentRequests": policy(0),
            "regulatoryComplianceViolations": policy(3, "BAD"),
            "warningStates": ["LATE_SHIPMENT_RATE_WARNING"],
        }
    ],
}


def full_report() -> dict:
    return copy.deepcopy(FULL_REPORT)


def entry(report: dict) -> dict:
    return report["performanceMetrics"][0]


def write(folder: Path, name: str, report: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return path


def imported(db, *paths: Path) -> list:
    results = import_files(db, paths)
    assert [r.outcome for r in results] == ["imported"] * len(paths), [r.message for r in results]
    return results


def amazon(db, as_of: date = AS_OF) -> dict | None:
    return services.compute_metrics(db, as_of)["amazon"]


# --- The amazon block of the metrics ----------------------------------------------------------------------------


def test_every_figure_of_a_full_report_is_amazon_s_with_its_dates_and_target(db, tmp_path):
    imported(db, write(tmp_path, "health.json", full_report()))
    block = amazon(db)
    assert block["account_health_rating"] == {"score": 312, "status": "GREAT"}
    assert (block["marketplace_id"], block["marketplace"], block["marketplaces"]) == (US, "US", [US])
    assert block["account_status"] == "NORMAL"
    assert block["reported_through"] == "2026-11-07"
    assert block["late_shipment_rate"] == {
        "rate": 0.0167,
        "status": "GOOD",
        "target": 0.04,
        "target_condition": "LESS_THAN",
        "window_start": "2026-10-29",
        "window_end": "2026-11-07",
    }
    assert block["pre_fulfillment_cancel_rate"]["rate"] == 0.0
    assert block["valid_tracking_rate"]["target_condition"] == "GREATER_THAN"
    assert block["on_time_delivery_rate"] | {} == {
        "rate": 0.85,
        "status": "BAD",
        "target": 0.9,
        "target_condition": "GREATER_THAN",
        "window_start": "2026-10-15",
        "window_end": "2026-10-28",
    }
    assert block["invoice_defect_rate"]["window_end"] == "2026-11-07"
    assert {channel: (odr["rate"], odr["status"]) for channel, odr in block["order_defect_rate"].items()} == {
        "FBA": (0.0397, "BAD"),
        "FBM": (0.0435, "BAD"),
    }
    assert block["order_defect_rate"]["FBA"]["window_start"] == "2026-08-27"
    policies = block["policy"]
    assert policies["received_intellectual_property_complaints"] == 2
    assert policies["product_condition_customer_complaints"] == 1
    assert policies["listing_policy_violations"] == policies["document_requests"] == 0
    # A policy Amazon added after this monitor was written is still shown, under its own name.
    assert policies["regulatory_compliance_violations"] == 3
    # Policies the report does not mention are null, not 0.
    assert policies["restricted_product_policy_violations"] is None
    assert block["policy_status"]["received_intellectual_property_complaints"] == "BAD"
    assert block["warning_states"] == [{"metric": None, "state": "LATE_SHIPMENT_RATE_WARNING"}]


def test_the_monitor_s_own_figures_stay_apart_from_amazon_s(db, tmp_path, samples):
    imported(db, samples / "all-orders.txt", write(tmp_path, "health.json", full_report()))
    figures = services.compute_metrics(db, AS_OF)
    # Amazon's ODR is in the amazon block only; the monitor's ODR is its own count of the orders.
    assert figures["order_defect_rate"]["by_channel"]["FBA"]["orders"] == 151
    assert figures["order_defect_rate"]["by_channel"]["FBA"]["rate"] == 0  # no defects imported
    assert figures["amazon"]["order_defect_rate"]["FBA"]["rate"] == 0.0397
    assert not any(key.startswith(("late_shipment", "account_health")) for key in figures if key != "amazon")


def test_other_spellings_real_reports_use_are_read_the_same(db, tmp_path):
    """warningState as an object, documentRequest, targets as a list, accountHealthRatingStatus without a
    score, preFulfillmentCancelRate, dates without seconds, counts left out."""
    report = full_report()
    metrics = entry(report)
    metrics["accountHealthRating"] = {"accountHealthRatingStatus": "AT_RISK"}
    metrics["prefulfillmentCancelRate"] = metrics.pop("preFulfillmentCancellationRate")
    metrics["documentRequest"] = {"status": "GOOD", "targetValue": 0}  # no defectsCount
    del metrics["documentRequests"]
    metrics["warningState"] = {"warningState": "AT_RISK", "since": "2026-11-01"}
    del metrics["warningStates"]
    late = metrics["lateShipmentRate"]
    late["reportingDateRange"] = span("2020-09-06", "2020-09-15", "T00:00Z", "T00:00Z")
    late["targets"] = [{"targetValue": 0.04, "targetCondition": "LESS_THAN"}]
    del late["targetValue"], late["targetCondition"], late["orderCount"], late["lateShipmentCount"]
    metrics["otherPolicyViolations"] = {"status": "GOOD", "warningStates": {"state": "POLICY_WARNING"}}
    imported(db, write(tmp_path, "health.json", report))

    block = amazon(db)
    assert block["account_health_rating"] == {"score": None, "status": "AT_RISK"}
    assert block["pre_fulfillment_cancel_rate"]["target"] == 0.025
    assert block["policy"]["document_requests"] is None
    assert block["policy"]["other_policy_violations"] is None
    assert block["late_shipment_rate"] | {} == {
        "rate": 0.0167,
        "status": "GOOD",
        "target": 0.04,
        "target_condition": "LESS_THAN",
        "window_start": "2020-09-06",
        "window_end": "2020-09-15",
    }
    assert block["warning_states"] == [
        {"metric": None, "state": "AT_RISK"},
        {"metric": "other_policy_violations", "state": "POLICY_WARNING"},
    ]


@pytest.mark.parametrize(
    ("written", "states"),
    [
        ("LATE_SHIPMENT", ["LATE_SHIPMENT"]),
        (["A", "B", "A"], ["A", "B"]),
        ({"warningStates": ["A", "B"]}, ["A", "B"]),
        ({"A": True, "B": False}, ["A"]),
        ([{"status": "A"}, {"type": "B"}], ["A", "B"]),
        (["NONE"], []),
        (None, []),
        (3, []),
    ],
)
def test_warning_states_in_any_shape(written, states):
    assert warning_states(written) == states


def test_a_report_with_only_some_figures_has_null_for_the_rest(db, tmp_path):
    report = {
        "accountStatuses": [],
        "performanceMetrics": [{"marketplaceId": US, "orderDefectRate": {"afn": {"status": "GOOD", "rate": 0.002}}}],
    }
    imported(db, write(tmp_path, "health.json", report))
    block = amazon(db)
    for name in ("late_shipment_rate", "pre_fulfillment_cancel_rate", "valid_tracking_rate", "invoice_defect_rate"):
        assert block[name] is None, name
    assert block["account_health_rating"] is None and block["account_status"] is None
    assert block["reported_through"] is None
    assert block["order_defect_rate"] == {
        "FBA": {
            "rate": 0.002,
            "status": "GOOD",
            "target": None,
            "target_condition": None,
            "window_start": None,
            "window_end": None,
        },
        "FBM": None,
    }
    assert set(block["policy"].values()) == {None}
    assert block["warning_states"] == []


def test_amazon_is_null_without_a_report(db, samples):
    imported(db, samples / "all-orders.txt")
    assert amazon(db) is None


def test_the_seller_s_marketplace_is_shown_from_a_report_of_several(db, tmp_path):
    report = full_report()
    canada = copy.deepcopy(entry(report)) | {"marketplaceId": CA, "accountHealthRating": {"ahrStatus": "FAIR"}}
    report["performanceMetrics"].insert(0, canada)
    report["accountStatuses"].append({"marketplaceId": CA, "status": "AT_RISK"})
    imported(db, write(tmp_path, "health.json", report))
    block = amazon(db)
    assert (block["marketplace_id"], block["account_status"]) == (US, "NORMAL")
    assert block["account_health_rating"]["status"] == "GREAT"
    assert block["marketplaces"] == [CA, US]
    write_setting(db, "marketplace", "CA")
    block = amazon(db)
    assert (block["marketplace"], block["account_status"]) == ("CA", "AT_RISK")
    assert block["account_health_rating"]["status"] == "FAIR"


# --- History ----------------------------------------------------------------------------------------------------


def dated(end: str, score: int) -> dict:
    """The full report, as downloaded on another day (every range ends on `end`)."""
    report = full_report()
    metrics = entry(report)
    metrics["accountHealthRating"]["ahrScore"] = score
    for name in ("lateShipmentRate", "preFulfillmentCancellationRate", "validTrackingRate", "invoiceDefectRate"):
        metrics[name]["reportingDateRange"]["reportingDateTo"] = f"{end}T23:59:59Z"
    return report


def test_every_report_is_kept_once_and_the_newest_by_its_dates_is_shown(db, tmp_path):
    october, november = (
        write(tmp_path, "oct.json", dated("2026-10-31", 280)),
        write(tmp_path, "nov.json", dated("2026-11-07", 312)),
    )
    # The newer report first, then last month's found in the downloads folder, then the newer one again.
    results = imported(db, november, october, november)
    assert [(r.added, r.updated, r.unchanged) for r in results] == [(1, 0, 0), (1, 0, 0), (0, 0, 1)]
    rows = list(
        db.query("SELECT marketplace_id, reported_through FROM amazon_health_reports ORDER BY reported_through")
    )
    assert rows == [
        {"marketplace_id": US, "reported_through": "2026-10-31"},
        {"marketplace_id": US, "reported_through": "2026-11-07"},
    ]
    assert amazon(db)["account_health_rating"]["score"] == 312
    history = amazon_history(db)
    assert [(h["reported_through"], h["account_health_rating"]["score"]) for h in history] == [
        ("2026-10-31", 280),
        ("2026-11-07", 312),
    ]


def test_figures_as_of_a_past_day_come_from_the_report_that_existed_then(db, tmp_path):
    imported(
        db, write(tmp_path, "nov.json", dated("2026-11-07", 312)), write(tmp_path, "oct.json", dated("2026-10-31", 280))
    )
    assert amazon(db, date(2026, 11, 3))["account_health_rating"]["score"] == 280
    assert (
        services.compute_metrics(db, date(2026, 11, 3))["reconciliation"]["report_sha256"]
        == amazon(db, date(2026, 11, 3))["report_sha256"]
    )
    assert amazon(db, date(2026, 10, 30)) is None
    assert [h["account_health_rating"]["score"] for h in amazon_history(db, date(2026, 11, 3))] == [280]


def test_reports_imported_before_this_version_are_in_the_history(db_path, samples):
    old = open_db(db_path, migrate_schema=False)
    try:
        for version, (name, step) in enumerate(MIGRATIONS[:4], start=1):
            step(old)
            old.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)", [version, name])
        old.execute("PRAGMA user_version = 4")
        report = (samples / "account-health.json").read_text()
        old.execute("INSERT INTO account_health_snapshots (sha256, report_json) VALUES ('old', ?)", [report])
    finally:
        old.close()
    upgraded = open_db(db_path)
    try:
        assert schema_version(upgraded) == len(MIGRATIONS) >= 5
        (row,) = upgraded.query("SELECT sha256, marketplace_id, account_status FROM amazon_health_reports")
        assert row == {"sha256": "old", "marketplace_id": US, "account_status": "NORMAL"}
        assert amazon(upgraded)["account_health_rating"] == {"score": 312, "status": "GREAT"}
    finally:
        upgraded.close()


def test_the_demo_s_report_is_shown_and_cleared_with_the_demo(db):
    load_demo(db, lambda: SAMPLE_NOW)
    state = services.refresh(db, lambda: SAMPLE_NOW)
    assert state.metrics["amazon"]["account_health_rating"]["status"] == "GOOD"
    assert state.metrics["amazon"]["order_defect_rate"]["FBA"]["status"] in {"GOOD", "BAD"}
    demo_state.clear(db)
    assert db["amazon_health_reports"].count == 0
    assert amazon(db) is None


# --- Refused shapes ---------------------------------------------------------------------------------------------


def _set(*path_and_value):
    *path, value = path_and_value

    def change(report):
        target = entry(report)
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


WRONG = {
    "rate-as-percent": (_set("lateShipmentRate", "rate", 1.67), "lateShipmentRate.rate is the number 1.67"),
    "rate-a-text": (_set("validTrackingRate", "rate", "98%"), "validTrackingRate.rate is the text '98%'"),
    "count-negative": (_set("lateShipmentRate", "lateShipmentCount", -2), "lateShipmentCount is the number -2"),
    "nested-count": (_set("invoiceDefectRate", "lateInvoice", {"count": 0.5}), "lateInvoice.count is the number 0.5"),
    "target-a-text": (_set("onTimeDeliveryRate", "targetValue", "90%"), "onTimeDeliveryRate.targetValue is"),
    "block-a-number": (_set("lateShipmentRate", 0.0167), "lateShipmentRate is the number 0.0167, not an object"),
    "score-too-high": (_set("accountHealthRating", "ahrScore", 5000), "ahrScore is the number 5000"),
    "score-a-text": (_set("accountHealthRating", "ahrScore", "high"), "ahrScore is the text 'high'"),
    "rating-a-text": (_set("accountHealthRating", "GREAT"), "accountHealthRating is the text 'GREAT'"),
    "policy-count": (_set("listingPolicyViolations", "defectsCount", -1), "defectsCount is the number -1"),
    "policy-a-text": (_set("documentRequests", "none"), "documentRequests is the text 'none'"),
    "date-not-a-date": (
        _set("lateShipmentRate", "reportingDateRange", "reportingDateTo", "soon"),
        "lateShipmentRate.reportingDateRange.reportingDateTo is the text 'soon'",
    ),
    "range-reversed": (
        _set("invoiceDefectRate", "reportingDateRange", span("2026-11-07", "2026-10-08")),
        "invoiceDefectRate.reportingDateRange ends before it starts",
    ),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_a_figure_that_cannot_be_amazon_s_is_refused_saying_where(case, db, tmp_path):
    change, problem = WRONG[case]
    report = full_report()
    change(report)
    (result,) = import_files(db, [write(tmp_path, "health.json", report)])
    assert result.outcome == "refused"
    assert problem in result.message and "expected" in result.message
    assert db["account_health_snapshots"].count == 0


def test_nulls_where_a_report_has_nothing_to_say_are_accepted(db, tmp_path):
    report = full_report()
    metrics = entry(report)
    metrics["lateShipmentRate"] = None
    metrics["validTrackingRate"]["rate"] = None
    metrics["validTrackingRate"]["shipmentCount"] = None
    metrics["orderDefectRate"]["afn"]["orderCount"] = None
    metrics["listingPolicyViolations"]["defectsCount"] = None
    metrics["accountHealthRating"]["ahrScore"] = None
    imported(db, write(tmp_path, "health.json", report))
    block = amazon(db)
    assert block["late_shipment_rate"] is None
    assert block["valid_tracking_rate"]["rate"] is None and block["valid_tracking_rate"]["status"] == "GOOD"
    assert block["policy"]["listing_policy_violations"] is None
    assert block["account_health_rating"] == {"score": None, "status": "GREAT"}


# --- The command line -------------------------------------------------------------------------------------------


def test_metrics_json_has_amazon_s_block_of_the_sample_report(sample_db, db_path):
    done = subprocess.run(
        [sys.executable, "main.py", "metrics", "--as-of", "2026-11-08", "--json", "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    block = json.loads(done.stdout)["amazon"]
    assert block["account_health_rating"] == {"score": 312, "status": "GREAT"}
    assert block["late_shipment_rate"]["rate"] == 0.0167 and block["late_shipment_rate"]["window_end"] is None
    assert block["pre_fulfillment_cancel_rate"] | {} == {
        "rate": 0.0,
        "status": None,
        "target": 0.025,
        "target_condition": None,
        "window_start": None,
        "window_end": None,
    }
    assert block["valid_tracking_rate"] is None and block["on_time_delivery_rate"] is None
    assert block["order_defect_rate"]["FBM"]["rate"] == 0.0435


# --- The panel --------------------------------------------------------------------------------------------------


@pytest.fixture
def panel(qtbot):
    widget = AmazonHealthPanel()
    qtbot.addWidget(widget)
    widget.resize(1366, 300)
    return widget


def test_panel_shows_amazon_s_figures_with_dates_and_targets(panel, db, tmp_path):
    imported(db, write(tmp_path, "health.json", full_report()))
    panel.show_amazon(amazon(db), ZoneInfo("America/Los_Angeles"))
    assert panel.heading.text() == "Amazon's figures"
    assert "From Amazon's account health report for US (ATVPDKIKX0DER)" in panel.source.text()
    assert "reporting to 7 Nov 2026" in panel.source.text()
    assert "Amazon's own numbers, not the monitor's" in panel.source.text()
    assert panel.account_status.text() == "Account status: Normal"
    assert (panel.rating_score.text(), panel.rating_status.text()) == ("312", "Great")
    late = panel.tiles["late_shipment_rate"]
    assert (late.rate.text(), late.status.text()) == ("1.67 %", "Good")
    assert (late.target.text(), late.window.text()) == ("target under 4 %", "29 Oct – 7 Nov 2026")
    on_time = panel.tiles["on_time_delivery_rate"]
    assert (on_time.rate.text(), on_time.status.text(), on_time.target.text()) == ("85.00 %", "Bad", "target over 90 %")
    fba = panel.tiles["order_defect_rate.FBA"]
    assert (fba.rate.text(), fba.status.text(), fba.window.text()) == ("3.97 %", "Bad", "27 Aug – 25 Oct 2026")
    assert panel.policy_labels["received_intellectual_property_complaints"].text() == "IP complaints received"
    assert panel.policy_counts["received_intellectual_property_complaints"].text() == "2 (Bad)"
    assert panel.policy_counts["regulatory_compliance_violations"].text() == "3 (Bad)"
    assert panel.policy_counts["restricted_product_policy_violations"].text() == "—"
    assert panel.warnings.text() == "Amazon's warnings: Late shipment rate warning"
    assert panel.body.isVisibleTo(panel) and not panel.empty.isVisibleTo(panel)


def test_panel_says_what_the_report_leaves_out(panel, db, samples):
    imported(db, samples / "account-health.json")
    panel.show_amazon(amazon(db), ZoneInfo("UTC"))
    cancel = panel.tiles["pre_fulfillment_cancel_rate"]
    assert (cancel.rate.text(), cancel.status.text(), cancel.target.text()) == ("0.00 %", "", "target 2.5 %")
    assert cancel.window.text() == "no dates in the report"
    tracking = panel.tiles["valid_tracking_rate"]
    assert (tracking.rate.text(), tracking.target.text()) == ("—", "not in the report")
    assert not panel.warnings.isVisibleTo(panel)


def test_panel_without_a_report_says_how_to_get_one(panel):
    panel.show_amazon(None, ZoneInfo("UTC"))
    assert panel.empty.isVisibleTo(panel) and not panel.body.isVisibleTo(panel)
    assert "No account health report imported yet" in panel.empty.text()
