"""The escalation matrix, editable: per category what to do, who does it, within how long, and up to what
amount without asking. Cells are checked as they are edited; Save hands the changed rows to the worker."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
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
HEADERS = ("Category", "What to do", "Who", "Within (hours)", "Pre-approved up to")
ITEM_VALUE = "the order's item value"
Index = QModelIndex | QPersistentModelIndex


class MatrixModel(QAbstractTableModel):
    """The matrix rows; `edited` holds the rows the seller changed (checked entries)."""

    rejected = Signal(str)

    def __init__(self, entries: list[MatrixEntry]):
        super().__init__()
        self.entries = list(entries)
        self.edited: dict[tuple[str, str], MatrixEntry] = {}

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
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
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == ACTION:
            return entry.action
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
            return f"{entry.response_hours:g}"
        if entry.amount is None:
            return "" if editing else ITEM_VALUE
        return f"{entry.amount:.2f}"

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
            fields["response_hours"] = text.replace(",", ".")
        elif column == AMOUNT:
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

    def __init__(self, entries: list[MatrixEntry], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Escalation matrix")
        self.resize(1100, 520)
        self.model = MatrixModel(entries)
        self.model.rejected.connect(lambda message: QMessageBox.warning(self, "Not changed", message))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ACTION, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
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
