"""The tray's behaviour without a desktop: status colour and tooltip, alerts one after another (most
severe first), a clicked alert opening its item, and closing the window keeping the app in the tray."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.alerts import Alert
from app.clocks import BUYER_REPLY
from tests.ui_support import SAMPLE_NOW, WAIT_MS, desktop_app
from ui.tray import Tray, status_tooltip


def alert(key: str, severity: str, item_id: str | None = None, view: str = "messages") -> Alert:
    return Alert(key, "clock", f"title {key}", f"body {key}", severity, "111-0000000-0000000", item_id, view)


def test_status_changes_the_icon_and_tooltip(qtbot):
    tray = Tray()
    before = tray.icon.icon().pixmap(32, 32).toImage()
    tray.set_status("breach", "Account health: Over the limit\nNext deadline: soon")
    assert tray.status == "breach"
    assert tray.icon.icon().pixmap(32, 32).toImage() != before
    assert tray.icon.toolTip().startswith("Account health: Over the limit")


def test_alerts_arriving_together_are_shown_one_after_another_most_severe_first(qtbot, monkeypatch):
    tray = Tray()
    shown = []
    monkeypatch.setattr(tray.icon, "showMessage", lambda title, *rest: shown.append(title))
    tray.gap.setInterval(50)
    tray.show_alert(alert("a", "warning"))
    tray.show_alert(alert("b", "info"))
    tray.show_alert(alert("c", "critical"))
    assert shown == ["title a"]  # the first goes at once; the others wait for it
    qtbot.waitUntil(lambda: len(shown) == 3, timeout=2000)
    assert shown == ["title a", "title c", "title b"]


def test_pause_menu_entry_says_until_when(qtbot):
    tray = Tray()
    tray.set_paused("15:30")
    assert tray.actions["pause"].text() == "Alerts paused until 15:30" and not tray.actions["pause"].isEnabled()
    tray.set_paused(None)
    assert tray.actions["pause"].isEnabled()


def test_a_pause_can_be_resumed_and_the_tooltip_says_until_when(qtbot):
    tray = Tray()
    tray.set_status("good", "Account health: Good\nNo open deadline")
    assert not tray.actions["resume"].isVisible()
    tray.set_paused("14:00")
    assert tray.actions["resume"].isVisible() and tray.actions["resume"].text() == "Resume alerts"
    assert tray.icon.toolTip() == "Account health: Good\nNo open deadline\nAlerts paused until 14:00"
    tray.set_status("at_risk", "Account health: At risk\nNo open deadline")  # new figures keep the pause line
    assert tray.icon.toolTip().endswith("\nAlerts paused until 14:00")
    with qtbot.waitSignal(tray.resume_requested, timeout=1000):
        tray.actions["resume"].trigger()
    tray.set_paused(None)
    assert not tray.actions["resume"].isVisible() and tray.actions["pause"].isEnabled()
    assert "paused" not in tray.icon.toolTip()


def test_the_tooltip_counts_overdue_deadlines_before_the_next_one():
    assert status_tooltip("breach", "Reply to buyer, 111-…: 2 h left", overdue=3) == (
        "Account health: Over the limit\n3 overdue · next: Reply to buyer, 111-…: 2 h left"
    )
    assert status_tooltip("breach", None, overdue=1).endswith("\n1 overdue")
    assert status_tooltip("good", "Reply to buyer: 5 h left").endswith("\nNext deadline: Reply to buyer: 5 h left")


@pytest.fixture
def tray_app(qtbot, sample_db, db_path, tmp_path, monkeypatch):
    monkeypatch.setattr("ui.tray.QSystemTrayIcon.show", lambda self: None)  # no tray host offscreen
    monkeypatch.setattr("ui.tray.QSystemTrayIcon.isVisible", lambda self: True)
    desktop = desktop_app(db_path, tmp_path, use_tray=True)
    qtbot.addWidget(desktop.window)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.start()
    yield desktop
    desktop.quit()


def test_clicking_an_alert_opens_its_clock(qtbot, tray_app):
    buyer = next(c for c in tray_app.state.clocks if c.kind == BUYER_REPLY)
    tray_app.window.show_view("settings")
    tray_app.tray.alert_clicked.emit(alert("x", "warning", buyer.item_id))
    assert tray_app.window.current_view() == "messages"
    assert tray_app.window.messages.selected_clock().item_id == buyer.item_id


def test_closing_the_window_keeps_the_app_in_the_tray_and_says_so_once(qtbot, tray_app, monkeypatch):
    notices = []
    monkeypatch.setattr(tray_app.tray.icon, "showMessage", lambda title, text, *rest: notices.append(text))
    with qtbot.waitSignal(tray_app.bridge.job_finished, timeout=WAIT_MS):
        tray_app.window.close()  # the notice is remembered by the database's process
    assert not tray_app.window.isVisible()
    assert tray_app.host.alive and tray_app.host.call("ping")  # the monitor still runs
    assert len(notices) == 1 and "Still running in the tray" in notices[0]
    tray_app.window.bring_to_front()
    tray_app.window.close()
    assert len(notices) == 1


def test_the_tray_tooltip_counts_the_overdue_then_names_the_next_deadline(tray_app):
    tooltip = tray_app.tray.icon.toolTip()
    assert tooltip.startswith("Account health: Over the limit")
    # The samples at SAMPLE_NOW: eight clocks past their deadline, the next one a buyer's message.
    overdue = [clock for clock in tray_app.state.clocks if clock.remaining_s(SAMPLE_NOW) < 0]
    assert len(overdue) == 8
    assert "\n8 overdue · next: Reply to buyer, " in tooltip


def test_a_demo_alert_stays_in_the_window(qtbot, tray_app, monkeypatch):
    shown = []
    monkeypatch.setattr(tray_app.tray.icon, "showMessage", lambda title, *rest: shown.append(title))
    tray_app.show_alert(replace(alert("demo", "warning"), window_only=True))
    assert shown == []
    assert tray_app.window.alert_banner.alert.key == "demo"
    tray_app.show_alert(alert("real", "warning"))
    assert shown == ["title real"]


def test_resume_in_the_tray_ends_the_pause_in_both_processes(qtbot, tray_app):
    tray_app.pause_alerts()
    assert tray_app.tray.actions["resume"].isVisible()
    assert "\nAlerts paused until " in tray_app.tray.icon.toolTip()
    tray_app.tray.actions["resume"].trigger()
    assert tray_app.paused_until is None and not tray_app.pause_timer.isActive()
    assert tray_app.tray.actions["pause"].isEnabled() and not tray_app.tray.actions["resume"].isVisible()
    assert "paused" not in tray_app.tray.icon.toolTip()
    # The database's process took the request (an unknown one would come back as a failure).
    assert tray_app.host.call("ping")  # answered after the resume request: that one was handled first
    qtbot.wait(200)
    assert "failed" not in tray_app.window.statusBar().currentMessage()
