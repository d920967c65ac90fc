"""Reply templates: per escalation-matrix row, the text a seller pastes into Seller Central, with the item's
order, product, the buyer's first name and its deadline filled in.

Placeholders are `{order_id}`, `{product}`, `{buyer_first_name}` and `{deadline}`. A value can be unknown
(a question asked before buying has no order; the buyer's first name is only known from Amazon's
notification subject, "… from Amazon customer Alisa (Order: …)"), so a template degrades gracefully:

- text in square brackets around placeholders is optional: `[ about order {order_id}]` is left out whole
  when any placeholder inside it has no value (brackets around plain text, like `[tracking number]`, are
  kept: they mark what the seller fills in by hand);
- a placeholder outside brackets without a value becomes a neutral word ("your {product}" reads "your
  item", "by {deadline}" "as soon as possible"), or nothing for the first name and the order ID, and the
  space left before punctuation goes too: "Hello {buyer_first_name}," reads "Hello,".

Buyer-facing templates follow Amazon's Communication Guidelines: no links, no marketing, no request for
feedback or a review, no contact off Amazon. Rows that are not contacts carry a Seller Support case text
(reimbursement, SAFE-T, an A-to-z exclusion, a feedback removal) or a note to self (metric status, a reply
that broke a guideline).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage import triage as triage_store

ORDER_ID = "order_id"
PRODUCT = "product"
BUYER_FIRST_NAME = "buyer_first_name"
DEADLINE = "deadline"
PLACEHOLDERS = {
    ORDER_ID: "the order ID",
    PRODUCT: "the product's name",
    BUYER_FIRST_NAME: "the buyer's first name (when Amazon's notification gives it)",
    DEADLINE: "the item's deadline, in your time zone",
}
# What a placeholder outside square brackets reads when its value is unknown.
FALLBACKS = {ORDER_ID: "", PRODUCT: "item", BUYER_FIRST_NAME: "", DEADLINE: "as soon as possible"}
MAX_TEMPLATE = 4000  # Buyer-Seller Messaging takes a few thousand characters; a template is a reply, not a page

_PLACEHOLDER = re.compile(r"\{([^{}\n]{0,40})\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.;:!?)])")
_DOUBLE_SPACE = re.compile(r"(?<=\S)[ \t]{2,}")
_CUSTOMER = re.compile(
    r"(?:from Amazon customer|von Amazon-Kunde|von Amazon Kunde|de la part du client Amazon|"
    r"del cliente de Amazon|dal cliente Amazon)\s+(.+?)\s*\((?:Order|Bestellung|Commande|Pedido|Ordine)",
    re.IGNORECASE,
)

# --- The shipped templates, by (category, case) of the escalation matrix ----------------------------------------

SIGN_OFF = "\n\nKind regards"

DEFAULT_TEMPLATES: dict[tuple[str, str], str] = {
    ("delivery_issue", ""): (
        "Hello {buyer_first_name},\n\n"
        "Thank you for your message[ about order {order_id}]. I am sorry that your {product} has not reached you "
        "as expected.\n\n"
        "I have checked the shipment: [where the parcel is and when it should arrive]. If it has not arrived by "
        "then, please reply to this message and I will send a replacement or refund you in full, whichever you "
        "prefer." + SIGN_OFF
    ),
    ("product_defect", ""): (
        "Hello {buyer_first_name},\n\n"
        "I am very sorry that your {product}[ from order {order_id}] is not working as it should.\n\n"
        "I can send you a replacement or refund you in full, and you do not need to send the item back first. "
        "Please reply to this message and tell me which you would prefer." + SIGN_OFF
    ),
    ("return_request", ""): (
        "Hello {buyer_first_name},\n\n"
        "Thank you for your return request[ for order {order_id}]. I have authorised it: the return label and "
        "instructions are in Your Orders on Amazon. I will refund you for the {product} as soon as the return "
        "is on its way back to us.\n\n"
        "If anything about the return is unclear, please reply to this message." + SIGN_OFF
    ),
    ("general_inquiry", ""): (
        "Hello {buyer_first_name},\n\n"
        "Thank you for your question[ about the {product}].\n\n"
        "[Your answer]\n\n"
        "If anything else is unclear, please reply to this message and I will be glad to help." + SIGN_OFF
    ),
    ("negative_feedback", ""): (
        "Hello {buyer_first_name},\n\n"
        "I am sorry that your order[ {order_id}] did not go as it should have, and I would like to put it right. "
        "I can send you a replacement or refund you in full, whichever you prefer. Please reply to this "
        "message and let me know." + SIGN_OFF
    ),
    ("negative_feedback", "removable"): (
        "Hello,\n\n"
        "Please review the seller feedback[ on order {order_id}] for removal under Amazon's feedback policy. It "
        "does not meet the feedback guidelines: [the ground: a product review, a complaint about delivery "
        "fulfilled by Amazon, obscene language or personal information].\n\n"
        "Thank you."
    ),
    ("a_to_z_claim", ""): (
        "Order[ {order_id}][ ({product})] was shipped on [ship date] with [carrier], tracking number "
        "[tracking number], and the carrier confirms delivery on [delivery date]. Proof of delivery and our "
        "messages with the buyer are attached. We remain ready to help the buyer through Buyer-Seller "
        "Messaging."
    ),
    ("a_to_z_claim", "fba_fulfilment"): (
        "Hello,\n\n"
        "Order[ {order_id}] was fulfilled by Amazon, and the A-to-z Guarantee claim on it is about delivery. "
        "As Amazon is responsible for the fulfilment of FBA orders, please exclude this claim from my Order "
        "Defect Rate.\n\n"
        "Thank you."
    ),
    ("chargeback", ""): (
        "Order[ {order_id}][ ({product})] was shipped on [ship date] with [carrier], tracking number "
        "[tracking number], and delivered on [delivery date] according to the carrier. The buyer did not tell "
        "us about a problem with the order before the chargeback. Proof of delivery and the invoice are "
        "attached."
    ),
    ("metric_status", ""): (
        "Metric status changed. By {deadline}: open the dashboard, list the defects or late replies behind "
        "the change, and resolve the oldest first."
    ),
    ("guideline_breach", ""): (
        "A reply[ on order {order_id}] broke Amazon's Communication Guidelines. By {deadline}: find the template "
        "or habit the flagged phrase came from and change it, so no further message repeats it."
    ),
    ("fba_reimbursement", ""): (
        "Hello,\n\n"
        "The customer return[ on order {order_id}][ ({product})] came back to the fulfilment centre "
        "[damaged / was not reimbursed]. The buyer was refunded on [refund date], [60 / 45] or more days ago, "
        "so this claim is inside the customer-return claim window. Under the FBA customer returns "
        "reimbursement policy, please reimburse me for this unit.\n\n"
        "[Order ID: {order_id}\n]"
        "License plate number: [LPN from the returns report]\n\n"
        "Thank you."
    ),
    ("safet_claim", ""): (
        "Hello,\n\n"
        "I am filing a SAFE-T claim[ for order {order_id}][ ({product})]. I refunded the buyer, and the item "
        "[came back damaged / was never returned]. Attached: [photos of the returned item / the carrier's "
        "tracking]. Please reimburse the refund.\n\n"
        "Thank you."
    ),
}


def default_template(category: str, case: str = "") -> str:
    return DEFAULT_TEMPLATES.get((category, case or ""), "")


# --- Checking and filling in ------------------------------------------------------------------------------------


def unknown_placeholders(template: str) -> list[str]:
    """The `{names}` in a template that are not placeholders, in order, each once."""
    names = [match.group(1) for match in _PLACEHOLDER.finditer(template or "")]
    return list(dict.fromkeys(name for name in names if name not in PLACEHOLDERS))


def check_template(template: str) -> str:
    """The template as stored (trailing spaces off each line, outer blank lines off), or ValueError naming
    what is wrong: unknown placeholders, or too long."""
    text = "\n".join(line.rstrip() for line in str(template or "").replace("\r\n", "\n").split("\n")).strip("\n")
    unknown = unknown_placeholders(text)
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValueError(f"unknown placeholder{'s' if len(unknown) > 1 else ''} {names} (use {known})")
    if len(text) > MAX_TEMPLATE:
        raise ValueError(f"the template is too long ({len(text)} characters; at most {MAX_TEMPLATE})")
    return text


def fill(template: str, values: dict[str, str | None]) -> str:
    """The template with its placeholders filled in; unknown values degrade as the module says."""

    def known(name: str) -> bool:
        return bool(values.get(name))

    def optional(match: re.Match) -> str:
        inner = match.group(1)
        names = [m.group(1) for m in _PLACEHOLDER.finditer(inner)]
        if not names:
            return match.group(0)  # plain text in brackets: a gap the seller fills in by hand
        return inner if all(known(name) for name in names) else ""

    text = _OPTIONAL.sub(optional, template or "")
    text = _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or FALLBACKS.get(m.group(1), m.group(0))), text)
    lines = [_DOUBLE_SPACE.sub(" ", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", line)).rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


# --- Where the values come from ---------------------------------------------------------------------------------


def buyer_first_name(subject: str | None) -> str | None:
    """The buyer's first name from Amazon's notification subject ("… from Amazon customer Alisa (Order: …)")."""
    match = _CUSTOMER.search(subject or "")
    if not match:
        return None
    first = match.group(1).split()[0].strip(".,;:")
    return first if first and any(ch.isalpha() for ch in first) else None


def buyer_first_names(messages: Iterable) -> dict[str, str]:
    """Order ID -> the buyer's first name, from the subjects of the order's buyer messages (the latest wins;
    of two received the same second, the one whose id sorts last, whatever order they were read in)."""
    names: dict[str, str] = {}
    for message in sorted(messages, key=lambda m: (m.received_at, m.message_id)):
        name = buyer_first_name(message.subject) if message.order_id else None
        if name:
            names[message.order_id] = name
    return names


def short_product(names: Iterable[str] | None, limit: int = 60) -> str | None:
    """The product as a seller names it in a reply: a listing title up to its first comma or dash, clipped;
    "… and other items" for an order of several products."""
    names = [name.strip() for name in names or () if name and name.strip()]
    if not names:
        return None
    title = re.split(r",| - | – | \| ", names[0], maxsplit=1)[0].strip()
    if len(title) > limit:
        title = title[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{title} and other items" if len(set(names)) > 1 else title


def deadline_words(due_at: float | None, zone: ZoneInfo) -> str | None:
    """A deadline as a seller reads it: "Tue 12 May 2026, 18:00"; a local midnight is the end of the day
    before ("end of Mon 11 May 2026"), so a window's last day reads as that day."""
    if due_at is None:
        return None
    moment = datetime.fromtimestamp(due_at, tz=zone)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return (moment - timedelta(days=1)).strftime("end of %a %d %b %Y")
    return moment.strftime("%a %d %b %Y, %H:%M")


