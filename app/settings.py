"""The seller's settings: their names, defaults and checks (stored in the database's settings table).

Defaults follow metrics.md: marketplace time zone UTC, A-to-z response 48 h, warning levels at 80 % of
each limit (NFR warns at 5 %), feedback removal window 90 days, alerts 6 h and 2 h before a deadline.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from storage.settings import read_settings, write_setting

# The day/month/year order of slash dates in each marketplace's feedback report (formats.md).
MARKETPLACE_DATE_ORDER = {
    "US": "MDY",
    "CA": "DMY",
    "MX": "DMY",
    "BR": "DMY",
    "UK": "DMY",
    "GB": "DMY",
    "IE": "DMY",
    "FR": "DMY",
    "ES": "DMY",
    "IT": "DMY",
    "NL": "DMY",
    "BE": "DMY",
    "PL": "DMY",
    "DE": "DMY",
    "AU": "DMY",
    "IN": "DMY",
    "AE": "DMY",
    "SA": "DMY",
    "TR": "DMY",
    "SG": "DMY",
    "JP": "YMD",
    "SE": "YMD",
}


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    description: str
    check: Callable[[Any], Any]


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not a time zone name like UTC or America/Los_Angeles") from None
    return str(value)


def _marketplace(value: Any) -> str:
    code = str(value).upper()
    if code not in MARKETPLACE_DATE_ORDER:
        raise ValueError(f"'{value}' is not a marketplace code ({', '.join(sorted(MARKETPLACE_DATE_ORDER))})")
    return code


def _positive_number(value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"'{value}' is not a number")
    if number <= 0:
        raise ValueError(f"{value} must be more than 0")
    return int(number) if number == int(number) else number


def _hours_list(value: Any) -> list[float]:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a list of hours, like [6, 2]")
    return sorted((_positive_number(item) for item in value), reverse=True)


def _fraction(value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not 0 < number < 1:
        raise ValueError(f"{value} must be a fraction between 0 and 1 (0.008 is 0.8 %)")
    return number


def _warning_levels(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError('expected levels per metric, like {"odr": 0.008, "lrr": 0.08, "nfr": 0.05, "rdr": 0.08}')
    levels = dict(DEFAULT_WARNING_LEVELS)
    for metric, level in value.items():
        if metric not in levels:
            raise ValueError(f"'{metric}' is not one of {', '.join(levels)}")
        levels[metric] = _fraction(level)
    return levels


def _csba_periods(value: Any) -> list[dict[str, str | None]]:
    if not isinstance(value, list):
        raise ValueError('expected a list of periods, like [{"start": "2026-01-15", "end": null}]')
    periods = []
    for period in value:
        if not isinstance(period, dict) or "start" not in period:
            raise ValueError('each period needs a "start" date (and an optional "end")')
        start = date.fromisoformat(str(period["start"])).isoformat()
        end = period.get("end")
        end = date.fromisoformat(str(end)).isoformat() if end else None
        if end and end < start:
            raise ValueError(f"period ending {end} starts after it ends ({start})")
        periods.append({"start": start, "end": end})
    return sorted(periods, key=lambda period: period["start"])


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError(f"'{value}' is not on or off")


DEFAULT_WARNING_LEVELS = {"odr": 0.008, "lrr": 0.08, "nfr": 0.05, "rdr": 0.08}

SETTINGS = {
    setting.key: setting
    for setting in (
        Setting("timezone", "UTC", "Marketplace time zone: report dates without a time are days in it", _timezone),
        Setting("marketplace", "US", "Marketplace code: decides how feedback dates like 3/4/26 are read", _marketplace),
        Setting("csba_periods", [], "Customer Service by Amazon enrollment periods (opt-in, opt-out)", _csba_periods),
        Setting("a_to_z_response_hours", 48, "Hours to respond to an A-to-z claim", _positive_number),
        Setting("warning_levels", DEFAULT_WARNING_LEVELS, "Rates at which a metric turns amber", _warning_levels),
        Setting("feedback_removal_days", 90, "Days after feedback to ask for its removal", _positive_number),
        Setting("alert_thresholds_hours", [6, 2], "Hours before a deadline at which to alert", _hours_list),
        Setting("demo_on_empty", True, "Start with demo data while nothing has been imported", _boolean),
    )
}


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    marketplace: str = "US"
    csba_periods: list = field(default_factory=list)
    a_to_z_response_hours: float = 48
    warning_levels: dict = field(default_factory=lambda: dict(DEFAULT_WARNING_LEVELS))
    feedback_removal_days: float = 90
    alert_thresholds_hours: list = field(default_factory=lambda: [6, 2])
    demo_on_empty: bool = True

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def date_order(self) -> str:
        return MARKETPLACE_DATE_ORDER.get(self.marketplace, "MDY")


def check_setting(key: str, value: Any) -> Any:
    """The value as it will be stored, or ValueError saying what is expected."""
    if key not in SETTINGS:
        raise ValueError(f"'{key}' is not a setting. Settings: {', '.join(SETTINGS)}")
    try:
        return SETTINGS[key].check(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{key}: {error}") from None


def load_settings(db: sqlite_utils.Database) -> Settings:
    stored = read_settings(db)
    values = {key: stored.get(key, setting.default) for key, setting in SETTINGS.items()}
    return Settings(**values)


def save_setting(db: sqlite_utils.Database, key: str, value: Any) -> Any:
    checked = check_setting(key, value)
    write_setting(db, key, checked)
    return checked
