"""The dashboard: one card per metric with its rate, target, status colour and one plain sentence, the
daily ODR chart against its 1 % line, and smaller charts for LRR, NFR and RDR; with several marketplaces,
the charts draw one marketplace's own lines or all of them together, as the seller chooses."""

from __future__ import annotations

import html
import importlib
import logging
import math
import sys
import threading
from datetime import date

from PySide6.QtCore import QDate, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedLayout,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.metrics import FIGURE_KEYS, STATUS_RANK, worst_status
from app.reconcile import verdict
from app.services import MonitorState
from app.summary import METRIC_NAMES, SENTENCES, headline_rate, percent, short_day
from ui.icons import status_icon
from ui.money_panel import MoneyPanel
from ui.theme import ALL_COLOUR, STATUS_COLOURS, STATUS_WORDS

TARGETS = {
    "order_defect_rate": "target under 1 %",
    "live_order_defect_rate": "target under 1 %",
    "late_response_rate": "target under 10 %",
    "negative_feedback_rate": "warning 5 %, limit 10 %",
    "return_dissatisfaction_rate": "target under 10 %",
}
SMALL_CHART_MIN_WIDTH = 250
CARD_MIN_WIDTH = 220  # "Over the limit" and "FBA 1.09 % · FBM 2.96 %" on one line each
CARD_TITLES = {**METRIC_NAMES, "live_order_defect_rate": "Live ODR (last 60 days)"}
ODR_KEYS = ("order_defect_rate", "live_order_defect_rate")
ALL_MARKETPLACES = ""  # the charts' choice of every marketplace together
ALL_MARKETPLACES_SCOPE = "all marketplaces together"
CHOSEN_BACKGROUND = "#37474f"  # the marketplace the charts draw: dark enough for white words
SOURCES = {  # data_through's sources, in the seller's words, with the report that brings each up to date
    "orders": ("orders", "All Orders report"),
    "feedback": ("feedback", "Feedback report"),
    "returns": ("returns", "returns reports"),
    "messages": ("buyer messages", "buyer-message e-mails"),
    "claims": ("claims", "claims file"),
}


def rate_html(figure: dict, marketplace: str | None = None) -> str:
    """The rate the figure is judged by, large; small before it, the marketplace and (ODR) the channel it
    belongs to."""
    channel = figure.get("worst_channel")
    names = " ".join(filter(None, (marketplace, channel)))
    rate = percent(figure["by_channel"][channel]["rate"] if channel else figure["rate"])
    return f'<span style="font-size: 10pt;">{names} </span>{rate}' if names else rate


def judged_figure(key: str, figure: dict, marketplaces: dict) -> tuple[dict, str | None]:
    """The figure a card shows: with several marketplaces, the worst marketplace's own (Amazon judges each
    marketplace on its own, so a calm total must not stand for a breached marketplace), and its code."""
    worst = figure.get("worst_marketplace") if len(marketplaces) > 1 else None
    return (marketplaces[worst][key], worst) if worst in marketplaces else (figure, None)


def marketplaces_text(key: str, figure: dict, marketplaces: dict) -> str:
    """Each marketplace's rate (each judged on its own), and all of them together as context."""
    parts = [f"{code} {headline_rate(block[key])}" for code, block in marketplaces.items()]
    return " · ".join([*parts, f"all {percent(figure['rate'])}"])


def channels_text(figure: dict) -> str:
    """Both channels' rates (each judged on its own against 1 %) and all orders together, as context."""
    parts = [f"{channel} {percent(part['rate'])}" for channel, part in figure["by_channel"].items() if part["orders"]]
    return " · ".join([*parts, f"all {percent(figure['rate'])}"])


def marketplace_status(block: dict) -> str:
    """A marketplace's worst figure's status: the one it could be suspended over first."""
    return worst_status(block[key]["status"] for key in FIGURE_KEYS)


