"""The table of open clocks: one immutable list of rows, a countdown column recomputed from absolute
deadlines, and a proxy for the kind and channel filters."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

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
from ui.theme import URGENCY_BACKGROUNDS, URGENCY_COLOURS, qcolor, urgency

COUNTDOWN, WHAT, ORDER, CHANNEL, TOPIC, STARTED, DUE = range(7)
HEADERS = ("Time left", "What", "Order", "Channel", "Topic / reason", "Received / started", "Due")
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
Index = QModelIndex | QPersistentModelIndex


def priority(clock: Clock) -> tuple:
    """Buyer replies first (the 24-hour clock that drives LRR), then every clock by urgency."""
    return (0 if clock.kind in REPLY_KINDS else 1, clock.due_at, clock.item_id)


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


class ClocksModel(QAbstractTableModel):
    """Open clocks, buyer replies first, most urgent first. `now` is injected (tests use a fixed clock)."""

    def __init__(self, now: Callable[[], float] = time.time, zone: ZoneInfo | None = None):
        super().__init__()
        self._now = now
        self._at = now()
        self.zone = zone or ZoneInfo("UTC")
        self.rows: list[Clock] = []

    def set_rows(self, clocks: Sequence[Clock], zone: ZoneInfo | None = None) -> None:
        self.beginResetModel()
        self.rows = sorted(clocks, key=priority)
        self.zone = zone or self.zone
        self._at = self._now()
        self.endResetModel()

    def tick(self) -> None:
        """Recompute the countdown column from the deadlines (called once a second by one timer)."""
        self._at = self._now()
        if self.rows:
            self.dataChanged.emit(
                self.index(0, COUNTDOWN),
                self.index(len(self.rows) - 1, COUNTDOWN),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole],
            )

    @property
    def at(self) -> float:
        return self._at

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

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
            return f"{clock.label}: due {self._when(clock.due_at)}"
        return None

    def _when(self, instant: float) -> str:
        return datetime.fromtimestamp(instant, tz=self.zone).strftime("%a %d %b, %H:%M")

    def _text(self, clock: Clock, column: int) -> str:
        if column == COUNTDOWN:
            return countdown_text(clock.remaining_s(self._at))
        if column == WHAT:
            return clock.label
        if column == ORDER:
            return clock.order_id or "— (question before buying)"
        if column == CHANNEL:
            return clock.channel or ""
        if column == TOPIC:
            return clock.detail
        if column == STARTED:
            return self._when(clock.started_at)
        return self._when(clock.due_at)

    def _sort_value(self, clock: Clock, column: int):
        if column in (COUNTDOWN, DUE):
            return clock.due_at
        if column == STARTED:
            return clock.started_at
        return self._text(clock, column).lower()


class ClocksFilter(QSortFilterProxyModel):
    """Filters by kind of clock and by channel; sorts by the raw values (SORT_ROLE)."""

    def __init__(self):
        super().__init__()
        self.kinds: tuple[str, ...] | None = None
        self.channel: str | None = None
        self.setSortRole(SORT_ROLE)

    def set_kinds(self, kinds: tuple[str, ...] | None) -> None:
        self.beginFilterChange()
        self.kinds = kinds
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_channel(self, channel: str | None) -> None:
        self.beginFilterChange()
        self.channel = channel
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        clock = self.sourceModel().rows[source_row]
        if self.kinds is not None and clock.kind not in self.kinds:
            return False
        return self.channel is None or clock.channel == self.channel
