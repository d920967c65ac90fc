"""`make bundle-test`: the one-folder application, started as a seller would start it, on a virtual X display.

    python tools/bundle_test.py [--offscreen] [BUNDLE_FOLDER]      (default: dist/account-health-monitor)

Every run uses a new empty temporary home, data and configuration folder, and no D-Bus session, so the
seller's own database, settings, keyring and login items are never touched. Qt runs on its real xcb platform
on an Xvfb display of its own; with --offscreen (Windows and macOS in CI) on Qt's offscreen platform, and the
window is not started (check 3). The checks:

1. the dashboard rendered to PNG from the demo seller an empty database gets: its size, and not blank;
2. the command line: `metrics`, `triage` and `clocks` print what the sources print on the same database,
   for the demo seller and for the sample seller in tests/samples imported through the bundle (its negative
   feedback needs the profanity and phone-number data to find the removal grounds);
3. the window: the time from starting the process to its window on screen, on an empty database and twice on
   one with figures; a second start on the same database while it runs must hand over and end; each start
   then ended with SIGTERM, which must end the database's process too, with exit status 0 and nothing on
   stderr that looks like a traceback or a Qt plugin failing to load;
   and a report large enough to be read by a second process (the bundle's own executable) imports whole;
4. the resources' data files are all there, and the applications menu entry the bundle writes starts it;
5. the folder's size, against SIZE_LIMIT_MB.

Exit status: 0 when every check passes, 1 when one fails, 2 when the machine lacks what the check needs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "account-health-monitor"
WINDOWS = sys.platform.startswith("win")
LINUX = sys.platform.startswith("linux")
DEFAULT_BUNDLE = ROOT / "dist" / NAME
OUT = ROOT / "build" / "bundle-test"
BUILD_SECONDS = ROOT / "build" / "bundle-seconds"  # written by `make bundle`
SOURCES = ("app", "ui", "storage", "resources", "main.py")

# The aim was 150 MB. What the app cannot do without is more: Qt's ICU data (39 MB), Qt's libraries and
# their Python bindings (60 MB, 9 of them OpenGL bindings pyqtgraph imports), numpy with its OpenBLAS
# (43 MB, for pyqtgraph), cryptography (15 MB, for the Secret Service keyring) and Python (13 MB): the
# folder measures 191 MB. The limit leaves room for patch releases, and catches anything dragged in.
SIZE_LIMIT_MB = 200

SCREEN = "1440x900x24"
SHOT_SIZE = (1366, 768)
MIN_COLOURS = 200  # a blank or half-drawn window has a handful; the dashboard's text and charts, thousands
WINDOW_TITLE = "Account Health Monitor"
COMMAND_TIMEOUT_S = 120
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
GONE_TIMEOUT_S = 10
HAND_OVER_TIMEOUT_S = 30  # a second start that opened a window of its own would not end at all
MIN_WINDOW = (400, 300)  # the main window's least size is 640x480
POLL_S = 0.05

SAMPLES = ROOT / "tests" / "samples"
NOT_REPORTS = {"expected.json", "README.md", ".gitattributes"}  # its figures, its description, git's settings
SAMPLE_DAY = "2026-11-08"  # the day tests/samples/expected.json gives the sample seller's figures for
SAMPLE_GROUNDS = {"obscene", "personal_info"}  # found with the profanity list and the phone-number data

# What must never appear on stderr: Python's tracebacks, PyInstaller's own errors, Qt failing to load a plugin
# or a library.
PROBLEM = re.compile(
    r"Traceback \(most recent call last\)|\[PYI-\d+:ERROR\]|qt\.qpa\.plugin|Could not (load|find) the Qt platform"
    r"|Cannot load library|cannot open shared object file|undefined symbol|QFactoryLoader"
)


class MissingTool(Exception):
    """Something the check needs is not on this machine: one line saying what and how to get it."""


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(f"{'ok  ' if ok else 'FAIL'} {what}{f': {detail}' if detail else ''}", flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def figure(self, name: str, value: str) -> None:
        self.figures.append((name, value))


@dataclass
class Run:
    returncode: int | None  # None: it did not finish in time
    stdout: str
    stderr: str
    seconds: float


@dataclass(frozen=True)
class Bundle:
    folder: Path
    window: Path  # the executable that opens the window
    command: Path  # the one the command line runs in: the same, except Windows' console twin ahm.exe

    @property
    def internal(self) -> Path:
        return self.folder / "_internal"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=DEFAULT_BUNDLE, help="the bundle's folder")
    parser.add_argument(
        "--offscreen",
        action="store_true",
        help="no display: the screenshot with Qt's offscreen platform, and no window started (Windows, macOS)",
    )
    args = parser.parse_args(argv)
    try:
        bundle = find_bundle(args.bundle)
        display = contextlib.nullcontext(None) if args.offscreen else virtual_display()
        with tempfile.TemporaryDirectory(prefix="ahm-bundle-test-", ignore_cleanup_errors=True) as temp, display as x:
            outcome = check_bundle(bundle, Path(temp), x)
    except MissingTool as problem:
        print(f"bundle-test: {problem}", file=sys.stderr)
        return 2
    print_figures(outcome.figures)
    if outcome.failures:
        print(f"\nbundle-test: {len(outcome.failures)} check(s) failed: {'; '.join(outcome.failures)}")
        return 1
    print("\nbundle-test: every check passed")
    return 0


def find_bundle(folder: Path) -> Bundle:
    suffix = ".exe" if WINDOWS else ""
    bundle = Bundle(folder, folder / f"{NAME}{suffix}", folder / f"{'ahm' if WINDOWS else NAME}{suffix}")
    for executable in {bundle.window, bundle.command}:
        if not (executable.is_file() and os.access(executable, os.X_OK)):
            raise MissingTool(f"no bundle at {folder} (no {executable.name} there): run `make bundle` first")
    return bundle


def need_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise MissingTool(
            f"{' and '.join(missing)} not found: the check starts the bundle on a virtual X display "
            "(Debian: `bash tools/system-packages bundle` installs xvfb and xdotool)"
        )


@contextlib.contextmanager
def virtual_display() -> Iterator[str]:
    """An Xvfb display of its own; Xvfb picks a free display number and says which on a pipe."""
    need_tools("Xvfb", "xdotool")
    reader, writer = os.pipe()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below, after Xvfb ends)
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(writer), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(writer,),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    os.close(writer)
    try:
        number = read_line(reader, timeout=15)
        if not number.isdigit():
            log.seek(0)
            said = log.read().decode(errors="replace").strip().splitlines()
            raise MissingTool(f"Xvfb did not start{': ' + said[-1] if said else ''}")
        yield f":{number}"
    finally:
        os.close(reader)
        xvfb.terminate()
        try:
            xvfb.wait(timeout=10)
        except subprocess.TimeoutExpired:
            xvfb.kill()
            xvfb.wait()
        log.close()


def read_line(fd: int, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 64)
        if not chunk:  # Xvfb ended
            break
        data += chunk
    return data.decode(errors="replace").strip()


def isolated_environment(temp: Path, display: str | None) -> dict[str, str]:
    """This environment without anything that points at the seller's own desktop, data or session bus (on
    Linux; elsewhere the database is the test's own, and Qt keeps its few settings where it always does)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QT_", "XDG_", "DBUS_", "AHM_", "WAYLAND_")) and key not in ("DISPLAY", "HOME")
    }
    folders = {
        "HOME": temp / "home",
        "XDG_DATA_HOME": temp / "home" / ".local" / "share",
        "XDG_CONFIG_HOME": temp / "home" / ".config",
        "XDG_CACHE_HOME": temp / "home" / ".cache",
        "XDG_STATE_HOME": temp / "home" / ".local" / "state",
        "XDG_RUNTIME_DIR": temp / "runtime",
    }
    for key, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[key] = str(folder)
    # What the commands print reaches the check as UTF-8 on every system, from the bundle and from the sources
    # alike (Windows would otherwise use its ANSI code page for a pipe).
    env["PYTHONUTF8"] = "1"
    if display is None:
        env["QT_QPA_PLATFORM"] = "offscreen"
    else:
        env["DISPLAY"] = display
        env["QT_QPA_PLATFORM"] = "xcb"  # the real X11 platform, as on a seller's desktop, never offscreen
    return env


