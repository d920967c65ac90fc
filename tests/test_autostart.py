"""Start at login: the file each platform reads at login, written and removed in a folder the test owns, and
the window's choice: off for the demo, on after the seller's first own import unless they chose."""

from __future__ import annotations

import configparser
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import autostart
from app.autostart import LINUX, MACOS, WINDOWS, LoginItem
from app.settings import check_setting
from tests.conftest import ROOT, SAMPLE_FILES
from tests.ui_support import WAIT_MS, reading

# Every character the Desktop Entry specification reserves in Exec, and a percent sign.
AWKWARD_FOLDER = '/home/Zoë O\'Neil/my "shop" $HOME `x` 100% (2) back\\slash'


def unquote_exec(value: str) -> list[str]:
    """The Exec value back into arguments, as the specification reads it: string escapes first, then the
    quoting of each argument, then `%%` to `%` (written from the specification, not from app.autostart)."""
    text, index = "", 0
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    while index < len(value):
        if value[index] == "\\" and index + 1 < len(value):
            text += escapes[value[index + 1]]
            index += 2
        else:
            text += value[index]
            index += 1
    arguments, current, quoted, index, started = [], "", False, 0, False
    while index < len(text):
        char = text[index]
        if quoted and char == "\\":
            assert text[index + 1] in '"`$\\', f"only these may follow a backslash in quotes: {text[index + 1]!r}"
            current += text[index + 1]
            index += 2
            continue
        if char == '"':
            quoted, started = not quoted, True
        elif char == " " and not quoted:
            if started:
                arguments.append(current)
            current, started = "", False
        else:
            assert quoted or char not in autostart.EXEC_RESERVED, f"reserved {char!r} outside quotes"
            current, started = current + char, True
        index += 1
    assert not quoted
    if started:
        arguments.append(current)
    return [argument.replace("%%", "%") for argument in arguments]


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_linux_writes_an_autostart_entry_in_the_xdg_config_folder(tmp_path):
    icon = tmp_path / "data" / "icon.png"
    item = autostart.for_this_computer(
        platform="linux", home=tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "config")}, icon=icon
    )
    assert item.path == tmp_path / "config" / "autostart" / "account-health-monitor.desktop"
    assert not item.is_on()
    assert item.turn_on()
    entry = read_entry(item.path)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Account Health Monitor"
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert entry["Icon"] == str(icon)
    # This Python (the environment's own, not its link target) runs this main.py, in the tray.
    assert unquote_exec(entry["Exec"]) == [sys.executable, str(ROOT / "main.py"), "--minimized"]
    assert not item.turn_on(), "the same file is not written again"


def test_without_xdg_config_home_the_entry_goes_to_dot_config(tmp_path):
    for environ in ({}, {"XDG_CONFIG_HOME": ""}, {"XDG_CONFIG_HOME": "relative/config"}):
        item = autostart.for_this_computer(platform="linux", home=tmp_path, environ=environ)
        assert item.folder == tmp_path / ".config" / "autostart", environ


def test_the_exec_line_starts_the_app_it_names(tmp_path):
    # Run the command exactly as a session would read it, with --help so it ends at once.
    item = autostart.for_this_computer(platform="linux", home=tmp_path, environ={}, db_path=tmp_path / "h.db")
    item.turn_on()
    command = unquote_exec(read_entry(item.path)["Exec"])
    assert command[-3:] == ["--db", str(tmp_path / "h.db"), "--minimized"]
    ran = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "--minimized" in ran.stdout


@pytest.mark.parametrize("folder", [AWKWARD_FOLDER, "/opt/plain/.venv/bin"])
def test_exec_quotes_every_reserved_character_by_the_specification(tmp_path, folder):
    command = (f"{folder}/python3", f"{folder}/main.py", "--db", f"{folder}/h.db", "--minimized")
    item = LoginItem(LINUX, tmp_path / "autostart", command)
    item.turn_on()
    assert unquote_exec(read_entry(item.path)["Exec"]) == list(command)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
