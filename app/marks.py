"""The seller's own marks on a buyer message — *replied* and *no response needed* — and taking one back.

A mark is the seller's word, not evidence: a reply found in the imported e-mails or the mailbox's Sent
folder, or one recorded with a triage resolution, is kept apart and is never taken back here. Each mark is
stored where the clocks and the LRR already read it (a `manual:` reply in the message's thread, the
message's `no_response_needed_at`), so taking it back is removing exactly that, and the figures recompute
from what is left: a real reply in the thread still answers the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from app.alerts import STATUS
from app.metrics import metrics_as_of
from app.settings import load_settings
from app.snapshot import load_snapshot
from app.summary import METRIC_NAMES
from app.timeutil import local_day
from storage.transaction import write_transaction

REPLIED = "replied"
NO_RESPONSE_NEEDED = "no_response_needed"
MARK_REPLY_PREFIX = "manual:"  # the reply row of a *Mark replied*; triage's own replies have "triage:"

_MARK_WORDS = {REPLIED: "Marked replied", NO_RESPONSE_NEEDED: "Marked no response needed"}


@dataclass(frozen=True)
class Mark:
    """One mark as stored: enough to take exactly it back, even after a restart."""

    kind: str  # REPLIED or NO_RESPONSE_NEEDED
    message_id: str
    order_id: str | None
    at: int

    @property
    def words(self) -> str:
        return _MARK_WORDS[self.kind]

    @property
    def subject(self) -> str:
        return f"order {self.order_id}" if self.order_id else "a pre-order question"


def mark_replied(db: sqlite_utils.Database, message_id: str, at: float) -> Mark | None:
    """The seller answered a buyer message outside the imported mail: a reply of theirs in its thread.

    Returns the mark, or None when the message was already marked replied (nothing changed, nothing to
    take back). Raises LookupError for an unknown message.
    """
    row = db.execute("SELECT thread_key, order_id FROM messages WHERE message_id = ?", [message_id]).fetchone()
    if row is None:
        raise LookupError(f"no buyer message {message_id}")
    with write_transaction(db):
        added = db.execute(
            "INSERT OR IGNORE INTO replies (message_id, thread_key, order_id, sent_at, automatic, source) "
            "VALUES (?, ?, ?, ?, 0, 'manual')",
            [MARK_REPLY_PREFIX + message_id, row[0], row[1], int(at)],
        ).rowcount
    return Mark(REPLIED, message_id, row[1], int(at)) if added else None


def mark_no_response_needed(db: sqlite_utils.Database, message_id: str, at: float) -> Mark | None:
    """The seller marked a message *no response needed*: it leaves the reply clock and LRR.

    Returns the mark, or None when it was marked already. Raises LookupError for an unknown message.
    """
    with write_transaction(db):
        changed = db.execute(
            "UPDATE messages SET no_response_needed_at = ? WHERE message_id = ? AND no_response_needed_at IS NULL",
            [int(at), message_id],
        ).rowcount
    row = db.execute("SELECT order_id FROM messages WHERE message_id = ?", [message_id]).fetchone()
    if row is None:
        raise LookupError(f"no buyer message {message_id}")
    return Mark(NO_RESPONSE_NEEDED, message_id, row[0], int(at)) if changed else None


@dataclass(frozen=True)
class Undone:
    """A mark taken back, and the alerts about a status flip that only the mark had caused (the window
    takes them off its banner)."""

    mark: Mark
    forgotten_alerts: tuple[str, ...] = ()


def undo_mark(db: sqlite_utils.Database, mark: Mark, at: float) -> Undone | None:
    """Take the mark back as of `at`: only that mark, matched by its instant too, so a later mark of the same
    message (made after this one was taken back) is never removed by a stale Undo. None if it is no longer
    there. A figure's status change that only the mark explains is taken back with it (`_forget_flips`)."""
    with write_transaction(db):
        if mark.kind == REPLIED:
            cursor = db.execute(
                "DELETE FROM replies WHERE message_id = ? AND source = 'manual' AND sent_at = ?",
                [MARK_REPLY_PREFIX + mark.message_id, mark.at],
            )
        else:
            cursor = db.execute(
                "UPDATE messages SET no_response_needed_at = NULL WHERE message_id = ? AND no_response_needed_at = ?",
                [mark.message_id, mark.at],
            )
        if cursor.rowcount == 0:
            return None
        return Undone(mark, _forget_flips(db, mark, at))


def _forget_flips(db: sqlite_utils.Database, mark: Mark, at: float) -> tuple[str, ...]:
    """A slip of Ctrl+R can flip the LRR to Good and back: left in the history, that flip would come back as
    two alerts and two triage items about nothing. A status change recorded since the mark is forgotten
    (with the record of its alert, so a real change that day still alerts) when it is the only one since and
    the figures without the mark stand at the status it left; several changes since the mark are a history
    of their own, kept (the next recomputation adds the change back). Returns the forgotten alerts' keys."""
    settings = load_settings(db)
    day = local_day(at, settings.zone)
    figures = metrics_as_of(load_snapshot(db, day, day, settings), day)
    forgotten = []
    for metric in METRIC_NAMES:
        since = db.execute(
            "SELECT id, at, old_status, new_status FROM status_changes "
            "WHERE metric = ? AND at >= ? AND old_status IS NOT NULL",
            [metric, mark.at],
        ).fetchall()
        if len(since) != 1 or since[0][2] != figures.get(metric, {}).get("status"):
            continue
        change_id, changed_at, old_status, new_status = since[0]
        began = db.execute(
            "SELECT at FROM status_changes WHERE metric = ? AND id < ? ORDER BY at DESC, id DESC LIMIT 1",
            [metric, change_id],
        ).fetchone()
        db.execute("DELETE FROM status_changes WHERE id = ?", [change_id])
        db.execute(
            "UPDATE metric_status SET status = ?, rate = ?, changed_at = ? WHERE metric = ?",
            [old_status, figures[metric].get("rate"), began[0] if began else int(mark.at), metric],
        )
        key = f"{STATUS}:{metric}:{new_status}:{local_day(changed_at, settings.zone).isoformat()}"  # status_alerts'
        if db.execute("DELETE FROM alerts WHERE key = ? AND delivered_at >= ?", [key, mark.at]).rowcount:
            forgotten.append(key)
    return tuple(forgotten)


def reply_mark(reply_id: str, source: str, order_id: str | None, sent_at: int) -> Mark | None:
    """The mark a stored reply row is, or None when the reply is evidence (mail, mailbox, triage)."""
    if source != "manual" or not reply_id.startswith(MARK_REPLY_PREFIX):
        return None
    return Mark(REPLIED, reply_id.removeprefix(MARK_REPLY_PREFIX), order_id, sent_at)
