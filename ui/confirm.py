"""Asking before something cannot be undone: one question, Cancel the default."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

REMOVE_DEMO_TITLE = "Remove the demo data?"
REMOVE_DEMO_TEXT = (
    "The demo seller's orders, feedback, claims and messages will be deleted, and the window stays empty until "
    "you import your own reports. Your own imports are never demo data, so nothing of yours is touched."
)


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """True when the seller answers Yes; Escape, Enter and closing the box mean Cancel."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes
