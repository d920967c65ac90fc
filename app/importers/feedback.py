"""Seller Feedback report (`GET_SELLER_FEEDBACK_DATA`, or Feedback Manager's download of all ratings).

The `Date` column's format depends on the marketplace: US `M/D/YY`; UK, FR, ES, IT, CA, AU, IN `D/M/YY`;
DE `D.M.YY`; JP `YY/M/D`; SE `YYYY-MM-DD`. The file is read whole (feedback files are small) so the
format can be decided from every date in it (`choose_date_order`), and the seller is told which order
was used and why. The rater's e-mail is not kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.importers.common import ImportOptions, Note, Parsed, Rejection, names_text
from app.importers.flat import Header, cell, field_count_problem, is_blank, reader
from app.importers.source import ReportError
from app.importers.values import amazon_order_id, plausible, whole
from app.settings import MARKETPLACE_DATE_ORDER

LABEL = "Seller Feedback report"
SIGNATURE = ("date", "rating", "order-id")
DATE_ORDERS = ("MDY", "DMY", "YMD")
ORDER_WORDS = {"MDY": "month first (M/D/Y)", "DMY": "day first (D/M/Y)", "YMD": "year first (Y/M/D)"}
SHORT_WORDS = {"MDY": "month first", "DMY": "day first", "YMD": "year first"}
# The order each order is mistaken for: a file that rules it out confirms the setting. (A third order
# that still fits, such as year first for 13/1/17, would spread the dates over years.)
RIVAL = {"MDY": "DMY", "DMY": "MDY", "YMD": "DMY"}
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
SHOWN_LINES = 5  # per order ruled out, in a refusal: enough to find the pattern, short enough to read
# Amazon replaces the comment of feedback it strikes through (FBA delivery complaints) with this statement.
STRIKE_THROUGH_MARKERS = (
    "this item was fulfilled by amazon, and we take responsibility for this fulfillment experience",
    "we take responsibility for this fulfillment experience",
)


def recognises(header: Header) -> bool:
    return header.has(*SIGNATURE)


def parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
    p_date, p_rating, p_order = header.require(LABEL, *SIGNATURE)
    p_comments = header.position("comments", "comment")
    p_response = header.position("your-response", "response")
    rows = reader(lines, header)
    expected = len(header.names)
    kept: list[tuple[int, list[str]]] = []
    for row in rows:
        line = rows.line_num + 1
        if is_blank(row):
            continue
        problem = field_count_problem(row, expected)
        if problem:
            yield line, Rejection(line, problem)
            continue
        kept.append((line, row))
    orders: dict[int, str] = {}
    for (preferred, marketplace), group in _by_marketplace(kept, p_order, options).items():
        order, note = choose_date_order([(line, row[p_date].strip()) for line, row in group], preferred, marketplace)
        if note:
            yield 1, Note(note)
        orders.update((line, order) for line, _ in group)
    for line, row in kept:
        try:
            yield line, (_read(row, orders[line], p_date, p_rating, p_order, p_comments, p_response),)
        except ValueError as error:
            yield line, Rejection(line, str(error))


def _by_marketplace(kept: list, p_order: int, options: ImportOptions) -> dict[tuple[str, str | None], list]:
    """The rows by the (date order, marketplace) their dates are written in: a row of an imported order in
    its order's marketplace's, the others in the file's."""
    known = options.order_marketplaces([row[p_order].strip() for _, row in kept]) if options.order_marketplaces else {}
    groups: dict[tuple[str, str | None], list] = {}
    for line, row in kept:
        marketplace = known.get(row[p_order].strip())
        key = (
            (MARKETPLACE_DATE_ORDER.get(marketplace, "MDY"), marketplace)
            if marketplace and marketplace != options.marketplace
            else (options.date_order, options.marketplace)
        )
        groups.setdefault(key, []).append((line, row))
    return groups or {(options.date_order, options.marketplace): []}


