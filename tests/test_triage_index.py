"""The indexes the triage list picks the records it may list by, kept up to date as threads are read again,
and the buyers' first names named again for the orders of those threads only."""

from __future__ import annotations

import random

from app.model import Message
from app.reply_templates import buyer_first_names
from app.rules import Contact
from app.triage import RecordIndex, contact_index
from app.triage_inputs import _names_again

NAMES = ("Alisa", "Bruno", "Chiara", "Dmitri")


def _contacts(rng: random.Random, count: int, tag: str) -> list[Contact]:
    contacts = []
    for n in range(count):
        order = f"order-{rng.randrange(12)}"
        subject = f"Inquiry from Amazon customer {rng.choice(NAMES)} (Order: {order})" if rng.random() < 0.7 else None
        # Few distinct instants: records of one second, ordered by the index among themselves.
        message = Message(
            f"<{tag}{n}>", f"thread-{rng.randrange(15)}", order, 1_000 * rng.randrange(30), subject=subject
        )
        contacts.append(Contact(message, None))
    return contacts


def _as_made_anew(index: RecordIndex) -> tuple:
    pairs = sorted((key, contact.message.message_id) for key, contact in zip(index.keys, index.ordered, strict=True))
    return pairs, {key: contact.message.message_id for key, contact in index.by_id.items()}


def test_an_index_kept_up_to_date_is_the_index_made_anew():
    rng = random.Random(3)
    contacts = _contacts(rng, 200, "a")
    index = contact_index(contacts)
    for step in range(40):
        threads = {f"thread-{rng.randrange(15)}" for _ in range(rng.randint(1, 3))}
        removed = [c for c in contacts if c.message.thread_key in threads]
        kept = [c for c in contacts if c.message.thread_key not in threads]
        added = _contacts(rng, rng.randint(0, 6), f"s{step}-")
        contacts = kept + added
        index = index.replaced(contacts, removed, added)
        anew = contact_index(contacts)
        assert index.serves(contacts) and not anew.serves(kept)
        assert _as_made_anew(index) == _as_made_anew(anew), step
        assert index.keys == sorted(index.keys)
        assert [index.key_of(c) for c in index.ordered] == index.keys
        for key in (0, 5_000, 14_500, 29_000, 40_000):
            assert {id(c) for c in index.from_key(key)} == {id(c) for c in contacts if c.message.received_at >= key}


def test_two_records_of_one_id_have_no_index():
    rng = random.Random(4)
    contacts = _contacts(rng, 20, "a")
    again = Contact(contacts[3].message, 5.0)
    assert contact_index([*contacts, again]) is None
    index = contact_index(contacts)
    assert index.replaced([*contacts, again], [], [again]) is None


def test_buyers_named_again_for_the_threads_read_again_are_named_as_from_every_message():
    rng = random.Random(5)
    contacts = _contacts(rng, 150, "a")
    names = buyer_first_names(c.message for c in contacts)
    for step in range(40):
        threads = {f"thread-{rng.randrange(15)}"}
        removed = [c for c in contacts if c.message.thread_key in threads]
        added = _contacts(rng, rng.randint(0, 4), f"s{step}-")
        contacts = [c for c in contacts if c.message.thread_key not in threads] + added
        names = _names_again(names, contacts, removed + added)
        assert names == buyer_first_names(c.message for c in contacts), step
