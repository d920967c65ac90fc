"""A large All Orders report is read in a process of its own while the importer writes (app.importers.ahead).

What is stored, rejected and logged must be what reading in the importer's own process gives, for every
quirk, encoding and compression; a cancel, a reading process that dies and one that cannot start must each
leave the database as it was (or import in-process), and no reading process may outlive its import. The
importer's own tests are run once more with every All Orders report read this way (the last test).
"""

from __future__ import annotations

import gzip
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from app.importers import ALL_ORDERS, ImportOptions, ahead, open_sources
from app.imports import import_files
from tests.report_files import gzipped, import_log, made_up_orders, table_state, zipped
from tests.test_import_equivalence import imported, quirky_report

ROOT = Path(__file__).resolve().parents[1]
POSIX = pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for the executable; kill is SIGKILL")


class Readers:
    """The reading processes the imports start, noted as they start."""

    def __init__(self, monkeypatch):
        self.started: list[subprocess.Popen] = []
        start = ahead._start

        def noted(*args):
            reader = start(*args)
            self.started.append(reader)
            return reader

        monkeypatch.setattr(ahead, "_start", noted)

    def all_ended(self) -> bool:
        return all(reader.poll() is not None for reader in self.started)


@pytest.fixture
def readers(monkeypatch) -> Readers:
    monkeypatch.setattr(ahead, "AHEAD_BYTES", 0)  # every All Orders report, however small
    return Readers(monkeypatch)


def in_this_process(monkeypatch, db_path: Path, reports: list[Path]) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(ahead, "AHEAD_BYTES", 10**15)
        return imported(db_path, reports)


def quirky_reports(tmp_path: Path, seed: int) -> list[Path]:
    rng = random.Random(seed)
    order_ids = [f"{rng.randrange(111, 115)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}" for _ in range(400)]
    return [quirky_report(tmp_path / f"orders-{n}.txt", seed * 10 + n, order_ids, rows=6000) for n in (1, 2)]


@pytest.mark.parametrize("seed", [3, 4])
def test_quirky_reports_read_ahead_store_and_reject_what_reading_here_does(tmp_path, monkeypatch, readers, seed):
    reports = quirky_reports(tmp_path, seed)
    ahead_of_time = imported(tmp_path / "ahead.db", reports)
    assert len(readers.started) == 4  # each report, imported twice, read by a process of its own
    here = in_this_process(monkeypatch, tmp_path / "here.db", reports)
    assert ahead_of_time == here
    first = ahead_of_time["results"][0]
    assert first["added"] > 1000 and first["rejected"] > 100  # the comparison is about something
    assert readers.all_ended()


def test_compressed_and_archived_reports_read_ahead_as_here(tmp_path, monkeypatch, readers):
    plain = made_up_orders(3000).write(tmp_path / "orders.txt")
    other = made_up_orders(4000).write(tmp_path / "more.txt")
    reports = [
        gzipped(plain, tmp_path / "orders.txt.gz"),
        zipped(tmp_path / "both.zip", {"a.txt": plain, "b.txt": other}),
    ]
    ahead_of_time = imported(tmp_path / "ahead.db", reports)
    assert len(readers.started) == 6  # the gzip file and both members, twice
    assert ahead_of_time == in_this_process(monkeypatch, tmp_path / "here.db", reports)
    assert {result["sha256"] for result in ahead_of_time["results"]} >= {_sha256(plain), _sha256(other)}


def test_a_windows_1252_report_found_late_is_read_again_as_here(tmp_path, monkeypatch, readers):
    flat = made_up_orders(20000)
    name = flat.at("product-name")
    flat.rows[-1][name] = "Café crème"  # the only non-ASCII text, far past the part read to guess the encoding
    path = flat.write(tmp_path / "orders.txt", encoding="cp1252", newline="\r\n")
    ahead_of_time = imported(tmp_path / "ahead.db", [path])
    assert ahead_of_time["results"][0]["encoding"] == "cp1252"
    assert "Café crème" in {row[4] for row in ahead_of_time["tables"]["order_items"]}
    assert ahead_of_time == in_this_process(monkeypatch, tmp_path / "here.db", [path])


@pytest.mark.parametrize("kind", ["mixed encodings", "truncated gzip"])
def test_a_report_refused_half_way_is_refused_as_here_and_stores_nothing(tmp_path, monkeypatch, readers, kind):
    text = made_up_orders(20000).text()
    if kind == "mixed encodings":
        path = tmp_path / "orders.txt"
        path.write_bytes(text.replace("Shipped", "Shipped é", 1).encode() + "Café\tx\n".encode("cp1252"))
    else:
        path = tmp_path / "orders.gz"
        path.write_bytes(gzip.compress(text.encode())[:-4000])
    ahead_of_time = imported(tmp_path / "ahead.db", [path])
    outcome = ahead_of_time["results"][0]
    assert outcome["outcome"] == "refused" and "line" in outcome["message"]
    assert ahead_of_time["tables"] == {"orders": [], "order_items": []}
    assert ahead_of_time == in_this_process(monkeypatch, tmp_path / "here.db", [path])
    assert readers.all_ended()


def test_a_cancel_half_way_stores_nothing_and_ends_the_reading_process(tmp_path, db, readers):
    path = made_up_orders(30000).write(tmp_path / "orders.txt")
    before = table_state(db)
    seen = []
    results = import_files(db, [path], progress=seen.append, cancelled=lambda: len(seen) >= 2)
    assert results[0].outcome == "cancelled"
    assert 0 < seen[-1].bytes_read < path.stat().st_size  # the reading process's progress, mid-way
    assert table_state(db) == before
    assert len(readers.started) == 1 and readers.all_ended()


@POSIX
def test_a_reading_process_that_dies_refuses_the_report_and_stores_nothing(tmp_path, db, readers):
    path = made_up_orders(30000).write(tmp_path / "orders.txt")
    before = table_state(db)

    def killed(progress):
        readers.started[0].kill()

    results = import_files(db, [path], progress=killed)
    assert results[0].outcome == "refused"
    assert "the process reading the report stopped (exit code -9)" in results[0].message
    assert "Nothing from it was stored" in results[0].message
    assert table_state(db) == before
    assert import_log(db)[-1]["outcome"] == "refused"


def test_a_reading_process_that_cannot_start_leaves_the_report_read_here(tmp_path, db, readers, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    path = made_up_orders(500).write(tmp_path / "orders.txt")
    results = import_files(db, [path])
    assert results[0].outcome == "imported" and results[0].added == 500
    assert readers.started == []


def bundle_executable(folder: Path, monkeypatch, script: str) -> Path:
    """A shell script standing in for a bundle's executable (`sys.frozen`), running `script`."""
    executable = folder / "account-health-monitor"
    executable.write_text(f"#!/bin/sh\n{script}\n")
    executable.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(executable))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    return executable


@POSIX
def test_the_bundles_executable_becomes_the_reading_process(tmp_path, monkeypatch, readers):
    """A bundle has no `python -m`: the reading process is its own executable with `--read-report-ahead`,
    which `app.entry` hands to the reader before anything else. A script standing in for the executable
    runs `main.py` as the bundle runs `app.entry`."""
    executable = bundle_executable(tmp_path, monkeypatch, f'exec "{sys.executable}" "{ROOT / "main.py"}" "$@"')
    path = made_up_orders(2500).write(tmp_path / "orders.txt")
    ahead_of_time = imported(tmp_path / "ahead.db", [path])
    assert [reader.args for reader in readers.started] == [[str(executable), "--read-report-ahead"]] * 2
    monkeypatch.setattr(sys, "frozen", False)
    assert ahead_of_time == in_this_process(monkeypatch, tmp_path / "here.db", [path])
    assert ahead_of_time["results"][0]["added"] == 2500


@POSIX
@pytest.mark.parametrize(
    "script", ["exit 1", "echo 'not the rows'", "echo 'Traceback: No module named app' >&2; exit 1"]
)
def test_a_reading_process_that_ends_at_its_start_leaves_the_report_read_here(
    tmp_path, monkeypatch, readers, caplog, script
):
    """A broken install (the executable cannot be the reading process) must not refuse every large report."""
    bundle_executable(tmp_path, monkeypatch, script)
    path = made_up_orders(2500).write(tmp_path / "orders.txt")
    read_here = imported(tmp_path / "here.db", [path])
    assert len(readers.started) == 2 and readers.all_ended()
    assert "the report is read in this process: its reading process ended at its start" in caplog.text
    assert [result["added"] for result in read_here["results"]] == [2500, 0]
    monkeypatch.setattr(sys, "frozen", False)
    assert read_here == in_this_process(monkeypatch, tmp_path / "plain.db", [path])


def test_a_gzip_report_is_sized_by_its_text_not_its_compressed_bytes(tmp_path, monkeypatch, readers):
    path = gzipped(made_up_orders(3000).write(tmp_path / "orders.txt"), tmp_path / "orders.gz")
    text = (tmp_path / "orders.txt").stat().st_size
    assert path.stat().st_size < text // 4
    monkeypatch.setattr(ahead, "AHEAD_BYTES", text)
    assert imported(tmp_path / "ahead.db", [path])["results"][0]["added"] == 3000
    assert len(readers.started) == 2
    monkeypatch.setattr(ahead, "AHEAD_BYTES", text + 1)
    imported(tmp_path / "here.db", [path])
    assert len(readers.started) == 2  # one byte more than the text holds: read here


def test_the_reading_process_sends_the_rows_of_the_report_it_is_given(tmp_path):
    """Given a request on its input, it reads that file and writes the rows, then the end, to its output."""
    path = made_up_orders(10).write(tmp_path / "orders.txt")
    request = ahead.request_for(open_sources(path)[0], ALL_ORDERS, "utf-8", ImportOptions())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "app.importers.ahead"], input=pickle.dumps(request), capture_output=True, env=env
    )
    assert done.returncode == 0, done.stderr
    messages = _messages(done.stdout)
    assert [tag for tag, *_ in messages] == ["ready", "rows", "end"]
    assert len(messages[1][2]) == 10 and messages[2][2] == _sha256(path)


def test_the_importers_own_tests_pass_with_every_orders_report_read_ahead():
    modules = [
        "tests/test_import_equivalence.py",
        "tests/test_orders_quirks.py",
        "tests/test_import_bad_input.py",
        "tests/test_import_formats.py",
        "tests/test_import_atomicity.py",
        "tests/test_hostile_files.py",
    ]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--read-ahead-always", *modules]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1]


def _messages(data: bytes) -> list[tuple]:
    messages, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at : at + ahead.SIZE_BYTES], "little")
        at += ahead.SIZE_BYTES
        messages.append(pickle.loads(data[at : at + size]))
        at += size
    return messages


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
