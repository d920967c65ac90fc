"""The seller's settings: their names, defaults and checks (stored in the database's settings table).

Defaults follow metrics.md: marketplace time zone UTC, A-to-z response 48 h, warning levels at 80 % of
each limit (NFR warns at 5 %), feedback removal window 90 days, alerts 6 h and 2 h before a deadline; the
weekly triage reminder comes on Monday at 09:00 in the marketplace time zone.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
import sqlite_utils

from app.marketplaces import CODES, DEFAULT_ZONES, canonical
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
    code = canonical(str(value))
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


# The longest window or time a setting can give: a year. Far beyond any of Amazon's, and a date a window
# ahead of or behind today stays one Python can hold.
YEAR_DAYS = 365


@dataclass(frozen=True)
class _UpToAYear:
    """A positive number of days or hours, at most a year's (`most`)."""

    most: int
    unit: str

    def __call__(self, value: Any) -> float:
        number = _positive_number(value)
        if number > self.most:
            raise ValueError(f"{value} must be at most {self.most} {self.unit} (a year)")
        return number


_days = _UpToAYear(YEAR_DAYS, "days")
_hours = _UpToAYear(YEAR_DAYS * 24, "hours")


def _hours_list(value: Any) -> list[float]:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a list of hours, like [6, 2]")
    return sorted((_hours(item) for item in value), reverse=True)


def _within_a_year(key: str, value: Any) -> Any:
    """A day or hour window as read back: one stored before windows stopped at a year (through the command
    line) is taken at a year, so that no window's end is past a date Python holds; one the check refuses
    otherwise is the default."""
    setting = SETTINGS[key]
    try:
        return setting.check(value)
    except (TypeError, ValueError):
        pass
    most = (_days if setting.check is _days else _hours).most
    try:
        if isinstance(value, list):
            return setting.check([min(_positive_number(item), most) for item in value])
        return setting.check(min(_positive_number(value), most))
    except (TypeError, ValueError):
        return setting.default


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


def _weekly_time(value: Any) -> str:
    # app.triage reads Settings, so its parser is imported when a value is checked, not at import time.
    from app.triage import format_reminder

    return format_reminder(str(value))


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
IMAP_SECURITY = ("tls", "starttls", "none")


def _host(value: Any) -> str:
    """A host name or IP address, or empty (the mailbox is not set up yet)."""
    text = str(value).strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    if not HOST_NAME.match(text):
        raise ValueError(f"'{value}' is not a server name like imap.example.com")
    return text.rstrip(".").lower()


def _port(value: Any) -> int:
    try:
        number = int(value) if not isinstance(value, bool) and float(value) == int(float(value)) else 0
    except (TypeError, ValueError, OverflowError):
        number = 0
    if not 1 <= number <= 65535:
        raise ValueError(f"'{value}' is not a port number (1 to 65535; IMAP uses 993 with TLS, 143 with STARTTLS)")
    return number


