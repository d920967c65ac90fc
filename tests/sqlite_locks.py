"""Looking at SQLite's locks from outside, and the design the window had before it gave up its connection.

SQLite's unix VFS keeps a shared lock on one byte of the `-shm` file (its "dead-man switch", byte 128) for
as long as a connection to a WAL database is open. Another process asking `F_GETLK` for a write lock on that
byte learns which process holds it. Only another process can: a process never sees its own locks that way.

Run as a script (`python -m tests.sqlite_locks DB FOLDER`), this module plays a window that keeps its own
connection, as the app's window did: it opens the database, says `opened`, then on `dialog` from its stdin
shows a real Qt file dialog listing FOLDER for `--seconds`, closes it, says `closed`, and waits for `quit`.
"""

from __future__ import annotations

import fcntl
import os
import struct
import sys
from pathlib import Path

DEAD_MAN_SWITCH = 128  # UNIX_SHM_DMS in SQLite's os_unix.c: (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK
_FLOCK = "hhqqi"  # struct flock on Linux x86-64 and aarch64: type, whence, start, len, pid


def shm_lock_holder(db_path: str | Path) -> int | None:
    """The pid of a process holding a lock on the -shm file's dead-man-switch byte, or None."""
    shm = f"{db_path}-shm"
    fd = os.open(shm, os.O_RDONLY)
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, DEAD_MAN_SWITCH, 1, 0)
        kind, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else pid


def database_files_open(pid: int | str, db_path: str | Path) -> list[str]:
    """The database's files (`db`, `-wal`, `-shm`) that process `pid` has open right now."""
    names = {str(Path(db_path).resolve()) + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    found = []
    folder = Path(f"/proc/{pid}/fd")
    for link in folder.iterdir():
        try:
            target = os.readlink(link)
        except OSError:  # closed while we looked
            continue
        if target in names:
            found.append(target)
    return found


def show_file_dialog(folder: str, seconds: float) -> None:
    """A real Qt file dialog listing `folder` (Qt's own, as offscreen and most Linux desktops use), closed
    after `seconds`: long enough for it to list and sniff every file."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog

    app = QApplication.instance() or QApplication([])
    dialog = QFileDialog(None, "Import reports", folder)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    QTimer.singleShot(int(seconds * 1000), dialog.reject)
    dialog.exec()
    app.processEvents()


def _play_the_old_window(db_path: str, folder: str, seconds: float) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from storage import open_db

    db = open_db(db_path)  # as the window kept one for its reads
    db.execute("SELECT count(*) FROM settings").fetchone()
    print("opened", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "dialog":
            show_file_dialog(folder, seconds)
            print("closed", flush=True)
        elif command == "quit":
            break
    db.close()


if __name__ == "__main__":
    _play_the_old_window(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 1.5)
