"""One monitor per database: a second start of the window on the same file brings the running one forward
and exits; another file starts a monitor of its own; the command line is never held back."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ui_support import WAIT_MS, reading
from ui import single_instance
from ui.single_instance import RunningInstance, claim, instance_name

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the sockets are Unix sockets in a runtime folder")


@pytest.fixture
def runtime(monkeypatch):
    """A private runtime folder with a short path (a Unix socket's path is limited to about 100 bytes)."""
    folder = tempfile.mkdtemp(prefix="ahm-run-")
    os.chmod(folder, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def ask_in_a_process(name: str, files: list[str] | None = None) -> subprocess.Popen:
    """A later start's request, from a process of its own (this one runs the listening event loop)."""
    script = "import sys; from ui.single_instance import ask_running; print(ask_running(sys.argv[1], sys.argv[2:]))"
    return subprocess.Popen(
        [sys.executable, "-c", script, name, *(files or [])], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def test_the_name_is_the_same_for_the_same_file_however_it_is_written(tmp_path, runtime, monkeypatch):
    (tmp_path / "shop").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "shop")
    monkeypatch.chdir(tmp_path)
    name = instance_name(tmp_path / "shop" / "health.db")
    assert name.startswith(str(runtime) + "/account-health-monitor-")
    for spelling in ("shop/health.db", "link/health.db", "shop/../shop/health.db", str(tmp_path / "link/health.db")):
        assert instance_name(Path(spelling)) == name, spelling
    assert instance_name(tmp_path / "shop" / "other.db") != name, "another database: another monitor"


def test_without_a_runtime_folder_the_name_carries_the_user(tmp_path):
    name = instance_name(tmp_path / "health.db", user="zoë o'neil", runtime_dir="")
    assert name.startswith("account-health-monitor-zo__o_neil-") and "/" not in name
    assert name != instance_name(tmp_path / "health.db", user="sam", runtime_dir="")


def test_a_later_start_reaches_the_first_and_passes_its_files(qtbot, tmp_path, runtime):
    first = claim(instance_name(tmp_path / "health.db"))
    assert isinstance(first, RunningInstance)
    try:
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS) as activated:
            later = ask_in_a_process(first.name, ["orders.txt", str(tmp_path / "claims.csv")])
        assert activated.args[0] == [str(ROOT / "orders.txt"), str(tmp_path / "claims.csv")]
        assert later.communicate(timeout=30)[0].strip() == "True", "the first answered"
        assert later.returncode == 0
    finally:
        first.close()


def test_a_second_claim_on_the_same_database_hands_over(qtbot, tmp_path, runtime):
    name = instance_name(tmp_path / "health.db")
    first = claim(name)
    try:
        # The first's event loop is not running while this claim waits (as when it is still opening the
        # database): the request is taken and waits in the socket, so the later start still ends.
        started = time.monotonic()
        assert claim(name) is False
        assert time.monotonic() - started < 5
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS) as activated:
            pass
        assert activated.args[0] == []
        other = claim(instance_name(tmp_path / "other.db"))
        assert isinstance(other, RunningInstance), "another database runs a monitor of its own"
        other.close()
    finally:
        first.close()


def test_a_socket_left_by_a_crashed_monitor_is_taken_over(qtbot, tmp_path, runtime):
    name = instance_name(tmp_path / "health.db")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(name)  # bound, never listening, then gone: what a killed monitor leaves
    dead.close()
    assert Path(name).exists()
    assert single_instance.ask_running(name) is None
    first = claim(name)
    try:
        assert isinstance(first, RunningInstance)
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS):
            later = ask_in_a_process(name)
        assert later.communicate(timeout=30)[0].strip() == "True"
    finally:
        first.close()


def test_a_request_it_does_not_understand_is_ignored(qtbot, tmp_path, runtime):
    first = claim(instance_name(tmp_path / "health.db"))
    try:
        received = []
        first.activated.connect(received.append)
        script = (
            "import socket, sys\n"
            "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
            "s.sendall(b'{\"request\": \"delete everything\"}\\n'); s.sendall(b'not json\\n'); s.close()\n"
        )
        subprocess.run([sys.executable, "-c", script, first.name], check=True, timeout=30)
        qtbot.wait(300)
        assert received == []
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS):
            later = ask_in_a_process(first.name)
        later.communicate(timeout=30)
    finally:
        first.close()


