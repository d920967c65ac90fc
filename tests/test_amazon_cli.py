"""`main.py amazon pull|test|status` as a headless script runs them: settings from `config set`, the secrets
from AHM_LWA_* (no keyring), the local LWA and Reports server; and no secret in the database or the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fake_amazon import fake_amazon_fixture  # noqa: F401 - the fake_amazon fixture

ROOT = Path(__file__).resolve().parents[1]
SECRET_VARIABLES = ("AHM_LWA_CLIENT_ID", "AHM_LWA_CLIENT_SECRET", "AHM_LWA_REFRESH_TOKEN")


def run(db_path: Path, *args: str, environ: dict | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in SECRET_VARIABLES}
    env |= {"NO_PROXY": "127.0.0.1,localhost", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    env |= environ or {}
    return subprocess.run(
        [sys.executable, "main.py", *args, "--db", str(db_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def configure(db_path: Path, fake) -> None:
    for key, value in (
        ("amazon_endpoint", fake.base_url),
        ("amazon_token_endpoint", fake.token_url),
        ("amazon_region", "NA"),
        ("amazon_marketplaces", "US,CA"),
    ):
        done = run(db_path, "config", "set", key, value)
        assert done.returncode == 0, done.stderr


def test_a_pull_from_the_command_line_brings_every_report_and_leaves_no_secret(fake_amazon, db_path):
    configure(db_path, fake_amazon)
    done = run(db_path, "--verbose", "amazon", "pull", "--json", environ=fake_amazon.environ())
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is True
    reports = {(r["kind"], r["marketplace"]): r for r in answer["reports"]}
    kinds = ("orders", "feedback", "fbm_returns", "fba_returns", "performance")
    assert set(reports) == {(kind, code) for kind in kinds for code in ("US", "CA")}
    assert {r["state"] for r in reports.values()} == {"done"}
    assert all(r["error"] is None and r["report_id"] for r in reports.values())
    assert reports[("feedback", "US")]["imported_rows"] == 84
    assert "requested report" in done.stderr  # --verbose logged the pull

    status = run(db_path, "amazon", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert {r["state"] for r in json.loads(status.stdout)["reports"]} == {"done"}

    metrics = run(db_path, "metrics", "--json", "--as-of", "2026-11-08")
    assert set(json.loads(metrics.stdout)["marketplaces"]) == {"US", "CA"}

    secrets = fake_amazon.secrets()
    assert len(secrets) >= 4  # three secrets and at least one access token
    stored = [path for path in db_path.parent.iterdir() if path.name.startswith(db_path.name)]
    assert stored
    texts = {path.name: path.read_bytes() for path in stored}
    texts |= {
        "pull stdout": done.stdout.encode(),
        "pull stderr": done.stderr.encode(),
        "status": status.stdout.encode(),
    }
    for secret in secrets:
        for where, data in texts.items():
            assert secret.encode() not in data, f"a secret was found in {where}"


def test_a_pull_prints_progress_lines(fake_amazon, db_path):
    configure(db_path, fake_amazon)
    run(db_path, "config", "set", "amazon_marketplaces", "US")
    done = run(db_path, "amazon", "pull", environ=fake_amazon.environ())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Feedback US: done, 84 rows" in lines
    assert any(line.startswith("performance-US-") and "account health report" in line for line in lines)


def test_without_a_connection_the_pull_says_what_to_set(db_path):
    done = run(db_path, "amazon", "pull")
    assert done.returncode == 1
    assert done.stderr.startswith("error: no Amazon connection: set amazon_region and amazon_marketplaces")
    assert "Settings → Amazon connection" in done.stderr
    assert done.stdout == ""


def test_without_the_secrets_the_pull_says_what_to_set(fake_amazon, db_path):
    configure(db_path, fake_amazon)
    environ = fake_amazon.environ()
    del environ["AHM_LWA_CLIENT_SECRET"]
    done = run(db_path, "amazon", "pull", environ=environ)
    assert done.returncode == 1
    assert "AHM_LWA_CLIENT_SECRET" in done.stderr
    assert not fake_amazon.requests


def test_amazon_test_says_whether_the_connection_works(fake_amazon, db_path):
    configure(db_path, fake_amazon)
    works = run(db_path, "amazon", "test", environ=fake_amazon.environ())
    assert (works.returncode, works.stdout) == (0, "Connected to Amazon (North America): US, CA\n")
    wrong = run(db_path, "amazon", "test", environ=fake_amazon.environ() | {"AHM_LWA_CLIENT_SECRET": "old-secret"})
    assert wrong.returncode == 1
    assert wrong.stdout == "The client id or client secret is wrong: copy both again from the app's LWA credentials.\n"


def test_a_failed_pull_exits_1_with_the_sentence(fake_amazon, db_path):
    configure(db_path, fake_amazon)
    fake_amazon.revoked = True
    done = run(db_path, "amazon", "pull", "--json", environ=fake_amazon.environ())
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert answer["ok"] is False
    assert {r["state"] for r in answer["reports"]} == {"failed"}
    assert {r["error"] for r in answer["reports"]} == {
        "The refresh token was revoked or is wrong: authorise the app again in Seller Central."
    }


def test_status_before_any_pull(db_path):
    done = run(db_path, "amazon", "status")
    assert (done.returncode, done.stdout) == (0, "Nothing pulled from Amazon yet.\n")
