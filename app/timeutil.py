"""Calendar days in the marketplace time zone and UTC instants (epoch seconds).

Every instant is stored as UTC; a report date without a time is a day in the marketplace time zone.
`as_of` means the end of that day, the instant of the next local midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
HOUR_S = 3600
DAY_S = 86400


def day_start(day: date, zone: ZoneInfo) -> int:
    """The UTC instant (epoch seconds) of local midnight at the start of `day`."""
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())


def end_of_day(day: date, zone: ZoneInfo) -> int:
    """The `as_of` instant: local midnight at the start of the next day."""
    return day_start(day + DAY, zone)


def local_day(instant: int | float, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(instant, tz=zone).date()


# Offsets lie within UTC-12 ... UTC+14: an instant this far from a local midnight is on that midnight's side
# of it whatever the zone's clock did between them. Nearer, a clock set back across midnight (St. John's,
# 2010) or a skipped day (Samoa, 2011) means only the instant's own local day tells.
CLEAR_OF_MIDNIGHT_S = 2 * DAY_S


def on_or_after_day(instant: int | float, day: date, start: int, zone: ZoneInfo) -> bool:
    """`local_day(instant, zone) >= day`, given `start = day_start(day, zone)`: converts only the instants
    near that midnight, years of records are mostly far from it."""
    if instant >= start + CLEAR_OF_MIDNIGHT_S:
        return True
    if instant < start - CLEAR_OF_MIDNIGHT_S:
        return False
    return local_day(instant, zone) >= day


def earliest_local_day(instants: list[int] | list[float], zone: ZoneInfo) -> date | None:
    """The earliest local day of the instants (None for none): only those near the earliest instant can be
    dated earlier than it."""
    if not instants:
        return None
    first = min(instants)
    return min(local_day(instant, zone) for instant in instants if instant < first + CLEAR_OF_MIDNIGHT_S)


def parse_day(text: str) -> date:
    return date.fromisoformat(text)


def to_iso(instant: int | float) -> str:
    """An instant as ISO 8601 in UTC with a `Z`."""
    return datetime.fromtimestamp(instant, tz=UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> float:
    """An ISO 8601 instant; without an offset it is read as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def offset_segments(zone: ZoneInfo, first: date, last: date) -> list[tuple[int, int]]:
    """The zone's UTC offsets over local days `first`..`last` as (from_instant, offset_seconds) pieces.

    Lets SQL turn a UTC instant into a local day with one CASE over the few daylight-saving changes in
    the range instead of converting every order in Python.
    """
    start, end = day_start(first, zone), end_of_day(last, zone)
    segments = [(start, _offset(start, zone))]
    probe = start
    while probe < end:
        step = min(probe + DAY_S, end)
        if _offset(step, zone) != segments[-1][1]:
            segments.append((_change_instant(probe, step, zone), _offset(step, zone)))
        probe = step
    return segments


def _offset(instant: int, zone: ZoneInfo) -> int:
    return int(datetime.fromtimestamp(instant, tz=zone).utcoffset().total_seconds())


def _change_instant(before: int, after: int, zone: ZoneInfo) -> int:
    """The first instant in (before, after] with the offset of `after` (offsets change on whole seconds)."""
    target = _offset(after, zone)
    while after - before > 1:
        middle = (before + after) // 2
        if _offset(middle, zone) == target:
            after = middle
        else:
            before = middle
    return after
