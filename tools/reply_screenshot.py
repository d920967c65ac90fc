"""Render a reply that broke a Communication Guideline into docs/screenshots/reply-breach.png: the order's
timeline open over the triage, which lists the reply and says what it broke, on a 1366×768 laptop screen.
`--size 1024x768` renders it for a smaller screen, `--out` writes elsewhere, and `--triage PNG` also saves the
triage view alone with the reply's item selected.

The demo seller (its replies that break a guideline) at the test suite's fixed instant, so every run
renders the same picture.

QT_QPA_PLATFORM=offscreen python tools/reply_screenshot.py [--size 1024x768] [--out PNG] [--triage PNG]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QPoint, QRect, QSize  # noqa: E402
from PySide6.QtGui import QColor, QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.demo import load_demo  # noqa: E402
from app.triage import REPLY  # noqa: E402
from storage import open_db  # noqa: E402
from tests.ui_support import SAMPLE_NOW, FixedClock, desktop_app  # noqa: E402
from ui.timeline_dialog import TimelineDialog  # noqa: E402

TARGET = ROOT / "docs" / "screenshots" / "reply-breach.png"


def demo_database(folder: Path) -> Path:
    path = folder / "demo.db"
    db = open_db(path)
    try:
        load_demo(db, FixedClock(SAMPLE_NOW))
    finally:
        db.close()
    return path


def render(db_path: Path, folder: Path, size: tuple[int, int], out: Path, triage_png: Path | None) -> str:
    """The window on the triage, the flagged reply selected and its order's timeline open; returns its key."""
    QApplication.instance() or QApplication([])
    desktop = desktop_app(db_path, folder, now=FixedClock(SAMPLE_NOW))
    try:
        state, listing = desktop.host.call("refresh_now")
        desktop.apply_state(state)
        desktop.show_triage(listing)
        flagged = [item for item in listing.items if item.kind == REPLY]
        if not flagged:
            raise SystemExit("the demo seller's triage lists no reply that broke a guideline: nothing to show")
        # The reply with the most breaches shows the most; among equals, the newest.
        item = max(flagged, key=lambda listed: (len(listed.details["breaches"]), listed.at))
        window = desktop.window
        window.resize(*size)
        window.show_view("triage")
        window.show()
        window.triage.select_item(item.key)
        QApplication.processEvents()
        if triage_png is not None:
            window.grab().save(str(triage_png))
        desktop.open_timeline(item.order_id)
        QApplication.processEvents()
        [dialog] = window.findChildren(TimelineDialog)
        # Where a window manager centres the dialog over its window: offscreen there is none to draw it.
        picture = window.grab()
        shown = dialog.grab()
        painter = QPainter(picture)
        corner = QPoint((size[0] - shown.width()) // 2, (size[1] - shown.height()) // 2)
        for offset, alpha in ((6, 30), (4, 45), (2, 60)):  # a soft shadow and a border: the dialog's edges
            painter.fillRect(QRect(corner + QPoint(offset, offset), shown.size()), QColor(0, 0, 0, alpha))
        painter.drawPixmap(corner, shown)
        painter.setPen(QColor("#707070"))
        painter.drawRect(QRect(corner - QPoint(1, 1), shown.size() + QSize(1, 1)))
        painter.end()
        if not QPixmap(picture).save(str(out)):
            raise SystemExit(f"could not write {out}")
        return item.key
    finally:
        desktop.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1366x768", help="the window's size, WIDTHxHEIGHT")
    parser.add_argument("--out", type=Path, default=TARGET, help="the PNG to write")
    parser.add_argument("--triage", type=Path, help="also save the triage view alone to this PNG")
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="ahm-reply-shot-") as folder:
        key = render(demo_database(Path(folder)), Path(folder), (width, height), args.out, args.triage)
    print(f"wrote {args.out} ({key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
