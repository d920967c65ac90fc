"""The dashboard's money line: what Amazon may still owe the seller, what came back this month, and how
many of the month's replies broke a Communication Guideline. One line beside the day picker, so the dashboard
grows no taller; the figures come computed with the rest of the dashboard's state (`app.money`)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.money import MoneySummary, amounts_text

EXPLAINED = (
    "Amazon may owe you: every claim whose window is still open, whatever month it is dated in (the ones "
    "Triage lists): FBA returns Amazon damaged or did not reimburse, refunded FBM returns Amazon flagged or "
    "that the returns report says never came back, and claims filed and waiting (SAFE-T claims Amazon is "
    "deciding, and items you resolved as filed while their window is open). Amazon refuses an FBA claim "
    "for 60 days after the refund (45 in Europe): Triage lists it every week from when it arrives, "
    "marked \u201cclaimable from\u201d until it can be filed. FBA amounts are the order line's price for the "
    "units returned (the report does not say what "
    "Amazon pays); unpriced: the order is not imported. Recovered this month: "
    "SAFE-T reimbursements, dated by the claim's creation day, and FBA returns Amazon reimbursed. "
    "Currencies are shown side by side, never added. Months are the marketplace time zone's, and the "
    "figures cover every marketplace. Replies: those sent this month whose check found a breach."
)
REIMPORT = (
    " Re-import the FBM returns report to check {returns} for SAFE-T claims: they were stored before the "
    "monitor read the return delivery date, so it cannot tell whether they came back."
)


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def stake_html(summary: MoneySummary) -> str:
    """`Amazon may owe you $X (3 claims, 1 filed, 1 unpriced)`, or that there is no claim open."""
    total = summary.claims + summary.filed
    if not total:
        return "No money claim open"
    counts = [_plural(total, "claim")] + ([f"{summary.filed} filed"] if summary.filed else [])
    counts += [f"{summary.unpriced} unpriced"] if summary.unpriced else []
    amount = escape(amounts_text(summary.at_stake)) if summary.at_stake else "an unknown amount"
    return f"Amazon may owe you <b>{amount}</b> ({', '.join(counts)})"


def money_html(summary: MoneySummary) -> str:
    """`Amazon may owe you $X (N claims) · $Y recovered in November · 2 replies broke a guideline`, the
    amounts in bold: short enough for one line beside the day picker at 1024 pixels."""
    month = f"{summary.month:%B}"
    back = escape(amounts_text(summary.recovered))
    back = f"<b>{back}</b>" if summary.recovered else back
    replies = summary.breached_replies
    said = f"{_plural(replies, 'reply', 'replies')} broke a guideline" if replies else "No reply broke a guideline"
    colour = "#a61b1b" if replies else "#333"
    line = f"{stake_html(summary)} · {back} recovered in {month} · <span style='color: {colour}'>{escape(said)}</span>"
    if summary.unknown_delivery:
        returns = _plural(summary.unknown_delivery, "refunded return")
        line += f" · <span style='color: #8a5a00'>re-import FBM returns to check {returns}</span>"
    return line


class MoneyPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setObjectName("moneyLine")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setToolTip(EXPLAINED)
        self.label.setStyleSheet("background: #eef4ea; color: #1f3a17; border-radius: 4px; padding: 3px 6px;")
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self.summary: MoneySummary | None = None
        self.hide()

    def show_summary(self, summary: MoneySummary | None) -> None:
        """The month's figures; hidden until they have been computed once."""
        self.summary = summary
        if summary is None:
            self.hide()
            return
        self.label.setText(money_html(summary))
        returns = _plural(summary.unknown_delivery, "refunded return")
        self.label.setToolTip(EXPLAINED + (REIMPORT.format(returns=returns) if summary.unknown_delivery else ""))
        self.show()
