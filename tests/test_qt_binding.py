"""The Qt binding itself must not corrupt Python's reference counts on the hot paths this app uses all week:
signal emission (a countdown tick a second, every worker result) and model data returning None."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

EMITS = 500


class Emitter(QObject):
    carried = Signal(object)
    text = Signal(str)
    bare = Signal()


def refcounts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def test_signal_emission_keeps_reference_counts(qapp):
    emitter = Emitter()
    received = []
    emitter.carried.connect(received.append)
    emitter.text.connect(received.append)
    emitter.bare.connect(lambda: received.append(None))
    before = refcounts()
    for _ in range(EMITS):
        emitter.carried.emit(1)
        emitter.text.emit("tick")
        emitter.bare.emit()
    received.clear()
    after = refcounts()
    # A binding that drops one reference per emission loses 1,500 here; a few either way is the interpreter.
    assert all(abs(a - b) < 50 for a, b in zip(after, before, strict=True)), (before, after)
