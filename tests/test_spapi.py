"""The connection to Amazon's Selling Partner API: "Test connection" says plainly what is wrong, against a
local LWA and Reports server; the settings refuse what cannot work; the secrets are kept apart."""

from __future__ import annotations

import time

import pytest

from app import spapi
from app.settings import SettingError, load_settings, save_setting
from tests.fake_amazon import FBA_RETURNS, closed_port_url, fake_amazon_fixture  # noqa: F401 - the fake_amazon fixture

# --- test connection ---------------------------------------------------------------------------------------------


def test_a_working_connection_says_where_it_is_connected(fake_amazon):
    assert spapi.test_connection(fake_amazon.connection()) == "Connected to Amazon (North America): US, CA"
    (token,) = fake_amazon.calls("token")
    assert b"grant_type=refresh_token" in token.body
    listed = fake_amazon.calls("getReports")
    # every type the pull asks for, so a role missing for any of them is named now
    assert [call.query["reportTypes"] for call in listed] == [[",".join(spapi.REPORT_TYPES)]] * 2
    assert len(spapi.REPORT_TYPES) == 5
    assert all(call.headers["x-amz-access-token"] == fake_amazon.access_tokens[0] for call in listed)


def test_a_wrong_client_secret_is_named(fake_amazon):
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection(client_secret="amzn1.oa2-cs.v1.rotated"))
    assert problem.value.sentence == spapi.BAD_CLIENT
    assert problem.value.stops_pull
    assert not fake_amazon.calls("getReports")


@pytest.mark.parametrize(
    "change", [{"client_secret": "amzn1.oa2-cs.v1.rotated"}, {"client_id": "amzn1.application-oa2-client.typo"}]
)
def test_a_wrong_secret_after_a_good_test_is_named(fake_amazon, change):
    """Amazon makes sellers rotate the client secret: a test after a good one must not reuse its access token."""
    assert spapi.test_connection(fake_amazon.connection(marketplaces=("US",)))
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection(marketplaces=("US",), **change))
    assert problem.value.sentence == spapi.BAD_CLIENT
    assert [call.status for call in fake_amazon.calls("token")] == [200, 401]


def test_each_test_signs_in_afresh(fake_amazon):
    for _ in range(2):
        assert spapi.test_connection(fake_amazon.connection())
    assert len(fake_amazon.calls("token")) == 2  # one per test, shared by its two marketplaces


def test_a_revoked_refresh_token_is_named(fake_amazon):
    fake_amazon.revoked = True
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection())
    assert problem.value.sentence == spapi.REVOKED
    assert "authorise the app again in Seller Central" in str(problem.value)


def test_a_missing_role_is_named_without_signing_in_twice(fake_amazon):
    fake_amazon.deny_roles.add("*")
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection())
    assert problem.value.sentence == spapi.NO_ACCESS
    # the test's token is brand new: the refusal cannot mean it expired
    assert len(fake_amazon.calls("getReports")) == 1
    assert len(fake_amazon.access_tokens) == 1


def test_a_role_missing_for_one_report_type_is_named(fake_amazon):
    fake_amazon.deny_roles.add(FBA_RETURNS)
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection(marketplaces=("US",)))
    assert problem.value.sentence == spapi.NO_ACCESS
    assert "lacks a role" in problem.value.sentence


def test_a_marketplace_outside_the_region_is_refused_before_any_request(fake_amazon):
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection(region="EU", marketplaces=("UK", "CA")))
    assert problem.value.sentence == "CA is not in the Europe region."
    assert not fake_amazon.requests


def test_an_unreachable_server_is_named(fake_amazon):
    nowhere = closed_port_url()
    with pytest.raises(spapi.AmazonProblem) as problem:
        spapi.test_connection(fake_amazon.connection(endpoint=nowhere, token_endpoint=f"{nowhere}/auth/o2/token"))
    assert problem.value.sentence.startswith("Amazon could not be reached: ")
    assert problem.value.stops_pull


