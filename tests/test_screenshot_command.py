"""`main.py --screenshot` renders a view offscreen to a PNG of the size the README shows, and exits."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from tests.conftest import ROOT


@pytest.mark.parametrize("view", ["dashboard", "messages"])
def test_screenshot_of_a_view(sample_db, db_path, tmp_path, view):
    png = tmp_path / f"{view}.png"
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "main.py", "--db", str(db_path), "--screenshot", str(png), "--view", view],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1366, 768)
    # Not a blank canvas: the rendered window has many distinct colours.
    colours = {image.pixel(x, y) for x in range(0, 1366, 23) for y in range(0, 768, 17)}
    assert len(colours) > 20


def test_unknown_view_is_refused(db_path, tmp_path):
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "main.py", "--db", str(db_path), "--screenshot", str(tmp_path / "x.png"), "--view", "nope"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--view must be one of" in done.stderr


def test_a_database_that_cannot_be_opened_is_an_error_not_a_dialog(tmp_path):
    # Nobody is there to click a message box: the command says what is wrong and exits (it used to wait).
    broken = tmp_path / "health.db"
    broken.write_bytes(b"this is not a database, just a file with the name of one" * 100)
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "main.py", "--db", str(broken), "--screenshot", str(tmp_path / "x.png")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and str(broken) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.png").exists()
