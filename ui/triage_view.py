"""Monday triage: everything still open, whatever its age, what earlier triages left unresolved and
every new defect and contact since the last completed triage, worked down one list.

The list (left) shows each item's category, what happened, its effect on ODR, its one deadline (the
clock it is on, or the matrix's response time when it is on none) and, for feedback, whether Amazon
would remove it. The panel (right) shows the suggested resolution path from
the escalation matrix and records what the seller did. Writes go to the background worker through the
signals; the view only shows the `TriageList` it is given.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedLayout,
    QStyle,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.reasons import code_note
from app.reply_templates import item_reply
from app.triage import CATEGORIES, KIND_NAMES, STATUS_CHANGE, TriageItem, TriageList
from ui.clocks_model import countdown_text
from ui.confirm import confirm
from ui.dashboard import EmptyState, WrappingLabel
from ui.table_model import (
    CountdownTableModel,
    Index,
    configure_table,
    countdown_timer,
    fill_marketplace_filter,
    give_way,
    hidden_overdue_text,
    marketplace_filter,
    set_widths,
)
from ui.theme import URGENCY_BACKGROUNDS, URGENCY_COLOURS, qcolor, urgency

STATUS, DATE, CATEGORY, WHAT, ORDER, CHANNEL, EFFECT, CLOCK, REMOVAL, CARRIED, MARKETPLACE = range(11)
WIDEST = {EFFECT: 140, REMOVAL: 112, CATEGORY: 120, CARRIED: 70, CHANNEL: 64}  # measured widths are capped at
# How the list makes room, in order, when it is too narrow: a column the panel repeats is folded away
# (None), a long one is elided down to a width (whole in its tooltip and the panel). At half a laptop's screen
# the list keeps the status, category, what happened and the deadline; the panel says the rest. While
# every marketplace is listed, each row's marketplace (in which Seller Central it is dealt with) outlasts the
# removal ground, which few rows have.
GIVE_WAY = (
    (CARRIED, None),
    (EFFECT, 120),
    (CATEGORY, 118),
    (CHANNEL, None),
    (REMOVAL, None),
    (MARKETPLACE, None),
    (EFFECT, None),
    (DATE, None),
    (ORDER, None),
)
WHAT_LEAST = 220  # "What happened" keeps room for a few words of the buyer's message
PANEL_WIDTH = 320
PANEL_BELOW_WIDTH = 1180  # narrower than this, the panel goes under the list
BESIDE_SIZES, BELOW_SIZES = (1000, PANEL_WIDTH), (600, 360)
QWIDGETSIZE_MAX = (1 << 24) - 1
HEADERS = (
    "✓",
    "Date",
    "Category",
    "What happened",
    "Order",
    "Channel",
    "Effect on ODR",
    "Deadline",
    "Removal ground",
    "Carried",
    "Marketplace",
)
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
GROUND_SHORT = {
    "obscene": "obscene",
    "personal_info": "personal info",
    "product_review": "product review",
    "fba_fulfillment": "FBA delivery",
}
GROUND_WORDS = {
    "obscene": "obscene or profane",
    "personal_info": "personal information",
    "product_review": "entirely a product review",
    "fba_fulfillment": "FBA delivery complaint (strike-through)",
}


def removal_text(item: TriageItem) -> str:
    removal = item.removal
    if not removal:
        return ""
    ground = GROUND_WORDS.get(removal.get("ground"), removal.get("ground"))
    # `window_closes` is the first day it can no longer be asked: the seller needs the last day it can,
    # the same day the removal clock's deadline (midnight at its end) is shown as.
    last_day = (date.fromisoformat(removal["window_closes"]) - timedelta(days=1)).strftime("%a %d %b %Y")
    if removal.get("ground") and removal.get("eligible"):
        return f"{ground} — request removal by {last_day}"
    if removal.get("ground"):
        return f"{ground} (the removal window ended {last_day})"
    return "no removal ground: never ask for removal; contact the buyer and resolve the problem"


def marketplace_text(item: TriageItem, named: bool) -> str:
    """The item's marketplace; "all" for a status change when the list names marketplaces (its figure is
    over every marketplace)."""
    if item.marketplace:
        return item.marketplace
    return "all" if named and item.kind == STATUS_CHANGE else ""


def deadline_text(item: TriageItem, zone: ZoneInfo) -> str:
    """The item's one deadline as a moment: a local midnight is the end of the day before, so a removal
    window's last day and its clock read the same."""
    moment = datetime.fromtimestamp(item.due_at, tz=zone)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return (moment - timedelta(days=1)).strftime("end of %a %d %b %Y")
    return moment.strftime("%a %d %b %Y, %H:%M")


