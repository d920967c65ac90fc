"""Render the screenshots of a seller with two accounts, one of them selling on Amazon.co.uk and Amazon.de,
into docs/screenshots/: the dashboard (`dashboard-marketplaces.png`, and `-1024`), the clocks
(`clocks-marketplaces.png`) and the triage (`triage-marketplaces.png`) of the UK + DE account, with the
account bar above them. The reports are the generated UK + DE seller of the tests, seen at a fixed instant
(8 Nov 2026, 23:00 UTC), so the pictures do not age.

QT_QPA_PLATFORM=offscreen python tools/marketplace_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime  # noqa: E402

from PySide6.QtWidgets import QApplication  # noqa: E402

from app import accounts  # noqa: E402
from app.imports import import_files  # noqa: E402
from app.settings import save_setting  # noqa: E402
from storage import open_db  # noqa: E402
from tests.conftest import SAMPLE_FILES  # noqa: E402
from tests.test_marketplace_views import write_inbox  # noqa: E402
from tests.test_marketplaces import write_reports  # noqa: E402
from tests.ui_support import FixedClock, account_app_maker  # noqa: E402

NOW = datetime(2026, 11, 8, 23, 0, tzinfo=UTC).timestamp()
SHOTS = ROOT / "docs" / "screenshots"
VIEWS = {  # file name: (view, size)
    "dashboard-marketplaces.png": ("dashboard", (1366, 768)),
    "dashboard-marketplaces-1024.png": ("dashboard", (1024, 768)),
    "clocks-marketplaces.png": ("messages", (1366, 768)),
    "triage-marketplaces.png": ("triage", (1366, 768)),
}


def build_accounts(folder: Path) -> None:
    """'Main': the sample seller (US); 'EU': the UK + DE seller with its buyers' e-mails."""
    os.environ["AHM_DB"] = str(folder / "monitor.sqlite3")
    main = open_db(folder / "monitor.sqlite3")
    import_files(main, [ROOT / "tests" / "samples" / name for name in SAMPLE_FILES])
    main.close()
    eu = accounts.add_account("EU")
    db = open_db(eu.database)
    save_setting(db, "marketplace", "UK")
    save_setting(db, "timezone", "Europe/London")
    reports = folder / "eu-reports"
    reports.mkdir()
    files = write_reports(reports)
    import_files(db, [files["orders"], files["uk_feedback"], files["returns"], files["claims"], write_inbox(reports)])
    import_files(db, [files["de_feedback"]], marketplace="DE")
    db.close()


def render(folder: Path) -> None:
    from ui.accounts_app import AccountsMonitor

    make_app = account_app_maker(folder, FixedClock(NOW))

    listed = accounts.load_accounts()
    monitor = AccountsMonitor(list(listed.accounts), "EU", make_app, use_tray=False)
    try:
        for desktop in monitor.apps.values():
            desktop.show_settings()
            state, listing = desktop.host.call("refresh_now")
            desktop.apply_state(state)
            desktop.show_triage(listing)
            monitor._state_ready(desktop.account)
        for name, (status, _) in monitor.statuses.items():
            print(f"{name}: {status}")
        window = monitor.window
        window.show()
        for file, (view, size) in VIEWS.items():
            window.resize(*size)
            window.show_view(view)
            for _ in range(3):
                QApplication.processEvents()
            window.grab().save(str(SHOTS / file))
            print(f"wrote docs/screenshots/{file}")
    finally:
        monitor.quit()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Account Health Monitor")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ahm-accounts-") as folder:
        build_accounts(Path(folder))
        render(Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
