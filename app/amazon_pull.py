"""Pulling the seller's reports from Amazon, one small step at a time.

A report takes Amazon minutes (sometimes hours) to prepare, so nothing here waits: `step` does what is due
now for each report kind and marketplace — request a report, ask whether it is ready, or download and import
it — and says when it wants to be called again. Everything it knows lives in the `amazon_reports` table, so
a pull that was stopped (the app closed, the laptop asleep) goes on where it was: a report already requested
is asked about again by its id, never requested twice.

A pulled document is imported exactly as a downloaded one (`app.imports.import_files`, with the
marketplace it was requested for), so the figures cannot tell them apart.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from app import spapi
from app.imports import FileResult, import_files
from app.settings import Settings
from storage.transaction import write_transaction

log = logging.getLogger(__name__)

DAY = 86400
# Orders change for a while after they are placed (shipped, refunded): each pull reaches back 2 days.
OVERLAP_S = 2 * DAY
# A first pull reaches back as far as the figures look: the ODR window ends 14 days back and spans 60 days.
FIRST_PULL_DAYS = 90
MAX_POLL_WAIT_S = 60
# Most reports are ready within minutes; one still being prepared after that is asked about less often, and one
# not ready after hours never will be: it is asked for again.
SLOW_POLLS_AFTER_S = 10 * 60
SLOW_POLL_WAIT_S = 5 * 60
PREPARE_LIMIT_S = 6 * 3600
MAX_THROTTLE_WAIT_S = 15 * 60
RETRY_AFTER_FAILURE_S = 3600


@dataclass(frozen=True)
class Kind:
    key: str
    label: str  # for the seller
    report_type: str
    importer: str  # the importer's kind key the document must be recognised as
    days: int | None  # how far back each pull reaches (None: Amazon reports its own windows)
    slice_days: int | None = None  # the longest range Amazon accepts in one request
    suffix: str = ".txt"


KINDS = {
    kind.key: kind
    for kind in (
        Kind("orders", "All Orders", spapi.ORDERS_REPORT, "all_orders", FIRST_PULL_DAYS, slice_days=30),
        Kind("feedback", "Feedback", spapi.FEEDBACK_REPORT, "seller_feedback", 90),
        Kind("fbm_returns", "FBM returns", spapi.FBM_RETURNS_REPORT, "fbm_returns", 60, 60),
        Kind("fba_returns", "FBA returns", spapi.FBA_RETURNS_REPORT, "fba_returns", 60),
        Kind("performance", "Account health", spapi.PERFORMANCE_REPORT, "account_health", None, suffix=".json"),
    )
}
FINISHED = ("done", "no_data", "failed")


@dataclass
class StepResult:
    """What one step did: `next_at` is when the next step is due (None: nothing until the next pull),
    `busy` whether a report is still on its way."""

    next_at: float | None
    imported: list[FileResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    busy: bool = False


@dataclass(frozen=True)
class ReportStatus:
    kind: str
    label: str
    marketplace: str
    state: str
    report_id: str | None
    last_pulled_at: float | None
    next_at: float | None
    last_error: str | None
    failing_since: float | None
    imported_rows: int | None

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "marketplace": self.marketplace,
            "state": self.state,
            "report_id": self.report_id,
            "imported_rows": self.imported_rows,
            "error": self.last_error,
            "last_pulled_at": _iso(self.last_pulled_at),
            "next_at": _iso(self.next_at),
            "failing_since": _iso(self.failing_since),
        }


# --- the pull's state --------------------------------------------------------------------------------------------


def start_pull(db: sqlite_utils.Database, settings: Settings, now: float) -> None:
    """Make every report kind of every marketplace due now (the schedule, "Refresh now", a start, a wake-up).

    A report already requested keeps being asked about (at its own pace, unless its last try failed); rows of
    marketplaces no longer chosen are forgotten.
    """
    marketplaces = list(settings.amazon_marketplaces)
    with write_transaction(db):
        placeholders = ", ".join("?" for _ in marketplaces) or "NULL"
        db.execute(f"DELETE FROM amazon_reports WHERE marketplace NOT IN ({placeholders})", marketplaces)
        for marketplace in marketplaces:
            for kind in KINDS.values():
                db.execute(
                    "INSERT OR IGNORE INTO amazon_reports (kind, marketplace, report_type) VALUES (?, ?, ?)",
                    [kind.key, marketplace, kind.report_type],
                )
        db.execute(
            """UPDATE amazon_reports SET state = 'idle', next_at = ?, pull_until = ?, walk_from = NULL,
                   polls = 0, throttles = 0
               WHERE state != 'requested' AND NOT awaiting""",
            [now, int(now)],
        )
        # A report whose collection failed is asked about again now; one still being prepared keeps its pace.
        db.execute(
            """UPDATE amazon_reports SET next_at = ?, pull_until = coalesce(pull_until, ?)
               WHERE (state = 'requested' OR awaiting) AND (last_error IS NOT NULL OR next_at IS NULL)""",
            [now, int(now)],
        )


def report_status(db: sqlite_utils.Database) -> list[ReportStatus]:
    order = {key: position for position, key in enumerate(KINDS)}
    rows = sorted(db.query("SELECT * FROM amazon_reports"), key=lambda r: (r["marketplace"], order[r["kind"]]))
    return [
        ReportStatus(
            kind=row["kind"],
            label=KINDS[row["kind"]].label,
            marketplace=row["marketplace"],
            state=row["state"],
            report_id=row["report_id"],
            last_pulled_at=row["last_pulled_at"],
            next_at=row["next_at"],
            last_error=row["last_error"],
            failing_since=row["failing_since"],
            imported_rows=row["imported_rows"],
        )
        for row in rows
    ]


def failing_for(db: sqlite_utils.Database, now: float) -> float | None:
    """How long some report has failed without a success since (None: nothing is failing)."""
    since = db.execute("SELECT min(failing_since) FROM amazon_reports").fetchone()[0]
    return None if since is None else max(0.0, now - since)


def pull_finished(db: sqlite_utils.Database) -> bool:
    """Whether every report of the pull has ended: done, no data, or failed."""
    placeholders = ", ".join("?" for _ in FINISHED)
    return not db.execute(
        f"SELECT 1 FROM amazon_reports WHERE state NOT IN ({placeholders}) LIMIT 1", FINISHED
    ).fetchone()


# --- one step ----------------------------------------------------------------------------------------------------


def step(db: sqlite_utils.Database, connection: spapi.Connection, now: float) -> StepResult:
    """Advance every due report by one action; never waits for Amazon to finish preparing one."""
    result = StepResult(next_at=None)
    problem = connection.problem()
    if problem:
        _fail_pull(db, problem, now, result)
        return _finish(db, result)
    due = [
        row
        for row in db.query(
            "SELECT * FROM amazon_reports WHERE next_at IS NOT NULL AND next_at <= ? ORDER BY marketplace",
            [now],
        )
        if row["marketplace"] in connection.marketplaces
    ]
    order = {key: position for position, key in enumerate(KINDS)}
    due.sort(key=lambda row: (row["marketplace"], order[row["kind"]]))
    held: dict[str, float] = {}  # operation -> until when Amazon asked to wait with it, in this step
    try:
        for marketplace in dict.fromkeys(row["marketplace"] for row in due):
            with spapi.ReportsApi(connection, marketplace) as api:
                for row in (row for row in due if row["marketplace"] == marketplace):
                    operation = "getReport" if row["awaiting"] else "createReport"
                    if operation in held:  # the same answer would come back: wait with the others
                        _update(db, row, next_at=held[operation])
                    else:
                        _advance(db, api, row, now, result, held)
    except spapi.AmazonProblem as error:  # raised only for what stops the whole pull
        _fail_pull(db, error.sentence, now, result)
    return _finish(db, result)


def _finish(db: sqlite_utils.Database, result: StepResult) -> StepResult:
    row = db.execute(
        """SELECT min(next_at), max(state IN ('idle', 'requested')) FROM amazon_reports
           WHERE next_at IS NOT NULL"""
    ).fetchone()
    result.next_at, result.busy = row[0], bool(row[1])
    return result


def _advance(db, api: spapi.ReportsApi, row: dict, now: float, result: StepResult, held: dict) -> None:
    kind = KINDS[row["kind"]]
    try:
        if row["awaiting"]:
            _poll(db, api, kind, row, now, result)
        else:
            _request(db, api, kind, row, now)
    except spapi.Throttled as throttled:
        wait = min(MAX_THROTTLE_WAIT_S, throttled.wait * 2 ** row["throttles"])
        log.info("%s %s: Amazon asks to wait %.1f s (%s)", kind.key, row["marketplace"], wait, throttled.operation)
        _update(db, row, next_at=now + wait, throttles=row["throttles"] + 1)
        held[throttled.operation] = now + wait
    except spapi.ReportGone:
        _update(db, row, awaiting=0, state="idle", next_at=now, polls=0)
    except spapi.AmazonProblem as problem:
        if problem.stops_pull:
            raise
        if row["awaiting"] and _prepared_too_long(row, now):  # Amazon cannot say where it is: a new one
            _ask_again(db, row, kind, f"{problem.sentence} {_asked_again(kind, row)}", now, result)
        else:
            _fail(db, row, kind, problem.sentence, now, result)


def _request(db, api: spapi.ReportsApi, kind: Kind, row: dict, now: float) -> None:
    start, end = report_range(kind, row)
    report_id = api.create_report(kind.report_type, _iso(start), _iso(end))
    log.info("%s %s: requested report %s", kind.key, row["marketplace"], report_id)
    _update(
        db,
        row,
        report_id=report_id,
        report_type=kind.report_type,
        data_start=_iso(start),
        data_end=_iso(end),
        state="requested",
        awaiting=1,
        requested_at=int(now),
        polls=0,
        throttles=0,
        next_at=now + 1,
    )


def report_range(kind: Kind, row: dict) -> tuple[float | None, float | None]:
    """The dates to ask for: the kind's reach back from the end of this pull; orders since the last pull
    (less the overlap), at most `slice_days` at a time."""
    if kind.days is None:
        return None, None
    until = row["pull_until"]
    earliest = until - kind.days * DAY
    if row["walk_from"] is not None:
        start = row["walk_from"]
    elif kind.key == "orders" and row["pulled_through"] is not None:
        start = max(earliest, row["pulled_through"] - OVERLAP_S)
    else:
        start = earliest
    end = min(until, start + kind.slice_days * DAY) if kind.slice_days else until
    return start, end


def _poll(db, api: spapi.ReportsApi, kind: Kind, row: dict, now: float, result: StepResult) -> None:
    report = api.get_report(row["report_id"])
    status = report["processingStatus"]
    if status in ("IN_QUEUE", "IN_PROGRESS"):
        if _prepared_too_long(row, now):
            sentence = f"Amazon has been preparing the {kind.label} report for {row['marketplace']} for {_hours()}"
            _ask_again(db, row, kind, f"{sentence}; asked for it again.", now, result)
            return
        polls = row["polls"] + 1
        # 'requested' again after a failed pull: the pull is not over while Amazon prepares the report
        _update(db, row, state="requested", polls=polls, throttles=0, next_at=now + _poll_wait(row, polls, now))
    elif status == "CANCELLED":
        log.info("%s %s: no data for this period", kind.key, row["marketplace"])
        _succeed(db, row, kind, now, "no_data", rows=0)
    elif status == "DONE" and report.get("reportDocumentId"):
        imported = _collect(db, api, kind, row, report["reportDocumentId"], now)
        result.imported.append(imported)
        _succeed(db, row, kind, now, "done", rows=imported.rows)
    elif status == "DONE":  # done without a document: nothing to import
        _succeed(db, row, kind, now, "no_data", rows=0)
    else:  # FATAL
        reason = _fatal_reason(api, report.get("reportDocumentId"))
        sentence = f"Amazon could not make the {kind.label} report" + (f": {reason}" if reason else ".")
        _update(db, row, awaiting=0)
        _fail(db, row, kind, sentence, now, result)


def _poll_wait(row: dict, polls: int, now: float) -> float:
    """1, 2, 4 … seconds up to a minute; five minutes once the report has been prepared for ten."""
    if now - (row["requested_at"] or now) >= SLOW_POLLS_AFTER_S:
        return SLOW_POLL_WAIT_S
    return min(MAX_POLL_WAIT_S, 2**polls)


def _prepared_too_long(row: dict, now: float) -> bool:
    return row["requested_at"] is not None and now - row["requested_at"] >= PREPARE_LIMIT_S


def _hours() -> str:
    hours = PREPARE_LIMIT_S / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def _asked_again(kind: Kind, row: dict) -> str:
    return f"Asked for the {kind.label} report for {row['marketplace']} again after {_hours()}."


def _ask_again(db, row: dict, kind: Kind, sentence: str, now: float, result: StepResult) -> None:
    """Give up a report Amazon has not finished in PREPARE_LIMIT_S: the failure is said, and the next step
    requests a new one (a later pull would otherwise keep asking about this one for ever)."""
    _fail(db, row, kind, sentence, now, result)
    _update(db, row, awaiting=0, polls=0, throttles=0, next_at=now)


def _collect(db, api: spapi.ReportsApi, kind: Kind, row: dict, document_id: str, now: float) -> FileResult:
    """Download the document into a private folder, import it as the seller's own download, delete it."""
    document = api.get_report_document(document_id)
    gzipped = str(document.get("compressionAlgorithm", "")).upper() == "GZIP"
    folder = Path(tempfile.mkdtemp(prefix="ahm-amazon-"))  # mode 0700: the seller's data, until imported
    try:
        path = folder / f"{kind.key}-{row['marketplace']}-{row['report_id']}{kind.suffix}{'.gz' if gzipped else ''}"
        spapi.download(document["url"], path)
        (imported,) = import_files(db, [path], marketplace=row["marketplace"], now=lambda: now)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not imported.recognised:
        raise spapi.AmazonProblem(f"Amazon's {kind.label} report could not be read: {imported.message}")
    if imported.kind not in (kind.importer, "cancelled"):
        raise spapi.AmazonProblem(f"Amazon sent a {imported.kind_label} where the {kind.label} report was expected.")
    log.info("%s %s: imported %d rows", kind.key, row["marketplace"], imported.rows)
    return imported