def worst_first(marketplaces: dict) -> list[tuple[str, str]]:
    """(code, status) of every marketplace, the worst first: by its worst status, then by its ODR as Amazon
    judges it (the worse channel's), the nearest to the line first."""

    def severity(code: str) -> tuple:
        odr = marketplaces[code]["order_defect_rate"]
        channel = odr.get("worst_channel")
        rate = odr["by_channel"][channel]["rate"] if channel else odr["rate"]
        return -STATUS_RANK.get(marketplace_status(marketplaces[code]), -1), -(rate or 0), code

    return [(code, marketplace_status(marketplaces[code])) for code in sorted(marketplaces, key=severity)]


def opening_choice(ordered: list[tuple[str, str]]) -> str:
    """The worst marketplace while it is at risk or over the limit: a calm line over every marketplace
    together must not be the first thing a seller sees while one of them breaches."""
    if ordered and ordered[0][1] in ("at_risk", "breach"):
        return ordered[0][0]
    return ALL_MARKETPLACES


class MarketplaceChoice(QWidget):
    """Which marketplace the charts draw: all together, or one of them, worst first, each with its status
    mark. One click, or the arrow keys; a list to pick from when the buttons do not fit the width."""

    chosen = Signal(str)  # a marketplace code, or ALL_MARKETPLACES

    def __init__(self):
        super().__init__()
        self.label = QLabel("Charts:")
        self.group = QButtonGroup(self)
        self.group.buttonClicked.connect(lambda button: self.chosen.emit(button.property("marketplace")))
        self.buttons: dict[str, QPushButton] = {}
        self.combo = QComboBox()
        self.combo.setToolTip("Which marketplace the charts draw")
        self.combo.activated.connect(lambda index: self.chosen.emit(self.combo.itemData(index)))
        self.combo.hide()
        self.row = QHBoxLayout()
        self.row.setSpacing(4)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(self.row)
        layout.addWidget(self.combo)
        layout.addStretch()
        # The drawn marketplace must stand out at a glance: the style's own pressed look barely shows (not in bold:
        # a bold word outgrows the width its button was given).
        self.setStyleSheet(
            "QPushButton { background: white; border: 1px solid #b0b8c0; border-radius: 4px; padding: 3px 10px; }"
            " QPushButton:hover { border-color: #1565c0; }"
            " QPushButton:focus { border: 2px solid #1565c0; padding: 2px 9px; }"
            f" QPushButton:checked {{ background: {CHOSEN_BACKGROUND}; color: white; }}"
        )
        self.ordered: list[tuple[str, str]] = []
        self.narrow = False

    def set_marketplaces(self, ordered: list[tuple[str, str]]) -> None:
        """Offer every marketplace together, then each (code, status) in `ordered`."""
        if ordered == self.ordered:
            return
        self.ordered = ordered
        for button in self.buttons.values():
            self.group.removeButton(button)
            button.deleteLater()
        self.buttons = {}
        self.combo.clear()
        self._add(ALL_MARKETPLACES, "All marketplaces", None, "Every marketplace's orders together")
        for code, status in ordered:
            words = STATUS_WORDS[status].lower()
            self._add(code, code, status, f"{code}'s own figures, as Amazon judges {code}: {words}")
        self._show_fitting()

    def _add(self, code: str, text: str, status: str | None, tip: str) -> None:
        button = QPushButton(text)
        button.setCheckable(True)
        button.setProperty("marketplace", code)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        if status:
            button.setIcon(status_icon(status))
        self.group.addButton(button)
        self.row.addWidget(button)
        self.buttons[code] = button
        if status:
            self.combo.addItem(status_icon(status), text, code)
        else:
            self.combo.addItem(text, code)

    def show_choice(self, code: str) -> None:
        """Mark `code` as the one drawn (not a choice of the seller's: nothing is emitted)."""
        self.buttons[code].setChecked(True)
        self.combo.setCurrentIndex(self.combo.findData(code))

    def fit(self, width: int) -> None:
        """Buttons when they fit `width`, else the list: the dashboard never scrolls sideways."""
        spacing = self.row.spacing()
        needed = self.label.sizeHint().width() + sum(b.sizeHint().width() + spacing for b in self.buttons.values())
        narrow = needed + self.layout().spacing() > width
        if narrow != self.narrow:
            self.narrow = narrow
            self._show_fitting()

    def _show_fitting(self) -> None:
        for button in self.buttons.values():
            button.setHidden(self.narrow)
        self.combo.setHidden(not self.narrow)


