"""The demo seller: realistic, dated relative to now, clearly flagged, never mixed with the seller's own data."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from app import demo_state, services
from app.clocks import BUYER_REPLY
from app.demo import DEMO_DAYS, load_demo
from app.timeutil import local_day
from tests.conftest import ROOT
from tests.ui_support import SAMPLE_NOW


def run(*args: str):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_demo_is_about_four_months_of_both_channels(db):
    load_demo(db, lambda: SAMPLE_NOW)
    assert demo_state.is_active(db)
    first, last = db.execute("SELECT min(purchased_at), max(purchased_at) FROM orders").fetchone()
    span = local_day(last, services.load_settings(db).zone) - local_day(first, services.load_settings(db).zone)
    assert span >= timedelta(days=DEMO_DAYS - 1)
    assert last <= SAMPLE_NOW
    channels = dict(db.execute("SELECT channel, count(*) FROM orders GROUP BY channel").fetchall())
    assert channels["FBA"] > 200 and channels["FBM"] > 200
    for table in ("feedback", "fbm_returns", "fba_returns", "claims", "messages", "replies"):
        assert db[table].count > 0, table


def test_demo_has_reply_clocks_about_to_run_out(db):
    load_demo(db, lambda: SAMPLE_NOW)
    state = services.refresh(db, lambda: SAMPLE_NOW)
    left = sorted(c.remaining_s(SAMPLE_NOW) for c in state.clocks if c.kind == BUYER_REPLY)
    assert left[0] < 2 * 3600 and any(2 * 3600 < seconds < 6 * 3600 for seconds in left)
    # Every figure has a number to show, and the live ODR is worse than Amazon's lagging one.
    for key in ("order_defect_rate", "live_order_defect_rate", "late_response_rate", "negative_feedback_rate"):
        assert state.metrics[key]["status"] != "insufficient_data", key
    assert state.metrics["live_order_defect_rate"]["rate"] > state.metrics["order_defect_rate"]["rate"]
    assert state.metrics["reconciliation"]["channels"], "the demo carries an account health report"


def test_demo_loads_the_same_seller_again_for_the_same_instant(db):
    load_demo(db, lambda: SAMPLE_NOW)
    first = {table: db[table].count for table in demo_state.DATA_TABLES}
    load_demo(db, lambda: SAMPLE_NOW)
    assert {table: db[table].count for table in demo_state.DATA_TABLES} == first


def test_demo_command_loads_clears_and_refuses_own_data(tmp_path, samples):
    path = str(tmp_path / "demo.db")
    loaded = run("demo", "--db", path)
    assert loaded.returncode == 0 and "Demo seller loaded" in loaded.stdout
    cleared = run("demo", "--db", path, "--clear")
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert run("import", "--db", path, str(samples / "claims.csv")).returncode == 0
    refused = run("demo", "--db", path)
    assert refused.returncode == 1 and "your own reports" in refused.stdout
    nothing = run("demo", "--db", path, "--clear")
    assert "no demo data" in nothing.stdout


def test_demo_loads_at_every_hour_with_the_same_history(new_db):
    """Today's orders depend on the hour; the history, and the defects placed in it, must not."""
    from app.settings import save_setting

    counts = set()
    for zone in ("UTC", "America/Los_Angeles"):
        for hour in range(24):
            db = new_db(f"demo-{zone.replace('/', '-')}-{hour}.db")
            save_setting(db, "timezone", zone)
            at = SAMPLE_NOW - 12 * 3600 + hour * 3600  # every hour of 8 Nov (UTC)
            load_demo(db, lambda at=at: at)
            counts.add(services.refresh(db, lambda at=at: at).metrics["order_defect_rate"]["defective_orders"])
    # The three scripted defects in the lagging window (demo.py), whatever the hour or the zone.
    assert counts == {3}


def test_removing_the_demo_removes_what_it_left_behind_and_keeps_it_away(db, samples):
    from app import alerts
    from app.demo_state import remove
    from app.settings import load_settings

    load_demo(db, lambda: SAMPLE_NOW)
    state = services.refresh(db, lambda: SAMPLE_NOW)
    alerts.save_statuses(db, {key: state.metrics[key] for key in state.metrics if key.endswith("_rate")}, SAMPLE_NOW)
    services.save_last_state(db, state)
    services.complete_session(db, SAMPLE_NOW)
    remove(db)
    assert not demo_state.has_data(db)
    assert services.triage_sessions(db) == [] and alerts.last_statuses(db) == {}
    assert services.load_last_state(db) is None
    assert load_settings(db).demo_on_empty is False  # the next start stays empty
    # The seller's first own triage is their first.
    assert services.load_triage(db, SAMPLE_NOW).session_number == 1
