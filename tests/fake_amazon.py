"""A local stand-in for Amazon: the Login with Amazon token endpoint and the Reports API 2021-06-30.

It answers with the shapes of Amazon's published model (selling-partner-api-models, reports_2021-06-30.json):
createReport 202 `{"reportId"}`, getReport `Report` with `processingStatus` (IN_QUEUE, IN_PROGRESS, DONE,
CANCELLED, FATAL) and `reportDocumentId`, getReportDocument `{"reportDocumentId", "url",
"compressionAlgorithm": "GZIP"}`, getReports `{"reports": [...]}`, errors as `{"errors": [{"code", "message",
"details"}]}`, and the document itself, GZIP-compressed, at a pre-signed address that refuses an access token.

What a test can script, per report type: the states a report goes through, its document (by default the
sample seller's files, for US and CA), throttling (429 with or without x-amzn-RateLimit-Limit, or a token
bucket), an access token that expires, a revoked refresh token, a wrong client secret, a missing role, an
operation that fails with Amazon's 500. Every request is recorded, and every pre-signed address's signature.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app import spapi
from app.amazon import MARKETPLACE_IDS
from storage.settings import write_setting
from storage.transaction import write_transaction

SAMPLES = Path(__file__).resolve().parent / "samples"

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
FEEDBACK = "GET_SELLER_FEEDBACK_DATA"
FBM_RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
FBA_RETURNS = "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA"
PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
SAMPLE_FILES = {
    ORDERS: "all-orders.txt",
    FEEDBACK: "seller-feedback.txt",
    FBM_RETURNS: "fbm-returns.txt",
    FBA_RETURNS: "fba-customer-returns.txt",
    PERFORMANCE: "account-health.json",
}
# Amazon refuses longer ranges in one request (FATAL, with this document).
MAX_DAYS = {ORDERS: 30, FBM_RETURNS: 60}
RANGE_EXCEEDED = b"Date range exceeded. Report can be requested only upto 30 days\n"
# Each operation's published rate and burst.
RATES = {
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "getReports": (0.0222, 10),
}
SERVED_BY_CLIENT = "2026-11-09T06:00:00Z"  # the instant the fake says reports were created


# --- the sample seller, for two marketplaces ---------------------------------------------------------------------


def us_documents() -> dict[str, bytes]:
    return {report_type: (SAMPLES / name).read_bytes() for report_type, name in SAMPLE_FILES.items()}


def ca_documents() -> dict[str, bytes]:
    """The sample seller's reports as the same seller's Amazon.ca reports would be: other order ids, the
    Amazon.ca channel, Canadian dollars, feedback dates day first, the CA marketplace id."""
    documents = {}
    for report_type, data in us_documents().items():
        text = data.decode("utf-8")
        text = re.sub(r"\b11(\d-\d{7}-\d{7})\b", r"70\1", text)  # 111-… → 701-…: no order id shared with US
        text = re.sub(r"\b(\w+)RMA\b", r"\1RMA-CA", text)  # nor a return authorisation
        text = re.sub(r"\bLPN(\d+)\b", r"LPN\1CA", text)
        if report_type == PERFORMANCE:
            text = text.replace(MARKETPLACE_IDS["US"], MARKETPLACE_IDS["CA"])
        else:
            text = text.replace("Amazon.com", "Amazon.ca").replace("\tUSD\t", "\tCAD\t")
        if report_type == FEEDBACK:
            text = re.sub(r"^(\d{1,2})/(\d{1,2})/(\d{2})\t", r"\2/\1/\3\t", text, flags=re.MULTILINE)
        documents[report_type] = text.encode("utf-8")
    return documents


def orders_between(data: bytes, start: str | None, end: str | None) -> bytes:
    """The All Orders rows last updated in [start, end] (ISO instants), as Amazon filters the report by date."""
    header, *rows = data.decode("utf-8").splitlines(keepends=True)
    at = header.rstrip("\r\n").split("\t").index("last-updated-date")
    low, high = _instant(start), _instant(end)
    kept = []
    for row in rows:
        updated = _instant(row.split("\t")[at])
        if (low is None or updated >= low) and (high is None or updated <= high):
            kept.append(row)
    return (header + "".join(kept)).encode("utf-8")


def _instant(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def default_documents() -> dict[tuple[str, str], bytes]:
    documents = {}
    for code, made in (("US", us_documents()), ("CA", ca_documents())):
        for report_type, data in made.items():
            documents[(report_type, MARKETPLACE_IDS[code])] = data
    return documents


# --- what the server records and what a test scripts -------------------------------------------------------------


@dataclass
class Recorded:
    operation: str
    method: str
    path: str
    query: dict
    headers: dict  # names in lower case
    body: bytes
    status: int = 0


@dataclass
class FakeReport:
    report_id: str
    report_type: str
    marketplace_ids: list[str]
    start: str | None
    end: str | None
    states: list[str]
    document: bytes | None
    created_time: str = SERVED_BY_CLIENT


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float
    at: float


@dataclass
class FakeAmazon:
    """The server's state; tests change it between requests (each request holds `lock`)."""

    base_url: str = ""
    client_id: str = field(default_factory=lambda: f"amzn1.application-oa2-client.{secrets.token_hex(12)}")
    client_secret: str = field(default_factory=lambda: f"amzn1.oa2-cs.v1.{secrets.token_hex(16)}")
    refresh_token: str = field(default_factory=lambda: f"Atzr|IwEB{secrets.token_hex(20)}")
    documents: dict = field(default_factory=default_documents)
    states: dict = field(default_factory=dict)  # report type -> the processingStatus of each getReport
    fatal_documents: dict = field(default_factory=dict)  # report type -> the document of a FATAL report
    revoked: bool = False
    deny_roles: set = field(default_factory=set)  # report types (or "*") answered 403 whatever the token
    expire_next: int = 0  # API calls still to answer "The access token you provided has expired."
    broken: set = field(default_factory=set)  # operations answered 500 InternalFailure
    throttled: dict = field(default_factory=dict)  # operation -> list of bools: a 429 each, with the header?
    buckets: dict = field(default_factory=dict)  # operation -> Bucket (after `limit`)
    clock: Callable[[], float] = field(default_factory=lambda: lambda: 0.0)
    requests: list = field(default_factory=list)
    reports: dict = field(default_factory=dict)
    access_tokens: list = field(default_factory=list)  # every token issued
    signatures: list = field(default_factory=list)  # the X-Amz-Signature of every pre-signed address given out
    live_tokens: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/auth/o2/token"

    # scripting

    def script(self, report_type: str, *states: str, fatal_document: bytes | None = None) -> None:
        """The processingStatus each getReport of a report of this type answers in turn (the last one stays)."""
        self.states[report_type] = list(states)
        if fatal_document is not None:
            self.fatal_documents[report_type] = fatal_document

    def throttle(self, operation: str, times: int = 1, *, header: bool = True) -> None:
        """Answer the next `times` calls of the operation 429, with or without x-amzn-RateLimit-Limit."""
        self.throttled.setdefault(operation, []).extend([header] * times)

    def limit(self, operation: str, clock: Callable[[], float], rate: float | None = None, burst: int | None = None):
        """A token bucket for the operation (Amazon's published rate and burst unless given), on `clock`."""
        published_rate, published_burst = RATES[operation]
        size = published_burst if burst is None else burst
        self.buckets[operation] = Bucket(rate or published_rate, size, size, clock())
        self.clock = clock

    # reading what happened

    def calls(self, operation: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if operation is None or r.operation == operation]

    def created(self, report_type: str | None = None, marketplace: str | None = None) -> list[dict]:
        """The bodies of every createReport answered 202."""
        bodies = [json.loads(r.body) for r in self.calls("createReport") if r.status == 202]
        return [
            body
            for body in bodies
            if (report_type is None or body["reportType"] == report_type)
            and (marketplace is None or MARKETPLACE_IDS[marketplace] in body["marketplaceIds"])
        ]

    # what the monitor needs to find it

    def settings(self, db, *, region: str = "NA", marketplaces=("US", "CA"), connection_id: str = "") -> None:
        """Point a database's Amazon settings at this server."""
        with write_transaction(db):
            write_setting(db, "amazon_region", region)
            write_setting(db, "amazon_marketplaces", list(marketplaces))
            write_setting(db, "amazon_endpoint", self.base_url)
            write_setting(db, "amazon_token_endpoint", self.token_url)
            if connection_id:
                write_setting(db, "amazon_connection_id", connection_id)

    def environ(self) -> dict[str, str]:
        return {
            "AHM_LWA_CLIENT_ID": self.client_id,
            "AHM_LWA_CLIENT_SECRET": self.client_secret,
            "AHM_LWA_REFRESH_TOKEN": self.refresh_token,
        }

    def connection(self, *, region: str = "NA", marketplaces=("US", "CA"), **changes) -> spapi.Connection:
        credentials = spapi.Credentials(
            changes.pop("client_id", self.client_id),
            changes.pop("client_secret", self.client_secret),
            changes.pop("refresh_token", self.refresh_token),
        )
        return spapi.Connection(
            region=region,
            marketplaces=tuple(marketplaces),
            endpoint=changes.pop("endpoint", self.base_url),
            token_endpoint=changes.pop("token_endpoint", self.token_url),
            credentials=credentials,
        )

    def secrets(self) -> list[str]:
        """Everything that must never be stored or logged: the three secrets, every access token, and every
        pre-signed address (by its signature: anyone holding the address can download the report)."""
        return [self.client_id, self.client_secret, self.refresh_token, *self.access_tokens, *self.signatures]