def check_bundle(bundle: Bundle, temp: Path, display: str | None) -> Outcome:
    outcome = Outcome()
    env = isolated_environment(temp, display)
    screen = f"{display} (Xvfb, {SCREEN})" if display else "none: Qt's offscreen platform, no window started"
    print(f"bundle: {bundle.folder}\ndisplay: {screen}\ntemporary home: {temp / 'home'}", flush=True)
    note_stale_bundle(bundle.window)
    demo_db = temp / "ahm.db"
    check_screenshot(outcome, bundle.window, demo_db, temp, env)
    check_commands(outcome, bundle.command, demo_db, env, "demo seller", day=None)
    samples_db = temp / "samples.db"
    if check_import(outcome, bundle.command, samples_db, env):
        check_commands(outcome, bundle.command, samples_db, env, "sample seller", day=SAMPLE_DAY)
    check_large_import(outcome, bundle.command, temp, env)
    if display is not None:
        check_window(
            outcome, bundle.window, temp / "empty.db", env, "window shown, empty database (demo seller loaded)"
        )
        check_window(outcome, bundle.window, demo_db, env, "window shown, database with figures", hand_over=True)
        check_window(outcome, bundle.window, demo_db, env, "window shown, second start on it")
    check_resources(outcome, bundle)
    if LINUX:
        check_menu_entry(outcome, bundle.window, env)
    check_amazon_pull(outcome, bundle.command, temp / "amazon.db", env)
    check_size(outcome, bundle.folder)
    build = build_seconds(bundle.window)
    if build is not None:
        outcome.figures.insert(0, ("build (make bundle)", f"{build} s"))
    return outcome


