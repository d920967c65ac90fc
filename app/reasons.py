"""Amazon's reason codes in the seller's words: why a buyer returned an item, filed an A-to-z claim or a
chargeback.

Amazon's reports carry codes, not sentences: the FBM returns report `CR-DEFECTIVE` or `AMZ-PG-BAD-DESC`,
the FBA customer returns report `DEFECTIVE` or `APPAREL_TOO_SMALL`, the claims file `not-received`.
The same reason comes with or without its marketplace prefix (`CR-`, `AMZ-PG-`), in capitals or not,
with dashes or underscores, so a code is compared without its prefix, in capitals, with underscores.

Words are shown wherever a reason is; the code itself is never lost: the window shows it as a tooltip
and the exports keep it in a field of its own. A code missing from the table still reads as words
(`CR-SOME_NEW_REASON` is "Some new reason"), and a reason that is already a sentence is left as it is.
"""

from __future__ import annotations

import re

_PREFIXES = ("CR_", "AMZ_PG_")
_CODE = re.compile(r"^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$")

# The customer return reasons of Amazon's returns reports (FBA and seller-fulfilled), then the A-to-z
# claim and chargeback reasons of the claims file (formats.md).
WORDS = {
    # the item itself
    "DEFECTIVE": "Defective / does not work properly",
    "QUALITY_UNACCEPTABLE": "Quality not acceptable",
    "NOT_AS_DESCRIBED": "Item not as described",
    "BAD_DESC": "Item not as described",
    "MISSING_PARTS": "Missing parts or accessories",
    "NOT_COMPATIBLE": "Not compatible with what the buyer needed",
    "PART_NOT_COMPATIBLE": "Part not compatible",
    "SWITCHEROO": "Wrong item sent",
    "EXTRA_ITEM": "Extra item received, not ordered",
    "EXCESSIVE_INSTALLATION": "Too hard to install",
    # damage on the way
    "DAMAGED_BY_CARRIER": "Damaged by the carrier",
    "DAMAGED_BY_FC": "Damaged in Amazon's warehouse",
    # the buyer changed their mind
    "UNWANTED_ITEM": "No longer needed",
    "ORDERED_WRONG_ITEM": "Ordered by mistake",
    "MISORDERED": "Ordered by mistake",
    "FOUND_BETTER_PRICE": "Found a better price",
    "BAD_GIFT": "Unwanted gift",
    "NO_REASON_GIVEN": "No reason given",
    "UNAUTHORIZED_PURCHASE": "Bought without the account holder's consent",
    # size and style
    "APPAREL_TOO_SMALL": "Too small",
    "APP_TOO_SMALL": "Too small",
    "APPAREL_TOO_LARGE": "Too large",
    "APP_TOO_LARGE": "Too large",
    "APPAREL_STYLE": "Style not as expected",
    "APP_STYLE": "Style not as expected",
    "DID_NOT_LIKE_FABRIC": "Did not like the fabric",
    "DID_NOT_LIKE_COLOR": "Did not like the colour",
    # jewellery
    "JEWELRY_BAD_CLASP": "Jewellery: faulty clasp",
    "JEWELRY_LOOSE_STONE": "Jewellery: loose stone",
    "JEWELRY_TARNISHED": "Jewellery: tarnished",
    "JEWELRY_BATTERY": "Jewellery: battery does not work",
    "JEWELRY_NO_CERTS": "Jewellery: certificate missing",
    "JEWELRY_NO_DOCS": "Jewellery: papers missing",
    "JEWELRY_TOO_SMALL": "Jewellery: too small",
    "JEWELRY_TOO_LARGE": "Jewellery: too large",
    # delivery
    "MISSED_ESTIMATED_DELIVERY": "Arrived too late",
    "NEVER_ARRIVED": "Never arrived",
    "UNDELIVERABLE_REFUSED": "Undeliverable: refused at the door",
    "UNDELIVERABLE_UNKNOWN": "Undeliverable",
    "UNDELIVERABLE_FAILED_DELIVERY_ATTEMPTS": "Undeliverable: delivery attempts failed",
    "UNDELIVERABLE_INSUFFICIENT_ADDRESS": "Undeliverable: address incomplete",
    "UNDELIVERABLE_CARRIER_MISS_SORTED": "Undeliverable: missorted by the carrier",
    "UNDELIVERABLE_MISSING_LABEL": "Undeliverable: shipping label missing",
    # A-to-z claims
    "NOT_RECEIVED": "Item not received",
    "LATE_DELIVERY": "Delivered late",
    "DAMAGED_IN_TRANSIT": "Damaged in transit",
    "OTHER": "Other reason",
    # chargebacks
    "SERVICE": "Service dispute",
    "FRAUD": "Fraud: card used without consent",
}


def looks_like_code(reason: str | None) -> bool:
    """True for `CR-DEFECTIVE`, `not-received`, `UNWANTED_ITEM`; False for a sentence ("Arrived broken")."""
    return bool(reason) and bool(_CODE.match(reason.strip()))


def normalised(reason: str | None) -> str:
    """`CR-DEFECTIVE`, `amz-pg-bad-desc` -> `DEFECTIVE`, `BAD_DESC` (the code without its prefix)."""
    code = (reason or "").strip().upper().replace("-", "_")
    for prefix in _PREFIXES:
        if code.startswith(prefix):
            code = code[len(prefix) :]
    return code


def is_known(reason: str | None) -> bool:
    return normalised(reason) in WORDS


def reason_words(reason: str | None) -> str:
    """The reason as a seller reads it ("" for none). An unknown code reads as its own words in sentence
    case; a reason that is already a sentence is returned as it is."""
    text = (reason or "").strip()
    if not looks_like_code(text):
        return text
    code = normalised(text)
    if code in WORDS:
        return WORDS[code]
    spoken = code.replace("_", " ").lower()
    return spoken[:1].upper() + spoken[1:]


def code_note(reason: str | None) -> str | None:
    """The raw code to show beside its words (a tooltip, a grey "(code …)"), or None when the words are the
    reason itself."""
    text = (reason or "").strip()
    return text if text and reason_words(text) != text else None


def reason_in_sentence(reason: str | None) -> str:
    """The words to put inside a sentence: "Return request (too small)" (an acronym keeps its capitals)."""
    words = reason_words(reason)
    if len(words) > 1 and words[1].isupper():
        return words
    return words[:1].lower() + words[1:]
