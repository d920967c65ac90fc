"""Start at login: the file each desktop reads at login to start the monitor in the tray.

A monitor warns only while it runs, so after the seller's first own import it starts with their session
(the setting `start_at_login`, on by default from then; never for the demo seller). Each platform has its
own place and format, all plain files in the user's own folders (no administrator rights, nothing to
install):

- Linux and other freedesktop desktops: `$XDG_CONFIG_HOME/autostart/account-health-monitor.desktop`
  (freedesktop Desktop Application Autostart and Desktop Entry specifications).
- Windows: a `.cmd` file in the user's Startup folder. A shortcut (`.lnk`) is a binary format that needs
  COM to write, and Windows is removing VBScript; a batch file is plain text the seller can read, and it
  starts `pythonw` (no console of its own) with `start`, so its own console closes at once.
- macOS: a LaunchAgent property list in `~/Library/LaunchAgents`, loaded by launchd at login.

The window's process writes and removes the file: it is not database work. The choice itself is a setting
in the database (None while the seller has never chosen), saved through the database's process.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from app import launch

APP_ID = launch.WINDOW_SCRIPT  # also the desktop entry's name, so the desktop matches windows to it
APP_NAME = "Account Health Monitor"
LAUNCH_AGENT_LABEL = "org.account-health-monitor.monitor"
MINIMIZED_FLAG = "--minimized"
SETTING = "start_at_login"

LINUX, WINDOWS, MACOS = launch.LINUX, launch.WINDOWS, launch.MACOS
system_of = launch.system_of

# Desktop Entry specification, "The Exec key": an argument holding one of these must be quoted.
EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


@dataclass(frozen=True)
class LoginItem:
    """The file that starts the monitor at login on one platform.

    Args:
        system: LINUX, WINDOWS or MACOS: which format to write.
        folder: the folder the platform reads at login (the autostart, Startup or LaunchAgents folder).
        command: the program and its arguments, the flag that starts in the tray included.
        icon: an image file for the desktop's list of startup programs (Linux only; may not exist yet).
    """

    system: str
    folder: Path
    command: tuple[str, ...]
    icon: Path | None = None

    @property
    def path(self) -> Path:
        name = {LINUX: f"{APP_ID}.desktop", WINDOWS: f"{APP_NAME}.cmd", MACOS: f"{LAUNCH_AGENT_LABEL}.plist"}
        return self.folder / name[self.system]

    def is_on(self) -> bool:
        return self.path.is_file()

    def content(self) -> bytes:
        if self.system == LINUX:
            return desktop_entry(self.command, self.icon).encode("utf-8")
        if self.system == WINDOWS:
            return startup_script(self.command).encode("utf-8")
        return launch_agent(self.command)

    def turn_on(self) -> bool:
        """Write the file (only when it differs from what is there); True when something was written.

        Written whole under another name, then renamed: a session starting meanwhile never reads half a file.
        """
        wanted = self.content()
        if self.is_on() and self.path.read_bytes() == wanted:
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.partial")
        partial.write_bytes(wanted)
        os.replace(partial, self.path)
        return True

    def turn_off(self) -> bool:
        """Remove the file; True when there was one."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


def login_folder(system: str, home: Path, environ: Mapping[str, str]) -> Path:
    """Where the platform looks at login, for this user."""
    if system == WINDOWS:
        appdata = environ.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(appdata) / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    if system == MACOS:
        return home / "Library" / "LaunchAgents"
    config = environ.get("XDG_CONFIG_HOME", "")
    # The Base Directory specification: a relative path in the variable is invalid and is ignored.
    return (Path(config) if os.path.isabs(config) else home / ".config") / "autostart"


def launch_command(system: str, *, db_path: Path | None = None, **how) -> tuple[str, ...]:
    """The command that starts this copy of the app the way it was started now, in the tray (`app.launch`;
    `how` overrides how it was started). `db_path` is given when the seller chose the database on the
    command line: a login has no such option of its own."""
    command = list(launch.program(system, **how))
    if db_path is not None:
        command += ["--db", str(Path(db_path).absolute())]
    return (*command, MINIMIZED_FLAG)


def for_this_computer(
    *,
    db_path: Path | None = None,
    icon: Path | None = None,
    platform: str = sys.platform,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoginItem:
    system = system_of(platform)
    folder = login_folder(system, home or Path.home(), os.environ if environ is None else environ)
    return LoginItem(system, folder, launch_command(system, db_path=db_path), icon)


# --- the three formats ---------------------------------------------------------------------------------------


def exec_argument(argument: str) -> str:
    """One argument of a desktop entry's Exec key, quoted by its rules, then escaped as a string value.

    Quoting: an argument with a reserved character goes in double quotes, and inside them `"`, `` ` ``, `$`
    and `\\` take a backslash. A literal `%` is `%%` (field codes). The string escapes (`\\\\`, `\\n`…)
    apply to the whole value after that, so a backslash in a path ends up as four.
    """
    text = argument.replace("%", "%%")
    if text and not EXEC_RESERVED.intersection(text):
        return escape_string(text)
    quoted = "".join("\\" + char if char in '"`$\\' else char for char in text)
    return escape_string(f'"{quoted}"')


def escape_string(value: str) -> str:
    """A Desktop Entry string value: backslash, newline, tab and carriage return escaped."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def desktop_entry(command: Sequence[str], icon: Path | None = None) -> str:
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",  # nothing newer is used, and older validators refuse 1.5
        f"Name={APP_NAME}",
        "Comment=Watches your Amazon seller figures and buyer-message deadlines from the tray",
        "Exec=" + " ".join(exec_argument(argument) for argument in command),
    ]
    if icon is not None:
        lines.append(f"Icon={escape_string(str(icon))}")
    lines += ["Terminal=false", "X-GNOME-Autostart-enabled=true", ""]
    return "\n".join(lines)


def cmd_argument(argument: str) -> str:
    """One argument in a batch file: always in double quotes (paths hold spaces); `%` doubled, because a
    batch file expands `%NAME%` even inside quotes."""
    return '"' + argument.replace("%", "%%") + '"'


def startup_script(command: Sequence[str]) -> str:
    """A batch file for the Startup folder. It is UTF-8 with code page 65001 switched on first, so a user
    folder with accents (C:\\Users\\José) reaches Python intact; CRLF as cmd.exe expects."""
    program, *arguments = command
    start = " ".join(['start ""', cmd_argument(program), *(cmd_argument(argument) for argument in arguments)])
    lines = ["@echo off", f"rem Starts {APP_NAME} in the tray at login. Turn it off in the app's Settings."]
    lines += ["chcp 65001 >nul", start, ""]
    return "\r\n".join(lines)


def launch_agent(command: Sequence[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            # Only in the seller's graphical session, never in an ssh login.
            "LimitLoadToSessionType": "Aqua",
        }
    )


# --- the choice, kept with the other settings (run by the database's process) ------------------------------


def remember_choice(db: sqlite_utils.Database, on: bool) -> bool:
    from app.settings import save_setting
    from storage.transaction import write_transaction

    with write_transaction(db):
        return save_setting(db, SETTING, on)
