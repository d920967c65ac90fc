"""The watched folder: a report downloaded into it (the Downloads folder by default) imports itself.

A look at the folder every few seconds (`FolderWatcher.poll`, run by the scheduler) rather than file-system
notifications: the `watchdog` package would add a dependency (native on macOS) and still could not say
when a file is *finished* (a browser, a copy from a network drive or an unzip writes in many steps, each
an event), so the look that decides would be the same one as here; listing a Downloads folder of 3,000
files takes about 20 ms, every 5 s, on the background worker.

A file is imported once it is completely written: the same size and mtime at two consecutive looks, and,
for a .gz or .zip, an archive that reads to its end (a download stalled half-way is a truncated archive
whose size does not change). Until then it is not touched, and not remembered either, so it is looked at
again when it grows. Browsers' partial files (.crdownload, .part, ...) and hidden files are never opened.

What a file is, is decided by its content (`app.importers.recognise`), never its name. A recognised
report goes through the usual import (`app.imports.import_files`) and its results are returned for the
tray notice and the import summary; any other file is left alone (and looked at again only if it
changes: a zip whose end is not written yet is no report yet). Every file looked at is
remembered by path, size, mtime and, for reports, SHA-256 (table `watched_files`), so it is imported
once: the same report saved again under another name is a duplicate and not imported again, and a file
replaced by another at the same path is looked at anew.

Files already in the folder when watching it begins are left as they are (a Downloads folder holds years
of old reports, and importing them unasked could replace newer data); the seller imports those by hand.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from app.importers import ReportError, open_sources, recognise
from app.importers.limits import MAX_REPORT_BYTES
from app.importers.source import GZIP_MAGIC, ZIP_MAGIC
from app.imports import FileResult, import_files
from app.settings import load_settings
from storage.db import DatabaseFiles
from storage.transaction import database_path, write_transaction

log = logging.getLogger(__name__)

POLL_SECONDS = 5
# Names browsers and download managers give a file while it is being written (renamed when done).
PARTIAL_SUFFIXES = (".crdownload", ".part", ".partial", ".download", ".tmp", ".temp", ".opdownload", ".!ut")
PRESENT, IMPORTED, REFUSED, IGNORED, DUPLICATE = "present", "imported", "refused", "ignored", "duplicate"


@dataclass(frozen=True)
class Look:
    size: int
    mtime_ns: int


@dataclass
class WatchOutcome:
    """What one look at the folder did."""

    folder: Path
    imported: list[FileResult]  # one per report, as an import from the Import dialog gives
    ignored: list[str]  # names of files that are not reports (left alone)
    duplicates: list[str]  # names of reports already imported under another name
    problem: str | None = None  # the folder cannot be read (missing, no permission)


class FolderWatcher:
    """Looks at the watched folder; keeps between looks (in memory) what each new file looked like.

    Args:
        now: the clock (injected in tests).
    """

    def __init__(self, now: Callable[[], float] = time.time):
        self.now = now
        self._looks: dict[str, Look] = {}  # new files by path: their size and mtime at the previous look
        self._incomplete: dict[str, Look] = {}  # archives that did not read to their end at that size and mtime

    def poll(self, db: sqlite_utils.Database, folder: str | Path | None = None) -> WatchOutcome:
        """One look at `folder` (the `watch_folder` setting by default); imports what is complete."""
        folder = Path(folder if folder is not None else load_settings(db).watch_folder).expanduser()
        outcome = WatchOutcome(folder, [], [], [])
        try:
            entries = _files(folder, DatabaseFiles(database_path(db)))
        except OSError as error:
            outcome.problem = f"The watched folder {folder} cannot be read ({error.strerror or error})."
            return outcome
        key = str(folder)
        if not db.execute("SELECT 1 FROM watch_folders WHERE folder = ?", [key]).fetchone():
            self._begin(db, key, entries)
            return outcome
        known = {
            row[0]: Look(row[1], row[2])
            for row in db.execute("SELECT path, size, mtime_ns FROM watched_files WHERE folder = ?", [key])
        }
        for path, look in entries.items():
            if known.get(path) == look:
                continue
            if self._looks.get(path) != look:  # new or still changing: wait for the next look
                self._looks[path] = look
                continue
            if self._incomplete.get(path) == look or look.size == 0:
                continue
            self._consider(db, key, Path(path), look, outcome)
        for path in set(self._looks) - set(entries):  # gone (moved away, or renamed when finished)
            self._looks.pop(path, None)
            self._incomplete.pop(path, None)
        return outcome

    def _begin(self, db, folder: str, entries: dict[str, Look]) -> None:
        """First look at this folder: what is already there stays as it is."""
        at = int(self.now())
        with write_transaction(db):
            db.execute("INSERT INTO watch_folders (folder, started_at) VALUES (?, ?)", [folder, at])
            for path, look in entries.items():
                _remember(db, folder, path, look, None, PRESENT, None, at)

    def _consider(self, db, folder: str, path: Path, look: Look, outcome: WatchOutcome) -> None:
        at = int(self.now())
        # What it is comes first: a report's first bytes are there before the rest, and a large archive
        # that is no report (an installer, photos) is never read to its end just to be left alone. A file
        # too short even for that is remembered at this size; when it grows it is looked at again.
        kind = recognised_kind(path)
        if kind is None:
            self._forget(path)
            _remember(db, folder, str(path), look, None, IGNORED, None, at)
            outcome.ignored.append(path.name)
            return
        if not archive_complete(path):
            self._incomplete[str(path)] = look
            return
        self._forget(path)
        digest = file_sha256(path)
        already = db.execute(
            "SELECT 1 FROM watched_files WHERE sha256 = ? AND outcome = ? AND path != ?", [digest, IMPORTED, str(path)]
        ).fetchone()
        if already:
            _remember(db, folder, str(path), look, digest, DUPLICATE, kind, at)
            outcome.duplicates.append(path.name)
            return
        log.info("importing %s from the watched folder", path)
        try:
            results = import_files(db, [path], now=self.now)
        except Exception:  # a bug, not the file: said once by the scheduler, not at every look
            _remember(db, folder, str(path), look, digest, REFUSED, kind, at)
            raise
        imported = any(result.outcome in ("imported", "no_rows") for result in results)
        _remember(db, folder, str(path), look, digest, IMPORTED if imported else REFUSED, kind, at)
        outcome.imported.extend(results)

    def _forget(self, path: Path) -> None:
        self._looks.pop(str(path), None)
        self._incomplete.pop(str(path), None)


def _files(folder: Path, own: DatabaseFiles) -> dict[str, Look]:
    """The folder's regular files worth a look, by path (not hidden, not a partial download, not the
    monitor's own database should it sit in the watched folder)."""
    files = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
                continue
            try:
                if not entry.is_file():
                    continue
                stat = entry.stat()
            except OSError:  # vanished between the listing and the look
                continue
            if own.holds(entry.path, stat):
                continue
            files[entry.path] = Look(stat.st_size, stat.st_mtime_ns)
    return files


