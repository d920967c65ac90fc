"""The charts per marketplace: a seller on Amazon.co.uk and Amazon.de sees DE's own lines against their
limits (Amazon judges each marketplace on its own), opened on DE while DE breaches and the total is calm,
and switches to UK or to every marketplace together in one click. A seller on one marketplace pays nothing
for it and sees no choice."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app import services
from app.imports import import_files
from app.marketplaces import DEFAULT_ZONES
from app.settings import save_setting
from storage.settings import write_setting
from tests import test_marketplaces
from tests.report_files import ORDER_COLUMNS, Flat
from tests.test_marketplaces import AS_OF, de_id, order_row, uk_id, write_reports
from tests.ui_support import WAIT_MS, FixedClock
from ui.charts import percent_values
from ui.dashboard import ALL_MARKETPLACES, ALL_MARKETPLACES_SCOPE, DashboardView

uk_de = test_marketplaces.uk_de  # the UK+DE seller: DE breaches ODR while both together are calm
NOON = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC).timestamp()
# Every chart and the lines it draws from the daily figures.
CHART_KEYS = {
    "odr_chart": ("odr", "odr_fba", "odr_fbm"),
    "lrr_chart": ("lrr",),
    "nfr_chart": ("nfr",),
    "rdr_chart": ("rdr",),
}
SALES_CHANNELS = {"UK": "Amazon.co.uk", "DE": "Amazon.de"}


def drawn(view: DashboardView) -> dict[str, list[float]]:
    """What the charts plot, read back from the pyqtgraph lines (percent; NaN where a day has no figure)."""
    return {
        key: list(getattr(view, chart).curves[key].getData()[1]) for chart, keys in CHART_KEYS.items() for key in keys
    }


def expected(series: list[dict]) -> dict[str, list[float]]:
    return {key: percent_values([point[key] for point in series]) for keys in CHART_KEYS.values() for key in keys}


def same_lines(view: DashboardView, series: list[dict]) -> bool:
    def equal(a: list[float], b: list[float]) -> bool:
        return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True))

    plotted, wanted = drawn(view), expected(series)
    return all(equal(plotted[key], wanted[key]) for key in wanted)


def titles(view: DashboardView) -> list[str]:
    return [getattr(view, chart).getPlotItem().titleLabel.text for chart in CHART_KEYS]


def checked(view: DashboardView) -> str:
    return view.chart_choice.group.checkedButton().property("marketplace")


@pytest.fixture
def state(uk_de):
    db, _ = uk_de
    return services.refresh(db, lambda: NOON)


@pytest.fixture
def dashboard(qtbot, state):
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1366, 720)
    view.show()
    view.show_state(state)
    return view


# --- Each marketplace's own daily figures --------------------------------------------------------------------------


def alone(new_db, tmp_path: Path, code: str):
    """A seller selling on `code` only: that marketplace's rows of the UK+DE reports, in its own days."""
    folder = tmp_path / code
    folder.mkdir()
    files = write_reports(folder)
    db = new_db(f"{code}.db")
    save_setting(db, "marketplace", code)
    save_setting(db, "timezone", DEFAULT_ZONES[code])
    orders = Flat.read(files["orders"])
    orders.rows = [row for row in orders.rows if row[orders.at("sales-channel")] == SALES_CHANNELS[code]]
    returns = Flat.read(files["returns"])
    mine = uk_id if code == "UK" else de_id
    returns.rows = [row for row in returns.rows if row[returns.at("Order ID")] == mine(5)]
    paths = [orders.write(folder / "own-orders.txt"), returns.write(folder / "own-returns.txt")]
    paths += [files["uk_feedback"], files["claims"]] if code == "UK" else [files["de_feedback"]]
    results = import_files(db, paths)
    assert all(result.outcome == "imported" and not result.rejected for result in results)
    return db


