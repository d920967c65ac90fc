"""Taking back a *Mark replied* or *No response needed*: from the status bar for a few seconds, from the order's
timeline at any time (also after a restart), exactly — the message's clock, the LRR and the triage as they
were — and never a reply found in the seller's e-mails."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from app import marks
from app.clocks import BUYER_REPLY
from tests.ui_support import SAMPLE_NOW, WAIT_MS, FixedClock, reading
from ui.timeline_dialog import TimelineDialog

DEMO_ORDER_MESSAGE = "111-9159489-7784551"  # the demo's buyer message with 1.5 h left at SAMPLE_NOW


def order_clock(desktop, order_id: str):
    return next(c for c in desktop.state.clocks if c.kind == BUYER_REPLY and c.order_id == order_id)


def recomputed(qtbot, desktop):
    """Wait for what follows a write: the figures and clocks, then the triage list."""
    bridge = desktop.bridge
    return qtbot.waitSignals([bridge.state_ready, bridge.triage_ready], timeout=WAIT_MS)


def started(qtbot, launch, path, now=None):
    """The app as it stands once settled: the first recomputation records the figures' first statuses,
    which the triage lists from the next one on; the baseline is that next one."""
    desktop = launch(path, now=now)
    # The start's own recomputation ends with its triage list: asked for while it still runs, the next one
    # would be skipped as a second running instance of the timetable's job.
    qtbot.waitUntil(lambda: desktop.triage_listing is not None, timeout=WAIT_MS)
    with recomputed(qtbot, desktop):
        desktop.host.send("recompute_soon")
    return desktop


def snapshot(desktop) -> tuple:
    """Everything a mark changes, as the window holds it: the clocks, every figure, the triage list."""
    return desktop.state.clocks, desktop.state.metrics, desktop.triage_listing.items


def press(qtbot, desktop, key) -> None:
    """A shortcut as the seller types it, in the active window, and the recomputation that follows."""
    window = desktop.window
    window.show_view("messages")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    with recomputed(qtbot, desktop):
        QTest.keyClick(window.messages.table, key, Qt.KeyboardModifier.ControlModifier)


def timeline(qtbot, desktop, order_id: str) -> TimelineDialog:
    desktop.open_timeline(order_id)
    dialog = next(d for d in desktop.window.findChildren(TimelineDialog) if d.order_id == order_id)
    qtbot.addWidget(dialog)
    return dialog


def marks_in(dialog: TimelineDialog) -> list[marks.Mark]:
    return [event.mark for event in dialog.events if event.mark is not None]


def answer_questions(monkeypatch, answer) -> list[str]:
    """The confirmation box answered as the seller would; returns the questions asked."""
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return answer

    monkeypatch.setattr("ui.confirm.QMessageBox.question", question)
    return asked


def test_ctrl_r_then_ctrl_z_puts_the_message_back_as_it_was(qtbot, launch, demo_path):
    desktop = started(qtbot, launch, demo_path)
    before = snapshot(desktop)
    clock = order_clock(desktop, DEMO_ORDER_MESSAGE)
    lrr_before = desktop.state.metrics["late_response_rate"]
    assert desktop.window.messages.select_item(clock.item_id)

    press(qtbot, desktop, Qt.Key.Key_R)
    assert clock.item_id not in {c.item_id for c in desktop.state.clocks}
    lrr = desktop.state.metrics["late_response_rate"]
    assert lrr["on_time"] == lrr_before["on_time"] + 1  # answered within its 24 h
    assert lrr["rate"] < lrr_before["rate"]
    offer = desktop.window.undo_offer
    assert offer.isVisible()
    assert offer.label.text() == f"Marked replied: order {DEMO_ORDER_MESSAGE} —"
    assert offer.button.text() == "Undo (Ctrl+Z)"

    press(qtbot, desktop, Qt.Key.Key_Z)
    assert snapshot(desktop) == before  # the clock with its deadline, every figure, the triage list
    assert order_clock(desktop, DEMO_ORDER_MESSAGE).due_at == clock.due_at
    assert not offer.isVisible()
    with reading(demo_path) as db:
        assert db.execute("SELECT count(*) FROM replies WHERE source = 'manual'").fetchone()[0] == 0


def test_no_response_needed_is_undone_from_the_status_bar_button(qtbot, launch, demo_path):
    desktop = started(qtbot, launch, demo_path)
    before = snapshot(desktop)
    clock = order_clock(desktop, DEMO_ORDER_MESSAGE)
    messages = desktop.window.messages
    messages.select_item(clock.item_id)
    with recomputed(qtbot, desktop):
        messages.no_response_button.click()
    lrr = desktop.state.metrics["late_response_rate"]
    assert lrr["excluded_no_response_needed"] == before[1]["late_response_rate"]["excluded_no_response_needed"] + 1
    assert clock.item_id not in {c.item_id for c in desktop.state.clocks}
    offer = desktop.window.undo_offer
    assert offer.label.text() == f"Marked no response needed: order {DEMO_ORDER_MESSAGE} —"
    # Out of the LRR, the message takes the demo's LRR under its target: an alert says so.
    banner = desktop.window.alert_banner
    assert lrr["status"] == "good" and before[1]["late_response_rate"]["status"] == "breach"
    assert banner.isVisible() and banner.alert.key == "status:late_response_rate:good:2026-11-08"

    with recomputed(qtbot, desktop):
        offer.button.click()
    assert snapshot(desktop) == before  # no status change in the triage list: the flip never happened
    assert not banner.isVisible()  # its alert is no longer true
    with reading(demo_path) as db:
        assert db.execute("SELECT count(*) FROM alerts WHERE kind = 'status'").fetchone()[0] == 0
        assert [row[0] for row in db.execute("SELECT old_status FROM status_changes")] == [None] * 5
    with reading(demo_path) as db:
        marked = db.execute("SELECT no_response_needed_at FROM messages WHERE message_id = ?", [clock.item_id])
        assert marked.fetchone()[0] is None


def test_the_status_bar_offers_the_latest_mark_only(qtbot, launch, demo_path):
    desktop = started(qtbot, launch, demo_path)
    first = order_clock(desktop, DEMO_ORDER_MESSAGE)
    second = next(c for c in desktop.state.clocks if c.kind == BUYER_REPLY and c.item_id != first.item_id)
    messages = desktop.window.messages
    for clock in (first, second):
        messages.select_item(clock.item_id)
        with recomputed(qtbot, desktop):
            messages.replied_button.click()
    assert desktop.window.undo_offer.mark.message_id == second.item_id

    press(qtbot, desktop, Qt.Key.Key_Z)
    open_ids = {c.item_id for c in desktop.state.clocks}
    assert second.item_id in open_ids and first.item_id not in open_ids
    assert not desktop.window.undo_offer.isVisible()  # the earlier mark is undone from its timeline


def test_undo_from_the_timeline_after_the_offer_has_gone_asks_first(qtbot, launch, demo_path, monkeypatch):
    now = FixedClock(SAMPLE_NOW)
    desktop = started(qtbot, launch, demo_path, now=now)
    before = snapshot(desktop)
    clock = order_clock(desktop, DEMO_ORDER_MESSAGE)
    offer = desktop.window.undo_offer
    offer.shown_ms = 200  # the status bar's few seconds, shortened for the test
    desktop.window.messages.select_item(clock.item_id)
    press(qtbot, desktop, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not offer.isVisible(), timeout=WAIT_MS)
    assert not offer.shortcut.isEnabled()  # Ctrl+Z takes nothing back once the offer is gone
    now.advance(20 * 60)  # the seller opens the timeline twenty minutes later

    dialog = timeline(qtbot, desktop, DEMO_ORDER_MESSAGE)
    [mark] = marks_in(dialog)
    assert (mark.kind, mark.at) == (marks.REPLIED, int(SAMPLE_NOW))
    event = next(e for e in dialog.events if e.mark == mark)
    assert event.what == "Marked replied by you"

    asked = answer_questions(monkeypatch, QMessageBox.StandardButton.Cancel)
    dialog.undo_buttons[mark].click()
    assert len(asked) == 1 and "Marked replied by you on Sun 08 Nov 2026, 12:00" in asked[0]
    assert clock.item_id not in {c.item_id for c in desktop.state.clocks}  # Cancel: nothing sent

    answer_questions(monkeypatch, QMessageBox.StandardButton.Yes)
    with recomputed(qtbot, desktop):
        dialog.undo_buttons[mark].click()
    restored = order_clock(desktop, DEMO_ORDER_MESSAGE)
    assert restored == clock  # the same deadline, the same message
    assert desktop.state.metrics == before[1]  # still the same day: the same figures as before the mark
    assert marks_in(dialog) == []  # the open timeline shows the mark gone


def test_a_recent_mark_is_undone_from_the_timeline_without_a_question(qtbot, launch, demo_path, monkeypatch):
    desktop = started(qtbot, launch, demo_path)
    clock = order_clock(desktop, DEMO_ORDER_MESSAGE)
    messages = desktop.window.messages
    messages.select_item(clock.item_id)
    with recomputed(qtbot, desktop):
        messages.no_response_button.click()
    dialog = timeline(qtbot, desktop, DEMO_ORDER_MESSAGE)
    [mark] = marks_in(dialog)
    assert mark.kind == marks.NO_RESPONSE_NEEDED
    asked = answer_questions(monkeypatch, QMessageBox.StandardButton.Cancel)
    with recomputed(qtbot, desktop):
        dialog.undo_buttons[mark].click()
    assert asked == []
    assert order_clock(desktop, DEMO_ORDER_MESSAGE) == clock
    assert not desktop.window.undo_offer.isVisible()  # the same mark is no longer offered in the status bar


def test_undo_works_from_the_timeline_after_a_restart(qtbot, launch, demo_path, monkeypatch):
    first = started(qtbot, launch, demo_path)
    before = snapshot(first)
    clock = order_clock(first, DEMO_ORDER_MESSAGE)
    first.window.messages.select_item(clock.item_id)
    press(qtbot, first, Qt.Key.Key_R)
    first.quit()

    second = started(qtbot, launch, demo_path, now=FixedClock(SAMPLE_NOW + 3600))
    assert clock.item_id not in {c.item_id for c in second.state.clocks}
    assert not second.window.undo_offer.isVisible()
    dialog = timeline(qtbot, second, DEMO_ORDER_MESSAGE)
    [mark] = marks_in(dialog)
    asked = answer_questions(monkeypatch, QMessageBox.StandardButton.Yes)
    with recomputed(qtbot, second):
        dialog.undo_buttons[mark].click()
    assert len(asked) == 1
    assert order_clock(second, DEMO_ORDER_MESSAGE) == clock
    assert second.state.metrics == before[1]


def sent_reply(path, alias: str, order_id: str, sent: str):
    """The seller's own answer as their mail program saved it in Sent."""
    path.write_text(
        f"From: Shop Support <seller@example.com>\n"
        f"To: {alias}@marketplace.amazon.com\n"
        f"Subject: Re: Question from Amazon customer (Order: {order_id})\n"
        f"Date: {sent}\n"
        f"Message-ID: <answer-{order_id}@example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n\n"
        "Hello, the parcel left today. Best regards\n",
        encoding="utf-8",
    )
    return path


