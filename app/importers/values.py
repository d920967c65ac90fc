"""Reading single cells: instants, dates, money, whole numbers and flags, as Amazon writes them.

Every reader takes the cell's stripped text (never empty: empty cells are `None` before they get here)
and raises `ValueError` with a sentence a seller can act on. Values no real report holds are refused the
same way: amounts that are not finite (`1e999`, `NaN`), negative quantities, dates outside the years
`FIRST_YEAR` to `LAST_YEAR`, order ids that are not Amazon's.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from math import isfinite

from app.importers.limits import FIRST_YEAR, LAST_YEAR, MAX_QUANTITY

AMAZON_ORDER_ID = re.compile(r"[0-9]{3}-[0-9]{7}-[0-9]{7}")
is_amazon_order_id = AMAZON_ORDER_ID.fullmatch  # bound once: it runs on every row of the largest reports

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "janv", "ene", "gen", "jän"),
            ("feb", "févr", "fev", "febr"),
            ("mar", "mär", "mars", "mrz"),
            ("apr", "avr", "abr"),
            ("may", "mai", "mag", "mayo"),
            ("jun", "juin", "giu"),
            ("jul", "juil", "lug"),
            ("aug", "août", "ago"),
            ("sep", "sept", "set"),
            ("oct", "okt", "ott"),
            ("nov",),
            ("dec", "déc", "dic", "dez"),
        ],
        start=1,
    )
    for name in names
}


def instant(text: str) -> int:
    """An ISO 8601 date-time (`2026-10-03T14:05:21+00:00`, `...Z`) as UTC epoch seconds.

    A time without an offset is read as UTC: Amazon's flat files always carry one, and a file that
    lost it was most likely re-saved from a UTC download.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time like 2026-10-03T14:05:21+00:00") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(_implausible(text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _implausible(text: str) -> str:
    return f"'{text}' is not a plausible date: expected a year from {FIRST_YEAR} to {LAST_YEAR}"


def plausible(day: date, text: str) -> str:
    """`day` as an ISO date, when its year is one a report can hold."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(_implausible(text))
    return day.isoformat()


def iso_date(text: str) -> str:
    """An ISO calendar date (`2026-10-03`), returned normalised."""
    try:
        day = date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date like 2026-10-03") from None
    return plausible(day, text)


def day_month_name_year(text: str) -> str:
    """A date like `10-Jul-2026` (FBM returns report) as an ISO date; ISO dates pass through."""
    parts = text.replace(" ", "-").split("-")
    if len(parts) == 3 and parts[1].isalpha():
        month = MONTHS.get(parts[1].lower().rstrip("."))
        if month and parts[0].isdigit() and parts[2].isdigit():
            year = int(parts[2])
            year += 2000 if len(parts[2]) <= 2 else 0  # a year written in full is the year written, 0001 too
            try:
                day = date(year, month, int(parts[0]))
            except ValueError:
                pass
            else:
                return plausible(day, text)
        raise ValueError(f"'{text}' is not a date like 10-Jul-2026")
    return iso_date(text)


def money(text: str) -> float:
    """An amount: `1234.56`, `1,234.56`, `12,99` or `1.234,56` (European marketplaces)."""
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    for symbol in "$€£¥":
        cleaned = cleaned.replace(symbol, "")
    if "," in cleaned:
        if "." in cleaned and cleaned.rfind(",") < cleaned.rfind("."):
            cleaned = cleaned.replace(",", "")
        else:
            cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"'{text}' is not an amount like 1234.56") from None
    if not isfinite(value):  # float() reads `1e999` as infinity and `NaN` as not-a-number
        raise ValueError(f"'{text}' is not an amount: expected a finite amount like 1234.56")
    return value


def whole(text: str) -> int:
    """A quantity: a whole number."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number") from None


def quantity(text: str) -> int:
    """A number of items: a whole number from 0 (a cancelled item) to `MAX_QUANTITY`."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number") from None
    if 0 <= value <= MAX_QUANTITY:
        return value
    raise ValueError(f"'{text}' is not a quantity: expected a whole number from 0 to {MAX_QUANTITY:,}")


def amazon_order_id(text: str) -> str:
    """An Amazon order id, `113-1234567-1234567` (three, seven and seven digits) on every marketplace.

    A row with another id is rejected, not kept with a warning: the order id is what ties an order to its
    feedback, returns, claims and messages, and ids a spreadsheet or an export tool left behind
    (`scrubbed`, `#N/A`, `1.13E+18`) repeat from row to row, so keeping them would merge unrelated
    orders into one and miscount every rate. The rejection lists the row's line, so the seller sees it.
    """
    if not is_amazon_order_id(text):
        raise ValueError(f"order id '{text}' is not an Amazon order id like 113-1234567-1234567")
    return text


def flag(text: str) -> int:
    """`Y`/`N`, `true`/`false`, `yes`/`no`, `1`/`0` as 1 or 0."""
    lowered = text.lower()
    if lowered in ("y", "yes", "true", "1"):
        return 1
    if lowered in ("n", "no", "false", "0"):
        return 0
    raise ValueError(f"'{text}' is not Y or N")
