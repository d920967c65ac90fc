"""How long the Communication Guidelines check takes on long, hostile text: 200 KB of each worst case found
(one long sentence of review terms and rewards, thousands of phone numbers next to "call", runs of digits,
dots, dashes, quote headers). The check runs on every reply the mail import reads (cut at 20 000 characters)
and on whatever `check-message` is given (not cut). Target on a 2-core laptop: every case < 2 s.

    python bench/guidelines.py [--size 200000] [--repeat 3]

Prints one line per case, the best of the repeats, and exits 1 when a case misses the target.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.guidelines import check, own_words  # noqa: E402

TARGET_S = 2.0
# Each case is a unit repeated up to the size; own_words cases cut quotes, the rest are checked whole.
CASES = {
    "review terms and rewards": "for a review refund ",
    "review requests and gifts": "leave a review free gift ",
    "call and a number": "call 202 555 0143 ",
    "phone numbers": "202-555-0143 ",
    "digits and spaces": "1 ",
    "plus signs": "+1 ",
    "e-mail addresses": "a@b.com ",
    "links": "x.com ",
    "dimensions": "1.5 x 2.5 x ",
    "dotted words": "a.",
    "dashed host": "a-",
    "spelled-out e-mail": "jo at mail dot ",
    "if you": "if you ",
    "Ihre": "Ihre ",
    "wrote lines": "On x\n",
    "Outlook lines": "From: x\nSent: y\n",
    "underscore lines": "__________\n",
}


def best_of(text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        check(own_words(text))
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000, help="characters per case")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    slow = 0
    print(f"{'case':<28} {'seconds':>8}   (target < {TARGET_S:.0f} s on {args.size:,} characters)")
    for name, unit in CASES.items():
        seconds = best_of(unit * (args.size // len(unit)), args.repeat)
        slow += seconds >= TARGET_S
        print(f"{name:<28} {seconds:>8.2f}{'   SLOW' if seconds >= TARGET_S else ''}", flush=True)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