def archive_complete(path: Path) -> bool:
    """True unless the file is a gzip or zip archive that does not read to its end (still being written):
    a gzip stream must reach its end marker, a zip archive its central directory (written last) and every
    member its checksum."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
        if magic.startswith(GZIP_MAGIC):
            with gzip.open(path, "rb") as stream:
                read = 0
                # Past the size a report may have, the import refuses it anyway (saying why): a bomb is not
                # decompressed to its end here.
                while read <= MAX_REPORT_BYTES and (chunk := stream.read(1 << 20)):
                    read += len(chunk)
        elif magic.startswith(ZIP_MAGIC):
            with zipfile.ZipFile(path) as archive:
                if sum(member.file_size for member in archive.infolist()) > MAX_REPORT_BYTES:
                    return True
                return archive.testzip() is None
    except (EOFError, OSError, zlib.error, zipfile.BadZipFile):
        return False
    return True


def recognised_kind(path: Path) -> str | None:
    """The kind of the first report the file holds (a zip may hold several), or None when it holds none."""
    try:
        sources = open_sources(path)
    except ReportError:
        return None
    for source in sources:
        try:
            return recognise(source).key
        except ReportError:
            continue
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remember(db, folder: str, path: str, look: Look, digest, outcome: str, kind, at: int) -> None:
    db.execute(
        """INSERT INTO watched_files (path, folder, size, mtime_ns, sha256, outcome, kind, seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (path) DO UPDATE SET folder = excluded.folder, size = excluded.size,
               mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, outcome = excluded.outcome,
               kind = excluded.kind, seen_at = excluded.seen_at""",
        [path, folder, look.size, look.mtime_ns, digest, outcome, kind, at],
    )
