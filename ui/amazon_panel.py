"""Amazon's own figures, as its latest account health report states them: the Account Health Rating,
the fulfilment rates, Amazon's ODR per channel and the policy counters, each with its dates and target.

The panel shows the `amazon` block of the metrics and nothing the monitor computed: its frame, heading and
outlined status words set it apart from the monitor's cards (filled status words), so a seller never
mistakes one for the other. Statuses are Amazon's own words (GOOD, BAD, GREAT…), not the monitor's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.summary import percent, short_day

FIGURES = {
    "order_defect_rate.FBA": "Order Defect Rate, FBA",
    "order_defect_rate.FBM": "Order Defect Rate, FBM",
    "late_shipment_rate": "Late Shipment Rate",
    "pre_fulfillment_cancel_rate": "Pre-fulfilment Cancel Rate",
    "valid_tracking_rate": "Valid Tracking Rate",
    "on_time_delivery_rate": "On-Time Delivery Rate",
    "invoice_defect_rate": "Invoice Defect Rate",
}
# The most columns, as on a laptop's whole screen; a narrower window gets fewer (FlowGrid).
TILE_COLUMNS, POLICY_COLUMNS = 3, 3
TILE_MIN_WIDTH = 170  # "Pre-fulfilment Cancel Rate" on one line, the rate and its status word beside each other
COUNT_WIDTH = 70  # a policy count and its status word: "2 (Bad)"
POLICY_NAMES = {
    "listing_policy_violations": "Listing policy violations",
    "received_intellectual_property_complaints": "IP complaints received",
    "suspected_intellectual_property_violations": "Suspected IP violations",
    "product_authenticity_customer_complaints": "Authenticity complaints",
    "product_condition_customer_complaints": "Product condition complaints",
    "product_safety_customer_complaints": "Product safety complaints",
    "food_and_product_safety_issues": "Food and product safety issues",
    "restricted_product_policy_violations": "Restricted product violations",
    "customer_product_reviews_policy_violations": "Product review policy violations",
    "other_policy_violations": "Other policy violations",
    "document_requests": "Document requests",
}
CONDITIONS = {
    "LESS_THAN": "under",
    "LESS_THAN_OR_EQUAL_TO": "at most",
    "GREATER_THAN": "over",
    "GREATER_THAN_OR_EQUAL_TO": "at least",
    "EQUAL_TO": "exactly",
}
# Amazon's status words by how they read; a word not listed is shown grey, as it is.
GOOD_WORDS = {"GOOD", "GREAT", "HEALTHY", "NORMAL", "EXCELLENT"}
WARNING_WORDS = {"FAIR", "AT_RISK", "WARNING", "MEDIUM"}
BAD_WORDS = {"BAD", "POOR", "CRITICAL", "UNHEALTHY", "DEACTIVATED", "SUSPENDED", "AT_RISK_OF_DEACTIVATION"}
GREEN, AMBER, RED, GREY = "#2e7d32", "#b26a00", "#c62828", "#6b6b6b"
PANEL_BACKGROUND, PANEL_BORDER = "#f3f5f8", "#9aa7b8"
NOT_IN_REPORT = "not in the report"


def status_colour(word: str | None) -> str:
    upper = (word or "").upper()
    if upper in GOOD_WORDS:
        return GREEN
    if upper in WARNING_WORDS:
        return AMBER
    if upper in BAD_WORDS:
        return RED
    return GREY


def status_word(word: str | None) -> str:
    """Amazon's status as it reads: GOOD as Good, AT_RISK as At risk."""
    return word.replace("_", " ").capitalize() if word else ""


def target_text(figure: dict) -> str:
    if figure.get("target") is None:
        return "no target in the report"
    condition = CONDITIONS.get((figure.get("target_condition") or "").upper())
    value = f"{figure['target'] * 100:.2f}".rstrip("0").rstrip(".")
    return f"target {condition} {value} %" if condition else f"target {value} %"


def window_text(figure: dict) -> str:
    start, end = figure.get("window_start"), figure.get("window_end")
    if start and end:
        return f"{short_day(start)} – {short_day(end)} {date.fromisoformat(end).year}"
    if end:
        return f"to {short_day(end)} {date.fromisoformat(end).year}"
    return "no dates in the report"