def coverage_text(data_through: dict, as_of: date, today: date | None = None) -> str:
    """What the figures stand on, said when the orders end before the figures' day: the action first."""
    orders_end = data_through.get("orders")
    if not orders_end or date.fromisoformat(orders_end) >= as_of:
        return ""
    behind = (as_of - date.fromisoformat(orders_end)).days
    days = f"{behind} day{'s' if behind != 1 else ''}"
    when = f"{days} ago" if as_of == (today or as_of) else f"{days} before {short_day(as_of.isoformat())}"
    text = (
        f"<b>Your orders end {short_day(orders_end)}, {when}:</b> import a newer All Orders report. "
        "Figures whose window runs past that day are missing orders."
    )
    others = [
        f"{SOURCES[source][0]} {short_day(day) if day else 'none imported'}"
        for source, day in data_through.items()
        if source != "orders"
    ]
    return f"{text}<br>Latest in your other reports: {', '.join(others)}."


class WrappingLabel(QLabel):
    """A word-wrapped label that keeps the height its words need at its width: a grid does not ask a
    wrapped label for that itself, and a cut sentence loses the day the oldest defect leaves."""

    def __init__(self, text: str = ""):
        super().__init__(text)
        self.setWordWrap(True)
        self.fitted_height = 0

    def minimumSizeHint(self) -> QSize:
        # Not setMinimumHeight: QLabel counts its minimum in its own heightForWidth, so a height needed
        # once at a narrow width would stay when the label widens.
        hint = super().minimumSizeHint()
        return QSize(hint.width(), max(hint.height(), self.heightForWidth(self.width())))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        needed = self.heightForWidth(self.width())
        if needed != self.fitted_height:
            self.fitted_height = needed
            self.updateGeometry()


class MetricCard(QFrame):
    """A metric at a glance; the left edge and the status word carry its colour."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Never shorter than its words: the charts below give up height first.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.title = WrappingLabel(CARD_TITLES[key])
        self.title.setStyleSheet("font-weight: 600; color: #333;")
        self.rate = QLabel("—")
        self.rate.setTextFormat(Qt.TextFormat.RichText)
        self.rate.setStyleSheet("font-size: 20pt; font-weight: 600;")
        self.status = QLabel("")
        self.target = QLabel(TARGETS[key])
        self.target.setStyleSheet("color: #666; font-size: 8pt;")
        self.window = WrappingLabel("")  # a 1024-pixel screen may leave a card under 200 pixels
        self.window.setStyleSheet("color: #666; font-size: 8pt;")
        self.channels = WrappingLabel("")  # ODR: each channel's rate, and all orders together as context
        self.channels.setStyleSheet("color: #333; font-size: 8pt;")
        if key not in ODR_KEYS:
            # Only hidden, never shown here: shown before it has a parent, a label flashes up as a window.
            self.channels.hide()
        self.sentence = WrappingLabel("")
        self.sentence.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # The status on a line of its own: beside the rate it pushed "FBM 4.81 %" off a laptop-sized card.
        verdict = QHBoxLayout()
        verdict.addWidget(self.status)
        verdict.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 10, 8)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.rate)
        layout.addLayout(verdict)
        layout.addWidget(self.target)
        layout.addWidget(self.channels)
        layout.addWidget(self.window)
        layout.addWidget(self.sentence, 1)
        self.show_status("insufficient_data")

    def set_figure(self, figure: dict, marketplaces: dict | None = None) -> None:
        marketplaces = marketplaces or {}
        shown, marketplace = judged_figure(self.key, figure, marketplaces)
        self.rate.setText(rate_html(shown, marketplace))
        window = f"{short_day(figure['window_start'])} – {short_day(figure['window_end'])}"
        incomplete = figure.get("complete") is False and figure["status"] != "insufficient_data"
        self.window.setText(window + (" · data missing, see above" if incomplete else ""))
        self.window.setStyleSheet(f"color: {'#b26a00' if incomplete else '#666'}; font-size: 8pt;")
        several = len(marketplaces) > 1
        if several:
            self.channels.setText(marketplaces_text(self.key, figure, marketplaces))
        elif self.key in ODR_KEYS:
            self.channels.setText(channels_text(figure))
        self.channels.setVisible(several or self.key in ODR_KEYS)
        sentence = SENTENCES[self.key](shown)
        self.sentence.setText(f"{marketplace}: {sentence}" if marketplace else sentence)
        self.show_status(figure["status"])

    def show_status(self, status: str) -> None:
        if status == getattr(self, "shown_status", None):
            return  # restyling costs milliseconds per card, every recomputation
        self.shown_status = status
        colour = STATUS_COLOURS[status]
        self.status.setText(STATUS_WORDS[status])
        self.status.setStyleSheet(
            f"color: white; background: {colour}; border-radius: 8px; padding: 2px 8px; font-weight: 600;"
        )
        self.setStyleSheet(
            f"QFrame#card {{ background: white; border: 1px solid #d8d8d8; border-left: 6px solid {colour};"
            " border-radius: 6px; }"
        )
        self.rate.setStyleSheet(f"font-size: 20pt; font-weight: 600; color: {colour};")


class ScrolledPage(QWidget):
    """The page inside the scroll area: scrolled when its minimum does not fit, never stretched to the
    charts' preferred height (the scroll area asks for that when the page has wrapped labels)."""

    def heightForWidth(self, width: int) -> int:
        return self.layout().minimumHeightForWidth(width)


