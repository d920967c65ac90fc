"""The command line as a seller's script sees it: `metrics`, `clocks` and `config`, run as a separate
process on a database filled by importing the sample seller; and the settings behind `config`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import load_settings
from app.timeutil import parse_instant
from storage import open_db
from storage.settings import read_settings
from tests.builders import Seller

ROOT = Path(__file__).resolve().parents[1]
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ODR_KEYS = {
    "window_start",
    "window_end",
    "orders",
    "defective_orders",
    "negative_feedback",
    "a_to_z_claims",
    "chargebacks",
    "rate",
    "status",
    "headroom_defects",
    "by_channel",
}
CHANNEL_KEYS = {"orders", "defective_orders", "negative_feedback", "a_to_z_claims", "chargebacks", "rate"}
LRR_KEYS = {"window_start", "window_end", "late", "on_time", "pending", "rate", "status"}
NFR_KEYS = {"feedback", "negative", "rate", "status", "complete"}
RDR_KEYS = {"returns", "dissatisfied", "rate", "status"}
METRICS = ("order_defect_rate", "live_order_defect_rate", "late_response_rate")
METRICS += ("negative_feedback_rate", "return_dissatisfaction_rate")


def run(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args, "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(db_path: Path, *args: str):
    done = run(db_path, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def expected(samples):
    return json.loads((samples / "expected.json").read_text())


# --- metrics -------------------------------------------------------------------------------------------------


def test_metrics_json_has_the_named_keys_and_the_sample_figures(sample_db, db_path, expected):
    figures = run_json(db_path, "metrics", "--as-of", "2026-11-08", "--json")
    assert figures["as_of"] == "2026-11-08"
    for name in ("order_defect_rate", "live_order_defect_rate"):
        odr = figures[name]
        assert set(odr) >= ODR_KEYS, name
        assert set(odr["by_channel"]) == {"FBA", "FBM"}
        for channel in ("FBA", "FBM"):
            assert set(odr["by_channel"][channel]) >= CHANNEL_KEYS, (name, channel)
    assert set(figures["late_response_rate"]) >= LRR_KEYS
    assert set(figures["negative_feedback_rate"]) >= NFR_KEYS
    assert set(figures["return_dissatisfaction_rate"]) >= RDR_KEYS

    odr = figures["order_defect_rate"]
    assert [odr["window_start"], odr["window_end"]] == expected["odr_window"]
    assert {key: odr[key] for key in expected["odr"]["all"]} == expected["odr"]["all"]
    for channel in ("FBA", "FBM"):
        got = odr["by_channel"][channel]
        assert {key: got[key] for key in expected["odr"][channel]} == expected["odr"][channel]
    live = figures["live_order_defect_rate"]
    assert {key: live[key] for key in expected["live_odr"]["all"]} == expected["live_odr"]["all"]
    lrr = figures["late_response_rate"]
    assert {key: lrr[key] for key in expected["lrr"]} == expected["lrr"]
    assert (lrr["window_start"], lrr["window_end"]) == ("2026-10-10", "2026-11-08")
    nfr = figures["negative_feedback_rate"]
    assert {key: nfr[key] for key in expected["nfr"]} == expected["nfr"]
    rdr = figures["return_dissatisfaction_rate"]
    assert {key: rdr[key] for key in expected["rdr"]} == expected["rdr"]
    # The sample seller is over every limit.
    assert {figures[name]["status"] for name in METRICS} == {"breach"}


def test_metrics_rates_are_null_without_a_denominator(sample_db, db_path):
    figures = run_json(db_path, "metrics", "--as-of", "2025-01-01", "--json")  # before any sample data
    for name in METRICS:
        assert figures[name]["rate"] is None, name
        assert figures[name]["status"] == "insufficient_data", name
    for channel in ("FBA", "FBM"):
        assert figures["order_defect_rate"]["by_channel"][channel]["rate"] is None
    assert figures["order_defect_rate"]["reason"]
    assert figures["negative_feedback_rate"]["complete"] is False


def test_metrics_on_an_empty_database(db_path):
    figures = run_json(db_path, "metrics", "--as-of", "2026-11-08", "--json")
    assert figures["order_defect_rate"]["orders"] == 0
    assert figures["order_defect_rate"]["rate"] is None


def test_metrics_rejects_a_bad_day(db_path):
    done = run(db_path, "metrics", "--as-of", "8/11/2026", "--json")
    assert done.returncode == 2
    assert "--as-of" in done.stderr
    assert done.stdout == ""


# --- clocks --------------------------------------------------------------------------------------------------


def test_clocks_json_most_urgent_first(sample_db, db_path, expected):
    at = "2026-11-09T00:00:00Z"
    clocks = run_json(db_path, "clocks", "--at", at, "--json")
    assert isinstance(clocks, list) and clocks
    instant = parse_instant(at)
    for clock in clocks:
        assert {"kind", "order_id", "due_at", "remaining_s"} <= set(clock)
        assert ISO_UTC.match(clock["due_at"]), clock
        assert clock["remaining_s"] == parse_instant(clock["due_at"]) - instant
    assert [c["due_at"] for c in clocks] == sorted(c["due_at"] for c in clocks)
    replies = sorted([c["order_id"] or "", c["remaining_s"]] for c in clocks if c["kind"] == "buyer_reply")
    assert replies == sorted(expected["open_message_clocks"])
    assert None in {c["order_id"] for c in clocks if c["kind"] == "buyer_reply"}  # the pre-order question
    assert any(c["remaining_s"] < 0 for c in clocks if c["kind"] == "buyer_reply")  # overdue and still owed


def test_clocks_rejects_a_bad_instant(db_path):
    done = run(db_path, "clocks", "--at", "tomorrow", "--json")
    assert done.returncode == 2
    assert "--at" in done.stderr


# --- config and settings -------------------------------------------------------------------------------------


def test_default_settings(db):
    settings = load_settings(db)
    assert settings.timezone == "UTC"
    assert settings.a_to_z_response_hours == 48
    assert settings.warning_levels == {"odr": 0.008, "lrr": 0.08, "nfr": 0.05, "rdr": 0.08}
    assert settings.feedback_removal_days == 90
    assert settings.alert_thresholds_hours == [6, 2]
    assert settings.csba_periods == []


def test_config_defaults_from_the_command_line(db_path):
    assert run_json(db_path, "config", "get", "timezone") == "UTC"
    assert run_json(db_path, "config", "get", "a_to_z_response_hours") == 48
    assert run_json(db_path, "config", "get", "feedback_removal_days") == 90
    assert run_json(db_path, "config", "get", "alert_thresholds_hours") == [6, 2]
    assert run_json(db_path, "config", "get", "warning_levels")["odr"] == 0.008


@pytest.mark.parametrize(
    ("key", "text", "stored"),
    [
        ("timezone", "America/Los_Angeles", "America/Los_Angeles"),
        ("a_to_z_response_hours", "72", 72),
        ("feedback_removal_days", "60", 60),
        ("alert_thresholds_hours", "[2, 12]", [12, 2]),
        ("warning_levels", '{"odr": 0.005}', {"odr": 0.005, "lrr": 0.08, "nfr": 0.05, "rdr": 0.08}),
        (
            "csba_periods",
            '[{"start": "2026-09-01", "end": "2026-10-01"}]',
            [{"start": "2026-09-01", "end": "2026-10-01"}],
        ),
    ],
)
def test_config_set_round_trips_and_is_stored_in_the_database(db_path, key, text, stored):
    done = run(db_path, "config", "set", key, text)
    assert done.returncode == 0, done.stderr
    assert run_json(db_path, "config", "get", key) == stored
    database = open_db(db_path)
    try:
        assert read_settings(database)[key] == stored
        assert getattr(load_settings(database), key) == stored
    finally:
        database.close()


@pytest.mark.parametrize(
    ("key", "text", "says"),
    [
        ("timezone", "Mars/Olympus_Mons", "time zone"),
        ("a_to_z_response_hours", "-5", "more than 0"),
        ("a_to_z_response_hours", "soon", "not a number"),
        ("a_to_z_response_hours", "Infinity", "not a number"),
        ("feedback_removal_days", "NaN", "not a number"),
        ("feedback_removal_days", "true", "not a number"),
        ("feedback_removal_days", "0", "more than 0"),
        ("alert_thresholds_hours", "[]", "list of hours"),
        ("alert_thresholds_hours", "[6, -1]", "more than 0"),
        ("warning_levels", '{"odr": 1.5}', "between 0 and 1"),
        ("warning_levels", '{"odr": "high"}', "between 0 and 1"),
        ("warning_levels", '{"xdr": 0.1}', "not one of"),
        ("csba_periods", '[{"start": "2026-10-01", "end": "2026-09-01"}]', "starts after it ends"),
    ],
)
def test_config_rejects_bad_values_clearly(db, db_path, key, text, says):
    done = run(db_path, "config", "set", key, text)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {key}: ")
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert key not in read_settings(db)  # nothing was stored


def test_config_list_shows_changed_settings(db_path):
    assert run(db_path, "config", "set", "a_to_z_response_hours", "72").returncode == 0
    listing = run(db_path, "config", "list")
    assert listing.returncode == 0
    assert "a_to_z_response_hours = 72" in listing.stdout
    assert 'timezone = "UTC"' in listing.stdout


def test_db_option_before_or_after_the_command_name(tmp_path):
    """`--db` may come before the command name, after it, or after a config action; a --db given before
    the command must not fall back to the default database."""
    path = tmp_path / "where.db"
    command = [sys.executable, "main.py", "--db", str(path), "config", "set", "timezone", "Europe/Berlin"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert run_json(path, "config", "get", "timezone") == "Europe/Berlin"
    command = [sys.executable, "main.py", "config", "--db", str(path), "get", "timezone"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout) == "Europe/Berlin"
    command = [sys.executable, "main.py", "--db", str(path), "metrics", "--as-of", "2026-11-08", "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["timezone"] == "Europe/Berlin"


def test_config_rejects_an_unknown_setting(db_path):
    done = run(db_path, "config", "set", "colour", "blue")
    assert done.returncode == 2
    assert "colour" in done.stderr


def test_a_changed_setting_changes_the_figures(tmp_path):
    """The warning level comes from the database: raising ODR's to 0.91 % turns 1 defect in 111 orders
    (0.90 %) from at risk to good."""
    path = tmp_path / "small.db"
    database = open_db(path)
    try:
        seller = Seller(database)
        ids = seller.orders(111, "2026-10-01 12:00")
        seller.feedback(ids[0], "2026-10-05", rating=1)
    finally:
        database.close()
    assert run_json(path, "metrics", "--as-of", "2026-11-08", "--json")["order_defect_rate"]["status"] == "at_risk"
    assert run(path, "config", "set", "warning_levels", '{"odr": 0.0091}').returncode == 0
    assert run_json(path, "metrics", "--as-of", "2026-11-08", "--json")["order_defect_rate"]["status"] == "good"
