"""One process owns the database: a file dialog in the window's process cannot strip SQLite's locks.

The first test shows the hazard on the design the window had (a connection of its own in the process that
shows dialogs): Qt's file dialog opens and closes the files it lists, and the lock is gone. The others run
the app as it runs now, its database in a process of its own, and show the lock survives the app's own
Import dialog, that the window's process never has a database file open, and that quitting or SIGTERM
ends every process the app started without losing a write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from app.importers.ahead import AHEAD_BYTES
from app.imports import import_files
from storage import open_db
from tests.report_files import made_up_orders
from tests.sqlite_locks import database_files_open, shm_lock_holder
from tests.ui_support import SAMPLE_NOW, WAIT_MS, FixedClock, desktop_app, reading

ROOT = Path(__file__).resolve().parents[1]
DIALOG_S = 1.5


@pytest.fixture
def home(tmp_path, monkeypatch):
    """The seller's home folder, holding the database (`--db ~/health.db`), as the Import dialog lists it."""
    folder = tmp_path / "home"
    folder.mkdir()
    for name in ("orders.txt", "notes.csv", "photo.png"):
        (folder / name).write_text("something to list\n")
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.fixture
def home_db(home, samples):
    path = home / "health.db"
    db = open_db(path)
    try:
        import_files(db, [samples / "all-orders.txt", samples / "seller-feedback.txt", samples / "Inbox.mbox"])
    finally:
        db.close()  # the test's process plays the window: it must hold nothing once the app runs
    return path


def test_a_file_dialog_strips_the_locks_of_a_connection_in_its_own_process(home, home_db):
    # The design the window had: its own connection, and a file dialog in the same process.
    with subprocess.Popen(
        [sys.executable, "-m", "tests.sqlite_locks", str(home_db), str(home), str(DIALOG_S)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ) as window:
        assert window.stdout.readline().strip() == "opened"
        assert shm_lock_holder(home_db) == window.pid
        window.stdin.write("dialog\n")
        window.stdin.flush()
        assert window.stdout.readline().strip() == "closed"
        # The connection is still open in that process, but its lock is gone: the next connection from
        # another process would believe it is alone and rebuild the WAL index under it.
        assert database_files_open(window.pid, home_db)
        assert shm_lock_holder(home_db) is None
        window.stdin.write("quit\n")
        window.stdin.flush()
        assert window.wait(timeout=30) == 0


def close_the_dialog_later(seconds: float, seen: list) -> None:
    def close():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QFileDialog):
            seen.append(dialog.directory().absolutePath())
            dialog.reject()

    QTimer.singleShot(int(seconds * 1000), close)


@pytest.fixture
def app_in_its_process(qtbot, tmp_path, home_db):
    desktop = desktop_app(home_db, tmp_path, now=FixedClock(SAMPLE_NOW), own_process=True)
    qtbot.addWidget(desktop.window)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.start()
    yield desktop
    desktop.quit()


def test_the_apps_import_dialog_leaves_the_database_process_its_locks(qtbot, app_in_its_process, home, home_db):
    desktop = app_in_its_process
    host = desktop.host.pid
    assert host is not None and host != os.getpid()
    assert shm_lock_holder(home_db) == host
    assert database_files_open(os.getpid(), home_db) == []
    seen: list[str] = []
    close_the_dialog_later(DIALOG_S, seen)
    desktop.choose_and_import()  # Ctrl+O: the app's own dialog, listing the home folder with the database
    assert seen == [str(home)]
    assert shm_lock_holder(home_db) == host  # still held by the one process that owns the database
    assert database_files_open(os.getpid(), home_db) == []
    # And the app goes on working: a mark is written, the figures come back.
    buyer = next(clock for clock in desktop.state.clocks if clock.kind == "buyer_reply")
    desktop.window.messages.select_item(buyer.item_id)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.window.messages.replied_button.click()
    assert buyer.item_id not in {clock.item_id for clock in desktop.state.clocks}
    assert database_files_open(os.getpid(), home_db) == []


def test_quit_finishes_a_write_just_asked_for_and_ends_the_database_process(qtbot, tmp_path, home_db):
    desktop = desktop_app(home_db, tmp_path, now=FixedClock(SAMPLE_NOW), own_process=True)
    qtbot.addWidget(desktop.window)
    with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
        desktop.start()
    host = psutil.Process(desktop.host.pid)
    buyer = next(clock for clock in desktop.state.clocks if clock.kind == "buyer_reply")
    desktop.window.messages.select_item(buyer.item_id)
    desktop.window.messages.replied_button.click()
    desktop.quit()  # at once: the mark is still queued
    host.wait(timeout=5)
    assert not host.is_running()
    with reading(home_db) as db:
        replied = db.execute("SELECT count(*) FROM replies WHERE message_id = ?", [f"manual:{buyer.item_id}"])
        assert replied.fetchone()[0] == 1


