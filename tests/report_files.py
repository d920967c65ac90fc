"""Making real report files from the samples: re-encoded, compressed, with columns moved, added or dropped.

Tests never hard-code what a sample holds: they import the plain sample, then a transformed copy, and
compare. The helpers here read a sample into a header and rows, write them back in another shape, and
take a snapshot of the database to compare before and after an import.
"""

from __future__ import annotations

import csv
import gzip
import io
import sqlite3
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.demo_state import DATA_TABLES
from app.imports import import_files


class Flat:
    """A flat report as a header and rows of cells (tab- or comma-separated), editable by column name."""

    def __init__(self, header: list[str], rows: list[list[str]], delimiter: str = "\t"):
        self.header, self.rows, self.delimiter = header, rows, delimiter

    @classmethod
    def read(cls, path: Path) -> Flat:
        text = path.read_bytes().decode("utf-8-sig")
        delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
        if delimiter == ",":
            header, *rows = list(csv.reader(io.StringIO(text)))
        else:
            header, *rows = [line.split("\t") for line in text.splitlines()]
        return cls(header, [row for row in rows if any(row)], delimiter)

    def copy(self) -> Flat:
        return Flat(list(self.header), [list(row) for row in self.rows], self.delimiter)

    def at(self, name: str) -> int:
        return self.header.index(name)

    def values(self, name: str) -> list[str]:
        return [row[self.at(name)] for row in self.rows]

    def set(self, row: int, name: str, value: str) -> Flat:
        self.rows[row][self.at(name)] = value
        return self

    def select(self, names: Sequence[str]) -> Flat:
        """Only these columns, in this order."""
        positions = [self.at(name) for name in names]
        return Flat(list(names), [[row[p] for p in positions] for row in self.rows], self.delimiter)

    def drop(self, *names: str) -> Flat:
        return self.select([name for name in self.header if name not in names])

    def add_column(self, name: str, value: str, position: int | None = None) -> Flat:
        position = len(self.header) if position is None else position
        self.header.insert(position, name)
        for row in self.rows:
            row.insert(position, value)
        return self

    def rename(self, old: str, new: str) -> Flat:
        self.header[self.at(old)] = new
        return self

    def only_rows(self, indexes: Iterable[int]) -> Flat:
        return Flat(list(self.header), [list(self.rows[i]) for i in indexes], self.delimiter)

    def text(self, newline: str = "\n") -> str:
        if self.delimiter == ",":
            out = io.StringIO()
            csv.writer(out, lineterminator=newline).writerows([self.header, *self.rows])
            return out.getvalue()
        return "".join(self.delimiter.join(row) + newline for row in [self.header, *self.rows])

    def write(self, path: Path, *, encoding: str = "utf-8", bom: bool = False, newline: str = "\n") -> Path:
        data = self.text(newline).encode(encoding)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path


def gzipped(source: Path, target: Path) -> Path:
    target.write_bytes(gzip.compress(source.read_bytes()))
    return target


def zipped(target: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in members.items():
            archive.write(source, name)
    return target


def _select(table: str) -> str:
    # a snapshot's import instant is not part of what the report said
    columns = "sha256, report_json" if table == "account_health_snapshots" else "*"
    return f"SELECT {columns} FROM [{table}]"


def _state(conn) -> dict[str, list[tuple]]:
    return {table: sorted(conn.execute(_select(table)).fetchall(), key=repr) for table in (*DATA_TABLES, "settings")}


def table_state(db) -> dict[str, list[tuple]]:
    """Every row of every data table (and the settings), sorted: equal states mean nothing changed."""
    return _state(db.conn)


def import_one(db, path: Path):
    """Import one file holding one report; its result."""
    (result,) = import_files(db, [path])
    return result


def counts(db) -> dict[str, int]:
    return {table: db[table].count for table in DATA_TABLES}


def rows_by(db, table: str, key: str) -> dict[str, dict]:
    """A table's rows as dicts, by one key column."""
    return {row[key]: row for row in db[table].rows}


def import_log(db) -> list[dict]:
    return list(db.query("SELECT * FROM import_log ORDER BY id"))


def state_of_file(path: Path) -> dict[str, list[tuple]]:
    """The committed contents of a database file, read through a fresh connection."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return _state(conn)
    finally:
        conn.close()


# The All Orders report's columns as real downloads have them (formats.md).
ALL_ORDERS_HEADER = [
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
]

ORDER_COLUMNS = [
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "item-promotion-discount",
    "ship-state",
    "ship-country",
    "is-business-order",
]


def made_up_orders(rows: int, first: int = 0) -> Flat:
    """An All Orders report of `rows` order items, each its own order, made up here (not from the samples);
    `first`: the number of the first (the orders of a report of `first` rows come before it)."""
    lines = []
    for index in range(first, first + rows):
        day, hour = divmod(index, 24)
        purchased = f"2026-09-{1 + day % 28:02d}T{hour:02d}:15:00+00:00"
        updated = f"2026-09-{1 + day % 28:02d}T{hour:02d}:45:00+00:00"
        channel = "Amazon" if index % 2 else "Merchant"
        lines.append(
            [
                made_up_order_id(index),
                "",
                purchased,
                updated,
                "Shipped",
                channel,
                "Amazon.com",
                "Standard",
                f"Mug {index}",
                f"MUG-{index % 5}",
                f"B0MUG{index % 5:05d}",
                "Shipped",
                "1",
                "USD",
                "12.99",
                "1.04",
                "",
                "-1.00" if index % 3 == 0 else "",
                "TX",
                "US",
                "false",
            ]
        )
    return Flat(list(ORDER_COLUMNS), lines)


def made_up_order_id(index: int) -> str:
    return f"{111 + index % 4}-{index:07d}-{(index * 7919) % 10**7:07d}"


def made_up_orders_held(db) -> int:
    """How many of `made_up_orders`' orders, counted from the first, the database (an sqlite3 or sqlite-utils
    connection) holds: a benchmark reusing a database starts its own past them."""
    held = 0
    while db.execute("SELECT 1 FROM orders WHERE order_id = ?", [made_up_order_id(held)]).fetchone() is not None:
        held += 1
    return held
