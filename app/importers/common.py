"""What every importer shares: the rejection and note records, options, and the loop over a flat file's rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from app.importers.flat import Header, cell, field_count_problem, is_blank, reader
from app.importers.values import money, quantity


class Rejection(NamedTuple):
    """A row that could not be read: its line in the file and why."""

    line: int
    reason: str


class Note(NamedTuple):
    """What the seller should know about how a whole file was read (shown with its import result)."""

    text: str


@dataclass(frozen=True)
class ImportOptions:
    """What an importer needs to know beyond the file.

    Attributes:
        date_order: how to read slash dates in the feedback report when the file itself cannot tell
            (`MDY` for US, `DMY` for the UK and most of Europe, `YMD` for Japan) for rows whose order is
            unknown; a row of a known order is read as its order's marketplace writes dates.
        marketplace: the marketplace setting `date_order` comes from, to name it to the seller.
        file_marketplace: the marketplace chosen for the file (`import --marketplace`, else the home one):
            an order whose sales channel names no marketplace, and a row whose order is unknown, take it.
    """

    date_order: str = "MDY"
    marketplace: str | None = None
    file_marketplace: str = "US"
    # The marketplace of each already imported order among the ids given (feedback dates are written the
    # way the order's marketplace writes them); None: no order is known.
    order_marketplaces: Callable[[list[str]], dict[str, str]] | None = None


Payload = tuple  # one record tuple (or None) per RecordSpec of the report kind
Parsed = Iterator[tuple[int, Payload | Rejection | Note]]


def flat_rows(
    lines: Iterable[str],
    header: Header,
    read_row: Callable[[list[str]], Payload],
    needed: Sequence[int] | None = None,
) -> Parsed:
    """Each body row of a flat file through `read_row`, with line numbers; unreadable rows rejected.

    `lines` starts after the header line, so the first row is line 2 of the file. `read_row` raises
    ValueError with the reason a row cannot be used; blank rows are skipped, not rejected.

    `needed`: the positions of the columns every row must reach. A row shorter than the header that
    still reaches them is read with its missing cells empty: a spreadsheet saves a row without its
    trailing empty cells. Without `needed`, a short row is rejected.
    """
    rows = reader(lines, header)
    expected = len(header.names)
    reach = max(needed) + 1 if needed else None
    for row in rows:
        line = rows.line_num + 1
        if len(row) != expected:
            if is_blank(row):
                continue
            if reach is not None and reach <= len(row) < expected:
                row += [""] * (expected - len(row))
            else:
                problem = field_count_problem(row, expected)
                if problem and reach is not None and len(row) < expected:
                    missing = [header.names[p] for p in sorted(needed) if p >= len(row)]
                    problem += f": the row ends before {names_text(missing)}, which every row needs"
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


def names_text(names: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


class Memo(dict):
    """A reader's value for each text seen, read once (`memo[text]`): for the cells that repeat from row to
    row of a large report (amounts, quantities, statuses), which a million-row report holds a few thousand
    of. A text the reader refuses raises its ValueError every time and is never kept, so a rejected row
    gets the reader's own reason."""

    # Memory stays bounded whatever the file holds: a long text (never a real amount or status) is read
    # each time without being kept, and a full memo starts again empty.
    LIMIT = 1 << 15
    LONGEST = 64

    def __init__(self, read: Callable[[str], object]):
        super().__init__()
        self.read = read

    def __missing__(self, text: str):
        value = self.read(text)
        if len(text) <= self.LONGEST:
            if len(self) >= self.LIMIT:
                self.clear()
            self[text] = value
        return value


def amount_at(row: list[str], position: int | None) -> float | None:
    """An optional money cell."""
    text = cell(row, position)
    return money(text) if text else None


def quantity_at(row: list[str], position: int | None) -> int | None:
    """An optional quantity cell."""
    text = cell(row, position)
    return quantity(text) if text else None
