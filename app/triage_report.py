"""Exports of the triage list (pure): a CSV a spreadsheet can open safely, and a one-page printable HTML
report with the window's ODR chart drawn as inline SVG (no Qt, no browser, nothing fetched).

CSV cells are defended against formula injection as OWASP recommends: a text cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading single quote, so a buyer's comment like
`=HYPERLINK(...)` is shown as text instead of run; every text cell is quoted. Numbers are written as
numbers (a negative number is a number, not a formula).
"""

from __future__ import annotations

import csv
import html
import io
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.reasons import code_note
from app.summary import percent
from app.timeutil import to_iso
from app.triage import CATEGORIES, KIND_NAMES, TriageItem, TriageList

CHART_MIN_DAYS = 7
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ODR_LIMIT = 0.01
TICKS = 4

CSV_COLUMNS = (
    ("status", lambda item, at: item.status),
    ("date", lambda item, at: item.day.isoformat()),
    ("kind", lambda item, at: item.kind),
    ("order_id", lambda item, at: item.order_id or ""),
    ("channel", lambda item, at: item.channel or ""),
    ("marketplace", lambda item, at: item.marketplace or ""),
    ("category", lambda item, at: CATEGORIES[item.category]),
    ("what_happened", lambda item, at: item.what),
    # The words above name the reason; Amazon's own code stays beside them for a search in Seller Central.
    ("reason_code", lambda item, at: item.reason_code or ""),
    ("odr_effect", lambda item, at: item.odr_effect),
    ("clock", lambda item, at: (item.clock_json(at) or {}).get("label", "")),
    # One deadline per item: the clock's, else the matrix's response time (deadline_source says which).
    ("due_at", lambda item, at: to_iso(item.due_at)),
    ("remaining_s", lambda item, at: remaining_whole_s(item.due_at, at)),
    ("deadline_source", lambda item, at: item.deadline_source),
    ("deadline_passed", lambda item, at: _yes_no(item.passed(at))),
    ("suggested_action", lambda item, at: item.suggestion.action),
    ("who", lambda item, at: item.suggestion.who),
    ("response_hours", lambda item, at: item.suggestion.response_hours),
    ("preapproved_amount", lambda item, at: "" if item.suggestion.amount is None else item.suggestion.amount),
    ("currency", lambda item, at: item.suggestion.currency or ""),
    ("removal_ground", lambda item, at: (item.removal or {}).get("ground") or ""),
    ("removal_eligible", lambda item, at: _yes_no(item.removal["eligible"]) if item.removal else ""),
    ("removal_window_closes", lambda item, at: (item.removal or {}).get("window_closes", "")),
    ("resolution_action", lambda item, at: item.resolution.action if item.resolution else ""),
    ("resolution_note", lambda item, at: item.resolution.note if item.resolution else ""),
    ("resolved_at", lambda item, at: to_iso(item.resolution.resolved_at) if item.resolution else ""),
    ("clock_note", lambda item, at: item.clock_note or ""),
    ("carried_since", lambda item, at: to_iso(item.carried_since) if item.carried_since is not None else ""),
    ("key", lambda item, at: item.key),
)


def remaining_whole_s(due_at: float, at: float) -> int:
    """Whole seconds left, rounded down: a sheet never shows more time than there is, and a deadline
    passed by a fraction of a second already reads as -1 (overdue), not 0."""
    return math.floor(due_at - at)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def safe_cell(value):
    """A cell value a spreadsheet will not run as a formula (numbers pass unchanged)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def triage_csv(listing: TriageList) -> str:
    """The list as CSV (header row, one row per item), every text cell quoted and defused."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for item in listing.items:
        writer.writerow([safe_cell(value(item, listing.at)) for _, value in CSV_COLUMNS])
    return out.getvalue()


# --- ODR chart --------------------------------------------------------------------------------------------------


