"""Flat files (tab- or comma-separated with one header row): columns matched by name, rows checked.

Amazon adds, drops and reorders columns by marketplace and over time, so a column is found by its
normalised name (`Order ID`, `order_id` and `order-id` are the same column), never by its position.
Tab-separated reports are read without quote handling: Amazon writes product names such as
`Phone Case "Slim"` unquoted, and treating `"` as a quote would swallow the following lines.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.importers.source import ReportError

csv.field_size_limit(16 * 1024 * 1024)


def normalise(name: str) -> str:
    """`Order ID`, `order_id`, ` order-id ` → `order-id`."""
    return "-".join(name.strip().lstrip("\ufeff").lower().replace("_", " ").replace("-", " ").split())


@dataclass
class Header:
    names: list[str]
    delimiter: str

    def __post_init__(self) -> None:
        self.index = {}
        for position, name in enumerate(self.names):
            self.index.setdefault(name, position)

    def has(self, *names: str) -> bool:
        return all(name in self.index for name in names)

    def position(self, *aliases: str) -> int | None:
        """Where the first present alias of a column is, or None."""
        for alias in aliases:
            if alias in self.index:
                return self.index[alias]
        return None

    def require(self, kind_label: str, *names: str) -> list[int]:
        missing = [name for name in names if name not in self.index]
        if missing:
            raise ReportError(
                f"this looks like a {kind_label} but its header lacks the column(s) {', '.join(missing)}", line=1
            )
        return [self.index[name] for name in names]


def parse_header_line(line: str) -> Header:
    """The header of a flat file, from its first line."""
    text = line.lstrip("\ufeff").rstrip("\r\n")
    # Excel in most of Europe saves "CSV" with semicolons (the comma is the decimal separator there).
    delimiter = "\t" if "\t" in text else ";" if ";" in text and "," not in text else ","
    names = text.split("\t") if delimiter == "\t" else next(csv.reader([text], delimiter=delimiter))
    return Header([normalise(name) for name in names], delimiter)


def reader(lines: Iterable[str], header: Header) -> Iterator[list[str]]:
    """A csv reader for the file's body (after its header line) with the right quoting."""
    if header.delimiter == "\t":
        return csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    return csv.reader(lines, delimiter=header.delimiter)


def field_count_problem(row: list[str], expected: int) -> str | None:
    """Why a row's field count is wrong, or None when it is acceptable.

    Extra trailing empty fields are tolerated (some exports pad rows with a trailing tab).
    """
    found = len(row)
    if found == expected or (found > expected and not any(cell.strip() for cell in row[expected:])):
        return None
    return f"expected {expected} fields as in the header, found {found}"


def is_blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def cell(row: list[str], position: int | None) -> str | None:
    """A cell's text, stripped; None when the column is absent, the cell empty or a lone space."""
    if position is None:
        return None
    value = row[position].strip()
    return value or None
