"""Settings export and import: the seller's settings and customised escalation matrix in one JSON file, to
set up a second computer (or a fresh database) the way this one is.

What travels: every setting the seller changed from its default (the settings table's rows for the keys
`config set` accepts), and every matrix row the seller edited, its reply template included (`template`
null: the shipped one, so the importing version's default applies).

What stays behind:

- secrets: the mailbox password and the Amazon LWA client secret and refresh token live in the system
  keyring, never in the database, so they cannot be in the file; `amazon_connection_id` (the name of
  this computer's keyring entry) stays too, since it names secrets the other computer does not have;
- per-computer settings: `watch_folder` and `imap_ca_file` are paths on this computer's disk, and
  `start_at_login` is this computer's login entry. An import keeps the target's own values of these;
- the app's own bookkeeping (when the tray last reminded, notices shown): not settings.

An import replaces: the target's settings not in the file go back to their defaults and its matrix edits
are replaced by the file's. Every value is checked as `config set` and the matrix dialog check it, and
nothing is written unless all of them pass (one transaction). A file written by a newer version of the
format is refused rather than half understood.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from app import output_files, triage
from app.settings import (
    MARKETPLACE_ZONE_SETTINGS,
    SETTINGS,
    SettingError,
    amazon_region_problem,
    check_setting,
)
from app.timeutil import to_iso
from storage import triage as triage_store
from storage.db import DatabaseFiles
from storage.settings import delete_setting, read_settings, write_setting
from storage.transaction import database_path, write_transaction

FORMAT = "account-health-monitor-settings"
VERSION = 1
PER_COMPUTER = frozenset({"watch_folder", "imap_ca_file", "start_at_login", "amazon_connection_id"})
MAX_FILE_BYTES = 2_000_000  # an exported file is a few kilobytes, its templates included
MATRIX_FIELDS = ("category", "case", "action", "who", "response_hours", "amount", "template")


class SettingsFileError(ValueError):
    """A settings file that cannot be imported, said so the seller can fix it."""


def transferable(key: str) -> bool:
    return (key in SETTINGS or key in MARKETPLACE_ZONE_SETTINGS) and key not in PER_COMPUTER


# --- Export -----------------------------------------------------------------------------------------------------


def export_data(db: sqlite_utils.Database, at: float | None = None) -> dict:
    """The file's content: the seller's changed settings and customised matrix rows."""
    stored = read_settings(db)
    settings = {key: stored[key] for key in sorted(stored) if transferable(key)}
    matrix = [
        {field: row[field] for field in MATRIX_FIELDS}
        for row in triage_store.matrix_rows(db)
        if (row["category"], row["case"]) in triage.default_matrix()
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": to_iso(time.time() if at is None else at),
        "settings": settings,
        "matrix": matrix,
    }


def export_file(db: sqlite_utils.Database, path: str | Path) -> dict:
    """Write the settings file; returns how many settings and matrix rows it holds."""
    data = export_data(db)
    output_files.write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n", database_path(db))
    return {"path": str(path), "settings": len(data["settings"]), "matrix": len(data["matrix"])}


# --- Import -----------------------------------------------------------------------------------------------------


def read_file(path: str | Path) -> dict:
    """The file's JSON object; SettingsFileError when it is not one (OSError passes: the caller says it)."""
    if not Path(path).is_file():
        raise SettingsFileError(f"{path} is not a settings file: not a file")
    with open(path, "rb") as source:
        raw = source.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:  # a mailbox or a report picked by mistake: not read whole
        raise SettingsFileError(f"{path} is not a settings file: larger than {MAX_FILE_BYTES // 1_000_000} MB")
    text = raw.decode("utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsFileError(f"{path} is not a settings file: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SettingsFileError(f"{path} is not a settings file exported by the monitor (config export)")
    return data


def checked_import(data: dict) -> tuple[dict[str, Any], list[triage.MatrixEntry]]:
    """The file's settings and matrix entries, every one checked; SettingsFileError naming the first bad one."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SettingsFileError(f"the file's version '{version}' is not a version number")
    if version > VERSION:
        raise SettingsFileError(
            f"the file was written by a newer version of the monitor (format {version}; this one reads up to "
            f"{VERSION}): update the monitor to import it"
        )
    settings = _checked_settings(data.get("settings", {}))
    entries = _checked_matrix(data.get("matrix", []))
    return settings, entries


def _checked_settings(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SettingsFileError('"settings" must be an object of setting names and values')
    checked: dict[str, Any] = {}
    for key, value in raw.items():
        if key in PER_COMPUTER:
            continue  # this computer's own: kept as it is (see the module's docstring)
        try:
            checked[key] = check_setting(key, value)
        except SettingError as error:
            raise SettingsFileError(f"setting {key} = {json.dumps(value)}: {error.problem}") from None
        except ValueError as error:
            raise SettingsFileError(f"setting {key} = {json.dumps(value)}: {error}") from None
    defaults = {key: setting.default for key, setting in SETTINGS.items()}
    problem = amazon_region_problem(
        checked.get("amazon_region", defaults["amazon_region"]),
        checked.get("amazon_marketplaces", defaults["amazon_marketplaces"]),
    )
    if problem:
        value = json.dumps(checked.get("amazon_marketplaces", []))
        raise SettingsFileError(f"setting amazon_marketplaces = {value}: {problem}")
    return checked


def _checked_matrix(raw: Any) -> list[triage.MatrixEntry]:
    if not isinstance(raw, list):
        raise SettingsFileError('"matrix" must be a list of escalation matrix rows')
    entries: dict[tuple[str, str], triage.MatrixEntry] = {}
    for number, row in enumerate(raw, start=1):
        if not isinstance(row, dict):
            raise SettingsFileError(f"matrix row {number} is not an object")
        name = f"{row.get('category')}" + (f" ({row['case']})" if row.get("case") else "")
        try:
            entry = triage.check_matrix_entry(
                str(row.get("category")),
                row.get("case") or "",
                row.get("action"),
                row.get("who"),
                row.get("response_hours"),
                row.get("amount"),
                row.get("template"),
            )
        except (TypeError, ValueError) as error:
            raise SettingsFileError(f"matrix row {number}, {name}: {error}") from None
        key = (entry.category, entry.case)
        if key in entries:
            raise SettingsFileError(f"matrix row {number}, {name}: the file has this row twice")
        entries[key] = entry
    return list(entries.values())


def import_data(db: sqlite_utils.Database, data: dict, at: float | None = None) -> dict:
    """Replace the seller's settings and matrix edits with the file's, all or nothing."""
    settings, entries = checked_import(data)
    at = int(time.time() if at is None else at)
    shipped = triage.default_matrix()
    with write_transaction(db):
        for key in read_settings(db):
            if transferable(key) and key not in settings:
                delete_setting(db, key)
        for key, value in settings.items():
            write_setting(db, key, value)
        triage_store.delete_matrix_rows(db)
        for entry in entries:
            template = None if entry.template == shipped[(entry.category, entry.case)].template else entry.template
            row = {field: getattr(entry, field) for field in MATRIX_FIELDS if field != "template"}
            triage_store.upsert_matrix_row(db, {**row, "template": template, "updated_at": at})
    return {"settings": len(settings), "matrix": len(entries)}


def import_file(db: sqlite_utils.Database, path: str | Path) -> dict:
    """Read, check and import a settings file; returns how many settings and matrix rows it set."""
    if DatabaseFiles(database_path(db)).holds(path):
        # Reading it here would drop this process's locks on it (sqlite.org/howtocorrupt.html §2.2).
        raise SettingsFileError(f"{Path(path).name} is the monitor's own database, not a settings file")
    return {"path": str(path), **import_data(db, read_file(path))}
