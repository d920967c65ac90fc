"""The sample seller's figures as of 2026-11-08 (UTC) are exactly those of expected.json."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app import services
from app.metrics import daily_series, metrics_as_of
from app.snapshot import load_snapshot
from app.timeutil import parse_instant

AS_OF = date(2026, 11, 8)
COUNT_KEYS = ("orders", "defective_orders", "negative_feedback", "a_to_z_claims", "chargebacks", "rate")


@pytest.fixture
def expected(samples):
    return json.loads((samples / "expected.json").read_text())


@pytest.fixture
def figures(sample_db):
    return services.compute_metrics(sample_db, AS_OF)


def pick(figure: dict, keys) -> dict:
    return {key: figure[key] for key in keys}


def test_odr_window_and_counts(figures, expected):
    odr = figures["order_defect_rate"]
    assert [odr["window_start"], odr["window_end"]] == expected["odr_window"]
    assert pick(odr, expected["odr"]["all"]) == expected["odr"]["all"]
    for channel in ("FBA", "FBM"):
        assert pick(odr["by_channel"][channel], expected["odr"][channel]) == expected["odr"][channel]


def test_live_odr(figures, expected):
    live = figures["live_order_defect_rate"]
    assert pick(live, expected["live_odr"]["all"]) == expected["live_odr"]["all"]
    for channel in ("FBA", "FBM"):
        assert pick(live["by_channel"][channel], COUNT_KEYS) == expected["live_odr"][channel]


def test_lrr_nfr_rdr(figures, expected):
    assert pick(figures["late_response_rate"], expected["lrr"]) == expected["lrr"]
    assert pick(figures["negative_feedback_rate"], expected["nfr"]) == expected["nfr"]
    assert pick(figures["return_dissatisfaction_rate"], expected["rdr"]) == expected["rdr"]


def test_open_message_clocks(sample_db, expected):
    instant = parse_instant("2026-11-09T00:00:00Z")  # the end of the as-of day in UTC
    clocks = [c for c in services.open_clocks(sample_db, instant) if c.kind == "buyer_reply"]
    found = sorted([clock.order_id or "", clock.remaining_s(instant)] for clock in clocks)
    assert found == sorted(expected["open_message_clocks"])


def test_statuses_follow_the_limits(figures):
    assert figures["order_defect_rate"]["status"] == "breach"
    assert figures["late_response_rate"]["status"] == "breach"
    assert figures["negative_feedback_rate"]["status"] == "breach"
    assert figures["negative_feedback_rate"]["complete"] is True
    assert figures["return_dissatisfaction_rate"]["status"] == "breach"


def test_amazon_report_agrees_with_the_monitor(figures):
    reconciliation = figures["reconciliation"]
    assert [c["channel"] for c in reconciliation["channels"]] == ["FBA", "FBM"]
    assert reconciliation["agrees"] is True


def test_series_matches_day_by_day_computation(sample_db):
    first = date(2026, 9, 1)
    snapshot = load_snapshot(sample_db, first, AS_OF)
    series = daily_series(snapshot, first, AS_OF)
    assert len(series) == (AS_OF - first).days + 1
    for point in series:
        day = date.fromisoformat(point["day"])
        one = metrics_as_of(load_snapshot(sample_db, day, day), day)
        assert point["odr"] == one["order_defect_rate"]["rate"], day
        assert point["odr_fba"] == one["order_defect_rate"]["by_channel"]["FBA"]["rate"], day
        assert point["live_odr"] == one["live_order_defect_rate"]["rate"], day
        assert point["negative_feedback"] == one["order_defect_rate"]["negative_feedback"], day
        assert point["lrr"] == one["late_response_rate"]["rate"], day
        assert point["nfr"] == one["negative_feedback_rate"]["rate"], day
        assert point["rdr"] == one["return_dissatisfaction_rate"]["rate"], day