# --- the HTTP server ---------------------------------------------------------------------------------------------


def _error(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects; every answer has a Content-Length
    disable_nagle_algorithm = True  # headers and body go in two writes: do not wait for an ACK between them
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        record = Recorded(
            operation=_operation(method, parts.path),
            method=method,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        fake = self.server.fake
        with fake.lock:
            fake.requests.append(record)
            status, answer, headers = self._answer(fake, record)
            record.status = status
        self._send(status, answer, headers)

    def _send(self, status: int, answer: dict | bytes, headers: dict) -> None:
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", secrets.token_hex(8))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _answer(self, fake: FakeAmazon, record: Recorded) -> tuple[int, dict | bytes, dict]:
        if record.operation == "token":
            return _token(fake, record)
        if record.operation == "download":
            return _download(fake, record)
        if record.operation == "unknown":
            return 404, _error("NotFound", "Resource not found."), {}
        refused = _authorise(fake, record)
        if refused:
            return refused
        throttled = _throttle(fake, record.operation)
        if throttled:
            return throttled
        if record.operation in fake.broken:
            return 500, _error("InternalFailure", "We encountered an internal error. Please try again."), {}
        rate = {"x-amzn-RateLimit-Limit": str(RATES[record.operation][0])}
        answer = {
            "createReport": _create_report,
            "getReport": _get_report,
            "getReportDocument": _get_report_document,
            "getReports": _get_reports,
        }[record.operation](fake, record, self.server.server_address)
        return (*answer, rate)


def _operation(method: str, path: str) -> str:
    if method == "POST" and path == "/auth/o2/token":
        return "token"
    if method == "POST" and path == "/reports/2021-06-30/reports":
        return "createReport"
    if method == "GET" and path == "/reports/2021-06-30/reports":
        return "getReports"
    if method == "GET" and path.startswith("/reports/2021-06-30/reports/"):
        return "getReport"
    if method == "GET" and path.startswith("/reports/2021-06-30/documents/"):
        return "getReportDocument"
    if method == "GET" and path.startswith("/s3/"):
        return "download"
    return "unknown"


def _token(fake: FakeAmazon, record: Recorded):
    form = {key: values[0] for key, values in parse_qs(record.body.decode()).items()}
    if form.get("grant_type") != "refresh_token":
        return 400, {"error_description": "The request is missing a required parameter", "error": "invalid_request"}, {}
    if form.get("client_id") != fake.client_id or form.get("client_secret") != fake.client_secret:
        return 401, {"error_description": "Client authentication failed", "error": "invalid_client"}, {}
    if fake.revoked or form.get("refresh_token") != fake.refresh_token:
        description = "The request has an invalid grant parameter : refresh_token"
        return 400, {"error_description": description, "error": "invalid_grant"}, {}
    token = f"Atza|IwEB{secrets.token_hex(24)}"
    fake.access_tokens.append(token)
    fake.live_tokens.add(token)
    answer = {"access_token": token, "refresh_token": fake.refresh_token, "token_type": "bearer", "expires_in": 3600}
    return 200, answer, {}


def _authorise(fake: FakeAmazon, record: Recorded):
    token = record.headers.get("x-amz-access-token", "")
    if token not in fake.live_tokens:
        return (
            403,
            _error(
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            ),
            {},
        )
    if fake.expire_next:
        fake.expire_next -= 1
        fake.live_tokens.discard(token)
        return (
            403,
            _error(
                "Unauthorized", "Access to requested resource is denied.", "The access token you provided has expired."
            ),
            {},
        )
    report_type = json.loads(record.body).get("reportType") if record.operation == "createReport" else None
    if "*" in fake.deny_roles or report_type in fake.deny_roles:
        return 403, _error("Unauthorized", "Access to requested resource is denied.", ""), {}
    return None


def _throttle(fake: FakeAmazon, operation: str):
    scripted = fake.throttled.get(operation)
    quota = _error("QuotaExceeded", "You exceeded your quota for the requested resource.")
    if scripted:
        with_header = scripted.pop(0)
        return 429, quota, ({"x-amzn-RateLimit-Limit": str(RATES[operation][0])} if with_header else {})
    bucket = fake.buckets.get(operation)
    if bucket is not None:
        now = fake.clock()
        bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.at) * bucket.rate)
        bucket.at = now
        if bucket.tokens < 1:
            return 429, quota, {"x-amzn-RateLimit-Limit": str(bucket.rate)}
        bucket.tokens -= 1
    return None