def _security(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in IMAP_SECURITY:
        raise ValueError(f"'{value}' is not one of tls (port 993), starttls (port 143) or none (this computer only)")
    return text


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not text")
    return value.strip()


def _folder_name(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("a folder name is needed, like INBOX or Sent")
    return text


def _poll_minutes(value: Any) -> float:
    number = _positive_number(value)
    if not 1 <= number <= 24 * 60:
        raise ValueError(f"{value} must be between 1 minute and 1440 (a day)")
    return number


def _certificate_file(value: Any) -> str:
    """Empty (the system's certificate authorities) or a PEM file of the authority the server's certificate
    comes from (a company or home server with its own certificate)."""
    text = _text(value)
    if text and not Path(text).expanduser().is_file():
        raise ValueError(f"'{value}' is not a file")
    return str(Path(text).expanduser()) if text else ""


def _folder_path(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("a folder is needed, like your Downloads folder")
    path = Path(text).expanduser()
    if not path.is_absolute():
        raise ValueError(f"'{value}' is not a full folder path")
    return str(path)


# Amazon's Selling Partner API regions: each serves its own marketplaces (a seller picks one region per account).
AMAZON_REGIONS = {
    "NA": ("North America", ("US", "CA", "MX", "BR")),
    "EU": ("Europe", ("UK", "IE", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE", "TR", "AE", "SA", "IN")),
    "FE": ("Far East", ("JP", "AU", "SG")),
}


def _amazon_region(value: Any) -> str:
    text = str(value or "").strip().upper()
    if text and text not in AMAZON_REGIONS:
        choices = ", ".join(f"{code} ({name})" for code, (name, _) in AMAZON_REGIONS.items())
        raise ValueError(f"'{value}' is not a region: {choices}, or empty for no connection")
    return text


def _amazon_marketplaces(value: Any) -> list[str]:
    """A list of marketplace codes, from a list or from text like `US,CA`."""
    items = value if isinstance(value, list) else re.split(r"[\s,;]+", str(value or ""))
    codes: list[str] = []
    for item in items:
        if not str(item).strip():
            continue
        code = canonical(str(item).strip())
        if not any(code in members for _, members in AMAZON_REGIONS.values()):
            raise ValueError(f"'{item}' is not a marketplace code ({', '.join(CODES)})")
        if code not in codes:
            codes.append(code)
    return codes


def amazon_region_problem(region: str, marketplaces: list[str]) -> str | None:
    """The marketplaces outside the region, said so (None when every one belongs to it, or no region is set)."""
    if not region:
        return None
    name, members = AMAZON_REGIONS[region]
    outside = [code for code in marketplaces if code not in members]
    if not outside:
        return None
    return f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in the {name} region"


def _endpoint(value: Any, *, path_allowed: bool) -> str:
    """Empty (Amazon's own), or an https address; plain http only to this computer (a test server)."""
    text = _text(value).rstrip("/")
    if not text:
        return ""
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(f"'{value}' has a port that is not a number from 1 to 65535") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"'{value}' is not an address like https://sellingpartnerapi-na.amazon.com")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(f"'{value}': plain http is only allowed to this computer (127.0.0.1 or localhost)")
    if parts.query or parts.fragment or parts.username or (parts.path and not path_allowed):
        raise ValueError(f"'{value}' must be only a scheme, a server and a port")
    return text


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pull_hours(value: Any) -> float:
    number = _positive_number(value)
    if not 1 <= number <= 24 * 7:
        raise ValueError(f"{value} must be between 1 hour and 168 (a week)")
    return number


def default_watch_folder() -> str:
    """The user's Downloads folder: where a report downloaded from Seller Central lands."""
    return platformdirs.user_downloads_dir()


DEFAULT_WARNING_LEVELS = {"odr": 0.008, "lrr": 0.08, "nfr": 0.05, "rdr": 0.08}
# Settings that set a window of days or hours: bounded to a year, also as they are read (`_within_a_year`).
WINDOW_SETTINGS = (
    "a_to_z_response_hours",
    "feedback_removal_days",
    "fba_reimbursement_days",
    "safet_claim_days",
    "alert_thresholds_hours",
)

SETTINGS = {
    setting.key: setting
    for setting in (
        Setting("timezone", "UTC", "Marketplace time zone: report dates without a time are days in it", _timezone),
        Setting("marketplace", "US", "Marketplace code: decides how feedback dates like 3/4/26 are read", _marketplace),
        Setting("csba_periods", [], "Customer Service by Amazon enrollment periods (opt-in, opt-out)", _csba_periods),
        Setting("a_to_z_response_hours", 48, "Hours to respond to an A-to-z claim", _hours),
        Setting("warning_levels", DEFAULT_WARNING_LEVELS, "Rates at which a metric turns amber", _warning_levels),
        Setting("feedback_removal_days", 90, "Days after feedback to ask for its removal", _days),
        Setting(
            "fba_reimbursement_days",
            90,
            "Days after an FBA customer return to file its reimbursement claim (docs/money.md)",
            _days,
        ),
        Setting("safet_claim_days", 30, "Days after a refunded FBM return to file its SAFE-T claim", _days),
        Setting("alert_thresholds_hours", [6, 2], "Hours before a deadline at which to alert", _hours_list),
        Setting("demo_on_empty", True, "Start with demo data while nothing has been imported", _boolean),
        Setting("triage_reminder", "Mon 09:00", "Weekly triage reminder: a day and time, or off", _weekly_time),
        Setting("imap_enabled", False, "Read buyer messages from the mailbox over IMAP", _boolean),
        Setting("imap_host", "", "IMAP server name, like imap.example.com", _host),
        Setting("imap_port", 993, "IMAP port: 993 with TLS, 143 with STARTTLS", _port),
        Setting("imap_security", "tls", "tls, starttls, or none (only for a server on this computer)", _security),
        Setting("imap_user", "", "IMAP user name (the password is kept in the system keyring)", _text),
        Setting("imap_inbox", "INBOX", "The folder Amazon's buyer-message e-mails arrive in", _folder_name),
        Setting("imap_sent", "Sent", "The folder the seller's replies are kept in", _folder_name),
        Setting("imap_poll_minutes", 2, "Minutes between two looks at the mailbox", _poll_minutes),
        Setting(
            "imap_ca_file", "", "Certificate authority file for a server with its own certificate", _certificate_file
        ),
        Setting("watch_enabled", False, "Import reports that appear in the watched folder", _boolean),
        Setting("watch_folder", default_watch_folder(), "The folder watched for downloaded reports", _folder_path),
        # None until the seller chooses: the first import of their own reports turns it on (app.autostart).
        Setting("start_at_login", None, "Start the monitor in the tray when you log in", _boolean),
        Setting("amazon_region", "", "Amazon region: NA, EU or FE (empty: not connected)", _amazon_region),
        Setting("amazon_marketplaces", [], "Amazon marketplaces to pull reports for, like US,CA", _amazon_marketplaces),
        Setting(
            "amazon_endpoint",
            "",
            "Selling Partner API address (empty: the region's own)",
            lambda value: _endpoint(value, path_allowed=False),
        ),
        Setting(
            "amazon_token_endpoint",
            "",
            "Login with Amazon token address (empty: https://api.amazon.com/auth/o2/token)",
            lambda value: _endpoint(value, path_allowed=True),
        ),
        Setting("amazon_pull_hours", 4, "Hours between two pulls of Amazon's reports", _pull_hours),
        # Not secret: names this account's secrets in the system keyring.
        Setting("amazon_connection_id", "", "Name of this account's Amazon secrets in the system keyring", _text),
    )
}


# Each marketplace's own time zone, for every marketplace but the home one (whose zone is `timezone`).
ZONE_PREFIX = "timezone."
MARKETPLACE_ZONE_SETTINGS = {
    f"{ZONE_PREFIX}{code}": Setting(
        f"{ZONE_PREFIX}{code}",
        DEFAULT_ZONES[code],
        f"Time zone of the {code} marketplace's days (the home marketplace uses timezone)",
        _timezone,
    )
    for code in CODES
}


def setting_keys() -> list[str]:
    """Every key `config get/set` accepts."""
    return sorted([*SETTINGS, *MARKETPLACE_ZONE_SETTINGS])


def _known(key: str) -> Setting | None:
    return SETTINGS.get(key) or MARKETPLACE_ZONE_SETTINGS.get(key)


@dataclass(frozen=True)
class Settings:
    timezone: str = "UTC"
    marketplace: str = "US"
    # The seller's zones for other marketplaces, by code (`timezone.DE`); unset ones use DEFAULT_ZONES.
    marketplace_timezones: dict = field(default_factory=dict)
    csba_periods: list = field(default_factory=list)
    a_to_z_response_hours: float = 48
    warning_levels: dict = field(default_factory=lambda: dict(DEFAULT_WARNING_LEVELS))
    feedback_removal_days: float = 90
    fba_reimbursement_days: float = 90
    safet_claim_days: float = 30
    alert_thresholds_hours: list = field(default_factory=lambda: [6, 2])
    demo_on_empty: bool = True
    triage_reminder: str = "Mon 09:00"
    imap_enabled: bool = False
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "tls"
    imap_user: str = ""
    imap_inbox: str = "INBOX"
    imap_sent: str = "Sent"
    imap_poll_minutes: float = 2
    imap_ca_file: str = ""
    watch_enabled: bool = False
    watch_folder: str = field(default_factory=default_watch_folder)
    start_at_login: bool | None = None
    amazon_region: str = ""
    amazon_marketplaces: list = field(default_factory=list)
    amazon_endpoint: str = ""
    amazon_token_endpoint: str = ""
    amazon_pull_hours: float = 4
    amazon_connection_id: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def date_order(self) -> str:
        return MARKETPLACE_DATE_ORDER.get(self.marketplace, "MDY")

    def timezone_of(self, marketplace: str) -> str:
        """The zone a marketplace's days are counted in: the `timezone` setting for the home marketplace
        (so figures from before marketplaces do not move), else its own setting or its real zone."""
        if marketplace == self.marketplace:
            return self.timezone
        return self.marketplace_timezones.get(marketplace) or DEFAULT_ZONES.get(marketplace, "UTC")

    def for_marketplace(self, marketplace: str) -> Settings:
        """These settings as one marketplace sees them: its zone, its feedback date order."""
        return replace(self, timezone=self.timezone_of(marketplace), marketplace=marketplace)


# Each setting named as the Settings view names it: a refused value is explained in the seller's words.
SETTING_LABELS = {
    "timezone": "Marketplace time zone",
    "marketplace": "Marketplace (feedback dates)",
    "csba_periods": "Customer Service by Amazon periods",
    "a_to_z_response_hours": "A-to-z claim response time",
    "warning_levels": "Turns amber at",
    "feedback_removal_days": "Feedback removal window",
    "fba_reimbursement_days": "FBA reimbursement claim window (days)",
    "safet_claim_days": "SAFE-T claim window (days)",
    "alert_thresholds_hours": "Alert before a deadline (hours)",
    "demo_on_empty": "Start with demo data while nothing has been imported",
    "triage_reminder": "Remind me of the triage on",
    "imap_enabled": "Read buyer messages from my mailbox",
    "imap_host": "Mail server",
    "imap_port": "Mail server port",
    "imap_security": "Encryption",
    "imap_user": "User name",
    "imap_inbox": "Buyer messages arrive in",
    "imap_sent": "Your replies are kept in",
    "imap_poll_minutes": "Look for new mail every (minutes)",
    "imap_ca_file": "Certificate authority file",
    "watch_enabled": "Import reports that appear in this folder",
    "watch_folder": "Watched folder",
    "amazon_region": "Region",
    "amazon_marketplaces": "Marketplaces",
    "amazon_endpoint": "Selling Partner API address",
    "amazon_token_endpoint": "Token address",
    "amazon_pull_hours": "Pull reports every (hours)",
}


def setting_label(key: str) -> str:
    return SETTING_LABELS.get(key) or _known(key).description


class SettingError(ValueError):
    """A refused value: said with the setting's label (the window); `key` and `problem` stay apart for the
    command line, where the seller typed the key."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"{setting_label(key)}: {problem}")
        self.key = key
        self.problem = problem


def check_setting(key: str, value: Any) -> Any:
    """The value as it will be stored, or ValueError (SettingError for a known key) saying what is expected."""
    setting = _known(key)
    if setting is None:
        raise ValueError(f"'{key}' is not a setting. Settings: {', '.join(SETTINGS)}, {ZONE_PREFIX}CODE")
    try:
        return setting.check(value)
    except (TypeError, ValueError) as error:
        raise SettingError(key, str(error)) from None


def setting_value(settings: Settings, key: str) -> Any:
    """The value in force for a key (`timezone.DE`: the DE marketplace's zone, its default when unset)."""
    if key.startswith(ZONE_PREFIX):
        return settings.timezone_of(key.removeprefix(ZONE_PREFIX))
    return getattr(settings, key)


def load_settings(db: sqlite_utils.Database) -> Settings:
    stored = read_settings(db, SETTINGS, ZONE_PREFIX)
    values = {key: stored.get(key, setting.default) for key, setting in SETTINGS.items()}
    # A marketplace stored as GB before the monitor said UK is the same home marketplace.
    values["marketplace"] = canonical(str(values["marketplace"]))
    for key in WINDOW_SETTINGS:
        values[key] = _within_a_year(key, values[key])
    zones = {key.removeprefix(ZONE_PREFIX): value for key, value in stored.items() if key in MARKETPLACE_ZONE_SETTINGS}
    return Settings(**values, marketplace_timezones=zones)


def save_setting(db: sqlite_utils.Database, key: str, value: Any) -> Any:
    checked = check_setting(key, value)
    if key in ("amazon_region", "amazon_marketplaces"):
        _check_amazon_pair(db, key, checked)
    if key.startswith(ZONE_PREFIX) and key.removeprefix(ZONE_PREFIX) == load_settings(db).marketplace:
        key = "timezone"  # the home marketplace's days are counted in `timezone`: the zone set must be used
    write_setting(db, key, checked)
    return checked


def _check_amazon_pair(db: sqlite_utils.Database, key: str, checked: Any) -> None:
    """A region and marketplaces that do not fit are refused whichever of the two is set last."""
    current = load_settings(db)
    region = checked if key == "amazon_region" else current.amazon_region
    marketplaces = checked if key == "amazon_marketplaces" else current.amazon_marketplaces
    problem = amazon_region_problem(region, marketplaces)
    if problem:
        raise SettingError(key, problem)
