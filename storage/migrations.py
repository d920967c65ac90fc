"""Schema migrations: the only way the schema changes.

Each migration runs once, in its own transaction, and is recorded both in `PRAGMA user_version`
(cheap to read at every start) and in the `schema_migrations` table (when, for a human reading the
file). Instants are stored as integer seconds since the epoch (UTC); calendar dates that reports give
without a time are stored as ISO `YYYY-MM-DD` text in the marketplace's time zone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import sqlite_utils

from storage import order_counts
from storage.errors import StorageError
from storage.marketplaces import canonical, sales_channel_case
from storage.transaction import write_transaction

SCHEMA_V1 = """
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per order; order-level fields are repeated on every item row of the All Orders report.
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    merchant_order_id TEXT,
    purchased_at INTEGER NOT NULL,
    last_updated_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('FBA', 'FBM')),
    sales_channel TEXT,
    ship_service_level TEXT,
    ship_state TEXT,
    ship_country TEXT,
    is_business INTEGER
);
CREATE INDEX orders_by_purchase ON orders (purchased_at);

CREATE TABLE order_items (
    order_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    last_updated_at INTEGER NOT NULL,
    asin TEXT,
    product_name TEXT,
    item_status TEXT,
    quantity INTEGER,
    currency TEXT,
    item_price REAL,
    item_tax REAL,
    shipping_price REAL,
    item_promotion_discount REAL,
    PRIMARY KEY (order_id, sku)
);

CREATE TABLE feedback (
    order_id TEXT PRIMARY KEY,
    feedback_date TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comments TEXT,
    response TEXT,
    -- Amazon's strike-through statement found in the comment by the importer
    struck_through INTEGER NOT NULL DEFAULT 0,
    -- set by the seller: 'removed' or 'struck_through', on removed_on
    removal_status TEXT,
    removed_on TEXT,
    removal_requested_on TEXT
);
CREATE INDEX feedback_by_date ON feedback (feedback_date);

CREATE TABLE fbm_returns (
    return_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    order_date TEXT,
    request_date TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    in_policy TEXT,
    return_type TEXT,
    resolution TEXT,
    a_to_z_claim TEXT,
    asin TEXT,
    sku TEXT,
    item_name TEXT,
    quantity INTEGER,
    order_amount REAL,
    refunded_amount REAL,
    currency TEXT,
    -- recorded by the seller: RDR inputs that no report carries
    negative_return_feedback INTEGER NOT NULL DEFAULT 0,
    incorrectly_closed INTEGER NOT NULL DEFAULT 0,
    responded_at INTEGER
);
CREATE INDEX fbm_returns_by_request ON fbm_returns (request_date);

CREATE TABLE fba_returns (
    return_key TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    returned_at INTEGER NOT NULL,
    sku TEXT,
    asin TEXT,
    product_name TEXT,
    quantity INTEGER,
    disposition TEXT,
    reason TEXT,
    status TEXT,
    customer_comments TEXT
);
CREATE INDEX fba_returns_by_date ON fba_returns (returned_at);

-- A-to-z Guarantee claims and chargebacks, from the monitor's CSV template or entered by hand.
CREATE TABLE claims (
    order_id TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('a-to-z', 'chargeback')),
    filed_on TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    amount REAL,
    currency TEXT,
    decided_on TEXT,
    buy_shipping_protected INTEGER NOT NULL DEFAULT 0,
    responded_at INTEGER,
    appeal_filed_on TEXT,
    PRIMARY KEY (order_id, type)
);