def _read(row, order, p_date, p_rating, p_order, p_comments, p_response) -> tuple:
    order_id = row[p_order].strip()
    if not order_id:
        raise ValueError("missing Order ID")
    amazon_order_id(order_id)
    text = row[p_date].strip()
    if not text:
        raise ValueError(f"order {order_id}: missing Date")
    feedback_date = read_date(text, order)
    rating_text = row[p_rating].strip()
    rating = whole(rating_text) if rating_text else None
    if rating is None or not 1 <= rating <= 5:
        raise ValueError(f"order {order_id}: rating '{rating_text}' is not 1 to 5")
    comments = cell(row, p_comments)
    struck = int(bool(comments) and any(marker in comments.lower() for marker in STRIKE_THROUGH_MARKERS))
    return order_id, feedback_date, rating, comments, cell(row, p_response), struck


def _parts(text: str) -> tuple[str, list[int], list[bool]] | None:
    """The separator, the three numbers, and which of them is written with more than two digits."""
    for separator in "/.-":
        if separator in text:
            pieces = [piece.strip() for piece in text.split(separator)]
            if len(pieces) == 3 and all(piece.isdigit() for piece in pieces):
                return separator, [int(piece) for piece in pieces], [len(piece) > 2 for piece in pieces]
    return None


def _year(value: int, written_out: bool) -> int:
    # Two digits are this century's; a year written in full is the year written, `0001` as much as `2026`.
    return value if written_out or value >= 100 else value + 2000


def read_date(text: str, order: str) -> str:
    """A feedback date in the given day/month/year order, as an ISO date.

    Dotted dates are always day first (DE) and dates that start with a four-digit year are year first
    (SE, JP), whatever `order` says.
    """
    split = _parts(text.split(" ")[0])
    if split is None:
        raise ValueError(f"'{text}' is not a date like 9/16/26")
    separator, (a, b, c), (full_a, _, full_c) = split
    if separator == "." or (separator == "-" and a < 1000):
        order = "DMY"
    elif a >= 1000:
        order = "YMD"
    try:
        if order == "MDY":
            day = date(_year(c, full_c), a, b)
        elif order == "DMY":
            day = date(_year(c, full_c), b, a)
        else:
            day = date(_year(a, full_a), b, c)
    except ValueError:
        readable = {"MDY": "M/D/YY", "DMY": "D/M/YY", "YMD": "YY/M/D"}[order]
        raise ValueError(f"'{text}' is not a valid {readable} date") from None
    return plausible(day, text)


