"""Amazon's Selling Partner API, as the monitor uses it: the Reports API 2021-06-30, signed in with the seller's
own Login with Amazon (LWA) credentials.

This is the only module that talks to the client library (python-amazon-sp-api): everything it raises is
turned into one of three things here, so the rest of the monitor never sees an HTTP error:
  - `AmazonProblem(sentence)`: what went wrong, in words a seller can act on (`stops_pull` when every other
    report would fail the same way: a wrong secret, a revoked token, Amazon out of reach);
  - `Throttled(wait)`: Amazon asked us to slow down; not a failure;
  - the answer itself, checked for the fields the monitor needs.

Secrets (client id, client secret, refresh token) come from the system keyring or from the environment; they
are never logged, never part of a message and never written to the database.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import os
import secrets as random_ids
import ssl
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sp_api.api import Reports
from sp_api.auth import AccessTokenClient
from sp_api.auth import access_token_client as token_cache_module
from sp_api.auth._core import build_cache_key
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import (
    SellingApiException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
)
from sp_api.base.credential_provider import FromCodeCredentialProvider

from app.amazon import MARKETPLACE_IDS
from app.settings import AMAZON_REGIONS, amazon_region_problem, load_settings, save_setting
from storage.transaction import write_transaction

# httpx logs every URL it fetches at INFO, and the client library logs each request's headers (the access token)
# and each answer (a report document's pre-signed address) at DEBUG: none of that may reach a log file. The
# library sets its own request logger to INFO when imported; a release without that line would fall back on
# "sp_api", so both are held at WARNING.
for _name in ("httpx", "httpcore", "sp_api", "sp_api.base.client"):
    logging.getLogger(_name).setLevel(logging.WARNING)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    endpoint: str
    marketplaces: tuple[str, ...]


REGIONS = {
    code: Region(code, name, f"https://sellingpartnerapi-{code.lower()}.amazon.com", members)
    for code, (name, members) in AMAZON_REGIONS.items()
}
# The same sign-in service for every region.
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"

# The reports the monitor pulls (app.amazon_pull says what each is for); Test connection asks about all five.
ORDERS_REPORT = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
FEEDBACK_REPORT = "GET_SELLER_FEEDBACK_DATA"
FBM_RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_RETURNS_REPORT = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
PERFORMANCE_REPORT = "GET_V2_SELLER_PERFORMANCE_REPORT"
REPORT_TYPES = (ORDERS_REPORT, FEEDBACK_REPORT, FBM_RETURNS_REPORT, FBA_RETURNS_REPORT, PERFORMANCE_REPORT)

# How long to wait after a throttled answer that has no rate header: one over each operation's published rate.
THROTTLE_WAIT_S = {"createReport": 60.0, "getReport": 0.5, "getReportDocument": 60.0, "getReports": 45.0}
API_TIMEOUT_S = 30.0
# Amazon's access tokens last an hour: one younger than this cannot have expired, so a refusal with it means a
# missing role, and signing in again would only ask the sign-in service for the same answer.
FRESH_TOKEN_S = 10 * 60
DOWNLOAD_TIMEOUT_S = 120.0

# The keyring holds the three secrets under the account's connection id (a random name kept in the
# database), so two seller accounts on one computer keep their own.
KEYRING_USER = "amazon-lwa:{connection_id}"
SECRET_NAMES = ("client_id", "client_secret", "refresh_token")
ENVIRONMENT = {
    "client_id": "AHM_LWA_CLIENT_ID",
    "client_secret": "AHM_LWA_CLIENT_SECRET",
    "refresh_token": "AHM_LWA_REFRESH_TOKEN",
}

BAD_CLIENT = "The client id or client secret is wrong: copy both again from the app's LWA credentials."
REVOKED = "The refresh token was revoked or is wrong: authorise the app again in Seller Central."
NO_ACCESS = "Amazon refused access: the app lacks a role, or is not authorised for this account or region."
NOT_CONFIGURED = (
    "no Amazon connection: set amazon_region and amazon_marketplaces (config set), and the client id, client "
    "secret and refresh token (Settings → Amazon connection, or AHM_LWA_CLIENT_ID, AHM_LWA_CLIENT_SECRET and "
    "AHM_LWA_REFRESH_TOKEN)"
)


class AmazonProblem(Exception):
    """Why Amazon could not be used, in one sentence for the seller.

    `stops_pull`: every other request would fail the same way (credentials, network), so a pull stops.
    """

    def __init__(self, sentence: str, *, stops_pull: bool = False):
        super().__init__(sentence)
        self.sentence = sentence
        self.stops_pull = stops_pull


class ReportGone(AmazonProblem):
    """Amazon no longer knows a report id (reports are kept 90 days, order reports 30): request a new one."""


class Throttled(Exception):
    """Amazon answered 429: wait `wait` seconds (from its rate header, else the operation's published rate)."""

    def __init__(self, operation: str, wait: float):
        super().__init__(f"{operation}: throttled, wait {wait:g} s")
        self.operation = operation
        self.wait = wait


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:  # a dataclass would print the secrets in any traceback or log line
        return "Credentials(…)"


@dataclass(frozen=True)
class Connection:
    """Where and as whom the monitor talks to Amazon. `endpoint`/`token_endpoint` empty: Amazon's own."""

    region: str
    marketplaces: tuple[str, ...]
    endpoint: str = ""
    token_endpoint: str = ""
    credentials: Credentials = field(default=Credentials("", "", ""), repr=False)

    @property
    def region_name(self) -> str:
        region = REGIONS.get(self.region)
        return region.name if region else self.region

    @property
    def api_endpoint(self) -> str:
        return (self.endpoint or REGIONS[self.region].endpoint).rstrip("/")

    @property
    def token_url(self) -> str:
        return self.token_endpoint or LWA_TOKEN_URL

    def problem(self) -> str | None:
        """What makes this connection unusable before any request, or None."""
        credentials = self.credentials
        if not (credentials.client_id and credentials.client_secret and credentials.refresh_token):
            return "The client id, client secret and refresh token are all needed."
        return region_problem(self.region, self.marketplaces)


def region_problem(region: str, marketplaces: tuple[str, ...] | list[str]) -> str | None:
    """A marketplace outside the region, said as the seller would fix it (None when they fit)."""
    if region not in REGIONS:
        return f"'{region}' is not a region: NA (North America), EU (Europe) or FE (Far East)."
    if not marketplaces:
        return "Choose at least one marketplace."
    problem = amazon_region_problem(region, list(marketplaces))
    return f"{problem}." if problem else None


# --- credentials -------------------------------------------------------------------------------------------------


class SecretStore(Protocol):
    """What `app.mailsync.Passwords` offers: get/set/delete by user and host."""

    def get(self, user: str, host: str) -> str | None: ...
    def set(self, user: str, host: str, password: str) -> Any: ...
    def delete(self, user: str, host: str) -> None: ...


def new_connection_id() -> str:
    return random_ids.token_hex(8)


def connection_id(db) -> str:
    """The account's connection id (created and saved once): the name its secrets are kept under."""
    current = load_settings(db).amazon_connection_id
    if current:
        return current
    with write_transaction(db):
        return save_setting(db, "amazon_connection_id", new_connection_id())


def credentials_from_environment(environ: Mapping[str, str]) -> Credentials | None:
    """The three secrets from AHM_LWA_*, when all three are set (never stored from there)."""
    values = {name: environ.get(variable, "").strip() for name, variable in ENVIRONMENT.items()}
    return Credentials(**values) if all(values.values()) else None


def stored_credentials(passwords: SecretStore, connection_id: str) -> Credentials | None:
    if not connection_id:
        return None
    user = KEYRING_USER.format(connection_id=connection_id)
    values = {name: passwords.get(user, name) or "" for name in SECRET_NAMES}
    return Credentials(**values) if all(values.values()) else None


def store_credentials(passwords: SecretStore, connection_id: str, **secrets: str) -> None:
    """Keep the secrets given (a blank one keeps what was stored); only names in SECRET_NAMES."""
    user = KEYRING_USER.format(connection_id=connection_id)
    for name, value in secrets.items():
        if name not in SECRET_NAMES:
            raise ValueError(f"'{name}' is not one of {', '.join(SECRET_NAMES)}")
        if value and value.strip():
            passwords.set(user, name, value.strip())


def forget_credentials(passwords: SecretStore, connection_id: str) -> None:
    user = KEYRING_USER.format(connection_id=connection_id)
    for name in SECRET_NAMES:
        passwords.delete(user, name)


def connection_from(settings, passwords: SecretStore | None, environ: Mapping[str, str] | None = None):
    """The connection the settings describe, or None while one is not configured (no region, no marketplace,
    or a secret missing). The environment's AHM_LWA_* win over the keyring when all three are set."""
    environ = os.environ if environ is None else environ
    if not settings.amazon_region or not settings.amazon_marketplaces:
        return None
    credentials = credentials_from_environment(environ)
    if credentials is None and passwords is not None:
        credentials = stored_credentials(passwords, settings.amazon_connection_id)
    if credentials is None:
        return None
    return Connection(
        region=settings.amazon_region,
        marketplaces=tuple(settings.amazon_marketplaces),
        endpoint=settings.amazon_endpoint,
        token_endpoint=settings.amazon_token_endpoint,
        credentials=credentials,
    )


# --- the client --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    """What sp_api's Client reads from its `marketplace` argument."""

    endpoint: str
    marketplace_id: str
    region: str = ""


# The wall clock, not the token cache's own: a laptop's sleep counts towards a token's age.
token_clock: Callable[[], float] = time.time
# When each cached access token was issued, by its cache key.
_issued_at: dict[str, float] = {}


def _token_client_class(token_url: str) -> type[AccessTokenClient]:
    parts = urlsplit(token_url)

    class TokenClient(AccessTokenClient):
        scheme = f"{parts.scheme}://"
        host = parts.netloc
        path = parts.path or "/auth/o2/token"

        def _get_cache_key(self, token_flavor: str = "") -> str:
            # The library keys its cache by the refresh token alone: a mistyped or rotated client secret would
            # be answered with the token the right one got, for up to an hour.
            signer = f"{self.cred.client_id}|{self.cred.client_secret}|{token_url}"
            return build_cache_key(self.cred.refresh_token, token_flavor + hashlib.sha256(signer.encode()).hexdigest())

        def get_auth(self):
            key = self._get_cache_key()
            issued = key not in token_cache_module.cache
            answer = super().get_auth()
            if issued:
                _issued_at[key] = token_clock()
            return answer

        def close(self) -> None:
            self._transport.close()

    return TokenClient


class _ReportsClient(Reports):
    def close(self) -> None:
        super().close()
        self._auth.close()  # Client.close() leaves the token client's connection open

    def forget_access_token(self) -> None:
        key = self._auth._get_cache_key()
        token_cache_module.cache.pop(key, None)
        _issued_at.pop(key, None)

    def access_token_may_have_expired(self) -> bool:
        issued = _issued_at.get(self._auth._get_cache_key())
        return issued is None or token_clock() - issued >= FRESH_TOKEN_S


def forget_access_tokens() -> None:
    """Drop every cached access token (the library keeps them for the whole process)."""
    token_cache_module.cache.clear()
    _issued_at.clear()


@functools.cache
def _tls() -> ssl.SSLContext:
    """One context for every client (loading the authorities takes a noticeable moment each time): the
    system's or certifi's, as httpx would choose."""
    return httpx.create_ssl_context()


class ReportsApi:
    """The Reports API for one marketplace of a connection. Use it in `with`: it holds two HTTP connections.

    Only the thread that made it may use it (the library's token cache is not thread-safe).
    """

    def __init__(self, connection: Connection, marketplace: str):
        problem = connection.problem()
        if problem:
            raise AmazonProblem(problem, stops_pull=True)
        self.marketplace = marketplace
        self.marketplace_id = MARKETPLACE_IDS[marketplace]
        credentials = connection.credentials
        self._client = _ReportsClient(
            marketplace=_Endpoint(connection.api_endpoint, self.marketplace_id),
            refresh_token=credentials.refresh_token,
            credentials={"lwa_app_id": credentials.client_id, "lwa_client_secret": credentials.client_secret},
            credential_providers=(FromCodeCredentialProvider,),
            auth_token_client_class=_token_client_class(connection.token_url),
            timeout=API_TIMEOUT_S,
            verify=_tls(),
        )

    def __enter__(self) -> ReportsApi:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def sign_in_again(self) -> None:
        """The next request asks the sign-in service for a new access token instead of the cached one."""
        self._client.forget_access_token()

    def create_report(self, report_type: str, start: str | None, end: str | None) -> str:
        body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": [self.marketplace_id]}
        if start:
            body["dataStartTime"] = start
        if end:
            body["dataEndTime"] = end
        answer = self._call("createReport", lambda: self._client.create_report(**body))
        return str(_field(answer, "reportId"))

    def get_report(self, report_id: str) -> dict:
        """The report's state: `processingStatus` (IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL) and, when
        there is a document, `reportDocumentId`."""
        answer = self._call("getReport", lambda: self._client.get_report(report_id))
        _field(answer, "processingStatus")
        return answer

    def get_report_document(self, document_id: str) -> dict:
        answer = self._call("getReportDocument", lambda: self._client.get_report_document(document_id))
        _field(answer, "url")
        return answer

    def get_reports(self, report_types: list[str]) -> dict:
        return self._call(
            "getReports",
            lambda: self._client.get_reports(
                reportTypes=report_types, pageSize=1, marketplaceIds=[self.marketplace_id]
            ),
        )

    def _call(self, operation: str, request: Callable[[], Any]) -> dict:
        """One request, with one retry after an access token old enough to have expired; every failure as
        AmazonProblem or Throttled."""
        for attempt in (1, 2):
            try:
                return dict(request().payload or {})
            except SellingApiForbiddenException as error:
                if (
                    attempt == 1
                    and getattr(error, "amzn_code", None) == "Unauthorized"
                    and self._client.access_token_may_have_expired()  # else: a missing role, every time
                ):
                    self.sign_in_again()  # expired, or revoked since it was cached
                    continue
                raise AmazonProblem(NO_ACCESS) from None
            except SellingApiRequestThrottledException as error:
                raise Throttled(operation, throttle_wait(operation, error.headers)) from None
            except AuthorizationError as error:
                raise AmazonProblem(_sign_in_sentence(error), stops_pull=True) from None
            except httpx.HTTPError as error:
                raise AmazonProblem(unreachable(error), stops_pull=True) from None
            except ValueError:  # the sign-in service answered something other than JSON (an error page)
                raise AmazonProblem(
                    "Amazon's sign-in service answered with an error page: try again later.", stops_pull=True
                ) from None
            except SellingApiNotFoundException as error:
                if operation == "getReport":
                    raise ReportGone("Amazon no longer knows this report.") from None
                raise AmazonProblem(_api_sentence(operation, error)) from None
            except SellingApiException as error:
                raise AmazonProblem(_api_sentence(operation, error)) from None
        raise AssertionError("unreachable")


def _field(answer: dict, name: str) -> Any:
    # The library returns an empty answer for an error page or an empty body: no exception, no status.
    if not answer.get(name):
        raise AmazonProblem("Amazon answered with an error page instead of the report: it is tried again later.")
    return answer[name]


def throttle_wait(operation: str, headers: Mapping[str, str] | None) -> float:
    """Seconds until the next request: one over Amazon's rate header when it sends one, else the published rate."""
    try:
        rate = float((headers or {}).get("x-amzn-RateLimit-Limit") or "nan")
    except ValueError:
        rate = math.nan
    if math.isfinite(rate) and rate > 0:
        return 1.0 / rate
    return THROTTLE_WAIT_S.get(operation, THROTTLE_WAIT_S["createReport"])


def _sign_in_sentence(error: AuthorizationError) -> str:
    code = getattr(error, "error_code", None)
    if code == "invalid_client" or getattr(error, "status_code", None) == 401:
        return BAD_CLIENT
    if code in ("invalid_grant", "unauthorized_client", "access_denied"):
        return REVOKED
    return f"Amazon's sign-in service refused the credentials ({code or 'no reason given'})."


def _api_sentence(operation: str, error: SellingApiException) -> str:
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or getattr(error, "amzn_code", None) or "no reason given"
    if isinstance(code, int) and code >= 500:
        return f"Amazon had a problem answering ({code}: {message}); it is tried again later."
    return f"Amazon refused the request {operation} ({message})."


def unreachable(error: BaseException) -> str:
    reason = str(error).strip() or type(error).__name__
    return f"Amazon could not be reached: {reason}."


def download(url: str, target: Path) -> int:
    """Fetch a report document's pre-signed address into `target`, its bytes as served (gzip kept: the
    importer reads it as it is). Returns the size. The access token is not sent: the address carries its own
    signature."""
    try:
        with (
            httpx.Client(timeout=DOWNLOAD_TIMEOUT_S, verify=_tls()) as http,
            http.stream("GET", url) as answer,
            target.open("wb") as out,
        ):
            if answer.status_code != 200:
                raise AmazonProblem(f"The report document could not be downloaded (HTTP {answer.status_code}).")
            size = 0
            for chunk in answer.iter_bytes():
                out.write(chunk)
                size += len(chunk)
            return size
    except httpx.HTTPError as error:
        raise AmazonProblem(unreachable(error), stops_pull=True) from None


# --- test connection ---------------------------------------------------------------------------------------------


def test_connection(connection: Connection) -> str:
    """Sign in afresh and list the reports of every pulled type in each marketplace: a sentence saying it works,
    or AmazonProblem saying what is wrong (bad secret, revoked token, missing role, wrong region, Amazon out of
    reach). All five types go in one list, so a role missing for any of them is named here, not at the first
    pull."""
    problem = connection.problem()
    if problem:
        raise AmazonProblem(problem, stops_pull=True)
    for position, marketplace in enumerate(connection.marketplaces):
        # A throttled answer still means Amazon knows the app and the seller: it only asks to wait.
        with ReportsApi(connection, marketplace) as api, suppress(Throttled):
            if position == 0:  # a cached token would hide secrets changed since it was issued
                api.sign_in_again()
            api.get_reports(list(REPORT_TYPES))
    return f"Connected to Amazon ({connection.region_name}): {', '.join(connection.marketplaces)}"


test_connection.__test__ = False  # not a test, whatever pytest thinks of the name