def odr_chart_svg(series: list[dict], width: int = 720, height: int = 220) -> str:
    """A line chart of the lagging and live ODR per day, with the 1 % limit, as an inline SVG element."""
    left, right, top, bottom = 48, 12, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [row.get(key) for row in series for key in ("odr", "live_odr") if row.get(key) is not None]
    step = _tick_step(max([ODR_LIMIT * 1.2, *values]))
    ceiling = step * TICKS
    count = max(len(series) - 1, 1)

    def x(index: int) -> float:
        return left + plot_w * index / count

    def y(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="odr-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Order Defect Rate per day">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ccc"/>',
    ]
    for tick in range(TICKS + 1):
        value = step * tick
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="10">{value * 100:g} %</text>'
        )
    # The limit line is named in the legend, below the plot: a label on the line would sit where the ODR
    # is worth reading, right at the limit.
    parts.append(
        f'<line class="limit" x1="{left}" x2="{left + plot_w}" y1="{y(ODR_LIMIT):.1f}" y2="{y(ODR_LIMIT):.1f}" '
        'stroke="#c0392b" stroke-dasharray="5 4"/>'
    )
    for key, colour in (("odr", "#1f5fa8"), ("live_odr", "#e69b00")):
        for segment in _segments([row.get(key) for row in series]):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(f'<polyline class="{key}" fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
            if len(segment) == 1:
                i, v = segment[0]
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>')
    for index, row in enumerate(series):
        if index in (0, len(series) - 1) or len(series) <= 14 or index % 7 == 0:
            label = datetime.fromisoformat(row["day"]).strftime("%d %b")
            anchor = "start" if index == 0 else "end" if index == len(series) - 1 else "middle"
            parts.append(
                f'<text x="{x(index):.1f}" y="{top + plot_h + 14}" text-anchor="{anchor}" font-size="10">{label}</text>'
            )
    legend_y = height - 6
    parts.append(
        f'<rect x="{left}" y="{legend_y - 8}" width="12" height="3" fill="#1f5fa8"/>'
        f'<text x="{left + 16}" y="{legend_y}" font-size="10">ODR (Amazon\'s lagging window)</text>'
        f'<rect x="{left + 200}" y="{legend_y - 8}" width="12" height="3" fill="#e69b00"/>'
        f'<text x="{left + 216}" y="{legend_y}" font-size="10">Live ODR</text>'
        f'<line x1="{left + 290}" x2="{left + 309}" y1="{legend_y - 6.5}" y2="{legend_y - 6.5}" stroke="#c0392b" '
        'stroke-width="1.5" stroke-dasharray="5 2"/>'
        f'<text class="limit-label" x="{left + 316}" y="{legend_y}" font-size="10" fill="#c0392b">1 % limit</text>'
    )
    if not values:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" font-size="12">'
            "No orders in the window: no figure</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _tick_step(highest: float) -> float:
    """The smallest round step (0.1 %, 0.2 %, 0.25 %, 0.5 %, 1 %, 2 % ...) whose TICKS steps reach `highest`."""
    for step in (0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25):
        if step * TICKS >= highest:
            return step
    return 0.25


def _segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive days with a figure (a day without one breaks the line)."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((index, value))
    if current:
        runs.append(current)
    return runs


# --- Printable report -------------------------------------------------------------------------------------------

_STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 10px; color: #222; }
h1 { font-size: 16px; margin: 0 0 2px; }
.sub { color: #555; margin-bottom: 8px; }
.counts span { margin-right: 14px; }
table { border-collapse: collapse; width: 100%; margin-top: 8px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 4px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr.resolved td { color: #777; }
td.order, td.date { white-space: nowrap; }
.code { color: #777; white-space: nowrap; }
.overdue { color: #c0392b; font-weight: 600; }
.removable { color: #1e7d32; font-weight: 600; }
@media print { .odr-chart { max-width: 100%; } tr { page-break-inside: avoid; } }
"""


def triage_html(listing: TriageList, series: list[dict]) -> str:
    """The printable report: header, counts, the ODR chart of the window's days and the items table."""
    e = html.escape
    counts = listing.counts
    window = f"{listing.window_start:%d %b %Y} – {listing.window_end:%d %b %Y}"
    rows = "\n".join(_row(item, listing.at, ZoneInfo(listing.timezone)) for item in listing.items) or (
        '<tr><td colspan="9">Nothing new and nothing still open: no defect or contact needs triage.</td></tr>'
    )
    last = _latest(series)
    figure = ""
    if last is not None:
        figure = f" · ODR {percent(last.get('odr'))} · live ODR {percent(last.get('live_odr'))} on {e(last['day'])}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Weekly triage {e(window)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>Weekly triage · {e(window)}</h1>
<div class="sub">Session {listing.session_number} · as of {e(listing.as_of.isoformat())}
({e(listing.timezone)}){figure}</div>
<div class="counts"><span>{counts["total"]} items</span><span>{counts["open"]} open</span>
<span>{counts["resolved"]} resolved</span><span>{counts["overdue"]} past their deadline</span>
<span>{counts["carried"]} carried over</span>
<span>{counts["removable"]} feedback removable</span></div>
{odr_chart_svg(series)}
<table class="items">
<thead><tr><th>Status</th><th>Date</th><th>What happened</th><th>Order</th><th>Category</th><th>Deadline</th>
<th>ODR effect</th><th>Suggested action</th><th>Removal</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def _latest(series: list[dict]) -> dict | None:
    return series[-1] if series else None


def _row(item: TriageItem, at: float, zone: ZoneInfo) -> str:
    e = html.escape
    s = item.suggestion
    clock = ""
    if not item.resolved and item.waiting:
        clock = f"<span>{e(item.waiting)}</span>"
    elif not item.resolved:
        remaining = item.due_at - at
        css = ' class="overdue"' if remaining < 0 else ""
        label = item.clock.label if item.clock is not None else f"Respond ({s.response_hours:g} h)"
        clock = f"<span{css}>{e(label)}: {e(_remaining(remaining))}</span>"
    amount = ""
    if s.amount is not None:
        amount = f"; pre-approved up to {s.amount:.2f}{' ' + e(s.currency) if s.currency else ''}"
    removal = ""
    if item.removal:
        ground = item.removal["ground"]
        if ground:
            css = ' class="removable"' if item.removal["eligible"] else ""
            # `window_closes` is the first day removal can no longer be asked: print the last day it can.
            last_day = date.fromisoformat(item.removal["window_closes"]) - timedelta(days=1)
            removal = f"<span{css}>{e(ground)}</span>, last day {last_day.isoformat()}"
        else:
            removal = "no ground"
    status = "Resolved" if item.resolved else "Open"
    if item.resolution:
        status += f": {e(item.resolution.action)}"
    if item.clock_note:
        status += f" <i>{e(item.clock_note)}</i>"
    if item.carried_since is not None:
        status += f" (carried over since {datetime.fromtimestamp(item.carried_since, zone):%d %b})"
    order = e(item.order_id or "—") + (f" ({e(item.channel)})" if item.channel else "")
    code = code_note(item.reason_code)
    what = e(item.what) + (f' <span class="code">(code {e(code)})</span>' if code else "")
    return (
        f'<tr class="{item.status}"><td>{status}</td><td class="date">{e(item.day.isoformat())}</td>'
        f'<td title="{e(KIND_NAMES[item.kind])}">{what}</td><td class="order">{order}</td>'
        f"<td>{e(CATEGORIES[item.category])}</td><td>{clock}</td><td>{e(item.odr_effect)}</td>"
        f"<td>{e(s.action)} <i>({e(s.who)}{amount})</i></td><td>{removal}</td></tr>"
    )


def _remaining(seconds: float) -> str:
    span = abs(int(seconds))
    days, rest = divmod(span, 86400)
    hours = rest // 3600
    text = f"{days} d {hours} h" if days else f"{hours} h {rest % 3600 // 60} min"
    return f"{text} left" if seconds >= 0 else f"overdue {text}"
