"""The escalation matrix, editable: per category what to do, who does it, within how long, and up to what
amount without asking. Cells are checked as they are edited; Save hands the changed rows to the worker."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.triage import MatrixEntry, check_matrix_entry
from ui.confirm import confirm

LABEL, ACTION, WHO, HOURS, AMOUNT = range(5)
HEADERS = ("Category", "What to do", "Who", "Within", "Pre-approved up to")
ITEM_VALUE = "the order's item value"
AMOUNT_TIP = "A fixed amount is in the order's own currency; empty: the order's item value"
MOST_LINES = 3  # a row shows this many lines of what to do; the rest is in its tooltip
ROW_PADDING = 8
LABEL_WIDTH = 190  # the longest category wraps on two lines
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
        return flags if index.column() == LABEL else flags | Qt.ItemFlag.ItemIsEditable

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
        self.entries[index.row()] = replace(checked, customised=True)
        self.edited[(entry.category, entry.case)] = checked
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), len(HEADERS) - 1))
        return True


class MatrixDialog(QDialog):
    """Shows and edits the matrix; `save_requested` carries the changed entries, `reset_requested` asks for
    the shipped defaults."""

    save_requested = Signal(list)
    reset_requested = Signal()

    def __init__(self, entries: list[MatrixEntry], parent=None, currency: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Escalation matrix")
        room = self.screen().availableGeometry().size() * 0.95
        self.resize(QSize(1100, 680).boundedTo(room))
        self.model = MatrixModel(entries, currency)
        self.model.rejected.connect(lambda message: QMessageBox.warning(self, "Not changed", message))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
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
            "What to do about each kind of item, who does it, within how many hours, and the refund or "
            "replacement you approve in advance (empty: the order's item value). Double-click a cell to edit."
        )
        intro.setWordWrap(True)
        reset = QPushButton("Reset to the defaults…")
        reset.clicked.connect(self._reset)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(reset, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)

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

    def _save(self) -> None:
        if self.model.edited:
            self.save_requested.emit(list(self.model.edited.values()))
        self.accept()

    def _reset(self) -> None:
        if confirm(
            self, "Reset the matrix?", "Every category goes back to the shipped resolution path; your changes are lost."
        ):
            self.reset_requested.emit()
            self.accept()
