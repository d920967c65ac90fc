"""The most one file may cost to read, and the values no real report can hold.

Every limit is far above what a real seller's file reaches and far below what would keep the importer
busy for minutes or use gigabytes of memory; a file past one is refused (or a row rejected), naming the
limit. Each says why it is where it is.
"""

from __future__ import annotations

KB = 1024
MB = 1024 * KB
GB = 1024 * MB

# A row of the All Orders report is a few hundred bytes; a 1,000,000-row report is about 300 MB.
MAX_REPORT_BYTES = 4 * GB
# Amazon's longest rows are a few KB; an e-mail's lines are at most 998 characters (RFC 5322).
MAX_LINE_BYTES = 1 * MB
# Excel pads an export with empty rows up to its last formatted row, at most its 1,048,576 rows.
MAX_BLANK_LINES = 1_048_576
# A zip of a year's monthly reports of every kind, with the folders and macOS extras, stays far below;
# each member is opened separately, so the count multiplies what the archive costs to read.
MAX_ZIP_MEMBERS = 500
# Amazon's account health report is a few KB per marketplace, and Amazon has about twenty marketplaces.
MAX_JSON_BYTES = 4 * MB
MAX_JSON_DEPTH = 64
MAX_MARKETPLACES = 50
# Mail servers refuse messages over 25 to 50 MB, and buyer messages carry attachments of at most 10 MB.
MAX_EMAIL_BYTES = 64 * MB
# The headers read of an e-mail (Subject, Date, Message-ID, ...) are a line or two; the mail parser takes
# time that grows faster than their length.
MAX_HEADER_CHARS = 16 * KB

# Amazon sold its first book in 1995; a year past 2100 is a typing error or a placeholder like 9999-12-31.
FIRST_YEAR = 1995
LAST_YEAR = 2100
# Amazon lists one order item with a quantity in the hundreds at most, Amazon Business in the thousands.
MAX_QUANTITY = 1_000_000


def size_text(size: int) -> str:
    """`4 GB`, `1 MB`, `16 KB`: a limit as the seller reads it."""
    for unit, name in ((GB, "GB"), (MB, "MB"), (KB, "KB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {name}" if value == int(value) else f"{value:.1f} {name}"
    return f"{size} bytes"