def test_the_database_process_ends_when_the_window_dies(tmp_path, home_db):
    # A window killed outright (SIGKILL, a crash) cannot say goodbye: its end of the pipe closes, and the
    # database's process ends by itself instead of holding the file for ever.
    script = (
        "import sys, time\n"
        "from app.host import HostOptions\n"
        "from app.host_client import HostClient\n"
        "client = HostClient(HostOptions(sys.argv[1]), lambda *a: None)\n"
        "client.start(); client.call('open')\n"
        "print(client.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    command = [sys.executable, "-c", script, str(home_db)]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as window:
        host = psutil.Process(int(window.stdout.readline()))
        window.kill()
    host.wait(timeout=15)
    assert not host.is_running()


def run_the_app(home_db: Path, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.Popen(
        [sys.executable, "main.py", "--db", str(home_db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a desktop session starts it
    )


def wait_for_figures(home_db: Path, app: subprocess.Popen) -> None:
    """Until the running app's first recomputation has been saved (so its database process is at work)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert app.poll() is None, app.communicate()
        with reading(home_db) as db:
            if db.execute("SELECT 1 FROM settings WHERE key = 'state.last_figures'").fetchone():
                return
        time.sleep(0.2)
    raise AssertionError("the app did not compute its figures")


@pytest.mark.parametrize(
    ("sent", "to_the_group"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGTERM, True), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "SIGTERM-to-every-process (logout)", "SIGINT-to-every-process (Ctrl+C)"],
)
def test_a_signal_ends_every_process_the_app_started(tmp_path, home_db, sent, to_the_group):
    with run_the_app(home_db, tmp_path) as app:
        try:
            wait_for_figures(home_db, app)
            started = psutil.Process(app.pid).children(recursive=True)
            assert started, "the database's process runs beside the window"
            if to_the_group:
                os.killpg(app.pid, sent)
            else:
                app.send_signal(sent)
            _, stderr = app.communicate(timeout=30)
            assert app.returncode == 0, stderr
            assert "Traceback" not in stderr and "leaked" not in stderr, stderr
            _, alive = psutil.wait_procs(started, timeout=10)
            assert alive == [], [process.cmdline() for process in alive]
        finally:
            app.kill()


def test_a_large_report_imported_in_the_app_is_read_by_a_process_the_database_process_starts(
    qtbot, app_in_its_process, tmp_path, home_db
):
    desktop = app_in_its_process
    rows = AHEAD_BYTES // 150  # about 175 bytes a row: over the size read by a second process
    report = made_up_orders(rows).write(tmp_path / "large-orders.txt")
    assert report.stat().st_size >= AHEAD_BYTES
    host = psutil.Process(desktop.host.pid)
    readers: set[int] = set()
    watch = QTimer()
    watch.timeout.connect(lambda: readers.update(reading_processes(host)))
    watch.start(20)
    with qtbot.waitSignal(desktop.bridge.import_finished, timeout=180_000) as finished:
        desktop.import_paths([str(report)])
    watch.stop()
    [result] = finished.args[0]
    assert (result.outcome, result.added) == ("imported", rows)
    assert readers, "the database's process started a process to read the report"
    assert host.children() == []  # and it ended with the import
    with reading(home_db) as db:
        assert db.execute("SELECT COUNT(*) FROM orders WHERE order_id LIKE '111-%'").fetchone()[0] >= rows // 4


def reading_processes(host: psutil.Process) -> list[int]:
    found = []
    for child in host.children():
        try:
            if "app.importers.ahead" in child.cmdline():
                found.append(child.pid)
        except psutil.Error:  # it ended meanwhile
            pass
    return found


INTERRUPTED_WHILE_BUILT = """
import os, signal, sys
from ui import application

class BuiltThenInterrupted(application.DesktopApp):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        print(self.host.pid, flush=True)
        os.kill(os.getpid(), signal.SIG{name})  # before the start has said what a signal ends

application.DesktopApp = BuiltThenInterrupted
from app.entry import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("name", ["INT", "TERM"])
def test_a_signal_while_the_window_is_built_ends_the_app_the_careful_way(tmp_path, home_db, name):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    script = INTERRUPTED_WHILE_BUILT.format(name=name)
    with subprocess.Popen(
        [sys.executable, "-c", script, "--db", str(home_db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as app:
        try:
            stdout, stderr = app.communicate(timeout=60)
        finally:
            app.kill()
    assert app.returncode == 0, stderr
    assert "Traceback" not in stderr and "leaked" not in stderr, stderr
    _, alive = psutil.wait_procs(database_process(int(stdout.split()[0])), timeout=10)
    assert alive == [], "the database's process outlived the window"


def database_process(pid: int) -> list[psutil.Process]:
    try:
        return [psutil.Process(pid)]
    except psutil.NoSuchProcess:
        return []


def test_sigterm_to_the_database_process_alone_is_said_in_the_window(qtbot, app_in_its_process):
    desktop = app_in_its_process
    host = psutil.Process(desktop.host.pid)
    with qtbot.waitSignal(desktop.bridge.host_stopped, timeout=WAIT_MS) as stopped:
        os.kill(host.pid, signal.SIGTERM)
    host.wait(timeout=15)
    assert "stopped unexpectedly (exit code 0)" in stopped.args[0]  # the careful way, not killed by the signal
    assert "cannot reach its database" in desktop.window.statusBar().currentMessage()
    desktop.open_timeline("111-0000000-0000000")  # asking now is a message, never a hang
    assert "could not read its database" in desktop.window.statusBar().currentMessage()
