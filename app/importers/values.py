"""Reading single cells: instants, dates, money, whole numbers and flags, as Amazon writes them.

Every reader takes the cell's stripped text (never empty: empty cells are `None` before they get here)
and raises `ValueError` with a sentence a seller can act on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

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
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def iso_date(text: str) -> str:
    """An ISO calendar date (`2026-10-03`), returned normalised."""
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text).isoformat()
    except ValueError:
        raise ValueError(f"'{text}' is not a date like 2026-10-03") from None


def day_month_name_year(text: str) -> str:
    """A date like `10-Jul-2026` (FBM returns report) as an ISO date; ISO dates pass through."""
    parts = text.replace(" ", "-").split("-")
    if len(parts) == 3 and parts[1].isalpha():
        month = MONTHS.get(parts[1].lower().rstrip("."))
        if month and parts[0].isdigit() and parts[2].isdigit():
            year = int(parts[2])
            year += 2000 if year < 100 else 0
            try:
                return date(year, month, int(parts[0])).isoformat()
            except ValueError:
                pass
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
        return float(cleaned)
    except ValueError:
        raise ValueError(f"'{text}' is not an amount") from None


def whole(text: str) -> int:
    """A quantity: a whole number."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number") from None


def flag(text: str) -> int:
    """`Y`/`N`, `true`/`false`, `yes`/`no`, `1`/`0` as 1 or 0."""
    lowered = text.lower()
    if lowered in ("y", "yes", "true", "1"):
        return 1
    if lowered in ("n", "no", "false", "0"):
        return 0
    raise ValueError(f"'{text}' is not Y or N")
