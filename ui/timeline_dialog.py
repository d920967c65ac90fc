"""An order's timeline: its messages, replies, feedback, returns and claims in date order."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout

from app.timeline import TimelineEvent


class TimelineDialog(QDialog):
    def __init__(self, order_id: str, events: list[TimelineEvent], zone: ZoneInfo, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Order {order_id}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per look, in an app that runs all week
        self.resize(640, 480)
        self.events = events
        heading = QLabel(f"<b>Order {html.escape(order_id)}</b> — everything imported about it, oldest first")
        self.text = QTextBrowser()
        self.text.setHtml(timeline_html(events, zone) if events else "<p>Nothing imported about this order yet.</p>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)


def timeline_html(events: list[TimelineEvent], zone: ZoneInfo) -> str:
    rows = "".join(
        f"<tr><td style='color:#555; padding-right:12px; white-space:nowrap'>{html.escape(event.when(zone))}</td>"
        f"<td><b>{html.escape(event.what)}</b>"
        + (f"<br>{html.escape(event.detail)}" if event.detail else "")
        + "</td></tr>"
        for event in events
    )
    return f"<table cellspacing='6'>{rows}</table>"
