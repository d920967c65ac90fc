"""Pulling reports from Amazon, step by step on an injected clock, against the local LWA and Reports server:
the figures equal a hand import of the same documents; processing states, throttling, expired tokens and
every failure end as they should; a pull resumes after a restart without asking for a report twice."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import amazon_pull, spapi
from app.settings import load_settings
from storage import open_db
from tests.fake_amazon import (  # noqa: F401 - fake_amazon_fixture is the fake_amazon fixture
    FBA_RETURNS,
    FBM_RETURNS,
    FEEDBACK,
    ORDERS,
    PERFORMANCE,
    closed_port_url,
    default_documents,
    fake_amazon_fixture,
    orders_between,
)

ROOT = Path(__file__).resolve().parents[1]
# The morning after the sample seller's last day (its figures are as of the end of 2026-11-08).
NOW = datetime(2026, 11, 9, 6, 0, tzinfo=UTC).timestamp()
DAY = 86400
ALL_TYPES = (ORDERS, FEEDBACK, FBM_RETURNS, FBA_RETURNS, PERFORMANCE)


@pytest.fixture(autouse=True)
def private_temp(tmp_path, monkeypatch):
    """Documents are downloaded here, so a test can see that none is left behind."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def pull(db, connection, now=NOW, *, limit=200):
    """A whole pull on the injected clock: start it, then step whenever the engine says it is due."""
    amazon_pull.start_pull(db, load_settings(db), now)
    return pull_on(db, connection, now, limit)


def states(db) -> dict[tuple[str, str], str]:
    return {(s.kind, s.marketplace): s.state for s in amazon_pull.report_status(db)}


def errors(db) -> dict[tuple[str, str], str | None]:
    return {(s.kind, s.marketplace): s.last_error for s in amazon_pull.report_status(db)}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


# --- a fresh account ---------------------------------------------------------------------------------------------


def test_a_fresh_account_pulls_five_kinds_for_two_marketplaces_with_the_figures_of_a_hand_import(
    fake_amazon, db, db_path, tmp_path, private_temp
):
    fake_amazon.settings(db)
    connection = fake_amazon.connection()
    assert spapi.test_connection(connection) == "Connected to Amazon (North America): US, CA"

    steps = pull(db, connection)

    assert set(states(db).values()) == {"done"}
    assert len(states(db)) == 10
    assert not any(result.errors for _, result in steps)
    imported = [file for _, result in steps for file in result.imported]
    assert {file.outcome for file in imported} == {"imported"}
    assert not list(private_temp.iterdir())  # every document deleted once imported
    downloads = fake_amazon.calls("download")
    assert downloads and all(call.status == 200 for call in downloads)
    assert not any("x-amz-access-token" in call.headers for call in downloads)

    # The same documents, downloaded by hand and imported with `import --marketplace`.
    hand = tmp_path / "hand"
    hand.mkdir()
    # In the pull's order (CA before US): Amazon's block shows the account-health report imported last.
    for code, marketplace_id in (("CA", "A2EUQ1WTGCTBG2"), ("US", "ATVPDKIKX0DER")):
        files = []
        for report_type in ALL_TYPES:
            data = default_documents()[(report_type, marketplace_id)]
            if report_type == ORDERS:  # an All Orders report of the 90 days the pull covers
                data = orders_between(data, iso(NOW - 90 * DAY), iso(NOW))
            suffix = ".json" if report_type == PERFORMANCE else ".txt"
            files.append(hand / f"{code}-{report_type}{suffix}")
            files[-1].write_bytes(data)
        done = run("import", "--marketplace", code, "--db", str(tmp_path / "hand.db"), *map(str, files))
        assert done.returncode == 0, done.stderr
    db.close()
    pulled = run("metrics", "--json", "--as-of", "2026-11-08", "--db", str(db_path))
    by_hand = run("metrics", "--json", "--as-of", "2026-11-08", "--db", str(tmp_path / "hand.db"))
    assert pulled.returncode == by_hand.returncode == 0, pulled.stderr + by_hand.stderr
    figures = json.loads(pulled.stdout)
    assert set(figures["marketplaces"]) == {"US", "CA"}
    assert figures["order_defect_rate"]["orders"] > 0
    assert without_import_instants(figures) == without_import_instants(json.loads(by_hand.stdout))


