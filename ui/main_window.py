"""The main window: the views in tabs, the demo and alert banners, a status line, and files dropped
anywhere on it. It shows what it is given and emits what the seller asks for; `ui.application` wires
it to the background worker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services import MonitorState
from ui.account_bar import AccountBar
from ui.amazon_panel import AmazonHealthPanel
from ui.confirm import REMOVE_DEMO_TEXT, REMOVE_DEMO_TITLE, confirm
from ui.dashboard import DashboardView
from ui.import_dialog import FILE_FILTER
from ui.mark_undo import UndoOffer
from ui.messages_view import MessagesView
from ui.settings_view import SettingsView
from ui.tray import AlertBanner
from ui.triage_view import TriageView

VIEWS = ("dashboard", "messages", "triage", "settings", "amazon")
VIEW_TITLES = {
    "dashboard": "&Dashboard",
    "messages": "&Messages && clocks",
    "triage": "Tri&age",
    "settings": "Se&ttings",
    "amazon": "Amazon's &report",
}
MIN_SIZE = (640, 480)
NOTICE_SHOWN_S = 10
ERROR_SHOWN_S = 60
DEFAULT_SIZE = (1280, 760)


class DemoBanner(QFrame):
    """Says plainly that the figures are a demo seller's, with the way out."""

    clear_requested = Signal()

    def __init__(self):
        super().__init__()
        self.setStyleSheet("QFrame { background: #e3f2fd; border: 1px solid #90caf9; border-radius: 4px; }")
        text = QLabel(
            "<b>Demo data</b> — these figures belong to a made-up seller. Import your own reports (drop them "
            "on this window) and the demo data is replaced."
        )
        text.setWordWrap(True)
        button = QPushButton("Remove demo data…")
        button.clicked.connect(self._confirm)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(text, 1)
        layout.addWidget(button)

    def _confirm(self) -> None:
        if confirm(self, REMOVE_DEMO_TITLE, REMOVE_DEMO_TEXT):
            self.clear_requested.emit()


