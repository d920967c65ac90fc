"""Render the dashboard with its money line, from the demo seller, into docs/screenshots/: at a laptop's
1366×768 (`money-panel.png`) and at 1024×768 (`money-panel-1024.png`).

The demo seller is dated around a fixed instant in the middle of a month, so the line shows a month's
claims rather than the first day of one.

QT_QPA_PLATFORM=offscreen python tools/money_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from app import services  # noqa: E402
from app.demo import load_demo  # noqa: E402
from storage.db import open_db  # noqa: E402
from ui.dashboard import DashboardView  # noqa: E402

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC).timestamp()
SIZES = {(1366, 768): "money-panel.png", (1024, 768): "money-panel-1024.png"}


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    target = ROOT / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ahm-money-") as folder:
        db = open_db(Path(folder) / "demo.db")
        load_demo(db, lambda: NOW)
        state = services.refresh(db, lambda: NOW)
        for (width, height), name in SIZES.items():
            view = DashboardView()
            view.resize(width, height)
            view.show_state(state)
            view.show()
            for _ in range(5):
                app.processEvents()
            view.grab().save(str(target / name))
            print(f"wrote docs/screenshots/{name}")
            view.close()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
