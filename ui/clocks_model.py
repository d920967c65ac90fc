"""The table of open clocks: one immutable list of rows, a countdown column recomputed from absolute
deadlines, and a proxy for the kind, channel and marketplace filters."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSortFilterProxyModel, Qt

from app.clocks import (
    A_TO_Z_APPEAL,
    A_TO_Z_RESPONSE,
    BUYER_REPLY,
    CHARGEBACK_RESPONSE,
    CSBA_INQUIRY,
    FEEDBACK_REMOVAL,
    RETURN_RESPONSE,
    Clock,
)
from app.reasons import code_note
from ui.table_model import CountdownTableModel, Index
from ui.theme import URGENCY_BACKGROUNDS, URGENCY_COLOURS, qcolor, urgency

COUNTDOWN, WHAT, ORDER, CHANNEL, TOPIC, STARTED, DUE, MARKETPLACE = range(8)
HEADERS = ("Time left", "What", "Order", "Channel", "Topic / reason", "Received / started", "Due", "Marketplace")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CLOCK_ROLE = Qt.ItemDataRole.UserRole + 2
REPLY_KINDS = (BUYER_REPLY, CSBA_INQUIRY)
KIND_FILTERS = {
    "All clocks": None,
    "Buyer messages": REPLY_KINDS,
    "Return requests": (RETURN_RESPONSE,),
    "A-to-z claims": (A_TO_Z_RESPONSE, A_TO_Z_APPEAL),
    "Chargebacks": (CHARGEBACK_RESPONSE,),
    "Feedback removal": (FEEDBACK_REMOVAL,),
}
CHANNEL_FILTERS = {"All channels": None, "FBA": "FBA", "FBM": "FBM"}
NO_ORDER = "no order yet"  # a question before buying: shorter than an order id, so the column needs no cutting


def priority(clock: Clock) -> tuple:
    """Buyer replies first (the 24-hour clock that drives LRR), then every clock by urgency."""
    return (0 if clock.kind in REPLY_KINDS else 1, clock.due_at, clock.item_id)


def by_priority(clocks: Sequence[Clock]) -> list[Clock]:
    """`priority` order for clocks already sorted by deadline (as `app.clocks` gives them): two passes
    instead of a sort with a Python key, which costs 10 ms of the window's time for 10,000 clocks."""
    deadlines = [clock.due_at for clock in clocks]
    ordered = deadlines == sorted(deadlines)
    if not ordered:
        return sorted(clocks, key=priority)
    return [c for c in clocks if c.kind in REPLY_KINDS] + [c for c in clocks if c.kind not in REPLY_KINDS]


def countdown_text(seconds: float) -> str:
    """`5 h 12 min 09 s`, `overdue 2 d 3 h`: seconds shown while under an hour so the tick is visible."""
    span = abs(int(seconds))
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    else:
        text = f"{minutes} min {secs:02d} s"
    return text if seconds >= 0 else f"overdue {text}"


