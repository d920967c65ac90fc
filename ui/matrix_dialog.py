"""The escalation matrix, editable: per category what to do, who does it, within how long, up to what
amount without asking, and the reply template the seller copies from an item. Cells are checked as they are
edited, the selected row's template as it is typed (placeholders, and Amazon's Communication Guidelines);
Save hands the changed rows to the worker."""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import guidelines, reply_templates
from app.triage import NO_REFUND_CATEGORIES, MatrixEntry, check_matrix_entry, default_matrix
from ui.confirm import confirm

LABEL, ACTION, WHO, HOURS, AMOUNT = range(5)
HEADERS = ("Category", "What to do", "Who", "Within", "Pre-approved up to")
ITEM_VALUE = "the order's item value"
NO_REFUND = "— (nothing to refund)"
AMOUNT_TIP = "A fixed amount is in the order's own currency; empty: the order's item value"
MOST_LINES = 3  # a row shows this many lines of what to do; the rest is in its tooltip
ROW_PADDING = 8
LABEL_WIDTH = 190  # the longest category wraps on two lines
TEMPLATE_LINES = 7  # the template editor shows this many lines before it scrolls
# The guidelines are checked once typing pauses this long: on a long text the check takes a noticeable time,
# and a key press never waits on it.
CHECK_DELAY_MS = 250
MOST_BREACHES = 4  # phrases listed under the editor; more would push the dialog off a laptop's screen
PLACEHOLDER_HELP = (
    "Placeholders: "
    + ", ".join(f"<b>{{{name}}}</b> {html.escape(words)}" for name, words in reply_templates.PLACEHOLDERS.items())
    + ". Text in [square brackets] around a placeholder is left out when its value is unknown."
)
Index = QModelIndex | QPersistentModelIndex


def listing_currency(listing) -> str | None:
    """The one currency the triage list's orders are in, for the matrix's amounts; None when there is none
    or there are several (a fixed amount is then in each order's own currency)."""
    currencies = {item.suggestion.currency for item in listing.items if item.suggestion.currency} if listing else ()
    return next(iter(currencies)) if len(currencies) == 1 else None


class MatrixModel(QAbstractTableModel):
    """The matrix rows; `edited` holds the rows the seller changed (checked entries)."""

    rejected = Signal(str)

    def __init__(self, entries: list[MatrixEntry], currency: str | None = None):
        super().__init__()
        self.entries = list(entries)
        self.currency = currency
        self.edited: dict[tuple[str, str], MatrixEntry] = {}
        self.unsaveable: dict[tuple[str, str], str] = {}  # templates typed that cannot be saved, and why

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {HOURS: "Hours to respond within", AMOUNT: AMOUNT_TIP}.get(section)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = super().flags(index)
        fixed = index.column() == LABEL or (
            index.column() == AMOUNT and self.entries[index.row()].category in NO_REFUND_CATEGORIES
        )
        return flags if fixed else flags | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._value(entry, index.column(), role == Qt.ItemDataRole.EditRole)
        if role == Qt.ItemDataRole.ToolTipRole:  # whole, whatever the row's few lines cut
            return self._value(entry, index.column(), False)
        if role == Qt.ItemDataRole.FontRole and entry.customised and index.column() == LABEL:
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def _value(self, entry: MatrixEntry, column: int, editing: bool):
        if column == LABEL:
            return entry.label
        if column == ACTION:
            return entry.action
        if column == WHO:
            return entry.who
        if column == HOURS:
            return f"{entry.response_hours:g}" if editing else f"{entry.response_hours:g} h"
        if entry.category in NO_REFUND_CATEGORIES:
            return "" if editing else NO_REFUND
        if entry.amount is None:
            return "" if editing else ITEM_VALUE
        if editing or not self.currency:
            return f"{entry.amount:.2f}"
        return f"{entry.amount:.2f} {self.currency}"

    def setData(self, index: Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        entry = self.entries[index.row()]
        text = str(value).strip()
        fields = {"action": entry.action, "who": entry.who, "response_hours": entry.response_hours}
        amount = entry.amount
        column = index.column()
        if column == ACTION:
            fields["action"] = text
        elif column == WHO:
            fields["who"] = text
        elif column == HOURS:
            fields["response_hours"] = text.removesuffix("h").strip().replace(",", ".")
        elif column == AMOUNT:
            if self.currency and text.upper().endswith(self.currency.upper()):
                text = text[: -len(self.currency)].strip()  # the amount as shown, currency and all
            amount = None if not text or text == ITEM_VALUE else text.replace(",", ".")
        try:
            checked = check_matrix_entry(entry.category, entry.case, amount=amount, **fields)
        except ValueError as error:
            self.rejected.emit(f"{entry.label}: {error}")
            return False
        self._store(index.row(), replace(checked, template=entry.template))
        return True

    def set_template(self, row: int, text: str) -> str | None:
        """Take the template typed for a row; the problem that keeps it from being saved, or None."""
        entry = self.entries[row]
        key = (entry.category, entry.case)
        try:
            checked = check_matrix_entry(
                entry.category, entry.case, entry.action, entry.who, entry.response_hours, entry.amount, text
            )
        except ValueError as error:
            self.unsaveable[key] = f"{entry.label}: {error}"
            return str(error)
        self.unsaveable.pop(key, None)
        if checked.template != entry.template:
            self._store(row, checked)
        return None

    def _store(self, row: int, checked: MatrixEntry) -> None:
        self.entries[row] = replace(checked, customised=True)
        self.edited[(checked.category, checked.case)] = self.entries[row]
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))


