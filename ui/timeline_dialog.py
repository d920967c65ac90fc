"""An order's timeline: its messages, replies, feedback, returns and claims in date order, and the seller's
own marks with an Undo each."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.marks import Mark
from app.timeline import TimelineEvent
from ui.confirm import confirm
from ui.mark_undo import UNDO_SHOWN_S
from ui.theme import BREACH, STATUS_COLOURS

UNDO_TOOLTIP = "Take this mark back: the message is on its reply clock and in the LRR as it was before"


class TimelineDialog(QDialog):
    undo_requested = Signal(object)  # the Mark to take back

    def __init__(
        self,
        order_id: str,
        events: list[TimelineEvent],
        zone: ZoneInfo,
        parent=None,
        now: Callable[[], float] = time.time,
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Order {order_id}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per look, in an app that runs all week
        self.resize(640, 480)
        self.order_id, self.zone, self.now = order_id, zone, now
        heading = QLabel(f"<b>Order {html.escape(order_id)}</b> — everything imported or marked about it, oldest first")
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.StyledPanel)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.area, 1)
        layout.addWidget(buttons)
        self.show_events(events)

    def show_events(self, events: list[TimelineEvent]) -> None:
        """(Re)draw the timeline; after a mark was taken back the window asks again and calls this."""
        self.events = events
        self.undo_buttons: dict[Mark, QPushButton] = {}
        content = QWidget()
        grid = QGridLayout(content)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(1, 1)
        if not events:
            grid.addWidget(QLabel("Nothing imported about this order yet."), 0, 0)
        for row, event in enumerate(events):
            grid.addWidget(_when_label(event.when(self.zone)), row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(_event_label(event), row, 1)  # the whole cell's width to wrap in
            if event.mark is not None:
                grid.addWidget(self._undo_button(event), row, 2, Qt.AlignmentFlag.AlignTop)
        grid.setRowStretch(max(len(events), 1), 1)
        self.area.setWidget(content)  # the previous content is deleted with it

    def _undo_button(self, event: TimelineEvent) -> QPushButton:
        button = QPushButton("Undo")
        button.setToolTip(UNDO_TOOLTIP)
        button.setAccessibleName(f"Undo: {event.what}, {event.when(self.zone)}")
        button.clicked.connect(lambda: self.undo(event.mark))
        self.undo_buttons[event.mark] = button
        return button

    def undo(self, mark: Mark) -> None:
        """Ask first when the mark is older than the status bar's offer: it may have been made days ago, on
        purpose, and the message's clock and LRR change back."""
        question = _undo_question(mark, self.zone)
        if self.now() - mark.at > UNDO_SHOWN_S and not confirm(self, "Undo this mark?", question):
            return
        self.undo_buttons[mark].setEnabled(False)  # until the timeline is shown again without it
        self.undo_requested.emit(mark)


def _when_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: #555;")
    return label


def _event_label(event: TimelineEvent) -> QLabel:
    text = f"<b>{html.escape(event.what)}</b>" + (f"<br>{html.escape(event.detail)}" if event.detail else "")
    # In the colour of a figure over its limit: what puts the account at risk stands out from the history.
    colour = STATUS_COLOURS[BREACH]
    text += "".join(f"<br><span style='color: {colour};'>⚠ {html.escape(line)}</span>" for line in event.problems)
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # ids to copy into Seller Central
    return label


def _undo_question(mark: Mark, zone: ZoneInfo) -> str:
    when = datetime.fromtimestamp(mark.at, tz=zone).strftime("%a %d %b %Y, %H:%M")
    return (
        f"{mark.words} by you on {when}.\n\nTake it back? The message goes back on its reply clock with its "
        "original deadline and counts in the Late Response Rate as it did before the mark. A reply found in "
        "your e-mails still answers it."
    )
