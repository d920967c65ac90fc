"""The worker reuses its last cards and charts after a write that touched nothing they read: after every write
the seller can make, in random order, the state and the triage list it sends must equal the ones computed
from scratch on a connection of its own.

The seller: a few hundred generated orders over ~200 days in three marketplaces (bench/metrics.py's
generator), counted in New York's days across the end of daylight saving time, with feedback, claims,
returns and buyer messages with and without replies.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest

from app import clocks as clock_rules
from app import marks, scheduler, services, triage, triage_inputs
from app.alerts import RecordingSink
from app.scheduler import MonitorScheduler
from app.settings import save_setting
from app.timeutil import end_of_day
from storage import open_db, write_transaction
from tests.recording import RecordingListener
from tests.report_files import made_up_orders
from tests.ui_support import SAMPLE_NOW, FixedClock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from metrics import END, generate

SEEDS = range(3)
PATCH_SEEDS = range(3, 6)
STEPS = 25
ZONES = ("America/New_York", "Europe/London")
# Orders a buyer message names before their order is imported.
NOT_IMPORTED = ("114-9000000-0000001", "114-9000000-0000002")


def _normal(value):
    return json.loads(json.dumps(value, default=repr, sort_keys=True))


def same(made, expected) -> bool:
    """Equal dataclasses; a figure that is NaN on both sides (never equal to itself) compared as JSON."""
    return made == expected or _normal(dataclasses.asdict(made)) == _normal(dataclasses.asdict(expected))


def every_record_built():
    """The list built from every record read, none passed over: without the indexes that pick the records
    it may list, and with every record's item built."""
    return patch.multiple(
        triage._Builder, listed=lambda *args: True, candidates=lambda builder, records, *args: records
    )


def from_scratch(path: Path, at: float) -> tuple:
    db = open_db(path)
    try:
        state = services.refresh(db, lambda: at)
        return state, services.load_triage(db, at, settings=state.settings, clocks=state.clocks)
    finally:
        db.close()


