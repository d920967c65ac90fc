"""The window on a laptop: at 1024×768 and 1366×768, and at half of a laptop's screen (683×720, 640×720),
every card shows its whole text, the tables need no sideways scrolling and every cut cell carries its full
text, Amazon's report reflows instead of running off the edge, and the escalation matrix has compact rows.

Real widgets on the demo seller, offscreen, at a fixed instant."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel, QStyleOptionViewItem, QTableView, QWidget

from app import services
from tests.ui_support import SAMPLE_NOW, WAIT_MS
from ui.clocks_model import CLOCK_ROLE, ORDER, TOPIC
from ui.clocks_model import WHAT as WHAT_COLUMN
from ui.dashboard import DashboardView
from ui.messages_view import TOPIC_LEAST
from ui.triage_view import WHAT

SIZES = [(640, 720), (683, 720), (1024, 768), (1366, 768)]  # half a 1280- and a 1366-pixel screen, then whole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def desktop(qtbot, launch, demo_path):
    app = launch(demo_path)
    qtbot.waitUntil(lambda: app.triage_listing is not None, timeout=WAIT_MS)
    return app


def show_window(qtbot, desktop, size: tuple[int, int], view: str):
    window = desktop.window
    window.resize(*size)
    window.show_view(view)
    window.show()
    qtbot.waitExposed(window)
    settle(qtbot)
    assert (window.width(), window.height()) == size
    return window


def settle(qtbot) -> None:
    """Let the layouts finish: a wrapped label's height is set after its width is known."""
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(10)


def visible_rect(widget: QWidget) -> QRect:
    """The part of `widget` its parents do not clip, in its own coordinates."""
    return widget.visibleRegion().boundingRect()


def label_problems(label: QLabel) -> list[str]:
    """Why `label` does not show all of its text: too small for its words, or cut by what holds it."""
    name = f"{label.text()[:40]!r}"
    problems = []
    if label.wordWrap():
        needed_width, needed_height = 0, label.heightForWidth(label.width())
    else:
        hint = label.sizeHint()
        needed_width, needed_height = hint.width(), hint.height()
    if label.width() < needed_width:
        problems.append(f"{name} needs {needed_width} px of width, has {label.width()}")
    if label.height() < needed_height:
        problems.append(f"{name} needs {needed_height} px of height, has {label.height()}")
    shown = visible_rect(label)
    if shown != label.rect():
        problems.append(f"{name} is cut by its parents: {shown} of {label.rect()}")
    return problems


