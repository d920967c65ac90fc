"""Starting the desktop app: the QApplication, the database and the main window."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from storage import StorageError, default_db_path, open_db
from ui.main_window import MainWindow


def run_desktop(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Account Health Monitor")
    app.setOrganizationName("account-health-monitor")
    db_path = args.db or default_db_path()
    try:
        db = open_db(db_path)
    except StorageError as error:
        QMessageBox.critical(None, "Account Health Monitor", str(error))
        return 2
    _load_demo_if_empty(db)
    window = MainWindow(db, db_path)
    if args.screenshot:
        window.resize(1366, 768)
        window.show()
        app.processEvents()
        return 0 if window.grab().save(str(args.screenshot)) else 1
    window.show()
    return app.exec()


def _load_demo_if_empty(db) -> None:
    from app import demo_state
    from app.settings import load_settings

    if load_settings(db).demo_on_empty and not demo_state.has_data(db):
        from app.demo import load_demo

        load_demo(db)
