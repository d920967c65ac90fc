"""FBM returns report (`GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`): the seller's own return requests.

Keyed by Amazon's RMA ID; a request without one (rare, before authorisation) is keyed by its order,
request date and item so a later report with the RMA does not lose it.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.importers.common import ImportOptions, Parsed, amount_at, flat_rows, quantity_at
from app.importers.flat import Header, cell
from app.importers.values import amazon_order_id, day_month_name_year
from app.records import NOT_DELIVERED

LABEL = "FBM returns report"
SIGNATURE = ("order-id", "return-request-date", "return-request-status")


def recognises(header: Header) -> bool:
    return header.has(*SIGNATURE)


def parse(lines: Iterable[str], header: Header, options: ImportOptions) -> Parsed:
    p_order, p_request, p_status = header.require(LABEL, *SIGNATURE)
    p = {
        name: header.position(name)
        for name in (
            "amazon-rma-id",
            "order-date",
            "return-reason",
            "in-policy",
            "return-type",
            "resolution",
            "a-to-z-claim",
            "asin",
            "merchant-sku",
            "item-name",
            "return-quantity",
            "order-amount",
            "refunded-amount",
            "currency-code",
            "return-delivery-date",
            "safet-action-reason",
            "safet-claim-id",
            "safet-claim-state",
            "safet-claim-creation-time",
            "safet-claim-reimbursement-amount",
        )
    }

    def read_row(row: list[str]) -> tuple:
        order_id = row[p_order].strip()
        if not order_id:
            raise ValueError("missing Order ID")
        amazon_order_id(order_id)
        request_text = row[p_request].strip()
        if not request_text:
            raise ValueError(f"order {order_id}: missing Return request date")
        request_date = day_month_name_year(request_text)
        status = row[p_status].strip()
        if not status:
            raise ValueError(f"order {order_id}: missing Return request status")
        order_text = cell(row, p["order-date"])
        asin = cell(row, p["asin"])
        return_id = cell(row, p["amazon-rma-id"]) or f"{order_id}/{request_date}/{asin or ''}"
        return (
            (
                return_id,
                order_id,
                day_month_name_year(order_text) if order_text else None,
                request_date,
                status,
                cell(row, p["return-reason"]),
                cell(row, p["in-policy"]),
                cell(row, p["return-type"]),
                cell(row, p["resolution"]),
                cell(row, p["a-to-z-claim"]),
                asin,
                cell(row, p["merchant-sku"]),
                cell(row, p["item-name"]),
                quantity_at(row, p["return-quantity"]),
                amount_at(row, p["order-amount"]),
                amount_at(row, p["refunded-amount"]),
                cell(row, p["currency-code"]),
                _delivery_at(row, p["return-delivery-date"]),
                cell(row, p["safet-action-reason"]),
                cell(row, p["safet-claim-id"]),
                cell(row, p["safet-claim-state"]),
                _day_at(row, p["safet-claim-creation-time"]),
                amount_at(row, p["safet-claim-reimbursement-amount"]),
            ),
        )

    return flat_rows(lines, header, read_row)


def _delivery_at(row: list[str], position: int | None) -> str | None:
    """The return's delivery back to the seller; '' (`money.NOT_DELIVERED`) when the report has the column
    and leaves it empty, which is the report saying the item has not come back; None without the column
    (nothing said: the monitor then never takes the item as lost)."""
    if position is None:
        return None
    return _day_at(row, position) or NOT_DELIVERED


def _day_at(row: list[str], position: int | None) -> str | None:
    """An optional day: `10-Jul-2026`, an ISO date, or either followed by a time (`10-Jul-2026 14:05:21 PDT`).

    The SAFE-T creation time is written as a date or a date-time depending on the export; the monitor
    needs only its day, so the time is read past rather than parsed.
    """
    text = cell(row, position)
    if not text:
        return None
    day = text.split("T")[0] if len(text) > 10 and text[4:5] == "-" and text[10:11] == "T" else text.split()[0]
    return day_month_name_year(day)
