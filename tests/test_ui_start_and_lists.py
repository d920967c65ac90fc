"""The window on a large seller: the triage list's counts worked out off the GUI thread agree with the
list, its filters keep the selected item, the cards show before the charts, and a start whose database
process began before the window shows the saved figures before the ones it computes."""

from __future__ import annotations

import dataclasses
import multiprocessing
import pickle
import threading
import time

import pyqtgraph as pg
import pytest

from app import demo_state, host_client, services
from app.host import DatabaseHost, StartupView
from app.host_client import HostClient, HostRefused, host_fields, start_database
from storage import open_db
from tests.ui_support import SAMPLE_NOW, WAIT_MS, FixedClock, private_qsettings
from ui.dashboard import DashboardView
from ui.triage_view import ITEM_ROLE, TriageView, listing_facts


@pytest.fixture
def listing(demo_path):
    """The demo seller's triage list with one item resolved, so that open and resolved both count."""
    db = open_db(demo_path)
    try:
        first = services.load_triage(db, SAMPLE_NOW).items[0]
        services.resolve_item(db, first.key, "Replied with tracking", at=SAMPLE_NOW)
        return services.load_triage(db, SAMPLE_NOW + 3600)
    finally:
        db.close()


def test_the_counts_worked_out_off_the_gui_thread_agree_with_the_list(listing):
    facts = listing_facts(listing)
    counts = listing.counts
    assert (facts.open, facts.resolved, facts.overdue, facts.carried) == (
        counts["open"],
        counts["resolved"],
        counts["overdue"],
        counts["carried"],
    )
    assert facts.resolved == 1 and facts.open > 5
    assert facts.carried_days == {
        item.key: listing.carried_days(item) for item in listing.items if item.carried_since is not None
    }
    assert [listing.items[place].key for place in facts.positions.values()] == list(facts.positions)
    assert len(facts.positions) == len(listing.items)
    by_marketplace: dict[str, list[int]] = {}
    for item in listing.items:
        if item.marketplace:
            mine = by_marketplace.setdefault(item.marketplace, [0, 0])
            mine[0] += not item.resolved
            mine[1] += not item.resolved and item.passed(listing.at)
    assert facts.marketplaces == {code: tuple(n) for code, n in by_marketplace.items()}
    assert facts.named == bool(by_marketplace)


def parts_in(payload: bytes) -> list[host_client.InParts]:
    """The lists a sent message carries in parts, found by unpickling it without joining them."""
    found = []

    def walk(value, depth=4):
        if isinstance(value, host_client.InParts):
            found.append(value)
        elif isinstance(value, tuple | list) and depth:
            for each in value:
                walk(each, depth - 1)
        elif hasattr(value, "__dataclass_fields__") and depth:
            for name in value.__dataclass_fields__:
                walk(getattr(value, name), depth - 1)

    walk(pickle.loads(payload))
    return found