class Seller:
    """The seller's database, the worker (run on this thread), and the writes the window can ask for."""

    def __init__(self, path: Path, rng: random.Random, marketplaces: int = 3):
        self.path, self.rng = path, rng
        # The evening of the last generated day: clocks open, the end of DST a week back.
        self.clock = FixedClock(end_of_day(END, ZoneInfo("America/New_York")) - 5 * 3600)
        db = open_db(path)
        generate(db, 400, 200, seed=rng.randrange(10**6), marketplaces=marketplaces)
        with write_transaction(db):
            save_setting(db, "timezone", ZONES[0])
            self._recent_messages(db)
        db.close()
        self.listener = RecordingListener()
        self.worker = MonitorScheduler(path, self.listener, RecordingSink(), now=self.clock)
        self.worker.figures.adopt()  # this thread plays the worker
        self.reused = 0
        reusable = self.worker.figures.reusable

        def counting(*args):
            kept = reusable(*args)
            self.reused += kept is not None
            return kept

        self.worker.figures.reusable = counting
        self.patched = 0
        patched_figures = services.patched_figures

        self.patched_imports = 0

        def counting_patches(*args):
            made = patched_figures(*args)
            self.patched += made is not None
            self.patched_imports += made is not None and bool(args[3].orders)
            return made

        self.reused_clocks = 0
        with_resolved_money = clock_rules.with_resolved_money

        def counting_reuse(*args):  # called only when the kept clock inputs are used again
            self.reused_clocks += 1
            return with_resolved_money(*args)

        self._patches = patch.multiple(services, patched_figures=counting_patches)
        self._patches.start()
        self._reads = patch.object(clock_rules, "with_resolved_money", counting_reuse)
        self.reused_triage = 0
        usable = triage_inputs.KeptTriageRecords.usable

        def counting_triage_reuse(*args):  # asked only of the triage records the worker kept
            found = usable(*args)
            self.reused_triage += found
            return found

        self._triage_reads = patch.object(triage_inputs.KeptTriageRecords, "usable", counting_triage_reuse)
        self._triage_reads.start()
        self.reused_items = 0
        keep_built = triage._Builder.keep_built

        def counting_items_reused(builder):
            before = builder.built_before
            built = builder.built.items()
            self.reused_items += sum(key in before and before[key][1] is item for key, (_, item) in built)
            return keep_built(builder)

        self._items = patch.object(triage._Builder, "keep_built", counting_items_reused)
        self._items.start()
        self._reads.start()
        self.marks: list = []
        self.imported = 0

    def _recent_messages(self, db) -> None:
        """Messages of the last day, unanswered: a mark within their 24 hours changes the LRR. Some name an
        order not imported yet (`import_known_orders` imports it)."""
        orders = [row[0] for row in db.execute("SELECT order_id FROM orders ORDER BY purchased_at DESC LIMIT 50")]
        for index in range(8):
            received = int(self.clock()) - self.rng.randint(1, 30) * 3600
            order_id = NOT_IMPORTED[index] if index < len(NOT_IMPORTED) else self.rng.choice(orders)
            db.execute(
                "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
                "VALUES (?, ?, ?, ?, 'buyer', 'Order delivery')",
                [f"<recent{index}@amazon.com>", f"recent{index}", order_id, received],
            )

    def close(self) -> None:
        self._items.stop()
        self._patches.stop()
        self._reads.stop()
        self._triage_reads.stop()
        self.worker.figures.close()

    def write(self, what: str, action, *args) -> None:
        """As the window's `submit`: the write, then the recomputation."""
        self.worker._run_write(what, action, args)

    def recompute(self) -> None:
        self.worker.recompute()

    def read(self, sql: str, *args) -> list:
        db = open_db(self.path)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    @property
    def listing(self):
        return self.listener.triage[-1]

    # --- the steps -----------------------------------------------------------------------------------------

    def mark(self) -> str:
        recent = self.rng.random() < 0.7
        where = "WHERE message_id LIKE '<recent%'" if recent else ""
        message = self.rng.choice(self.read(f"SELECT message_id FROM messages {where} ORDER BY message_id"))[0]
        action = self.rng.choice((marks.mark_replied, marks.mark_no_response_needed))
        self.write("mark", _keep_mark(self.marks, action), message, self.clock())
        return f"{action.__name__} {message}"

    def thread_edit(self) -> str:
        """A write to buyer messages and replies other than a mark, on the worker's connection: a message in
        an existing thread (about its order, or an order not imported yet), a reply (automatic or about
        another order), a reply taken away, a message moved to another thread."""
        threads = [row[0] for row in self.read("SELECT DISTINCT thread_key FROM messages ORDER BY thread_key")]
        thread, other = self.rng.choice(threads), self.rng.choice(threads)
        when = int(self.clock()) - self.rng.randint(0, 40) * 3600
        edits = {
            "message": (
                "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
                "SELECT ?, thread_key, order_id, ?, 'buyer', 'Returns' FROM messages WHERE thread_key = ? LIMIT 1",
                [f"<edit{when}{thread}@amazon.com>", when, thread],
            ),
            "reply": (  # some break a Communication Guideline: the triage list shows them
                "INSERT OR IGNORE INTO replies (message_id, thread_key, order_id, sent_at, automatic, breaches) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    f"<edit{when}{thread}@seller>",
                    thread,
                    self.rng.choice([None, "other-order"]),
                    when,
                    self.rng.randint(0, 1),
                    self.rng.choice([None, '[{"rule": "external_link", "phrase": "www.example.com"}]']),
                ],
            ),
            "order not imported": (  # a message naming an order no report brought yet
                "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
                "VALUES (?, ?, ?, ?, 'buyer', 'Returns')",
                [f"<edit{when}{thread}@amazon.com>", thread, f"114-9100000-{when % 10**7:07d}", when],
            ),
            "no reply": (
                "DELETE FROM replies WHERE rowid = (SELECT min(rowid) FROM replies WHERE thread_key = ?)",
                [thread],
            ),
            "moved": (
                "UPDATE messages SET thread_key = ? WHERE rowid = (SELECT max(rowid) FROM messages "
                "WHERE thread_key = ?)",
                [other, thread],
            ),
        }
        what = self.rng.choice(sorted(edits))
        self.write("edit", _execute, *edits[what])
        return f"{what} in {thread}"

    def undo(self) -> str:
        if not self.marks:
            return self.mark()
        mark = self.marks.pop(self.rng.randrange(len(self.marks)))
        self.write("undo", marks.undo_mark, mark, self.clock())
        return f"undo {mark}"

    def resolve(self) -> str:
        items = self.listing.items
        if not items:
            return "resolve: nothing listed"
        key = self.rng.choice(items).key
        self.write("resolve", services.resolve_item, key, "Refunded", "", self.clock())
        return f"resolve {key}"

    def reopen(self) -> str:
        resolved = [item.key for item in self.listing.items if item.resolved]
        if not resolved:
            return self.resolve()
        key = self.rng.choice(resolved)
        self.write("reopen", services.reopen_item, key, self.clock())
        return f"reopen {key}"

    def category(self) -> str:
        items = self.listing.items
        if not items:
            return "category: nothing listed"
        key = self.rng.choice(items).key
        category = self.rng.choice([*services.triage.CATEGORIES, None])
        self.write("category", services.set_category, key, category, self.clock())
        return f"category {key} {category}"

    def complete(self) -> str:
        keys = [item.key for item in self.listing.items if self.rng.random() < 0.7]
        self.write("complete", services.complete_session, self.clock(), keys)
        return f"complete session ({len(keys)} items)"

    def matrix(self) -> str:
        db = open_db(self.path)
        entry = self.rng.choice(services.get_matrix(db))
        db.close()
        hours = self.rng.choice((12, 24, 48))
        self.write("matrix", _save_matrix_entry, entry, hours)
        return f"matrix {entry.category}/{entry.case} {hours} h"

    def import_orders(self) -> str:
        rows = self.rng.randint(1, 5)
        report = made_up_orders(rows + self.imported)
        if self.rng.random() < 0.5:
            report.set(self.rng.randrange(rows), "order-status", "Cancelled")
        return self._import(report, f"{rows + self.imported} order rows")

    def import_known_orders(self) -> str:
        """An All Orders report of orders a record names (a claim, a feedback, a message, one not imported
        before) or of none, each bought on another day, in another channel, or cancelled."""
        named = self.read(
            "SELECT order_id FROM claims UNION SELECT order_id FROM feedback "
            "UNION SELECT order_id FROM messages WHERE order_id IS NOT NULL ORDER BY 1"
        )
        plain = self.read("SELECT order_id FROM orders WHERE order_id NOT IN (SELECT order_id FROM claims) ORDER BY 1")
        ids = {self.rng.choice(pool)[0] for pool in (named, plain, plain) if pool} | {self.rng.choice(NOT_IMPORTED)}
        report = made_up_orders(len(ids))
        for row, order_id in enumerate(sorted(ids)):
            bought = END - timedelta(days=self.rng.randint(0, 150), hours=self.rng.randint(0, 23))
            report.set(row, "amazon-order-id", order_id)
            report.set(row, "purchase-date", f"{bought.isoformat()}T{self.rng.randint(0, 23):02d}:15:00+00:00")
            # Newer than any earlier import of the same order, or the row would be kept as it was.
            report.set(row, "last-updated-date", f"2026-12-01T00:{self.imported % 60:02d}:00+00:00")
            report.set(row, "fulfillment-channel", self.rng.choice(("Amazon", "Merchant")))
            if self.rng.random() < 0.3:
                report.set(row, "order-status", "Cancelled")
        return self._import(report, f"known orders {sorted(ids)}")

    def _import(self, report, what: str) -> str:
        """As the Import dialog asks it; now and then a report taken as a large one (a connection of its own,
        nothing noted: everything counted again)."""
        path = report.write(self.path.with_name(f"orders-{self.imported}.txt"))
        self.imported += 1
        large = self.rng.random() < 0.2
        with patch.object(scheduler, "SMALL_IMPORT_BYTES", -1 if large else scheduler.SMALL_IMPORT_BYTES):
            self.worker._run_import([path], lambda: False)
        return f"import {what}{' as a large one' if large else ''}"

    def other_program(self) -> str:
        """The command line writes while the window runs: a feedback changes on another connection."""
        order_id, rating = self.rng.choice(self.read("SELECT order_id, rating FROM feedback ORDER BY order_id"))
        other = 1 if rating > 2 else 5  # always another rating: a change, never the same value written again
        db = open_db(self.path)
        with write_transaction(db):
            db.execute("UPDATE feedback SET rating = ? WHERE order_id = ?", [other, order_id])
        db.close()
        self.recompute()
        return f"feedback {order_id} rated {other} by another program"

    def settings(self) -> str:
        zone = self.rng.choice(ZONES)
        self.write("settings", _save_zone, zone)
        return f"zone {zone}"

    def time_passes(self) -> str:
        hours = self.rng.choice((0.1, 1, 3, 7, 26))
        self.clock.advance(hours * 3600)
        self.recompute()
        return f"{hours} h later"


