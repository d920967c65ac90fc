"""Probe the app on a real (virtual) desktop: run by tests/test_desktop_tray.py through desktop-session.

    desktop-session -- python tests/desktop_probe.py DB_PATH

Builds a demo database dated relative to now (`app.demo.load_demo`: buyer messages with 1.5 h and 5 h
left, so clock alerts fire on the first check), starts `DesktopApp` with the tray chosen as `main.py`
chooses it (`use_tray=None`), and checks what the seller would see: a system tray, the app's icon docked
in it, an alert delivered to the tray and shown on screen. Prints one line per finding and exits 0 when
every check holds, 1 otherwise (never 3: that is desktop-session's own "cannot run" status).

How the alert reaches the screen depends on the tray host, and Qt decides, not the app. With a
StatusNotifierItem host on D-Bus (KDE, GNOME's AppIndicator extension), Qt's tray icon is a D-Bus item
and `showMessage` sends an org.freedesktop.Notifications Notify to the notification daemon. With an
XEmbed tray such as trayer (the system-tray selection _NET_SYSTEM_TRAY_S0, no StatusNotifierWatcher on
the bus), Qt docks a small window into the tray and `showMessage` draws its own balloon (a QBalloonTip
top-level widget beside the icon); the notification daemon gets nothing even though one is running. The
probe finds out which host it has and checks for the matching evidence: the balloon with the alert's
title, or the Notify call seen on the session bus (dbus-monitor) and counted by dunst.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TRAY_WAIT_S = 10  # the tray host may still be starting when the probe does
ALERT_WAIT_S = 30
SNI_WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"


class Findings:
    """What the probe saw, printed as it goes; failed checks make the exit status 1."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def note(self, what: str, value: object) -> None:
        print(f"{what}: {value}", flush=True)

    def check(self, what: str, ok: bool, detail: object = "") -> bool:
        print(f"{'ok' if ok else 'FAILED'}  {what}{f' ({detail})' if detail != '' else ''}", flush=True)
        if not ok:
            self.failed.append(what)
        return ok


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: desktop_probe.py DB_PATH", file=sys.stderr)
        return 2
    db_path = Path(argv[1])
    found = Findings()
    monitor = NotifyMonitor.start()  # before the app, so no Notify call can slip past

    from app.demo import load_demo
    from app.demo_state import DEMO_FLAG
    from storage import open_db
    from storage.settings import delete_setting

    db = open_db(db_path)
    found.note("demo data", load_demo(db))
    # The demo seller's alerts stay in the window; without the flag the same data is a seller's own and
    # its alerts go to the tray, which is what this probe is about.
    delete_setting(db, DEMO_FLAG)
    db.close()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from ui.application import APP_NAME, DesktopApp

    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("account-health-monitor-probe")
    app.setQuitOnLastWindowClosed(False)
    waited = wait_until(app, QSystemTrayIcon.isSystemTrayAvailable, TRAY_WAIT_S)
    waited_text = f"after {waited:.1f} s" if waited is not None else f"not within {TRAY_WAIT_S} s"
    if not found.check("QSystemTrayIcon.isSystemTrayAvailable()", waited is not None, waited_text):
        return report(found, monitor)
    sni = bus_has(SNI_WATCHER)
    found.note("tray host", "StatusNotifierItem (D-Bus)" if sni else "XEmbed (no StatusNotifierWatcher on the bus)")
    found.note("notification daemon on the bus", bus_has(NOTIFICATIONS))

    settings = QSettings(str(db_path.with_suffix(".ini")), QSettings.Format.IniFormat)
    desktop = DesktopApp(db_path, settings=settings, use_tray=None)  # None: as main.py, the tray if there is one
    if not found.check("DesktopApp chose the tray", desktop.tray is not None):
        return report(found, monitor)
    desktop.start()
    icon = desktop.tray.icon
    found.check("tray icon isVisible()", icon.isVisible())
    # isVisible() is only the app's wish. Docked, the icon's window has been reparented into the tray
    # host's panel: its place on screen (Qt maps it through the X server) lies inside the panel's.
    docked = wait_until(app, lambda: inside_tray_panel(icon.geometry()), TRAY_WAIT_S)
    found.check("tray icon docked in the tray", docked is not None, f"icon {rect_text(icon.geometry())}")
    found.note("tray panels (trayer)", ", ".join(rect_text(panel) for panel in tray_panels()) or "none found")

    shown = wait_until(app, lambda: desktop.delivered and desktop.tray.last_alert is not None, ALERT_WAIT_S)
    found.check("an alert was delivered (DesktopApp.delivered)", bool(desktop.delivered), len(desktop.delivered))
    alert = desktop.tray.last_alert
    if not found.check("the tray showed it (Tray.last_alert)", alert is not None, alert.title if alert else ""):
        desktop.quit()
        return report(found, monitor)
    found.note("alert shown after", f"{shown:.1f} s")
    found.note("alert body", alert.body.replace("\n", " / "))

    if sni:
        seen = wait_until(app, lambda: alert.title in monitor.text(), 5)
        found.check("Notify with the alert's title reached the session bus", seen is not None)
        found.check("dunst counted it", dunst_count("displayed") + dunst_count("history") > 0)
    else:
        balloon = wait_until(app, lambda: balloon_texts(app, alert.title), 5)
        texts = balloon_texts(app, alert.title)
        found.check("Qt's own balloon (QBalloonTip) shows the alert's title", balloon is not None, " | ".join(texts))
        found.note("Notify calls on the session bus", monitor.count() if monitor.running else "not watched")
        found.note("dunst displayed / history", f"{dunst_count('displayed')} / {dunst_count('history')}")
    desktop.quit()
    return report(found, monitor)