-- Inbound buyer messages (from Amazon's notification e-mails). thread_key is the anonymised buyer
-- alias, kept only because replies are matched to messages through it.
CREATE TABLE messages (
    message_id TEXT PRIMARY KEY,
    thread_key TEXT NOT NULL,
    order_id TEXT,
    received_at INTEGER NOT NULL,
    kind TEXT NOT NULL DEFAULT 'buyer',
    topic TEXT,
    subject TEXT,
    body TEXT,
    no_response_needed_at INTEGER
);
CREATE INDEX messages_by_thread ON messages (thread_key, received_at);
CREATE INDEX messages_by_received ON messages (received_at);

CREATE TABLE replies (
    message_id TEXT PRIMARY KEY,
    thread_key TEXT NOT NULL,
    order_id TEXT,
    sent_at INTEGER NOT NULL,
    automatic INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT 'mail'
);
CREATE INDEX replies_by_thread ON replies (thread_key, sent_at);

-- Amazon's own account-health snapshots, kept whole (raw JSON): there is no history otherwise.
CREATE TABLE account_health_snapshots (
    sha256 TEXT PRIMARY KEY,
    imported_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    report_json TEXT NOT NULL
);

CREATE TABLE import_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT,
    kind TEXT,
    outcome TEXT NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    message TEXT,
    errors TEXT
);
"""


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.executescript(SCHEMA_V1)


# Statement by statement rather than executescript(): executescript() commits first, which would take
# the migration out of the transaction `migrate` wraps it in.
SCHEMA_V2 = (
    # One row per alert key ever delivered (or covered by a more urgent alert), so a restart, a resume
    # from sleep or the next scheduler run never shows the same alert twice.
    """CREATE TABLE alerts (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT,
        order_id TEXT,
        item_id TEXT,
        delivered_at INTEGER NOT NULL
    )""",
    # The last status seen for each metric: a change is noticed even when it happened while the app was
    # closed. changed_at is when that status began; rate is the latest saved rate.
    """CREATE TABLE metric_status (
        metric TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        rate REAL,
        changed_at INTEGER NOT NULL
    )""",
    # Every status change (the first status of a metric has no old_status), for the triage history.
    """CREATE TABLE status_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        metric TEXT NOT NULL,
        old_status TEXT,
        new_status TEXT NOT NULL,
        rate REAL
    )""",
    "CREATE INDEX status_changes_by_time ON status_changes (at)",
)


def _v2_alerts(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_V2:
        db.execute(statement)


SCHEMA_V3 = (
    # The seller's edits of the escalation matrix, one row per category and case ('' is the category's
    # default path). Rows override the defaults in app.triage; a category never edited has no row, so
    # better defaults in a later version still reach it. amount NULL: the order's item value.
    """CREATE TABLE triage_matrix (
        category TEXT NOT NULL,
        "case" TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        who TEXT NOT NULL,
        response_hours REAL NOT NULL CHECK (response_hours > 0),
        amount REAL CHECK (amount IS NULL OR amount >= 0),
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (category, "case")
    )""",
    # Every completed triage: its completion instant defines "new" for the next one.
    """CREATE TABLE triage_sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        completed_at INTEGER NOT NULL,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        items INTEGER NOT NULL,
        resolved INTEGER NOT NULL
    )""",
    "CREATE INDEX triage_sessions_by_time ON triage_sessions (completed_at)",
    # The items a completed triage showed: never shown as new again (records that arrive late are).
    """CREATE TABLE triage_session_items (
        session_id INTEGER NOT NULL REFERENCES triage_sessions (id),
        item_key TEXT NOT NULL,
        PRIMARY KEY (session_id, item_key)
    )""",
    "CREATE INDEX triage_session_items_by_key ON triage_session_items (item_key)",
    # What the seller did about an item, kept for good as the order's history (evidence for appeals).
    # A reopened or superseded resolution keeps its row, with when and how it ended.
    """CREATE TABLE triage_resolutions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        item_key TEXT NOT NULL,
        order_id TEXT,
        item_kind TEXT,
        action TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        resolved_at INTEGER NOT NULL,
        ended_at INTEGER,
        ended_by TEXT CHECK (ended_by IS NULL OR ended_by IN ('reopened', 'superseded'))
    )""",
    "CREATE INDEX triage_resolutions_by_key ON triage_resolutions (item_key, ended_at)",
    "CREATE INDEX triage_resolutions_by_order ON triage_resolutions (order_id)",
    # The seller's category for an item where it differs from the derived one.
    """CREATE TABLE triage_categories (
        item_key TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        set_at INTEGER NOT NULL
    )""",
)


def _v3_triage(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_V3:
        db.execute(statement)


SCHEMA_V4 = (
    # Mailbox sync: per account (user@host:port) and folder, the folder's UIDVALIDITY and the highest UID
    # read, so a poll fetches only newer mail. A changed UIDVALIDITY means the UIDs were renumbered: the
    # folder is read again from the start (storing by Message-ID makes that harmless).
    """CREATE TABLE mail_folders (
        account TEXT NOT NULL,
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        last_uid INTEGER NOT NULL,
        synced_at INTEGER NOT NULL,
        PRIMARY KEY (account, folder)
    )""",
    # The latest poll, shown in the window across restarts; consecutive_failures drives the back-off.
    """CREATE TABLE mail_sync_status (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        account TEXT,
        last_attempt_at INTEGER,
        last_success_at INTEGER,
        error_kind TEXT,
        error_message TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        messages_added INTEGER NOT NULL DEFAULT 0,
        replies_added INTEGER NOT NULL DEFAULT 0,
        claims_touched INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER
    )""",
    # A-to-z claim and chargeback notification e-mails already applied to the claims table (each once).
    """CREATE TABLE mail_claim_notices (
        message_id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        type TEXT NOT NULL,
        event TEXT NOT NULL,
        received_at INTEGER NOT NULL
    )""",
    # Watched folder: when watching a folder began (files already there then are left alone) and every
    # file looked at, by path with the size and mtime it had, so each is imported or ignored once.
    """CREATE TABLE watch_folders (
        folder TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL
    )""",
    """CREATE TABLE watched_files (
        path TEXT PRIMARY KEY,
        folder TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('present', 'imported', 'refused', 'ignored', 'duplicate')),
        kind TEXT,
        seen_at INTEGER NOT NULL
    )""",
    "CREATE INDEX watched_files_by_sha256 ON watched_files (sha256)",
)


def _v4_mail_sync_and_watch(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_V4:
        db.execute(statement)


# Amazon's figures, one row per imported account-health report and marketplace: a view over the kept
# snapshots rather than a second copy, so every way a snapshot is written or deleted (an import, the demo,
# clearing the demo) is reflected at once. (A table filled by triggers would also count its rows in the
# import's added/updated figures: SQLite's total_changes, which the writer reads, includes trigger writes.)
# Keys are matched without regard to case, as the importer checks them; the figures are read from
# metrics_json in one place (app.amazon).
#   position: the entry's place in performanceMetrics;
#   reported_through: the latest day any of the entry's reporting ranges reaches, the only date the report
#     carries; NULL when it gives no range at all.
# A view's text is stored in the file, so a later change to it is a new migration, like any schema change.
SCHEMA_V5 = (
    """CREATE VIEW amazon_health_reports
        (sha256, position, marketplace_id, imported_at, reported_through, account_status, metrics_json) AS
    SELECT
        snapshot.sha256,
        entry.key,
        (SELECT m.value FROM json_each(entry.value) AS m WHERE lower(m.key) = 'marketplaceid' AND m.type = 'text'),
        snapshot.imported_at,
        (SELECT max(substr(d.value, 1, 10)) FROM json_tree(entry.value) AS d
          WHERE lower(d.key) = 'reportingdateto' AND d.type = 'text'
            AND substr(d.value, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        (SELECT s.value FROM json_each(metrics.json) AS statuses, json_each(statuses.value) AS account,
                json_each(account.value) AS s
          WHERE lower(statuses.key) = 'accountstatuses' AND statuses.type = 'array' AND account.type = 'object'
            AND lower(s.key) = 'status' AND s.type = 'text'
            AND (SELECT a.value FROM json_each(account.value) AS a WHERE lower(a.key) = 'marketplaceid')
                = (SELECT m.value FROM json_each(entry.value) AS m WHERE lower(m.key) = 'marketplaceid')),
        entry.value
    FROM account_health_snapshots AS snapshot,
        json_each(CASE WHEN json_valid(snapshot.report_json) THEN snapshot.report_json ELSE '{}' END) AS metrics,
        json_each(metrics.value) AS entry
    WHERE lower(metrics.key) = 'performancemetrics' AND metrics.type = 'array' AND entry.type = 'object'""",
)


def _v5_amazon_health_reports(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_V5:
        db.execute(statement)


# Amazon computes every figure per marketplace. An order's marketplace comes from its sales channel, which
# every stored order kept; an order whose channel names none (multi-channel fulfilment, a channel the
# monitor does not know, or none stored) is given the seller's home marketplace. Feedback, returns, claims
# and messages take their order's marketplace when it is known, so their own column only holds the
# marketplace chosen for the file for rows whose order is unknown: NULL (the home marketplace) for every
# row stored before.
MARKETPLACE_TABLES = ("feedback", "fbm_returns", "fba_returns", "claims", "messages")


def _v6_marketplaces(db: sqlite_utils.Database) -> None:
    stored = db.execute("SELECT value FROM settings WHERE key = 'marketplace'").fetchone()
    home = canonical(json.loads(stored[0])) if stored else "US"
    db.execute("ALTER TABLE orders ADD COLUMN marketplace TEXT")
    db.execute(f"UPDATE orders SET marketplace = coalesce({sales_channel_case('sales_channel')}, ?)", [home])
    db.execute("CREATE INDEX orders_by_marketplace ON orders (marketplace, purchased_at)")
    for table in MARKETPLACE_TABLES:
        db.execute(f"ALTER TABLE {table} ADD COLUMN marketplace TEXT")


# Pulling reports from Amazon's Selling Partner API: one row per report kind and marketplace, so a pull that
# was stopped (the app closed, the laptop asleep) resumes where it was: a requested report is polled again
# by its id, never requested twice. Instants are epoch seconds; data_start/data_end are the ISO instants
# sent to Amazon.
#   state: idle (nothing asked yet), requested (report_id is being prepared by Amazon), done, no_data (Amazon
#     had nothing for the period), failed (last_error says why);
#   awaiting: report_id is still to be collected (also after a failure while asking about it);
#   next_at: when to act on the row next (NULL: only at the next pull); polls, throttles: getReport calls
#     so far and 429 answers in a row (each doubles the wait);
#   walk_from: where the next slice of a long range starts (orders come 30 days at a time);
#   pull_until: the end of the range the current pull brings in;
#   pulled_through: the end of the last range imported; failing_since: the first failure since a success.
SCHEMA_V7 = (
    """CREATE TABLE amazon_reports (
        kind TEXT NOT NULL CHECK (kind IN ('orders', 'feedback', 'fbm_returns', 'fba_returns', 'performance')),
        marketplace TEXT NOT NULL,
        report_id TEXT,
        report_type TEXT,
        data_start TEXT,
        data_end TEXT,
        state TEXT NOT NULL DEFAULT 'idle'
            CHECK (state IN ('idle', 'requested', 'done', 'no_data', 'failed')),
        requested_at INTEGER,
        awaiting INTEGER NOT NULL DEFAULT 0,
        polls INTEGER NOT NULL DEFAULT 0,
        throttles INTEGER NOT NULL DEFAULT 0,
        next_at REAL,
        walk_from INTEGER,
        pull_until INTEGER,
        last_pulled_at INTEGER,
        pulled_through INTEGER,
        imported_rows INTEGER,
        last_error TEXT,
        failing_since INTEGER,
        PRIMARY KEY (kind, marketplace)
    )""",
)


def _v7_amazon_reports(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_V7:
        db.execute(statement)


# The customer-service playbook.
#   replies.breaches: what the Communication Guidelines check found in the reply's own words, as JSON
#     ([{"rule": …, "phrase": …}]); NULL: the reply was stored without its text (a *Mark replied*, or an
#     import before this version), '[]': checked and compliant. The body itself is never kept.
#   fbm_returns: the return's delivery back to the seller and the SAFE-T claim columns of the returns
#     report (claims the seller files when Amazon refunded a buyer and the item came back damaged or not
#     at all). return_delivery_date: a day; '' when the report had the column and left it empty (not back);
#     NULL when no report said, as for every row stored before this version: never read as "not back".
#   triage_matrix.template: the reply template of a matrix row; NULL: the shipped default.
SCHEMA_V8 = (
    "ALTER TABLE replies ADD COLUMN breaches TEXT",
    "ALTER TABLE fbm_returns ADD COLUMN return_delivery_date TEXT",
    "ALTER TABLE fbm_returns ADD COLUMN safet_reason TEXT",
    "ALTER TABLE fbm_returns ADD COLUMN safet_claim_id TEXT",
    "ALTER TABLE fbm_returns ADD COLUMN safet_claim_state TEXT",
    "ALTER TABLE fbm_returns ADD COLUMN safet_claim_created TEXT",
    "ALTER TABLE fbm_returns ADD COLUMN safet_reimbursed REAL",
    "ALTER TABLE triage_matrix ADD COLUMN template TEXT",
)


def _v8_playbook(db: sqlite_utils.Database) -> None:
    for statement in SCHEMA_V8:
        db.execute(statement)


# Rows stored with a marketplace of their own, found by an index: whether a seller sells in one marketplace
# is asked at every recomputation, and was a scan of each table.
ROWS_WITH_A_MARKETPLACE = ("feedback", "fbm_returns", "fba_returns", "claims", "messages")


def _v10_marketplace_indexes(db: sqlite_utils.Database) -> None:
    for table in ROWS_WITH_A_MARKETPLACE:
        db.execute(f"CREATE INDEX idx_{table}_marketplace ON {table}(marketplace) WHERE marketplace IS NOT NULL")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("initial schema", _v1_initial),
    ("delivered alerts and metric status history", _v2_alerts),
    ("triage: escalation matrix, sessions, resolutions, categories", _v3_triage),
    ("mailbox sync and watched folder", _v4_mail_sync_and_watch),
    ("Amazon's account-health figures per report and marketplace", _v5_amazon_health_reports),
    ("the marketplace of every order, and of rows whose order is unknown", _v6_marketplaces),
    ("reports pulled from Amazon's Selling Partner API, per kind and marketplace", _v7_amazon_reports),
    ("reply guideline checks, SAFE-T claim columns, reply templates", _v8_playbook),
    ("countable orders per quarter hour of purchase, for counting days fast", order_counts.create),
    ("the rows stored with a marketplace of their own, by index", _v10_marketplace_indexes),
]


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def refuse_newer(db: sqlite_utils.Database, path: object = None) -> None:
    """Raise StorageError when the file was written by a newer version of the app (never downgrade it).

    Only reads the header: called before anything about the file changes, so a refused file stays as it was.
    """
    current = schema_version(db)
    if current > len(MIGRATIONS):
        where = f"The database {path}" if path is not None else "This database"
        raise StorageError(
            f"{where} has schema version {current}, newer than this app understands "
            f"({len(MIGRATIONS)}): it was left unchanged. Update the app."
        )


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration newer than the file's version; return the resulting version.

    Raises:
        StorageError: the file was written by a newer version of the app (never downgrade silently), or
            another writer kept it locked for longer than the busy timeout.
    """
    refuse_newer(db)
    current = schema_version(db)
    for version, (name, step) in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        with write_transaction(db):
            # Read again under the write lock: another process opening the same file may have applied
            # this migration while this one waited.
            if schema_version(db) >= version:
                continue
            step(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, name, int(time.time())],
            )
            db.execute(f"PRAGMA user_version = {version}")
    return len(MIGRATIONS)