class CardRows(QWidget):
    """The cards in as many columns as the width holds, in balanced rows: 3 + 2 on a 1024-pixel screen
    rather than 4 + 1, one row on a wide one."""

    def __init__(self, cards: list[MetricCard]):
        super().__init__()
        self.cards = cards
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        self.columns = 0
        self._place(len(cards))

    def fit(self, width: int) -> None:
        """Choose the columns for `width`: each card at least as wide as its widest unbreakable line."""
        narrowest = max(CARD_MIN_WIDTH, *(card.minimumSizeHint().width() for card in self.cards))
        spacing = self.grid.spacing()
        fitting = min(len(self.cards), max(1, (width + spacing) // (narrowest + spacing)))
        rows = math.ceil(len(self.cards) / fitting)
        self._place(math.ceil(len(self.cards) / rows))

    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        for card in self.cards:
            self.grid.removeWidget(card)
        for place, card in enumerate(self.cards):
            self.grid.addWidget(card, place // columns, place % columns)
        for column in range(len(self.cards)):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)


CHART_HEIGHTS = {"odr_chart": 170, "lrr_chart": 130, "nfr_chart": 130, "rdr_chart": 130}  # the least each takes
RATE_TITLES = {
    "lrr": "Late Response Rate (30 days)",
    "nfr": "Negative Feedback Rate (90 days)",
    "rdr": "Return Dissatisfaction Rate (60 days)",
}
CHARTS_MODULE = "ui.charts"
CHARTS_POLL_MS = 15
_charts_loader: threading.Thread | None = None


def load_charts_module() -> None:
    """Import the charts' module (pyqtgraph, numpy) on a thread of its own, once: the window's thread only
    builds the charts. Should the thread fail, the window's thread imports it when it builds them."""
    global _charts_loader
    if _charts_loader is None and CHARTS_MODULE not in sys.modules:
        _charts_loader = threading.Thread(target=_import_charts, name="charts-import", daemon=True)
        _charts_loader.start()


def _import_charts() -> None:
    try:
        importlib.import_module(CHARTS_MODULE)
    except Exception:  # tried again by the window's thread, which says why should it fail there too
        logging.getLogger(__name__).warning("the charts could not be loaded beside the window", exc_info=True)


def charts_loading() -> bool:
    return _charts_loader is not None and _charts_loader.is_alive()


class DashboardView(QWidget):
    """Cards, charts and the comparison with Amazon's own report; an empty state until orders exist. The
    seller may look at the figures as of any past day (`as_of_chosen`: a day, or None for today), and with
    several marketplaces choose the one the charts draw (`chart_choice`)."""

    import_requested = Signal()
    as_of_chosen = Signal(object)

    def __init__(self):
        super().__init__()
        self.cards = {key: MetricCard(key) for key in METRIC_NAMES}
        self._charts: dict[str, object] = {}  # built with the first figures to draw (`ui.charts`)
        self._plot_due = False
        self._plot_queue: list[str] = []
        self._plot_timer = QTimer(self)  # the view's own: gone with it, so no step comes after the charts went
        self._plot_timer.setSingleShot(True)
        self._plot_timer.timeout.connect(self._plot_step)
        self._plot_days: tuple | None = None  # (the series drawn, its days read once for every chart)
        self.reconciliation = QLabel("")
        self.reconciliation.setWordWrap(True)
        self.reconciliation.setTextFormat(Qt.TextFormat.RichText)
        self.reconciliation.setStyleSheet("color: #333; padding: 2px 4px;")

        self.coverage = QLabel("")
        self.coverage.setWordWrap(True)
        self.coverage.setTextFormat(Qt.TextFormat.RichText)
        self.coverage.setStyleSheet("background: #fff1d6; color: #5d3a00; border-radius: 4px; padding: 4px 8px;")
        self.coverage.hide()
        self.as_of = QDateEdit()
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("ddd d MMM yyyy")
        self.as_of.setToolTip("Look at the figures as they stood at the end of another day")
        self.as_of.dateChanged.connect(self._as_of_edited)
        self.today = QPushButton("Today")
        self.today.setEnabled(False)
        self.today.clicked.connect(lambda: self.as_of_chosen.emit(None))
        self.live_day: date | None = None
        self.chart_choice = MarketplaceChoice()
        self.chart_choice.chosen.connect(self._chart_chosen)
        self.chart_choice.hide()
        self.state: MonitorState | None = None
        self.chosen_marketplace: str | None = None  # the seller's own choice; None: the opening one
        self.drawn_marketplace = ALL_MARKETPLACES

        content = ScrolledPage()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        # Beside the day picker, where the row has room: the money line costs the page no height (under
        # the old-reports banner when there is one, so neither squeezes the other's words).
        self.money = MoneyPanel()
        notices = QVBoxLayout()
        notices.addWidget(self.coverage)
        notices.addWidget(self.money)
        header.addLayout(notices, 1)
        as_of_label = QLabel("Figures as of")
        as_of_label.setBuddy(self.as_of)
        header.addWidget(as_of_label, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.as_of, 0, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.today, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)
        self.card_rows = CardRows(list(self.cards.values()))
        layout.addWidget(self.card_rows)
        layout.addWidget(self.reconciliation)
        layout.addWidget(self.chart_choice)
        # Each chart's place is held from the start, so that the page does not move when the charts come.
        self._chart_places = {name: QWidget() for name in CHART_HEIGHTS}
        for name, place in self._chart_places.items():
            place.setMinimumHeight(CHART_HEIGHTS[name])
        self._chart_layouts = {"odr_chart": layout}
        layout.addWidget(self._chart_places["odr_chart"], 3)
        self.small_charts = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        for name in ("lrr_chart", "nfr_chart", "rdr_chart"):
            self.small_charts.addWidget(self._chart_places[name])
            self._chart_layouts[name] = self.small_charts
        layout.addLayout(self.small_charts, 2)

        self.empty = EmptyState(
            "No orders imported yet — drop your All Orders report here",
            "Download it in Seller Central under Reports › Order Reports › All Orders, then drop the file on "
            "this window or use Import… . Feedback, returns, claims and buyer-message e-mails can follow.",
            "Import reports…",
        )
        self.empty.action.clicked.connect(self.import_requested)
        # A laptop's 768 pixels cannot hold two rows of cards and readable charts: the page scrolls down
        # rather than cut a card's words or squash a chart.
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.empty)
        self.figures_page = self.scroll

    def show_state(self, state: MonitorState, live_day: date | None = None) -> None:
        """Show `state`'s figures; `live_day` is today (the latest day that can be chosen)."""
        self.live_day = live_day or state.as_of
        self._show_day(state.as_of)
        if not state.has_orders:
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.figures_page)
        text = coverage_text(state.metrics.get("data_through", {}), state.as_of, self.live_day)
        self.coverage.setText(text)
        self.coverage.setVisible(bool(text))
        for key, card in self.cards.items():
            card.set_figure(state.metrics[key], state.metrics.get("marketplaces"))
        self.state = state
        self._choose_marketplace()
        self._plot_later()
        self._reflow_cards()
        self.reconciliation.setText(reconciliation_text(state.metrics.get("reconciliation")))
        self.reconciliation.setVisible(bool(self.reconciliation.text()))
        self.money.show_summary(state.money)

    # --- the charts: drawn at the next turn of the event loop, after the cards are painted ------------------

    @property
    def odr_chart(self):
        return self.charts()["odr_chart"]

    @property
    def lrr_chart(self):
        return self.charts()["lrr_chart"]

    @property
    def nfr_chart(self):
        return self.charts()["nfr_chart"]

    @property
    def rdr_chart(self):
        return self.charts()["rdr_chart"]

    def charts(self) -> dict:
        """The four charts with the figures shown drawn in them (drawn now if they were still to come)."""
        self._build_charts()
        self.draw_pending()
        return self._charts

    def draw_pending(self) -> None:
        """Draw now whatever the charts still have to draw."""
        while self._plot_due:
            self._plot_next()

    def _plot_later(self) -> None:
        # pyqtgraph loads beside the window (a thread), each chart is built and drawn in a turn of the event
        # loop of its own: the cards show first, and the window answers in between.
        self._plot_queue = list(CHART_HEIGHTS)
        if not self._plot_due:
            self._plot_due = True
            load_charts_module()
            self._plot_timer.start(0)

    def _plot_step(self) -> None:
        if not self._plot_due:
            return
        if charts_loading():
            self._plot_timer.start(CHARTS_POLL_MS)
            return
        # Loaded, or the thread failed: building a chart imports the module here, and a failure says why as
        # any error of the window does, instead of the charts waiting for ever.
        if len(self._charts) < len(CHART_HEIGHTS):
            self._build_chart(next(name for name in CHART_HEIGHTS if name not in self._charts))
        else:
            self._plot_next()
        if self._plot_due:
            self._plot_timer.start(0)

    def _build_charts(self) -> None:
        for name in CHART_HEIGHTS:
            if name not in self._charts:
                self._build_chart(name)

    def _build_chart(self, name: str) -> None:
        from ui.charts import OdrChart, RateChart  # pyqtgraph and numpy: a quarter of a second to load

        if name == "odr_chart":
            chart = OdrChart()
        else:
            key = name.removesuffix("_chart")
            chart = RateChart(RATE_TITLES[key], 10.0, "10 % limit", ((key, key.upper(), ALL_COLOUR),))
        chart.setMinimumHeight(CHART_HEIGHTS[name])
        place = self._chart_places.pop(name)
        self._chart_layouts[name].replaceWidget(place, chart)
        place.deleteLater()
        self._charts[name] = chart

    def _choose_marketplace(self) -> None:
        """The chosen marketplace's own lines, or every marketplace's together; with one marketplace, its
        lines and no choice."""
        marketplaces = self.state.metrics.get("marketplaces") or {}
        own = self.state.series_by_marketplace
        # Figures kept from before marketplaces had lines of their own have none: drawn together until the
        # recomputation brings them.
        several = len(marketplaces) > 1 and all(code in own for code in marketplaces)
        ordered = worst_first(marketplaces) if several else []
        self.chart_choice.set_marketplaces(ordered)
        self.chart_choice.setVisible(several)
        offered = [ALL_MARKETPLACES, *(code for code, _ in ordered)]
        drawn = self.chosen_marketplace if self.chosen_marketplace in offered else opening_choice(ordered)
        if several:
            self.chart_choice.show_choice(drawn)
        self.drawn_marketplace = drawn

    def _plot_next(self) -> None:
        """Draw the next chart of the queue in the figures shown."""
        self._build_charts()
        if self.state is None or not self._plot_queue:
            self._plot_due = False
            return
        marketplaces = self.state.metrics.get("marketplaces") or {}
        if self.drawn_marketplace:
            series, scope = self.state.series_by_marketplace[self.drawn_marketplace], self.drawn_marketplace
        else:
            series, scope = self.state.series, ALL_MARKETPLACES_SCOPE if len(marketplaces) > 1 else ""
        if self._plot_days is None or self._plot_days[0] is not series:
            self._plot_days = (series, [date.fromisoformat(point["day"]) for point in series])
        name = self._plot_queue.pop(0)
        chart = self._charts[name]
        chart.set_points(series, self._plot_days[1])
        chart.set_scope(scope)
        if name == "odr_chart":
            from ui.charts import window_bounds

            chart.set_window(*window_bounds(self.state.metrics["order_defect_rate"]))
        self._plot_due = bool(self._plot_queue)

    def _chart_chosen(self, code: str) -> None:
        # The seller's choice stays through later recomputations and other days.
        self.chosen_marketplace = code
        if self.state is not None:
            self._choose_marketplace()
            self._plot_later()
            self.draw_pending()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow_cards()

    def _reflow_cards(self) -> None:
        # Columns follow the page's whole width, scroll bar or not: a bar that comes and goes with the
        # cards' height must not change their columns back and forth.
        bar = self.scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.card_rows.fit(self.width() - bar)
        self.chart_choice.fit(self.width() - bar)
        # Three charts a row need 250 pixels each for their titles and months; a narrower window (half a
        # laptop's screen) stacks them, the page scrolling down to them.
        beside = self.width() - bar >= 3 * SMALL_CHART_MIN_WIDTH + 2 * self.small_charts.spacing()
        self.small_charts.setDirection(QBoxLayout.Direction.LeftToRight if beside else QBoxLayout.Direction.TopToBottom)

    def _show_day(self, day: date) -> None:
        self.as_of.blockSignals(True)  # showing a day is not the seller choosing one
        self.as_of.setMaximumDate(QDate(self.live_day.year, self.live_day.month, self.live_day.day))
        self.as_of.setDate(QDate(day.year, day.month, day.day))
        self.as_of.blockSignals(False)
        self.today.setEnabled(day != self.live_day)

    def _as_of_edited(self, chosen: QDate) -> None:
        day = date(chosen.year(), chosen.month(), chosen.day())
        self.as_of_chosen.emit(None if day == self.live_day else day)


