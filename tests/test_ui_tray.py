"""The tray's behaviour without a desktop: status colour and tooltip, alerts one after another (most
severe first), a clicked alert opening its item, and closing the window keeping the app in the tray."""

from __future__ import annotations

import pytest

from app.alerts import Alert
from app.clocks import BUYER_REPLY
from tests.ui_support import WAIT_MS, desktop_app
from ui.tray import Tray


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


def test_the_tray_tooltip_names_the_next_deadline(tray_app):
    tooltip = tray_app.tray.icon.toolTip()
    assert tooltip.startswith("Account health: Over the limit")
    assert "Next deadline: Reply to buyer" in tooltip
