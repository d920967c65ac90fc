"""The dashboard shows the sample seller's figures as computed, with the 1 % line and today's window."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from app import services
from app.summary import odr_sentence, percent, short_day
from tests.ui_support import SAMPLE_NOW, WAIT_MS
from ui.charts import DAY_S, day_x
from ui.dashboard import DashboardView


@pytest.fixture
def state(sample_db):
    return services.refresh(sample_db, lambda: SAMPLE_NOW)


@pytest.fixture
def dashboard(qtbot, state):
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show_state(state)
    return view


def test_cards_show_each_figure_with_its_status(dashboard, state, samples):
    expected = json.loads((samples / "expected.json").read_text())
    odr = dashboard.cards["order_defect_rate"]
    # Judged per channel as Amazon does: the worst channel (FBM) is the headline, all orders the context.
    assert odr.rate.text().endswith(f"FBM </span>{percent(expected['odr']['FBM']['rate'])}")
    assert odr.channels.text() == (
        f"FBA {percent(expected['odr']['FBA']['rate'])} · FBM {percent(expected['odr']['FBM']['rate'])} · "
        f"all {percent(expected['odr']['all']['rate'])}"
    )
    assert odr.status.text() == "Over the limit"
    assert odr.window.text() == "27 Aug – 25 Oct"
    assert odr.sentence.text().startswith("FBM is over 1 %:")
    assert "more defect-free FBM order" in odr.sentence.text()
    lrr = dashboard.cards["late_response_rate"]
    assert lrr.rate.text() == percent(expected["lrr"]["rate"])
    assert f"{expected['lrr']['late']} late of {expected['lrr']['late'] + expected['lrr']['on_time']}" in (
        lrr.sentence.text()
    )


def test_odr_chart_plots_the_daily_series_against_the_one_percent_line(dashboard, state):
    chart = dashboard.odr_chart
    assert chart.limit.value() == 1.0
    assert not chart.limit.movable
    xs, ys = chart.curves["odr"].getData()
    assert len(xs) == len(state.series) == services.SERIES_DAYS
    assert xs[-1] == day_x(state.as_of)
    for point, y in zip(state.series, ys, strict=True):
        if point["odr"] is None:
            assert math.isnan(y)
        else:
            assert y == pytest.approx(point["odr"] * 100)
    assert chart.curves["odr_fba"].getData()[1][-1] == pytest.approx(state.series[-1]["odr_fba"] * 100)
    assert chart.curves["odr_fbm"].getData()[1][-1] == pytest.approx(state.series[-1]["odr_fbm"] * 100)
    # The shaded window is today's ODR window: purchase days 27 Aug to 25 Oct, both whole days.
    assert chart.window.getRegion() == (day_x(date(2026, 8, 27)), day_x(date(2026, 10, 25)) + DAY_S)
    # The last point is today's figure, the same number the card shows.
    assert ys[-1] == pytest.approx(state.metrics["order_defect_rate"]["rate"] * 100)


def test_small_charts_have_their_thresholds(dashboard):
    for chart in (dashboard.lrr_chart, dashboard.nfr_chart, dashboard.rdr_chart):
        assert chart.limit.value() == 10.0


def test_hovering_a_day_reads_out_its_date_and_values(dashboard, state):
    chart = dashboard.odr_chart
    last = len(state.series) - 1
    text = chart.point_text(last)
    assert "Sun 08 Nov 2026" in text
    assert f"All orders: {state.series[-1]['odr'] * 100:.2f} %" in text
    chart.show_point(last)
    assert chart.readout.isVisible()
    assert chart.marker.getData()[0][0] == day_x(state.as_of)


def test_empty_database_shows_where_to_start(qtbot, db):
    view = DashboardView()
    qtbot.addWidget(view)
    view.show_state(services.refresh(db, lambda: SAMPLE_NOW))
    assert view.stack.currentWidget() is view.empty
    assert "No orders imported yet" in view.empty.headline.text()
    with qtbot.waitSignal(view.import_requested):
        view.empty.action.click()


def test_reconciliation_line_says_amazon_agrees(dashboard):
    assert "agrees" in dashboard.reconciliation.text()


def test_reports_that_end_before_the_day_shown_are_said_in_words(qtbot, sample_db):
    # The samples end in early November; opened on 1 Dec they are three weeks old.
    later = services.refresh(sample_db, lambda: SAMPLE_NOW + 23 * DAY_S)
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show_state(later)
    orders_end = later.metrics["data_through"]["orders"]
    assert view.coverage.isVisibleTo(view)
    text = view.coverage.text()
    behind = (later.as_of - date.fromisoformat(orders_end)).days
    assert f"Your orders end {date.fromisoformat(orders_end).day} Nov, {behind} days ago" in text
    assert "import a newer All Orders report" in text and "feedback" in text and "claims" in text
    assert "data missing" in view.cards["live_order_defect_rate"].window.text()
    fresh = services.refresh(sample_db, lambda: SAMPLE_NOW)
    view.show_state(fresh)
    assert fresh.metrics["data_through"]["orders"] == fresh.as_of.isoformat()  # the samples' own day
    assert not view.coverage.isVisibleTo(view)


def test_the_as_of_picker_shows_a_past_days_figures(qtbot, launch, sample_db, db_path):
    desktop = launch(db_path)
    dashboard = desktop.window.dashboard
    assert dashboard.as_of.date().toPython() == desktop.state.as_of and not dashboard.today.isEnabled()
    past = date(2026, 10, 15)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=20000):
        dashboard.as_of.setDate(past)
    expected = services.compute_metrics(sample_db, past)
    card = dashboard.cards["order_defect_rate"]
    window = expected["order_defect_rate"]
    assert card.window.text() == f"{short_day(window['window_start'])} – {short_day(window['window_end'])}"
    assert card.sentence.text() == odr_sentence(window)
    assert dashboard.as_of.date().toPython() == past
    assert dashboard.today.isEnabled()
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=20000):
        desktop.host.send("recompute_soon")  # a live recomputation does not pull the seller back to today
    assert dashboard.as_of.date().toPython() == past
    dashboard.today.click()
    assert dashboard.as_of.date().toPython() == desktop.state.as_of


def test_building_the_dashboard_flashes_no_window_of_its_own(qapp):
    # A label shown before it has a parent is a window of its own: on a desktop it flashes up at (0, 0)
    # at every start, before the app can take signals.
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QWidget

    class WindowsShown(QObject):
        def __init__(self):
            super().__init__()
            self.names: list[str] = []

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Show and isinstance(watched, QWidget) and watched.isWindow():
                self.names.append(type(watched).__name__)
            return False

    shown = WindowsShown()
    qapp.installEventFilter(shown)
    try:
        view = DashboardView()
    finally:
        qapp.removeEventFilter(shown)
    view.deleteLater()
    assert shown.names == []


@pytest.fixture
def charts_unloaded(monkeypatch):
    """As at the app's start: the charts' module not loaded yet, nor its loading begun. `failing(thread)`
    makes pyqtgraph fail to load on that thread ("*" for every thread)."""
    import builtins
    import sys
    import threading

    from ui import dashboard as dashboard_module

    monkeypatch.delitem(sys.modules, dashboard_module.CHARTS_MODULE)
    monkeypatch.setattr(dashboard_module, "_charts_loader", None)
    real_import = builtins.__import__

    def failing(thread: str) -> None:
        def load(name, *args, **kwargs):
            if name == "pyqtgraph" and thread in ("*", threading.current_thread().name):
                raise ImportError("pyqtgraph could not be loaded")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", load)

    return failing


def test_charts_whose_loading_failed_beside_the_window_are_loaded_by_the_window(qtbot, state, charts_unloaded):
    charts_unloaded("charts-import")
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show_state(state)
    qtbot.waitUntil(lambda: not view._plot_due, timeout=WAIT_MS)
    assert len(view._charts) == 4
    drawn = view.odr_chart.curves["odr"].getData()[0]
    assert drawn is not None and len(drawn) == len(state.series)


def test_charts_that_cannot_load_say_why_and_the_window_stops_waiting_for_them(qtbot, state, charts_unloaded):
    charts_unloaded("*")
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1366, 700)
    with qtbot.captureExceptions() as raised:
        view.show_state(state)
        qtbot.waitUntil(lambda: bool(raised), timeout=WAIT_MS)
    assert [kind for kind, *_ in raised] == [ImportError]
    assert "pyqtgraph could not be loaded" in str(raised[0][1])
    qtbot.wait(100)
    assert not view._plot_timer.isActive() and not view._charts, "no step polls for charts that will not come"