def test_an_expired_access_token_is_renewed_once(fake_amazon, monkeypatch):
    connection = fake_amazon.connection(marketplaces=("US",))
    with spapi.ReportsApi(connection, "US") as api:
        api.get_reports([FBA_RETURNS])  # a token is cached
    later = time.time() + 3600  # by the wall clock: a laptop asleep for an hour
    monkeypatch.setattr(spapi, "token_clock", lambda: later)
    fake_amazon.expire_next = 1
    with spapi.ReportsApi(connection, "US") as api:
        api.get_reports([FBA_RETURNS])
    answers = [call.status for call in fake_amazon.calls("getReports")]
    assert answers == [200, 403, 200]
    assert len(fake_amazon.access_tokens) == 2


def test_a_fresh_access_token_refused_is_a_missing_role(fake_amazon):
    """Only a token old enough to have expired is renewed: a new one refused means a role is missing."""
    connection = fake_amazon.connection(marketplaces=("US",))
    with spapi.ReportsApi(connection, "US") as api:
        api.get_reports([FBA_RETURNS])
        fake_amazon.expire_next = 1
        with pytest.raises(spapi.AmazonProblem) as problem:
            api.get_reports([FBA_RETURNS])
    assert problem.value.sentence == spapi.NO_ACCESS
    assert len(fake_amazon.access_tokens) == 1


def test_a_throttled_connection_test_still_connects(fake_amazon):
    fake_amazon.throttle("getReports", header=False)
    assert spapi.test_connection(fake_amazon.connection(marketplaces=("US",))).startswith("Connected to Amazon")


def test_a_role_missing_for_one_report_fails_only_that_report(fake_amazon):
    fake_amazon.deny_roles.add(FBA_RETURNS)
    with spapi.ReportsApi(fake_amazon.connection(), "US") as api:
        assert api.create_report("GET_SELLER_FEEDBACK_DATA", "2026-08-01T00:00:00Z", "2026-11-01T00:00:00Z")
        with pytest.raises(spapi.AmazonProblem) as problem:
            api.create_report(FBA_RETURNS, "2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z")
    assert problem.value.sentence == spapi.NO_ACCESS
    assert not problem.value.stops_pull


# --- throttling --------------------------------------------------------------------------------------------------


def test_the_wait_after_a_throttled_answer_follows_the_rate_header():
    assert spapi.throttle_wait("createReport", {"x-amzn-RateLimit-Limit": "0.5"}) == 2.0
    assert spapi.throttle_wait("getReport", {"x-amzn-RateLimit-Limit": "2.0"}) == 0.5


@pytest.mark.parametrize(("operation", "wait"), [("createReport", 60), ("getReport", 0.5), ("getReportDocument", 60)])
def test_without_a_rate_header_the_published_rate_is_used(operation, wait):
    assert spapi.throttle_wait(operation, {}) == wait
    assert spapi.throttle_wait(operation, {"x-amzn-RateLimit-Limit": "none"}) == wait


def test_a_throttled_answer_is_not_a_problem(fake_amazon):
    fake_amazon.throttle("createReport", header=True)
    with spapi.ReportsApi(fake_amazon.connection(), "US") as api, pytest.raises(spapi.Throttled) as throttled:
        api.create_report("GET_V2_SELLER_PERFORMANCE_REPORT", None, None)
    assert throttled.value.wait == pytest.approx(1 / 0.0167)
    assert not isinstance(throttled.value, spapi.AmazonProblem)


# --- settings and secrets ----------------------------------------------------------------------------------------


