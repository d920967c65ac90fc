"""The sample seller imports with exactly the counts in expected.json, and twice without duplicates."""

from __future__ import annotations

import json

from app.imports import import_files
from tests.conftest import SAMPLE_FILES

TABLE_OF_COUNT = {
    "orders": "orders",
    "order_items": "order_items",
    "feedback": "feedback",
    "fbm_returns": "fbm_returns",
    "fba_returns": "fba_returns",
    "claims": "claims",
    "messages": "messages",
    "replies": "replies",
}


def stored_counts(db) -> dict[str, int]:
    return {name: db[table].count for name, table in TABLE_OF_COUNT.items()}


def test_samples_import_with_expected_counts(db, samples):
    expected = json.loads((samples / "expected.json").read_text())["counts"]
    results = import_files(db, [samples / name for name in SAMPLE_FILES])
    assert [r.outcome for r in results] == ["imported"] * len(SAMPLE_FILES)
    assert all(r.rejected == 0 for r in results)
    assert stored_counts(db) == expected


def test_reimporting_samples_changes_nothing(sample_db, samples):
    before = stored_counts(sample_db)
    results = import_files(sample_db, [samples / name for name in SAMPLE_FILES])
    assert all(r.added == 0 and r.updated == 0 for r in results), [(r.file, r.added, r.updated) for r in results]
    assert sum(r.unchanged for r in results) == sum(r.rows for r in results) > 0
    assert stored_counts(sample_db) == before
    assert sample_db["account_health_snapshots"].count == 1
