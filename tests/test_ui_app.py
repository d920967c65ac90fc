"""The running app on a real database and a real background worker: figures arrive by signal, the seller's
actions are written by the worker, imports show progress and can be cancelled, files can be dropped."""

from __future__ import annotations

import shutil

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app import demo_state
from app.clocks import BUYER_REPLY
from app.imports import import_files
from tests.conftest import SAMPLE_FILES
from tests.ui_support import SAMPLE_NOW, WAIT_MS, FixedClock, big_orders_file, desktop_app, reading
from ui.application import tray_status


def table_count(path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_figures_arrive_from_the_worker(launch, sample_db, db_path):
    desktop = launch(db_path)
    window = desktop.window
    assert desktop.state.as_of.isoformat() == "2026-11-08"
    assert window.dashboard.cards["order_defect_rate"].status.text() == "Over the limit"
    assert "Figures as of the end of Sun 08 Nov 2026" in window.status_text.text()
    assert window.messages.model.rowCount() == len(desktop.state.clocks)


def test_mark_replied_closes_the_clock(qtbot, launch, sample_db, db_path):
    desktop = launch(db_path)
    messages = desktop.window.messages
    buyer = next(c for c in desktop.state.clocks if c.kind == BUYER_REPLY)
    assert messages.select_item(buyer.item_id)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        messages.replied_button.click()
    assert buyer.item_id not in {c.item_id for c in desktop.state.clocks}
    with reading(db_path) as db:
        row = db.execute("SELECT source, automatic FROM replies WHERE message_id = ?", [f"manual:{buyer.item_id}"])
        assert row.fetchone() == ("manual", 0)


def test_no_response_needed_takes_the_message_off_the_clock(qtbot, launch, sample_db, db_path):
    desktop = launch(db_path)
    messages = desktop.window.messages
    buyer = next(c for c in desktop.state.clocks if c.kind == BUYER_REPLY)
    messages.select_item(buyer.item_id)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        messages.no_response_button.click()
    assert buyer.item_id not in {c.item_id for c in desktop.state.clocks}
    with reading(db_path) as db:
        marked = db.execute("SELECT no_response_needed_at FROM messages WHERE message_id = ?", [buyer.item_id])
        assert marked.fetchone()[0] == int(SAMPLE_NOW)


def test_import_shows_a_summary_and_refreshes_the_dashboard(qtbot, launch, db_path, samples, tmp_path):
    desktop = launch(db_path)
    assert desktop.window.dashboard.stack.currentWidget() is desktop.window.dashboard.empty
    files = [str(samples / name) for name in SAMPLE_FILES]
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.import_paths(files)
    dialog = desktop.import_dialog
    assert [r.outcome for r in dialog.results] == ["imported"] * len(files)
    assert "693 rows: 693 added" in dialog.summary.toPlainText()
    assert desktop.window.dashboard.stack.currentWidget() is desktop.window.dashboard.figures_page
    dialog.buttons.rejected.emit()  # Close
    assert not dialog.isVisible()


def test_import_progress_and_cancel_keep_the_database_as_it_was(qtbot, launch, sample_db, db_path, samples, tmp_path):
    big = big_orders_file(tmp_path / "orders-big.txt", samples / "all-orders.txt", copies=150)  # ~104,000 rows
    before = table_count(db_path, "order_items")
    desktop = launch(db_path)
    progress = []
    desktop.bridge.import_progressed.connect(progress.append)
    desktop.import_paths([str(big)])
    dialog = desktop.import_dialog
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=WAIT_MS)
    assert progress[-1].rows > progress[0].rows > 0
    assert dialog.progress.maximum() == 1000 and 0 < dialog.progress.value() < 1000
    assert "rows read" in dialog.rows.text()
    with qtbot.waitSignal(desktop.bridge.import_finished, timeout=WAIT_MS) as finished:
        dialog.buttons.rejected.emit()  # Cancel
    assert [r.outcome for r in finished.args[0]] == ["cancelled"]
    assert "Import cancelled" in dialog.rows.text()
    assert table_count(db_path, "order_items") == before


def test_files_dropped_anywhere_on_the_window_are_imported(qtbot, launch, db_path, samples, tmp_path):
    desktop = launch(db_path)
    report = shutil.copy(samples / "seller-feedback.txt", tmp_path / "download.txt")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(report))])
    target = desktop.window.dashboard.empty.headline  # a child label, not the window itself
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(desktop.bridge.import_finished, timeout=WAIT_MS) as finished:
        QApplication.sendEvent(target, drop)
    assert [(r.file, r.kind) for r in finished.args[0]] == [("download.txt", "seller_feedback")]
    assert table_count(db_path, "feedback") == 84


def test_dropping_non_files_is_ignored(qtbot, launch, db_path):
    desktop = launch(db_path)
    mime = QMimeData()
    mime.setText("just text")
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(desktop.window.dashboard, enter)
    assert not enter.isAccepted()


