"""Messages & clocks: every open deadline with a live countdown, filters, and the actions that close one."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.clocks import Clock
from app.reply_templates import SHIPPED, ReplyFacts, clock_item, clock_reply, has_reply, item_reply
from app.services import MonitorState
from ui.clocks_model import (
    CHANNEL,
    CHANNEL_FILTERS,
    CLOCK_ROLE,
    DUE,
    KIND_FILTERS,
    MARKETPLACE,
    ORDER,
    REPLY_KINDS,
    STARTED,
    TOPIC,
    WHAT,
    ClocksFilter,
    ClocksModel,
)
from ui.dashboard import EmptyState, WrappingLabel
from ui.table_model import (
    configure_table,
    countdown_timer,
    fill_marketplace_filter,
    give_way,
    hidden_overdue_text,
    marketplace_filter,
    set_widths,
)
from ui.theme import URGENCY_COLOURS
from ui.triage_view import COPY_REPLY_KEYS, REPLY_COPIED, copy_reply_action, put_on_clipboard

FIT_ROWS = 50  # rows measured when the columns are fitted to their contents
TOPIC_LEAST = 140  # "Topic / reason" keeps room for a few words of what the buyer wrote
# How the table makes room on a narrow window (half a laptop's screen), in order, when it is too narrow for
# every column at its measured width: a column each row's tooltip repeats is folded away (None; the channel
# filter and "Time left" say the same), a long one is cut down to a width (whole in its tooltip). "Time left"
# never gives way (it is what the table is for), nor the order id (cut, it cannot be looked up). The
# marketplace outlasts "Due": it says in which Seller Central the deadline is met, "Time left" says when.
GIVE_WAY = ((CHANNEL, None), (STARTED, None), (DUE, None), (MARKETPLACE, None), (WHAT, 140))
COPY_TIP = f"The reply template of the clock's item, filled in, on the clipboard ({COPY_REPLY_KEYS})"
NO_TEMPLATE = "No reply template for this kind of clock"


class MessagesView(QWidget):
    """The clocks table. One 1-second timer drives every countdown (never one timer per deadline)."""

    mark_replied = Signal(str)  # message id
    mark_no_response_needed = Signal(str)  # message id
    timeline_requested = Signal(str)  # order id
    import_requested = Signal()
    reply_copied = Signal(str)  # the status bar's message

    def __init__(self, now: Callable[[], float] = time.time):
        super().__init__()
        # The triage list's items (set by the window): a clock's reply is its item's, category and all.
        self.triage_items: Callable[[], Sequence] = list
        # For a clock the list does not have: the seller's templates and the order's product and buyer's name,
        # read by the database's process (set by the application); None when it could not answer (it says why).
        self.reply_facts: Callable[[Clock], ReplyFacts | None] = lambda clock: SHIPPED
        self.model = ClocksModel(now)
        self.proxy = ClocksFilter()
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        # The model's order (buyer replies first, most urgent first) until the seller clicks a header.
        configure_table(self.table, self.proxy)
        header = self.table.horizontalHeader()
        # Not ResizeToContents: that mode re-measures up to 1,000 rows through the Python model on every
        # dataChanged, and the countdown column changes every second (0.5 s of frozen window per tick, 2 s
        # during an import, with 10,000 open clocks). The columns are fitted to FIT_ROWS rows instead (those
        # in view first) when the clocks or the filters change; the seller can still drag them wider.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(TOPIC, QHeaderView.ResizeMode.Stretch)
        header.setResizeContentsPrecision(FIT_ROWS)
        header.moveSection(header.visualIndex(MARKETPLACE), header.visualIndex(ORDER) + 1)
        self.table.setColumnHidden(MARKETPLACE, True)
        self.ideal_widths: dict[int, int] = {}
        # Open and overdue clocks per marketplace, as of the last recomputation; whether the column is shown.
        self.marketplace_counts: dict[str, tuple[int, int]] = {}
        self.marketplaces_named = False
        self.marketplace_column = False
        self.table.viewport().installEventFilter(self)
        self.table.doubleClicked.connect(lambda _: self._open_timeline())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())

        self.kind_filter = QComboBox()
        self.kind_filter.addItems(list(KIND_FILTERS))
        self.kind_filter.setAccessibleName("Show clocks of kind")
        self.kind_filter.currentTextChanged.connect(lambda text: self.proxy.set_kinds(KIND_FILTERS[text]))
        self.kind_filter.currentTextChanged.connect(lambda _: self._fit_columns())
        self.channel_filter = QComboBox()
        self.channel_filter.addItems(list(CHANNEL_FILTERS))
        self.channel_filter.setAccessibleName("Show clocks of channel")
        self.channel_filter.currentTextChanged.connect(lambda text: self.proxy.set_channel(CHANNEL_FILTERS[text]))
        self.channel_filter.currentTextChanged.connect(lambda _: self._fit_columns())
        self.marketplace_filter = marketplace_filter("Show clocks of marketplace")
        self.marketplace_filter.currentIndexChanged.connect(lambda _: self._marketplace_chosen())
        self.hidden_overdue = QLabel("")
        self.hidden_overdue.setStyleSheet(f"color: {URGENCY_COLOURS['overdue']}; font-weight: 600;")
        self.hidden_overdue.hide()
        # Wrapped rather than cut when the marketplace filter takes the row's room on a narrow window.
        self.summary = WrappingLabel("")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.replied_button = QPushButton("Mark &replied")
        self.replied_button.setToolTip(
            "You answered this buyer outside the imported e-mails (Ctrl+R). Undo in the status bar or the "
            "order's timeline takes it back."
        )
        self.replied_button.clicked.connect(lambda: self._mark(self.mark_replied))
        self.no_response_button = QPushButton("&No response needed")
        self.no_response_button.setToolTip(
            "The message needs no answer: it leaves the clock and the LRR. Undo in the status bar or the order's "
            "timeline takes it back."
        )
        self.no_response_button.clicked.connect(lambda: self._mark(self.mark_no_response_needed))
        self.timeline_button = QPushButton("Order &timeline…")
        self.timeline_button.clicked.connect(self._open_timeline)
        QShortcut(QKeySequence("Ctrl+R"), self, activated=lambda: self._mark(self.mark_replied))
        self.copy_action = copy_reply_action(self, self._copy_reply)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.addAction(self.copy_action)
        self.copy_button = QPushButton("Copy re&ply")
        self.copy_button.setToolTip(COPY_TIP)
        self.copy_button.clicked.connect(self._copy_reply)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.kind_filter)
        filters.addWidget(self.channel_filter)
        filters.addWidget(self.marketplace_filter)
        filters.addStretch()
        filters.addWidget(self.summary, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.replied_button)
        actions.addWidget(self.no_response_button)
        actions.addWidget(self.timeline_button)
        actions.addWidget(self.copy_button)
        actions.addStretch()

        table_page = QWidget()
        page = QVBoxLayout(table_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.addLayout(filters)
        page.addWidget(self.hidden_overdue)
        page.addWidget(self.table)
        page.addLayout(actions)
        self.empty = EmptyState(
            "No open clocks",
            "Buyer messages, return requests and claims appear here with their deadline and a live countdown. "
            "Import the buyer-message e-mails (.mbox or .eml) from your mailbox to start the 24-hour clocks.",
            "Import reports…",
        )
        self.empty.action.clicked.connect(self.import_requested)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(table_page)
        self.stack.addWidget(self.empty)
        self.table_page = table_page

        self.timer = countdown_timer(self, self.model)
        self._columns_fitted = False
        self._update_actions()

    def show_state(self, state: MonitorState) -> None:
        selected = self.selected_clock()
        self.model.set_rows(state.clocks, state.settings.zone)
        self.stack.setCurrentWidget(self.table_page if state.clocks else self.empty)
        at, replies, overdue = self.model.at, 0, 0
        by_marketplace: dict[str, list[int]] = {}
        for clock in state.clocks:  # one pass: with years of history there are thousands
            late = clock.due_at < at
            replies += clock.kind in REPLY_KINDS
            overdue += late
            if clock.marketplace:
                mine = by_marketplace.setdefault(clock.marketplace, [0, 0])
                mine[0] += 1
                mine[1] += late
        # Every clock is counted, whatever the filters show; each count stays whole on its line when the
        # summary wraps (no-break spaces inside it).
        counts = [f"{len(state.clocks)} open", f"{replies} buyer messages", f"{overdue} overdue"]
        self.summary.setText(" · ".join(count.replace(" ", "\u00a0") for count in counts))
        self.marketplace_counts = {code: (listed, late) for code, (listed, late) in by_marketplace.items()}
        # A seller in several marketplaces sees the column even when every open clock is in one of them.
        sold_in = set(state.metrics.get("marketplaces") or ()) | set(by_marketplace)
        self.marketplaces_named = bool(by_marketplace) and len(sold_in) > 1
        chosen = fill_marketplace_filter(self.marketplace_filter, self.marketplace_counts)
        if chosen != self.model.marketplace:
            self.proxy.set_marketplace(chosen)
        self._marketplaces_shown()
        self._fit_columns()
        if selected:
            self.select_item(selected.item_id)
        self._update_actions()

    def _marketplace_chosen(self) -> None:
        self.proxy.set_marketplace(self.marketplace_filter.currentData())
        self._marketplaces_shown()
        self._fit_columns()

    def _marketplaces_shown(self) -> None:
        """The column when the seller sells in several marketplaces and all of them are listed (filtered to
        one, every row would say the same); the overdue clocks the filter hides, said beside it."""
        chosen = self.model.marketplace
        self.marketplace_column = self.marketplaces_named and chosen is None
        self.table.setColumnHidden(MARKETPLACE, not self.marketplace_column)
        hidden = sum(late for code, (_, late) in self.marketplace_counts.items() if chosen not in (None, code))
        self.hidden_overdue.setText(hidden_overdue_text(hidden))
        self.hidden_overdue.setVisible(bool(hidden))

    def _fit_columns(self) -> None:
        """Fit the columns to FIT_ROWS rows (the header's precision) if the table is on screen, else when
        it is next shown: measuring costs Python calls per cell (~50 ms with 10,000 clocks while an import
        runs), wasted on every recomputation while the seller looks at another view."""
        self._columns_fitted = self.table.isVisible()
        if self._columns_fitted:
            header = self.table.horizontalHeader()
            self.ideal_widths = {
                column: max(self.table.sizeHintForColumn(column), header.sectionSizeHint(column))
                for column in range(self.model.columnCount())
                if column != TOPIC  # the stretched column takes what is left
            }
            self._give_way()

    def _give_way(self) -> None:
        """No sideways scrolling: when the table is narrower than every column at its measured width,
        columns give way (GIVE_WAY) until "Topic / reason" has TOPIC_LEAST."""
        room = self.table.viewport().width() - TOPIC_LEAST
        shown = {
            column: width
            for column, width in self.ideal_widths.items()
            if column != MARKETPLACE or self.marketplace_column
        }
        order = tuple((column, least) for column, least in GIVE_WAY if column in shown)
        widths, hidden = give_way(shown, order, room)
        # A column folded last may leave room over: the cut ones get it back first.
        for column, _ in order:
            spare = room - sum(width for shown, width in widths.items() if shown not in hidden)
            if spare > 0 and column not in hidden:
                widths[column] = min(self.ideal_widths[column], widths[column] + spare)
        set_widths(self.table, widths, hidden)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize and self.ideal_widths:
            self._give_way()
        return False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._columns_fitted:
            self._fit_columns()

    def show_all(self) -> None:
        """Clear the filters (an alert's clock must be listed to be selected)."""
        self.kind_filter.setCurrentIndex(0)
        self.channel_filter.setCurrentIndex(0)
        self.marketplace_filter.setCurrentIndex(0)

    def selected_clock(self) -> Clock | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], CLOCK_ROLE) if rows else None

    def select_item(self, item_id: str) -> bool:
        """Select the clock of an item (when an alert is clicked); True when it is listed."""
        for source_row, clock in enumerate(self.model.rows):
            if clock.item_id == item_id:
                index = self.proxy.mapFromSource(self.model.index(source_row, 0))
                self.table.selectRow(index.row())
                self.table.scrollTo(index)
                return True
        return False

    def _update_actions(self) -> None:
        clock = self.selected_clock()
        is_message = clock is not None and clock.kind in REPLY_KINDS
        self.replied_button.setEnabled(is_message)
        self.no_response_button.setEnabled(is_message)
        self.timeline_button.setEnabled(clock is not None and clock.order_id is not None)
        can_copy = clock is not None and has_reply(clock)
        self.copy_button.setEnabled(can_copy)
        self.copy_action.setEnabled(can_copy)
        self.copy_button.setToolTip(COPY_TIP if can_copy or clock is None else NO_TEMPLATE)

    def _mark(self, signal) -> None:
        clock = self.selected_clock()
        if clock is not None and clock.kind in REPLY_KINDS:
            signal.emit(clock.item_id)

    def _copy_reply(self) -> None:
        clock = self.selected_clock()
        if clock is None:
            return
        item = clock_item(clock, self.triage_items())
        if item is not None:
            text = item_reply(item, self.model.zone)
        else:
            facts = self.reply_facts(clock)
            if facts is None:
                return  # the database's process could not answer; the status bar says why
            text = clock_reply(clock, self.model.zone, facts=facts)
        if text:
            put_on_clipboard(text)
            self.reply_copied.emit(REPLY_COPIED)
        else:
            self.reply_copied.emit(f"{NO_TEMPLATE}: {clock.label}.")

    def _open_timeline(self) -> None:
        clock = self.selected_clock()
        if clock is not None and clock.order_id:
            self.timeline_requested.emit(clock.order_id)
