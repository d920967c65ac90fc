"""Render the README's screenshots: the demo seller in every view, offscreen, into docs/screenshots/.

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

from ui.main_window import VIEWS  # noqa: E402


def main() -> int:
    target = ROOT / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory(prefix="ahm-shots-") as folder:
        db = str(Path(folder) / "demo.db")
        subprocess.run([sys.executable, "main.py", "demo", "--db", db], cwd=ROOT, check=True, env=environment)
        for view in VIEWS:
            png = target / f"{view}.png"
            command = [sys.executable, "main.py", "--db", db, "--screenshot", str(png), "--view", view]
            subprocess.run(command, cwd=ROOT, check=True, env=environment)
            print(f"wrote {png.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