def note_stale_bundle(executable: Path) -> None:
    built = executable.stat().st_mtime
    newer = [
        path.relative_to(ROOT)
        for top in SOURCES
        for path in ([ROOT / top] if (ROOT / top).is_file() else (ROOT / top).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > built
    ]
    if newer:
        print(
            f"note: {len(newer)} source file(s) changed since the bundle was built (e.g. {newer[0]}): "
            "the comparisons with the sources may differ; `make bundle-test` rebuilds first"
        )


def run(command: list[str], env: dict[str, str], timeout: float = COMMAND_TIMEOUT_S) -> Run:
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout
        )
    except subprocess.TimeoutExpired as late:
        said = late.stderr.decode(errors="replace") if isinstance(late.stderr, bytes) else late.stderr or ""
        return Run(None, "", said, time.monotonic() - start)
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def sources(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), *args]


def ran(outcome: Outcome, what: str, result: Run) -> bool:
    """Checks a command ended well and said nothing alarming; prints what went wrong otherwise."""
    if result.returncode is None:
        return outcome.check(False, what, f"no answer in {COMMAND_TIMEOUT_S} s")
    problems = problem_lines(result.stderr)
    if result.returncode != 0 or problems:
        said = problems or result.stderr.strip().splitlines()[-3:]
        return outcome.check(False, what, f"exit status {result.returncode}; " + " | ".join(said))
    return True


def problem_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if PROBLEM.search(line)]


# --- 1. the dashboard's screenshot --------------------------------------------------------------------------------


def check_screenshot(outcome: Outcome, executable: Path, db: Path, temp: Path, env: dict[str, str]) -> None:
    shot = temp / "dashboard.png"
    width, height = SHOT_SIZE
    size = f"{width}x{height}"
    result = run(
        [str(executable), "--db", str(db), "--screenshot", str(shot), "--view", "dashboard", "--size", size], env
    )
    if not ran(outcome, "dashboard screenshot", result):
        return
    platform = env["QT_QPA_PLATFORM"]
    outcome.figure(f"dashboard screenshot ({size}, {platform}, demo seller loaded)", f"{result.seconds:.1f} s")
    if not outcome.check(shot.is_file(), "dashboard screenshot written", str(shot)):
        return
    measured, colours = picture_facts(shot)
    outcome.check(measured == SHOT_SIZE, f"screenshot is {size}", f"{measured[0]}x{measured[1]}")
    outcome.check(colours >= MIN_COLOURS, "screenshot is not blank", f"{colours} colours (at least {MIN_COLOURS})")
    OUT.mkdir(parents=True, exist_ok=True)
    kept = OUT / "dashboard.png"
    shutil.copyfile(shot, kept)
    print(f"     the screenshot: {kept}")


