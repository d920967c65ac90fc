"""The one QObject that carries what the database's process reports to the GUI thread.

The events arrive on the pipe's reader thread (`app.host_client.HostClient`); `relay` emits the matching
signal, and Qt queues the call into the GUI thread's event loop because the receivers live there. Nothing on
the reader thread touches a widget.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class Bridge(QObject):
    """One signal per kind of event from the database's process."""

    state_ready = Signal(object)  # services.MonitorState
    import_progressed = Signal(object)  # imports.Progress
    import_finished = Signal(object)  # list[imports.FileResult]
    job_failed = Signal(str, str)  # what, message
    alert_raised = Signal(object)  # alerts.Alert
    sync_status_changed = Signal(object)  # mailsync.SyncStatus
    folder_imported = Signal(object)  # list[imports.FileResult] from the watched folder
    triage_ready = Signal(object)  # triage.TriageList
    job_finished = Signal(str, object)  # what, the action's result
    host_stopped = Signal(str)  # why the database's process is gone
    answered = Signal(object, object)  # a read asked without waiting: what to do with the answer, the answer

    def __init__(self):
        super().__init__()
        self.triage_facts = None  # the last list's `ui.triage_view.ListingFacts`

    def relay(self, name: str, args: tuple) -> None:
        """Emit the signal for the event `name` (the scheduler's Listener and AlertSink method names)."""
        if name == "triage_ready":
            from ui.triage_view import listing_facts

            # Here, on the reader thread: tens of thousands of items are counted without stopping the window.
            try:
                self.triage_facts = listing_facts(args[0])
            except Exception:  # the list still goes to the window, which counts it itself (and says what fails)
                log.exception("the triage list could not be counted ahead of the window")
                self.triage_facts = None
        getattr(self, EVENT_SIGNALS[name]).emit(*args)


EVENT_SIGNALS = {
    "state_ready": "state_ready",
    "import_progress": "import_progressed",
    "import_finished": "import_finished",
    "job_failed": "job_failed",
    "job_finished": "job_finished",
    "triage_ready": "triage_ready",
    "sync_status": "sync_status_changed",
    "folder_imported": "folder_imported",
    "deliver": "alert_raised",
    "host_stopped": "host_stopped",
}