class MainWindow(QMainWindow):
    files_dropped = Signal(list)  # paths to import
    import_requested = Signal()
    close_to_tray = Signal()
    quit_requested = Signal()

    def __init__(self, db_path: Path, now):
        super().__init__()
        self.setWindowTitle("Account Health Monitor")
        self.setAcceptDrops(True)
        self.keep_in_tray = False
        self.quitting = False
        self.dashboard = DashboardView()
        self.messages = MessagesView(now)
        self.triage = TriageView(now)
        self.settings_view = SettingsView(db_path)
        self.triage.reply_copied.connect(self.notify)
        self.messages.reply_copied.connect(self.notify)
        self.messages.triage_items = lambda: self.triage.listing.items if self.triage.listing else []
        # Amazon's own figures on a page of their own: apart from the monitor's, and with room to read.
        self.amazon = AmazonHealthPanel()
        holder = QWidget()  # the panel at its own height, the rest of the page empty below it
        column = QVBoxLayout(holder)
        column.addWidget(self.amazon)
        column.addStretch(1)
        amazon_page = QScrollArea()
        amazon_page.setWidgetResizable(True)
        amazon_page.setFrameShape(QFrame.Shape.NoFrame)
        amazon_page.setWidget(holder)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.views: dict[str, QWidget] = {
            "dashboard": self.dashboard,
            "messages": self.messages,
            "triage": self.triage,
            "settings": self.settings_view,
            "amazon": amazon_page,
        }
        for name, widget in self.views.items():
            self.tabs.addTab(widget, VIEW_TITLES[name])
        self.demo_banner = DemoBanner()
        self.demo_banner.hide()
        self.alert_banner = AlertBanner()
        # The figures' date stays on the right; what just happened shows on the left for a while.
        self.status_text = QLabel("Computing the figures…")
        self.mail_status = QLabel("")
        self.mail_status.hide()
        self.statusBar().addPermanentWidget(self.mail_status)
        self.statusBar().addPermanentWidget(self.status_text)
        self.statusBar().messageChanged.connect(self._message_changed)
        # Permanent, so a passing message does not cover the Undo of a mark just made.
        self.undo_offer = UndoOffer(self)
        self.statusBar().insertPermanentWidget(0, self.undo_offer)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 4)
        self.account_bar = AccountBar()  # shown with more than one seller account
        layout.addWidget(self.account_bar)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.alert_banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._menus()
        self.dashboard.import_requested.connect(self.import_requested)
        self.messages.import_requested.connect(self.import_requested)
        self.setMinimumSize(*MIN_SIZE)
        self._drop_filter = DropFilter(self)
        QApplication.instance().installEventFilter(self._drop_filter)

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = self._action(file_menu, "&Import reports…", QKeySequence.StandardKey.Open)
        self.import_action.triggered.connect(self.import_requested)
        file_menu.addSeparator()
        quit_action = self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.quit_requested)
        view_menu = self.menuBar().addMenu("&View")
        for number, name in enumerate(VIEWS, start=1):
            action = self._action(view_menu, VIEW_TITLES[name], QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, view=name: self.show_view(view))

    def _action(self, menu, text: str, shortcut) -> QAction:
        action = menu.addAction(text)
        action.setShortcut(shortcut)
        self.addAction(action)
        return action

    # --- showing ------------------------------------------------------------------------------------------------

    def apply_state(self, state: MonitorState, figures: bool = True) -> None:
        """The live state; `figures` False keeps the dashboard on the past day the seller is looking at."""
        if figures:
            self.dashboard.show_state(state)
        else:
            self.dashboard.live_day = state.as_of
        self.messages.show_state(state)
        self.amazon.show_amazon(state.metrics.get("amazon"), state.settings.zone)
        self.demo_banner.setVisible(state.demo)
        computed = state.as_of.strftime("%a %d %b %Y")
        self.status_text.setText(
            f"Figures as of the end of {computed} ({state.timezone}) · "
            f"{len(state.clocks)} open clocks{' · demo data' if state.demo else ''}"
        )

    def notify(self, text: str, error: bool = False, seconds: float | None = None) -> None:
        """A passing message in the status bar: 10 s, an error a minute; `seconds` 0 keeps it until the next
        message (for what stays true, like a database that cannot be reached)."""
        if seconds is None:
            seconds = ERROR_SHOWN_S if error else NOTICE_SHOWN_S
        self.statusBar().setStyleSheet("QStatusBar { color: #c62828; }" if error else "")
        self.statusBar().showMessage(text, int(seconds * 1000))

    def _message_changed(self, text: str) -> None:
        # The red of an error colours the whole bar; it goes with the message, not with the next one.
        if not text:
            self.statusBar().setStyleSheet("")

    def show_view(self, name: str) -> None:
        self.tabs.setCurrentWidget(self.views[name])

    def current_view(self) -> str:
        return next(name for name, widget in self.views.items() if widget is self.tabs.currentWidget())

    def bring_to_front(self) -> None:
        self.show()
        self.setWindowState((self.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
        self.raise_()
        self.activateWindow()

    def ask_for_files(self) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import reports", str(Path.home()), FILE_FILTER)
        return paths

    # --- window life ------------------------------------------------------------------------------------------

    def restore_geometry(self, settings: QSettings) -> None:
        """The size and place the seller left the window in (kept on screen when the screen is smaller)."""
        size = settings.value("window/size")
        width, height = (size.width(), size.height()) if size is not None else DEFAULT_SIZE
        screen = QApplication.primaryScreen().availableGeometry()
        if screen.width() >= MIN_SIZE[0] and screen.height() >= MIN_SIZE[1]:
            width, height = min(width, screen.width()), min(height, screen.height())
        self.resize(width, height)
        position = settings.value("window/position")
        if position is not None and screen.contains(position):
            self.move(position)
        if settings.value("window/maximized", False, type=bool):
            self.setWindowState(Qt.WindowState.WindowMaximized)

    def save_geometry(self, settings: QSettings) -> None:
        maximized = self.isMaximized()
        settings.setValue("window/maximized", maximized)
        if not maximized:
            settings.setValue("window/size", self.size())
            settings.setValue("window/position", self.pos())
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.keep_in_tray and not self.quitting:
            event.ignore()
            self.hide()
            self.close_to_tray.emit()
            return
        event.accept()
        if not self.quitting:
            self.quit_requested.emit()


class DropFilter(QObject):
    """Accepts report files dropped anywhere on the window, whatever child widget is under the pointer."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self.window:
            return False
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return False
        event.acceptProposedAction()
        if kind == QEvent.Type.Drop:
            self.window.files_dropped.emit(paths)
        return True
