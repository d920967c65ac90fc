"""Categorisation: derived from claim types, return reasons, message topics and text, feedback text."""

from __future__ import annotations

import pytest

from app.triage import fba_return_category, feedback_category, message_category, reason_code


@pytest.mark.parametrize(
    ("topic", "body", "category"),
    [
        ("Order delivery", "Hello, when will it arrive?", "delivery_issue"),
        ("Ship faster", "Can you ship it by Friday?", "delivery_issue"),
        ("Return policy", "Can I send it back if it does not fit?", "return_request"),
        ("Product details", "Is it dishwasher safe?", "general_inquiry"),
        ("Product details", "Does the desk lamp work with a 220 V plug?", "general_inquiry"),
        # The body tells more than the topic.
        ("Return policy", "The mug arrived chipped, how do I return it?", "product_defect"),
        ("Product details", "It stopped working after two days", "product_defect"),
        ("Product details", "My parcel has not arrived yet, where is it?", "delivery_issue"),
        ("Product details", "I would like a refund please", "return_request"),
        ("Order delivery", "The lamp is broken", "product_defect"),
        (None, "Where is my package?", "delivery_issue"),
        (None, "Hello", "general_inquiry"),
        ("Customization request", "Can you engrave my name?", "general_inquiry"),
    ],
)
def test_messages_by_topic_and_text(topic, body, category):
    assert message_category(topic, None, body) == category


def test_a_question_before_buying_is_a_general_inquiry_whatever_it_asks():
    assert message_category("Product details", None, "When will it arrive?", has_order=False) == "general_inquiry"
    assert message_category("Order delivery", None, "Is it broken?", has_order=False) == "general_inquiry"


def test_the_subject_stands_in_for_a_missing_topic():
    assert message_category(None, "Return policy inquiry from Amazon customer Ann", "Hi") == "return_request"


@pytest.mark.parametrize(
    ("rating", "comment", "category"),
    [
        (1, "Package arrived late", "negative_feedback"),
        (2, "Broke in a day", "negative_feedback"),
        (3, "Ok item, delivery took a while.", "delivery_issue"),
        (3, "Colour faded quickly", "product_defect"),
        (3, "Average experience.", "negative_feedback"),
        (3, "Seller was slow to answer", "negative_feedback"),
    ],
)
def test_feedback_by_rating_and_text(rating, comment, category):
    assert feedback_category(rating, comment) == category


@pytest.mark.parametrize(
    ("reason", "category"),
    [
        ("DEFECTIVE", "product_defect"),
        ("QUALITY_UNACCEPTABLE", "product_defect"),
        ("NOT_AS_DESCRIBED", "product_defect"),
        ("MISSING_PARTS", "product_defect"),
        ("PART_NOT_COMPATIBLE", "product_defect"),
        ("JEWELRY_TARNISHED", "product_defect"),
        ("CR-DEFECTIVE", "product_defect"),
        ("cr-quality_unacceptable", "product_defect"),
        ("DAMAGED_BY_FC", "delivery_issue"),
        ("DAMAGED_BY_CARRIER", "delivery_issue"),
        ("SOME_NEW_DEFECT_CODE", "product_defect"),
        ("UNWANTED_ITEM", None),
        ("ORDERED_WRONG_ITEM", None),
        ("FOUND_BETTER_PRICE", None),
        ("APPAREL_TOO_SMALL", None),
        ("NEVER_ARRIVED", None),
        ("UNDELIVERABLE_REFUSED", None),
        ("NO_REASON_GIVEN", None),
        ("", None),
        (None, None),
    ],
)
def test_fba_returns_by_amazon_s_reason_codes(reason, category):
    assert fba_return_category(reason) == category


def test_reason_codes_lose_their_marketplace_prefixes():
    assert reason_code("CR-DEFECTIVE") == "DEFECTIVE"
    assert reason_code("amz-pg-bad-desc") == "BAD_DESC"
    assert reason_code(" DAMAGED_BY_FC ") == "DAMAGED_BY_FC"
