"""The dashboard's charts (pyqtgraph): daily ODR against its 1 % line, and LRR, NFR and RDR against theirs.

Each plot is built once and refreshed with `setData` (re-plotting leaks, pyqtgraph #2348). The x axis
holds calendar days of the seller's time zone: each day is placed at its midnight as if it were UTC and
the axis is told the offset is 0, so the labels are the local dates whatever the daylight-saving rules.
Rates are plotted in percent.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics

from ui.theme import ALL_COLOUR, FBA_COLOUR, FBM_COLOUR, LIMIT_COLOUR

LEGEND_GAP = "&nbsp;" * 3
TITLE_MARGIN = 40  # the plot's own margins around its title

DAY_S = 86400
pg.setConfigOptions(antialias=True, background="w", foreground="#333333")


def day_x(day: date) -> float:
    """A local calendar day's position on the axis (its midnight, read as UTC)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def x_day(x: float) -> date:
    return datetime.fromtimestamp(round(x / DAY_S) * DAY_S, tz=UTC).date()


def percent_values(values: Sequence[float | None]) -> list[float]:
    """Rates as percent; a day without a denominator is NaN (a gap in the line, never a made-up 0)."""
    return [math.nan if value is None else value * 100 for value in values]


def legend_html(series: Sequence[tuple[str, str, str]]) -> str:
    """The series' names in their colours, after the title: a legend inside the plot covered the latest days,
    the ones that matter most."""
    if len(series) < 2:
        return ""
    names = (f'<span style="color: {colour};">&#9644;&nbsp;{html.escape(name)}</span>' for _, name, colour in series)
    return LEGEND_GAP + "&nbsp;&nbsp;".join(names)


