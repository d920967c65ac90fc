"""The dashboard: one card per metric with its rate, target, status colour and one plain sentence, the
daily ODR chart against its 1 % line, and smaller charts for LRR, NFR and RDR."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from app.services import MonitorState
from app.summary import METRIC_NAMES, SENTENCES, percent, short_day
from ui.charts import OdrChart, RateChart, window_bounds
from ui.theme import ALL_COLOUR, STATUS_COLOURS, STATUS_WORDS

TARGETS = {
    "order_defect_rate": "target under 1 %",
    "live_order_defect_rate": "target under 1 %",
    "late_response_rate": "target under 10 %",
    "negative_feedback_rate": "warning 5 %, limit 10 %",
    "return_dissatisfaction_rate": "target under 10 %",
}
CARD_TITLES = {**METRIC_NAMES, "live_order_defect_rate": "Live ODR (last 60 days)"}


class MetricCard(QFrame):
    """A metric at a glance; the left edge and the status word carry its colour."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.title = QLabel(CARD_TITLES[key])
        self.title.setStyleSheet("font-weight: 600; color: #333;")
        self.rate = QLabel("—")
        self.rate.setStyleSheet("font-size: 22pt; font-weight: 600;")
        self.status = QLabel("")
        self.target = QLabel(TARGETS[key])
        self.target.setStyleSheet("color: #666; font-size: 8pt;")
        self.window = QLabel("")
        self.window.setStyleSheet("color: #666; font-size: 8pt;")
        self.sentence = QLabel("")
        self.sentence.setWordWrap(True)
        self.sentence.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.sentence.setMinimumHeight(44)
        top = QHBoxLayout()
        top.addWidget(self.rate)
        top.addStretch()
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 10, 8)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.target)
        layout.addWidget(self.window)
        layout.addWidget(self.sentence, 1)
        self.show_status("insufficient_data")

    def set_figure(self, figure: dict) -> None:
        self.rate.setText(percent(figure["rate"]))
        self.window.setText(f"{short_day(figure['window_start'])} – {short_day(figure['window_end'])}")
        self.sentence.setText(SENTENCES[self.key](figure))
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
        self.rate.setStyleSheet(f"font-size: 22pt; font-weight: 600; color: {colour};")


class DashboardView(QWidget):
    """Cards, charts and the comparison with Amazon's own report; an empty state until orders exist."""

    import_requested = Signal()

    def __init__(self):
        super().__init__()
        self.cards = {key: MetricCard(key) for key in METRIC_NAMES}
        self.odr_chart = OdrChart()
        self.lrr_chart = RateChart("Late Response Rate (30 days)", 10.0, "10 % limit", (("lrr", "LRR", ALL_COLOUR),))
        self.nfr_chart = RateChart(
            "Negative Feedback Rate (90 days)", 10.0, "10 % limit", (("nfr", "NFR", ALL_COLOUR),)
        )
        self.rdr_chart = RateChart(
            "Return Dissatisfaction Rate (60 days)", 10.0, "10 % limit", (("rdr", "RDR", ALL_COLOUR),)
        )
        self.reconciliation = QLabel("")
        self.reconciliation.setWordWrap(True)
        self.reconciliation.setTextFormat(Qt.TextFormat.RichText)
        self.reconciliation.setStyleSheet("color: #333; padding: 2px 4px;")

        figures = QWidget()
        layout = QVBoxLayout(figures)
        layout.setContentsMargins(0, 0, 0, 0)
        cards = QGridLayout()
        cards.setSpacing(8)
        for column, card in enumerate(self.cards.values()):
            cards.addWidget(card, 0, column)
        layout.addLayout(cards)
        layout.addWidget(self.reconciliation)
        self.odr_chart.setMinimumHeight(210)
        layout.addWidget(self.odr_chart, 3)
        small = QHBoxLayout()
        for chart in (self.lrr_chart, self.nfr_chart, self.rdr_chart):
            chart.setMinimumHeight(150)
            small.addWidget(chart)
        layout.addLayout(small, 2)

        self.empty = EmptyState(
            "No orders imported yet — drop your All Orders report here",
            "Download it in Seller Central under Reports › Order Reports › All Orders, then drop the file on "
            "this window or use Import… . Feedback, returns, claims and buyer-message e-mails can follow.",
            "Import reports…",
        )
        self.empty.action.clicked.connect(self.import_requested)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(figures)
        self.stack.addWidget(self.empty)
        self.figures_page = figures

    def show_state(self, state: MonitorState) -> None:
        if not state.has_orders:
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.figures_page)
        for key, card in self.cards.items():
            card.set_figure(state.metrics[key])
        self.odr_chart.set_points(state.series)
        for chart in (self.lrr_chart, self.nfr_chart, self.rdr_chart):
            chart.set_points(state.series)
        self.odr_chart.set_window(*window_bounds(state.metrics["order_defect_rate"]))
        self.reconciliation.setText(reconciliation_text(state.metrics.get("reconciliation")))
        self.reconciliation.setVisible(bool(self.reconciliation.text()))


def reconciliation_text(reconciliation: dict | None) -> str:
    """One line on Amazon's own figure: agreement, or each difference with its explanation."""
    if not reconciliation or not reconciliation["channels"]:
        return ""
    if reconciliation["agrees"]:
        return "<b>Amazon's account health report agrees</b> with the monitor for its reporting range."
    lines = ["<b>Amazon's account health report differs from the monitor:</b>"]
    for channel in reconciliation["channels"]:
        for difference in channel["differences"]:
            if difference["figure"] == "defective_orders":
                continue
            lines.append(
                f"{channel['channel']} {difference['figure'].replace('_', ' ')}: Amazon {difference['amazon']}, "
                f"monitor {difference['monitor']}. {difference['explanation']}"
            )
    return "<br>".join(lines)


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
