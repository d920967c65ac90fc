"""Account health report (`GET_V2_SELLER_PERFORMANCE_REPORT`, JSON): Amazon's own snapshot.

Amazon's schema is inconsistent across versions (`ahrStatus` vs `accountHealthRatingStatus`,
`prefulfillmentCancelRate` vs `preFulfillmentCancellationRate`), so the report is kept whole, unknown
fields included, and read leniently when it is compared with the monitor's own figures. A snapshot is
identified by its content, so saving the same report twice (even re-indented) stores it once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from app.importers.common import Parsed
from app.importers.source import UnknownReport

LABEL = "account health report (JSON)"
MARKER_KEYS = ("performancemetrics", "accountstatuses")


def _lower_keys(value: dict) -> set[str]:
    return {str(key).lower() for key in value}


def recognises(document: Any) -> bool:
    return isinstance(document, dict) and bool(_lower_keys(document) & set(MARKER_KEYS))


def load(text: str, name: str) -> Any:
    """The JSON document, or a refusal naming the line where it breaks."""
    try:
        return json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as error:
        raise UnknownReport(
            f"{name}: not valid JSON at line {error.lineno} ({error.msg}); expected an account health report",
            line=error.lineno,
        ) from error


def parse(document: dict) -> Parsed:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    yield 1, ((digest, json.dumps(document, ensure_ascii=False, indent=1)),)