class TemplateEditor(QWidget):
    """The selected row's reply template: a multi-line editor, the placeholders it may use, and what is
    wrong with it as the seller types (an unknown placeholder; a phrase against Amazon's guidelines)."""

    def __init__(self):
        super().__init__()
        self.title = QLabel("&Reply template")
        self.title.setStyleSheet("font-weight: 600;")
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)  # Tab moves on to the buttons: a reply needs no tab characters
        self.text.setAccessibleName("Reply template")
        self.title.setBuddy(self.text)
        self.text.setMinimumHeight(self.text.fontMetrics().lineSpacing() * TEMPLATE_LINES + 12)
        self.default_button = QPushButton("Default &template")
        self.default_button.setToolTip("Put back the shipped template of this row")
        self.placeholders = QLabel(PLACEHOLDER_HELP)
        self.placeholders.setWordWrap(True)
        self.placeholders.setStyleSheet("color: #555;")
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.default_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.placeholders)
        layout.addWidget(self.problems)

    def show_problems(self, unknown: str | None, breaches: list[guidelines.Breach], cut: bool = False) -> None:
        """What keeps the template from being saved, and each phrase against the guidelines with its rule
        (`cut`: only the template's first MAX_TEMPLATE characters were checked against them)."""
        lines = []
        if unknown:
            lines.append(f"<span style='color:#c0392b'><b>Cannot be saved:</b> {html.escape(unknown)}</span>")
        if cut:
            lines.append(
                f"<span style='color:#555'>Only the first {reply_templates.MAX_TEMPLATE} characters are checked "
                "against Amazon's guidelines.</span>"
            )
        found = Counter((b.rule, b.phrase.lower()) for b in breaches)
        as_written = {(b.rule, b.phrase.lower()): b.phrase for b in reversed(breaches)}  # its first spelling
        for (rule, key), times in list(found.items())[:MOST_BREACHES]:
            phrase = as_written[(rule, key)]
            again = f" ({times} times)" if times > 1 else ""
            lines.append(
                f"<span style='color:#c0392b'><b>Against Amazon's guidelines:</b> “{html.escape(phrase)}”{again} — "
                f"{html.escape(guidelines.RULES.get(rule, rule))}</span>"
            )
        if len(found) > MOST_BREACHES:
            lines.append(f"<span style='color:#c0392b'>… and {len(found) - MOST_BREACHES} more phrases</span>")
        if not breaches and not unknown:
            lines.append("<span style='color:#2e7d32'>Follows Amazon's Communication Guidelines.</span>")
        self.problems.setText("<br>".join(lines))