@pytest.mark.parametrize("code", ["UK", "DE"])
def test_each_marketplaces_lines_are_its_figures_as_if_it_were_sold_alone(uk_de, state, new_db, tmp_path, code):
    db, _ = uk_de
    assert set(state.series_by_marketplace) == {"UK", "DE"}
    own = state.series_by_marketplace[code]
    assert own == services.compute_series(alone(new_db, tmp_path, code), AS_OF)
    assert own == services.compute_series(db, AS_OF, only=code)
    assert own != state.series  # not the blend of both
    assert [point["day"] for point in own] == [point["day"] for point in state.series]
    assert own[-1]["day"] == AS_OF.isoformat()


def test_each_marketplaces_lines_count_its_own_days(db, tmp_path):
    """23:30 UTC on 31 Oct is still 31 Oct in London and already 1 Nov in Berlin."""
    rows = [order_row(uk_id(1), "2026-10-31T23:30:00+00:00", "Amazon.co.uk")]
    rows.append(order_row(de_id(1), "2026-10-31T23:30:00+00:00", "Amazon.de"))
    (result,) = import_files(db, [Flat(list(ORDER_COLUMNS), rows).write(tmp_path / "orders.txt")])
    assert result.outcome == "imported" and not result.rejected
    state = services.refresh(db, lambda: NOON)

    def live_orders(series: list[dict]) -> dict[str, int]:
        return {point["day"]: point["live_orders"] for point in series if point["day"] in ("2026-10-31", "2026-11-01")}

    assert live_orders(state.series_by_marketplace["UK"]) == {"2026-10-31": 1, "2026-11-01": 1}
    assert live_orders(state.series_by_marketplace["DE"]) == {"2026-10-31": 0, "2026-11-01": 1}


def test_one_marketplace_computes_no_second_series(qtbot, sample_db, monkeypatch):
    asked = []
    daily_series = services.daily_series
    monkeypatch.setattr(
        services,
        "daily_series",
        lambda snapshot, *days: asked.append(snapshot.marketplace) or daily_series(snapshot, *days),
    )
    state = services.refresh(sample_db, lambda: NOON)
    assert list(state.metrics["marketplaces"]) == ["US"]
    assert state.series_by_marketplace == {}
    assert asked == ["US"]  # the one series of the seller's orders, as before
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_state(state)
    assert view.chart_choice.isHidden()
    assert same_lines(view, state.series)
    assert not any(" — " in title for title in titles(view))


def test_saved_figures_keep_each_marketplaces_lines(uk_de, state):
    db, _ = uk_de
    services.save_last_state(db, state)
    assert services.load_last_state(db).series_by_marketplace == state.series_by_marketplace


def test_figures_saved_before_marketplaces_had_lines_still_load_and_draw_together(qtbot, uk_de, state):
    db, _ = uk_de
    services.save_last_state(db, state)
    (text,) = db.execute("SELECT value FROM settings WHERE key = ?", [services.LAST_STATE_KEY]).fetchone()
    payload = json.loads(text)
    del payload["series_by_marketplace"]
    write_setting(db, services.LAST_STATE_KEY, payload)
    kept = services.load_last_state(db)
    assert kept is not None and kept.series_by_marketplace == {}
    assert kept.series == state.series
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_state(kept)
    # Without each marketplace's lines there is nothing to choose: every marketplace together, said so.
    assert view.chart_choice.isHidden()
    assert same_lines(view, state.series)
    assert all(ALL_MARKETPLACES_SCOPE in title for title in titles(view))


# --- The dashboard -------------------------------------------------------------------------------------------------


def test_the_dashboard_opens_on_the_breached_marketplace(dashboard, state):
    top = state.metrics["order_defect_rate"]
    assert (top["combined_status"], top["worst_marketplace"]) == ("good", "DE")  # calm total, DE over 1 %
    choice = dashboard.chart_choice
    assert choice.isVisible()
    assert [button.text() for button in choice.buttons.values()] == ["All marketplaces", "DE", "UK"]
    assert checked(dashboard) == "DE"
    assert same_lines(dashboard, state.series_by_marketplace["DE"])
    assert all("DE" in title and "UK" not in title for title in titles(dashboard))
    # DE's own ODR ends on its 1 % line (1 defective order in 100): the total's line ends at 0.5 %.
    assert drawn(dashboard)["odr"][-1] == pytest.approx(1.0)
    assert dashboard.odr_chart.limit.value() == 1.0