def wait_until(app, predicate, timeout_s: float) -> float | None:
    """Process events until `predicate()` holds; the seconds it took, or None on timeout."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            return None
        app.processEvents()
        time.sleep(0.02)


def tray_panels() -> list:
    """Where trayer's panel windows are on screen (xdotool, which desktop-session installs)."""
    from PySide6.QtCore import QRect

    if not shutil.which("xdotool"):
        return []
    search = subprocess.run(["xdotool", "search", "--classname", "panel"], capture_output=True, text=True, timeout=5)
    panels = []
    for window in search.stdout.split():
        shown = subprocess.run(
            ["xdotool", "getwindowgeometry", "--shell", window], capture_output=True, text=True, timeout=5
        )
        values = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
        if all(key in values for key in ("X", "Y", "WIDTH", "HEIGHT")):
            panels.append(QRect(int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])))
    return panels


def inside_tray_panel(geometry) -> bool:
    return not geometry.isEmpty() and any(panel.contains(geometry) for panel in tray_panels())


def rect_text(rect) -> str:
    return f"{rect.width()}x{rect.height()} at {rect.x()},{rect.y()}"


def bus_has(name: str) -> bool:
    from PySide6.QtDBus import QDBusConnection

    bus = QDBusConnection.sessionBus()
    return bus.isConnected() and bool(bus.interface().isServiceRegistered(name).value())


def balloon_texts(app, title: str) -> list[str]:
    """The texts of a visible QBalloonTip whose labels include `title` (empty when there is none)."""
    from PySide6.QtWidgets import QLabel

    for widget in app.topLevelWidgets():
        if widget.metaObject().className() != "QBalloonTip" or not widget.isVisible():
            continue
        texts = [label.text() for label in widget.findChildren(QLabel) if label.text()]
        if any(title in text for text in texts):
            return texts
    return []


def dunst_count(which: str) -> int:
    if not shutil.which("dunstctl"):
        return 0
    done = subprocess.run(["dunstctl", "count", which], capture_output=True, text=True, timeout=5, check=False)
    return int(done.stdout.strip()) if done.stdout.strip().isdigit() else 0


class NotifyMonitor:
    """dbus-monitor on the session bus, watching Notify calls to the notification daemon."""

    def __init__(self, process: subprocess.Popen | None, log: Path | None):
        self.process, self.log = process, log

    @classmethod
    def start(cls) -> NotifyMonitor:
        if not shutil.which("dbus-monitor"):
            return cls(None, None)
        import tempfile

        log = Path(tempfile.mkstemp(prefix="notify-", suffix=".log")[1])
        rule = f"type='method_call',interface='{NOTIFICATIONS}',member='Notify'"
        with open(log, "w") as out:
            process = subprocess.Popen(["dbus-monitor", "--session", rule], stdout=out, stderr=subprocess.DEVNULL)
        time.sleep(0.3)  # let it register its match rule before anything is sent
        return cls(process, log)

    @property
    def running(self) -> bool:
        return self.process is not None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def count(self) -> int:
        return self.text().count("member=Notify")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            self.log.unlink(missing_ok=True)


def report(found: Findings, monitor: NotifyMonitor) -> int:
    monitor.stop()
    print("PROBE " + ("PASSED" if not found.failed else "FAILED: " + "; ".join(found.failed)), flush=True)
    return 0 if not found.failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
