"""The clocks table: a correct Qt model, live countdowns from absolute deadlines, urgency colours, filters."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer

from app import services
from app.clocks import BUYER_REPLY, RETURN_RESPONSE, Clock
from tests.ui_support import SAMPLE_NOW, FixedClock
from ui.clocks_model import COUNTDOWN, ClocksModel, countdown_text
from ui.messages_view import MessagesView
from ui.theme import URGENCY_BACKGROUNDS

HOUR = 3600


def clock(kind: str, due_in_h: float, item: str, channel: str = "FBM", at: float = SAMPLE_NOW) -> Clock:
    due = int(at + due_in_h * HOUR)
    return Clock(kind, f"111-0000000-{item}", due - 24 * HOUR, due, item, "Order delivery", channel)


def test_model_passes_qt_model_tester(qtmodeltester, sample_db):
    state = services.refresh(sample_db, lambda: SAMPLE_NOW)
    model = ClocksModel(lambda: SAMPLE_NOW)
    model.set_rows(state.clocks)
    assert model.rowCount() == len(state.clocks) > 0
    qtmodeltester.check(model)


def test_buyer_replies_come_first_then_the_most_urgent():
    model = ClocksModel(lambda: SAMPLE_NOW)
    model.set_rows([clock(RETURN_RESPONSE, 1, "r1"), clock(BUYER_REPLY, 20, "m1"), clock(BUYER_REPLY, 3, "m2")])
    assert [row.item_id for row in model.rows] == ["m2", "m1", "r1"]


def test_countdown_ticks_from_the_deadline_with_an_injected_clock():
    now = FixedClock(SAMPLE_NOW)
    model = ClocksModel(now)
    model.set_rows([clock(BUYER_REPLY, 7, "m1")])
    index = model.index(0, COUNTDOWN)
    background = Qt.ItemDataRole.BackgroundRole
    assert model.data(index) == "7 h 00 min"
    assert model.data(index, background) is None
    seen = []
    model.dataChanged.connect(lambda first, last, roles: seen.append((first.row(), last.row(), first.column())))
    now.advance(2 * HOUR)  # 5 h left: amber
    model.tick()
    assert seen == [(0, 0, COUNTDOWN)]
    assert model.data(index) == "5 h 00 min"
    assert model.data(index, background).name() == URGENCY_BACKGROUNDS["amber"]
    now.advance(3 * HOUR + 59)  # 1 h 59 min 01 s left: red, seconds shown under an hour
    model.tick()
    assert model.data(index) == "1 h 59 min"
    assert model.data(index, background).name() == URGENCY_BACKGROUNDS["red"]
    now.advance(2 * HOUR - 59 + 30)  # 30 s past the deadline
    model.tick()
    assert model.data(index) == "overdue 0 min 30 s"
    assert model.data(index, background).name() == URGENCY_BACKGROUNDS["overdue"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(59, "0 min 59 s"), (3600, "1 h 00 min"), (86400 + 7200, "1 d 2 h"), (-90, "overdue 1 min 30 s")],
)
def test_countdown_text(seconds, text):
    assert countdown_text(seconds) == text


def test_one_timer_drives_every_countdown(qtbot):
    view = MessagesView(lambda: SAMPLE_NOW)
    qtbot.addWidget(view)
    timers = view.findChildren(QTimer)
    assert len(timers) == 1
    assert timers[0].interval() == 1000 and timers[0].isActive()


def test_filters_by_kind_and_channel(qtbot, sample_db):
    state = services.refresh(sample_db, lambda: SAMPLE_NOW)
    view = MessagesView(lambda: SAMPLE_NOW)
    qtbot.addWidget(view)
    view.show_state(state)

    def shown():
        return [
            view.proxy.data(view.proxy.index(row, 0), Qt.ItemDataRole.UserRole + 2)
            for row in range(view.proxy.rowCount())
        ]

    assert len(shown()) == len(state.clocks)
    view.kind_filter.setCurrentText("Buyer messages")
    replies = [c for c in state.clocks if c.kind == BUYER_REPLY]
    assert sorted(c.item_id for c in shown()) == sorted(c.item_id for c in replies)
    view.channel_filter.setCurrentText("FBM")
    assert {c.channel for c in shown()} <= {"FBM"}
    assert [c.item_id for c in shown()] == [
        c.item_id for c in sorted(replies, key=lambda c: c.due_at) if c.channel == "FBM"
    ]
    view.kind_filter.setCurrentText("All clocks")
    view.channel_filter.setCurrentText("All channels")
    assert len(shown()) == len(state.clocks)


def test_actions_follow_the_selection(qtbot, sample_db):
    state = services.refresh(sample_db, lambda: SAMPLE_NOW)
    view = MessagesView(lambda: SAMPLE_NOW)
    qtbot.addWidget(view)
    view.show_state(state)
    assert not view.replied_button.isEnabled()
    buyer = next(c for c in state.clocks if c.kind == BUYER_REPLY and c.order_id)
    assert view.select_item(buyer.item_id)
    assert view.replied_button.isEnabled() and view.timeline_button.isEnabled()
    with qtbot.waitSignal(view.mark_replied) as replied:
        view.replied_button.click()
    assert replied.args == [buyer.item_id]
    with qtbot.waitSignal(view.timeline_requested) as timeline:
        view.timeline_button.click()
    assert timeline.args == [buyer.order_id]
