"""What every importer shares: the rejection record, options, and the loop over a flat file's rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from app.importers.flat import Header, cell, field_count_problem, is_blank, reader
from app.importers.values import money, quantity


class Rejection(NamedTuple):
    """A row that could not be read: its line in the file and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class ImportOptions:
    """What an importer needs to know beyond the file.

    Attributes:
        date_order: how to read slash dates in the feedback report when the file itself cannot tell
            (`MDY` for US, `DMY` for the UK and most of Europe, `YMD` for Japan).
    """

    date_order: str = "MDY"


Payload = tuple  # one record tuple (or None) per RecordSpec of the report kind
Parsed = Iterator[tuple[int, Payload | Rejection]]


def flat_rows(lines: Iterable[str], header: Header, read_row: Callable[[list[str]], Payload]) -> Parsed:
    """Each body row of a flat file through `read_row`, with line numbers; unreadable rows rejected.

    `lines` starts after the header line, so the first row is line 2 of the file. `read_row` raises
    ValueError with the reason a row cannot be used; blank rows are skipped, not rejected.
    """
    rows = reader(lines, header)
    expected = len(header.names)
    for row in rows:
        line = rows.line_num + 1
        if len(row) != expected:
            if is_blank(row):
                continue
            problem = field_count_problem(row, expected)
            if problem:
                yield line, Rejection(line, problem)
                continue
        try:
            payload = read_row(row)
        except ValueError as error:
            if not is_blank(row):
                yield line, Rejection(line, str(error))
            continue
        yield line, payload


def amount_at(row: list[str], position: int | None) -> float | None:
    """An optional money cell."""
    text = cell(row, position)
    return money(text) if text else None


def quantity_at(row: list[str], position: int | None) -> int | None:
    """An optional quantity cell."""
    text = cell(row, position)
    return quantity(text) if text else None