def _keep_mark(kept: list, action):
    def mark(db, message_id, at):
        made = action(db, message_id, at)
        if made is not None:
            kept.append(made)
        return made

    return mark


def db_row(path: Path, sql: str, *args) -> tuple:
    db = open_db(path)
    try:
        return db.execute(sql, args).fetchone()
    finally:
        db.close()


def _execute(db, sql, params):
    with write_transaction(db):
        db.execute(sql, params)


def _save_matrix_entry(db, entry, hours):
    services.save_matrix_entry(
        db, entry.category, entry.action, entry.who, hours, entry.amount, entry.case, template=entry.template
    )


def _save_zone(db, zone):
    with write_transaction(db):
        save_setting(db, "timezone", zone)


STEP_KINDS = (
    "mark",
    "mark",
    "thread_edit",
    "undo",
    "resolve",
    "resolve",
    "reopen",
    "category",
    "category",
    "complete",
    "matrix",
    "import_orders",
    "import_orders",
    "import_known_orders",
    "other_program",
    "settings",
    "time_passes",
)


def run_seed(tmp_path: Path, seed: int, steps: int = STEPS, marketplaces: int = 3) -> Seller:
    """Every step's state and list against a recomputation from scratch; returns the seller (closed), who
    counted the steps that reused or patched the figures."""
    rng = random.Random(seed)
    seller = Seller(tmp_path / f"seller-{seed}.db", rng, marketplaces)
    done: list[str] = []
    try:
        seller.recompute()
        for step in range(steps):
            done.append(getattr(seller, rng.choice(STEP_KINDS))())
            assert not seller.listener.failures, (seed, step, seller.listener.failures)
            state, listing = seller.listener.states[-1], seller.listener.triage[-1]
            expected_state, expected_listing = from_scratch(seller.path, state.computed_at)
            where = f"seed {seed}, step {step}: " + " | ".join(done)
            assert same(state, expected_state), where
            assert same(listing, expected_listing), where
            # The list goes over and builds only the records it may list, and keeps its items for the next
            # list from the same records (the worker's): the same list as every record gone over and built.
            with every_record_built():
                _, every_one = from_scratch(seller.path, state.computed_at)
            assert same(expected_listing, every_one), where
        print(
            f"seed {seed}: of {steps} steps, {seller.reused} reused the figures, {seller.patched} patched them "
            f"({seller.patched_imports} after an import), "
            f"{seller.reused_clocks} reused the clock inputs, {seller.reused_triage} the triage records, "
            f"{seller.reused_items} items"
        )
        return seller
    finally:
        seller.close()