def picture_facts(png: Path) -> tuple[tuple[int, int], int]:
    """(width, height) and the number of distinct colours of a PNG file (Qt decodes it; no display needed)."""
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    if image.isNull():
        return (0, 0), 0
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = memoryview(bytes(image.constBits())).cast("I")
    return (image.width(), image.height()), len(set(pixels))


# --- 2. the command line ------------------------------------------------------------------------------------------


def check_import(outcome: Outcome, executable: Path, db: Path, env: dict[str, str]) -> bool:
    files = sorted(str(path) for path in SAMPLES.iterdir() if path.is_file() and path.name not in NOT_REPORTS)
    result = run([str(executable), "import", "--json", "--db", str(db), *files], env)
    if not ran(outcome, "import of the sample seller's reports", result):
        return False
    outcome.figure(f"import of the sample seller ({len(files)} reports)", f"{result.seconds:.1f} s")
    try:
        outcomes = {Path(item["file"]).name: item["outcome"] for item in json.loads(result.stdout)["files"]}
    except (ValueError, KeyError, TypeError) as error:
        return outcome.check(False, "import --json prints JSON", str(error))
    refused = {name: said for name, said in outcomes.items() if said != "imported"}
    return outcome.check(
        not refused and len(outcomes) == len(files), "every sample report imported", ", ".join(refused) or ""
    )


def check_large_import(outcome: Outcome, executable: Path, temp: Path, env: dict[str, str]) -> None:
    """A report large enough to be read by a process of its own: the bundle's executable is that process."""
    sys.path.insert(0, str(ROOT))
    from app.importers.ahead import AHEAD_BYTES
    from tests.report_files import made_up_orders

    rows = AHEAD_BYTES // 150  # the made-up rows are about 175 bytes each
    report = made_up_orders(rows).write(temp / "large-orders.txt")
    result = run([str(executable), "import", "--json", "--db", str(temp / "large.db"), str(report)], env)
    if not ran(outcome, "import of a large All Orders report", result):
        return
    size = report.stat().st_size
    outcome.figure(f"import of {rows:,} orders ({size / 2**20:.0f} MB)", f"{result.seconds:.1f} s")
    try:
        imported = json.loads(result.stdout)["files"][0]
    except (ValueError, KeyError, TypeError, IndexError) as error:
        outcome.check(False, "import --json prints JSON", str(error))
        return
    read_here = "the report is read in this process" in result.stderr  # the warning `app.importers.ahead` logs
    whole = (imported.get("outcome"), imported.get("added")) == ("imported", rows)
    outcome.check(
        size >= AHEAD_BYTES and not read_here and whole,
        "a large report is read by a process of its own and imported whole",
        f"{imported.get('outcome')}: {imported.get('added')} of {rows:,} orders added; {imported.get('message')}",
    )


def check_commands(
    outcome: Outcome, executable: Path, db: Path, env: dict[str, str], seller: str, day: str | None
) -> None:
    """The bundle's figures equal the sources' on the same file. Without a given day the bundle's own answer
    names the day, and both are asked for that day, so a run across midnight compares like with like."""
    first = run([str(executable), "metrics", "--json", "--db", str(db)], env)
    if not ran(outcome, f"metrics --json ({seller})", first):
        return
    outcome.figure(f"metrics --json ({seller})", f"{first.seconds:.1f} s")
    try:
        day = day or json.loads(first.stdout)["as_of"]
    except (ValueError, KeyError, TypeError) as error:
        outcome.check(False, f"metrics --json prints JSON ({seller})", str(error))
        return
    asked = {
        "metrics": ["metrics", "--json", "--as-of", day],
        "triage": ["triage", "--json", "--as-of", day],
        "clocks": ["clocks", "--json", "--at", f"{day}T23:59:59Z"],
    }
    for name, command in asked.items():
        ours = run([str(executable), *command, "--db", str(db)], env)
        theirs = run(sources(*command, "--db", str(db)), env)
        what = f"{name} ({seller}, {day}) equals the sources'"
        if ran(outcome, f"{name} through the bundle ({seller})", ours) and ran(
            outcome, f"{name} from the sources", theirs
        ):
            same, detail = same_json(ours.stdout, theirs.stdout)
            outcome.check(same, what, detail)
            if name == "triage" and seller == "sample seller" and same:
                check_removal_grounds(outcome, ours.stdout)


