"""Files written where the seller chose in a save dialog (settings file, triage CSV, printable report): a slip
onto the database or its journal is refused and the database stays whole; a write that fails leaves the old
file as it was."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from app import output_files, services
from storage import open_db
from tests.ui_support import SAMPLE_NOW, WAIT_MS, reading

MAIN = str(Path(__file__).resolve().parents[1] / "main.py")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MAIN, *args], capture_output=True, text=True, timeout=120)


def figures(path: Path) -> tuple:
    """The database's integrity and what it holds, read through SQLite itself."""
    with sqlite3.connect(path) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        counts = tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("orders", "feedback"))
    return check, counts


@pytest.fixture
def seller_db(demo_path) -> Path:
    return Path(demo_path)


@pytest.mark.parametrize(
    "command",
    [
        ("config", "export", "{db}"),
        ("config", "export", "{db}-wal"),
        ("config", "export", "{db}-journal"),
        ("triage", "--csv", "{db}"),
        ("triage", "--html", "{db}-journal"),
    ],
)
def test_the_command_line_never_writes_over_the_database(seller_db, command):
    before = figures(seller_db)
    done = run("--db", str(seller_db), *(part.format(db=seller_db) for part in command))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "choose another file name" in done.stderr and "Traceback" not in done.stderr
    assert figures(seller_db) == before == ("ok", before[1]) and before[1][0] > 0
    assert not Path(f"{seller_db}-journal").exists()


def test_reading_the_database_as_a_settings_file_is_refused_before_it_is_opened(seller_db):
    before = figures(seller_db)
    done = run("--db", str(seller_db), "config", "import", str(seller_db))
    assert done.returncode == 2 and "own database, not a settings file" in done.stderr
    assert figures(seller_db) == before


def test_another_database_journal_is_refused_too(tmp_path):
    other = tmp_path / "other.db"
    other.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(output_files.OutputRefused, match="belongs to the database beside it"):
        output_files.write_text(tmp_path / "other.db-wal", "{}", tmp_path / "mine.db")
    assert not (tmp_path / "other.db-wal").exists()


def test_a_failed_write_leaves_the_old_file_and_no_scraps(tmp_path, monkeypatch):
    target = tmp_path / "settings.json"
    target.write_text("the old settings", encoding="utf-8")

    def disk_gone(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_files.os, "replace", disk_gone)
    with pytest.raises(OSError, match="No space"):
        output_files.write_text(target, "new", tmp_path / "x.db")
    assert target.read_text(encoding="utf-8") == "the old settings"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]


def test_a_new_file_is_for_the_seller_only_and_a_replaced_one_keeps_its_mode(tmp_path):
    fresh = tmp_path / "new.csv"
    output_files.write_text(fresh, "a,b\r\n", tmp_path / "x.db", encoding="utf-8-sig")
    assert fresh.read_bytes() == b"\xef\xbb\xbfa,b\r\n" and fresh.stat().st_mode & 0o777 == 0o600
    shared = tmp_path / "shared.html"
    shared.write_text("old", encoding="utf-8")
    os.chmod(shared, 0o644)
    output_files.write_text(shared, "<p>new</p>\n", tmp_path / "x.db")
    assert shared.read_text(encoding="utf-8") == "<p>new</p>\n" and shared.stat().st_mode & 0o777 == 0o644


# --- through the window's own dialogs ---------------------------------------------------------------------------


def settings_button(desktop, text: str) -> QPushButton:
    (button,) = [b for b in desktop.window.settings_view.findChildren(QPushButton) if b.text() == text]
    return button


def test_exporting_settings_onto_the_database_in_the_save_dialog_is_refused(qtbot, launch, seller_db, monkeypatch):
    desktop = launch(seller_db)
    before = figures(seller_db)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(seller_db), "Settings (*.json)"))
    with qtbot.waitSignal(desktop.bridge.job_failed, timeout=WAIT_MS) as failed:
        settings_button(desktop, "Export settings…").click()
    assert "choose another file name" in failed.args[1]
    assert "own database" in desktop.window.statusBar().currentMessage()
    assert figures(seller_db) == before
    with reading(seller_db) as db:  # the database's process still serves
        assert services.load_triage(db, SAMPLE_NOW).items


def test_settings_exported_and_imported_through_the_dialogs(qtbot, launch, seller_db, tmp_path, monkeypatch):
    desktop = launch(seller_db)
    target = tmp_path / "laptop-settings.json"
    with reading(seller_db) as db:
        services.save_matrix_entry(db, "delivery_issue", "Call the courier", "Sam", 12, None, template="Hi {order_id}")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Settings (*.json)"))
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        settings_button(desktop, "Export settings…").click()
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert [row["template"] for row in exported["matrix"]] == ["Hi {order_id}"]
    with reading(seller_db) as db:
        services.reset_matrix(db)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), "Settings (*.json)"))
    monkeypatch.setattr("ui.confirm.QMessageBox.question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS):
        settings_button(desktop, "Import settings…").click()
    db = open_db(seller_db)
    try:
        (entry,) = [e for e in services.get_matrix(db) if e.category == "delivery_issue" and not e.case]
    finally:
        db.close()
    assert entry.template == "Hi {order_id}" and entry.who == "Sam"
    assert "Imported" in desktop.window.statusBar().currentMessage()


def test_a_pipe_is_written_in_place_and_a_link_keeps_pointing_at_its_file(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    output_files.write_text(link, "new", tmp_path / "x.db")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = subprocess.Popen(["cat", str(pipe)], stdout=subprocess.PIPE)
    output_files.write_text(pipe, "through the pipe", tmp_path / "x.db")
    assert reader.communicate(timeout=30)[0] == b"through the pipe"


def test_another_accounts_database_and_a_read_only_file_are_not_written_over(tmp_path, seller_db):
    other = tmp_path / "europe.db"
    other.write_bytes(Path(seller_db).read_bytes())
    with pytest.raises(output_files.OutputRefused, match="is a database"):
        output_files.write_text(other, "{}", seller_db)
    kept = tmp_path / "kept.csv"
    kept.write_text("mine", encoding="utf-8")
    os.chmod(kept, 0o444)
    with pytest.raises(output_files.OutputRefused, match="read-only"):
        output_files.write_text(kept, "new", seller_db)
    assert kept.read_text(encoding="utf-8") == "mine" and figures(other)[0] == "ok"


def test_a_huge_or_endless_file_is_not_read_as_settings(tmp_path, seller_db):
    big = tmp_path / "Inbox.mbox"
    big.write_bytes(b"From x\n" * 400_000)
    for path, words in ((big, "larger than 2 MB"), (Path("/dev/zero"), "not a file")):
        done = run("--db", str(seller_db), "config", "import", str(path))
        assert done.returncode == 2 and words in done.stderr