def _fatal_reason(api: spapi.ReportsApi, document_id: str | None) -> str | None:
    """The first line of a FATAL report's document, where Amazon says what went wrong (None: no document)."""
    if not document_id:
        return None
    folder = Path(tempfile.mkdtemp(prefix="ahm-amazon-"))
    try:
        path = folder / "fatal"
        spapi.download(api.get_report_document(document_id)["url"], path)
        data = path.read_bytes()[: 64 * 1024]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    line = data.decode("utf-8", "replace").strip().splitlines()[:1]
    return " ".join(line[0].split())[:300] if line else None


# --- writing the rows --------------------------------------------------------------------------------------------


def _succeed(db, row: dict, kind: Kind, now: float, state: str, rows: int) -> None:
    """A report ended well: the range is pulled; orders walk on to their next slice if the range is longer."""
    end = _epoch(row["data_end"]) if row["data_end"] else int(now)
    more = kind.slice_days is not None and row["pull_until"] is not None and end < row["pull_until"]
    _update(
        db,
        row,
        state="idle" if more else state,
        awaiting=0,
        polls=0,
        throttles=0,
        walk_from=end if more else None,
        next_at=now if more else None,
        last_pulled_at=int(now),
        pulled_through=end,
        # the rows of every slice of this pull so far
        imported_rows=rows + ((row["imported_rows"] or 0) if row["walk_from"] is not None else 0),
        last_error=None,
        failing_since=None,
    )