def _create_report(fake: FakeAmazon, record: Recorded, address):
    try:
        body = json.loads(record.body)
    except ValueError:
        return 400, _error("InvalidInput", "Could not parse the request body.")
    report_type, marketplace_ids = body.get("reportType"), body.get("marketplaceIds")
    if report_type not in SAMPLE_FILES or not isinstance(marketplace_ids, list) or not 1 <= len(marketplace_ids) <= 25:
        return 400, _error("InvalidInput", "Invalid input", "reportType and marketplaceIds are required.")
    start, end = body.get("dataStartTime"), body.get("dataEndTime")
    document = fake.documents.get((report_type, marketplace_ids[0]))
    states = list(fake.states.get(report_type, ["DONE"]))
    if report_type in MAX_DAYS and start and end and _instant(end) - _instant(start) > MAX_DAYS[report_type] * 86400:
        states, document = ["FATAL"], RANGE_EXCEEDED
    elif states[-1] == "FATAL":
        document = fake.fatal_documents.get(report_type)  # None: a FATAL report without a document
    elif report_type == ORDERS and document is not None:
        document = orders_between(document, start, end)
    report_id = str(50000 + len(fake.reports))
    fake.reports[report_id] = FakeReport(report_id, report_type, marketplace_ids, start, end, states, document)
    return 202, {"reportId": report_id}


