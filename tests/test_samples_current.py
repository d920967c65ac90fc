"""The sample seller in tests/samples is the current one: byte for byte the files in ../shared/samples.

The tests run on their own copy so that the project needs nothing beside it. Where the shared folder is
there (always in CI), this catches a copy that fell behind, or a file a test or a checkout changed (line
endings, a byte-order mark: the importers are tested on exactly those).
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import SAMPLES, SHARED

SHARED_SAMPLES = SHARED / "samples"
# Git's own settings for the copy, not part of the sample seller.
REPOSITORY_ONLY = {".gitattributes"}


def test_in_repo_samples_are_identical_to_shared_samples():
    if not SHARED_SAMPLES.is_dir():
        reason = f"no shared sample seller to compare with at {SHARED_SAMPLES} (set AHM_SHARED to the shared folder)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must compare tests/samples with the shared samples: {reason}")
        pytest.skip(reason)
    shared = {path.name for path in SHARED_SAMPLES.iterdir() if path.is_file()}
    ours = {path.name for path in SAMPLES.iterdir() if path.is_file()} - REPOSITORY_ONLY
    assert ours == shared, f"only in tests/samples: {sorted(ours - shared)}; only in shared: {sorted(shared - ours)}"
    differ = [name for name in sorted(shared) if (SAMPLES / name).read_bytes() != (SHARED_SAMPLES / name).read_bytes()]
    assert not differ, f"tests/samples differs from {SHARED_SAMPLES} in {differ}: copy them again, byte for byte"
