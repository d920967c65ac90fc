"""The applications menu entry (Linux): written in a data folder the test owns, read back by the
specifications' rules and by desktop-file-validate, run as a desktop would run it, and removed again; from
the command line and from the Settings button. And the command that starts this copy of the monitor."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from app import launch, menu_entry
from app.menu_entry import ICON_SIZES, SOURCE_ICONS, MenuEntry
from tests.conftest import ROOT
from tests.test_autostart import AWKWARD_FOLDER, read_entry, unquote_exec
from ui.icons import render_app_icon

ENTRY_NAME = "account-health-monitor.desktop"


def run_cli(*arguments: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": "", **(env or {})}
    environ.pop("AHM_DB", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *arguments], capture_output=True, text=True, env=environ, timeout=60
    )


def test_the_entry_and_its_icons_go_to_the_xdg_data_folder_and_validate(tmp_path):
    entry = menu_entry.for_this_computer(home=tmp_path, environ={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert not entry.is_installed()
    written = entry.install()
    assert entry.path == tmp_path / "data" / "applications" / ENTRY_NAME == written[0]
    assert entry.is_installed()
    fields = read_entry(entry.path)
    assert fields["Name"] == "Account Health Monitor"
    assert fields["Icon"] == "account-health-monitor", "a theme name, so the desktop picks the size it needs"
    assert fields["Categories"] == "Office;Finance;"
    # From the sources the window is this Python with this main.py; no --minimized: the menu opens the window.
    assert unquote_exec(fields["Exec"]) == [sys.executable, str(ROOT / "main.py")]
    assert fields["TryExec"] == sys.executable
    theme = tmp_path / "data" / "icons" / "hicolor"
    for size in ICON_SIZES:
        image = QImage(str(theme / f"{size}x{size}" / "apps" / "account-health-monitor.png"))
        assert (image.width(), image.height()) == (size, size)
    assert (theme / "scalable" / "apps" / "account-health-monitor.svg").read_bytes() == (
        SOURCE_ICONS / "account-health-monitor.svg"
    ).read_bytes()


def test_without_xdg_data_home_the_entry_goes_to_dot_local_share(tmp_path):
    for environ in ({}, {"XDG_DATA_HOME": ""}, {"XDG_DATA_HOME": "relative/data"}):
        entry = menu_entry.for_this_computer(home=tmp_path, environ=environ)
        assert entry.path == tmp_path / ".local" / "share" / "applications" / ENTRY_NAME, environ


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
@pytest.mark.parametrize("folder", [AWKWARD_FOLDER, "/opt/plain/.venv/bin"])
def test_desktop_file_validate_accepts_the_menu_entry(tmp_path, folder):
    entry = MenuEntry(tmp_path, (f"{folder}/python3", f"{folder}/main.py", "--db", f"{folder}/h.db"))
    entry.install()
    checked = subprocess.run(["desktop-file-validate", str(entry.path)], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr
    assert unquote_exec(read_entry(entry.path)["Exec"]) == list(entry.command)


def test_the_exec_line_starts_the_monitor_it_names(tmp_path):
    entry = menu_entry.for_this_computer(db_path=tmp_path / "h.db", home=tmp_path, environ={})
    entry.install()
    command = unquote_exec(read_entry(entry.path)["Exec"])
    assert command[-2:] == ["--db", str(tmp_path / "h.db")]
    ran = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "--minimized" in ran.stdout, "the window's options: it is the window's command"


def test_removing_takes_every_file_and_empty_folder_but_leaves_other_programs_icons(tmp_path):
    entry = MenuEntry(tmp_path / "data", ("/usr/bin/python3", "/app/main.py"))
    other = tmp_path / "data" / "icons" / "hicolor" / "48x48" / "apps" / "another-program.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"another program's icon")
    written = entry.install()
    assert sorted(entry.remove()) == sorted(written)
    assert not entry.is_installed()
    assert other.read_bytes() == b"another program's icon"
    left = sorted(str(path.relative_to(tmp_path / "data")) for path in (tmp_path / "data").rglob("*"))
    assert all("account-health-monitor" not in path for path in left), left
    assert "icons/hicolor/16x16" not in left, "a folder left empty is removed"
    assert "icons/hicolor/48x48/apps" in left, "a folder still used is kept"
    assert entry.remove() == [], "nothing to remove the second time"


def test_the_icons_are_the_rendering_of_the_svg(qapp):
    for size in ICON_SIZES:
        stored = QImage(str(SOURCE_ICONS / f"{size}x{size}.png")).convertToFormat(QImage.Format.Format_ARGB32)
        fresh = render_app_icon(size).convertToFormat(QImage.Format.Format_ARGB32)
        assert stored.size() == fresh.size()
        differing = sum(
            1 for x in range(size) for y in range(size) if colour_distance(stored, fresh, x, y) > COLOUR_TOLERANCE
        )
        assert differing <= size * size // 100, f"{size}x{size}.png is stale: run tools/make_icons.py"


COLOUR_TOLERANCE = 8  # antialiasing may differ by a few levels between Qt versions


def colour_distance(one: QImage, other: QImage, x: int, y: int) -> int:
    return max(abs(a - b) for a, b in zip(one.pixelColor(x, y).getRgb(), other.pixelColor(x, y).getRgb(), strict=True))


def test_the_command_line_adds_and_removes_the_entry(tmp_path):
    added = run_cli("install-desktop-entry", home=tmp_path)
    assert added.returncode == 0, added.stderr
    path = tmp_path / ".local" / "share" / "applications" / ENTRY_NAME
    assert str(path) in added.stdout and "python main.py remove-desktop-entry" in added.stdout
    assert read_entry(path)["Icon"] == "account-health-monitor"
    removed = run_cli("remove-desktop-entry", home=tmp_path)
    assert removed.returncode == 0 and "Removed Account Health Monitor" in removed.stdout
    assert not path.exists()
    again = run_cli("remove-desktop-entry", home=tmp_path)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_a_data_folder_that_cannot_be_written_is_one_error_line(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data folder should be")
    ran = run_cli("install-desktop-entry", home=tmp_path, env={"XDG_DATA_HOME": str(blocked)})
    assert ran.returncode == 2
    assert ran.stderr.startswith("error: ") and ran.stderr.count("\n") == 1, ran.stderr
    assert "Traceback" not in ran.stderr


def test_the_settings_button_adds_and_removes_the_entry(qtbot, launch, demo_path, tmp_path):
    entry = MenuEntry(tmp_path / "data", launch_program())
    desktop = launch(demo_path, menu_entry=entry)
    view = desktop.window.settings_view
    assert view.levels_form.isRowVisible(view.menu_entry_row)
    assert view.menu_entry_button.text() == "Add to the applications menu"
    qtbot.mouseClick(view.menu_entry_button, Qt.MouseButton.LeftButton)
    assert entry.is_installed()
    assert view.menu_entry_button.text() == "Remove from the applications menu"
    assert "Added to the applications menu" in desktop.window.statusBar().currentMessage()
    qtbot.mouseClick(view.menu_entry_button, Qt.MouseButton.LeftButton)
    assert not entry.is_installed() and not entry.path.exists()
    assert view.menu_entry_button.text() == "Add to the applications menu"


def test_without_a_menu_the_settings_show_no_button(launch, demo_path):
    desktop = launch(demo_path)
    view = desktop.window.settings_view
    assert not view.levels_form.isRowVisible(view.menu_entry_row)


def launch_program() -> tuple[str, ...]:
    return launch.program(launch.LINUX)


# --- how this copy starts again ------------------------------------------------------------------------------


def test_an_installed_copy_starts_from_its_window_script_beside_the_running_one(tmp_path):
    scripts = tmp_path / "bin"
    scripts.mkdir()
    for name in ("account-health-monitor", "ahm"):
        (scripts / name).write_text("#!/bin/sh\n")
    # pipx links its scripts into ~/.local/bin: the link is kept, so an upgrade behind it changes nothing.
    for started in ("ahm", "account-health-monitor"):
        assert launch.program(launch.LINUX, started_as=str(scripts / started), frozen=False) == (
            str(scripts / "account-health-monitor"),
        )
    (scripts / "account-health-monitor").unlink()
    assert launch.program(launch.LINUX, started_as=str(scripts / "ahm"), frozen=False)[1:] == (str(ROOT / "main.py"),)


def test_a_bundle_starts_from_its_own_executable():
    assert launch.program(launch.LINUX, executable="/opt/ahm/account-health-monitor", frozen=True) == (
        "/opt/ahm/account-health-monitor",
    )


def test_without_main_py_the_package_starts_itself(tmp_path):
    elsewhere = {"started_as": "/usr/bin/other", "frozen": False}
    assert launch.program(launch.LINUX, **elsewhere) == (sys.executable, str(ROOT / "main.py"))
    command = launch.program(launch.LINUX, sources=tmp_path / "main.py", **elsewhere)
    assert command == (sys.executable, "-m", "app.entry")
    ran = subprocess.run([*command, "--help"], capture_output=True, text=True, cwd=tmp_path, env=package_path())
    assert ran.returncode == 0 and "--minimized" in ran.stdout, ran.stderr


def package_path() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_the_window_names_its_menu_entry_so_the_desktop_shows_its_name_and_icon(qapp, tmp_path, monkeypatch):
    import argparse

    from PySide6.QtGui import QGuiApplication

    from app.cli import build_parser
    from app.entry import add_window_options
    from ui.application import run_desktop

    monkeypatch.setenv("HOME", str(tmp_path))
    parser: argparse.ArgumentParser = build_parser()
    add_window_options(parser)
    shot = tmp_path / "settings.png"
    args = parser.parse_args(["--db", str(tmp_path / "d.db"), "--screenshot", str(shot), "--view", "settings"])
    before = QGuiApplication.desktopFileName()
    try:
        assert run_desktop(args) == 0
        assert QGuiApplication.desktopFileName() == "account-health-monitor" == read_entry_name()
    finally:
        QGuiApplication.setDesktopFileName(before)
    assert shot.is_file()


def read_entry_name() -> str:
    return MenuEntry(Path("/unused"), ("/bin/true",)).path.stem
