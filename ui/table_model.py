"""What the clocks table and the triage list share: a model over an immutable list of rows with one
countdown column recomputed from absolute deadlines, ticked by one 1-second timer, and the table set-up."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QTableView, QWidget

Index = QModelIndex | QPersistentModelIndex
TICKED_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole]


class CountdownTableModel(QAbstractTableModel):
    """Rows (`self.rows`) under `HEADERS`; `tick` recomputes `COUNTDOWN_COLUMN` only."""

    HEADERS: tuple[str, ...] = ()
    COUNTDOWN_COLUMN = 0

    def __init__(self, now: Callable[[], float] = time.time):
        super().__init__()
        self._now = now
        self._at = now()
        self.rows: list = []

    @property
    def at(self) -> float:
        """The instant the countdowns were last computed for."""
        return self._at

    def tick(self) -> None:
        """Recompute the countdown column from the deadlines (once a second, by the view's one timer)."""
        self._at = self._now()
        if self.rows:
            column = self.COUNTDOWN_COLUMN
            self.dataChanged.emit(self.index(0, column), self.index(len(self.rows) - 1, column), TICKED_ROLES)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


def countdown_timer(parent: QWidget, model: CountdownTableModel) -> QTimer:
    """One timer for the whole table (never one per deadline: Qt intervals overflow at about 24.8 days)."""
    timer = QTimer(parent)
    timer.setInterval(1000)
    timer.timeout.connect(model.tick)
    timer.start()
    return timer


def configure_table(table: QTableView, proxy: QSortFilterProxyModel) -> None:
    """Whole rows, one at a time, sortable by a header click but in the model's own order until then."""
    table.setModel(proxy)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setSortingEnabled(True)
    proxy.sort(-1)
    table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    table.verticalHeader().hide()
    table.setWordWrap(False)


def give_way(
    widths: dict[int, int],
    order: tuple[tuple[int, int | None], ...],
    room: int,
    least_of: Callable[[int, int], int] = lambda column, least: least,
) -> tuple[dict[int, int], set[int]]:
    """Column widths that fit in `room` pixels: columns give way in `order` (hidden when their least width
    is None, else cut down towards it) until they fit, so a table never has to scroll sideways."""
    widths = dict(widths)
    hidden: set[int] = set()
    for column, least in order:
        excess = sum(width for shown, width in widths.items() if shown not in hidden) - room
        if excess <= 0:
            break
        if least is None:
            hidden.add(column)
        else:
            widths[column] = max(min(least_of(column, least), widths[column]), widths[column] - excess)
    return widths, hidden


def set_widths(table: QTableView, widths: dict[int, int], hidden: set[int]) -> None:
    for column, width in widths.items():
        table.setColumnHidden(column, column in hidden)
        if column not in hidden and table.columnWidth(column) != width:
            table.setColumnWidth(column, width)


ALL_MARKETPLACES = "All marketplaces"


def marketplace_filter(accessible_name: str) -> QComboBox:
    """The marketplace filter: hidden until the rows name more than one marketplace."""
    combo = QComboBox()
    combo.setAccessibleName(accessible_name)
    combo.addItem(ALL_MARKETPLACES, None)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.hide()
    return combo


def fill_marketplace_filter(combo: QComboBox, counts: dict[str, tuple[int, int]]) -> str | None:
    """List the marketplaces with their (open, overdue) counts, in alphabetical order: an order by urgency
    would move the entries under the seller's hand at every recomputation, and the overdue count already
    points at the marketplace that needs them. Keeps the one chosen while it is still listed; returns the
    marketplace chosen (None: all)."""
    chosen = combo.currentData()
    combo.blockSignals(True)
    try:
        combo.clear()
        combo.addItem(ALL_MARKETPLACES, None)
        for code in sorted(counts):
            open_count, overdue = counts[code]
            combo.addItem(f"{code} ({open_count} open{f', {overdue} overdue' if overdue else ''})", code)
        # A filter the seller cannot see would hide rows without a word: with one marketplace, show all.
        index = combo.findData(chosen) if len(counts) > 1 else 0
        combo.setCurrentIndex(max(index, 0))
    finally:
        combo.blockSignals(False)
    combo.setVisible(len(counts) > 1)
    return combo.currentData()


def hidden_overdue_text(hidden: int) -> str:
    """What a marketplace filter hides that is past its deadline: never hidden without a word."""
    if not hidden:
        return ""
    return "1 overdue in another marketplace" if hidden == 1 else f"{hidden} overdue in other marketplaces"
