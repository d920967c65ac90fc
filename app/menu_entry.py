"""The applications menu entry on Linux and the other freedesktop desktops, for this user only.

A seller who installed the monitor with pipx, or unpacked the bundle, finds it in their desktop's menu
once the entry is there (Settings, or `ahm install-desktop-entry`), and the tray and task bar show its
name and icon, since the window names the entry (`QGuiApplication.setDesktopFileName`). Both files are
plain files in the user's own data folder, so no administrator rights are needed and removing them
(`ahm remove-desktop-entry`) leaves nothing of the monitor's behind:

- `$XDG_DATA_HOME/applications/account-health-monitor.desktop` (Desktop Entry specification 1.4);
- the icon in the `hicolor` theme, `$XDG_DATA_HOME/icons/hicolor/NxN/apps/account-health-monitor.png` at
  each size and `scalable/apps/account-health-monitor.svg` (Icon Theme specification: hicolor is the theme
  every desktop falls back to; 48x48 at least).

The desktops watch the applications folder; `update-desktop-database` refreshes the cache of the few that
read one, when it is installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app import launch
from app.autostart import APP_ID, APP_NAME, escape_string, exec_argument

SOURCE_ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG_NAME = f"{APP_ID}.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
DESCRIPTION = "Watches your Amazon seller figures and buyer-message deadlines from the tray"


class MenuEntryError(Exception):
    """The menu entry could not be written or removed: one line saying which file and why."""


@dataclass(frozen=True)
class MenuEntry:
    """The menu entry of this copy of the monitor.

    Args:
        data_home: the user's data folder ($XDG_DATA_HOME, ~/.local/share by default).
        command: the program and its arguments that open the window.
    """

    data_home: Path
    command: tuple[str, ...]

    @property
    def path(self) -> Path:
        return self.data_home / "applications" / f"{APP_ID}.desktop"

    def icon_files(self) -> dict[Path, Path]:
        """Each installed icon file and the file of the project it copies."""
        theme = self.data_home / "icons" / "hicolor"
        files = {theme / f"{n}x{n}" / "apps" / f"{APP_ID}.png": SOURCE_ICONS / f"{n}x{n}.png" for n in ICON_SIZES}
        files[theme / "scalable" / "apps" / SVG_NAME] = SOURCE_ICONS / SVG_NAME
        return files

    def is_installed(self) -> bool:
        return self.path.is_file()

    def content(self) -> str:
        return menu_desktop_entry(self.command)

    def install(self) -> list[Path]:
        """Write the icons, then the entry (so the menu never shows it without its icon); the files written."""
        written = []
        for target, source in self.icon_files().items():
            _write_whole(target, source.read_bytes())
            written.append(target)
        _write_whole(self.path, self.content().encode("utf-8"))
        refresh_menu(self.path.parent)
        return [self.path, *written]

    def remove(self) -> list[Path]:
        """Remove the entry, then the icons; the files that were there."""
        removed = []
        for path in (self.path, *self.icon_files()):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as error:
                raise MenuEntryError(f"{path}: {error.strerror or error}") from error
            removed.append(path)
            self._prune_empty_folders(path.parent)
        if removed:
            refresh_menu(self.path.parent)
        return removed

    def _prune_empty_folders(self, folder: Path) -> None:
        """Folders left empty by a removal go too; one another program still uses is not empty."""
        while folder != self.data_home and self.data_home in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def menu_desktop_entry(command: tuple[str, ...]) -> str:
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        f"Name={APP_NAME}",
        "GenericName=Seller account health",
        f"Comment={DESCRIPTION}",
        "Exec=" + " ".join(exec_argument(argument) for argument in command),
    ]
    if os.path.isabs(command[0]):
        # The menu hides the entry once its program is gone (the monitor was uninstalled or moved).
        lines.append(f"TryExec={escape_string(command[0])}")
    lines += [
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Office;Finance;",
        "Keywords=Amazon;seller;ODR;order defect rate;feedback;buyer messages;",
        "StartupNotify=true",
        # X11 docks match windows to the entry by this class (Qt uses the application's name).
        f"StartupWMClass={APP_NAME}",
        "",
    ]
    return "\n".join(lines)


def data_home(home: Path, environ: Mapping[str, str]) -> Path:
    """$XDG_DATA_HOME when it is an absolute path (the Base Directory specification ignores any other)."""
    configured = environ.get("XDG_DATA_HOME", "")
    return Path(configured) if os.path.isabs(configured) else home / ".local" / "share"


def for_this_computer(
    *, db_path: Path | None = None, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> MenuEntry:
    """`db_path` is named in the entry only when the seller chose it (`--db`), as for the login item."""
    command = list(launch.program(launch.LINUX))
    if db_path is not None:
        command += ["--db", str(Path(db_path).absolute())]
    return MenuEntry(data_home(home or Path.home(), os.environ if environ is None else environ), tuple(command))


def supported(platform_system: str | None = None) -> bool:
    return (platform_system or launch.system_of()) == launch.LINUX


def _write_whole(path: Path, content: bytes) -> None:
    """Written under another name, then renamed: the desktop never reads half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(content)
        os.replace(partial, path)
    except OSError as error:
        raise MenuEntryError(f"{error.filename or path}: {error.strerror or error}") from error


def refresh_menu(folder: Path) -> None:
    program = shutil.which("update-desktop-database")
    if program is None:
        return
    # Only a cache: the desktops that watch the folder see the entry anyway.
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run([program, str(folder)], capture_output=True, timeout=30, check=False)