def same_json(ours: str, theirs: str) -> tuple[bool, str]:
    try:
        mine, reference = json.loads(ours), json.loads(theirs)
    except ValueError as error:
        return False, f"not JSON: {error}"
    if mine == reference:
        return True, ""
    return False, f"first difference: {first_difference(mine, reference)}"


def first_difference(ours, theirs, path: str = "") -> str:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            if ours.get(key) != theirs.get(key):
                return first_difference(ours.get(key), theirs.get(key), f"{path}.{key}")
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
            if mine != reference:
                return first_difference(mine, reference, f"{path}[{index}]")
    return f"{path or 'the document'}: bundle {json.dumps(ours)[:120]}, sources {json.dumps(theirs)[:120]}"


def check_removal_grounds(outcome: Outcome, triage_json: str) -> None:
    items = json.loads(triage_json)["items"]
    grounds = {(item.get("removal") or {}).get("ground") for item in items}
    missing = SAMPLE_GROUNDS - grounds
    outcome.check(
        not missing,
        "feedback removal grounds found (profanity list, phone-number data)",
        f"missing {', '.join(sorted(missing))}" if missing else ", ".join(sorted(SAMPLE_GROUNDS)),
    )


# --- 3. the window ------------------------------------------------------------------------------------------------


def check_window(
    outcome: Outcome, executable: Path, db: Path, env: dict[str, str], label: str, hand_over: bool = False
) -> None:
    """Starts the window and ends it with SIGTERM. `hand_over`: meanwhile, a second start on the same database
    must hand over to it and end at once (Qt's local sockets, in the bundle's QtNetwork)."""
    logs = Path(tempfile.mkdtemp(prefix="window-", dir=db.parent))
    with open(logs / "stdout", "w") as stdout, open(logs / "stderr", "w") as stderr:
        start = time.monotonic()
        window = subprocess.Popen([str(executable), "--db", str(db)], env=env, stdout=stdout, stderr=stderr)
        try:
            shown = wait_for_window(window, env, start)
            spawned = database_processes(window.pid, executable) if shown is not None else []
            handing = shown is not None and hand_over
            second = run([str(executable), "--db", str(db)], env, timeout=HAND_OVER_TIMEOUT_S) if handing else None
            status = stop(window)
        finally:
            if window.poll() is None:
                window.kill()
                window.wait()
    said = (logs / "stderr").read_text(errors="replace")
    if not outcome.check(shown is not None, label, "" if shown is not None else window_problem(window, said)):
        return
    outcome.figure(label, f"{shown:.2f} s")
    outcome.check(
        bool(spawned),
        "its database runs in a process of its own, the bundle's executable again",
        f"pid {', '.join(map(str, spawned))}" if spawned else "none found",
    )
    if second is not None:
        handed = second.returncode == 0
        answer = f"exit status {second.returncode}: {(second.stdout + second.stderr).strip()}"
        outcome.check(handed, "a second start on its database hands over and ends", "" if handed else answer)
    outcome.check(status == 0, "SIGTERM ends it with exit status 0", "" if status == 0 else f"exit status {status}")
    left = left_running(spawned)
    detail = f"still running after {GONE_TIMEOUT_S} s: {left}" if left else ""
    outcome.check(not left, "no child process left behind", detail)
    problems = problem_lines(said + (second.stderr if second is not None else ""))
    outcome.check(not problems, "nothing alarming on stderr", " | ".join(problems[:3]))
    others = [line for line in said.strip().splitlines() if line.strip() and line.strip() not in problems]
    for line in others[:5]:
        print(f"     stderr: {line}")


