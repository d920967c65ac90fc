"""The main window (a summary of what is stored until the dashboard arrives)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from app import demo_state


class MainWindow(QMainWindow):
    def __init__(self, db, db_path: Path):
        super().__init__()
        self.setWindowTitle("Account Health Monitor")
        counts = {table: db[table].count for table in demo_state.DATA_TABLES}
        lines = [f"<h2>Account Health Monitor</h2><p>Database: {db_path}</p>"]
        if demo_state.is_active(db):
            lines.append("<p><b>Demo data</b> — import your own reports to replace it.</p>")
        lines.append("<ul>" + "".join(f"<li>{table}: {count}</li>" for table, count in counts.items()) + "</ul>")
        label = QLabel("".join(lines))
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(label)
        layout.addStretch()
        self.setCentralWidget(central)
