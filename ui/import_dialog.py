"""Importing files from the window: a progress bar with the rows read so far, Cancel, then a summary per
file with its rejected lines. The work runs on the background worker; this dialog only listens."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar, QTextBrowser, QVBoxLayout

from app.imports import FileResult, Progress

SHOWN_REJECTIONS = 50
FILE_FILTER = "Amazon reports and e-mails (*.txt *.tsv *.csv *.json *.mbox *.eml *.gz *.zip);;All files (*)"


class ImportDialog(QDialog):
    """One import of one or more files. Cancel emits `cancel_requested` (the app asks the database's process
    to stop the import; the file being imported is rolled back)."""

    finished_import = Signal(object)
    cancel_requested = Signal()

    def __init__(self, paths: Sequence[str | Path], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import reports")
        self.setMinimumWidth(560)
        self.paths = [Path(path) for path in paths]
        self.results: list[FileResult] | None = None
        names = ", ".join(path.name for path in self.paths[:3]) + ("…" if len(self.paths) > 3 else "")
        self.heading = QLabel(f"Importing {len(self.paths)} file{'s' if len(self.paths) != 1 else ''}: {names}")
        self.heading.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.rows = QLabel("Starting…")
        self.summary = QTextBrowser()
        self.summary.setOpenLinks(False)
        self.summary.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.cancel_or_close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.progress)
        layout.addWidget(self.rows)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.buttons)

    def cancel(self) -> None:
        """Ask for the import to stop: the file being imported is rolled back."""
        self.cancel_requested.emit()

    def cancel_or_close(self) -> None:
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
        for rejection in result.rejections[:SHOWN_REJECTIONS]:
            lines.append(f"<br>&nbsp;&nbsp;line {rejection.line}: {html.escape(rejection.reason)}")
        if result.rejected > SHOWN_REJECTIONS:
            lines.append(f"<br>&nbsp;&nbsp;… and {result.rejected - SHOWN_REJECTIONS:,} more rejected lines")
        parts.append("".join(lines) + "</p>")
    return "".join(parts)