def _fail(db, row: dict, kind: Kind, sentence: str, now: float, result: StepResult) -> None:
    log.warning("%s %s: %s", kind.key, row["marketplace"], sentence)
    result.errors.append(f"{kind.label} {row['marketplace']}: {sentence}")
    _update(
        db,
        row,
        state="failed",
        last_error=sentence,
        failing_since=row["failing_since"] or int(now),
        next_at=now + RETRY_AFTER_FAILURE_S,
    )


def _fail_pull(db, sentence: str, now: float, result: StepResult) -> None:
    """Every report still on its way fails the same way (credentials, network): tried again in an hour."""
    log.warning("Amazon pull stopped: %s", sentence)
    result.errors.append(sentence)
    with write_transaction(db):
        db.execute(
            """UPDATE amazon_reports SET state = 'failed', last_error = ?, failing_since = coalesce(failing_since, ?),
                   next_at = ?
               WHERE next_at IS NOT NULL""",
            [sentence, int(now), now + RETRY_AFTER_FAILURE_S],
        )


def _update(db, row: dict, **values) -> None:
    row.update(values)
    columns = ", ".join(f"{name} = ?" for name in values)
    with write_transaction(db):
        db.execute(
            f"UPDATE amazon_reports SET {columns} WHERE kind = ? AND marketplace = ?",
            [*values.values(), row["kind"], row["marketplace"]],
        )


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


# --- a whole pull, for the command line --------------------------------------------------------------------------


def pull_now(
    db: sqlite_utils.Database,
    settings: Settings,
    connection: spapi.Connection,
    *,
    clock=time.time,
    sleep=time.sleep,
    limit_s: float = 30 * 60,
    progress=None,
) -> list[ReportStatus]:
    """Run one whole pull, sleeping between steps, until every report is done, has no data or failed (or
    `limit_s` has passed). `progress(StepResult)` after each step."""
    started = clock()
    start_pull(db, settings, started)
    while True:
        now = clock()
        outcome = step(db, connection, now)
        if progress is not None:
            progress(outcome)
        if pull_finished(db) or outcome.next_at is None or now - started >= limit_s:
            break
        sleep(max(0.0, min(outcome.next_at, started + limit_s) - clock()))
    return report_status(db)


def describe(status: ReportStatus) -> str:
    """One line for the seller: `All Orders US: done, 693 rows`."""
    words = {
        "done": f"done, {status.imported_rows or 0} rows",
        "no_data": "no data for this period",
        "failed": f"failed: {status.last_error}",
        "requested": "still being prepared by Amazon",
        "idle": "not requested yet",
    }[status.state]
    return f"{status.label} {status.marketplace}: {words}"
