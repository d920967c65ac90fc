"""Seller Feedback report (`GET_SELLER_FEEDBACK_DATA`, or Feedback Manager's download of all ratings).

The `Date` column's format depends on the marketplace: US `M/D/YY`; UK, FR, ES, IT, CA, AU, IN `D/M/YY`;
DE `D.M.YY`; JP `YY/M/D`; SE `YYYY-MM-DD`. The file is read whole (feedback files are small) so the
format can be decided from every date in it: an order that no date of the file contradicts is chosen,
and where several fit, the seller's marketplace setting decides. The rater's e-mail is not kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.importers.common import ImportOptions, Parsed, Rejection
from app.importers.flat import Header, cell, field_count_problem, is_blank, reader
from app.importers.values import amazon_order_id, plausible, whole

LABEL = "Seller Feedback report"
SIGNATURE = ("date", "rating", "order-id")
DATE_ORDERS = ("MDY", "DMY", "YMD")
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
    order = choose_date_order([row[p_date].strip() for _, row in kept], options.date_order)
    for line, row in kept:
        try:
            yield line, (_read(row, order, p_date, p_rating, p_order, p_comments, p_response),)
        except ValueError as error:
            yield line, Rejection(line, str(error))


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


def choose_date_order(texts: list[str], preferred: str) -> str:
    """The day/month/year order that reads the most dates of the file; the preferred one on a tie.

    When the preferred order reads fewer dates than others that tie (a JP file, `26/9/16`, read with
    the US setting fits both D/M/YY and YY/M/D), the one that keeps the file's dates closest together
    wins: a feedback report spans months, while reading a day as a year spreads it over decades.
    """
    readable = {order: sum(1 for text in texts if text and _date_or_none(text, order)) for order in DATE_ORDERS}
    best = max(readable.values(), default=0)
    if readable.get(preferred, 0) == best:
        return preferred
    tied = [order for order in DATE_ORDERS if readable[order] == best]
    return min(tied, key=lambda order: _span_days(texts, order))


def _date_or_none(text: str, order: str) -> str | None:
    try:
        return read_date(text, order)
    except ValueError:
        return None


def _span_days(texts: list[str], order: str) -> int:
    days = [date.fromisoformat(day) for day in (_date_or_none(text, order) for text in texts if text) if day]
    return (max(days) - min(days)).days if days else 0
