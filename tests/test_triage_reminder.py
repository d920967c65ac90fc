"""The Monday reminder: the setting and when the tray should remind (pure, instants injected)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app import services
from app.settings import check_setting, load_settings
from app.triage import reminder_due
from tests.builders import Seller, at

UTC = ZoneInfo("UTC")
LA = ZoneInfo("America/Los_Angeles")
MONDAY_9 = at("2026-11-09 09:00")  # Monday 9 Nov 2026, 09:00 UTC


def test_the_setting_defaults_to_monday_nine_and_is_checked(db):
    assert load_settings(db).triage_reminder == "Mon 09:00"
    assert check_setting("triage_reminder", "monday 7:30") == "Mon 07:30"
    assert check_setting("triage_reminder", "Tue 18.05") == "Tue 18:05"
    assert check_setting("triage_reminder", "Off") == "off"
    for bad in ("Mon", "Funday 09:00", "Mon 25:00", "Mon 09:75", "09:00", "M 09:00"):
        with pytest.raises(ValueError, match=r"^Remind me of the triage on: "):
            check_setting("triage_reminder", bad)


def test_due_once_the_time_has_passed_and_not_before():
    last_week = MONDAY_9 - 7 * 86400 + 60  # the tray reminded last Monday
    assert not reminder_due(MONDAY_9 - 60, UTC, "Mon 09:00", None, last_week)
    assert reminder_due(MONDAY_9, UTC, "Mon 09:00", None, last_week)
    assert reminder_due(MONDAY_9 + 2 * 86400, UTC, "Mon 09:00", None, last_week)  # app first opened on Wednesday
    # Never reminded and never triaged: last Monday's reminder is still owed.
    assert reminder_due(MONDAY_9 - 60, UTC, "Mon 09:00", None, None)


def test_not_due_when_this_week_s_triage_is_completed():
    assert not reminder_due(MONDAY_9 + 3600, UTC, "Mon 09:00", at("2026-11-09 08:00"), None)
    assert not reminder_due(MONDAY_9 + 3600, UTC, "Mon 09:00", at("2026-11-09 00:00"), None)
    # Completed last week: this week's is still to do.
    assert reminder_due(MONDAY_9 + 3600, UTC, "Mon 09:00", at("2026-11-08 23:00"), None)


def test_reminds_once_a_week():
    assert not reminder_due(MONDAY_9 + 7200, UTC, "Mon 09:00", None, MONDAY_9 + 60)
    assert reminder_due(MONDAY_9 + 7 * 86400, UTC, "Mon 09:00", None, MONDAY_9 + 60)
    assert reminder_due(MONDAY_9 + 60, UTC, "Mon 09:00", None, MONDAY_9 - 7 * 86400)


def test_the_time_is_the_marketplace_s_local_time():
    # 09:00 in Los Angeles on 9 Nov (PST, UTC-8) is 17:00 UTC.
    last_week = at("2026-11-02 17:30")
    assert not reminder_due(at("2026-11-09 16:59"), LA, "Mon 09:00", None, last_week)
    assert reminder_due(at("2026-11-09 17:00"), "America/Los_Angeles", "Mon 09:00", None, last_week)
    # Completed on Monday morning in Los Angeles (after local midnight, 08:00 UTC): done for the week.
    assert not reminder_due(at("2026-11-09 17:00"), LA, "Mon 09:00", at("2026-11-09 08:30"), last_week)
    assert reminder_due(at("2026-11-09 17:00"), LA, "Mon 09:00", at("2026-11-09 07:30"), last_week)


def test_off_never_reminds():
    assert not reminder_due(MONDAY_9 + 3600, UTC, "off", None, None)


def test_the_tray_asks_the_database(db):
    assert services.triage_reminder_due(db, MONDAY_9 + 60)
    services.record_triage_reminder(db, MONDAY_9 + 60)
    assert not services.triage_reminder_due(db, MONDAY_9 + 3600)
    assert services.triage_reminder_due(db, MONDAY_9 + 7 * 86400)
    services.complete_session(db, MONDAY_9 + 7 * 86400)
    assert not services.triage_reminder_due(db, MONDAY_9 + 7 * 86400 + 60)
    Seller(db).setting("triage_reminder", "off")
    assert not services.triage_reminder_due(db, MONDAY_9 + 14 * 86400)
