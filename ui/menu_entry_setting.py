"""The window's side of the applications menu entry (`app.menu_entry`): a button in Settings that adds the
monitor to the desktop's menu, or takes it out again. Plain files in the user's folder, written by the
window's process: it is not database work.

`desktop.menu_entry` is None where there is no freedesktop menu (Windows, macOS: their installers own it)
and in the tests that do not give one: the button is then hidden.
"""

from __future__ import annotations

from pathlib import Path

from app import launch, menu_entry

ADDED = "Added to the applications menu: find Account Health Monitor under Office."
REMOVED = "Removed from the applications menu."


def for_this_computer(db_path: Path, *, chosen: bool) -> menu_entry.MenuEntry | None:
    """Names the database only when the seller chose one at this start, as the login item does."""
    if not menu_entry.supported(launch.system_of()):
        return None
    return menu_entry.for_this_computer(db_path=db_path if chosen else None)


def show(desktop) -> None:
    entry = desktop.menu_entry
    desktop.window.settings_view.show_menu_entry(None if entry is None else entry.is_installed())


def apply_choice(desktop, add: bool) -> None:
    entry = desktop.menu_entry
    if entry is None:
        return
    try:
        entry.install() if add else entry.remove()
    except menu_entry.MenuEntryError as error:
        verb = "added to" if add else "removed from"
        desktop.window.notify(f"The monitor could not be {verb} the applications menu: {error}", error=True)
    else:
        desktop.window.notify(ADDED if add else REMOVED)
    show(desktop)
