"""The sample seller and the demo seller through triage: the samples' negative feedback gets exactly the
removal grounds of expected.json as of 2026-11-08, the demo's scripted feedback the grounds it was written
for; and `main.py triage` as a separate process (JSON shape, text, exports, workflow commands)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import services
from app.demo import NEGATIVE_FEEDBACK, load_demo
from app.timeutil import end_of_day
from tests.builders import at

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 8)
ITEM_KEYS = {"kind", "order_id", "date", "category", "suggested_action", "odr_effect"}


@pytest.fixture
def expected(samples) -> dict:
    return json.loads((samples / "expected.json").read_text())


def negative_feedback_grounds(items: list[dict]) -> dict:
    return {
        item["order_id"]: item["removal"]["ground"]
        for item in items
        if item["kind"] == "feedback" and item["details"]["rating"] <= 2
    }


def test_the_samples_negative_feedback_gets_exactly_the_expected_grounds(sample_db, expected):
    assert expected["as_of"] == AS_OF.isoformat()
    listing = services.load_triage(sample_db, end_of_day(AS_OF, ZoneInfo("UTC")), since=date(2026, 5, 1))
    items = [item.to_json(listing.at) for item in listing.items]
    assert negative_feedback_grounds(items) == expected["removal"]
    for item in items:
        if item["kind"] == "feedback" and item["removal"]["ground"]:
            assert item["removal"]["eligible"] is True
            assert item["odr_effect"].startswith("would drop out if")


def test_the_demo_s_scripted_feedback_gets_the_grounds_it_was_written_for(db):
    now = at("2026-11-09 10:00")
    load_demo(db, lambda: now)
    listing = services.load_triage(db, now, since=date(2026, 6, 1))
    grounds = {
        item.details["comments"]: (item.channel, item.removal["ground"])
        for item in listing.items
        if item.kind == "feedback"
    }
    scripted = {fb.comment: grounds[fb.comment] for fb in NEGATIVE_FEEDBACK}
    assert scripted == {
        "Seller never answered my messages and the package was late.": ("FBM", None),
        "Package arrived late and the box was crushed by the courier.": ("FBA", "fba_fulfillment"),
        "Still waiting for a refund, call me on 415-555-0199 or jo.b@example.com": ("FBM", "personal_info"),
        "The lamp flickers and the switch feels cheap.": ("FBM", "product_review"),
        "What a sh!tty seller, never again": ("FBA", "obscene"),
    }
    # A first look at the demo has something of most kinds in its week.
    week = services.load_triage(db, now)
    assert {"feedback", "message", "a_to_z_claim", "chargeback", "return_request"} <= {i.kind for i in week.items}


# --- The command line -------------------------------------------------------------------------------------------


def run(db_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args, "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_json_shape(sample_db, db_path, expected):
    done = run(db_path, "triage", "--as-of", "2026-11-08", "--since", "2026-05-01", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    items = document["items"]
    assert items and all(set(item) >= ITEM_KEYS for item in items)
    assert all(isinstance(item["suggested_action"], str) and item["suggested_action"] for item in items)
    assert all(item["date"] <= "2026-11-08" for item in items)
    for item in items:
        if item["kind"] == "feedback":
            removal = item["removal"]
            assert set(removal) == {"eligible", "ground", "window_closes"}
            assert isinstance(removal["eligible"], bool)
            assert removal["ground"] in (None, "obscene", "personal_info", "product_review", "fba_fulfillment")
            assert date.fromisoformat(removal["window_closes"]) > date.fromisoformat(item["date"])
        if item["clock"] is not None:
            assert item["clock"]["due_at"].endswith("Z") and isinstance(item["clock"]["remaining_s"], float)
    assert negative_feedback_grounds(items) == expected["removal"]
    assert document["session"]["window_reason"] == "given" and document["counts"]["total"] == len(items)


def test_cli_default_window_and_text(sample_db, db_path):
    done = run(db_path, "triage", "--as-of", "2026-11-08", "--json")
    document = json.loads(done.stdout)
    assert document["session"] == {
        "number": 1,
        "window_start": "2026-11-02",
        "window_end": "2026-11-08",
        "window_reason": "first",
        "last_completed_at": None,
    }
    overdue = [item for item in document["items"] if item["clock"] and item["clock"]["remaining_s"] < 0]
    assert {item["order_id"] for item in overdue} >= {"112-6891537-1857155"}  # the open A-to-z claim
    text = run(db_path, "triage", "--as-of", "2026-11-08")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Triage 1: 2026-11-02 to 2026-11-08")
    assert "[open]" in text.stdout and "→ " in text.stdout and "ODR: counts" in text.stdout


def test_cli_exports(sample_db, db_path, tmp_path):
    csv_file, html_file = tmp_path / "triage.csv", tmp_path / "triage.html"
    args = ("triage", "--as-of", "2026-11-08", "--since", "2026-10-01", "--csv", str(csv_file), "--html")
    done = run(db_path, *args, str(html_file))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(csv_file.read_text(encoding="utf-8-sig").splitlines()))
    assert rows and {"key", "suggested_action", "removal_ground"} <= set(rows[0])
    page = html_file.read_text(encoding="utf-8")
    assert "<svg" in page and page.count("<tr class=") == len(rows)


def test_cli_workflow_commands(sample_db, db_path):
    key = "feedback:112-3514237-0710614"
    done = run(db_path, "triage", "resolve", key, "--action", "Requested removal (obscene)", "--note", "Case 123")
    assert done.returncode == 0, done.stderr
    listed = json.loads(run(db_path, "triage", "--as-of", "2026-11-08", "--since", "2026-09-01", "--json").stdout)
    [item] = [i for i in listed["items"] if i["key"] == key]
    assert item["status"] == "resolved" and item["resolution"]["action"] == "Requested removal (obscene)"
    history = run(db_path, "triage", "history", "112-3514237-0710614")
    assert "Requested removal (obscene) — Case 123" in history.stdout
    assert run(db_path, "triage", "reopen", key).stdout.startswith("Reopened")
    assert run(db_path, "triage", "category", key, "delivery_issue").returncode == 0
    assert "Delivery issue" in run(db_path, "triage", "matrix").stdout
    missing = run(db_path, "triage", "resolve", "feedback:000-0000000-0000000", "--action", "x")
    assert missing.returncode == 2 and "no triage item" in missing.stderr
    bad = run(db_path, "triage", "--as-of", "8/11/26")
    assert bad.returncode == 2 and "2026-11-08" in bad.stderr