@pytest.mark.parametrize("seed", SEEDS)
def test_reused_figures_equal_a_recomputation_from_scratch(tmp_path, seed):
    run_seed(tmp_path, seed)


@pytest.mark.parametrize("seed", PATCH_SEEDS)
def test_patched_figures_equal_a_recomputation_from_scratch(tmp_path, seed):
    """A seller in one marketplace: marks, undos and other writes to buyer messages patch the figures (LRR
    counted again for the threads written to), among every other write, each step held to a recomputation."""
    seller = run_seed(tmp_path, seed, steps=2 * STEPS, marketplaces=1)
    assert seller.patched >= 3, "the steps patched the figures"
    assert seller.reused_clocks >= 10, "the steps reused the clock inputs"
    assert seller.reused_triage >= 10, "the steps reused the triage list's records"
    assert seller.reused_items >= 50, "the lists reused the items the list before built"
    assert seller.patched_imports >= 1, "an import of a few orders patched the figures"


def test_the_figures_are_reused_after_triage_decisions(tmp_path):
    """Not a test that passes by recomputing everything: decisions reuse the cards and charts, a write to
    what they read does not."""
    seller = Seller(tmp_path / "seller.db", random.Random(99))
    try:
        seller.recompute()
        for step in (seller.category, seller.complete, seller.matrix, seller.category):
            step()
        assert seller.reused == 4
        for step in (seller.mark, seller.other_program, seller.settings, seller.import_orders):
            step()
        assert seller.reused == 4
    finally:
        seller.close()


