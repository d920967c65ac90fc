"""Which seller account the window shows, and the others one click away, each with its worst status.

Shown only when the seller has more than one account. Each account is a button (Ctrl+Alt+1, 2, … from the
keyboard); the open one is pressed, so the window always says whose figures these are.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QToolButton, QWidget

from ui.icons import status_icon
from ui.theme import NO_DATA, STATUS_WORDS

MAX_SHORTCUTS = 9


class AccountBar(QWidget):
    chosen = Signal(str)  # the account the seller wants to see

    def __init__(self):
        super().__init__()
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 2)
        self.layout_.setSpacing(4)
        self.caption = QLabel("Account:")
        self.layout_.addWidget(self.caption)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        self.shortcuts: list[QShortcut] = []
        self.layout_.addStretch(1)
        self.current: str | None = None
        self.tips: dict[str, str] = {}
        # The open account must stand out from the others at a glance, not only by a sunken edge.
        self.setStyleSheet(
            "QToolButton { padding: 2px 8px; border: 1px solid #b0b0b0; border-radius: 3px; }"
            "QToolButton:checked { font-weight: bold; background: #e3f2fd; border: 2px solid #1565c0; }"
        )
        self.hide()

    def set_accounts(self, names: list[str], current: str) -> None:
        for button in self.buttons.values():
            self.group.removeButton(button)
            button.deleteLater()
        for shortcut in self.shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self.buttons, self.shortcuts = {}, []
        for number, name in enumerate(names, start=1):
            self.buttons[name] = self._button(name, number)
        self.set_current(current)
        self.setVisible(len(names) > 1)

    def set_current(self, name: str) -> None:
        """The account the window shows, pressed."""
        self.current = name
        self.buttons[name].setChecked(True)

    def _button(self, name: str, number: int) -> QToolButton:
        button = QToolButton()
        button.setText(name)
        button.setCheckable(True)
        button.setAutoRaise(False)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setIcon(status_icon(NO_DATA))
        button.setAccessibleName(f"Account {name}")
        button.clicked.connect(lambda _=False, name=name: self._clicked(name))
        self.group.addButton(button)
        self.layout_.insertWidget(self.layout_.count() - 1, button)
        if number <= MAX_SHORTCUTS:
            shortcut = QShortcut(QKeySequence(f"Ctrl+Alt+{number}"), self.window())
            shortcut.activated.connect(lambda name=name: self._clicked(name))
            self.shortcuts.append(shortcut)
            self.tips[name] = f"Show the account {name} (Ctrl+Alt+{number})"
        else:
            self.tips[name] = f"Show the account {name}"
        button.setToolTip(self.tips[name])
        return button

    def _clicked(self, name: str) -> None:
        if name != self.current:
            self.buttons[self.current].setChecked(True)  # stays pressed until the switch happened
            self.chosen.emit(name)

    def set_status(self, name: str, status: str, summary: str) -> None:
        """An account's worst status on its button, and in words in its tooltip."""
        button = self.buttons.get(name)
        if button is None:
            return
        button.setIcon(status_icon(status))
        words = STATUS_WORDS.get(status, status)
        button.setAccessibleDescription(words)
        button.setToolTip(f"{self.tips[name]}\n{words}" + (f" — {html.escape(summary)}" if summary else ""))