def test_a_long_list_crosses_the_pipe_in_parts_and_arrives_whole(listing, demo_path, monkeypatch):
    """Unpickled in one piece, a list of ten thousand items holds the GIL, and so the window, for 150 ms: the
    database's process sends long lists in parts, and the window's reader puts them together again."""
    monkeypatch.setattr(host_client, "PART_ITEMS", 4)
    db = open_db(demo_path)
    try:
        state = services.refresh(db, lambda: SAMPLE_NOW)
    finally:
        db.close()
    assert len(listing.items) > 9 and len(state.clocks) > 4
    start = StartupView(state.settings, True, "note", None, state)
    window_end, database_end = multiprocessing.Pipe(duplex=True)
    host = DatabaseHost.__new__(DatabaseHost)  # only its pipe: no database, no scheduler
    host.conn, host._send_lock, host._done = database_end, threading.Lock(), threading.Event()
    host._sent = host_client.SentAgainstLast()
    for message in [("event", "triage_ready", (listing,)), ("reply", 7, True, start)]:
        host.send(message)
        payload = window_end.recv_bytes()
        sent = parts_in(payload)
        carried = listing if message[0] == "event" else state
        long_lists = [value for value in vars(carried).values() if isinstance(value, list) and len(value) > 4]
        assert listing.items in long_lists or state.clocks in long_lists
        # A triage list's items go as their keys and the items new since the last list: all of them, the first.
        copies = 2 if message[0] == "event" else 1
        assert [len(parts.parts) for parts in sent] == [-(-len(items) // 4) for items in long_lists] * copies
        window_end_again, database_end_again = multiprocessing.Pipe(duplex=True)
        database_end_again.send_bytes(payload)
        assert host_client.SentAgainstLast().restored(host_client.receive(window_end_again)) == message
    assert isinstance(listing.items, list) and isinstance(state.clocks, list)  # the sender's own, unchanged


def _pipe_host():
    window_end, database_end = multiprocessing.Pipe(duplex=True)
    host = DatabaseHost.__new__(DatabaseHost)  # only its pipe: no database, no scheduler
    host.conn, host._send_lock, host._done = database_end, threading.Lock(), threading.Event()
    host._sent = host_client.SentAgainstLast()
    return host, window_end


def test_a_list_crosses_the_pipe_as_the_items_changed_since_the_last_and_arrives_whole(listing):
    """The worker keeps most items from one list to the next: only the items new or changed since the list
    before cross the pipe, with the keys of the rest, and the window's reader puts each list back whole, in
    order. A list with a key twice goes whole; a message that cannot be sent changes nothing held."""
    items = listing.items
    edited = dataclasses.replace(items[2], what="Edited since.")
    added = dataclasses.replace(items[0], key="message:new")
    lists = [
        listing,
        dataclasses.replace(listing, items=[added, *items[:2], edited, *items[3:]]),
        dataclasses.replace(listing, items=[*items[4:], items[0]]),
        dataclasses.replace(listing, items=[items[0], items[0], *items[1:]]),  # a key twice
        dataclasses.replace(listing, items=list(items)),
    ]
    changed_sent = [len(items), 2, 0, None, len(items)]
    host, window_end = _pipe_host()
    reader = host_client.SentAgainstLast()
    for step, (sent, changed) in enumerate(zip(lists, changed_sent, strict=True)):
        host.send(("event", "triage_ready", (sent,)))
        if step == 2:
            host.send(("event", "triage_ready", (lambda: None,)))  # cannot be pickled: the window is told
        payload = window_end.recv_bytes()
        carried = pickle.loads(payload)[2][0].items
        if changed is None:
            assert not isinstance(carried, host_client.AsBefore)
        else:
            assert len(carried.changed) == changed and len(carried.keys) == len(sent.items)
        again_end, database_end = multiprocessing.Pipe(duplex=True)
        database_end.send_bytes(payload)
        assert reader.restored(host_client.receive(again_end)) == ("event", "triage_ready", (sent,)), step
        if step == 2:
            failed = host_client.receive(window_end)
            assert failed[1] == "job_failed" and reader.restored(failed) == failed
    assert lists[1].items[0].key == "message:new"  # the sender's lists are its own, unchanged


def test_the_state_s_clocks_cross_the_pipe_as_those_changed_since_the_last_state(demo_path):
    """The clocks are counted anew at every recomputation, mostly equal to the last ones: only those new or
    changed since the last state cross the pipe, with the keys of the rest, and each state arrives whole. A
    triage list between two states changes nothing held for the clocks."""
    db = open_db(demo_path)
    try:
        states = [services.refresh(db, lambda hours=hours: SAMPLE_NOW + hours * 3600) for hours in (0, 1, 30)]
        listing = services.load_triage(db, SAMPLE_NOW)
    finally:
        db.close()
    first, second, later = states
    assert first.clocks == second.clocks and first.clocks is not second.clocks and later.clocks != first.clocks
    host, window_end = _pipe_host()
    reader = host_client.SentAgainstLast()
    previous: list = []
    for state in states:
        if state is second:
            host.send(("event", "triage_ready", (listing,)))
            assert reader.restored(host_client.receive(window_end)) == ("event", "triage_ready", (listing,))
        host.send(("event", "state_ready", (state,)))
        payload = window_end.recv_bytes()
        carried = pickle.loads(payload)[2][0].clocks
        assert len(carried.changed) == len([clock for clock in state.clocks if clock not in previous])
        again_end, database_end = multiprocessing.Pipe(duplex=True)
        database_end.send_bytes(payload)
        assert reader.restored(host_client.receive(again_end)) == ("event", "state_ready", (state,))
        previous = state.clocks
    assert 0 < len(carried.changed) < len(later.clocks)


def test_the_triage_columns_are_measured_when_the_list_is_first_seen(qtbot, listing):
    """Measuring the columns through the model costs the window tens of milliseconds: not while the list
    arrives behind the dashboard, but once it is shown."""
    view = TriageView(now=lambda: listing.at)
    qtbot.addWidget(view)
    view.show_listing(listing)
    assert not view.columns_fitted and view.model.rowCount() == len(listing.items)
    view.resize(1366, 700)
    view.show()
    qtbot.waitExposed(view)
    assert view.columns_fitted and view.ideal_widths
    widths = dict(view.ideal_widths)
    view.show_listing(listing)
    assert view.ideal_widths == widths
    shown_first = TriageView(now=lambda: listing.at)  # on screen before any list: measured as the list arrives
    qtbot.addWidget(shown_first)
    shown_first.resize(1366, 700)
    shown_first.show()
    qtbot.waitExposed(shown_first)
    assert not shown_first.columns_fitted
    shown_first.show_listing(listing)
    assert shown_first.columns_fitted and shown_first.ideal_widths == widths


def listed(view: TriageView) -> list:
    return [view.proxy.index(row, 0).data(ITEM_ROLE) for row in range(view.proxy.rowCount())]


def test_the_filters_list_the_same_items_and_keep_the_selected_one(qtbot, listing):
    view = TriageView(now=lambda: SAMPLE_NOW + 3600)
    qtbot.addWidget(view)
    view.resize(1366, 700)
    view.show()
    view.show_listing(listing)
    assert f"{listing.counts['open']} open, 1 resolved" in view.heading.text()
    chosen = next(item for item in listing.items if not item.resolved and item.category != listing.items[0].category)
    assert view.select_item(chosen.key)
    view.category_filter.setCurrentIndex(view.category_filter.findData(chosen.category))
    assert [item.key for item in listed(view)] == [
        item.key for item in listing.items if item.category == chosen.category
    ]
    assert view.selected_item().key == chosen.key, "the selected item stays selected while it is listed"
    view.show_resolved.setChecked(False)
    assert all(not item.resolved for item in listed(view))
    categories = [view.category_filter.itemData(index) for index in range(view.category_filter.count())]
    other = next(key for key in categories if key not in (None, chosen.category))
    view.category_filter.setCurrentIndex(view.category_filter.findData(other))
    assert all(item.category == other for item in listed(view))
    assert view.selected_item() is None or view.selected_item().category == other
    view.show_all()
    assert [item.key for item in listed(view)] == [item.key for item in listing.items]
    assert not view.select_item("no such item")


def test_the_cards_show_at_once_and_the_charts_a_moment_later(qtbot, demo_path):
    db = open_db(demo_path)
    try:
        state = services.refresh(db, FixedClock(SAMPLE_NOW))
    finally:
        db.close()
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(1366, 720)
    view.show()
    qtbot.waitExposed(view)
    height = view.scroll.widget().height()
    view.show_state(state)
    assert view.cards["order_defect_rate"].rate.text()
    assert not view.findChildren(pg.PlotWidget), "the charts wait for the next turn of the event loop"
    qtbot.waitUntil(lambda: len(view.findChildren(pg.PlotWidget)) == 4, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not view._plot_due, timeout=WAIT_MS)
    drawn = view.odr_chart.curves["odr"].getData()[0]
    assert drawn is not None and len(drawn) == len(state.series)
    assert view.scroll.widget().height() == height, "the page kept the charts' places: nothing moved"


def desktop_noting_states(qtbot, demo_path, tmp_path):
    """The app started as `app.entry` starts it (its database's process first), noting the instant of each
    state its window is given."""
    from ui.application import DesktopApp

    clock = FixedClock(SAMPLE_NOW)
    started = start_database(str(demo_path), now=clock).keep()
    desktop = DesktopApp(demo_path, now=clock, settings=private_qsettings(tmp_path), use_tray=False, started=started)
    qtbot.addWidget(desktop.window)
    shown = []
    show = desktop.window.apply_state
    desktop.window.apply_state = lambda state, **how: (shown.append(state.computed_at), show(state, **how))
    return desktop, shown


def test_a_start_begun_before_the_window_shows_the_saved_figures_then_the_new_ones(qtbot, demo_path, tmp_path):

    db = open_db(demo_path)
    try:
        saved = services.refresh(db, FixedClock(SAMPLE_NOW - 3600))  # the figures of the last run, an hour ago
        services.save_last_state(db, saved)
    finally:
        db.close()
    desktop, shown = desktop_noting_states(qtbot, demo_path, tmp_path)
    try:
        # The process computes the figures before the window asked to see them: they wait for it.
        qtbot.waitUntil(lambda: bool(desktop.host._held), timeout=WAIT_MS)
        assert shown == []
        desktop.start()
        qtbot.waitUntil(lambda: SAMPLE_NOW in shown, timeout=WAIT_MS)
        assert shown[0] == saved.computed_at == SAMPLE_NOW - 3600, "the saved figures show first"
        assert set(shown[1:]) == {SAMPLE_NOW}, "then only the new ones: the saved never cover them"
        assert desktop.state.computed_at == SAMPLE_NOW
        assert desktop.window.dashboard.cards["order_defect_rate"].rate.text()
    finally:
        desktop.quit()


def alert_rows(path) -> int:
    db = open_db(path)
    try:
        return db.execute("SELECT count(*) FROM alerts").fetchone()[0]
    finally:
        db.close()


def test_of_two_monitors_started_at_once_the_one_that_hands_over_alerts_nobody(demo_path):
    """Both start their database's process before the window loads; only the one that keeps the file (its
    single-instance claim succeeded) starts the background work: the other never records an alert as
    delivered that no window shows, nor starts a mail sync or an Amazon pull."""
    db = open_db(demo_path)
    db.execute("DELETE FROM alerts")
    db.conn.commit()
    db.close()
    clock = FixedClock(SAMPLE_NOW)
    first = start_database(str(demo_path), now=clock, load_demo_if_empty=True)
    second = start_database(str(demo_path), now=clock, load_demo_if_empty=True)
    try:
        second.opened()
        second.startup_view()
        second.client.call("ping")  # whatever it had been asked before has run
        time.sleep(0.3)  # and a recomputation, had one been queued, has had its time
    finally:
        second.stop()  # the single-instance claim said: a monitor runs on this file, hand over
    assert second.client._held == [], "no figures, alerts or triage list were computed for nobody"
    assert alert_rows(demo_path) == 0
    kept = first.keep()
    try:
        kept.opened()
        kept.running()
        deadline = time.monotonic() + WAIT_MS / 1000
        while not any(name == "deliver" for name, _ in kept.client._held) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        kept.stop()
    assert alert_rows(demo_path) > 0, "the monitor that kept the file alerts as usual"


def test_the_background_work_never_starts_on_a_file_that_did_not_open(db_path):
    client = HostClient(host_fields(db_path), None, in_thread=True)
    client.start()
    try:
        with pytest.raises(HostRefused, match="not open"):
            client.call("start")
    finally:
        client.stop()
    assert not db_path.exists()


def test_two_starts_on_a_new_file_put_the_demo_seller_in_it_once(db_path, monkeypatch):
    from app import demo, host

    loads = []
    first_loading = threading.Event()
    real_load = demo.load_demo

    def load(db, *args):
        loads.append(threading.current_thread().name)
        first_loading.set()
        time.sleep(0.3)  # the other start looks at the file meanwhile
        return real_load(db, *args)

    monkeypatch.setattr(demo, "load_demo", load)
    open_db(db_path).close()

    def start() -> None:
        db = open_db(db_path)
        try:
            host._load_demo_if_empty(db)
        finally:
            db.close()

    threads = [threading.Thread(target=start, name=name) for name in ("first", "second")]
    threads[0].start()
    assert first_loading.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert loads == ["first"]
    db = open_db(db_path)
    try:
        assert demo_state.is_active(db) and db["orders"].count > 0
    finally:
        db.close()


def saved_figures_an_hour_ago(path) -> services.MonitorState:
    """The figures of the last run, an hour before SAMPLE_NOW, saved as the app saves them; and an Amazon
    connection whose reports the window lists (no secrets: the pull at start fails without reaching out)."""
    from app.settings import save_setting

    db = open_db(path)
    try:
        saved = services.refresh(db, FixedClock(SAMPLE_NOW - 3600))
        services.save_last_state(db, saved)
        save_setting(db, "amazon_region", "NA")
        save_setting(db, "amazon_marketplaces", "US")
        return saved
    finally:
        db.close()


def test_the_saved_figures_are_painted_before_the_background_work_answers(qtbot, demo_path, tmp_path, monkeypatch):
    """The window is shown with the saved figures while the database's process is still starting the
    background work; the recomputed figures follow and are never covered by the saved ones, and the Amazon
    connection's reports fill their table once the work has started."""
    from app import host as host_module
    from app.amazon_pull import KINDS

    saved = saved_figures_an_hour_ago(demo_path)
    desktop, shown = desktop_noting_states(qtbot, demo_path, tmp_path)
    amazon = desktop.window.settings_view.amazon
    try:
        assert amazon.secret_note.text() == "" and amazon.table.rowCount() == 0
        desktop.start()
        # start() returned with the window shown and the saved figures on it: nothing of the background work
        # was waited for (its events are still held, the Amazon view not asked for yet on the GUI thread).
        assert desktop.window.isVisible()
        assert shown == [saved.computed_at]
        assert desktop.window.dashboard.cards["order_defect_rate"].rate.text()
        assert desktop.host.on_event is None, "the events wait until the saved figures were painted"
        qtbot.waitUntil(lambda: SAMPLE_NOW in shown, timeout=WAIT_MS)
        assert shown[0] == SAMPLE_NOW - 3600
        assert set(shown[1:]) == {SAMPLE_NOW}, "then only the new ones: the saved never cover them"
        assert desktop.state.computed_at == SAMPLE_NOW
        qtbot.waitUntil(lambda: amazon.table.rowCount() == len(KINDS), timeout=WAIT_MS)
        assert amazon.secret_note.text() in {desktop.host.call("settings_view")[2], host_module.SECRETS_MISSING}
        assert {amazon.table.item(row, 1).text() for row in range(amazon.table.rowCount())} == {"US"}
    finally:
        desktop.quit()


def test_an_unreadable_database_is_said_in_words_before_any_window(tmp_path):
    from ui.application import DesktopApp, StartRefused

    path = tmp_path / "health.db"
    path.write_bytes(b"these are not the pages of a database " * 200)
    started = start_database(str(path)).keep()
    with pytest.raises(StartRefused) as refused:
        DesktopApp(path, settings=private_qsettings(tmp_path), use_tray=False, started=started)
    assert not refused.value.lost
    assert "is not a database of this app, or its first page is damaged" in str(refused.value)
    assert not started.client.alive, "its database's process has ended"


def test_a_database_process_that_dies_after_the_first_paint_is_said_in_the_window(qtbot, demo_path, tmp_path):
    from ui.application import DesktopApp

    saved_figures_an_hour_ago(demo_path)
    clock = FixedClock(SAMPLE_NOW)
    started = start_database(str(demo_path), now=clock).keep()
    desktop = DesktopApp(demo_path, now=clock, settings=private_qsettings(tmp_path), use_tray=False, started=started)
    qtbot.addWidget(desktop.window)
    try:
        desktop.start()
        started.client._process.kill()
        said = desktop.window.statusBar()
        qtbot.waitUntil(lambda: "cannot reach its database" in said.currentMessage(), timeout=WAIT_MS)
    finally:
        desktop.quit()