def test_a_reply_from_the_e_mails_is_not_undone(qtbot, launch, sample_db, db_path, tmp_path):
    desktop = started(qtbot, launch, db_path)
    clock = next(c for c in desktop.state.clocks if c.kind == BUYER_REPLY and c.order_id)
    messages = desktop.window.messages
    messages.select_item(clock.item_id)
    press(qtbot, desktop, Qt.Key.Key_R)
    replied = desktop.state.metrics["late_response_rate"]
    mark = desktop.window.undo_offer.mark
    with reading(db_path) as db:
        alias = db.execute("SELECT thread_key FROM messages WHERE message_id = ?", [clock.item_id]).fetchone()[0]
    # The seller's answer had gone out by mail an hour before the mark; it is imported now.
    answer = sent_reply(tmp_path / "answer.eml", alias, clock.order_id, "Sun, 08 Nov 2026 11:00:00 +0000")
    with recomputed(qtbot, desktop):
        desktop.import_paths([str(answer)])
    assert desktop.import_dialog.results[0].outcome == "imported"

    dialog = timeline(qtbot, desktop, clock.order_id)
    assert marks_in(dialog) == [mark]  # only the seller's mark has an Undo
    assert "Your reply" in [event.what for event in dialog.events]
    assert list(dialog.undo_buttons) == [mark]

    with recomputed(qtbot, desktop):
        dialog.undo_buttons[mark].click()
    assert clock.item_id not in {c.item_id for c in desktop.state.clocks}  # still replied, by the e-mail
    lrr = desktop.state.metrics["late_response_rate"]
    assert (lrr["on_time"], lrr["late"], lrr["pending"]) == (replied["on_time"], replied["late"], replied["pending"])
    assert marks_in(dialog) == []
    assert [event.what for event in dialog.events].count("Your reply") == 1  # the evidence stays
    with reading(db_path) as db:
        kept = db.execute(
            "SELECT source FROM replies WHERE thread_key = ? AND sent_at = ?", [alias, int(SAMPLE_NOW) - 3600]
        )
        assert kept.fetchall() == [("mail",)]