class ClocksModel(CountdownTableModel):
    """Open clocks, buyer replies first, most urgent first. `now` is injected (tests use a fixed clock)."""

    HEADERS = HEADERS
    COUNTDOWN_COLUMN = COUNTDOWN

    def __init__(self, now: Callable[[], float] = time.time, zone: ZoneInfo | None = None):
        super().__init__(now)
        self.zone = zone or ZoneInfo("UTC")
        self.all_rows: list[Clock] = []
        self.kinds: tuple[str, ...] | None = None
        self.channel: str | None = None
        self.marketplace: str | None = None

    def set_rows(self, clocks: Sequence[Clock], zone: ZoneInfo | None = None) -> None:
        self.beginResetModel()
        self.all_rows = by_priority(clocks)
        self.rows = self._shown(self.all_rows)
        self.zone = zone or self.zone
        self._at = self._now()
        self.endResetModel()

    def set_filter(self, kinds: tuple[str, ...] | None, channel: str | None, marketplace: str | None = None) -> None:
        """Show only clocks of these kinds, this channel and this marketplace (None: all). Filtering here, in
        one list comprehension, instead of a proxy's filterAcceptsRow: Qt would call into Python once per row
        on every reset, 10,000 calls for a seller with years of unanswered history."""
        self.beginResetModel()
        self.kinds, self.channel, self.marketplace = kinds, channel, marketplace
        self.rows = self._shown(self.all_rows)
        self.endResetModel()

    def _shown(self, clocks: list[Clock]) -> list[Clock]:
        kinds, channel, marketplace = self.kinds, self.channel, self.marketplace
        if kinds is None and channel is None and marketplace is None:
            return clocks
        return [
            c
            for c in clocks
            if (kinds is None or c.kind in kinds)
            and (channel is None or c.channel == channel)
            and (marketplace is None or c.marketplace == marketplace)
        ]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        clock = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(clock, column)
        if role == SORT_ROLE:
            return self._sort_value(clock, column)
        if role == CLOCK_ROLE:
            return clock
        level = urgency(clock.remaining_s(self._at))
        if role == Qt.ItemDataRole.ForegroundRole and column in (COUNTDOWN, WHAT):
            return qcolor(URGENCY_COLOURS[level])
        if role == Qt.ItemDataRole.BackgroundRole:
            return qcolor(URGENCY_BACKGROUNDS[level])
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(clock, column)
        return None

    def _tooltip(self, clock: Clock, column: int) -> str:
        """The topic or reason in full (the column may elide it), with the reason code behind the words;
        elsewhere the whole row, for the columns a narrow window folds away or cuts."""
        if column == TOPIC and clock.detail_text:
            code = code_note(clock.reason_code)
            return clock.detail_text + (f"\nReason code: {code}" if code else "")
        channel = f" ({clock.channel})" if clock.channel else ""
        order = f"Order {clock.order_id}{channel}" if clock.order_id else f"A question before buying: {NO_ORDER}"
        market = f"\n{clock.marketplace} marketplace" if clock.marketplace else ""
        started = "Received" if clock.kind in REPLY_KINDS else "Started"
        return (
            f"{clock.label}: due {self._when(clock.due_at)}\n{order}{market}\n{started} {self._when(clock.started_at)}"
        )

    def _when(self, instant: float) -> str:
        return datetime.fromtimestamp(instant, tz=self.zone).strftime("%a %d %b, %H:%M")

    def _text(self, clock: Clock, column: int) -> str:
        if column == COUNTDOWN:
            return countdown_text(clock.remaining_s(self._at))
        if column == WHAT:
            return clock.label
        if column == ORDER:
            return clock.order_id or NO_ORDER
        if column == CHANNEL:
            return clock.channel or ""
        if column == TOPIC:
            return clock.detail_text
        if column == STARTED:
            return self._when(clock.started_at)
        if column == MARKETPLACE:
            return clock.marketplace or ""
        return self._when(clock.due_at)

    def _sort_value(self, clock: Clock, column: int):
        if column in (COUNTDOWN, DUE):
            return clock.due_at
        if column == STARTED:
            return clock.started_at
        return self._text(clock, column).lower()


class ClocksFilter(QSortFilterProxyModel):
    """Sorts by the raw values (SORT_ROLE) when the seller clicks a header; the filters live in the model."""

    def __init__(self):
        super().__init__()
        self.setSortRole(SORT_ROLE)
        # A dynamic proxy re-sorts on every dataChanged: the countdown tick would re-sort every second.
        self.setDynamicSortFilter(False)

    def set_kinds(self, kinds: tuple[str, ...] | None) -> None:
        model = self.sourceModel()
        model.set_filter(kinds, model.channel, model.marketplace)

    def set_channel(self, channel: str | None) -> None:
        model = self.sourceModel()
        model.set_filter(model.kinds, channel, model.marketplace)

    def set_marketplace(self, marketplace: str | None) -> None:
        model = self.sourceModel()
        model.set_filter(model.kinds, model.channel, marketplace)