def test_items_kept_from_the_last_list_follow_the_clock_and_the_buyers_names(tmp_path):
    """The items a list reuses from the one before are those whose words and facts are the same: an hour
    later, "5 h left" reads "4 h left"; a new message in a thread names its buyer on every item of the order.
    Each list is held to one built from scratch from every record."""
    seller = Seller(tmp_path / "seller.db", random.Random(7), marketplaces=1)
    try:
        seller.recompute()
        texts = {item.key: item.what for item in seller.listener.triage[-1].items}
        for step, name in enumerate(("Alisa", "Bruno", "Chiara")):
            seller.clock.advance(3600)  # the evening of one day: the kept records hold
            seller.recompute()
            thread, order_id = seller.read(
                "SELECT thread_key, order_id FROM messages WHERE order_id IS NOT NULL "
                "ORDER BY received_at DESC LIMIT 1 OFFSET ?",
                step,
            )[0]
            subject = f"Inquiry from Amazon customer {name} (Order: {order_id})"
            seller.write(
                "edit",
                _execute,
                "INSERT INTO messages (message_id, thread_key, order_id, received_at, "
                "kind, topic, subject) VALUES (?, ?, ?, ?, 'buyer', 'Returns', ?)",
                [f"<named{step}@amazon.com>", thread, order_id, int(seller.clock()) - 60, subject],
            )
            listing = seller.listener.triage[-1]
            with every_record_built():
                _, expected = from_scratch(seller.path, listing.at)
            assert same(listing, expected), step
            assert any(item.suggestion.buyer_first_name == name for item in listing.items), step
        later = {item.key: item.what for item in listing.items}
        assert any(later.get(key, what) != what for key, what in texts.items()), "an item's words moved on"
        assert seller.reused_triage >= 3 and seller.reused_items >= 20
    finally:
        seller.close()


def test_an_order_imported_after_a_message_named_it_is_read_for_the_list(tmp_path):
    """A message arrives naming an order no report brought yet; then a report of that order: the records
    that name it are read anew, and the list (its item knows the order's channel now) and the figures are
    those of a computation from scratch. A report of three orders nobody names keeps what was read, and
    patches the figures."""
    seller = Seller(tmp_path / "seller.db", random.Random(11), marketplaces=1)
    reads = []
    read_triage_records = triage_inputs.read_triage_records

    def counted(*args):
        reads.append(args)
        return read_triage_records(*args)

    try:
        seller.recompute()
        order_id = "114-9200000-0000001"
        thread, received = seller.read("SELECT thread_key, max(received_at) FROM messages")[0]
        seller.write(
            "edit",
            _execute,
            "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
            "VALUES ('<ahead-of-its-order@amazon.com>', ?, ?, ?, 'buyer', 'Returns')",
            [thread, order_id, received + 60],
        )
        report = made_up_orders(1)
        report.set(0, "amazon-order-id", order_id)
        with patch.object(triage_inputs, "read_triage_records", counted):
            seller.worker._run_import([report.write(tmp_path / "named.txt")], lambda: False)
            assert len(reads) == 1, "the records naming the order were read anew"
            item = next(item for item in seller.listing.items if item.order_id == order_id)
            assert item.channel is not None, "the message's item knows its order now"
            _assert_from_scratch(seller, "the named order")  # reads too
            reads.clear()
            seller.worker._run_import([made_up_orders(3, first=1000).write(tmp_path / "new.txt")], lambda: False)
            assert not reads, "what was read is kept"
            _assert_from_scratch(seller, "new orders")
        assert seller.patched_imports >= 1
    finally:
        seller.close()