def shown_labels(widget: QWidget) -> list[QLabel]:
    return [label for label in widget.findChildren(QLabel) if label.isVisible() and label.text()]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_every_card_shows_its_whole_text(qtbot, desktop, size):
    window = show_window(qtbot, desktop, size, "dashboard")
    problems = []
    for key, card in window.dashboard.cards.items():
        labels = shown_labels(card)
        assert len(labels) >= 5, key  # title, rate, status, target, window, sentence: all filled in
        for label in labels:
            problems += [f"{key}: {problem}" for problem in label_problems(label)]
        # The status badge sits under the rate: it covers no number and no other words.
        for first in labels:
            for second in labels:
                if first is not second and first.geometry().intersects(second.geometry()):
                    problems.append(f"{key}: {first.text()[:30]!r} overlaps {second.text()[:30]!r}")
        if visible_rect(card) != card.rect():
            problems.append(f"{key}: the card is cut: {visible_rect(card)} of {card.rect()}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_charts_stay_readable_and_nothing_scrolls_sideways(qtbot, desktop, size):
    window = show_window(qtbot, desktop, size, "dashboard")
    dashboard = window.dashboard
    assert dashboard.odr_chart.height() >= 170
    assert dashboard.odr_chart.width() >= 0.9 * dashboard.width() - 40
    for chart in (dashboard.lrr_chart, dashboard.nfr_chart, dashboard.rdr_chart):
        assert chart.height() >= 130 and chart.width() >= 250
    assert not dashboard.scroll.horizontalScrollBar().isVisible()
    for chart in (dashboard.odr_chart, dashboard.lrr_chart, dashboard.nfr_chart, dashboard.rdr_chart):
        title = chart.getPlotItem().titleLabel  # with the ODR chart's legend: the names of its lines
        assert title.item.boundingRect().width() <= chart.width(), title.text
    # What does not fit at once is reached by scrolling down, never cut off.
    content = dashboard.scroll.widget()
    bottom = dashboard.rdr_chart.mapTo(content, dashboard.rdr_chart.rect().bottomRight())
    assert bottom.y() <= content.height()


def test_cards_reflow_into_rows_at_half_a_laptop_screen(qtbot, state_for_dashboard):
    view = DashboardView()
    qtbot.addWidget(view)
    view.resize(683, 700)
    view.show_state(state_for_dashboard)
    view.show()
    qtbot.waitExposed(view)
    settle(qtbot)
    rows = {card.y() for card in view.cards.values()}
    assert 2 <= len(rows) <= 3
    problems = [
        problem for card in view.cards.values() for label in shown_labels(card) for problem in label_problems(label)
    ]
    assert not problems, "\n".join(problems)
    assert not view.scroll.horizontalScrollBar().isVisible()
    view.resize(1900, 900)
    settle(qtbot)
    assert len({card.y() for card in view.cards.values()}) == 1  # a wide screen has them side by side


@pytest.fixture
def state_for_dashboard(demo_path):
    from storage import open_db

    db = open_db(demo_path)
    try:
        return services.refresh(db, lambda: SAMPLE_NOW)
    finally:
        db.close()


def needed_width(table: QTableView, row: int, column: int) -> int:
    option = QStyleOptionViewItem()
    table.initViewItemOption(option)
    return table.itemDelegate().sizeHint(option, table.model().index(row, column)).width()


def cut_cells_without_their_text(table: QTableView) -> list[str]:
    """Cells too narrow for their text whose tooltip does not hold that text whole."""
    model = table.model()
    missing = []
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        for row in range(model.rowCount()):
            if needed_width(table, row, column) <= table.columnWidth(column):
                continue
            text = model.index(row, column).data()
            tooltip = model.index(row, column).data(TOOLTIP) or ""
            if text not in tooltip:
                missing.append(f"row {row}, column {model.headerData(column, Qt.Orientation.Horizontal)}: {text!r}")
    return missing


def assert_no_sideways_scrolling(table: QTableView) -> None:
    header = table.horizontalHeader()
    shown = sum(header.sectionSize(c) for c in range(header.count()) if not header.isSectionHidden(c))
    assert shown <= table.viewport().width()
    assert not table.horizontalScrollBar().isVisible()


def clipped_titles(table: QTableView) -> list[str]:
    """Column titles wider than their column (the header cuts them at both ends: "hat happene"). Qt counts
    room for the sort arrow in every title; only the sorted column shows one, and none is sorted here."""
    header = table.horizontalHeader()
    assert header.sortIndicatorSection() == -1  # the model's own order
    header.setSortIndicatorShown(False)
    try:
        needed = {column: header.sectionSizeFromContents(column).width() for column in range(header.count())}
    finally:
        header.setSortIndicatorShown(True)
    return [
        table.model().headerData(column, Qt.Orientation.Horizontal)
        for column in range(header.count())
        if not header.isSectionHidden(column) and needed[column] > header.sectionSize(column)
    ]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_triage_list_fits_and_what_happened_is_whole_in_its_tooltip(qtbot, desktop, size):
    window = show_window(qtbot, desktop, size, "triage")
    view = window.triage
    table = view.table
    assert_no_sideways_scrolling(table)
    assert table.columnWidth(WHAT) >= 200  # the column that says what happened keeps the room
    assert not clipped_titles(table)
    cut = 0
    for row in range(view.proxy.rowCount()):
        index = view.proxy.index(row, WHAT)
        item = view.proxy.data(index, Qt.ItemDataRole.UserRole + 1)
        assert index.data(TOOLTIP) == item.what
        cut += needed_width(table, row, WHAT) > table.columnWidth(WHAT)
    assert cut, "the demo's quoted buyer messages are longer than the column: the test must see a cut cell"
    assert table.textElideMode() == Qt.TextElideMode.ElideRight
    assert not cut_cells_without_their_text(table)
    # The selected item's whole text is in the panel beside the list.
    item = view.selected_item()
    assert item.what in view.detail.toPlainText()
    assert not label_problems(view.heading), label_problems(view.heading)
    assert view.heading.text().startswith("Triage 1:")
    # What the seller does about it is in view, whichever side of the list the panel is on.
    for control in (view.category_choice, view.action_taken, view.note, view.resolve_button, view.timeline_button):
        assert visible_rect(control) == control.rect(), control
    assert view.detail.viewport().height() >= 150


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_messages_and_clocks_fit_and_cut_cells_keep_their_text(qtbot, desktop, size):
    window = show_window(qtbot, desktop, size, "messages")
    view = window.messages
    table = view.table
    assert_no_sideways_scrolling(table)
    assert not cut_cells_without_their_text(table)
    assert table.columnWidth(TOPIC) >= TOPIC_LEAST  # a few words of what the buyer wrote, never "…"
    assert table.textElideMode() == Qt.TextElideMode.ElideRight
    assert not clipped_titles(table)
    for row in range(view.proxy.rowCount()):  # an order id is whole, or it cannot be looked up
        if view.proxy.index(row, 0).data(CLOCK_ROLE).order_id:
            assert needed_width(table, row, ORDER) <= table.columnWidth(ORDER), row
    # A folded column's words are still in each row's tooltip.
    header = table.horizontalHeader()
    for column in (c for c in range(header.count()) if header.isSectionHidden(c)):
        for row in range(view.proxy.rowCount()):
            text = view.proxy.index(row, column).data()
            assert text in view.proxy.index(row, WHAT_COLUMN).data(TOOLTIP), (column, text)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_amazons_report_reflows_and_cuts_no_words(qtbot, desktop, size):
    window = show_window(qtbot, desktop, size, "amazon")
    page, panel = window.views["amazon"], window.amazon
    assert not panel.body.isHidden()  # the demo seller has Amazon's report: tiles and counters are shown
    assert not page.horizontalScrollBar().isVisible()
    assert panel.width() <= page.viewport().width()
    labels = shown_labels(panel)
    assert len(labels) >= 30  # the rating, seven tiles and the policy counters
    problems = [problem for label in labels for problem in label_problems(label)]
    assert not problems, "\n".join(problems)
    for tile in panel.tiles.values():
        assert visible_rect(tile) == tile.rect(), tile.key
    # At a laptop's full width the tiles stand three or more in a row; at half of it, at least two.
    rows = {tile.y() for tile in panel.tiles.values()}
    assert len(rows) <= (3 if size[0] >= 1024 else 4), rows


def test_the_escalation_matrix_is_compact_and_fits_a_small_screen(qtbot, desktop):
    window = show_window(qtbot, desktop, (1024, 768), "triage")
    desktop.edit_matrix()
    dialog = desktop.matrix_dialog
    qtbot.waitExposed(dialog)
    settle(qtbot)
    assert dialog.model.currency == "USD"  # the demo seller's orders are in dollars
    assert dialog.width() <= 1024 and dialog.height() <= 768
    table = dialog.table
    line = table.fontMetrics().lineSpacing()
    heights = [table.rowHeight(row) for row in range(dialog.model.rowCount())]
    # A few lines each (more only when the table has the room for them): every row is in view at once.
    assert max(heights) <= max(3 * line + 12, table.viewport().height() // len(heights)), heights
    assert sum(heights) <= table.viewport().height()
    assert_no_sideways_scrolling(table)
    # A cut "What to do" is whole in its tooltip.
    for row, entry in enumerate(dialog.model.entries):
        assert dialog.model.index(row, 1).data(TOOLTIP) == entry.action
    assert window.isVisible()


def test_matrix_amounts_are_shown_in_their_currency(qtbot, desktop):
    from dataclasses import replace

    from ui.matrix_dialog import AMOUNT, MatrixDialog

    entries = desktop._query("matrix")
    entries[0] = replace(entries[0], amount=48.0)
    dialog = MatrixDialog(entries, desktop.window, currency="USD")
    qtbot.addWidget(dialog)
    assert dialog.model.index(0, AMOUNT).data() == "48.00 USD"
    assert dialog.model.index(0, AMOUNT).data(Qt.ItemDataRole.EditRole) == "48.00"
    assert dialog.model.index(1, AMOUNT).data() == "the order's item value"
    # The seller may type the currency too: it is the same amount.
    assert dialog.model.setData(dialog.model.index(1, AMOUNT), "25 USD")
    assert dialog.model.entries[1].amount == 25.0