def test_one_click_switches_the_drawn_marketplace(qtbot, dashboard, state):
    qtbot.mouseClick(dashboard.chart_choice.buttons["UK"], Qt.MouseButton.LeftButton)
    assert checked(dashboard) == "UK"
    assert same_lines(dashboard, state.series_by_marketplace["UK"])
    assert drawn(dashboard)["odr"][-1] == pytest.approx(100 / 300)
    assert all("UK" in title and "DE" not in title for title in titles(dashboard))
    qtbot.mouseClick(dashboard.chart_choice.buttons[ALL_MARKETPLACES], Qt.MouseButton.LeftButton)
    assert same_lines(dashboard, state.series)
    assert drawn(dashboard)["odr"][-1] == pytest.approx(0.5)
    assert all(ALL_MARKETPLACES_SCOPE in title for title in titles(dashboard))


def test_the_arrow_keys_switch_the_drawn_marketplace(qtbot, dashboard, state):
    buttons = dashboard.chart_choice.buttons
    buttons["DE"].setFocus()
    qtbot.keyClick(buttons["DE"], Qt.Key.Key_Right)
    assert checked(dashboard) == "UK" and same_lines(dashboard, state.series_by_marketplace["UK"])
    qtbot.keyClick(buttons["UK"], Qt.Key.Key_Left)
    qtbot.keyClick(buttons["DE"], Qt.Key.Key_Left)
    assert checked(dashboard) == ALL_MARKETPLACES and same_lines(dashboard, state.series)


def test_the_sellers_choice_stays_through_a_recomputation(qtbot, uk_de, dashboard):
    db, _ = uk_de
    qtbot.mouseClick(dashboard.chart_choice.buttons[ALL_MARKETPLACES], Qt.MouseButton.LeftButton)
    later = services.refresh(db, lambda: NOON + 3600)
    dashboard.show_state(later)
    assert checked(dashboard) == ALL_MARKETPLACES
    assert same_lines(dashboard, later.series)


def test_a_calm_seller_opens_on_every_marketplace_together(qtbot, db, tmp_path):
    files = write_reports(tmp_path)  # without DE's feedback and the returns: no marketplace at risk
    results = import_files(db, [files["orders"], files["uk_feedback"], files["claims"]])
    assert all(result.outcome == "imported" for result in results)
    state = services.refresh(db, lambda: NOON)
    assert set(state.series_by_marketplace) == {"UK", "DE"}
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_state(state)
    assert not view.chart_choice.isHidden()
    assert checked(view) == ALL_MARKETPLACES
    assert same_lines(view, state.series)


# --- On a laptop, and in the window ----------------------------------------------------------------------------------


def europe(db, tmp_path: Path) -> list[str]:
    """A seller on nine European marketplaces, one order each."""
    channels = {
        "UK": "Amazon.co.uk",
        "DE": "Amazon.de",
        "FR": "Amazon.fr",
        "IT": "Amazon.it",
        "ES": "Amazon.es",
        "NL": "Amazon.nl",
        "SE": "Amazon.se",
        "PL": "Amazon.pl",
        "BE": "Amazon.com.be",
    }
    rows = [
        order_row(f"40{n}-0000001-0000001", "2026-10-20T10:00:00+00:00", ch) for n, ch in enumerate(channels.values())
    ]
    (result,) = import_files(db, [Flat(list(ORDER_COLUMNS), rows).write(tmp_path / "orders.txt")])
    assert result.outcome == "imported" and not result.rejected
    return sorted(channels)


@pytest.mark.parametrize("width", [683, 1024, 1366])
def test_the_choice_fits_without_scrolling_sideways(qtbot, state, width):
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(width, 720)
    view.show()
    view.show_state(state)
    qtbot.wait(20)
    choice = view.chart_choice
    view.scroll.ensureWidgetVisible(choice)  # below the cards, the page scrolled down to it
    qtbot.wait(20)
    assert choice.visibleRegion().boundingRect() == choice.rect()
    for button in choice.buttons.values():
        assert button.isVisible() and button.width() >= button.sizeHint().width(), button.text()
    assert not view.scroll.horizontalScrollBar().isVisible()
    for chart in CHART_KEYS:
        title = getattr(view, chart).getPlotItem().titleLabel
        assert title.item.boundingRect().width() <= getattr(view, chart).width(), title.text


