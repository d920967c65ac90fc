"""Importing files from the window: a progress bar with the rows read so far, Cancel, then a summary per
file with its rejected lines. The work runs on the background worker; this dialog only listens.

A seller in more than one marketplace is asked first which marketplace a row of an order not imported yet
belongs to (feedback, a return, a claim or a message on an order from a report still to come); a seller in
one marketplace is not asked, and the summary says which marketplace such rows were given."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.imports import FileResult, Progress
from app.marketplaces import CODES, SALES_CHANNELS

SHOWN_REJECTIONS = 50
FILE_FILTER = "Amazon reports and e-mails (*.txt *.tsv *.csv *.json *.mbox *.eml *.gz *.zip);;All files (*)"
SITES = {code: "Amazon" + channel.removeprefix("amazon") for channel, code in SALES_CHANNELS.items()}


def marketplace_choices(home: str, sold_in: Sequence[str]) -> tuple[list[str], list[str]]:
    """The likely answers (the home marketplace, then the seller's others in alphabetical order), and every
    other marketplace in alphabetical order."""
    mine = [home, *sorted(set(sold_in) - {home})]
    return mine, sorted(set(CODES) - set(mine))


class ImportDialog(QDialog):
    """One import of one or more files. Cancel emits `cancel_requested` (the app asks the database's process
    to stop the import; the file being imported is rolled back)."""

    finished_import = Signal(object)
    cancel_requested = Signal()
    start_requested = Signal(object)  # the marketplace of rows whose order is unknown (None: the home one)

    def __init__(self, paths: Sequence[str | Path], parent=None, home: str | None = None, sold_in: Sequence[str] = ()):
        """`home`: the home marketplace; `sold_in`: the seller's marketplaces. With more than one, the dialog
        asks which marketplace rows of unknown orders take before `start` (the Import button) is pressed."""
        super().__init__(parent)
        self.setWindowTitle("Import reports")
        self.setMinimumWidth(560)
        self.paths = [Path(path) for path in paths]
        self.results: list[FileResult] | None = None
        self.started = False
        self.asking = home is not None and len({home, *sold_in}) > 1
        self.marketplace = home
        names = ", ".join(path.name for path in self.paths[:3]) + ("…" if len(self.paths) > 3 else "")
        self.files_text = f"{len(self.paths)} file{'s' if len(self.paths) != 1 else ''}: {names}"
        self.heading = QLabel(f"{'Import' if self.asking else 'Importing'} {self.files_text}")
        self.heading.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.rows = QLabel("Starting…")
        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        self.summary.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.cancel_or_close)
        self.choice = self._marketplace_choice(home, sold_in)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.choice)
        layout.addWidget(self.progress)
        layout.addWidget(self.rows)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.buttons)
        if self.asking:
            self.progress.hide()
            self.rows.hide()
            self.import_button = QPushButton("&Import")
            self.import_button.setDefault(True)
            self.import_button.clicked.connect(self.start)
            self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.AcceptRole)
        else:
            self.choice.hide()

    def _marketplace_choice(self, home: str | None, sold_in: Sequence[str]) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.marketplace_choice = QComboBox()
        mine, others = marketplace_choices(home, sold_in) if home else ([], [])
        for code in mine:
            self.marketplace_choice.addItem(f"{code} — {SITES.get(code, code)}", code)
        self.marketplace_choice.insertSeparator(len(mine))
        for code in others:
            self.marketplace_choice.addItem(f"{code} — {SITES.get(code, code)}", code)
        label = QLabel("&Marketplace for rows whose order is unknown:")
        label.setBuddy(self.marketplace_choice)
        label.setWordWrap(True)
        form.addRow(label, self.marketplace_choice)
        note = QLabel(
            "Feedback, returns, claims and messages take their order's marketplace. A row for an order not "
            "imported yet takes this one until its order is imported, and a feedback file's dates are read "
            "as this marketplace writes them."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        form.addRow(note)
        return box

    def start(self) -> None:
        """Start the import (at once for a seller in one marketplace, from the Import button otherwise)."""
        if self.started:
            return
        self.started = True
        if self.asking:
            self.marketplace = self.marketplace_choice.currentData()
            self.heading.setText(
                f"Importing {self.files_text}\nRows for orders not imported yet: the {self.marketplace} marketplace."
            )
            self.choice.hide()
            self.buttons.removeButton(self.import_button)
            self.import_button.hide()
            self.progress.show()
            self.rows.show()
        self.start_requested.emit(self.marketplace)

    def cancel(self) -> None:
        """Ask for the import to stop: the file being imported is rolled back."""
        self.cancel_requested.emit()

    def cancel_or_close(self) -> None:
        if not self.started and self.results is None:  # nothing was sent to import: the dialog just closes
            self.results = []
            super().reject()
            return
        if self.results is None:
            self.cancel()
            self.rows.setText("Cancelling: the file being imported is rolled back, nothing of it is kept…")
            self.buttons.setEnabled(False)
            return
        self.accept()

    def reject(self) -> None:  # Escape and the window's close button cancel a running import too
        self.cancel_or_close()

    def on_progress(self, progress: Progress) -> None:
        if self.results is not None:
            return
        if progress.total_bytes and progress.bytes_read:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, progress.bytes_read / progress.total_bytes)))
        self.rows.setText(f"{progress.file}: {progress.rows:,} rows read")

    def on_finished(self, results: list[FileResult]) -> None:
        self.results = results
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        refused = sum(1 for result in results if result.outcome == "refused")
        cancelled = any(result.outcome == "cancelled" for result in results)
        self.rows.setText(
            "Import cancelled." if cancelled else f"Done: {len(results) - refused} imported, {refused} refused."
        )
        self.summary.setHtml(results_html(results))
        self.summary.show()
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)
        self.buttons.setEnabled(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setFocus(Qt.FocusReason.OtherFocusReason)
        self.finished_import.emit(results)


def results_html(results: Sequence[FileResult]) -> str:
    """Per file: what it was, what happened to its rows, and the lines that were rejected."""
    parts = []
    for result in results:
        name = html.escape(result.file)
        if result.outcome == "refused":
            parts.append(
                f"<p><b style='color:#c62828'>✗ {name}: refused.</b><br>{html.escape(result.message or '')}</p>"
            )
            continue
        if result.outcome in ("no_rows", "cancelled"):
            label = f" ({html.escape(result.kind_label)})" if result.kind_label else ""
            parts.append(f"<p><b>{name}</b>{label}: {html.escape(result.message or '')}</p>")
            continue
        counts = (
            f"{result.rows:,} rows: {result.added:,} added, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged, {result.rejected:,} rejected"
        )
        if result.ignored:
            counts += f", {result.ignored:,} skipped (not from Amazon)"
        mark = "⚠" if result.rejected else "✓"
        colour = "#b26a00" if result.rejected else "#2e7d32"
        lines = [f"<p><b style='color:{colour}'>{mark} {name}</b> — {html.escape(result.kind_label or '')}<br>{counts}"]
        lines += [f"<br><i>{html.escape(note)}</i>" for note in result.notes]
        if result.unknown_order_words:
            lines.append(f"<br>{html.escape(result.unknown_order_words)}")
        for rejection in result.rejections[:SHOWN_REJECTIONS]:
            lines.append(f"<br>&nbsp;&nbsp;line {rejection.line}: {html.escape(rejection.reason)}")
        if result.rejected > SHOWN_REJECTIONS:
            lines.append(f"<br>&nbsp;&nbsp;… and {result.rejected - SHOWN_REJECTIONS:,} more rejected lines")
        parts.append("".join(lines) + "</p>")
    return "".join(parts)
