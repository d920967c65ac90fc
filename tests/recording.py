"""Test doubles that record instead of acting: a Listener for the background worker, an in-memory keyring."""

from __future__ import annotations

import threading

import keyring
import keyring.backend
import keyring.errors


class RecordingListener:
    """Collects what the worker reports; events let a test wait for the first state or sync status."""

    def __init__(self):
        self.states, self.failures, self.finished, self.done = [], [], [], []
        self.statuses, self.folder_results, self.triage = [], [], []
        self.state_seen = threading.Event()
        self.status_seen = threading.Event()

    def state_ready(self, state):
        self.states.append(state)
        self.state_seen.set()

    def triage_ready(self, listing):
        self.triage.append(listing)

    def import_progress(self, progress):
        pass

    def import_finished(self, results):
        self.finished.append(results)

    def job_failed(self, what, message):
        self.failures.append((what, message))

    def job_finished(self, what, result):
        self.done.append((what, result))

    def sync_status(self, status):
        self.statuses.append(status)
        self.status_seen.set()

    def folder_imported(self, results):
        self.folder_results.append(results)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in this test process only."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.passwords.get((service, username))

    def set_password(self, service, username, password):
        self.passwords[(service, username)] = password

    def delete_password(self, service, username):
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)
