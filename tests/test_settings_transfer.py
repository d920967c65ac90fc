"""Settings export and import through the command line, between two real databases: settings and customised
matrix rows (templates included) make the trip, secrets and per-computer settings do not, and a bad file
leaves the target as it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app import services, triage
from app.settings import load_settings
from storage import open_db
from storage.settings import read_settings

MAIN = str(Path(__file__).resolve().parents[1] / "main.py")
TEMPLATE = "Hello {buyer_first_name},\n\nYour parcel for order {order_id} is on its way.\n\nKind regards"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MAIN, *args], capture_output=True, text=True, timeout=120)


def configure(db: Path, *pairs: tuple[str, str]) -> None:
    for key, value in pairs:
        assert run("--db", str(db), "config", "set", key, value).returncode == 0


def snapshot(path: Path) -> tuple[dict, list]:
    db = open_db(path)
    try:
        return read_settings(db), list(db.query('SELECT * FROM triage_matrix ORDER BY category, "case"'))
    finally:
        db.close()


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "laptop.db"
    configure(
        path,
        ("timezone", "Europe/Berlin"),
        ("marketplace", "DE"),
        ("alert_thresholds_hours", "[12, 3]"),
        ("imap_user", "shop@example.com"),
        ("watch_folder", str(tmp_path)),
        ("triage_reminder", "Tue 08:30"),
    )
    db = open_db(path)
    services.save_matrix_entry(db, "delivery_issue", "Call the courier", "Sam", 12, 30, template=TEMPLATE)
    services.save_matrix_entry(db, "safet_claim", "File it", "Owner", 48)  # the shipped template
    db.close()
    return path


def test_settings_and_templates_round_trip_between_two_databases(tmp_path, source):
    exported = tmp_path / "settings.json"
    done = run("--db", str(source), "config", "export", str(exported))
    assert done.returncode == 0, done.stderr
    assert "Exported 5 settings and 2 matrix rows" in done.stdout  # watch_folder stays behind
    data = json.loads(exported.read_text(encoding="utf-8"))
    assert data["version"] == 1 and "watch_folder" not in data["settings"]
    assert data["settings"]["timezone"] == "Europe/Berlin"
    assert not any("password" in key or "secret" in key or "token" in key for key in data["settings"])

    target = tmp_path / "desktop.db"
    configure(target, ("feedback_removal_days", "60"), ("watch_folder", str(tmp_path / "elsewhere")))
    done = run("--db", str(target), "config", "import", str(exported))
    assert done.returncode == 0, done.stderr
    assert "5 settings and 2 matrix rows" in done.stdout

    db = open_db(target)
    settings = load_settings(db)
    assert (settings.timezone, settings.marketplace, settings.triage_reminder) == ("Europe/Berlin", "DE", "Tue 08:30")
    assert settings.alert_thresholds_hours == [12, 3] and settings.imap_user == "shop@example.com"
    assert settings.feedback_removal_days == 90  # not in the file: back to the default
    assert settings.watch_folder == str(tmp_path / "elsewhere")  # this computer's own folder stays
    matrix = {(entry.category, entry.case): entry for entry in services.get_matrix(db)}
    db.close()
    delivery = matrix[("delivery_issue", "")]
    assert (delivery.action, delivery.who, delivery.response_hours, delivery.amount) == (
        "Call the courier",
        "Sam",
        12,
        30,
    )
    assert delivery.template == TEMPLATE
    assert matrix[("safet_claim", "")].template == triage.default_matrix()[("safet_claim", "")].template
    assert snapshot(target)[1][1]["template"] is None  # stored as the shipped one, not a copy of it
    listed = run("--db", str(target), "triage", "matrix")
    assert "Your parcel for order {order_id} is on its way." in listed.stdout


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["settings"].update(timezone="Mars/Olympus"), "timezone"),
        (lambda d: d["settings"].update(alert_thresholds_hours=[-2]), "alert_thresholds_hours"),
        (lambda d: d["matrix"][0].update(template="Hi {buyer}"), "{buyer}"),
        (lambda d: d["matrix"][0].update(response_hours="soon"), "soon"),
        (lambda d: d.update(version=2), "newer version"),
        (lambda d: d["settings"].update(colour="blue"), "colour"),
    ],
)
def test_a_bad_file_is_refused_and_leaves_the_target_unchanged(tmp_path, source, change, named):
    exported = tmp_path / "settings.json"
    assert run("--db", str(source), "config", "export", str(exported)).returncode == 0
    data = json.loads(exported.read_text(encoding="utf-8"))
    change(data)
    exported.write_text(json.dumps(data), encoding="utf-8")
    target = tmp_path / "desktop.db"
    configure(target, ("feedback_removal_days", "60"))
    db = open_db(target)
    services.save_matrix_entry(db, "chargeback", "Answer", "Me", 100, template="Order {order_id}: proof attached.")
    db.close()
    before = snapshot(target)
    done = run("--db", str(target), "config", "import", str(exported))
    assert done.returncode != 0
    assert done.stderr.startswith("error: ") and named in done.stderr and "Traceback" not in done.stderr
    assert snapshot(target) == before


def test_a_file_that_is_not_a_settings_file_is_said_so(tmp_path):
    other = tmp_path / "orders.json"
    other.write_text('{"orders": []}', encoding="utf-8")
    done = run("--db", str(tmp_path / "x.db"), "config", "import", str(other))
    assert done.returncode != 0 and "not a settings file" in done.stderr
    done = run("--db", str(tmp_path / "x.db"), "config", "import", str(tmp_path / "missing.json"))
    assert done.returncode != 0 and "missing.json" in done.stderr and "Traceback" not in done.stderr
