"""The watched folder: a report that arrives is imported once, after it is completely written; anything
else is left alone; nothing is imported twice; the scheduler runs it and reports what came in."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import threading
import time
import zipfile

import pytest

from app.alerts import RecordingSink
from app.imports import import_files
from app.scheduler import FOLDER_JOB, MonitorScheduler
from app.settings import save_setting
from app.watch import FolderWatcher
from tests.recording import RecordingListener
from tests.ui_support import SAMPLE_NOW, FixedClock


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "Downloads"
    path.mkdir()
    return path


@pytest.fixture
def orders_bytes(samples) -> bytes:
    return (samples / "all-orders.txt").read_bytes()


@pytest.fixture
def full_import(new_db, samples) -> int:
    """How many order items importing the whole All Orders report adds."""
    (result,) = import_files(new_db("reference.db"), [samples / "all-orders.txt"])
    return result.added


def watching(db, folder) -> FolderWatcher:
    watcher = FolderWatcher()
    outcome = watcher.poll(db, folder)  # the first look marks the beginning of watching
    assert outcome.imported == [] and outcome.problem is None
    return watcher


def looks(watcher, db, folder, times: int = 3, pause: float = 0.0):
    imported, ignored, duplicates = [], [], []
    for _ in range(times):
        outcome = watcher.poll(db, folder)
        imported += outcome.imported
        ignored += outcome.ignored
        duplicates += outcome.duplicates
        time.sleep(pause)
    return imported, ignored, duplicates


def imports_logged(db) -> int:
    return db["import_log"].count


def test_a_report_written_slowly_is_imported_once_after_it_is_complete(db, folder, orders_bytes, full_import):
    watcher = watching(db, folder)
    target = folder / "All Orders 2026-11-08.txt"
    finished = threading.Event()
    chunk = len(orders_bytes) // 25 + 1

    def write_slowly() -> None:  # about 1 s, like a download over a slow line
        with open(target, "wb") as out:
            for start in range(0, len(orders_bytes), chunk):
                out.write(orders_bytes[start : start + chunk])
                out.flush()
                time.sleep(0.04)
        finished.set()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    early = []
    while not finished.is_set():
        early += watcher.poll(db, folder).imported
        time.sleep(0.25)
    writer.join()
    assert early == [], "imported while it was still being written"

    imported, _, _ = looks(watcher, db, folder, times=4, pause=0.05)

    assert [(r.file, r.outcome, r.kind) for r in imported] == [(target.name, "imported", "all_orders")]
    assert imported[0].added == full_import > 0  # the whole file, not the part written at some look
    assert looks(watcher, db, folder)[0] == []
    assert imports_logged(db) == 1


def test_a_file_that_is_not_a_report_is_left_alone(db, folder):
    watcher = watching(db, folder)
    photo, notes = folder / "holiday.jpg", folder / "notes.txt"
    photo.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40)
    notes.write_text("Buy tape and boxes\nCall the courier\n")
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (photo, notes)}

    imported, ignored, _ = looks(watcher, db, folder, times=4)

    assert imported == [] and sorted(ignored) == ["holiday.jpg", "notes.txt"]  # said once, not at every look
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in (photo, notes)} == before
    assert imports_logged(db) == 0  # not even a refusal in the import history
    assert looks(FolderWatcher(), db, folder)[1] == []  # remembered across a restart


def test_the_same_report_is_not_imported_again(db, folder, samples):
    watcher = watching(db, folder)
    shutil.copy(samples / "seller-feedback.txt", folder / "feedback.txt")
    imported, _, _ = looks(watcher, db, folder)
    assert [r.outcome for r in imported] == ["imported"]

    assert looks(watcher, db, folder)[0] == []
    assert looks(FolderWatcher(), db, folder)[0] == []  # after a restart too
    shutil.copy(samples / "seller-feedback.txt", folder / "feedback (1).txt")  # downloaded twice
    imported, _, duplicates = looks(watcher, db, folder)
    assert imported == [] and duplicates == ["feedback (1).txt"]
    assert imports_logged(db) == 1


def test_a_truncated_gzip_is_not_imported_until_it_is_complete(db, folder, orders_bytes, full_import):
    watcher = watching(db, folder)
    packed = gzip.compress(orders_bytes)
    target = folder / "orders.txt.gz"
    target.write_bytes(packed[: len(packed) // 2])  # the download stalled half-way: the size stays put

    imported, ignored, _ = looks(watcher, db, folder, times=4)

    assert imported == [] and ignored == [] and imports_logged(db) == 0
    with open(target, "ab") as out:
        out.write(packed[len(packed) // 2 :])
    imported, _, _ = looks(watcher, db, folder)
    assert [(r.outcome, r.added) for r in imported] == [("imported", full_import)]


def test_a_zip_is_imported_once_its_central_directory_is_written(db, folder, orders_bytes, full_import):
    watcher = watching(db, folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("All Orders.txt", orders_bytes)
    packed = buffer.getvalue()
    target = folder / "report.zip"
    target.write_bytes(packed[: len(packed) - 40])

    assert looks(watcher, db, folder)[0] == []
    target.write_bytes(packed)
    imported, _, _ = looks(watcher, db, folder)
    assert [(r.file, r.added) for r in imported] == [("report.zip:All Orders.txt", full_import)]


def test_files_there_before_watching_and_partial_downloads_are_not_touched(db, folder, samples):
    shutil.copy(samples / "claims.csv", folder / "old claims.csv")
    watcher = watching(db, folder)
    assert looks(watcher, db, folder)[0] == []

    partial = folder / "returns.txt.crdownload"
    shutil.copy(samples / "fbm-returns.txt", partial)
    assert looks(watcher, db, folder) == ([], [], [])
    partial.rename(folder / "returns.txt")  # the browser finished the download
    imported, _, _ = looks(watcher, db, folder)
    assert [(r.file, r.kind) for r in imported] == [("returns.txt", "fbm_returns")]


def test_a_missing_folder_is_a_problem_not_a_crash(db, tmp_path):
    outcome = FolderWatcher().poll(db, tmp_path / "nowhere")
    assert outcome.imported == [] and "cannot be read" in outcome.problem


Listener = RecordingListener


def test_the_scheduler_watches_when_enabled_and_reports_what_came_in(db, db_path, folder, samples):
    save_setting(db, "watch_folder", str(folder))
    listener = Listener()
    scheduler = MonitorScheduler(db_path, listener, RecordingSink(), now=FixedClock(SAMPLE_NOW))
    scheduler.start()
    try:
        assert FOLDER_JOB not in {job.id for job in scheduler.jobs()}  # off by default
    finally:
        scheduler.shutdown()

    save_setting(db, "watch_enabled", True)
    scheduler = MonitorScheduler(db_path, listener, RecordingSink(), now=FixedClock(SAMPLE_NOW))
    scheduler.start()
    try:
        job = scheduler._scheduler.get_job(FOLDER_JOB)
        assert job is not None and job.trigger.interval.total_seconds() == 5
        save_setting(db, "watch_enabled", False)
        scheduler.reschedule_sync()
        deadline = time.monotonic() + 20
        while scheduler._scheduler.get_job(FOLDER_JOB) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scheduler._scheduler.get_job(FOLDER_JOB) is None
    finally:
        scheduler.shutdown()

    scheduler.watch_folder()  # the job itself, run here: the first look begins watching
    shutil.copy(samples / "claims.csv", folder / "claims.csv")
    states_before = len(listener.states)
    scheduler.watch_folder()
    scheduler.watch_folder()
    assert [[(r.file, r.outcome) for r in results] for results in listener.folder_results] == [
        [("claims.csv", "imported")]
    ]
    assert len(listener.states) == states_before + 1, "an import recomputes the figures"
    assert listener.failures == []

    os.rename(folder, folder.with_name("gone"))
    scheduler.watch_folder()
    scheduler.watch_folder()
    assert len(listener.failures) == 1 and listener.failures[0][0] == "Watching the folder"


def test_the_monitors_own_database_in_the_watched_folder_is_never_opened(new_db, tmp_path, folder, samples):
    # Reading the database's own files (to sniff, hash or import them) would drop the SQLite locks of the
    # process that reads them. The watcher knows them by name, and by identity through another path.
    db = new_db("Downloads/health.db")
    alias = tmp_path / "also-downloads"
    alias.symlink_to(folder, target_is_directory=True)
    watcher = watching(db, alias)
    shutil.copy(samples / "claims.csv", folder / "claims.csv")
    for round_ in range(3):  # the database, its -wal and -shm change between looks, as they do in use
        save_setting(db, "imap_host", f"mail{round_}.example.com")
        _, ignored, _ = looks(watcher, db, alias, times=2)
        assert all(not name.startswith("health.db") for name in ignored), ignored
    assert {(folder / name).exists() for name in ("health.db", "health.db-wal", "health.db-shm")} == {True}
    watched = [row[0] for row in db.execute("SELECT path FROM watched_files")]
    assert watched and not [path for path in watched if "health.db" in path], watched
    assert imports_logged(db) == 1  # the claims file, and nothing else


def test_a_compression_bomb_is_not_decompressed_to_its_end_before_the_import_refuses_it(folder, monkeypatch):
    import app.watch
    from app.importers import limits
    from app.watch import archive_complete

    bomb = folder / "orders.txt.gz"
    packed = gzip.compress(b"amazon-order-id\tpurchase-date\n" + b"\n" * (8 * limits.MB))
    bomb.write_bytes(packed[:-64])  # cut before its end: only a read to the end would notice
    assert not archive_complete(bomb)
    monkeypatch.setattr(app.watch, "MAX_REPORT_BYTES", limits.MB)
    assert archive_complete(bomb)  # stopped past the size limit: the import refuses it, saying so
