"""Taking back the seller's latest mark from the status bar, for a few seconds after it was made."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from app.marks import Mark

UNDO_SHOWN_S = 10  # long enough to notice a slip of Ctrl+R, short enough not to linger over the next task


class UndoOffer(QWidget):
    """The latest mark, "Marked replied: order 111-… — Undo (Ctrl+Z)", in the status bar for UNDO_SHOWN_S s.

    Only the latest mark is offered: a seller working down the list with Ctrl+R expects Ctrl+Z to take back
    the one just made, not one of a minute ago. Every mark stays undoable in its order's timeline.
    """

    undo_requested = Signal(object)  # the Mark

    def __init__(self, window: QWidget):
        super().__init__()
        self.mark: Mark | None = None
        self.shown_ms = UNDO_SHOWN_S * 1000
        self.label = QLabel()
        self.button = QToolButton()
        self.button.setText("Undo (Ctrl+Z)")
        self.button.setAutoRaise(True)
        self.button.setStyleSheet("QToolButton { color: palette(link); font-weight: bold; }")
        self.button.clicked.connect(self.undo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(2)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.withdraw)
        # On the window, not on this widget: the seller's focus is in the table when the mark is made.
        self.shortcut = QShortcut(QKeySequence.StandardKey.Undo, window, activated=self.undo)
        self.shortcut.setEnabled(False)
        self.hide()

    def offer(self, mark: Mark) -> None:
        self.mark = mark
        self.label.setText(f"{mark.words}: {mark.subject} —")
        self.button.setToolTip(f"Take the mark back: the message is as it was before ({self.shown_ms // 1000} s)")
        self.show()
        self.shortcut.setEnabled(True)
        self.timer.start(self.shown_ms)

    def withdraw(self, mark: Mark | None = None) -> None:
        """Stop offering (the offered mark only, when `mark` is given: it was taken back elsewhere)."""
        if mark is not None and mark != self.mark:
            return
        self.timer.stop()
        self.mark = None
        self.shortcut.setEnabled(False)
        self.hide()

    def undo(self) -> None:
        mark = self.mark
        if mark is not None:
            self.withdraw()
            self.undo_requested.emit(mark)