def policy_name(key: str) -> str:
    return POLICY_NAMES.get(key) or key.replace("_", " ").capitalize()


def metric_name(key: str) -> str:
    """A figure of the `amazon` block by the name the panel shows it under."""
    return FIGURES.get(key) or ("Account Health Rating" if key == "account_health_rating" else policy_name(key))


def _pill(label: QLabel, word: str | None) -> None:
    """An outlined status word: Amazon's statuses never look like the monitor's filled ones."""
    label.setText(status_word(word))
    colour = status_colour(word)
    label.setStyleSheet(
        f"color: {colour}; border: 1px solid {colour}; border-radius: 8px; padding: 1px 7px; font-weight: 600;"
        "background: white;"
    )
    label.setVisible(bool(word))


def _small(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: #555; font-size: 8pt;")
    return label


class FlowGrid(QWidget):
    """Cells (a widget, or a name and its count) in as many columns as the width holds, at most `most`, in
    balanced rows. The width the page gives decides the columns, never the other way round, so half a
    laptop's screen gets fewer columns instead of a sideways scrollbar.

    `share`: the cells share the width (tiles); otherwise they keep to the left, the spare width after them."""

    def __init__(self, most: int, spacing: int, least: int = 0, share: bool = True):
        super().__init__()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(spacing)
        self.most, self.least, self.share = most, least, share
        self.cells: list[tuple[QWidget, ...]] = []
        self.columns = 0

    def set_cells(self, cells: Sequence[tuple[QWidget, ...]]) -> None:
        for cell in self.cells:
            for widget in cell:
                self.grid.removeWidget(widget)
        self.cells, self.columns = list(cells), 0
        self._place(self._fitting(self.width()) if self.isVisible() else self.most)

    def minimumSizeHint(self) -> QSize:
        # One cell wide: a row of three must not hold the page wider than the window.
        return QSize(self._cell_width(), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place(self._fitting(self.width()))

    def _cell_width(self) -> int:
        """The width of the widest cell at its narrowest (its parts side by side)."""
        spacing = self.grid.horizontalSpacing()
        widths = [sum(part.minimumSizeHint().width() + spacing for part in cell) - spacing for cell in self.cells]
        return max([self.least, *widths])

    def _fitting(self, width: int) -> int:
        if not self.cells:
            return self.most
        spacing = self.grid.horizontalSpacing()
        fitting = min(self.most, len(self.cells), max(1, (width + spacing) // (self._cell_width() + spacing)))
        rows = math.ceil(len(self.cells) / fitting)
        return math.ceil(len(self.cells) / rows)  # 3 + 3 + 1 rather than 4 + 3 + … with a stray

    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        parts = max((len(cell) for cell in self.cells), default=1)
        for cell in self.cells:
            for widget in cell:
                self.grid.removeWidget(widget)
        for place, cell in enumerate(self.cells):
            row, column = divmod(place, columns)
            self.grid.addWidget(cell[0], row, column * parts)
            for part, widget in enumerate(cell[1:], start=1):  # a count keeps beside its name
                self.grid.addWidget(widget, row, column * parts + part, Qt.AlignmentFlag.AlignLeft)
        self._share_width(columns * parts, parts)

    def _share_width(self, used: int, parts: int) -> None:
        """Tiles share the width; pairs keep to the left, the spare width after the last one."""
        for column in range(self.most * parts + 1):
            stretch = column < used if self.share else column == used
            self.grid.setColumnStretch(column, int(stretch))
            is_count = not self.share and column < used and column % parts == 1
            self.grid.setColumnMinimumWidth(column, COUNT_WIDTH if is_count else 0)


class AmazonFigureTile(QFrame):
    """One of Amazon's rates: the rate, Amazon's status, its target and its reporting dates."""

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.setObjectName("amazonTile")
        self.setStyleSheet("QFrame#amazonTile { background: white; border: 1px solid #d3d9e1; border-radius: 5px; }")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.title = QLabel(FIGURES[key])
        self.title.setStyleSheet("font-weight: 600; color: #333; font-size: 8pt;")
        self.rate = QLabel("—")
        self.rate.setStyleSheet("font-size: 15pt; font-weight: 600; color: #263238;")
        self.status = QLabel("")
        self.target = _small()
        self.window = _small()
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.rate)
        top.addStretch()
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 5, 8, 5)
        layout.setSpacing(1)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.target)
        layout.addWidget(self.window)

    def set_figure(self, figure: dict | None) -> None:
        if figure is None:
            self.rate.setText("—")
            _pill(self.status, None)
            self.target.setText(NOT_IN_REPORT)
            self.window.setText("")
            return
        self.rate.setText(percent(figure["rate"]))
        _pill(self.status, figure["status"])
        self.target.setText(target_text(figure))
        self.window.setText(window_text(figure))


class AmazonHealthPanel(QFrame):
    """Amazon's figures from its newest account health report (`metrics["amazon"]`), or how to get one.

    `show_amazon(amazon, zone)`: the `amazon` block (None when no report was imported) and the seller's
    time zone, in which the import instant is shown.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("amazonPanel")
        self.setStyleSheet(
            f"QFrame#amazonPanel {{ background: {PANEL_BACKGROUND}; border: 1px solid {PANEL_BORDER};"
            " border-radius: 6px; }"
        )
        self.heading = QLabel("Amazon's figures")
        self.heading.setStyleSheet("font-weight: 700; color: #1f2d3d; font-size: 10pt;")
        self.source = QLabel("")
        self.source.setStyleSheet("color: #444;")
        self.source.setWordWrap(True)
        self.account_status = QLabel("")
        self.empty = QLabel(
            "No account health report imported yet. Import Amazon's account health report (the JSON of "
            "GET_V2_SELLER_PERFORMANCE_REPORT) to see Amazon's own figures here, beside the monitor's."
        )
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #555;")

        self.rating_title = QLabel("Account Health Rating")
        self.rating_title.setStyleSheet("font-weight: 600; color: #333; font-size: 8pt;")
        self.rating_score = QLabel("—")
        self.rating_score.setStyleSheet("font-size: 22pt; font-weight: 700; color: #263238;")
        self.rating_status = QLabel("")
        self.rating_note = _small()
        rating = QFrame()
        rating.setObjectName("amazonTile")
        rating.setStyleSheet("QFrame#amazonTile { background: white; border: 1px solid #d3d9e1; border-radius: 5px; }")
        rating_layout = QVBoxLayout(rating)
        rating_layout.setContentsMargins(10, 5, 10, 5)
        rating_layout.setSpacing(1)
        rating_layout.addWidget(self.rating_title)
        rating_layout.addWidget(self.rating_score)
        rating_layout.addWidget(self.rating_status, 0, Qt.AlignmentFlag.AlignLeft)
        rating_layout.addWidget(self.rating_note)
        rating_layout.addStretch()
        self.rating = rating

        self.tiles = {key: AmazonFigureTile(key) for key in FIGURES}
        self.tile_grid = FlowGrid(TILE_COLUMNS, 6, least=TILE_MIN_WIDTH)
        self.tile_grid.set_cells([(tile,) for tile in self.tiles.values()])

        self.policy_title = QLabel("Policy compliance (Amazon's counts)")
        self.policy_title.setStyleSheet("font-weight: 600; color: #333; font-size: 8pt;")
        self.policy_grid = FlowGrid(POLICY_COLUMNS, 8, share=False)
        self.policy_grid.grid.setVerticalSpacing(1)
        self.policy_labels: dict[str, QLabel] = {}
        self.policy_counts: dict[str, QLabel] = {}
        policy = QWidget()
        policy_layout = QVBoxLayout(policy)
        policy_layout.setContentsMargins(0, 2, 0, 0)
        policy_layout.setSpacing(2)
        policy_layout.addWidget(self.policy_title)
        policy_layout.addWidget(self.policy_grid)
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {RED}; font-weight: 600;")

        figures = QHBoxLayout()
        figures.setSpacing(6)
        figures.addWidget(rating)
        figures.addWidget(self.tile_grid, 1)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(4)
        body.addLayout(figures)
        body.addWidget(policy)
        body.addWidget(self.warnings)

        header = QHBoxLayout()
        header.addWidget(self.heading)
        header.addSpacing(8)
        header.addWidget(self.source, 1)
        header.addWidget(self.account_status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.empty)
        layout.addWidget(self.body)
        self.show_amazon(None, UTC)

    def show_amazon(self, amazon: dict | None, zone: tzinfo) -> None:
        """Show Amazon's figures (the `amazon` block of the metrics), or how to get them when None."""
        self.empty.setVisible(amazon is None)
        self.body.setVisible(amazon is not None)
        self.account_status.setVisible(False)
        if amazon is None:
            self.source.setText("")
            return
        self.source.setText(source_text(amazon, zone))
        if amazon.get("account_status"):
            self.account_status.setText(f"Account status: {status_word(amazon['account_status'])}")
            colour = status_colour(amazon["account_status"])
            self.account_status.setStyleSheet(f"color: {colour}; font-weight: 600;")
            self.account_status.setVisible(True)
        self._show_rating(amazon.get("account_health_rating"))
        odr = amazon.get("order_defect_rate") or {}
        for key, tile in self.tiles.items():
            name, _, channel = key.partition(".")
            tile.set_figure(odr.get(channel) if channel else amazon.get(name))
        self._show_policies(amazon.get("policy") or {}, amazon.get("policy_status") or {})
        warnings = amazon.get("warning_states") or []
        self.warnings.setText(
            "Amazon's warnings: "
            + "; ".join(
                f"{metric_name(w['metric'])}: {status_word(w['state'])}" if w["metric"] else status_word(w["state"])
                for w in warnings
            )
            if warnings
            else ""
        )
        self.warnings.setVisible(bool(warnings))

    def _show_rating(self, rating: dict | None) -> None:
        score = rating.get("score") if rating else None
        self.rating_score.setText("—" if score is None else f"{score:g}")
        _pill(self.rating_status, rating.get("status") if rating else None)
        if rating is None:
            self.rating_note.setText(NOT_IN_REPORT)
        elif score is None:
            self.rating_note.setText("no score in the report")
        else:
            self.rating_note.setText("out of 1,000; 200 and up is healthy")

    def _show_policies(self, policy: dict, statuses: dict) -> None:
        gone = [key for key in self.policy_labels if key not in policy]
        for key in policy:
            if key not in self.policy_labels:
                self.policy_labels[key] = QLabel(policy_name(key))
                self.policy_counts[key] = QLabel("")
        self.policy_grid.set_cells([(self.policy_labels[key], self.policy_counts[key]) for key in policy])
        for key in gone:
            self.policy_labels.pop(key).deleteLater()
            self.policy_counts.pop(key).deleteLater()
        for key, count in policy.items():
            name, value = self.policy_labels[key], self.policy_counts[key]
            status = statuses.get(key)
            value.setText(("—" if count is None else str(count)) + (f" ({status_word(status)})" if status else ""))
            value.setToolTip(NOT_IN_REPORT if count is None else "")
            colour = RED if count else (status_colour(status) if status else "#333")
            value.setStyleSheet(f"color: {colour}; font-weight: {700 if count else 400};")
            name.setStyleSheet("color: #333;" if count is not None else "color: #888;")


def source_text(amazon: dict, zone: tzinfo) -> str:
    """Where the figures come from: which report, marketplace and dates, and that they are Amazon's."""
    parts = ["From Amazon's account health report"]
    if amazon.get("marketplace") or amazon.get("marketplace_id"):
        code, marketplace_id = amazon.get("marketplace"), amazon.get("marketplace_id")
        parts.append(f" for {code} ({marketplace_id})" if code and marketplace_id else f" for {code or marketplace_id}")
    if amazon.get("reported_through"):
        day = date.fromisoformat(amazon["reported_through"])
        parts.append(f", reporting to {short_day(amazon['reported_through'])} {day.year}")
    if amazon.get("imported_at"):
        moment = datetime.fromisoformat(amazon["imported_at"].replace("Z", "+00:00")).astimezone(zone)
        parts.append(f", imported {moment.day} {moment.strftime('%b %Y %H:%M')}")
    others = [m for m in amazon.get("marketplaces") or [] if m != amazon.get("marketplace_id")]
    if others:
        parts.append(f"; the report also covers {', '.join(others)}")
    return "".join(parts) + ". Amazon's own numbers, not the monitor's."
