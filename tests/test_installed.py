"""The monitor installed from its wheel, as `pipx install` installs it: the wheel is built from a copy of the
project (offline, with the build backend the test environment has), installed into a folder of the test's
own, and its two commands are run from elsewhere, so nothing of the source tree is used."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.conftest import ROOT, SAMPLE_FILES, SAMPLES
from tests.test_autostart import read_entry, unquote_exec

PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", "app", "ui", "storage", "resources")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy (a build writes build/ and *.egg-info beside the sources)."""
    copy = tmp_path_factory.mktemp("project")
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    out = tmp_path_factory.mktemp("wheel")
    said = pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(copy))
    assert "license" not in said.lower(), "no warning about the license metadata"
    (found,) = out.glob("account_health_monitor-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (scripts in bin/), on this environment's dependencies."""
    target = tmp_path_factory.mktemp("installed")
    pip("install", "--no-deps", "--no-compile", "--target", str(target), str(wheel))
    return target


def pip(*arguments: str) -> str:
    """Runs pip of this environment; what it printed."""
    ran = subprocess.run([sys.executable, "-m", "pip", *arguments], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout + ran.stderr


def run(installed: Path, script: str, *arguments: str, home: Path) -> subprocess.CompletedProcess:
    """One of the installed scripts, started from the seller's home folder, the installed copy first on the
    path (ahead of the source tree's editable install)."""
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(installed), "QT_QPA_PLATFORM": "offscreen"}
    env["COLUMNS"] = "200"  # help text on whole lines
    for name in ("AHM_DB", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(name, None)
    return subprocess.run(
        [str(installed / "bin" / script), *arguments], capture_output=True, text=True, env=env, cwd=home, timeout=180
    )


def test_the_wheel_carries_the_license_entry_points_and_resources_but_no_tests(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "[gui_scripts]\naccount-health-monitor = app.entry:window" in entry_points
    assert "[console_scripts]\nahm = app.entry:command_line" in entry_points
    assert "resources/icons/account-health-monitor.svg" in names and "resources/icons/48x48.png" in names
    assert not any(name.startswith(("tests/", "bench/", "tools/")) or name == "main.py" for name in names)


def test_ahm_runs_the_command_line_from_the_installed_copy(installed, tmp_path):
    version = run(installed, "ahm", "--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == "ahm 0.1.0", version.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import app; print(app.__file__)"],
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(installed)), "the installed copy is the one that runs"
    database = tmp_path / "seller.db"
    imported = run(
        installed, "ahm", "import", "--db", str(database), *(str(SAMPLES / n) for n in SAMPLE_FILES), home=tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    expected = json.loads((SAMPLES / "expected.json").read_text())
    figures = run(
        installed, "ahm", "metrics", "--db", str(database), "--as-of", expected["as_of"], "--json", home=tmp_path
    )
    assert figures.returncode == 0, figures.stderr
    odr = json.loads(figures.stdout)["order_defect_rate"]
    assert [odr["window_start"], odr["window_end"]] == expected["odr_window"]
    assert {key: odr[key] for key in expected["odr"]["all"]} == expected["odr"]["all"]


def test_ahm_alone_prints_its_help_and_opens_no_window(installed, tmp_path):
    ran = run(installed, "ahm", home=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("usage: ahm") and "install-desktop-entry" in ran.stdout
    assert "account-health-monitor" in ran.stdout, "it says how to open the window"
    refused = run(installed, "ahm", "--screenshot", str(tmp_path / "x.png"), home=tmp_path)
    assert refused.returncode == 2 and "ahm: error:" in refused.stderr
    assert not (tmp_path / "x.png").exists()


def test_account_health_monitor_opens_the_window_on_the_demo_seller(installed, tmp_path):
    shot = tmp_path / "dashboard.png"
    ran = run(
        installed, "account-health-monitor", "--db", str(tmp_path / "d.db"), "--screenshot", str(shot), home=tmp_path
    )
    assert ran.returncode == 0, ran.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1366, 768)


def test_the_installed_menu_entry_starts_the_installed_window_script(installed, tmp_path):
    ran = run(installed, "ahm", "install-desktop-entry", home=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Remove it with: ahm remove-desktop-entry" in ran.stdout, "the command the seller has"
    entry = read_entry(tmp_path / ".local" / "share" / "applications" / "account-health-monitor.desktop")
    assert unquote_exec(entry["Exec"]) == [str(installed / "bin" / "account-health-monitor")]
    assert (tmp_path / ".local/share/icons/hicolor/256x256/apps/account-health-monitor.png").is_file()
    assert run(installed, "ahm", "remove-desktop-entry", home=tmp_path).returncode == 0
    assert not (tmp_path / ".local" / "share" / "applications" / "account-health-monitor.desktop").exists()
