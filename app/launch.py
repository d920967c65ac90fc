"""How this copy of the monitor is started again: by the login item, the applications menu and a restart.

The monitor runs in three ways, and each has its own command:

- a bundle (`make bundle`): its own executable;
- installed (`pipx install`, `pip install`): the `account-health-monitor` script beside the one that runs
  now (`ahm` is its command-line twin), kept as the path it was started by, so a link in `~/.local/bin`
  stays right when pipx upgrades the environment behind it;
- from the sources: this Python (the virtual environment's, not resolved through its link, so the
  environment's packages are used) with the absolute path of main.py.

When none of these can be found, `python -m app.entry` starts it with the Python that runs now.
"""

from __future__ import annotations

import sys
from pathlib import Path

WINDOW_SCRIPT = "account-health-monitor"
COMMAND_SCRIPT = "ahm"
MAIN_SCRIPT = Path(__file__).resolve().parents[1] / "main.py"
LINUX, WINDOWS, MACOS = "linux", "windows", "macos"
# The argument that makes a bundle's executable the process reading a large report (app.importers.ahead).
READ_AHEAD = "--read-report-ahead"


def system_of(platform: str = sys.platform) -> str:
    if platform.startswith("win"):
        return WINDOWS
    if platform == "darwin":
        return MACOS
    return LINUX  # Linux and the BSDs: freedesktop desktops


def program(
    system: str,
    *,
    executable: str = sys.executable,
    started_as: str | None = None,
    script: Path | str | None = None,
    sources: Path = MAIN_SCRIPT,
    frozen: bool | None = None,
) -> tuple[str, ...]:
    """The command that starts this copy's window, without options.

    `script`: the main.py to run (default: `sources`, the one beside these packages, when it is there). On
    Windows `pythonw.exe` replaces `python.exe`, so no console window stays open.
    """
    if is_bundle(frozen):
        return (executable,)
    installed = installed_window_script(system, started_as)
    if installed is not None:
        return (installed,)
    python = windowless_python(system, executable)
    if script is None and sources.is_file():
        script = sources
    if script is not None:
        return (python, str(script))
    return (python, "-m", "app.entry")


def command_line_name(*, started_as: str | None = None, frozen: bool | None = None) -> str:
    """How the seller types this copy's command line: the bundle's executable, `ahm`, or main.py."""
    if is_bundle(frozen):
        return Path(sys.executable).name
    if started_installed(started_as):
        return COMMAND_SCRIPT
    return "python main.py"


def is_bundle(frozen: bool | None = None) -> bool:
    """`frozen` as given, else whether this runs from a bundle (PyInstaller sets `sys.frozen`)."""
    return frozen if frozen is not None else bool(getattr(sys, "frozen", False))


def started_installed(started_as: str | None = None) -> bool:
    """Whether this runs from an installed script (`started_as`: the path it was started by, else argv[0])."""
    return started_from(started_as).stem in (WINDOW_SCRIPT, COMMAND_SCRIPT)


def started_from(started_as: str | None = None) -> Path:
    return Path(sys.argv[0] if started_as is None else started_as)


def installed_window_script(system: str, started_as: str | None = None) -> str | None:
    """The window's script installed beside the one that runs now, when this is an installed copy."""
    if not started_installed(started_as):
        return None
    window = started_from(started_as).absolute().with_name(WINDOW_SCRIPT + (".exe" if system == WINDOWS else ""))
    return str(window) if window.is_file() else None


def windowless_python(system: str, executable: str) -> str:
    if system != WINDOWS:
        return executable
    folder, _, name = executable.replace("/", "\\").rpartition("\\")
    if name.lower() != "python.exe":
        return executable
    return f"{folder}\\pythonw.exe" if folder else "pythonw.exe"
