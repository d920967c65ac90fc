"""Colours and words for statuses and urgency, shared by every view, the tray icon and the charts."""

from __future__ import annotations

from PySide6.QtGui import QColor

GOOD, AT_RISK, BREACH, NO_DATA = "good", "at_risk", "breach", "insufficient_data"
STATUS_COLOURS = {GOOD: "#2e7d32", AT_RISK: "#b26a00", BREACH: "#c62828", NO_DATA: "#6b6b6b"}
STATUS_WORDS = {GOOD: "Good", AT_RISK: "At risk", BREACH: "Over the limit", NO_DATA: "No data"}
# Countdown urgency: amber under 6 h, red under 2 h, dark red once overdue (the alert thresholds' defaults).
AMBER_S, RED_S = 6 * 3600, 2 * 3600
URGENCY_COLOURS = {"overdue": "#8e0000", "red": "#c62828", "amber": "#b26a00", "calm": "#1b1b1b"}
URGENCY_BACKGROUNDS = {"overdue": "#f9d6d5", "red": "#fde4e1", "amber": "#fff1d6", "calm": None}
FBA_COLOUR, FBM_COLOUR, ALL_COLOUR, LIMIT_COLOUR = "#1565c0", "#8e24aa", "#212121", "#c62828"


def urgency(remaining_s: float, amber_s: float = AMBER_S, red_s: float = RED_S) -> str:
    if remaining_s < 0:
        return "overdue"
    if remaining_s < red_s:
        return "red"
    if remaining_s < amber_s:
        return "amber"
    return "calm"


def qcolor(name: str | None) -> QColor | None:
    return QColor(name) if name else None