def _assert_from_scratch(seller: Seller, step: str) -> None:
    state, listing = seller.listener.states[-1], seller.listener.triage[-1]
    expected_state, expected_listing = from_scratch(seller.path, state.computed_at)
    assert same(state, expected_state), step
    assert same(listing, expected_listing), step


def test_a_table_made_after_the_connection_opened_is_watched_too(tmp_path):
    """A write to a table the triggers were not made for would go unseen: a schema change re-makes them."""
    from app.clocks import read_clock_inputs
    from app.figure_cache import FigureCache, Figures
    from app.settings import load_settings

    cache = FigureCache(tmp_path / "seller.db")
    cache.adopt()
    try:
        with cache.connection() as db:
            settings = load_settings(db)
            kept = Figures(settings, END, {}, [], {}, False, False, records=object())
            assert cache.reusable(db, settings, END) is None  # nothing kept yet
            cache.keep(db, kept, read_clock_inputs(db, SAMPLE_NOW, settings))
            assert cache.reusable(db, settings, END) is kept
            with write_transaction(db):  # a thread written to: patchable, were nothing else changed
                db.execute(
                    "INSERT INTO messages (message_id, thread_key, received_at, kind) VALUES ('<m>', 't', 1, 'buyer')"
                )
            db.execute("CREATE TABLE later (x)")
            assert cache.reusable(db, settings, END) is None  # the schema changed
            # Nor patched, nor the clock inputs used, in the same recomputation once the triggers are made
            # again: writes before them may have gone unseen.
            assert cache.changes(db, settings, END) is None
            assert cache.kept_clocks(db) is None
            cache.keep(db, kept)
            with write_transaction(db):
                db.execute("INSERT INTO later VALUES (1)")
            assert cache.reusable(db, settings, END) is None  # seen: not a table the figures never read
    finally:
        cache.close()


def test_a_commit_by_another_program_during_a_recomputation_is_not_absorbed(tmp_path, monkeypatch):
    """The command line commits one-star feedback while the worker is between reading the records and drawing
    the charts: the figures just computed miss it, so the next recomputation must not reuse them."""
    seller = Seller(tmp_path / "seller.db", random.Random(7))
    try:
        seller.recompute()
        day = END.isoformat()
        recent = [row[0] for row in seller.read("SELECT order_id FROM orders ORDER BY purchased_at DESC LIMIT 30")]
        daily_series = services.daily_series

        def series_while_another_program_commits(*args, **kwargs):
            monkeypatch.setattr(services, "daily_series", daily_series)  # once
            other = open_db(seller.path)
            with write_transaction(other):
                other.conn.executemany(
                    "INSERT OR REPLACE INTO feedback (order_id, feedback_date, rating, comments) "
                    "VALUES (?, ?, 1, 'late and broken')",
                    [(order_id, day) for order_id in recent],
                )
            other.close()
            return daily_series(*args, **kwargs)

        monkeypatch.setattr(services, "daily_series", series_while_another_program_commits)
        seller.worker.figures.keep(None, None)  # as after a write the figures read
        seller.clock.advance(60)
        seller.recompute()
        assert services.daily_series is daily_series  # the commit happened mid-recomputation
        missed = seller.listener.states[-1]
        seller.clock.advance(60)  # the same day: only a change to the records can tell the figures are old
        seller.recompute()
        state, _ = from_scratch(seller.path, seller.clock())
        assert missed.metrics != state.metrics  # the commit moved the figures
        assert same(seller.listener.states[-1], state)
    finally:
        seller.close()