def without_import_instants(value):
    """The figures without the instants the account-health reports were stored at (a clock, not the data)."""
    if isinstance(value, dict):
        return {key: without_import_instants(item) for key, item in value.items() if not key.endswith("imported_at")}
    if isinstance(value, list):
        return [without_import_instants(item) for item in value]
    return value


def test_pulling_the_same_reports_again_changes_nothing(fake_amazon, db):
    fake_amazon.settings(db)
    pull(db, fake_amazon.connection())
    again = pull(db, fake_amazon.connection(), NOW + 4 * 3600)
    results = [file for _, result in again for file in result.imported]
    assert len(results) == 10
    assert [(file.file, file.added, file.updated) for file in results if file.added or file.updated] == []


def test_the_first_pull_of_orders_walks_ninety_days_thirty_at_a_time(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    pull(db, fake_amazon.connection(marketplaces=("US",)))
    ranges = [(body["dataStartTime"], body["dataEndTime"]) for body in fake_amazon.created(ORDERS)]
    assert ranges == [
        (iso(NOW - 90 * DAY), iso(NOW - 60 * DAY)),
        (iso(NOW - 60 * DAY), iso(NOW - 30 * DAY)),
        (iso(NOW - 30 * DAY), iso(NOW)),
    ]
    (orders,) = [s for s in amazon_pull.report_status(db) if s.kind == "orders"]
    window = orders_between(default_documents()[(ORDERS, "ATVPDKIKX0DER")], iso(NOW - 90 * DAY), iso(NOW))
    assert orders.imported_rows == len(window.splitlines()) - 1 > 0  # every slice's rows, each once
    others = {body["reportType"]: body for body in fake_amazon.created() if body["reportType"] != ORDERS}
    assert others[FEEDBACK]["dataStartTime"] == iso(NOW - 90 * DAY)
    assert others[FBM_RETURNS]["dataStartTime"] == iso(NOW - 60 * DAY)
    assert others[FBA_RETURNS]["dataStartTime"] == iso(NOW - 60 * DAY)
    assert "dataStartTime" not in others[PERFORMANCE]
    assert all(body["marketplaceIds"] == ["ATVPDKIKX0DER"] for body in fake_amazon.created())


def test_the_next_pull_of_orders_starts_two_days_before_the_last(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    connection = fake_amazon.connection(marketplaces=("US",))
    pull(db, connection)
    later = NOW + 4 * 3600
    pull(db, connection, later)
    last = fake_amazon.created(ORDERS)[-1]
    assert (last["dataStartTime"], last["dataEndTime"]) == (iso(NOW - 2 * DAY), iso(later))
    assert len(fake_amazon.created(ORDERS)) == 4  # three slices, then one
    assert fake_amazon.created(FEEDBACK)[-1]["dataStartTime"] == iso(later - 90 * DAY)
    (orders,) = [s for s in amazon_pull.report_status(db) if s.kind == "orders"]
    assert orders.last_pulled_at == int(later) + 1  # requested at `later`, ready a second after


# --- processing states -------------------------------------------------------------------------------------------


def test_a_report_being_prepared_is_asked_about_after_1_2_4_seconds(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(PERFORMANCE, "IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "DONE")
    steps = pull(db, fake_amazon.connection(marketplaces=("US",)))
    performance = next(r for r in fake_amazon.reports.values() if r.report_type == PERFORMANCE)
    asked = [now for now, result in steps if any(f.kind == "account_health" for f in result.imported)]
    (done_at,) = asked
    # created at NOW; asked at NOW+1 (queued), +3 (in progress), +7 (in progress), +15 (done)
    assert done_at == NOW + 1 + 2 + 4 + 8
    assert performance.states == ["DONE"]
    assert states(db)[("performance", "US")] == "done"


def test_polls_are_never_more_than_a_minute_apart_in_the_first_ten_minutes(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(PERFORMANCE, *["IN_PROGRESS"] * 9, "DONE")
    amazon_pull.start_pull(db, load_settings(db), NOW)
    connection = fake_amazon.connection(marketplaces=("US",))
    now, waits = NOW, []
    for _ in range(11):
        result = amazon_pull.step(db, connection, now)
        (row,) = [s for s in amazon_pull.report_status(db) if s.kind == "performance"]
        if row.state != "requested":
            break
        waits.append(row.next_at - now)
        now = row.next_at
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert result.errors == []


def report_of(db, kind: str, marketplace: str = "US") -> amazon_pull.ReportStatus:
    (status,) = [s for s in amazon_pull.report_status(db) if (s.kind, s.marketplace) == (kind, marketplace)]
    return status


def test_a_report_amazon_never_finishes_is_asked_for_again_after_six_hours(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(FEEDBACK, "IN_QUEUE")  # for ever
    connection = fake_amazon.connection(marketplaces=("US",))
    amazon_pull.start_pull(db, load_settings(db), NOW)
    now, waits, said = NOW, [], []
    while len(fake_amazon.created(FEEDBACK)) < 2:
        assert now < NOW + 7 * 3600, "never asked for again"
        result = amazon_pull.step(db, connection, now)
        said += result.errors
        feedback = report_of(db, "feedback")
        if feedback.state == "requested" and len(fake_amazon.created(FEEDBACK)) == 1:
            waits.append((now - NOW, feedback.next_at - now))
            assert feedback.last_error is None and amazon_pull.failing_for(db, now) is None
        now = result.next_at
    assert amazon_pull.PREPARE_LIMIT_S == 6 * 3600
    sentence = "Amazon has been preparing the Feedback report for US for 6 hours; asked for it again."
    assert said == [f"Feedback US: {sentence}"]
    first, second = (r.report_id for r in fake_amazon.reports.values() if r.report_type == FEEDBACK)
    feedback = report_of(db, "feedback")
    assert (feedback.state, feedback.report_id, feedback.last_error) == ("requested", second, sentence)
    assert amazon_pull.failing_for(db, now) is not None  # the tray can warn
    # a minute apart at most for ten minutes, then five minutes apart
    assert max(wait for at, wait in waits if at < 10 * 60) <= 60
    assert {wait for at, wait in waits if at >= 10 * 60 + 60} == {5 * 60}
    polls = [call for call in fake_amazon.calls("getReport") if call.path.endswith(f"/{first}")]
    assert len(polls) < 100  # not one a minute for six hours (360)


def test_a_report_whose_state_amazon_cannot_say_is_asked_for_again_after_six_hours(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    connection = fake_amazon.connection(marketplaces=("US",))
    amazon_pull.start_pull(db, load_settings(db), NOW)
    amazon_pull.step(db, connection, NOW)  # all five requested
    first = report_of(db, "feedback").report_id
    fake_amazon.broken.add("getReport")
    now = NOW + 1
    for _ in range(10):
        amazon_pull.step(db, connection, now)
        feedback = report_of(db, "feedback")
        if feedback.next_at == now:  # given up: a new one is requested at the next step
            break
        assert feedback.last_error.startswith("Amazon had a problem answering (500")
        now = feedback.next_at
    assert now == NOW + 1 + 6 * 3600  # tried hourly until the limit
    assert feedback.last_error.startswith("Amazon had a problem answering (500")
    assert feedback.last_error.endswith("Asked for the Feedback report for US again after 6 hours.")
    fake_amazon.broken.clear()
    pull_on(db, connection, now)
    assert report_of(db, "feedback").state == "done"
    assert len(fake_amazon.created(FEEDBACK)) == 2 and report_of(db, "feedback").report_id != first


def test_a_cancelled_report_means_no_data_not_an_error(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(FBM_RETURNS, "IN_QUEUE", "CANCELLED")
    steps = pull(db, fake_amazon.connection(marketplaces=("US",)))
    assert states(db)[("fbm_returns", "US")] == "no_data"
    assert errors(db)[("fbm_returns", "US")] is None
    assert not any(result.errors for _, result in steps)
    assert amazon_pull.failing_for(db, NOW + 60) is None
    assert (
        amazon_pull.describe(next(s for s in amazon_pull.report_status(db) if s.kind == "fbm_returns"))
        == "FBM returns US: no data for this period"
    )


def test_a_fatal_report_fails_with_amazons_first_line(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(FEEDBACK, "IN_PROGRESS", "FATAL", fatal_document=b"Report generation failed: internal error\n")
    steps = pull(db, fake_amazon.connection(marketplaces=("US",)))
    sentence = "Amazon could not make the Feedback report: Report generation failed: internal error"
    assert errors(db)[("feedback", "US")] == sentence
    assert states(db)[("feedback", "US")] == "failed"
    assert any(f"Feedback US: {sentence}" in result.errors for _, result in steps)
    assert {state for key, state in states(db).items() if key[0] != "feedback"} == {"done"}
    (feedback,) = [s for s in amazon_pull.report_status(db) if s.kind == "feedback"]
    assert feedback.next_at == pytest.approx(feedback.failing_since + 3600, abs=20)  # tried again in an hour
    assert amazon_pull.failing_for(db, feedback.failing_since + 86400 + 1) > 86400


def test_a_fatal_report_without_a_document(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(PERFORMANCE, "FATAL")
    pull(db, fake_amazon.connection(marketplaces=("US",)))
    assert errors(db)[("performance", "US")] == "Amazon could not make the Account health report."


def test_a_failed_report_succeeds_at_the_retry_and_stops_failing(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(PERFORMANCE, "FATAL")
    connection = fake_amazon.connection(marketplaces=("US",))
    pull(db, connection)
    assert amazon_pull.failing_for(db, NOW + 10) is not None
    fake_amazon.script(PERFORMANCE, "DONE")
    retry = NOW + 3600 + 60
    amazon_pull.step(db, connection, retry)  # due by itself after an hour, without a new pull
    amazon_pull.step(db, connection, retry + 1)
    assert states(db)[("performance", "US")] == "done"
    assert amazon_pull.failing_for(db, retry + 2) is None


# --- throttling and tokens ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "first_wait"), [(True, 1 / 0.0167), (False, 60.0)])
def test_a_throttled_request_waits_and_succeeds_later(fake_amazon, db, header, first_wait):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.throttle("createReport", times=2, header=header)
    amazon_pull.start_pull(db, load_settings(db), NOW)
    connection = fake_amazon.connection(marketplaces=("US",))
    first = amazon_pull.step(db, connection, NOW)
    assert first.errors == []
    # one 429 holds every report waiting to be requested: the same answer would come back
    assert [s.next_at - NOW for s in amazon_pull.report_status(db)] == pytest.approx([first_wait] * 5)
    assert len(fake_amazon.calls("createReport")) == 1
    second = amazon_pull.step(db, connection, first.next_at)
    assert second.errors == []
    assert second.next_at - first.next_at == pytest.approx(2 * first_wait)  # twice in a row: twice as long
    assert set(states(db).values()) == {"idle"}
    third = amazon_pull.step(db, connection, second.next_at)
    assert third.errors == []
    assert set(states(db).values()) == {"requested"}
    assert [call.status for call in fake_amazon.calls("createReport")] == [429, 429, 202, 202, 202, 202, 202]
    steps = pull_on(db, connection, third.next_at)
    assert set(states(db).values()) == {"done"}
    assert not any(result.errors for _, result in steps)


def test_throttled_in_a_row_doubles_the_wait_up_to_fifteen_minutes(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.throttle("createReport", times=6, header=False)
    amazon_pull.start_pull(db, load_settings(db), NOW)
    connection = fake_amazon.connection(marketplaces=("US",))
    now, waits = NOW, []
    for _ in range(6):
        amazon_pull.step(db, connection, now)
        (orders,) = [s for s in amazon_pull.report_status(db) if s.kind == "orders"]
        if orders.state != "idle":
            break
        waits.append(orders.next_at - now)
        now = orders.next_at
    # orders is asked first at every step, so it takes the throttled answers one after another
    assert waits == [60, 120, 240, 480, 900, 900]


def test_a_token_bucket_spreads_the_requests(fake_amazon, db):
    """Amazon's published createReport plan (burst 15, one a minute after): 20 reports still all arrive."""
    clock = [NOW]
    fake_amazon.settings(db, marketplaces=("US", "CA"))
    fake_amazon.limit("createReport", lambda: clock[0], burst=6)
    amazon_pull.start_pull(db, load_settings(db), NOW)
    connection = fake_amazon.connection()
    now = NOW
    for _ in range(300):
        clock[0] = now
        result = amazon_pull.step(db, connection, now)
        assert result.errors == []
        if amazon_pull.pull_finished(db):
            break
        now = result.next_at
    assert set(states(db).values()) == {"done"}
    assert any(call.status == 429 for call in fake_amazon.calls("createReport"))
    assert now - NOW < 30 * 60


def an_hour_later_by_the_wall_clock(monkeypatch) -> None:
    """The access tokens issued so far are an hour old (a laptop that slept)."""
    later = time.time() + 3600
    monkeypatch.setattr(spapi, "token_clock", lambda: later)


def test_an_expired_access_token_is_renewed_and_the_pull_goes_on(fake_amazon, db, monkeypatch):
    fake_amazon.settings(db, marketplaces=("US",))
    connection = fake_amazon.connection(marketplaces=("US",))
    amazon_pull.start_pull(db, load_settings(db), NOW)
    amazon_pull.step(db, connection, NOW)
    an_hour_later_by_the_wall_clock(monkeypatch)
    fake_amazon.expire_next = 1
    steps = pull(db, connection, NOW + 1)
    assert set(states(db).values()) == {"done"}
    assert not any(result.errors for _, result in steps)
    assert len(fake_amazon.access_tokens) == 2
    assert [call.status for call in fake_amazon.calls("getReport")].count(403) == 1


# --- failures ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"client_secret": "amzn1.oa2-cs.v1.old"}, spapi.BAD_CLIENT),
        ({"refresh_token": "Atzr|IwEBrevoked"}, spapi.REVOKED),
    ],
)
def test_bad_credentials_stop_the_whole_pull_with_their_sentence(fake_amazon, db, change, sentence):
    fake_amazon.settings(db)
    steps = pull(db, fake_amazon.connection(**change))
    assert set(states(db).values()) == {"failed"}
    assert set(errors(db).values()) == {sentence}
    assert steps[0][1].errors == [sentence]
    assert len(fake_amazon.calls("token")) == 1  # stopped at the first refusal
    assert not fake_amazon.calls("createReport")


def test_a_missing_role_does_not_sign_in_again_at_every_retry(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.deny_roles.add(FBA_RETURNS)
    connection = fake_amazon.connection(marketplaces=("US",))
    amazon_pull.start_pull(db, load_settings(db), NOW)
    now = NOW
    while now < NOW + 26 * 3600:
        now = max(now + 0.001, amazon_pull.step(db, connection, now).next_at)
    assert errors(db)[("fba_returns", "US")] == spapi.NO_ACCESS
    refused = [call for call in fake_amazon.calls("createReport") if call.status == 403]
    assert len(refused) >= 26  # tried again every hour
    assert len(fake_amazon.calls("token")) == 1  # its token was never old enough to have expired


def test_a_wrong_secret_after_a_good_pull_stops_the_next_pull(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    pull(db, fake_amazon.connection(marketplaces=("US",)))
    steps = pull(db, fake_amazon.connection(marketplaces=("US",), client_secret="amzn1.oa2-cs.v1.old"), NOW + 600)
    assert steps[0][1].errors == [spapi.BAD_CLIENT]
    assert set(errors(db).values()) == {spapi.BAD_CLIENT}


def test_a_missing_role_fails_each_report_it_covers(fake_amazon, db):
    fake_amazon.settings(db)
    fake_amazon.deny_roles.add(FBA_RETURNS)
    pull(db, fake_amazon.connection())
    assert errors(db)[("fba_returns", "US")] == errors(db)[("fba_returns", "CA")] == spapi.NO_ACCESS
    assert {state for (kind, _), state in states(db).items() if kind != "fba_returns"} == {"done"}


def test_a_marketplace_outside_the_region_fails_the_pull_without_a_request(fake_amazon, db):
    fake_amazon.settings(db, region="NA", marketplaces=("US", "CA"))
    pull(db, fake_amazon.connection(region="EU"))
    assert set(errors(db).values()) == {"US, CA are not in the Europe region."}
    assert not fake_amazon.requests


def test_an_unreachable_amazon_fails_the_pull_with_its_sentence(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    nowhere = closed_port_url()
    pull(db, fake_amazon.connection(marketplaces=("US",), endpoint=nowhere, token_endpoint=f"{nowhere}/auth/o2/token"))
    (sentence,) = set(errors(db).values())
    assert sentence.startswith("Amazon could not be reached: ")
    assert set(states(db).values()) == {"failed"}


def test_an_unreachable_amazon_while_a_report_is_prepared_keeps_its_id(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    fake_amazon.script(PERFORMANCE, "IN_PROGRESS", "DONE")
    amazon_pull.start_pull(db, load_settings(db), NOW)
    amazon_pull.step(db, fake_amazon.connection(marketplaces=("US",)), NOW)
    nowhere = closed_port_url()
    away = fake_amazon.connection(marketplaces=("US",), endpoint=nowhere, token_endpoint=f"{nowhere}/auth/o2/token")
    amazon_pull.step(db, away, NOW + 1)
    assert set(states(db).values()) == {"failed"}
    pull(db, fake_amazon.connection(marketplaces=("US",)), NOW + 7200)
    assert set(states(db).values()) == {"done"}
    assert len(fake_amazon.created(PERFORMANCE)) == 1  # the report requested before was collected


def test_a_report_asked_about_again_after_a_failed_pull_is_not_finished_until_it_is_done(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    connection = fake_amazon.connection(marketplaces=("US",))
    pull(db, connection)  # the first pull: orders are one slice from now on
    later = NOW + 4 * 3600
    fake_amazon.script(PERFORMANCE, "IN_PROGRESS", "IN_PROGRESS", "DONE")
    amazon_pull.start_pull(db, load_settings(db), later)
    amazon_pull.step(db, connection, later)  # all five requested
    nowhere = closed_port_url()
    away = fake_amazon.connection(marketplaces=("US",), endpoint=nowhere, token_endpoint=f"{nowhere}/auth/o2/token")
    amazon_pull.step(db, away, later + 1)
    assert set(states(db).values()) == {"failed"}
    unreachable = report_of(db, "performance").last_error
    amazon_pull.start_pull(db, load_settings(db), later + 7200)
    resumed = amazon_pull.step(db, connection, later + 7200)  # four collected, the account health in progress
    performance = report_of(db, "performance")
    assert performance.state == "requested"
    assert performance.last_error == unreachable  # until it is done
    assert not amazon_pull.pull_finished(db) and resumed.busy
    pull_on(db, connection, resumed.next_at)
    assert set(states(db).values()) == {"done"}
    assert set(errors(db).values()) == {None}


# --- a restart ---------------------------------------------------------------------------------------------------


def test_a_pull_interrupted_after_requesting_resumes_without_a_second_request(fake_amazon, db_path):
    first = open_db(db_path)
    fake_amazon.settings(first)
    fake_amazon.script(FEEDBACK, "IN_QUEUE", "IN_PROGRESS", "DONE")
    amazon_pull.start_pull(first, load_settings(first), NOW)
    amazon_pull.step(first, fake_amazon.connection(), NOW)
    requested = {(s.kind, s.marketplace): s.report_id for s in amazon_pull.report_status(first)}
    assert set(states(first).values()) == {"requested"}
    first.close()  # the app quits

    again = open_db(db_path)  # a new start on the same file
    try:
        amazon_pull.start_pull(again, load_settings(again), NOW + 600)  # the start's own pull
        steps = pull_on(again, fake_amazon.connection(), NOW + 600)
        assert set(states(again).values()) == {"done"}
        assert not any(result.errors for _, result in steps)
    finally:
        again.close()
    assert len(fake_amazon.created()) == 10 + 4  # the second and third orders slices of each marketplace
    for (kind, marketplace), report_id in requested.items():
        created = [b for b in fake_amazon.created(amazon_pull.KINDS[kind].report_type, marketplace)]
        assert len(created) == (3 if kind == "orders" else 1)
        assert any(call.path.endswith(f"/reports/{report_id}") for call in fake_amazon.calls("getReport"))


def pull_on(db, connection, now, limit=200):
    """Step an already started pull to its end."""
    steps = []
    for _ in range(limit):
        result = amazon_pull.step(db, connection, now)
        steps.append((now, result))
        if amazon_pull.pull_finished(db) or result.next_at is None:
            return steps
        now = max(now, result.next_at)
    raise AssertionError("the pull never ended")


def test_a_report_amazon_no_longer_knows_is_requested_again(fake_amazon, db):
    fake_amazon.settings(db, marketplaces=("US",))
    connection = fake_amazon.connection(marketplaces=("US",))
    amazon_pull.start_pull(db, load_settings(db), NOW)
    amazon_pull.step(db, connection, NOW)
    fake_amazon.reports.clear()  # kept 90 days at Amazon: a laptop asleep longer finds them gone
    steps = pull_on(db, connection, NOW + 1)
    assert set(states(db).values()) == {"done"}
    assert not any(result.errors for _, result in steps)
    assert len(fake_amazon.created(PERFORMANCE)) == 2


def test_marketplaces_no_longer_chosen_are_forgotten(fake_amazon, db):
    fake_amazon.settings(db)
    pull(db, fake_amazon.connection())
    fake_amazon.settings(db, marketplaces=("US",))
    amazon_pull.start_pull(db, load_settings(db), NOW + 3600)
    assert {marketplace for _, marketplace in states(db)} == {"US"}


# --- secrets -----------------------------------------------------------------------------------------------------


def test_no_secret_reaches_the_database_its_log_or_the_messages(fake_amazon, db, db_path, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # more than --verbose logs
    fake_amazon.settings(db)
    assert spapi.test_connection(fake_amazon.connection())
    an_hour_later_by_the_wall_clock(monkeypatch)
    fake_amazon.expire_next = 1  # a second access token, and a refusal that carries the first one's name
    steps = pull(db, fake_amazon.connection())
    fake_amazon.revoked = True
    spapi.forget_access_tokens()  # hours later: the access token has run out, a new one is refused
    failed = pull(db, fake_amazon.connection(), NOW + 4 * 3600)
    assert failed[0][1].errors == [spapi.REVOKED]
    assert set(states(db).values()) == {"failed"}
    assert "requested report" in caplog.text
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists()  # the database is still open: what it wrote is in its log file
    places = {"database": db_path.read_bytes(), "wal": wal.read_bytes(), "log": caplog.text.encode()}
    places["messages"] = repr([result.errors for _, result in steps + failed]).encode()
    places["status"] = repr([status.to_json() for status in amazon_pull.report_status(db)]).encode()
    secrets = fake_amazon.secrets()
    assert len(fake_amazon.access_tokens) == 2
    assert len(fake_amazon.signatures) >= 10  # every pre-signed address given out
    for secret in secrets:
        for where, data in places.items():
            assert secret.encode() not in data, f"a secret was found in the {where}"


@pytest.fixture
def library_logging_its_requests():
    """The client library as a release without its own log level would be: its request lines (headers with
    the access token, answers with pre-signed addresses) at DEBUG, left to its parent logger."""
    requests = logging.getLogger("sp_api.base.client")
    level = requests.level
    requests.setLevel(logging.NOTSET)
    try:
        yield
    finally:
        requests.setLevel(level)


@pytest.mark.usefixtures("library_logging_its_requests")
def test_the_client_librarys_request_lines_never_reach_the_log(fake_amazon, db, caplog):
    caplog.set_level(logging.DEBUG)
    fake_amazon.settings(db, marketplaces=("US",))
    assert spapi.test_connection(fake_amazon.connection(marketplaces=("US",)))
    pull(db, fake_amazon.connection(marketplaces=("US",)))
    assert set(states(db).values()) == {"done"}
    assert fake_amazon.access_tokens and fake_amazon.signatures
    for secret in fake_amazon.secrets():
        assert secret not in caplog.text