@pytest.mark.parametrize("folder", [AWKWARD_FOLDER, "/opt/plain/.venv/bin"])
def test_desktop_file_validate_accepts_the_entry(tmp_path, folder):
    command = (f"{folder}/python3", f"{folder}/main.py", "--minimized")
    item = LoginItem(LINUX, tmp_path / "autostart", command, icon=Path(folder) / "icon.png")
    item.turn_on()
    checked = subprocess.run(["desktop-file-validate", str(item.path)], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


def test_turning_it_off_removes_the_file(tmp_path):
    item = LoginItem(LINUX, tmp_path / "autostart", ("/usr/bin/python3", "/app/main.py", "--minimized"))
    item.turn_on()
    assert item.turn_off()
    assert not item.path.exists() and not item.is_on()
    assert not item.turn_off(), "nothing to remove the second time"
    assert list((tmp_path / "autostart").iterdir()) == [], "no half-written file left behind"


def test_windows_writes_a_batch_file_in_the_startup_folder(tmp_path):
    roaming = tmp_path / "Roaming"
    item = autostart.for_this_computer(platform="win32", home=tmp_path, environ={"APPDATA": str(roaming)})
    assert item.folder == roaming / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    assert item.path.name == "Account Health Monitor.cmd"
    item = LoginItem(
        WINDOWS,
        item.folder,
        autostart.launch_command(
            WINDOWS,
            executable="C:\\Users\\José 100%\\ahm\\.venv\\Scripts\\python.exe",
            script="C:\\Users\\José 100%\\ahm\\main.py",
        ),
    )
    item.turn_on()
    raw = item.path.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") == 4, "CRLF lines, as cmd.exe reads them"
    lines = raw.decode("utf-8").split("\r\n")
    assert lines[0] == "@echo off"
    assert lines[2] == "chcp 65001 >nul", "the UTF-8 code page before the accented path"
    # pythonw: no console stays open; % doubled, since a batch file expands %…% even in quotes.
    assert lines[3] == (
        'start "" "C:\\Users\\José 100%%\\ahm\\.venv\\Scripts\\pythonw.exe" '
        '"C:\\Users\\José 100%%\\ahm\\main.py" "--minimized"'
    )
    assert item.turn_off() and not item.path.exists()


def test_windows_without_appdata_uses_the_roaming_folder_of_the_profile(tmp_path):
    item = autostart.for_this_computer(platform="win32", home=tmp_path, environ={})
    assert item.folder == tmp_path / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / (
        "Startup"
    )


def test_macos_writes_a_launch_agent_that_plistlib_reads_back(tmp_path):
    item = autostart.for_this_computer(platform="darwin", home=tmp_path, environ={})
    assert item.system == MACOS
    assert item.path == tmp_path / "Library" / "LaunchAgents" / "org.account-health-monitor.monitor.plist"
    item.turn_on()
    agent = plistlib.loads(item.path.read_bytes())
    assert agent["Label"] == "org.account-health-monitor.monitor" == item.path.stem
    assert agent["ProgramArguments"] == [sys.executable, str(ROOT / "main.py"), "--minimized"]
    assert agent["RunAtLoad"] is True
    assert agent["ProcessType"] == "Interactive"
    assert plistlib.dumps(agent) == item.path.read_bytes(), "a plain XML property list, as launchd reads"
    assert item.turn_off() and not item.path.exists()


def test_the_platforms_are_told_apart():
    assert [autostart.system_of(name) for name in ("linux", "freebsd14", "win32", "darwin")] == [
        LINUX,
        LINUX,
        WINDOWS,
        MACOS,
    ]


def test_the_setting_is_unset_until_chosen():
    from app.settings import Settings

    assert Settings().start_at_login is None
    assert check_setting("start_at_login", "on") is True
    assert check_setting("start_at_login", False) is False
    with pytest.raises(ValueError):
        check_setting("start_at_login", "maybe")


# --- the window's choice ------------------------------------------------------------------------------------


@pytest.fixture
def start(launch, tmp_path):
    """A DesktopApp whose login item is written in the test's own folder (never the seller's login)."""
    item = LoginItem(
        LINUX, tmp_path / "autostart", ("/usr/bin/python3", "/app/main.py", "--minimized"), tmp_path / "icon.png"
    )
    return lambda db_path: launch(db_path, login_item=item)


def stored_choice(db_path):
    import json

    with reading(db_path) as db:
        row = db.execute("SELECT value FROM settings WHERE key = 'start_at_login'").fetchone()
    return None if row is None else json.loads(row[0])


def import_and_wait(qtbot, desktop, files):
    with qtbot.waitSignal(desktop.bridge.import_finished, timeout=WAIT_MS) as finished:
        desktop.import_paths([str(file) for file in files])
    return finished.args[0]


def test_the_first_own_import_turns_start_at_login_on_once(qtbot, start, demo_path, samples):
    desktop = start(demo_path)
    item = desktop.login_item
    view = desktop.window.settings_view
    assert not item.is_on() and not view.start_at_login.isChecked(), "the demo seller never starts at login"
    assert stored_choice(demo_path) is None

    refused = import_and_wait(qtbot, desktop, [ROOT / "README.md"])
    assert [result.outcome for result in refused] == ["refused"]
    assert not item.is_on(), "a refused file is not the seller's first import"

    results = import_and_wait(qtbot, desktop, [samples / name for name in SAMPLE_FILES])
    assert {result.outcome for result in results} == {"imported"}
    qtbot.waitUntil(lambda: stored_choice(demo_path) is True, timeout=WAIT_MS)
    assert item.is_on() and item.icon.is_file()
    assert view.start_at_login.isChecked()
    assert "Start at login is on" in desktop.window.statusBar().currentMessage()

    # The seller turns it off in Settings: the file goes, and the next import leaves it off.
    view.start_at_login.setChecked(False)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        view.save_button.click()
    assert not item.is_on()
    qtbot.waitUntil(lambda: stored_choice(demo_path) is False, timeout=WAIT_MS)
    import_and_wait(qtbot, desktop, [samples / "claims.csv"])
    assert not item.is_on() and stored_choice(demo_path) is False


def test_a_seller_who_chose_off_keeps_it_off_after_importing(qtbot, start, db_path, samples):
    desktop = start(db_path)
    view = desktop.window.settings_view
    view.start_at_login.setChecked(True)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        view.save_button.click()
    assert desktop.login_item.is_on()
    view.start_at_login.setChecked(False)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        view.save_button.click()
    assert not desktop.login_item.is_on()
    import_and_wait(qtbot, desktop, [samples / "all-orders.txt"])
    assert not desktop.login_item.is_on()
    assert stored_choice(db_path) is False


def test_saving_other_settings_is_not_a_choice(qtbot, start, db_path, samples):
    desktop = start(db_path)
    view = desktop.window.settings_view
    view.a_to_z_hours.setValue(72)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        view.save_button.click()
    assert stored_choice(db_path) is None
    import_and_wait(qtbot, desktop, [samples / "all-orders.txt"])
    qtbot.waitUntil(desktop.login_item.is_on, timeout=WAIT_MS)


def test_a_chosen_login_item_is_rewritten_at_start_when_the_app_moved(qtbot, start, tmp_path, db_path):
    from storage import open_db
    from storage.settings import write_setting

    db = open_db(db_path)
    write_setting(db, "start_at_login", True)
    db.close()
    stale = tmp_path / "autostart" / "account-health-monitor.desktop"
    stale.parent.mkdir()
    stale.write_text("[Desktop Entry]\nType=Application\nName=Old\nExec=/gone/python /gone/main.py\n")
    desktop = start(db_path)
    assert desktop.window.settings_view.start_at_login.isChecked()
    assert unquote_exec(read_entry(stale)["Exec"]) == list(desktop.login_item.command)


def test_a_folder_that_cannot_be_written_is_said_in_the_status_bar(qtbot, start, db_path, tmp_path):
    desktop = start(db_path)
    (tmp_path / "autostart").write_text("a file where the folder should be")
    view = desktop.window.settings_view
    view.start_at_login.setChecked(True)
    view.save_button.click()
    assert "Start at login could not be turned on" in desktop.window.statusBar().currentMessage()
    assert (tmp_path / "autostart").read_text() == "a file where the folder should be"
