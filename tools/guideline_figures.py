"""Precision and recall of the Communication Guidelines check on the corpus of replies in tests/replies.

Each reply is a text file: header lines `# expect: RULE | PHRASE` (or `# expect: none` for a compliant reply,
`# lang: de` for a German one), a blank line, then the reply as the seller sent it, quoted buyer text
included. The check runs on the seller's own words, as the app does. A breach found counts as right when an
expected breach of the same rule in that reply overlaps its phrase (line breaks and runs of spaces count as
one space); an expected breach counts as caught when such a breach was found.

python tools/guideline_figures.py [FOLDER] [--only PREFIX]

`--only r2-` scores only the replies whose file name starts with the prefix: the second round of replies,
written after a review of the check and run before its rules were changed (docs/guidelines.md).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.guidelines import RULES, Breach, check, own_words  # noqa: E402

CORPUS = ROOT / "tests" / "replies"
_EXPECT = re.compile(r"^# expect: (?P<rule>\w+)(?: \| (?P<phrase>.+))?$")


@dataclass(frozen=True)
class Reply:
    name: str
    body: str
    expected: tuple[Breach, ...]
    language: str = "en"


@dataclass
class Tally:
    found: int = 0
    found_right: int = 0
    expected: int = 0
    caught: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.found_right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.caught / self.expected if self.expected else 1.0


def load_corpus(folder: Path = CORPUS) -> list[Reply]:
    return [read_reply(path) for path in sorted(folder.glob("*.txt"))]


def read_reply(path: Path) -> Reply:
    head, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    expected: list[Breach] = []
    language = "en"
    for line in head.splitlines():
        if line.startswith("# lang:"):
            language = line.split(":", 1)[1].strip()
            continue
        match = _EXPECT.match(line)
        if not match:
            raise ValueError(f"{path.name}: header line {line!r} is neither '# expect: RULE | PHRASE' nor '# lang:'")
        rule = match.group("rule")
        if rule == "none":
            continue
        if rule not in RULES or not match.group("phrase"):
            raise ValueError(f"{path.name}: {line!r} needs a rule of {sorted(RULES)} and a phrase")
        expected.append(Breach(rule, match.group("phrase")))
    return Reply(path.stem, body, tuple(expected), language)


def flat(text: str) -> str:
    return " ".join(text.split())


def matches(found: Breach, expected: Breach, body: str) -> bool:
    """Same rule, and the phrases overlap where they stand in the reply."""
    if found.rule != expected.rule:
        return False
    text = flat(body)
    return any(_overlap(a, b) for a in _spans(text, flat(found.phrase)) for b in _spans(text, flat(expected.phrase)))


def _spans(text: str, phrase: str) -> list[tuple[int, int]]:
    return [(m.start(), m.start() + len(phrase)) for m in re.finditer(re.escape(phrase), text)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(replies: list[Reply]) -> dict[str, Tally]:
    """A tally per rule and `all`."""
    tallies = {rule: Tally() for rule in (*RULES, "all")}
    for reply in replies:
        found = check(own_words(reply.body))
        for rule in RULES:
            _count(
                tallies[rule],
                reply,
                [b for b in found if b.rule == rule],
                [e for e in reply.expected if e.rule == rule],
            )
        _count(tallies["all"], reply, found, list(reply.expected))
    return tallies


def _count(tally: Tally, reply: Reply, found: list[Breach], expected: list[Breach]) -> None:
    tally.found += len(found)
    tally.expected += len(expected)
    for breach in found:
        if any(matches(breach, e, reply.body) for e in expected):
            tally.found_right += 1
        else:
            tally.false_alarms.append(f"{reply.name}: {breach.rule}: {flat(breach.phrase)!r}")
    for wanted in expected:
        if any(matches(b, wanted, reply.body) for b in found):
            tally.caught += 1
        else:
            tally.misses.append(f"{reply.name}: {wanted.rule}: {wanted.phrase!r}")


def replies_right(replies: list[Reply]) -> tuple[int, int]:
    """Replies judged right as a whole: compliant when they are, not compliant when they are not."""
    right = sum(bool(check(own_words(reply.body))) == bool(reply.expected) for reply in replies)
    return right, len(replies)


def report(replies: list[Reply]) -> str:
    tallies = score(replies)
    compliant = sum(not reply.expected for reply in replies)
    german = sum(reply.language == "de" for reply in replies)
    lines = [
        f"Corpus: {len(replies)} replies, {len(replies) - compliant} breaking a guideline, {compliant} compliant, "
        f"{german} in German.",
        "",
        f"{'rule':<20} {'expected':>8} {'caught':>6} {'found':>6} {'right':>6} {'precision':>9} {'recall':>7}",
    ]
    for rule, tally in tallies.items():
        lines.append(
            f"{rule:<20} {tally.expected:>8} {tally.caught:>6} {tally.found:>6} {tally.found_right:>6} "
            f"{tally.precision:>9.1%} {tally.recall:>7.1%}"
        )
    right, total = replies_right(replies)
    lines += ["", f"Replies judged right as a whole (compliant or not): {right} of {total}."]
    overall = tallies["all"]
    for title, items in (("Missed", overall.misses), ("Flagged wrongly", overall.false_alarms)):
        if items:
            lines += ["", f"{title}:", *(f"  {item}" for item in items)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    prefix = ""
    if "--only" in argv:
        at = argv.index("--only")
        prefix, argv = argv[at + 1] if at + 1 < len(argv) else "", argv[:at] + argv[at + 2 :]
    folder = Path(argv[0]) if argv else CORPUS
    print(report([reply for reply in load_corpus(folder) if reply.name.startswith(prefix)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
