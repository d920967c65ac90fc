"""The records importers produce, and the natural key that makes every import idempotent.

Importers yield plain tuples in `columns` order (a million-row report must not allocate an object per
cell); the storage layer writes them with the key and the newer-wins rule declared here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordSpec:
    """Where a record goes and what identifies it.

    Attributes:
        table: the table the record is stored in.
        columns: the tuple's fields, all of them columns of `table`.
        key: the natural key; a later record with the same key updates the stored one.
        version: a column holding the record's own last-change instant: a record older than the stored
            one does not overwrite it (an All Orders report by order date imported after a newer one by
            last update must not turn a cancelled order back into a pending one).
        counted: whether the record is the unit a report's rows are counted in (an All Orders row is
            an order item; the order it belongs to is written beside it, not counted).
        kept: columns a report may leave out or leave empty: a missing value (None, or '' where something
            is stored) never overwrites what an earlier report said (a returns report without the SAFE-T
            columns, or an older one, must not erase a claim or a delivery day).
    """

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    version: str | None = None
    counted: bool = True
    kept: tuple[str, ...] = ()


ORDER = RecordSpec(
    "orders",
    (
        "order_id",
        "merchant_order_id",
        "purchased_at",
        "last_updated_at",
        "status",
        "channel",
        "sales_channel",
        "ship_service_level",
        "ship_state",
        "ship_country",
        "is_business",
        "marketplace",
    ),
    key=("order_id",),
    version="last_updated_at",
    counted=False,
)

ORDER_ITEM = RecordSpec(
    "order_items",
    (
        "order_id",
        "sku",
        "last_updated_at",
        "asin",
        "product_name",
        "item_status",
        "quantity",
        "currency",
        "item_price",
        "item_tax",
        "shipping_price",
        "item_promotion_discount",
    ),
    key=("order_id", "sku"),
    version="last_updated_at",
)

FEEDBACK = RecordSpec(
    "feedback",
    ("order_id", "feedback_date", "rating", "comments", "response", "struck_through"),
    key=("order_id",),
)

# The FBM returns report's delivery back to the seller and its SAFE-T claim: columns a report may leave out.
SAFET_COLUMNS = (
    "return_delivery_date",
    "safet_reason",
    "safet_claim_id",
    "safet_claim_state",
    "safet_claim_created",
    "safet_reimbursed",
)

# An FBM return's `return_delivery_date` when the report had the column and left it empty: not back (yet).
NOT_DELIVERED = ""
FBM_RETURN = RecordSpec(
    "fbm_returns",
    (
        "return_id",
        "order_id",
        "order_date",
        "request_date",
        "status",
        "reason",
        "in_policy",
        "return_type",
        "resolution",
        "a_to_z_claim",
        "asin",
        "sku",
        "item_name",
        "quantity",
        "order_amount",
        "refunded_amount",
        "currency",
        *SAFET_COLUMNS,
    ),
    key=("return_id",),
    kept=SAFET_COLUMNS,
)

FBA_RETURN = RecordSpec(
    "fba_returns",
    (
        "return_key",
        "order_id",
        "returned_at",
        "sku",
        "asin",
        "product_name",
        "quantity",
        "disposition",
        "reason",
        "status",
        "customer_comments",
    ),
    key=("return_key",),
)

CLAIM = RecordSpec(
    "claims",
    (
        "order_id",
        "type",
        "filed_on",
        "status",
        "reason",
        "amount",
        "currency",
        "decided_on",
        "buy_shipping_protected",
    ),
    key=("order_id", "type"),
)

MESSAGE = RecordSpec(
    "messages",
    ("message_id", "thread_key", "order_id", "received_at", "kind", "topic", "subject", "body"),
    key=("message_id",),
)

# `breaches`: what the Communication Guidelines check found in the reply (JSON); a re-import rewrites it with
# the current rules. Marks and triage records write no reply text, and keep NULL (not checked).
REPLY = RecordSpec(
    "replies",
    ("message_id", "thread_key", "order_id", "sent_at", "automatic", "breaches"),
    key=("message_id",),
)

HEALTH_SNAPSHOT = RecordSpec(
    "account_health_snapshots",
    ("sha256", "report_json"),
    key=("sha256",),
)