def wait_for_window(window: subprocess.Popen, env: dict[str, str], start: float) -> float | None:
    """Seconds from the process's start until its main window is mapped and viewable, or None."""
    deadline = start + START_TIMEOUT_S
    while time.monotonic() < deadline and window.poll() is None:
        if main_window_shown(window.pid, env):
            return time.monotonic() - start
        time.sleep(POLL_S)
    return None


def main_window_shown(pid: int, env: dict[str, str]) -> bool:
    """A viewable window of the process with the app's title and a window's size: X11 names every untitled
    top-level window after the application, so a widget shown for a moment before it has a parent matches
    the title too."""
    search = ["xdotool", "search", "--onlyvisible", "--pid", str(pid), "--name", f"^{WINDOW_TITLE}"]
    found = subprocess.run(search, env=env, capture_output=True, text=True).stdout.split()
    for window_id in found:
        geometry = subprocess.run(
            ["xdotool", "getwindowgeometry", "--shell", window_id], env=env, capture_output=True, text=True
        ).stdout
        size = dict(line.split("=", 1) for line in geometry.splitlines() if "=" in line)
        with contextlib.suppress(KeyError, ValueError):
            if int(size["WIDTH"]) >= MIN_WINDOW[0] and int(size["HEIGHT"]) >= MIN_WINDOW[1]:
                return True
    return False


def left_running(pids: list[int]) -> list[int]:
    """The processes still running once they had time to end (the resource tracker ends when it reads the
    end of its pipe); any left are killed, not to leave them behind on this machine."""
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    left = [pid for pid in pids if running(pid)]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def window_problem(window: subprocess.Popen, stderr: str) -> str:
    if window.returncode not in (None, 0) and not stderr.strip():
        return f"it ended with exit status {window.returncode} before showing a window"
    lines = problem_lines(stderr) or stderr.strip().splitlines()[-3:]
    return " | ".join(lines) if lines else f"no window titled {WINDOW_TITLE!r} within {START_TIMEOUT_S} s"