def test_a_monitor_hidden_in_the_tray_comes_forward(qtbot, tmp_path, runtime, db_path, monkeypatch):
    from tests.ui_support import desktop_app

    monkeypatch.setattr("ui.tray.QSystemTrayIcon.show", lambda self: None)  # no tray host offscreen
    desktop = desktop_app(db_path, tmp_path, use_tray=True)
    qtbot.addWidget(desktop.window)
    first = claim(instance_name(db_path))
    first.activated.connect(lambda files: single_instance.bring_forward(desktop, files))
    try:
        with qtbot.waitSignal(desktop.bridge.state_ready, timeout=WAIT_MS):
            desktop.start(show=False)  # as at login: only the tray icon
        assert not desktop.window.isVisible()
        with qtbot.waitSignal(first.activated, timeout=WAIT_MS):
            later = ask_in_a_process(first.name)
        later.communicate(timeout=30)
        assert desktop.window.isVisible()
        assert not desktop.window.isMinimized()
    finally:
        first.close()
        desktop.quit()


# --- the app itself, in processes of its own ------------------------------------------------------------------


def app_env(tmp_path: Path, runtime: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "AHM_DB"}
    return env | {
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }


class RunningApp:
    """`main.py -v` in its own process, its log lines read as they come."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "main.py", "-v", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, words: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.seen)
                continue
            self.seen.append(line)
            if words in line:
                return line
        raise AssertionError(f"no {words!r} in:\n{''.join(self.seen)}")

    def wait_until_up(self, db: Path, timeout: float = 60) -> None:
        """Until its first figures are saved: the window runs and SIGTERM is Quit (not the default end)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.seen)
            if db.exists():
                with reading(db) as opened:
                    if opened.execute("SELECT 1 FROM settings WHERE key = 'state.last_figures'").fetchone():
                        return
            time.sleep(0.2)
        raise AssertionError("the app did not compute its figures")

    def stop(self) -> int:
        self.process.terminate()  # Quit's way (SIGTERM)
        try:
            self.process.wait(timeout=30)
        finally:
            self.process.kill()
            self.process.wait()
            self.reader.join(timeout=10)
            self.process.stdout.close()
            self.process.stderr.close()
        return self.process.returncode


def start_again(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    return done, time.monotonic() - started


def test_a_second_launch_on_the_same_database_brings_the_first_forward(tmp_path, runtime):
    env = app_env(tmp_path, runtime)
    db = tmp_path / "health.db"
    first = RunningApp(["--db", str(db), "--minimized"], env)
    try:
        first.wait_for("listening for later starts")
        first.wait_until_up(db)
        (tmp_path / "elsewhere").mkdir()
        # The same file by another path: the same monitor.
        second, took = start_again(["--db", "../health.db"], env, cwd=tmp_path / "elsewhere")
        assert second.returncode == 0, second.stderr
        assert second.stdout == (
            f"Account Health Monitor is already running on {tmp_path}/elsewhere/../health.db: "
            "its window is brought forward.\n"
        )
        assert took < 15, f"the second start took {took:.1f} s"
        print(f"the second start ended after {took:.2f} s")
        first.wait_for("brought forward by a later start")
        # The command line is never held back by the running window.
        metrics = subprocess.run(
            [sys.executable, "main.py", "metrics", "--db", str(db), "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert metrics.returncode == 0, metrics.stderr
        # Another database: a monitor of its own.
        other = RunningApp(["--db", str(tmp_path / "other.db"), "--minimized"], env)
        try:
            other.wait_for("listening for later starts")
            other.wait_until_up(tmp_path / "other.db")
        finally:
            assert other.stop() == 0
        assert first.process.poll() is None
    finally:
        assert first.stop() == 0
    assert not any(runtime.iterdir()), "the socket goes with the monitor"