def choose_date_order(dates: list[tuple[int, str]], preferred: str, marketplace: str | None) -> tuple[str, str | None]:
    """The day/month/year order to read a file's dates in, and what to tell the seller about it.

    `dates` are (line, text). Only dates that some orders read and others do not (`3/4/26`, `13/1/17`)
    have a say; dotted and ISO dates read one way whatever the order. The file decides when its dates
    rule orders out, the setting (`preferred`, of `marketplace`) when they leave it a choice. When the
    dates leave no order that reads them all (`13/1/17` and `1/13/17` in one file), some of them are
    read wrong whichever order is chosen, so the file is refused, naming the lines.

    When the setting is ruled out and two orders remain (a JP file, `26/9/16`, read with the US setting
    fits both D/M/Y and Y/M/D), the one that keeps the file's dates closest together wins: a feedback
    report spans months, while reading a day as a year spreads it over decades.
    """
    telling = []
    for line, text in dates:
        fits = _fits(text) if text else None
        if fits:
            telling.append((line, text, fits))
    if not telling:
        return preferred, None
    candidates = set(DATE_ORDERS)
    for _, _, fits in telling:
        candidates &= fits
    if not candidates:
        raise _contradiction(telling)
    setting = f"the marketplace setting ({marketplace})" if marketplace else "the marketplace setting"
    rival = RIVAL[preferred]
    if preferred in candidates and rival not in candidates:
        line, text, _ = next(date for date in telling if rival not in date[2])
        return preferred, (
            f"Feedback dates read {ORDER_WORDS[preferred]}, as {setting} says and the file's dates confirm: "
            f"line {line} ({text}) cannot be {SHORT_WORDS[rival]}, and reads as {_spelled(text, preferred)}."
        )
    if preferred in candidates:
        example = next(
            (text for _, text, _ in telling if len({_date_or_none(text, order) for order in candidates}) > 1), None
        )
        return preferred, (
            f"Feedback dates read {ORDER_WORDS[preferred]}, as {setting} says: none of the file's dates tells "
            "which order they are written in"
            + (f", so {example} reads as {_spelled(example, preferred)}" if example else "")
            + ". If that is wrong, change the marketplace in Settings and import the file again."
        )
    spans = {order: _span_days([text for _, text in dates], order) for order in candidates}
    chosen = min(sorted(candidates, key=DATE_ORDERS.index), key=spans.__getitem__)
    line, text, _ = next(date for date in telling if preferred not in date[2])
    others = [
        f"{SHORT_WORDS[order]} would fit too, but would spread them over {_duration(spans[order])}"
        if spans[order] > spans[chosen]
        else f"{SHORT_WORDS[order]} would fit too ({text} as {_spelled(text, order)})"
        for order in DATE_ORDERS
        if order in candidates and order != chosen
    ]
    return chosen, (
        f"Warning: feedback dates read {ORDER_WORDS[chosen]}, not {SHORT_WORDS[preferred]} as {setting} says: "
        f"line {line} ({text}) cannot be {SHORT_WORDS[preferred]}, and reads as {_spelled(text, chosen)}"
        + "".join(f"; {other}" for other in others)
        + ". Check the marketplace in Settings: files whose dates cannot tell are read by it."
    )


def _fits(text: str) -> frozenset[str] | None:
    """The day/month/year orders that read `text` as a valid date; None when the order makes no
    difference to it (dotted and ISO dates, a date no order reads)."""
    readings = {order: _date_or_none(text, order) for order in DATE_ORDERS}
    if len(set(readings.values())) == 1:
        return None
    return frozenset(order for order, day in readings.items() if day)


def _spelled(text: str, order: str) -> str:
    day = date.fromisoformat(read_date(text, order))
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _duration(days: int) -> str:
    return f"{days // 365} years" if days >= 730 else f"{days} days"


def _contradiction(telling: list[tuple[int, str, frozenset]]) -> ReportError:
    """The refusal of a file whose dates no single order reads: each order, with the lines ruling it out."""
    ruled_out: dict[str, list[tuple[int, str]]] = {
        order: [(line, text) for line, text, fits in telling if order not in fits] for order in DATE_ORDERS
    }
    groups: dict[tuple, list[str]] = {}
    for order in sorted(DATE_ORDERS, key=lambda order: len(ruled_out[order])):
        groups.setdefault(tuple(ruled_out[order]), []).append(SHORT_WORDS[order])
    parts = []
    for index, (lines, orders) in enumerate(groups.items()):
        shown = ", ".join(f"line {line} ({text})" for line, text in lines[:SHOWN_LINES])
        more = f" and {len(lines) - SHOWN_LINES} more" if len(lines) > SHOWN_LINES else ""
        ruled = (" is ruled out by " if len(orders) == 1 else " are ruled out by ") if index == 0 else " by "
        parts.append(f"{names_text(orders)}{ruled}{shown}{more}")
    first = min(line for lines in groups for line, _ in lines)
    return ReportError(
        f"The dates of this {LABEL} contradict each other, so no one day/month order reads them all: "
        + "; ".join(parts)
        + ". Correct those dates, or import each marketplace's feedback as a file of its own",
        line=first,
    )


def _date_or_none(text: str, order: str) -> str | None:
    try:
        return read_date(text, order)
    except ValueError:
        return None


def _span_days(texts: list[str], order: str) -> int:
    days = [date.fromisoformat(day) for day in (_date_or_none(text, order) for text in texts if text) if day]
    return (max(days) - min(days)).days if days else 0
