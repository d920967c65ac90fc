"""The window's side of Start at login: the file is written and removed here (`app.autostart`), the choice
is saved with the other settings by the database's process.

`desktop.login_item` is None where the app must not touch the seller's login (the tests, screenshots):
the choice is still saved, no file is written.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import platformdirs

from app import autostart
from storage.db import APP_NAME
from ui.icons import status_pixmap

TURNED_ON = (
    "Start at login is on: the monitor now starts in the tray when you log in, so it can warn you. "
    "Settings turns it off."
)
ICON_SIZE = 256


def login_item(db_path: Path, *, chosen: bool) -> autostart.LoginItem:
    """This computer's login item; it names the database only when the seller chose one at this start
    (`--db`, `$AHM_DB`), since a login passes neither. The icon is kept in the app's data folder."""
    icon = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / f"{autostart.APP_ID}.png"
    return autostart.for_this_computer(db_path=db_path if chosen else None, icon=icon)


def restore(desktop) -> None:
    """At start: a login item the seller chose is rewritten if its command changed (the app was moved)."""
    if desktop.login_item is not None and desktop.window.settings_view.settings.start_at_login:
        _write_file(desktop, True)


def apply_choice(desktop, on: bool) -> None:
    """After Settings were saved with the box ticked or not."""
    if desktop.login_item is not None:
        _write_file(desktop, on)


def after_import(desktop, results, demo_active: bool | None) -> None:
    """The first import of the seller's own reports turns Start at login on, unless they ever chose."""
    if demo_active is not False or not any(result.outcome == "imported" for result in results):
        return
    view = desktop.window.settings_view
    if view.settings.start_at_login is not None:
        return
    view.settings = replace(view.settings, start_at_login=True)
    view.start_at_login.setChecked(True)
    desktop._write("Turning Start at login on", autostart.remember_choice, True, recompute=False)
    if desktop.login_item is None or _write_file(desktop, True):
        desktop.window.notify(TURNED_ON)


def _write_file(desktop, on: bool) -> bool:
    item = desktop.login_item
    try:
        if on:
            if item.icon is not None and not item.icon.exists():
                item.icon.parent.mkdir(parents=True, exist_ok=True)
                status_pixmap("good", ICON_SIZE).save(str(item.icon))
            item.turn_on()
        else:
            item.turn_off()
    except OSError as error:
        state = "on" if on else "off"
        desktop.window.notify(f"Start at login could not be turned {state}: {error}", error=True)
        return False
    return True