def test_settings_are_saved_by_the_worker_and_recomputed(qtbot, launch, sample_db, db_path):
    desktop = launch(db_path)
    view = desktop.window.settings_view
    view.a_to_z_hours.setValue(72)
    view.timezone.setCurrentText("America/Los_Angeles")
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        view.save_button.click()
    assert desktop.state.settings.a_to_z_response_hours == 72
    assert desktop.state.timezone == "America/Los_Angeles"
    # Noon UTC on 8 Nov is 4 a.m. in Los Angeles: still 8 Nov there.
    assert desktop.state.as_of.isoformat() == "2026-11-08"


def test_bad_settings_are_refused_with_a_message(qtbot, launch, db_path, monkeypatch):
    desktop = launch(db_path)
    warnings = []
    monkeypatch.setattr("ui.settings_view.QMessageBox.warning", lambda *args: warnings.append(args[2]))
    view = desktop.window.settings_view
    view.timezone.setCurrentText("Mars/Olympus")
    view.save_button.click()
    assert warnings and "Mars/Olympus" in warnings[0]


def test_without_a_tray_alerts_appear_in_a_banner(qtbot, launch, db_path):
    from app.demo import load_demo
    from storage import open_db

    now = FixedClock(SAMPLE_NOW)
    seeded = open_db(db_path)
    load_demo(seeded, now)  # buyer messages with 1.5 h and 5 h left at `now`
    seeded.close()
    desktop = launch(db_path, now=now)
    qtbot.waitUntil(lambda: bool(desktop.delivered), timeout=WAIT_MS)
    banner = desktop.window.alert_banner
    assert banner.isVisible()
    assert banner.alert.title in {alert.title for alert in desktop.delivered}
    assert any("left to reply to a buyer" in alert.title for alert in desktop.delivered)
    banner.show_button.click()
    assert desktop.window.current_view() == banner.alert.view


def test_demo_data_is_labelled_and_can_be_removed(qtbot, launch, db_path, monkeypatch):
    from app.demo import load_demo
    from storage import open_db

    seeded = open_db(db_path)
    load_demo(seeded, FixedClock(SAMPLE_NOW))
    seeded.close()
    desktop = launch(db_path)
    assert desktop.window.demo_banner.isVisible()
    assert "demo data" in desktop.window.status_text.text()
    monkeypatch.setattr(
        "ui.confirm.QMessageBox.question",
        lambda *args, **kwargs: __import__("PySide6.QtWidgets").QtWidgets.QMessageBox.StandardButton.Yes,
    )
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.window.demo_banner.findChild(__import__("PySide6.QtWidgets").QtWidgets.QPushButton).click()
    assert not desktop.window.demo_banner.isVisible()
    with reading(db_path) as db:
        assert not demo_state.has_data(db)


def test_keyboard_switches_views(qtbot, launch, db_path):
    desktop = launch(db_path)
    window = desktop.window
    window.activateWindow()
    for keys, view in (("Ctrl+2", "messages"), ("Ctrl+3", "triage"), ("Ctrl+4", "settings"), ("Ctrl+1", "dashboard")):
        QTest.keySequence(window, keys)
        assert window.current_view() == view


def test_window_remembers_its_size(qtbot, tmp_path, db_path):
    first = desktop_app(db_path, tmp_path, use_tray=False)
    qtbot.addWidget(first.window)
    first.window.show()
    first.window.resize(760, 700)  # within the offscreen screen's 800×800: a larger size is brought onto it
    first.quit()
    second = desktop_app(db_path, tmp_path, use_tray=False)
    qtbot.addWidget(second.window)
    assert (second.window.width(), second.window.height()) == (760, 700)
    second.quit()


def test_tray_status_is_the_worst_of_metrics_and_reply_clocks(sample_db):
    from app import services

    state = services.refresh(sample_db, lambda: SAMPLE_NOW)
    status, deadline = tray_status(state, SAMPLE_NOW)
    assert status == "breach"  # the samples' ODR is over 1 %
    assert deadline.startswith("Reply to buyer") and "left (due" in deadline


def test_open_timeline_lists_the_orders_history(qtbot, launch, sample_db, db_path):
    desktop = launch(db_path)
    order_id = "112-2760046-1387150"  # negative feedback and a chargeback in the samples
    desktop.open_timeline(order_id)
    from ui.timeline_dialog import TimelineDialog

    dialog = desktop.window.findChild(TimelineDialog)
    qtbot.addWidget(dialog)
    whats = [event.what for event in dialog.events]
    assert whats[0].startswith("Ordered")
    assert any(what.startswith("Feedback ★★☆☆☆") for what in whats)
    assert "Chargeback filed" in whats
    days = [event.at for event in dialog.events]
    assert days == sorted(days)


