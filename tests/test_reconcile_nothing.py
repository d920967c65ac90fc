"""Amazon's ODR beside the monitor's: what is compared is only what Amazon's report states (its counts,
its rate to the precision it wrote it, its status), and a report that states nothing comparable is never
said to agree."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from app import services
from app.imports import import_files
from app.reconcile import verdict
from tests.conftest import SAMPLE_FILES

AS_OF = date(2026, 11, 8)
RANGE = {"reportingDateFrom": "2026-08-27T00:00:00Z", "reportingDateTo": "2026-10-25T23:59:59Z"}
# The sample seller's own ODR for that range (expected.json): FBA 6 of 151 orders, FBM 5 of 115.
FBA_RATE, FBM_RATE = 6 / 151, 5 / 115


@pytest.fixture
def seller(db, samples):
    """The sample seller's orders, feedback, claims and mail, without Amazon's report."""
    results = import_files(db, [samples / name for name in SAMPLE_FILES if name != "account-health.json"])
    assert all(result.outcome == "imported" for result in results)
    return db


def report_with(odr: dict | None) -> dict:
    metrics = {"marketplaceId": "ATVPDKIKX0DER", "accountHealthRating": {"ahrStatus": "GREAT"}}
    if odr is not None:
        metrics["orderDefectRate"] = odr
    return {
        "accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
        "performanceMetrics": [metrics],
    }


def reconciled(db, tmp_path: Path, report: dict) -> dict:
    path = tmp_path / "account-health.json"
    path.write_text(json.dumps(report, indent=2))
    (result,) = import_files(db, [path])
    assert result.outcome == "imported", result.message
    return services.compute_metrics(db, AS_OF)["reconciliation"]


def rate_only(fba: dict, fbm: dict, with_range: bool = True) -> dict:
    """ODR blocks as some real reports write them: a status and a rate, no counts."""
    blocks = {"afn": fba, "mfn": fbm}
    if with_range:
        blocks = {key: {"reportingDateRange": RANGE} | block for key, block in blocks.items()}
    return report_with(blocks)


def test_status_and_rate_alone_are_compared_and_agree(seller, tmp_path):
    report = rate_only({"status": "BAD", "rate": 0.0397}, {"status": "BAD", "rate": 0.0435})
    reconciliation = reconciled(seller, tmp_path, report)
    assert reconciliation["agrees"] is True and reconciliation["reason"] is None
    fba, fbm = reconciliation["channels"]
    assert (fba["channel"], fba["compared"], fba["agrees"]) == ("FBA", ["rate", "status"], True)
    assert (fbm["channel"], fbm["compared"], fbm["agrees"]) == ("FBM", ["rate", "status"], True)
    assert fba["monitor"]["rate"] == pytest.approx(FBA_RATE) and fba["monitor"]["status"] == "breach"
    assert fba["amazon"]["orders"] is None
    assert verdict(reconciliation) == "Amazon's account health report agrees with the monitor for its reporting range."


def test_status_and_rate_that_differ_are_named_even_without_counts(seller, tmp_path):
    report = rate_only({"status": "GOOD", "rate": 0.0066}, {"status": "BAD", "rate": 0.0435})
    reconciliation = reconciled(seller, tmp_path, report)
    assert reconciliation["agrees"] is False
    fba, fbm = reconciliation["channels"]
    assert [d["figure"] for d in fba["differences"]] == ["rate", "status"]
    rate, status = fba["differences"]
    assert (rate["amazon"], rate["monitor"]) == (0.0066, pytest.approx(FBA_RATE))
    assert "Amazon 0.66 %, monitor 3.97 % (6 of 151 orders)" in rate["explanation"]
    assert "gives no counts for FBA" in rate["explanation"]
    assert (status["amazon"], status["monitor"]) == ("GOOD", "breach")
    assert fbm["agrees"] is True
    assert verdict(reconciliation) == "Amazon's account health report differs from the monitor:"


@pytest.mark.parametrize(
    ("written", "agrees"),
    [
        (0.0397, True),  # 3.97 %: the monitor's 3.9735 % rounded as Amazon writes it
        (0.04, True),  # rounded coarser: agrees within 0.05 %
        (0.0398, False),  # four decimals written: 3.98 % is not 3.9735 %
        (0.039, False),  # 3.9 % is 0.07 % away, more than the coarsest rounding
    ],
)
def test_a_rate_agrees_to_the_precision_amazon_wrote_it(seller, tmp_path, written, agrees):
    report = rate_only({"rate": written}, {"rate": 0.0435})
    (fba, _fbm) = reconciled(seller, tmp_path, report)["channels"]
    assert fba["compared"] == ["rate"]
    assert fba["agrees"] is agrees


def test_blocks_without_a_reporting_range_compare_nothing_and_say_so(seller, tmp_path):
    report = rate_only({"status": "BAD", "rate": 0.0397}, {"status": "BAD", "rate": 0.0435}, with_range=False)
    reconciliation = reconciled(seller, tmp_path, report)
    assert reconciliation["agrees"] is None
    assert "no reporting range" in reconciliation["reason"]
    for channel in reconciliation["channels"]:
        assert (channel["agrees"], channel["compared"], channel["monitor"]) == (None, [], None)
        assert channel["amazon"]["rate"] in {0.0397, 0.0435}
    assert verdict(reconciliation).startswith("Amazon's account health report could not be compared with the monitor:")


def test_a_status_amazon_gives_no_meaning_to_compares_nothing(seller, tmp_path):
    report = rate_only({"status": "NONE"}, {"status": "NONE"})
    reconciliation = reconciled(seller, tmp_path, report)
    assert reconciliation["agrees"] is None
    assert "states no order count or rate" in reconciliation["reason"]
    assert [c["agrees"] for c in reconciliation["channels"]] == [None, None]


def test_a_status_with_no_orders_of_the_monitor_s_to_judge_compares_nothing(db, tmp_path):
    reconciliation = reconciled(db, tmp_path, rate_only({"status": "GOOD"}, {"status": "GOOD"}))
    assert reconciliation["agrees"] is None
    assert "The monitor has no FBA orders purchased from 2026-08-27 to 2026-10-25" in reconciliation["reason"]


def test_a_report_without_odr_says_there_is_nothing_to_compare(seller, tmp_path):
    reconciliation = reconciled(seller, tmp_path, report_with(None))
    assert (reconciliation["channels"], reconciliation["agrees"]) == ([], None)
    assert (
        reconciliation["reason"] == "Amazon's report has no ODR figures for FBA or FBM, so there is nothing to compare."
    )


def test_one_channel_compared_decides_and_the_other_says_why_not(seller, tmp_path):
    fbm_without_range = {"status": "BAD", "rate": 0.0435}
    report = report_with(
        {"afn": {"reportingDateRange": RANGE, "status": "BAD", "rate": 0.0397}, "mfn": fbm_without_range}
    )
    reconciliation = reconciled(seller, tmp_path, report)
    assert reconciliation["agrees"] is True
    fba, fbm = reconciliation["channels"]
    assert (fba["agrees"], fbm["agrees"]) == (True, None)
    assert "no reporting range" in fbm["reason"]


def test_the_full_sample_report_compares_counts_rate_and_status(sample_db):
    reconciliation = services.compute_metrics(sample_db, AS_OF)["reconciliation"]
    assert reconciliation["agrees"] is True and reconciliation["reason"] is None
    for channel in reconciliation["channels"]:
        assert channel["compared"] == [
            "orders",
            "defective_orders",
            "negative_feedback",
            "a_to_z_claims",
            "chargebacks",
            "rate",
            "status",
        ]


def test_a_count_difference_is_explained_and_the_rate_follows_from_it(seller, tmp_path, samples):
    report = json.loads((samples / "account-health.json").read_text())
    afn = copy.deepcopy(report["performanceMetrics"][0]["orderDefectRate"]["afn"])
    afn["negativeFeedback"]["count"], afn["orderWithDefects"]["count"], afn["rate"] = 3, 5, 0.0331
    report["performanceMetrics"][0]["orderDefectRate"]["afn"] = afn
    reconciliation = reconciled(seller, tmp_path, report)
    fba = reconciliation["channels"][0]
    assert [d["figure"] for d in fba["differences"]] == ["defective_orders", "negative_feedback", "rate"]
    assert "follows from the counts that differ" in fba["differences"][-1]["explanation"]
    assert reconciliation["agrees"] is False


def test_no_report_no_reconciliation(seller):
    assert services.compute_metrics(seller, AS_OF)["reconciliation"] is None
    assert verdict(None) == ""
