"""Renders resources/icons/account-health-monitor.svg to the PNG sizes the freedesktop icon theme and the
window use (resources/icons/NxN.png). Run after changing the SVG; tests/test_menu_entry.py checks that the
PNGs are this rendering of the current SVG."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtGui import QGuiApplication

from app.menu_entry import ICON_SIZES, SOURCE_ICONS
from ui.icons import render_app_icon


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841  (fonts and image plugins need one)
    for size in ICON_SIZES:
        target = SOURCE_ICONS / f"{size}x{size}.png"
        render_app_icon(size).save(str(target))
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