def test_importing_into_demo_replaces_it(qtbot, launch, db_path, samples):
    from app.demo import load_demo
    from storage import open_db

    seeded = open_db(db_path)
    load_demo(seeded, FixedClock(SAMPLE_NOW))
    seeded.close()
    desktop = launch(db_path)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.import_paths([str(samples / "all-orders.txt")])
    assert "demo data was cleared" in desktop.import_dialog.summary.toPlainText()
    assert table_count(db_path, "orders") == 600
    assert not desktop.window.demo_banner.isVisible()


def test_a_demo_alert_leaves_the_window_with_the_demo(qtbot, launch, db_path, samples):
    from app.demo import load_demo
    from storage import open_db

    seeded = open_db(db_path)
    load_demo(seeded, FixedClock(SAMPLE_NOW))
    seeded.close()
    desktop = launch(db_path)
    banner = desktop.window.alert_banner
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=WAIT_MS)  # a made-up buyer's deadline, in the window
    assert banner.alert.window_only
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.import_paths([str(samples / "all-orders.txt")])
    qtbot.waitUntil(lambda: desktop.import_dialog.results is not None, timeout=WAIT_MS)
    # The summary first; the demo's end is asked of the database's process at the next turn of the event loop.
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=WAIT_MS)


def test_import_files_helper_is_the_same_use_case(db, samples):
    # The window and the command line call the same use-case: a sanity check that the sample imports.
    assert import_files(db, [samples / "claims.csv"])[0].added == 12


def test_a_failed_import_is_reported_and_the_next_one_can_start(qtbot, launch, db_path, samples, monkeypatch):
    desktop = launch(db_path)
    import app.scheduler

    real_import = app.scheduler.import_files

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(app.scheduler, "import_files", broken)
    with qtbot.waitSignal(desktop.bridge.import_finished, timeout=WAIT_MS):
        desktop.import_paths([str(samples / "claims.csv")])
    dialog = desktop.import_dialog
    assert [r.outcome for r in dialog.results] == ["refused"]
    assert "the disk is full" in dialog.summary.toPlainText()
    dialog.buttons.rejected.emit()  # Close works
    assert not dialog.isVisible()
    monkeypatch.setattr(app.scheduler, "import_files", real_import)
    with qtbot.waitSignal(desktop.bridge.import_finished, timeout=WAIT_MS) as finished:
        desktop.import_paths([str(samples / "claims.csv")])
    assert [r.outcome for r in finished.args[0]] == ["imported"]


def test_quitting_during_an_import_stops_it_at_once(qtbot, launch, sample_db, db_path, samples, tmp_path):
    import time

    big = big_orders_file(tmp_path / "orders-big.txt", samples / "all-orders.txt", copies=300)  # ~208,000 rows
    before = table_count(db_path, "order_items")
    desktop = launch(db_path)
    progress = []
    desktop.bridge.import_progressed.connect(progress.append)
    desktop.import_paths([str(big)])
    qtbot.waitUntil(lambda: len(progress) >= 1, timeout=WAIT_MS)
    started = time.monotonic()
    desktop.quit()
    assert time.monotonic() - started < 5  # not the tens of seconds the rest of the file would take
    assert table_count(db_path, "order_items") == before


def test_a_file_that_is_not_a_database_is_refused_as_the_database(qtbot, launch, db_path, tmp_path, monkeypatch):
    desktop = launch(db_path)
    warnings = []
    monkeypatch.setattr("ui.application.QMessageBox.warning", lambda *args: warnings.append(args[2]))
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("my shopping list\n" * 200)
    desktop.change_database(str(not_a_db))
    assert warnings and "keeps using" in warnings[0]
    assert desktop.qsettings.value("database/path") is None


def test_pausing_alerts_comes_back_by_itself(qtbot, tmp_path, sample_db, db_path, monkeypatch):
    monkeypatch.setattr("ui.application.PAUSE_S", 0.2)
    monkeypatch.setattr("ui.tray.QSystemTrayIcon.show", lambda self: None)
    desktop = desktop_app(db_path, tmp_path, use_tray=True)
    qtbot.addWidget(desktop.window)
    desktop.pause_alerts()
    assert not desktop.tray.actions["pause"].isEnabled()
    assert desktop.paused_until == SAMPLE_NOW + 0.2
    qtbot.waitUntil(lambda: desktop.tray.actions["pause"].isEnabled(), timeout=5000)
    desktop.quit()


def test_the_triage_reminder_time_is_a_setting_in_the_window(qtbot, launch, db_path):
    desktop = launch(db_path)
    view = desktop.window.settings_view
    assert view.reminder.text() == "Mon 09:00"
    view.reminder.setText("tue 8:30")
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        view.save_button.click()
    assert desktop.state.settings.triage_reminder == "Tue 08:30"