def reconciliation_text(reconciliation: dict | None) -> str:
    """One line on Amazon's own figure: agreement, each difference with its explanation, or why nothing could
    be compared (never "agrees" over nothing)."""
    sentence = verdict(reconciliation)
    if not sentence:
        return ""
    head, _, rest = sentence.partition(" could not be compared")
    if reconciliation["agrees"] is None:
        return f"<b>{head} could not be compared</b>{html.escape(rest)}"
    if reconciliation["agrees"]:
        return "<b>Amazon's account health report agrees</b> with the monitor for its reporting range."
    lines = ["<b>Amazon's account health report differs from the monitor:</b>"]
    for channel in reconciliation["channels"]:
        for difference in channel["differences"]:
            if difference["figure"] == "defective_orders":
                continue
            lines.append(
                f"{channel['channel']} {difference['figure'].replace('_', ' ')}: {difference_text(difference)}"
            )
    return "<br>".join(lines)


def difference_text(difference: dict) -> str:
    """A count as the two numbers and why; a rate or status through its explanation (which has percentages)."""
    if difference["figure"] in ("rate", "status"):
        return html.escape(difference["explanation"])
    return html.escape(f"Amazon {difference['amazon']}, monitor {difference['monitor']}. {difference['explanation']}")


class EmptyState(QWidget):
    """A friendly explanation where there is nothing to show yet, with the one action that fixes it."""

    def __init__(self, headline: str, detail: str, action: str):
        super().__init__()
        title = QLabel(headline)
        title.setStyleSheet("font-size: 15pt; font-weight: 600; color: #333;")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setWordWrap(True)
        text = QLabel(detail)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setStyleSheet("color: #555;")
        self.action = QPushButton(action)
        layout = QVBoxLayout(self)
        layout.addStretch()
        layout.addWidget(title)
        layout.addWidget(text)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.action)
        row.addStretch()
        layout.addLayout(row)
        layout.addStretch()
        self.headline = title
