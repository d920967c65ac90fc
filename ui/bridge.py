"""The one QObject that carries results from the background worker to the GUI thread.

The worker calls these methods on its own thread; each emits a signal, and Qt queues the call into the
GUI thread's event loop because the receivers live there. Nothing on the worker touches a widget.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Bridge(QObject):
    """Implements the scheduler's Listener and the alerts' AlertSink by emitting signals."""

    state_ready = Signal(object)  # services.MonitorState
    import_progressed = Signal(object)  # imports.Progress
    import_finished = Signal(object)  # list[imports.FileResult]
    job_failed = Signal(str, str)  # what, message
    alert_raised = Signal(object)  # alerts.Alert
    sync_status_changed = Signal(object)  # mailsync.SyncStatus
    folder_imported = Signal(object)  # list[imports.FileResult] from the watched folder
    triage_ready = Signal(object)  # triage.TriageList
    job_finished = Signal(str, object)  # what, the action's result


class WorkerListener:
    """Adapts the Bridge to the scheduler's Listener names (a signal and a method cannot share a name)."""

    def __init__(self, bridge: Bridge):
        self.bridge = bridge

    def state_ready(self, state) -> None:
        self.bridge.state_ready.emit(state)

    def import_progress(self, progress) -> None:
        self.bridge.import_progressed.emit(progress)

    def import_finished(self, results) -> None:
        self.bridge.import_finished.emit(results)

    def job_failed(self, what: str, message: str) -> None:
        self.bridge.job_failed.emit(what, message)

    def triage_ready(self, listing) -> None:
        self.bridge.triage_ready.emit(listing)

    def job_finished(self, what: str, result) -> None:
        self.bridge.job_finished.emit(what, result)

    def sync_status(self, status) -> None:
        self.bridge.sync_status_changed.emit(status)

    def folder_imported(self, results) -> None:
        self.bridge.folder_imported.emit(results)


class AlertRelay:
    """The AlertSink the worker delivers to: it hands each alert to the GUI thread."""

    def __init__(self, bridge: Bridge):
        self.bridge = bridge

    def deliver(self, alert) -> None:
        self.bridge.alert_raised.emit(alert)
