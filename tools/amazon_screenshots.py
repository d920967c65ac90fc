"""Render Settings → Amazon connection after a pull into docs/screenshots/settings-amazon.png (1366×768) and
settings-amazon-1024.png (1024×768), offscreen: a fresh database connected to the test suite's stand-in for
Amazon (tests/fake_amazon.py), the sample seller's reports pulled for US and CA, at the samples' instant.

QT_QPA_PLATFORM=offscreen python tools/amazon_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication, QScrollArea  # noqa: E402

from app import spapi  # noqa: E402
from app.host import AMAZON_PULL  # noqa: E402
from tests import fake_amazon  # noqa: E402
from tests.ui_support import SAMPLE_NOW, memory_passwords, private_qsettings  # noqa: E402
from ui.application import DesktopApp  # noqa: E402

SIZES = {"settings-amazon.png": (1366, 768), "settings-amazon-1024.png": (1024, 768)}
WAIT_S = 60


class RunningClock:
    """The samples' instant, moving on in real time, so the pull's steps fall due."""

    def __init__(self, at: float):
        self.start, self.started = at, time.monotonic()

    def __call__(self) -> float:
        return self.start + time.monotonic() - self.started


def pull(desktop: DesktopApp, fake) -> None:
    """Type the connection in as a seller does, save it, and wait for the pull it starts to end."""
    amazon = desktop.window.settings_view.amazon
    amazon.region.setCurrentIndex(amazon.region.findData("NA"))
    amazon.marketplaces.setText("US, CA")
    amazon.test_server.setChecked(True)
    amazon.endpoint.setText(fake.base_url)
    amazon.token_endpoint.setText(fake.token_url)
    for key, value in zip(spapi.SECRET_NAMES, (fake.client_id, fake.client_secret, fake.refresh_token), strict=True):
        amazon.secrets[key].setText(value)
    ended = []
    desktop.bridge.job_finished.connect(
        lambda what, progress: ended.append(progress) if what == AMAZON_PULL and not progress.busy else None
    )
    amazon.save_button.click()
    deadline = time.monotonic() + WAIT_S
    while not ended and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    if not ended:
        raise SystemExit("error: the pull from the stand-in for Amazon did not end within a minute")
    for _ in range(20):  # the recomputed figures and the settings' note arrive just after
        QApplication.processEvents()
        time.sleep(0.05)


def shoot(desktop: DesktopApp, size: tuple[int, int], png: Path) -> None:
    window = desktop.window
    window.resize(*size)
    window.show_view("settings")
    window.show()
    for _ in range(5):
        QApplication.processEvents()
    view = window.settings_view
    scroll = view.findChild(QScrollArea)
    # The group's top at the top of the page: the form, its buttons and the table in one view.
    scroll.verticalScrollBar().setValue(view.amazon_group.y() - 6)
    QApplication.processEvents()
    if not window.grab().save(str(png)):
        raise SystemExit(f"error: could not write {png}")
    print(f"wrote {png.relative_to(ROOT)}")


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    for name in spapi.ENVIRONMENT.values():  # the secrets typed in the form, not the caller's
        os.environ.pop(name, None)
    fake, server = fake_amazon.start()
    try:
        with tempfile.TemporaryDirectory(prefix="ahm-amazon-shots-") as folder:
            desktop = DesktopApp(
                Path(folder) / "health.db",
                now=RunningClock(SAMPLE_NOW),
                settings=private_qsettings(Path(folder)),
                passwords=memory_passwords(),
                use_tray=False,
                own_process=False,
            )
            try:
                desktop.start(show=False)
                pull(desktop, fake)
                target = ROOT / "docs" / "screenshots"
                for name, size in SIZES.items():
                    shoot(desktop, size, target / name)
            finally:
                desktop.quit()
    finally:
        fake_amazon.stop(server)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