def test_a_stale_undo_never_takes_back_a_newer_mark(demo_path):
    from storage import open_db

    db = open_db(demo_path)
    try:
        message_id = db.execute("SELECT message_id FROM messages WHERE order_id = ?", [DEMO_ORDER_MESSAGE]).fetchone()[
            0
        ]
        first = marks.mark_no_response_needed(db, message_id, SAMPLE_NOW)
        assert marks.mark_no_response_needed(db, message_id, SAMPLE_NOW + 60) is None  # marked already
        assert marks.undo_mark(db, first, SAMPLE_NOW) is not None
        assert marks.undo_mark(db, first, SAMPLE_NOW) is None  # taken back already
        second = marks.mark_no_response_needed(db, message_id, SAMPLE_NOW + 120)
        assert marks.undo_mark(db, first, SAMPLE_NOW) is None
        stored = db.execute("SELECT no_response_needed_at FROM messages WHERE message_id = ?", [message_id])
        assert stored.fetchone()[0] == second.at
        replied = marks.mark_replied(db, message_id, SAMPLE_NOW)
        assert marks.mark_replied(db, message_id, SAMPLE_NOW + 60) is None
        stale = marks.Mark(marks.REPLIED, message_id, DEMO_ORDER_MESSAGE, int(SAMPLE_NOW) + 60)
        assert marks.undo_mark(db, stale, SAMPLE_NOW) is None
        assert marks.undo_mark(db, replied, SAMPLE_NOW) is not None
    finally:
        db.close()