def item_reply(item, zone: ZoneInfo) -> str:
    """A triage item's reply: its category's template (carried with the item) filled in with its values."""
    suggestion = item.suggestion
    values = {
        ORDER_ID: item.order_id,
        PRODUCT: suggestion.product,
        BUYER_FIRST_NAME: suggestion.buyer_first_name,
        DEADLINE: deadline_words(item.due_at, zone),
    }
    return fill(suggestion.template, values)


# The category of a clock's item, for a clock the triage list does not have (not loaded yet, or its item
# resolved while the clock still runs): every kind of clock has one, so Copy reply always has a template.
CLOCK_CATEGORIES = {
    "buyer_reply": "general_inquiry",
    "csba_inquiry": "general_inquiry",
    "return_response": "return_request",
    "a_to_z_response": "a_to_z_claim",
    "a_to_z_appeal": "a_to_z_claim",
    "chargeback_response": "chargeback",
    "feedback_removal": "negative_feedback",
    "fba_reimbursement_claim": "fba_reimbursement",
    "safet_filing": "safet_claim",
}
CLOCK_CASES = {"feedback_removal": "removable"}
# Clocks whose item is a buyer's message: its own subject may name the buyer when it has no order.
MESSAGE_CLOCKS = ("buyer_reply", "csba_inquiry")


