"""Render the README's screenshots into docs/screenshots/, offscreen: the demo seller in every view at a
laptop's 1366×768, the dashboard and the triage again at 1024×768 (`dashboard-1024.png`) and at half a
laptop's screen, 683×720 (`dashboard-683.png`), and the sample seller's reports, weeks old by now, on the
dashboard (`dashboard-stale-reports*.png`).

QT_QPA_PLATFORM=offscreen python tools/screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import SAMPLE_FILES  # noqa: E402  (the sample seller, in the order it is imported)
from ui.main_window import VIEWS  # noqa: E402

LAPTOP = "1366x768"
SMALL = "1024x768"
HALF = "683x720"  # the window beside another one on a 1366-pixel screen
SMALL_TOO = ("dashboard", "triage")  # the views a small screen crowds most
SAMPLES = ROOT / "tests" / "samples"
ENVIRONMENT = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def run(*arguments: str) -> None:
    subprocess.run([sys.executable, "main.py", *arguments], cwd=ROOT, check=True, env=ENVIRONMENT)


def shoot(db: Path, view: str, size: str, png: Path) -> None:
    run("--db", str(db), "--screenshot", str(png), "--view", view, "--size", size)
    print(f"wrote {png.relative_to(ROOT)}")


def main() -> int:
    target = ROOT / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ahm-shots-") as folder:
        demo = Path(folder) / "demo.db"
        run("demo", "--db", str(demo))
        for view in VIEWS:
            shoot(demo, view, LAPTOP, target / f"{view}.png")
            if view in SMALL_TOO:
                shoot(demo, view, SMALL, target / f"{view}-1024.png")
                shoot(demo, view, HALF, target / f"{view}-683.png")
        sample = Path(folder) / "sample.db"
        run("import", "--db", str(sample), *(str(SAMPLES / name) for name in SAMPLE_FILES))
        shoot(sample, "dashboard", LAPTOP, target / "dashboard-stale-reports.png")
        shoot(sample, "dashboard", SMALL, target / "dashboard-stale-reports-1024.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
