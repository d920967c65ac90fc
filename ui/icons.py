"""The status icon (tray and window): a coloured disc, so the worst status shows at a glance, with a mark
that does not rely on colour alone (✓ good, ! at risk, ✕ over the limit, ? no data)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from ui.theme import STATUS_COLOURS

MARKS = {"good": "✓", "at_risk": "!", "breach": "✕", "insufficient_data": "?"}


def status_pixmap(status: str, size: int = 64) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(STATUS_COLOURS.get(status, STATUS_COLOURS["insufficient_data"])))
    margin = size * 0.06
    painter.drawEllipse(QRectF(margin, margin, size - 2 * margin, size - 2 * margin))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.56))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, MARKS.get(status, "?"))
    painter.end()
    return pixmap


def status_icon(status: str) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        icon.addPixmap(status_pixmap(status, size))
    return icon


def render_app_icon(size: int) -> QImage:
    """The app's own icon (menu, window, bundle), drawn from its SVG at one size."""
    from app.menu_entry import SOURCE_ICONS, SVG_NAME

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(SOURCE_ICONS / SVG_NAME)).render(painter)
    painter.end()
    return image