@dataclass(frozen=True)
class ReplyFacts:
    """What a clock's reply takes from the database when the triage list does not have the clock's item:
    the seller's templates ((category, case) -> text) and the order's product and buyer's first name."""

    templates: dict[tuple[str, str], str]
    product: str | None = None
    buyer_first_name: str | None = None


SHIPPED = ReplyFacts(DEFAULT_TEMPLATES)


def reply_facts(db, clock) -> ReplyFacts:
    """The seller's templates and, where known, the product and the buyer's first name of the clock's order
    (a few rows of one order: a short read for the database's process)."""
    from app.triage_inputs import load_matrix  # app.triage_inputs imports app.triage, which imports this module

    templates = {key: entry.template for key, entry in load_matrix(db).items()}
    message_id = clock.item_id if clock.kind in MESSAGE_CLOCKS else None
    subjects = db.execute(
        "SELECT subject FROM messages WHERE order_id = ? OR message_id = ? ORDER BY received_at",
        [clock.order_id, message_id],
    ).fetchall()
    names = [name for name in (buyer_first_name(subject) for (subject,) in subjects) if name]
    products = [row["product_name"] for row in triage_store.order_items(db, [clock.order_id] if clock.order_id else [])]
    return ReplyFacts(templates, short_product(products), names[-1] if names else None)


def has_reply(clock) -> bool:
    return clock.kind in CLOCK_CATEGORIES


def clock_item(clock, items: Iterable):
    """The triage item on the clock, or None when the list does not have it."""
    for item in items:
        if item.clock is not None and (item.clock.kind, item.clock.item_id) == (clock.kind, clock.item_id):
            return item
    return None


def clock_reply(clock, zone: ZoneInfo, items: Iterable = (), facts: ReplyFacts | None = None) -> str | None:
    """A clock's reply: the reply of the triage item on that clock when the list has it (its category, the
    seller's template, the product and the buyer's name); else the seller's template of the clock's kind
    (`facts`; the shipped templates without them) with the order, its product, the buyer's name and the
    deadline. None when no template applies."""
    item = clock_item(clock, items)
    if item is not None:
        return item_reply(item, zone)
    if not has_reply(clock):
        return None
    facts = facts or SHIPPED
    key = (CLOCK_CATEGORIES[clock.kind], CLOCK_CASES.get(clock.kind, ""))
    template = facts.templates.get(key) or DEFAULT_TEMPLATES.get(key, "")
    values = {
        ORDER_ID: clock.order_id,
        PRODUCT: facts.product,
        BUYER_FIRST_NAME: facts.buyer_first_name,
        DEADLINE: deadline_words(clock.due_at, zone),
    }
    return fill(template, values)