def test_region_and_marketplaces_must_fit_whichever_is_set_last(db):
    save_setting(db, "amazon_marketplaces", "US, ca")
    assert load_settings(db).amazon_marketplaces == ["US", "CA"]
    with pytest.raises(SettingError) as refused:
        save_setting(db, "amazon_region", "EU")
    assert refused.value.problem == "US, CA are not in the Europe region"
    save_setting(db, "amazon_region", "na")
    with pytest.raises(SettingError) as refused:
        save_setting(db, "amazon_marketplaces", ["US", "DE"])
    assert refused.value.problem == "DE is not in the North America region"
    assert load_settings(db).amazon_region == "NA"


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("amazon_endpoint", "http://127.0.0.1:8443/", "http://127.0.0.1:8443"),
        ("amazon_endpoint", "https://sellingpartnerapi-eu.amazon.com", "https://sellingpartnerapi-eu.amazon.com"),
        ("amazon_endpoint", "", ""),
        ("amazon_token_endpoint", "http://localhost:9000/auth/o2/token", "http://localhost:9000/auth/o2/token"),
    ],
)
def test_endpoints_accepted(db, key, value, stored):
    assert save_setting(db, key, value) == stored


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("amazon_endpoint", "http://sellingpartnerapi-na.amazon.com", "plain http is only allowed to this computer"),
        ("amazon_endpoint", "https://example.com/reports", "only a scheme, a server and a port"),
        ("amazon_endpoint", "ftp://example.com", "is not an address"),
        ("amazon_token_endpoint", "http://10.0.0.5/auth/o2/token", "plain http is only allowed"),
        ("amazon_region", "US", "is not a region"),
        ("amazon_marketplaces", "US,XX", "is not a marketplace code"),
        ("amazon_pull_hours", 0.5, "between 1 hour and 168"),
    ],
)
def test_settings_that_cannot_work_are_refused(db, key, value, words):
    with pytest.raises(SettingError) as refused:
        save_setting(db, key, value)
    assert words in refused.value.problem


class MemoryPasswords:
    def __init__(self):
        self.kept = {}

    def get(self, user, host):
        return self.kept.get(f"{user}@{host}")

    def set(self, user, host, password):
        self.kept[f"{user}@{host}"] = password

    def delete(self, user, host):
        self.kept.pop(f"{user}@{host}", None)


def test_secrets_are_kept_under_the_accounts_connection_id(db):
    save_setting(db, "amazon_region", "NA")
    save_setting(db, "amazon_marketplaces", "US")
    save_setting(db, "amazon_connection_id", "c0ffee")
    passwords = MemoryPasswords()
    spapi.store_credentials(passwords, "c0ffee", client_id="id-1", client_secret="secret-1", refresh_token="Atzr|1")
    assert set(passwords.kept) == {f"amazon-lwa:c0ffee@{name}" for name in spapi.SECRET_NAMES}
    spapi.store_credentials(passwords, "c0ffee", client_secret="", refresh_token="Atzr|2")  # blank keeps
    connection = spapi.connection_from(load_settings(db), passwords, environ={})
    assert connection.credentials == spapi.Credentials("id-1", "secret-1", "Atzr|2")
    assert "secret-1" not in repr(connection) and "Atzr" not in repr(connection.credentials)
    other_account = spapi.connection_from(load_settings(db), MemoryPasswords(), environ={})
    assert other_account is None


def test_the_connection_id_is_made_once(db):
    made = spapi.connection_id(db)
    assert len(made) == 16 and made == spapi.connection_id(db) == load_settings(db).amazon_connection_id


def test_the_environment_wins_when_all_three_are_set(db):
    save_setting(db, "amazon_region", "NA")
    save_setting(db, "amazon_marketplaces", "US")
    environ = {"AHM_LWA_CLIENT_ID": "env-id", "AHM_LWA_CLIENT_SECRET": "env-secret", "AHM_LWA_REFRESH_TOKEN": "Atzr|e"}
    connection = spapi.connection_from(load_settings(db), MemoryPasswords(), environ=environ)
    assert connection.credentials == spapi.Credentials("env-id", "env-secret", "Atzr|e")
    del environ["AHM_LWA_REFRESH_TOKEN"]
    assert spapi.connection_from(load_settings(db), MemoryPasswords(), environ=environ) is None


def test_no_region_means_no_connection(db):
    environ = {"AHM_LWA_CLIENT_ID": "i", "AHM_LWA_CLIENT_SECRET": "s", "AHM_LWA_REFRESH_TOKEN": "r"}
    assert spapi.connection_from(load_settings(db), None, environ=environ) is None