def test_the_list_built_from_listed_records_only_is_the_list_of_every_record_over_weeks(demo_path):
    """The demo seller's removable feedback, answered-late messages, claims and money over five weekly
    triages, some items resolved, one reopened: each list, as of several instants, the one built from
    every record."""
    rng = random.Random(5)
    db = open_db(demo_path)
    try:
        at = SAMPLE_NOW
        for week in range(5):
            for hours in (0, 30, 100):
                now = at + hours * 3600
                listing = services.load_triage(db, now)
                with every_record_built():
                    every_one = services.load_triage(db, now)
                assert same(listing, every_one), (week, hours)
                assert any(item.kind == triage.FEEDBACK and item.still_open for item in listing.items) or week
            open_items = [item for item in listing.items if not item.resolved]
            for item in rng.sample(open_items, min(3, len(open_items))):
                services.resolve_item(db, item.key, "Handled", at=now)
            resolved = [item for item in services.load_triage(db, now).items if item.resolved]
            if resolved and week % 2:
                services.reopen_item(db, resolved[0].key, now)
            services.complete_session(db, now)
            at += 7 * 86400
    finally:
        db.close()


def test_kept_clock_inputs_follow_the_clock_across_rows_dated_ahead(demo_path):
    """Rows dated after the instant the clock inputs were read (mail from a computer whose clock runs ahead, a
    mark made while the clock was set back) count from their own instant on: between reads, the clocks the
    worker counts from the inputs it kept, and the triage list it makes from the records it kept, equal
    those of a computation from scratch, minute by minute."""
    from app.clocks import clocks_at

    db = open_db(demo_path)
    start = SAMPLE_NOW
    waiting = [clock for clock in clocks_at(db, start) if clock.kind == "buyer_reply"]
    assert len(waiting) >= 3, "the demo seller has buyer messages waiting"
    query = "SELECT message_id, thread_key, order_id FROM messages WHERE message_id = ?"
    answered, marked = (db.execute(query, [clock.item_id]).fetchone() for clock in waiting[:2])
    with write_transaction(db):
        db.execute(  # the seller's reply, dated 40 minutes ahead
            "INSERT INTO replies (message_id, thread_key, order_id, sent_at, automatic) VALUES (?, ?, ?, ?, 0)",
            ["<ahead@seller>", answered[1], answered[2], int(start) + 40 * 60],
        )
        db.execute(  # marked no response needed, 100 minutes ahead
            "UPDATE messages SET no_response_needed_at = ? WHERE message_id = ?", [int(start) + 100 * 60, marked[0]]
        )
        db.execute(  # a buyer message received 70 minutes ahead
            "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
            "VALUES ('<ahead@amazon.com>', 'ahead', NULL, ?, 'buyer', 'Shipping')",
            [int(start) + 70 * 60],
        )
    db.close()
    clock = FixedClock(start)
    listener = RecordingListener()
    worker = MonitorScheduler(demo_path, listener, RecordingSink(), now=clock)
    worker.figures.adopt()
    later = db_row(demo_path, query, waiting[2].item_id)
    reply_ahead = (
        "INSERT INTO replies (message_id, thread_key, order_id, sent_at, automatic) VALUES (?, ?, ?, ?, 0)",
        ["<ahead-too@seller>", later[1], later[2], int(start) + 170 * 60],
    )
    try:
        for minutes in range(0, 200, 10):
            clock.at = start + minutes * 60
            if minutes == 150:  # the worker's own write of a reply dated 20 minutes ahead: a thread patched
                worker._run_write("reply", _execute, reply_ahead)
            else:
                worker.recompute()
            expected, expected_listing = from_scratch(demo_path, clock.at)
            assert listener.states[-1].clocks == expected.clocks, f"{minutes} min on"
            assert same(listener.states[-1], expected), f"{minutes} min on"
            assert same(listener.triage[-1], expected_listing), f"{minutes} min on"
    finally:
        worker.figures.close()
    lists = {tuple(clock.item_id for clock in state.clocks) for state in listener.states}
    assert len(lists) == 5, "each row dated ahead changed the clocks when its instant came"