REPLY_COPIED = "Reply copied: paste it in Seller Central"
COPY_REPLY_KEYS = "Ctrl+Shift+C"


def copy_reply_action(parent: QWidget, copy: Callable[[], None]) -> QAction:
    """Copy reply, in the table's context menu and on Ctrl+Shift+C while the view has the focus."""
    action = QAction("Copy re&ply", parent)
    action.setShortcut(QKeySequence(COPY_REPLY_KEYS))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(copy)
    parent.addAction(action)
    return action


def put_on_clipboard(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def carried_text(days: int | None) -> str:
    if days is None:
        return ""
    if days == 0:
        return "since today"
    return f"{days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class ListingFacts:
    """What the heading, the columns and the marketplace filter say about a list, read in one pass over its
    items. A list can hold tens of thousands of items: the window works this out on the thread the list
    arrives on (`ui.bridge`), so that showing it costs the GUI thread only what Qt itself does."""

    listing: TriageList
    open: int
    resolved: int
    overdue: int
    carried: int
    carried_days: dict[str, int | None]
    marketplaces: dict[str, tuple[int, int]]  # code: (open, past their deadline)
    named: bool  # some item names its marketplace
    positions: dict[str, int]  # item key: its place in the list


def listing_facts(listing: TriageList) -> ListingFacts:
    at, as_of, zone = listing.at, listing.as_of, ZoneInfo(listing.timezone)
    open_items = overdue = carried = 0
    carried_days: dict[str, int | None] = {}
    marketplaces: dict[str, list[int]] = {}
    for item in listing.items:
        still_open = not item.resolved
        late = still_open and item.passed(at)
        open_items += still_open
        overdue += late
        if item.carried_since is not None:
            carried += still_open
            carried_days[item.key] = item.carried_days(as_of, zone)
        if item.marketplace:
            mine = marketplaces.setdefault(item.marketplace, [0, 0])
            mine[0] += still_open
            mine[1] += late
    return ListingFacts(
        listing,
        open_items,
        len(listing.items) - open_items,
        overdue,
        carried,
        carried_days,
        {code: (n[0], n[1]) for code, n in marketplaces.items()},
        bool(marketplaces),
        {item.key: position for position, item in enumerate(listing.items)},
    )


class TriageModel(CountdownTableModel):
    """The triage items; the clock column is recomputed from absolute deadlines by `tick`."""

    HEADERS = HEADERS
    COUNTDOWN_COLUMN = CLOCK

    def __init__(self, now: Callable[[], float] = time.time):
        super().__init__(now)
        self.carried: dict[str, int | None] = {}
        self.marketplaces_named = False
        self.all_rows: list[TriageItem] = []
        self.accepts: Callable[[TriageItem], bool] | None = None  # the filter; `rows` are the items it lets through
        self._row_of: dict[str, int] | None = None

    def set_rows(
        self,
        items: Sequence[TriageItem],
        carried: dict[str, int | None] | None = None,
        named: bool | None = None,
        positions: dict[str, int] | None = None,
    ) -> None:
        """`carried`: the days each carried-over item has waited (others: none); `named`: whether an item names
        its marketplace, `positions`: each item's place in `items` (both worked out here when not given)."""
        self.beginResetModel()
        self.all_rows = list(items)
        self.rows = self._filtered()
        if self.accepts is None and positions is not None:
            self._row_of = positions
        self.carried = dict(carried or {})
        self.marketplaces_named = any(item.marketplace for item in self.all_rows) if named is None else named
        self._at = self._now()
        self.endResetModel()

    def refilter(self, accepts: Callable[[TriageItem], bool] | None) -> None:
        """List the items `accepts` lets through (None: every item). Filtered here in one pass rather than by
        the proxy asking Python about each row; the selection stays on its item while it is listed."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        keys = [self.rows[index.row()].key if 0 <= index.row() < len(self.rows) else None for index in before]
        self.accepts = accepts
        self.rows = self._filtered()
        after = [
            self.index(row, index.column()) if (row := self.row_of(key)) is not None else QModelIndex()
            for key, index in zip(keys, before, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def row_of(self, key: str | None) -> int | None:
        """The row of the item with this key among those listed (None: not listed)."""
        if self._row_of is None:
            self._row_of = {item.key: row for row, item in enumerate(self.rows)}
        return self._row_of.get(key)

    def _filtered(self) -> list[TriageItem]:
        self._row_of = None
        accepts = self.accepts
        return list(self.all_rows) if accepts is None else [item for item in self.all_rows if accepts(item)]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        item = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(item, column)
        if role == ITEM_ROLE:
            return item
        if role == SORT_ROLE:
            return self._sort_value(item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, column)
        if item.resolved:
            return qcolor("#7a7a7a") if role == Qt.ItemDataRole.ForegroundRole else None
        if column == CLOCK and item.waiting is None:
            level = urgency(item.due_at - self._at)
            if role == Qt.ItemDataRole.ForegroundRole:
                return qcolor(URGENCY_COLOURS[level])
            if role == Qt.ItemDataRole.BackgroundRole:
                return qcolor(URGENCY_BACKGROUNDS[level])
        if role == Qt.ItemDataRole.ForegroundRole and column == EFFECT and item.odr_effect == "counts":
            return qcolor(URGENCY_COLOURS["red"])
        return None

    def _tooltip(self, item: TriageItem, column: int) -> str | None:
        """Whatever a narrow column cuts, whole: the long texts in their full form, the others as shown."""
        if column in (WHAT, REMOVAL, EFFECT):
            return {WHAT: item.what, REMOVAL: removal_text(item), EFFECT: item.odr_effect}[column]
        return self._text(item, column) or None

    def _text(self, item: TriageItem, column: int) -> str:
        if column == STATUS:
            return "✓" if item.resolved else ""
        if column == DATE:
            return item.day.strftime("%a %d %b")
        if column == CATEGORY:
            return CATEGORIES[item.category]
        if column == WHAT:
            return item.what
        if column == ORDER:
            return item.order_id or "—"
        if column == CHANNEL:
            return item.channel or ""
        if column == EFFECT:
            return item.odr_effect
        if column == CLOCK:
            if item.resolved:
                return ""
            return item.waiting or countdown_text(item.due_at - self._at)
        if column == CARRIED:
            return carried_text(self.carried.get(item.key))
        if column == MARKETPLACE:
            return marketplace_text(item, self.marketplaces_named)
        ground = (item.removal or {}).get("ground")
        return GROUND_SHORT.get(ground, ground or "") if item.removal else ""

    def _sort_value(self, item: TriageItem, column: int):
        if column == DATE:
            return item.at
        if column == CLOCK:
            return item.due_at
        if column == CARRIED:
            days = self.carried.get(item.key)
            return -1 if days is None else days
        return self._text(item, column).lower()


class TriageFilter(QSortFilterProxyModel):
    """Sorts the list; its filters are applied by the model (`TriageModel.refilter`), in one pass."""

    def __init__(self):
        super().__init__()
        self.category: str | None = None
        self.marketplace: str | None = None
        self.show_resolved = True
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(False)  # the clock tick must not re-sort every row each second

    def set_category(self, category: str | None) -> None:
        self.category = category
        self._refilter()

    def set_show_resolved(self, show: bool) -> None:
        self.show_resolved = show
        self._refilter()

    def set_marketplace(self, marketplace: str | None) -> None:
        self.marketplace = marketplace
        self._refilter()

    def _refilter(self) -> None:
        everything = self.category is None and self.marketplace is None and self.show_resolved
        self.sourceModel().refilter(None if everything else self.accepts)

    def accepts(self, item: TriageItem) -> bool:
        if self.category is not None and item.category != self.category:
            return False
        if not self.in_marketplace(item):
            return False
        return self.show_resolved or not item.resolved

    def in_marketplace(self, item: TriageItem) -> bool:
        """Whether the marketplace filter lists the item: a status change is about a figure over every
        marketplace, so it is listed under each."""
        return self.marketplace is None or item.marketplace in (None, self.marketplace)


class TriageView(QWidget):
    """The list, the selected item's resolution path, and the session's actions."""

    resolve_requested = Signal(str, str, str)  # key, action taken, note
    reopen_requested = Signal(str)
    category_requested = Signal(str, object)  # key, category or None (back to the derived one)
    complete_requested = Signal(list)  # keys the seller saw
    export_csv_requested = Signal(str)
    export_report_requested = Signal(str)
    matrix_requested = Signal()
    timeline_requested = Signal(str)
    reply_copied = Signal(str)  # the status bar's message

    def __init__(self, now: Callable[[], float] = time.time):
        super().__init__()
        self.listing: TriageList | None = None
        self.facts: ListingFacts | None = None
        self.columns_fitted = False
        self.shown_key: str | None = None
        self.zone = ZoneInfo("UTC")
        self.model = TriageModel(now)
        self.proxy = TriageFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        configure_table(self.table, self.proxy)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(WHAT, QHeaderView.ResizeMode.Stretch)
        header.setResizeContentsPrecision(50)
        header.moveSection(header.visualIndex(MARKETPLACE), header.visualIndex(ORDER) + 1)
        self.table.setColumnHidden(MARKETPLACE, True)
        self.marketplace_column = False
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())

        self.heading = WrappingLabel("")  # whole on two lines rather than cut beside the buttons
        self.heading.setStyleSheet("font-weight: 600;")
        self.category_filter = QComboBox()
        self.category_filter.addItem("All categories", None)
        for key, name in CATEGORIES.items():
            self.category_filter.addItem(name, key)
        self.category_filter.currentIndexChanged.connect(
            lambda _: self.proxy.set_category(self.category_filter.currentData())
        )
        self.marketplace_filter = marketplace_filter("Show items of marketplace")
        self.marketplace_filter.currentIndexChanged.connect(lambda _: self._marketplace_chosen())
        self.hidden_overdue = QLabel("")
        self.hidden_overdue.setStyleSheet(f"color: {URGENCY_COLOURS['overdue']}; font-weight: 600;")
        self.hidden_overdue.hide()
        self.show_resolved = QCheckBox("Show resolved")
        self.show_resolved.setChecked(True)
        self.show_resolved.toggled.connect(self.proxy.set_show_resolved)
        self.complete_button = QPushButton("&Complete triage…")
        self.complete_button.clicked.connect(self._complete)
        export_csv = QPushButton("Export CSV…")
        export_csv.clicked.connect(self._export_csv)
        report = QPushButton("Printable report…")
        report.clicked.connect(self._export_report)
        matrix = QPushButton("Escalation matrix…")
        matrix.clicked.connect(self.matrix_requested)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(matrix)
        top.addWidget(export_csv)
        top.addWidget(report)
        top.addWidget(self.complete_button)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.category_filter)
        filters.addWidget(self.marketplace_filter)
        filters.addWidget(self.show_resolved)
        filters.addStretch()

        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        self.category_choice = QComboBox()
        for key, name in CATEGORIES.items():
            self.category_choice.addItem(name, key)
        self.category_choice.activated.connect(self._category_chosen)
        self.action_taken = QLineEdit()
        self.action_taken.setPlaceholderText("What you did, e.g. replied with tracking, refunded 24.00")
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note (optional): evidence, ticket number…")
        self.resolve_button = QPushButton("Mark &resolved")
        self.resolve_button.clicked.connect(self._resolve)
        self.action_taken.returnPressed.connect(self._resolve)
        self.reopen_button = QPushButton("Reopen")
        self.reopen_button.clicked.connect(self._reopen)
        self.timeline_button = QPushButton("Order &timeline…")
        self.timeline_button.clicked.connect(self._timeline)
        self.copy_action = copy_reply_action(self, self._copy_reply)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.addAction(self.copy_action)
        self.copy_button = QPushButton("Copy re&ply")
        self.copy_button.setToolTip(
            f"The category's reply template, filled in for this item, on the clipboard ({COPY_REPLY_KEYS})"
        )
        self.copy_button.clicked.connect(self._copy_reply)
        form = QFormLayout()
        form.addRow("Category", self.category_choice)
        form.addRow("Action taken", self.action_taken)
        form.addRow("Note", self.note)
        # Two rows: the narrow side panel of a 1024-pixel screen cannot hold four buttons side by side.
        buttons = QHBoxLayout()
        buttons.addWidget(self.resolve_button)
        buttons.addWidget(self.reopen_button)
        buttons.addStretch()
        more = QHBoxLayout()
        more.addWidget(self.copy_button)
        more.addStretch()
        more.addWidget(self.timeline_button)
        self.controls = QWidget()
        controls = QVBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addLayout(form)
        controls.addLayout(buttons)
        controls.addLayout(more)
        controls.addStretch()
        panel = QWidget()
        self.side = QBoxLayout(QBoxLayout.Direction.TopToBottom, panel)
        self.side.setContentsMargins(6, 0, 0, 0)
        self.side.addWidget(self.detail, 1)
        self.side.addWidget(self.controls)
        self.panel = panel

        splitter = QSplitter()
        self.splitter = splitter
        list_side = QWidget()
        listing = QVBoxLayout(list_side)
        listing.setContentsMargins(0, 0, 0, 0)
        listing.addLayout(filters)
        listing.addWidget(self.hidden_overdue)
        listing.addWidget(self.table)
        splitter.addWidget(list_side)
        splitter.addWidget(panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes(list(BESIDE_SIZES))
        panel.setMinimumWidth(PANEL_WIDTH)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.empty = EmptyState(
            "Nothing to triage",
            "No clock is running, no claim is undecided and nothing is new. Negative feedback, claims, "
            "chargebacks, return requests, late or open buyer messages and defective FBA returns appear here, "
            "and stay until you resolve them, each with what to do about it.",
            "Complete this week's triage",
        )
        self.empty.action.clicked.connect(self._complete)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(page)
        self.stack.addWidget(self.empty)
        self.page = page

        self.timer = countdown_timer(self, self.model)
        self.ideal_widths: dict[int, int] = {}
        self.table.viewport().installEventFilter(self)
        self._show_selected()

    # --- showing ------------------------------------------------------------------------------------------------

    def show_listing(self, listing: TriageList, facts: ListingFacts | None = None) -> None:
        """`facts`: `listing_facts(listing)`, when it was worked out before (off the GUI thread)."""
        if facts is None or facts.listing is not listing:
            facts = listing_facts(listing)
        selected = self.selected_item()
        self.listing = listing
        self.facts = facts
        self.zone = ZoneInfo(listing.timezone)
        self.model.set_rows(listing.items, facts.carried_days, facts.named, facts.positions)
        if self.isVisible():
            self._fit_to_contents()
        since = {
            "first": "everything still open and the last 7 days (first triage)",
            "since_last": f"since your last triage on {listing.window_start.strftime('%a %d %b')}",
            "given": f"since {listing.window_start.strftime('%a %d %b')}",
        }.get(listing.window_reason, "")
        self.heading.setText(
            f"Triage {listing.session_number}: {since} — {facts.open} open, {facts.resolved} resolved"
            + (f", {facts.overdue} past their deadline" if facts.overdue else "")
            + (f", {facts.carried} carried over" if facts.carried else "")
        )
        self._list_marketplaces(facts)
        self.stack.setCurrentWidget(self.page if listing.items else self.empty)
        self.empty.action.setVisible(listing.last_completed_at is None or bool(listing.items))
        if selected is None or not self.select_item(selected.key):
            self._select_first_open()
        self._show_selected()

    def _list_marketplaces(self, facts: ListingFacts) -> None:
        """The marketplace filter with each marketplace's open and overdue items, when the list names more
        than one (the counts in the heading stay those of the whole list)."""
        chosen = fill_marketplace_filter(self.marketplace_filter, facts.marketplaces)
        if chosen != self.proxy.marketplace:
            self.proxy.set_marketplace(chosen)
        self._marketplaces_shown()

    def _marketplace_chosen(self) -> None:
        self.proxy.set_marketplace(self.marketplace_filter.currentData())
        self._marketplaces_shown()
        if self.selected_item() is None:
            self._select_first_open()

    def _marketplaces_shown(self) -> None:
        """The column while every marketplace is listed and the list names more than one (filtered to one,
        every row would say the same); the overdue items the filter hides, said above the list."""
        self.marketplace_column = not self.marketplace_filter.isHidden() and self.proxy.marketplace is None
        self.table.setColumnHidden(MARKETPLACE, not self.marketplace_column)
        hidden = 0
        if self.listing is not None and self.proxy.marketplace is not None:
            at = self.listing.at
            hidden = sum(
                1
                for item in self.listing.items
                if not item.resolved and item.passed(at) and not self.proxy.in_marketplace(item)
            )
        self.hidden_overdue.setText(hidden_overdue_text(hidden))
        self.hidden_overdue.setVisible(bool(hidden))
        self._fit_columns()

    def _fit_to_contents(self) -> None:
        """Once, when the list first has items and is on screen: measuring the columns through the Python
        model costs the window tens of milliseconds, wasted on a list nobody looks at yet (it arrives while
        the dashboard is shown). The long texts are capped so "What happened" keeps its room (they are whole
        in the tooltip and the panel)."""
        if self.columns_fitted or self.listing is None or not self.listing.items:
            return
        self.table.resizeColumnsToContents()
        self.ideal_widths = {
            column: min(self.table.columnWidth(column), WIDEST.get(column, 1000))
            for column in range(len(HEADERS))
            if column != WHAT
        }
        self.columns_fitted = True
        self._fit_columns()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_to_contents()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange(below=self.width() < PANEL_BELOW_WIDTH)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return False

    def _arrange(self, below: bool) -> None:
        """The panel beside the list on a wide window; under it on a narrow one, its text and its form side
        by side, so the list keeps the whole width for what happened."""
        orientation = Qt.Orientation.Vertical if below else Qt.Orientation.Horizontal
        if self.splitter.orientation() == orientation:
            return
        self.splitter.setOrientation(orientation)
        self.side.setDirection(QBoxLayout.Direction.LeftToRight if below else QBoxLayout.Direction.TopToBottom)
        self.panel.setMinimumWidth(0 if below else PANEL_WIDTH)
        self.controls.setMinimumWidth(PANEL_WIDTH if below else 0)
        self.controls.setMaximumWidth(PANEL_WIDTH if below else QWIDGETSIZE_MAX)
        self.splitter.setSizes(list(BELOW_SIZES if below else BESIDE_SIZES))

    def _fit_columns(self) -> None:
        """No sideways scrolling: when the list is too narrow for every column at its measured width, columns
        give way (GIVE_WAY) until "What happened" has its room. A column shown is never narrower than its
        title: a cut title reads "emoval groun"."""
        if not self.ideal_widths:
            return
        shown = [column for column in self.ideal_widths if column != MARKETPLACE or self.marketplace_column]
        titles = {column: self._title_width(column) for column in shown}
        widths = {column: max(self.ideal_widths[column], titles[column]) for column in shown}
        room = self.table.viewport().width() - WHAT_LEAST
        order = tuple((column, least) for column, least in GIVE_WAY if column in widths)
        widths, hidden = give_way(widths, order, room, lambda column, least: max(least, titles[column]))
        set_widths(self.table, widths, hidden)

    def _title_width(self, column: int) -> int:
        """The width a column's title needs. Qt adds room for the sort arrow (as wide as the header is high,
        and a margin) to every title; only the sorted column shows the arrow."""
        header = self.table.horizontalHeader()
        size = header.sectionSizeFromContents(column)
        if not header.isSortIndicatorShown() or header.sortIndicatorSection() == column:
            return size.width()
        margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
        return size.width() - size.height() - margin

    def show_all(self) -> None:
        """Clear the filters (an alert's item must be listed to be selected)."""
        self.category_filter.setCurrentIndex(0)
        self.marketplace_filter.setCurrentIndex(0)
        self.show_resolved.setChecked(True)

    def selected_item(self) -> TriageItem | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], ITEM_ROLE) if rows else None

    def select_item(self, key: str) -> bool:
        row = self.model.row_of(key)
        if row is None:
            return False
        self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())
        return True

    def _select_first_open(self) -> None:
        for row in range(self.proxy.rowCount()):
            if not self.proxy.data(self.proxy.index(row, 0), ITEM_ROLE).resolved:
                self.table.selectRow(row)
                return

    def _show_selected(self) -> None:
        item = self.selected_item()
        for widget in (self.category_choice, self.action_taken, self.note):
            widget.setEnabled(item is not None and not item.resolved)
        self.resolve_button.setEnabled(item is not None and not item.resolved)
        self.reopen_button.setEnabled(item is not None and item.resolved)
        self.timeline_button.setEnabled(item is not None and item.order_id is not None)
        self.copy_button.setEnabled(item is not None and bool(item.suggestion.template))
        self.copy_action.setEnabled(self.copy_button.isEnabled())
        if item is None:
            self.detail.setHtml("<p style='color:#666'>Select an item to see what to do about it.</p>")
            return
        self.category_choice.setCurrentIndex(self.category_choice.findData(item.category))
        carried = self.model.carried.get(item.key)
        self.detail.setHtml(item_html(item, self.zone, self.model._now(), carried))
        if item.key != self.shown_key:  # a refresh of the same item keeps what the seller is typing
            self.action_taken.clear()
            self.note.clear()
            self.shown_key = item.key

    # --- the seller's actions -----------------------------------------------------------------------------

    def _resolve(self) -> None:
        item = self.selected_item()
        if item is None or item.resolved:
            return
        action = self.action_taken.text().strip()
        if not action:
            self.action_taken.setFocus()
            self.action_taken.setPlaceholderText("Say what you did before marking it resolved")
            return
        self.resolve_requested.emit(item.key, action, self.note.text().strip())

    def _reopen(self) -> None:
        item = self.selected_item()
        if item is not None and item.resolved:
            self.reopen_requested.emit(item.key)

    def _category_chosen(self) -> None:
        item = self.selected_item()
        if item is None:
            return
        chosen = self.category_choice.currentData()
        self.category_requested.emit(item.key, None if chosen == item.derived_category else chosen)

    def _copy_reply(self) -> None:
        """The item's category template filled in from what travelled with the item: no database read."""
        item = self.selected_item()
        if item is None or not item.suggestion.template:
            return
        put_on_clipboard(item_reply(item, self.zone))
        self.reply_copied.emit(REPLY_COPIED)

    def _timeline(self) -> None:
        item = self.selected_item()
        if item is not None and item.order_id:
            self.timeline_requested.emit(item.order_id)

    def _complete(self) -> None:
        if self.listing is None:
            return
        still_open = self.facts.open
        if still_open:
            question = (
                f"{still_open} item{'s are' if still_open != 1 else ' is'} still open. They stay on the list, "
                "carried over to the next triage, until you resolve them. Complete this triage?"
            )
            if not confirm(self, "Complete the triage?", question):
                return
        self.complete_requested.emit([item.key for item in self.listing.items])

    def _export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the triage list", "triage.csv", "CSV (*.csv)")
        if path:
            self.export_csv_requested.emit(path)

    def _export_report(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the printable report", "triage.html", "Web page (*.html)")
        if path:
            self.export_report_requested.emit(path)


def item_html(item: TriageItem, zone: ZoneInfo, at: float, carried_days: int | None = None) -> str:
    """The selected item: what happened, its one deadline, its effect on ODR, the path to take, removal
    grounds, how long it has been carried over and what a resolution could not close."""
    e = html.escape
    s = item.suggestion
    parts = [f"<h3>{e(KIND_NAMES.get(item.kind, item.kind))} — {e(CATEGORIES[item.category])}</h3>"]
    order = (
        f"Order {e(item.order_id)}" + (f" ({e(item.channel)})" if item.channel else "")
        if item.order_id
        else "No order (question before buying)"
    )
    market = f" · <b>{e(item.marketplace)}&nbsp;marketplace</b>" if item.marketplace else ""
    parts.append(f"<p>{order}{market} · {e(item.day.strftime('%a %d %b %Y'))}</p>")
    code = code_note(item.reason_code)  # the words name the reason; its code stays at hand, in grey
    shown_code = f"<br><span style='color:#777'>Reason code: {e(code)}</span>" if code else ""
    parts.append(f"<p>{e(item.what)}{shown_code}</p>")
    if carried_days is not None:
        parts.append(f"<p><b>Carried over:</b> {e(carried_text(carried_days))} (listed by an earlier triage)</p>")
    if not item.resolved and item.waiting:
        parts.append(f"<p><b>Deadline:</b> none for you now: {e(item.waiting)}.</p>")
    elif not item.resolved:
        remaining = item.due_at - at
        label = item.clock.label if item.clock is not None else f"Respond ({s.response_hours:g} h)"
        when = deadline_text(item, zone)
        if remaining < 0:
            style = "color:#c0392b;font-weight:600"
            parts.append(
                f"<p style='{style}'><b>Deadline passed:</b> {e(label)}, {e(when)} ({e(countdown_text(remaining))})</p>"
            )
        else:
            parts.append(f"<p><b>Deadline:</b> {e(label)}, {e(when)} ({e(countdown_text(remaining))})</p>")
    parts.append(f"<p><b>Effect on ODR:</b> {e(item.odr_effect)}</p>")
    amount = ""
    if s.amount is not None:
        amount = f" · <b>pre-approved up to</b> {s.amount:.2f}{' ' + e(s.currency) if s.currency else ''}"
    parts.append(f"<p><b>What to do:</b> {e(s.action)}<br><b>Who:</b> {e(s.who)}{amount}</p>")
    if item.removal:
        parts.append(f"<p><b>Feedback removal:</b> {e(removal_text(item))}</p>")
    if item.resolution:
        when = datetime.fromtimestamp(item.resolution.resolved_at, tz=zone).strftime("%a %d %b, %H:%M")
        note = f" — {e(item.resolution.note)}" if item.resolution.note else ""
        parts.append(f"<p style='color:#2e7d32'><b>Resolved {e(when)}:</b> {e(item.resolution.action)}{note}</p>")
    if item.clock_note:
        parts.append(f"<p style='color:#8a5a00'>{e(item.clock_note)}</p>")
    return "".join(parts)