def test_many_marketplaces_on_half_a_screen_choose_from_a_list(qtbot, db, tmp_path):
    codes = europe(db, tmp_path)
    state = services.refresh(db, lambda: NOON)
    assert set(state.series_by_marketplace) == set(codes)
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(683, 720)
    view.show()
    view.show_state(state)
    qtbot.wait(20)
    choice = view.chart_choice
    view.scroll.ensureWidgetVisible(choice)  # below the cards, the page scrolled down to it
    qtbot.wait(20)
    assert choice.combo.isVisible() and not any(button.isVisible() for button in choice.buttons.values())
    assert choice.visibleRegion().boundingRect() == choice.rect()
    assert not view.scroll.horizontalScrollBar().isVisible()
    assert choice.combo.itemText(0) == "All marketplaces"
    choice.combo.setFocus()
    qtbot.keyClick(choice.combo, Qt.Key.Key_Down)
    first = choice.combo.currentData()
    assert first in codes and view.drawn_marketplace == first
    assert same_lines(view, state.series_by_marketplace[first])
    view.resize(1366, 720)
    qtbot.wait(20)
    assert all(button.isVisible() for button in choice.buttons.values()) and choice.combo.isHidden()
    assert checked(view) == first


def test_the_window_opens_on_de_and_a_past_day_keeps_the_sellers_choice(qtbot, launch, uk_de, db_path):
    db, _ = uk_de
    desktop = launch(db_path, now=FixedClock(NOON))
    dashboard = desktop.window.dashboard
    assert checked(dashboard) == "DE"
    assert same_lines(dashboard, desktop.state.series_by_marketplace["DE"])
    qtbot.mouseClick(dashboard.chart_choice.buttons["UK"], Qt.MouseButton.LeftButton)
    past = date(2026, 10, 15)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        dashboard.as_of.setDate(past)
    QApplication.processEvents()
    assert dashboard.as_of.date().toPython() == past
    assert checked(dashboard) == "UK"
    assert same_lines(dashboard, services.compute_series(db, past, only="UK"))
    assert dashboard.odr_chart.days[-1] == past


def test_the_line_of_every_marketplace_is_the_cards_sums_day_by_day(uk_de, state):
    """Each day of the all-marketplaces line holds what the cards would show as of that day: every count the
    sum of the marketplaces' (each in its own days), every rate made from those sums."""
    db, _ = uk_de
    by_key = {"": "order_defect_rate", "live_": "live_order_defect_rate"}
    for point in state.series[-75:]:
        figures = services.compute_metrics(db, date.fromisoformat(point["day"]))
        for prefix, key in by_key.items():
            odr = figures[key]
            assert (
                point[f"{prefix}orders"] == odr["orders"]
                and point[f"{prefix}defective_orders"] == (odr["defective_orders"])
            ), point["day"]
            assert point[f"{prefix}odr"] == odr["rate"], point["day"]
            for channel, block in odr["by_channel"].items():
                assert point[f"{prefix}odr_{channel.lower()}"] == block["rate"], (point["day"], channel)
        nfr, rdr = figures["negative_feedback_rate"], figures["return_dissatisfaction_rate"]
        assert (point["nfr_ratings"], point["nfr_negative"], point["nfr"]) == (
            nfr["feedback"],
            nfr["negative"],
            nfr["rate"],
        )
        assert (point["rdr_returns"], point["rdr_dissatisfied"]) == (rdr["returns"], rdr["dissatisfied"])
        lrr = figures["late_response_rate"]
        assert (point["lrr_late"], point["lrr_on_time"], point["lrr"]) == (lrr["late"], lrr["on_time"], lrr["rate"])
    assert any(point["defective_orders"] for point in state.series[-75:])  # the days above hold defects