class MatrixDialog(QDialog):
    """Shows and edits the matrix; `save_requested` carries the changed entries, `reset_requested` asks for
    the shipped defaults."""

    save_requested = Signal(list)
    reset_requested = Signal()

    def __init__(self, entries: list[MatrixEntry], parent=None, currency: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Escalation matrix")
        room = self.screen().availableGeometry().size() * 0.95
        self.resize(QSize(1100, 760).boundedTo(room))
        self.model = MatrixModel(entries, currency)
        self.model.rejected.connect(lambda message: QMessageBox.warning(self, "Not changed", message))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LABEL, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(ACTION, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(LABEL, LABEL_WIDTH)
        # Rows follow the width "What to do" gets, once the dialog has its size and whenever it changes.
        header.sectionResized.connect(lambda *_: self._fit_rows())
        self.model.dataChanged.connect(lambda *_: self._fit_rows())
        intro = QLabel(
            "Per kind of item: what to do, who, within how long, the refund or replacement approved in advance "
            "(empty: the item value), and the reply Copy reply puts on the clipboard. Double-click a cell to edit."
        )
        intro.setWordWrap(True)
        self.editor = TemplateEditor()
        self.editor.text.textChanged.connect(self._template_typed)
        self.editor.default_button.clicked.connect(self._default_template)
        self.shown_row: int | None = None
        self.breaches: list[guidelines.Breach] = []  # the guidelines check of the text as it last paused
        self.check_timer = QTimer(self)
        self.check_timer.setSingleShot(True)
        self.check_timer.setInterval(CHECK_DELAY_MS)
        self.check_timer.timeout.connect(self._check_guidelines)
        self.typed: dict[int, str] = {}  # templates typed that cannot be saved yet: kept as typed, by row
        # The templates on a page of their own: the table keeps the room to show every row of advice at once.
        self.rows = QListWidget()
        self.rows.setAccessibleName("Category of the template")
        self.rows.addItems([entry.label for entry in self.model.entries])
        self.rows.setMaximumWidth(LABEL_WIDTH + 40)
        self.rows.setWordWrap(True)  # the longest categories on two lines rather than cut
        self.rows.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.rows.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.rows.currentRowChanged.connect(self._show_template)
        self.table.selectionModel().currentChanged.connect(lambda current, _: self.rows.setCurrentRow(current.row()))
        templates = QWidget()
        side_by_side = QHBoxLayout(templates)
        side_by_side.addWidget(self.rows)
        side_by_side.addWidget(self.editor, 1)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)  # no frame: its margins are a row of advice on a small screen
        self.pages.addTab(self.table, "Resolution &paths")
        self.pages.addTab(templates, "Reply te&mplates")
        reset = QPushButton("Reset to the defaults…")
        reset.clicked.connect(self._reset)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(reset, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.buttons)
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, LABEL))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_rows()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def _fit_rows(self) -> None:
        """Each row as tall as its words at the columns' widths, up to MOST_LINES lines or its share of the
        table if that is more: every row of advice stays in view, none a quarter of the screen tall."""
        rows = self.model.rowCount()
        share = self.table.viewport().height() // rows if rows else 0
        most = max(MOST_LINES * self.table.fontMetrics().lineSpacing() + ROW_PADDING, share)
        for row in range(rows):
            height = min(self.table.sizeHintForRow(row), most)
            if self.table.rowHeight(row) != height:
                self.table.setRowHeight(row, height)

    # --- the template of the selected row ---

    def _show_template(self, row: int) -> None:
        if row < 0 or row == self.shown_row:
            return
        self.shown_row = None  # no row takes the text while it is replaced
        entry = self.model.entries[row]
        self.editor.title.setText(f"&Reply template: {entry.label}")
        self.editor.text.setPlainText(self.typed.get(row, entry.template))
        self.shown_row = row
        self._check_guidelines()  # a row's saved template is short: checked at once

    def _template_typed(self) -> None:
        if self.shown_row is None:
            return
        text = self.editor.text.toPlainText()
        if self.model.set_template(self.shown_row, text) is None:
            self.typed.pop(self.shown_row, None)
        else:
            self.typed[self.shown_row] = text
        # What cannot be saved is said at once (it costs nothing); the guidelines once typing pauses.
        self._show_problems()
        self.check_timer.start()

    def _check_guidelines(self) -> None:
        """The guidelines check of the text in the editor, on at most the longest template there can be:
        text pasted far over it cannot be saved anyway, and checking all of it would freeze the window."""
        self.check_timer.stop()
        self.breaches = guidelines.check(self.editor.text.toPlainText()[: reply_templates.MAX_TEMPLATE])
        self._show_problems()

    def _show_problems(self) -> None:
        text = self.editor.text.toPlainText()
        problem = None
        try:
            reply_templates.check_template(text)
        except ValueError as error:
            problem = str(error)
        self.editor.show_problems(problem, self.breaches, cut=len(text) > reply_templates.MAX_TEMPLATE)

    def _default_template(self) -> None:
        if self.shown_row is None:
            return
        entry = self.model.entries[self.shown_row]
        self.editor.text.setPlainText(default_matrix()[(entry.category, entry.case)].template)
        self.editor.text.setFocus()

    # --- saving ---

    def _save(self) -> None:
        if self.model.unsaveable:
            QMessageBox.warning(self, "Not saved", "\n".join(self.model.unsaveable.values()))
            return
        flagged = [
            (entry, breach) for entry in self.model.edited.values() for breach in guidelines.check(entry.template)
        ]
        if flagged and not confirm(self, "Save a template against the guidelines?", breach_question(flagged)):
            return
        if self.model.edited:
            self.save_requested.emit(list(self.model.edited.values()))
        self.accept()

    def _reset(self) -> None:
        if confirm(
            self, "Reset the matrix?", "Every category goes back to the shipped resolution path; your changes are lost."
        ):
            self.reset_requested.emit()
            self.accept()


def breach_question(flagged: list[tuple[MatrixEntry, guidelines.Breach]]) -> str:
    """The confirmation's words: each flagged phrase, its rule and the row's template it is in."""
    lines = [
        f"{entry.label}: “{breach.phrase}” — {guidelines.RULES.get(breach.rule, breach.rule)}"
        for entry, breach in flagged
    ]
    return (
        "Amazon suspends sellers whose messages break its Communication Guidelines:\n\n"
        + "\n".join(lines)
        + "\n\nThe check can be wrong. Save the template as it is?"
    )
