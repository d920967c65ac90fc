"""Settings on a laptop screen: a long database path is shortened in its middle, never cut, and can be
copied whole; the Start at login box is there."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton, QScrollArea

from tests.ui_support import WAIT_MS

LONG_FOLDER = "Seller Central exports/Account health backups/2026/November/week 45/the shop's own folder"


@pytest.mark.parametrize("size", [(1024, 768), (1366, 768)])
def test_a_long_database_path_is_elided_in_the_middle_with_the_whole_path_at_hand(qtbot, launch, tmp_path, size):
    db_path = tmp_path / LONG_FOLDER / "health-database.db"
    db_path.parent.mkdir(parents=True)
    desktop = launch(db_path)
    window = desktop.window
    window.resize(*size)
    window.show_view("settings")
    window.show()
    view = window.settings_view
    scroll = view.findChild(QScrollArea)
    scroll.ensureWidgetVisible(view.database)
    qtbot.waitUntil(
        lambda: view.database.visibleRegion().boundingRect().width() == view.database.width(), timeout=WAIT_MS
    )

    label = view.database
    shown = label.text()
    assert shown != str(db_path), "too long for the row: shortened"
    head, _, tail = shown.partition("…")
    assert str(db_path).startswith(head) and str(db_path).endswith(tail) and tail.endswith("health-database.db")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width(), "nothing cut off"
    assert label.toolTip() == str(db_path)
    row = label.parentWidget()
    copy = next(button for button in row.findChildren(QPushButton) if button.text() == "Copy path")
    assert label.geometry().right() < copy.geometry().left(), "the buttons do not cover the path"
    copy.click()
    assert QGuiApplication.clipboard().text() == str(db_path)
    assert view.start_at_login.text() == "Start the monitor in the tray when I log in"


def test_a_short_path_is_shown_whole(qtbot, launch, db_path):
    desktop = launch(db_path)
    desktop.window.resize(1024, 768)
    desktop.window.show_view("settings")
    desktop.window.show()
    qtbot.waitExposed(desktop.window)
    assert desktop.window.settings_view.database.text() == str(db_path)