def test_resolving_a_money_item_ends_its_clock_from_the_kept_clock_inputs(demo_path):
    """A claim filed in Seller Central (its money item resolved) stops its clock at once, though the worker
    counts the clocks from the inputs it kept: the resolutions are read again every time."""
    clock = FixedClock(SAMPLE_NOW)
    listener = RecordingListener()
    worker = MonitorScheduler(demo_path, listener, RecordingSink(), now=clock)
    worker.figures.adopt()
    try:
        worker.recompute()
        money = [c for c in listener.states[-1].clocks if c.kind in ("fba_reimbursement_claim", "safet_filing")]
        assert money, "the demo seller has money to claim"
        for running in money:
            key = services._clock_key(running)
            clock.at += 60
            worker._run_write("resolve", services.resolve_item, (key, "Claim filed", "", clock.at))
            state = listener.states[-1]
            assert running not in state.clocks, key
            assert same(state, from_scratch(demo_path, clock.at)[0]), key
    finally:
        worker.figures.close()


def test_the_clock_set_back_reads_the_records_anew(demo_path):
    """The computer's clock set back within the day: a reply sent (its broken guideline listed) and a message
    received after the earlier instant do not count yet, so the clock inputs and triage records read at the
    later instant are not used at the earlier one."""
    from app.clocks import clocks_at

    start = SAMPLE_NOW
    db = open_db(demo_path)
    waiting = next(clock for clock in clocks_at(db, start) if clock.kind == "buyer_reply")
    query = "SELECT message_id, thread_key, order_id, received_at FROM messages WHERE message_id = ?"
    message = db.execute(query, [waiting.item_id]).fetchone()
    with write_transaction(db):  # a buyer message received after the earlier instant: not listed there yet
        db.execute(
            "INSERT INTO messages (message_id, thread_key, order_id, received_at, kind, topic) "
            "VALUES ('<new@amazon.com>', 'new', NULL, ?, 'buyer', 'Shipping')",
            [int(start) - 900],
        )
    db.close()
    sent = int(start) - 600
    assert message[3] < sent - 1800, "the message came before the instants compared"
    clock = FixedClock(start)
    listener = RecordingListener()
    worker = MonitorScheduler(demo_path, listener, RecordingSink(), now=clock)
    worker.figures.adopt()
    reply = (  # with a link the guidelines forbid: listed for triage once sent
        "INSERT INTO replies (message_id, thread_key, order_id, sent_at, automatic, breaches) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        ["<sent@seller>", message[1], message[2], sent, '[{"rule": "external_link", "phrase": "www.example.com"}]'],
    )
    try:
        worker.recompute()
        worker._run_write("reply", _execute, reply)
        assert waiting.item_id not in {c.item_id for c in listener.states[-1].clocks}, "the reply ends its clock"
        assert "<sent@seller>" in repr(listener.triage[-1]), "the broken guideline is listed"
        clock.at = start - 1800  # before the reply was sent
        worker.recompute()
        expected, expected_listing = from_scratch(demo_path, clock.at)
        assert waiting.item_id in {c.item_id for c in expected.clocks}, "unanswered at the earlier instant"
        assert "<new@amazon.com>" not in {c.item_id for c in expected.clocks}, "not received yet"
        assert "<sent@seller>" not in repr(expected_listing), "not sent yet"
        assert listener.states[-1].clocks == expected.clocks
        assert same(listener.states[-1], expected)
        assert same(listener.triage[-1], expected_listing)
    finally:
        worker.figures.close()


def test_a_report_is_weighed_as_the_import_reads_it(tmp_path):
    """Whether an import is small enough for the worker's connection is judged by the reports' bytes as the
    import reads them: what a gzip file or a zip archive's members decompress to."""
    import gzip
    import math
    import zipfile

    from app.scheduler import _report_bytes

    text = made_up_orders(2000).text().encode()
    plain = tmp_path / "orders.txt"
    plain.write_bytes(text)
    packed = tmp_path / "orders.txt.gz"
    packed.write_bytes(gzip.compress(text))
    archive = tmp_path / "orders.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("a.txt", text)
        zipped.writestr("b.txt", text)
    database = tmp_path / "seller.db"
    assert packed.stat().st_size < len(text) / 4 and archive.stat().st_size < len(text) / 2
    assert _report_bytes([plain], database) == len(text)
    assert _report_bytes([packed], database) == len(text)
    assert _report_bytes([archive, plain], database) == 3 * len(text)
    assert _report_bytes([tmp_path / "missing.txt"], database) == math.inf
