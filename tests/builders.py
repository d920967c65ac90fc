"""Small hand-built sellers written straight into a real SQLite file, for testing one rule at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlite_utils

from app.marketplaces import of_sales_channel
from app.metrics import metrics_as_of
from app.settings import save_setting
from app.snapshot import load_snapshot


def at(text: str) -> int:
    """`2026-10-03 14:00` (UTC) as epoch seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


class Seller:
    """Writes orders, feedback, claims, messages, replies and returns with sensible defaults."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self._next = 1000000

    def order_id(self) -> str:
        self._next += 1
        return f"111-{self._next:07d}-{self._next:07d}"

    def order(
        self,
        purchased: str = "2026-09-01 12:00",
        channel: str = "FBM",
        status: str = "Shipped",
        order_id: str | None = None,
        sales_channel: str = "Amazon.com",
    ) -> str:
        order_id = order_id or self.order_id()
        when = at(purchased)
        self.db["orders"].insert(
            {
                "order_id": order_id,
                "purchased_at": when,
                "last_updated_at": when,
                "status": status,
                "channel": channel,
                "sales_channel": sales_channel,
                # As the importer stores it; NULL (the home marketplace) for a channel naming none.
                "marketplace": of_sales_channel(sales_channel),
            }
        )
        self.db["order_items"].insert(
            {"order_id": order_id, "sku": "SKU-1", "last_updated_at": when, "quantity": 1, "item_price": 20.0}
        )
        return order_id

    def orders(self, count: int, purchased: str = "2026-09-01 12:00", channel: str = "FBM") -> list[str]:
        return [self.order(purchased, channel) for _ in range(count)]

    def feedback(self, order_id: str, day: str, rating: int = 1, comments: str = "Bad", **extra) -> None:
        row = {"order_id": order_id, "feedback_date": day, "rating": rating, "comments": comments}
        self.db["feedback"].insert(row | extra)

    def claim(
        self,
        order_id: str,
        filed: str,
        type: str = "a-to-z",
        status: str = "open",
        reason: str = "not-as-described",
        decided: str | None = None,
        protected: bool = False,
        **extra,
    ) -> None:
        row = {
            "order_id": order_id,
            "type": type,
            "filed_on": filed,
            "status": status,
            "reason": reason,
            "decided_on": decided,
            "buy_shipping_protected": int(protected),
        }
        self.db["claims"].insert(row | extra)

    def message(
        self,
        received: str,
        thread: str = "buyer1",
        order_id: str | None = None,
        kind: str = "buyer",
        topic: str = "Order delivery",
        message_id: str | None = None,
        **extra,
    ) -> str:
        message_id = message_id or f"m{len(list(self.db.query('SELECT 1 FROM messages')))}-{thread}-{received}"
        row = {
            "message_id": message_id,
            "thread_key": thread,
            "order_id": order_id,
            "received_at": at(received),
            "kind": kind,
            "topic": topic,
            "subject": f"{topic} inquiry from Amazon customer Ann",
            "body": "Where is my parcel?",
        }
        self.db["messages"].insert(row | extra)
        return message_id

    def reply(self, sent: str, thread: str = "buyer1", automatic: bool = False, order_id: str | None = None) -> None:
        count = self.db["replies"].count
        self.db["replies"].insert(
            {
                "message_id": f"r{count}",
                "thread_key": thread,
                "order_id": order_id,
                "sent_at": at(sent),
                "automatic": int(automatic),
            }
        )

    def return_request(self, order_id: str, requested: str, status: str = "Approved", **extra) -> None:
        count = self.db["fbm_returns"].count
        row = {"return_id": f"RMA{count}", "order_id": order_id, "request_date": requested, "status": status}
        self.db["fbm_returns"].insert(row | extra)

    def setting(self, key: str, value) -> None:
        save_setting(self.db, key, value)


def day(text: str) -> date:
    return date.fromisoformat(text)


def figures_on(db: sqlite_utils.Database, as_of: date) -> dict:
    """Every figure as of the end of `as_of` (local day), read fresh from the database."""
    return metrics_as_of(load_snapshot(db, as_of, as_of), as_of)
