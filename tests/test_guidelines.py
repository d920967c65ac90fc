"""The Communication Guidelines check on the corpus of replies in tests/replies, reply by reply, and
on the tricky parts one at a time: links without a scheme, Amazon's own links, tracking numbers, spelled-out
e-mail addresses, phone numbers of the marketplaces, German, phrases broken over lines, quoted buyer text."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app.guidelines import (
    EXTERNAL_LINK,
    FEEDBACK_CHANGE,
    FEEDBACK_INCENTIVE,
    MARKETING,
    MAX_PHONE_TRIES,
    OFF_AMAZON_CONTACT,
    REVIEW_REQUEST,
    RULES,
    Breach,
    check,
    own_words,
)
from tools.guideline_figures import Reply, load_corpus, matches, replies_right, report, score

ROOT = Path(__file__).resolve().parents[1]
CORPUS = load_corpus()
BREAKING = [reply for reply in CORPUS if reply.expected]
COMPLIANT = [reply for reply in CORPUS if not reply.expected]


def rules_and_phrases(text: str) -> list[tuple[str, str]]:
    return [(breach.rule, breach.phrase) for breach in check(text)]


# --- the corpus, reply by reply -----------------------------------------------------------------------------------


def test_the_corpus_has_the_size_and_mix_it_claims():
    assert len(CORPUS) >= 60
    assert len(BREAKING) >= 30 and len(COMPLIANT) >= 30
    assert sum(reply.language == "de" for reply in CORPUS) >= 12
    kinds = Counter(breach.rule for reply in BREAKING for breach in reply.expected)
    assert {rule: kinds[rule] for rule in RULES} == {rule: max(kinds[rule], 4) for rule in RULES}, kinds


@pytest.mark.parametrize("reply", BREAKING, ids=[reply.name for reply in BREAKING])
def test_every_breach_in_a_reply_is_caught_with_its_phrase(reply: Reply):
    found = check(own_words(reply.body))
    missed = [wanted for wanted in reply.expected if not any(matches(b, wanted, reply.body) for b in found)]
    wrong = [breach for breach in found if not any(matches(breach, e, reply.body) for e in reply.expected)]
    assert (missed, wrong) == ([], []), f"found {found}"


@pytest.mark.parametrize("reply", COMPLIANT, ids=[reply.name for reply in COMPLIANT])
def test_a_compliant_reply_passes(reply: Reply):
    assert check(own_words(reply.body)) == []


@pytest.mark.parametrize("reply", CORPUS, ids=[reply.name for reply in CORPUS])
def test_each_phrase_is_the_text_as_written(reply: Reply):
    words = own_words(reply.body)
    positions = [words.find(breach.phrase) for breach in check(words)]
    assert -1 not in positions
    assert positions == sorted(positions), "breaches are in the order they appear"


def test_the_figures_count_a_miss_and_a_false_alarm():
    # A reply whose expected phrase is elsewhere than what the check finds: one miss, one false alarm.
    body = "Please leave us a review. Thanks for your order!"
    wrong = Reply("wrong", body, (Breach(REVIEW_REQUEST, "Thanks for your order"),))
    tally = score([wrong])["all"]
    assert (tally.expected, tally.caught, tally.found, tally.found_right) == (1, 0, 1, 0)
    assert replies_right([wrong, Reply("fine", "Your parcel is on its way.", ())]) == (2, 2)
    assert "review_request" in report(CORPUS)


# --- links --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("The guide is at mystore.com/help.", "mystore.com/help"),
        ("See www.example.de for the manual.", "www.example.de"),
        ("Labels: shop.example.co.uk/x", "shop.example.co.uk/x"),
        ("Video: HTTPS://YouTu.be/abc123!", "HTTPS://YouTu.be/abc123"),
        ("(see https://bit.ly/3xYz)", "https://bit.ly/3xYz"),
    ],
)
def test_a_link_outside_amazon_is_flagged_without_its_closing_punctuation(text, phrase):
    assert rules_and_phrases(text) == [(EXTERNAL_LINK, phrase)]


@pytest.mark.parametrize(
    "text",
    [
        "https://www.amazon.com/gp/your-account/order-details?orderID=113-1234567-1234567",
        "amazon.de/gp/css/order-history",
        "https://smile.amazon.co.uk/gp/your-account/order-history",
        "www.amazon.co.jp/x and amazon.com.au/y",
        "amazon.com/shops/TimberlineWoodworks",
        "https://www.amazon.com/sp?seller=A2XK9LM3QPZ7RT",
        "https://www.amazon.com/gp/help/customer/display.html?nodeId=GKM69DUUYKQWKWX7",
        "https://amzn.to/3abcDEF",
        "https://www.ups.com/track?loc=en_US&tracknum=1Z999AA10123456784",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223456789012",
        "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=00340434161094042557",
        "https://www.royalmail.com/track-your-item#/tracking-results/AB123456789GB",
    ],
)
def test_amazon_and_carrier_tracking_links_are_allowed(text):
    assert check(f"Here you go: {text}.") == []


def test_a_look_alike_of_amazon_is_not_amazon():
    assert rules_and_phrases("See amazon-deals.com/x or amazon.com.mystore.net") == [
        (EXTERNAL_LINK, "amazon-deals.com/x"),
        (EXTERNAL_LINK, "amazon.com.mystore.net"),
    ]


@pytest.mark.parametrize("text", ["e.g. the blue one", "manual.pdf", "version 2.0", "Mr. Grant", "z.B. ca. 5 cm"])
def test_dotted_words_that_are_no_link_pass(text):
    assert check(text) == []


# --- contact outside Amazon ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "john@gmail.com",
        "john [at] gmail [dot] com",
        "john(at)gmail.com",
        "john at gmail dot com",
        "JOHN AT GMAIL DOT COM",
        "john.doe (at) shop (dot) co (dot) uk",
        "service(at)lampenhaus-berlin.de",
        "john at gmail.com",
    ],
)
def test_an_email_address_is_flagged_also_spelled_out(address):
    assert rules_and_phrases(f"Send the photos to {address}, thanks.") == [(OFF_AMAZON_CONTACT, address)]


def test_the_buyers_amazon_relay_address_is_allowed():
    assert check("Replies to 8f21c3d9a0@marketplace.amazon.com reach us.") == []


@pytest.mark.parametrize(
    "number",
    ["+1 212-555-0187", "(212) 555-0187", "020 7946 0958", "+44 20 7946 0958", "030 28471936", "+49 40 6698 3210"],
)
def test_a_phone_number_of_a_marketplace_is_flagged(number):
    assert rules_and_phrases(f"Our support line: {number}.") == [(OFF_AMAZON_CONTACT, number)]


def test_a_number_only_possible_counts_next_to_a_word_like_call():
    assert rules_and_phrases("Text us on (555) 201-4477 any time.") == [
        (OFF_AMAZON_CONTACT, "Text us"),
        (OFF_AMAZON_CONTACT, "(555) 201-4477"),
    ]
    assert check("Batch (555) 201-4477 was recalled.") == []


@pytest.mark.parametrize(
    "text",
    [
        "UPS: 1Z999AA10123456784",
        "USPS tracking: 9400 1118 9922 3456 7890 12",
        "USPS: 9205590164917312751089",
        "DHL-Sendungsnummer 00340434161094042557",
        "DHL Express JJD0001234567890123",
        "Royal Mail AB123456789GB",
        "Order 113-1234567-1234567, $24.99, refunded 10/05/2026",
        "Erstattung 24,99 € am 05.10.2026 um 14:30 Uhr",
        "The shelf is 120 x 30 x 2.5 cm, EAN 4006381333931, model number 7703-118.",
        "We answer between 9:00 and 17:30, call volume permitting.",
    ],
)
def test_tracking_numbers_order_ids_amounts_and_dates_are_no_phone_numbers(text):
    assert check(text) == []


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Just call us, it's quicker.", "call us"),
        ("CALL US NOW", "CALL US"),
        ("Send it via WhatsApp.", "WhatsApp"),
        ("Please contact us on our website.", "contact us on our website"),
        ("The manual is on our website.", "on our website"),
        ("Bitte schreiben Sie uns an, wir helfen gern.", "schreiben Sie uns an"),
        ("Rufen Sie uns einfach an.", "Rufen Sie uns einfach an"),
    ],
)
def test_words_that_send_the_buyer_off_amazon_are_flagged(text, phrase):
    assert rules_and_phrases(text) == [(OFF_AMAZON_CONTACT, phrase)]


def test_writing_back_through_amazon_is_allowed():
    assert check("Reply to this message through Amazon. Schreiben Sie uns einfach hier über Amazon.") == []


# --- reviews and feedback -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please leave us 5 stars!", [(REVIEW_REQUEST, "Please leave us 5 stars")]),
        ("Would you mind\nleaving a review?", [(REVIEW_REQUEST, "Would you mind\nleaving a review")]),
        ("Bitte bewerten Sie uns.", [(REVIEW_REQUEST, "Bitte bewerten Sie uns")]),
        ("Could you update your\nfeedback?", [(FEEDBACK_CHANGE, "Could you update your\nfeedback")]),
        ("Bitte entfernen Sie Ihre Bewertung.", [(FEEDBACK_CHANGE, "Bitte entfernen Sie Ihre Bewertung")]),
        ("Könnten Sie Ihre 1-Stern-Rezension löschen?", [(FEEDBACK_CHANGE, "Ihre 1-Stern-Rezension löschen")]),
        ("Gutschein gegen Bewertung!", [(FEEDBACK_INCENTIVE, "Gutschein gegen Bewertung")]),
        ("A free gift for a review!", [(FEEDBACK_INCENTIVE, "free gift for a review")]),
    ],
)
def test_review_and_feedback_breaches(text, expected):
    assert rules_and_phrases(text) == expected


def test_refund_for_removing_feedback_breaks_two_rules_once_each():
    assert rules_and_phrases("We'll refund you if you remove your feedback.") == [
        (FEEDBACK_INCENTIVE, "We'll refund you if you remove your feedback"),
        (FEEDBACK_CHANGE, "remove your feedback"),
    ]


def test_a_request_beside_the_service_already_given_is_no_incentive():
    text = "If you're happy with the replacement, please leave us a review."
    assert rules_and_phrases(text) == [(REVIEW_REQUEST, "please leave us a review")]
    assert rules_and_phrases("Leave a review and get a free gift!") == [
        (REVIEW_REQUEST, "Leave a review"),
        (FEEDBACK_INCENTIVE, "Leave a review and get a free gift"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for your feedback.",
        "We read your review and we're sorry.",
        "Thanks for leaving a review!",
        "Thank you for your review, we sent a free replacement.",
        "Vielen Dank für Ihre Bewertung, der Ersatz ist unterwegs.",
        "Amazon removed the feedback because it was a product review.",
        "We asked Amazon to remove the review.",
        "You may get an e-mail from Amazon asking about your order; it comes from Amazon's Request a Review.",
        "We refunded 20% of the price as an apology.",
    ],
)
def test_talk_about_feedback_that_asks_for_nothing_passes(text):
    assert check(text) == []


# --- marketing ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Next order 20% off!", "20% off"),
        ("Use code SAVE20 at checkout.", "code SAVE20"),
        ("Check out our other products!", "Check out our other products"),
        ("Follow us on Instagram", "Follow us on Instagram"),
        ("Sign up to our newsletter.", "Sign up to our newsletter"),
        ("Folgen Sie uns auf Instagram.", "Folgen Sie uns auf Instagram"),
    ],
)
def test_marketing_is_flagged(text, phrase):
    assert rules_and_phrases(text) == [(MARKETING, phrase)]


def test_breaches_come_in_the_order_they_appear():
    text = "Call 212-555-0187 or see mystore.com. Please leave a review. Follow us on Instagram."
    assert [breach.rule for breach in check(text)] == [OFF_AMAZON_CONTACT, EXTERNAL_LINK, REVIEW_REQUEST, MARKETING]


def test_nothing_to_check_is_compliant():
    assert check("") == [] and check(None) == []


# --- the seller's own words ---------------------------------------------------------------------------------------

MINE = "Hi Sarah,\nyour parcel is on its way.\nBest, Tom"


@pytest.mark.parametrize(
    "quote",
    [
        "On Mon, 5 Oct 2026, Sarah <7f3c2a9b1e@marketplace.amazon.com> wrote:\n> Call me on 07700 900456",
        "On Mon, 5 Oct 2026 at 09:14, Sarah\n<7f3c2a9b1e@marketplace.amazon.com> wrote:\nCall me on 07700 900456",
        "Am 06.10.2026 um 11:32 schrieb Klaus Peters <a9e@marketplace.amazon.de>:\nRufen Sie mich an",
        "-----Original Message-----\nFrom: Sarah\nCall me on 07700 900456",
        "----- Original Nachricht -----\nVon: Klaus\nRufen Sie mich an",
        "From: Sarah <x@marketplace.amazon.com>\nSent: Tuesday, October 6, 2026 8:02 PM\nsee www.shop.com",
        "------------- Begin message -------------\nMy number is 212-555-0187\n------------- End message -------------",
    ],
)
def test_own_words_leave_out_the_quoted_message(quote):
    assert own_words(f"{MINE}\n\n{quote}\n") == MINE


def test_own_words_leave_out_quoted_lines_and_keep_the_rest():
    body = "Hi Sarah,\n> can you call me?\n>> old\nyour parcel is on its way.\r\nBest, Tom\n"
    assert own_words(body) == MINE
    assert own_words("Visit www.shop.com, we wrote: more") == "Visit www.shop.com, we wrote: more"
    assert own_words("") == "" and own_words(None) == ""


@pytest.mark.parametrize(
    "quote",
    [
        "________________________________\nDe : Marie Dupont <3d9f@marketplace.amazon.fr>\n"
        "Envoyé : lundi 5 octobre 2026 09:14\nObjet : Colis\n\nMerci de m'appeler au 06 12 34 56 78",
        "Le lun. 5 oct. 2026 à 09:14, Marie <3d9f@marketplace.amazon.fr> a écrit :\nAppelez-moi au 06 12 34 56 78",
        "El lun, 5 oct 2026 a las 9:14, Ana (<b81c@marketplace.amazon.es>) escribió:\nana.garcia@hotmail.es",
        "De: Ana García <b81c@marketplace.amazon.es>\nEnviado: lunes, 5 de octubre de 2026 9:14\nAsunto: Taza\n"
        "Llámeme al 612 345 678",
        "Il giorno lun 5 ott 2026 alle ore 09:14 Marco <c7d1@marketplace.amazon.it> ha scritto:\n"
        "Mi chiami al 347 123 4567",
        "Da: Marco Rossi <c7d1@marketplace.amazon.it>\nInviato: lunedì 5 ottobre 2026 09:14\nmarco.rossi@libero.it",
        "Op ma 5 okt 2026 om 09:14 schreef Jan <e5f6@marketplace.amazon.nl>:\nBel me op 06 12345678",
        "____________________\nVon: Petra Wagner <a1b2@marketplace.amazon.de>\nGesendet: Montag, 5. Oktober 2026\n"
        "Betreff: Größe\n\nRufen Sie mich an: 0171 2345678",
    ],
)
def test_quotes_in_the_marketplaces_languages_are_left_out_so_the_buyers_contact_is_never_a_breach(quote):
    # A breach's phrase is stored: the buyer's phone number or address must not become one.
    assert own_words(f"{MINE}\n\n{quote}\n") == MINE
    assert check(own_words(f"{MINE}\n\n{quote}\n")) == []


@pytest.mark.parametrize(
    "body",
    [
        "Hallo Herr Meier,\nAm Montag schrieb uns DHL Folgendes:\nDas Paket ist beschädigt.\nRufen Sie uns an.",
        "Hi Tom,\nOn Monday the courier wrote:\nParcel left behind the bin.\nCall me if it isn't there.",
        "Hi,\nFrom: our warehouse team\nDate: they shipped it today. Visit mystore.com",
        "Bonjour,\nLe transporteur a écrit :\nColis livré. Appelez-moi au 06 12 34 56 78",
    ],
)
def test_a_sentence_of_the_seller_shaped_like_a_quote_header_is_kept(body):
    # No date, no address and no quoted lines after it: the seller's own words, checked to the end.
    assert own_words(body) == body
    assert check(own_words(body))


def test_a_header_without_a_date_counts_when_quoted_lines_follow_it():
    assert own_words(f"{MINE}\n\nAm Montag schrieb Klaus Peters:\n> Rufen Sie mich an") == MINE


# --- the second round of review: general forms of what was missed or flagged wrongly ---------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We'll refund you in full as soon as the negative review is gone.",
            [
                (FEEDBACK_INCENTIVE, "We'll refund you in full as soon as the negative review is gone"),
                (FEEDBACK_CHANGE, "as soon as the negative review is gone"),
            ],
        ),
        ("A replacement ships once your 1-star rating has been removed.", None),
        ("Wir erstatten den Betrag, sobald die negative Bewertung gelöscht ist.", None),
        ("Könnten Sie Ihre 1-Sterne-Bewertung bitte noch einmal überdenken?", [(FEEDBACK_CHANGE, None)]),
        ("Vielleicht können Sie Ihre Rezension jetzt erneut ansehen?", [(FEEDBACK_CHANGE, None)]),
        ("wir würden uns freuen, wenn Sie Ihre Bewertung noch einmal anschauen", [(FEEDBACK_CHANGE, None)]),
        ("We'd be grateful if you could revisit your rating.", [(FEEDBACK_CHANGE, "revisit your rating")]),
        ("Would you take another look at your review?", [(FEEDBACK_CHANGE, None)]),
        ("Could you please rate your purchase?", [(REVIEW_REQUEST, "please rate your purchase")]),
        ("Please rate the product when you have a minute.", [(REVIEW_REQUEST, "Please rate the product")]),
        ("We send a small thank-you gift to every customer who reviews us.", [(FEEDBACK_INCENTIVE, None)]),
        ("Anyone who rates the product gets a free sample.", None),
    ],
)
def test_what_the_second_round_found_missing_is_caught_in_general_form(text, expected):
    found = rules_and_phrases(text)
    if expected is None:  # an incentive that is also a condition on the review
        assert FEEDBACK_INCENTIVE in {rule for rule, _ in found}, found
        return
    assert [rule for rule, _ in found] == [rule for rule, _ in expected], found
    assert all(phrase is None or phrase == got for (_, got), (_, phrase) in zip(found, expected, strict=True))


@pytest.mark.parametrize(
    "text",
    [
        "Our phone line is down today, so please reply here through Amazon.",
        "Our hotline is closed on Sundays; just answer this message.",
        "The item number is 212-555-0198 in our catalogue.",
        "Part no. 4417 220 15 fits your model.",
        "Ihre Artikelnummer lautet 0151 2345678.",
        "Sorry: your Call Me Maybe CD was packed with the wrong case.",
        "We will revisit your feedback with our warehouse team.",
        "Once the review was removed by Amazon we closed the case.",
    ],
)
def test_what_the_second_round_found_flagged_wrongly_passes(text):
    assert check(text) == []


@pytest.mark.parametrize(
    ("text", "breach"),
    [
        # Decided strict: the check cannot tell a carrier's number from the seller's own, and Amazon forbids
        # phone numbers in messages; the buyer finds the carrier's number on the tracking page.
        ("Please contact DHL on 0228 4333112 to rearrange the delivery.", (OFF_AMAZON_CONTACT, "0228 4333112")),
        # A tracking aggregator is a third party's site, not the carrier's own page.
        ("Look up the tracking at track.amazon.com or 17track.net.", (EXTERNAL_LINK, "17track.net")),
        ("Call our hotline on weekdays.", (OFF_AMAZON_CONTACT, "Call our hotline")),
        ("CALL US NOW", (OFF_AMAZON_CONTACT, "CALL US")),
        ("Please Call Us Today", (OFF_AMAZON_CONTACT, "Call Us")),
    ],
)
def test_carrier_hotlines_aggregators_and_shouted_requests_are_flagged(text, breach):
    assert rules_and_phrases(text) == [breach]


# --- long text ------------------------------------------------------------------------------------------------------

_WORST = ("for a review refund ", "leave a review free gift ", "call 202 555 0143 ", "202-555-0143 ", "1 ", "+1 ")


def test_a_long_list_of_phone_numbers_costs_the_phone_library_a_bounded_number_of_tries(monkeypatch):
    from phonenumbers import phonenumbermatcher

    parse = phonenumbermatcher.parse
    calls = []
    monkeypatch.setattr(phonenumbermatcher, "parse", lambda *a, **k: calls.append(1) or parse(*a, **k))
    found = check("call 202 555 0143 " * 5_000)
    assert {breach.rule for breach in found} == {OFF_AMAZON_CONTACT} and len(found) <= MAX_PHONE_TRIES
    # 6 passes (3 numbering plans, valid and possible), each stopped after MAX_PHONE_TRIES numbers; a few parses
    # per number. Without the bound: about 5 000 numbers x 6 passes.
    assert len(calls) <= 6 * MAX_PHONE_TRIES * 4, len(calls)


def test_adversarial_long_input_finishes(tmp_path):
    # 200 KB of each worst case seen (one sentence of terms and rewards took 53 s when every pair was tried).
    # A generous timeout in a process of its own, not a timed assertion: quadratic work would take minutes.
    script = (
        "import sys; from app.guidelines import check, own_words\n"
        f"for unit in {_WORST!r}:\n"
        "    check(own_words(unit * (200_000 // len(unit))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=120, capture_output=True)
    assert done.returncode == 0, done.stderr