def database_processes(parent: int, executable: Path) -> list[int]:
    """The window's child processes that run the bundle's executable: the database's process, and the
    resource tracker multiprocessing starts beside it (waiting a little for them to start)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [pid for pid in children(parent) if same_file(f"/proc/{pid}/exe", executable)]
        if found:
            return found
        time.sleep(POLL_S)
    return []


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    found.append(int(entry.name))
    return found


def same_file(link: str, path: Path) -> bool:
    try:
        return Path(os.readlink(link)).resolve() == path.resolve()
    except OSError:
        return False


def stop(window: subprocess.Popen) -> int | None:
    if window.poll() is not None:
        return window.returncode
    window.send_signal(signal.SIGTERM)
    try:
        return window.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


# --- 4. resources and the menu entry ------------------------------------------------------------------------------


def check_resources(outcome: Outcome, bundle: Bundle) -> None:
    """Every data file of the resources package (the claims template, the icons) is in the bundle, unchanged."""
    source = ROOT / "resources"
    wanted = [
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    inside = bundle.internal / "resources"
    wrong = [str(name) for name in wanted if not same_bytes(source / name, inside / name)]
    outcome.check(bool(wanted) and not wrong, f"the resources' {len(wanted)} data files", ", ".join(wrong[:5]))


def same_bytes(one: Path, other: Path) -> bool:
    return other.is_file() and one.read_bytes() == other.read_bytes()


def check_menu_entry(outcome: Outcome, executable: Path, env: dict[str, str]) -> None:
    """The applications menu entry the bundle writes starts the bundle itself, and goes again on request."""
    entry = Path(env["XDG_DATA_HOME"]) / "applications" / f"{NAME}.desktop"
    added = run([str(executable), "install-desktop-entry"], env)
    if not ran(outcome, "install-desktop-entry", added):
        return
    lines = entry.read_text().splitlines() if entry.is_file() else []
    starts = [line for line in lines if line.startswith("Exec=")]
    starts_bundle = any(str(executable) in line for line in starts)
    outcome.check(starts_bundle, "the menu entry starts the bundle's executable", "" if starts_bundle else str(entry))
    removed = run([str(executable), "remove-desktop-entry"], env)
    if ran(outcome, "remove-desktop-entry", removed):
        outcome.check(not entry.exists(), "the menu entry is removed")


def check_amazon_pull(outcome: Outcome, executable: Path, db: Path, env: dict[str, str]) -> None:
    """A whole pull through the bundle from the tests' local stand-in for Amazon: the SP-API client and its
    libraries work frozen, secrets from the environment as on a headless machine."""
    sys.path.insert(0, str(ROOT))
    from tests import fake_amazon  # the sources' own stand-in, run by this check's Python

    fake, server = fake_amazon.start()
    try:
        settings = {
            "amazon_endpoint": fake.base_url,
            "amazon_token_endpoint": fake.token_url,
            "amazon_region": "NA",
            "amazon_marketplaces": "US,CA",
        }
        for key, value in settings.items():
            if not ran(
                outcome, f"config set {key}", run([str(executable), "config", "--db", str(db), "set", key, value], env)
            ):
                return
        pulled = run([str(executable), "amazon", "pull", "--json", "--db", str(db)], {**env, **fake.environ()})
    finally:
        fake_amazon.stop(server)
    if not ran(outcome, "amazon pull through the bundle", pulled):
        return
    outcome.figure("amazon pull, 5 reports x US and CA (local stand-in)", f"{pulled.seconds:.1f} s")
    try:
        reports = json.loads(pulled.stdout)["reports"]
    except (ValueError, KeyError) as error:
        outcome.check(False, "amazon pull --json prints JSON", str(error))
        return
    done = sorted(f"{report['kind']} {report['marketplace']}" for report in reports if report["state"] == "done")
    outcome.check(len(done) == 10, "every report pulled and imported (5 kinds, US and CA)", ", ".join(done))


# --- 5. the size --------------------------------------------------------------------------------------------------


def check_size(outcome: Outcome, folder: Path) -> None:
    parts = sizes(folder)
    total = sum(parts.values())
    outcome.figure("folder size", f"{total / 1e6:.1f} MB (limit {SIZE_LIMIT_MB} MB)")
    outcome.check(total / 1e6 <= SIZE_LIMIT_MB, f"folder size at most {SIZE_LIMIT_MB} MB", f"{total / 1e6:.1f} MB")
    print("     what takes the space:")
    for name, size in sorted(parts.items(), key=lambda part: -part[1])[:10]:
        print(f"     {size / 1e6:7.1f} MB  {name}")


def sizes(folder: Path) -> dict[str, int]:
    """Bytes by part of the folder: Qt split into its libraries, plugins and bindings, numpy's libraries apart,
    the libraries at the top together. Links are not counted: they take no room."""
    parts: dict[str, int] = {}
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        parts[part_of(path.relative_to(folder))] = parts.get(part_of(path.relative_to(folder)), 0) + path.stat().st_size
    return parts


def part_of(relative: Path) -> str:
    inside = relative.parts[1:] if relative.parts[0] == "_internal" else relative.parts
    if not inside or len(relative.parts) == 1:
        return "the executable"
    text = "/".join(inside)
    if text.startswith("PySide6/Qt/lib/libicu"):
        return "ICU (Qt's Unicode and locale data)"
    for prefix, name in (("PySide6/Qt/lib/", "Qt's libraries"), ("PySide6/Qt/plugins/", "Qt's plugins")):
        if text.startswith(prefix):
            return name
    if inside[0] in ("PySide6", "shiboken6"):
        return "PySide6 (Qt's Python bindings)"
    if inside[0].startswith("python3") or inside[0].startswith("libpython") or inside[0] == "base_library.zip":
        return "Python"
    if len(inside) == 1 and inside[0].startswith("lib"):
        return "other shared libraries"
    return inside[0]


def build_seconds(executable: Path) -> int | None:
    """The duration `make bundle` recorded, when it belongs to this build."""
    try:
        if BUILD_SECONDS.stat().st_mtime >= executable.stat().st_mtime:
            return int(BUILD_SECONDS.read_text().strip())
    except (OSError, ValueError):
        pass
    return None


def print_figures(figures: list[tuple[str, str]]) -> None:
    width = max((len(name) for name, _ in figures), default=0)
    print(f"\n{'figure'.ljust(width)}  value")
    for name, value in figures:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