class RateChart(pg.PlotWidget):
    """One or more daily rate series with a labelled, fixed threshold line and a hover read-out."""

    def __init__(self, title: str, limit_percent: float, limit_label: str, series: Sequence[tuple[str, str, str]]):
        """`series`: (key in the daily points, legend name, colour)."""
        super().__init__(axisItems={"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)})
        self._title, self._scope, self._legend = title, "", legend_html(series)
        self._legend_names = "    ".join(f"\u25ac {name}" for _, name, _ in series) if self._legend else ""
        self.wrapped = False
        self.setTitle(title + self._legend, size="10pt")
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(y=True, alpha=0.15)
        self.getAxis("left").setLabel("%")
        self.keys = [key for key, _, _ in series]
        self.curves = {
            key: self.plot([], [], name=name, pen=pg.mkPen(colour, width=2.4 if key == self.keys[0] else 1.4))
            for key, name, colour in series
        }
        self.limit = pg.InfiniteLine(
            pos=limit_percent,
            angle=0,
            movable=False,
            pen=pg.mkPen(LIMIT_COLOUR, width=1.5, style=Qt.PenStyle.DashLine),
            label=limit_label,
            labelOpts={"position": 0.08, "color": LIMIT_COLOUR, "anchors": [(0, 1), (0, 1)]},
        )
        self.addItem(self.limit)
        self.readout = pg.TextItem("", color="#111111", fill=pg.mkBrush(255, 255, 255, 230), anchor=(0, 1))
        self.readout.setZValue(50)
        self.readout.hide()
        self.addItem(self.readout, ignoreBounds=True)
        self.marker = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(ALL_COLOUR), pen=None)
        self.addItem(self.marker, ignoreBounds=True)
        self.days: list[date] = []
        self.values: dict[str, list[float]] = {}
        self.scene().sigMouseMoved.connect(self._hover)

    def resizeEvent(self, event) -> None:
        """What follows the title (the scope, the legend) goes under it when all do not fit on one line."""
        super().resizeEvent(event)
        if hasattr(self, "_scope"):  # Qt resizes the plot while it is being built
            self._place_title()

    def set_scope(self, scope: str) -> None:
        """Say what the lines are drawn over ("all marketplaces together") after the title; "" for none."""
        if scope != self._scope:
            self._scope = scope
            self._place_title(force=True)

    def _place_title(self, force: bool = False) -> None:
        font = QFont(self.font())
        font.setPointSizeF(10)
        scope = f" — {self._scope}" if self._scope else ""
        one_line = f"{self._title}{scope}      {self._legend_names}"
        below = (
            bool(scope or self._legend) and QFontMetrics(font).horizontalAdvance(one_line) + TITLE_MARGIN > self.width()
        )
        if below == self.wrapped and not force:
            return
        self.wrapped = below
        if below:
            rest = LEGEND_GAP.join(filter(None, (html.escape(self._scope), self._legend.removeprefix(LEGEND_GAP))))
            self.setTitle(f"{self._title}<br>{rest}", size="10pt")
        else:
            self.setTitle(f"{self._title}{html.escape(scope)}{self._legend}", size="10pt")

    def set_points(self, points: Sequence[dict], days: Sequence[date] | None = None) -> None:
        """`days`: the points' days, when the caller read them already (the charts draw the same days)."""
        self.days = list(days) if days is not None else [date.fromisoformat(point["day"]) for point in points]
        xs = [day_x(day) for day in self.days]
        self.values = {key: percent_values([point.get(key) for point in points]) for key in self.keys}
        for key, curve in self.curves.items():
            curve.setData(xs, self.values[key], connect="finite")
        finite = [v for values in self.values.values() for v in values if not math.isnan(v)]
        top = max([self.limit.value() * 1.6, *finite]) if finite else self.limit.value() * 2
        self.setYRange(0, top * 1.08, padding=0)
        if xs:
            self.setXRange(xs[0], xs[-1] + DAY_S * 0.5, padding=0.01)
        self.readout.hide()
        self.marker.setData([], [])

    def point_text(self, index: int) -> str:
        """The hover read-out for one day: its date and each series' value."""
        parts = [self.days[index].strftime("%a %d %b %Y")]
        for key, curve in self.curves.items():
            value = self.values[key][index]
            shown = "no figure" if math.isnan(value) else f"{value:.2f} %"
            parts.append(f"{curve.name() or 'rate'}: {shown}")
        return "\n".join(parts)

    def _hover(self, position) -> None:
        if not self.days or not self.sceneBoundingRect().contains(position):
            self.readout.hide()
            self.marker.setData([], [])
            return
        x = self.plotItem.vb.mapSceneToView(position).x()
        index = min(max(0, round((x - day_x(self.days[0])) / DAY_S)), len(self.days) - 1)
        self.show_point(index)

    def show_point(self, index: int) -> None:
        main = self.values[self.keys[0]][index]
        x = day_x(self.days[index])
        y = 0 if math.isnan(main) else main
        self.marker.setData([x], [y])
        self.readout.setText(self.point_text(index))
        (x_low, x_high), _ = self.plotItem.vb.viewRange()
        self.readout.setAnchor((1, 1) if x > (x_low + x_high) / 2 else (0, 1))
        self.readout.setPos(x, y)
        self.readout.show()


class OdrChart(RateChart):
    """Daily ODR (all, FBA, FBM) for the last 180 days, the 1 % line and the current window shaded."""

    def __init__(self):
        super().__init__(
            "Order Defect Rate, daily (60-day window ending 14 days earlier)",
            1.0,
            "1 % limit",
            (("odr", "All orders", ALL_COLOUR), ("odr_fba", "FBA", FBA_COLOUR), ("odr_fbm", "FBM", FBM_COLOUR)),
        )
        self.window = pg.LinearRegionItem(
            values=(0, 0), movable=False, brush=pg.mkBrush(QColor(21, 101, 192, 28)), pen=pg.mkPen(None)
        )
        self.window.setZValue(-10)
        self.addItem(self.window, ignoreBounds=True)
        self.window_label = pg.TextItem("orders counted today", color="#1565c0", anchor=(0, 0))
        self.addItem(self.window_label, ignoreBounds=True)

    def set_window(self, start: date, end: date) -> None:
        """Shade the orders' purchase days that today's ODR counts."""
        self.window.setRegion((day_x(start), day_x(end) + DAY_S))
        top = self.plotItem.vb.viewRange()[1][1]
        self.window_label.setPos(day_x(start), top)


def window_bounds(figure: dict) -> tuple[date, date]:
    return date.fromisoformat(figure["window_start"]), date.fromisoformat(figure["window_end"])


def last_days(points: Sequence[dict], days: int) -> list[dict]:
    if not points:
        return []
    last = date.fromisoformat(points[-1]["day"])
    first = (last - timedelta(days=days - 1)).isoformat()
    return [point for point in points if point["day"] >= first]