def _report_json(report: FakeReport, status: str) -> dict:
    answer = {
        "reportId": report.report_id,
        "reportType": report.report_type,
        "marketplaceIds": report.marketplace_ids,
        "createdTime": report.created_time,
        "processingStatus": status,
    }
    if report.start:
        answer["dataStartTime"] = report.start
    if report.end:
        answer["dataEndTime"] = report.end
    if status in ("DONE", "FATAL") and report.document is not None:
        answer["reportDocumentId"] = f"amzn1.spdoc.1.4.na.{report.report_id}"
    return answer


def _get_report(fake: FakeAmazon, record: Recorded, address):
    report = fake.reports.get(record.path.rsplit("/", 1)[1])
    if report is None:
        return 404, _error("NotFound", "The requested report was not found.")
    status = report.states.pop(0) if len(report.states) > 1 else report.states[0]
    return 200, _report_json(report, status)


def _get_report_document(fake: FakeAmazon, record: Recorded, address):
    document_id = record.path.rsplit("/", 1)[1]
    report = fake.reports.get(document_id.rsplit(".", 1)[-1])
    if report is None or report.document is None:
        return 404, _error("NotFound", "The requested report document was not found.")
    # From the server's own address: the client's Host header is wrong for plain http (it drops a character).
    host, port = address
    signature = secrets.token_hex(32)
    fake.signatures.append(signature)
    url = f"http://{host}:{port}/s3/{document_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={signature}"
    return 200, {"reportDocumentId": document_id, "url": url, "compressionAlgorithm": "GZIP"}


def _get_reports(fake: FakeAmazon, record: Recorded, address):
    wanted = ",".join(record.query.get("reportTypes", [""])).split(",")
    if "*" in fake.deny_roles or any(report_type in fake.deny_roles for report_type in wanted):
        return 403, _error("Unauthorized", "Access to requested resource is denied.", "")
    found = [_report_json(r, r.states[-1]) for r in fake.reports.values() if r.report_type in wanted]
    return 200, {"reports": found[: int(record.query.get("pageSize", ["10"])[0])]}


def _download(fake: FakeAmazon, record: Recorded):
    if "x-amz-access-token" in record.headers or "X-Amz-Signature" not in record.query:
        return 400, b"<Error><Code>InvalidRequest</Code></Error>", {"Content-Type": "application/xml"}
    report = fake.reports.get(record.path.rsplit(".", 1)[-1])
    if report is None or report.document is None:
        return 404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"}
    return 200, gzip.compress(report.document), {"Content-Type": "application/octet-stream"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeAmazon


def start(fake: FakeAmazon | None = None) -> tuple[FakeAmazon, _Server]:
    fake = fake or FakeAmazon()
    server = _Server(("127.0.0.1", 0), Handler)
    server.fake = fake
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, name="fake-amazon", daemon=True).start()
    return fake, server


def stop(server: _Server) -> None:
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    """An address on this computer where nothing listens."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(name="fake_amazon")
def fake_amazon_fixture():
    """A running fake Amazon; the client library's cached access tokens are forgotten before and after."""
    spapi.forget_access_tokens()
    fake, server = start()
    try:
        yield fake
    finally:
        stop(server)
        spapi.forget_access_tokens()
