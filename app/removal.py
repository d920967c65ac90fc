"""Whether Amazon would remove (or strike through) a feedback, and on which ground (metrics.md, triage).

Amazon removes seller feedback that is obscene or profane, that contains personal information (an
e-mail address, a phone number, a full name or an address), or that is entirely a product review; it
strikes through feedback on an FBA order whose complaint is about Amazon's fulfilment (delivery,
packaging, the courier). A complaint about the seller's own service is never removable, and asking for
removal without a ground breaks Amazon's rules, so only these four grounds are reported.

The checks are rules about kinds of text, never about particular comments:

- **obscene**: glin-profanity's English word list with its de-masking on (it resolves `f**k`, `sh1t`,
  `a$$`, `b*tch` to dictionary words and respects word boundaries, so "Scunthorpe" or "assessment" are
  fine), after a small normalisation of our own for what it misses (a mask before trailing
  punctuation, `F**K!!`; a hyphen or apostrophe used as a mask, `f-ck`). Words that are ordinary in
  product feedback (nipple, hoe, nude, sucks, strap on, tied up ...) are taken off its list, and mild
  words (damn, hell, crap, pissed) were never on it: Amazon does not remove feedback for them.
- **personal_info**: phone numbers through Google's libphonenumber (`phonenumbers`): a number valid in
  the marketplace's country in any of its written forms, any `+`-prefixed international number, and
  any possible number next to a word like "call" or "phone"; order IDs are blanked first so they are
  never read as numbers. E-mail addresses, plain (`jo.b@example.com`) or spelled out
  (`jo at example dot com`, `jo [at] example [dot] com`). Full names where the text says so (an
  honorific, "my name is", a signature) and street addresses (a number, capitalised words and a
  street type; "City, ST 12345"; German street names).
- **product_review**: the comment speaks about the item (its quality, size, function, material or a
  word of the order's product names) and about nothing else: no delivery, packaging or courier, and
  nothing about the seller, their service, messages, refunds, returns or the listing ("not as
  described" is the seller's listing, not the product).
- **fba_fulfillment** (strike-through): an FBA order whose comment is about delivery, packaging or the
  courier and about neither the product nor the seller. "Arrived broken" counts as delivery damage.

When several grounds apply the first of obscene, personal_info, product_review, fba_fulfillment wins:
the removal grounds are Amazon's firmest, and a removed feedback needs no strike-through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

OBSCENE = "obscene"
PERSONAL_INFO = "personal_info"
PRODUCT_REVIEW = "product_review"
FBA_FULFILLMENT = "fba_fulfillment"
GROUNDS = (OBSCENE, PERSONAL_INFO, PRODUCT_REVIEW, FBA_FULFILLMENT)
GROUND_LABELS = {
    OBSCENE: "obscene or profane",
    PERSONAL_INFO: "personal information",
    PRODUCT_REVIEW: "entirely a product review",
    FBA_FULFILLMENT: "FBA delivery complaint (strike-through)",
}

# --- Obscene or profane -----------------------------------------------------------------------------------------

# Entries of glin-profanity's English list that are ordinary words in feedback about things people buy
# (baby-bottle nipples, a garden hoe, a nude-coloured bra, a strap on a bag, a vacuum that sucks well).
ORDINARY_WORDS = (
    "balls",
    "big black",
    "bs",
    "busty",
    "butt",
    "domination",
    "erotic",
    "escort",
    "fecal",
    "girl on",
    "hard core",
    "hardcore",
    "hoe",
    "hooker",
    "hot chick",
    "how to kill",
    "huge fat",
    "intercourse",
    "jelly donut",
    "kinky",
    "lolita",
    "mf",
    "nipple",
    "nipples",
    "nude",
    "nudity",
    "panties",
    "panty",
    "pissed",
    "pissing",
    "playboy",
    "poof",
    "scat",
    "sex",
    "sexy",
    "simp",
    "spread legs",
    "strap on",
    "suck",
    "sucks",
    "swinger",
    "tainted love",
    "taste my",
    "tied up",
    "tight white",
    "tongue in a",
    "topless",
    "twinkie",
    "undressing",
    "vibrator",
)
# Spellings with the vowels dropped that no masking rule can restore.
EXTRA_PROFANITY = ("fck", "fcking", "fckin", "fcuk", "fking", "effing", "wanker", "dickhead")
# A hyphen or apostrophe standing for letters inside a word (f-ck, sh-t, f'ing) is read as a mask;
# a trailing run of punctuation is cut off so the mask that ends a word is seen (F**K!!, a$$!).
_INNER_MASK = re.compile(r"(?<=[a-z])[-'’](?=[a-z])", re.IGNORECASE)
_MASKED_TOKEN = re.compile(r"(\S*?[*$@#0-9]\S*?)[!?.,;:]+(?=\s|$)")


@lru_cache(maxsize=1)
def _profanity_filter():
    # Imported here: the word lists load in ~0.1 s, which only triage needs to pay.
    from glin_profanity import Filter

    return Filter(
        {
            "languages": ["english"],
            "allow_obfuscated_match": True,
            "word_boundaries": True,
            "custom_words": list(EXTRA_PROFANITY),
            "ignore_words": list(ORDINARY_WORDS),
        }
    )


def profane_words(text: str | None) -> list[str]:
    """The profane words found in `text` (as the dictionary spells them), masked spellings included."""
    if not text or not text.strip():
        return []
    check = _profanity_filter().check_profanity
    found: list[str] = []
    variants = {text, _demask(text)}
    for variant in variants:
        found += check(variant)["profane_words"]
    return sorted(set(found))


def _demask(text: str) -> str:
    return _MASKED_TOKEN.sub(r"\1", _INNER_MASK.sub("*", text))


def is_obscene(text: str | None) -> bool:
    return bool(profane_words(text))


# --- Personal information ---------------------------------------------------------------------------------------

ORDER_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
_PHONE_CUE = re.compile(
    r"\b(?:call(?: me| us| back)?|called|calling|phone|tel|telephone|text me|sms|whats ?app|ring me|mobile|cell"
    r"|reach me|contact me|my number|number is)\b",
    re.IGNORECASE,
)
# Marketplace codes that are not the ISO region libphonenumber expects.
_REGIONS = {"UK": "GB"}
MIN_PHONE_DIGITS = 7

EMAIL = re.compile(r"[\w.+-]+\s?@\s?[\w-]+(?:\s?\.\s?[\w-]+)+")
_TLDS = (
    "com|net|org|edu|gov|info|biz|io|me|co|uk|us|ca|au|nz|ie|de|at|ch|fr|be|nl|es|it|pt|pl|se|no|dk|fi"
    "|jp|in|mx|br|sg|ae|sa|tr|ru|cn"
)
_AT = r"(?P<at>\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
_DOT = r"(?:\.|\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+)"
# "jo at example dot com", "jo (at) example [dot] co [dot] uk", "JO AT EXAMPLE DOT COM", "jo at example.com".
SPELLED_EMAIL = re.compile(
    rf"\b(?P<local>[\w.+-]+){_AT}(?P<domain>[\w-]+)(?P<rest>(?:{_DOT}(?:{_TLDS}))+)\b", re.IGNORECASE
)
_EMAIL_CUE = re.compile(r"\b(?:e-?mail|mail me|write (?:to )?me|contact me|reach me)\b", re.IGNORECASE)
# "bought at amazon dot com" names a shop, not a mailbox.
_SHOP_DOMAINS = {"amazon", "ebay", "walmart", "etsy", "google", "facebook", "target", "bestbuy"}

_HONORIFIC_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?\b")
# A name the comment gives as one: "my name is Jane Doe", or a signature at its end ("Regards, Jane Doe",
# "- Jane Doe"). Two capitalised words anywhere else are too often a shouted phrase.
_NAMED = re.compile(
    r"(?:(?i:\b(?:regards|sincerely|thanks|thank you|cheers),|\bsigned\b)|[-–—])\s*"
    r"(?P<first>[A-Z][a-z]+)\s+(?P<last>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s*[.!]?\s*$"
    r"|(?i:\bmy name(?: is|'s))\s+(?P<first2>[A-Z][a-z]+)\s+(?P<last2>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b"
)
_STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){1,3}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent"
    r"|Parkway|Pkwy|Highway|Hwy|Square|Sq)\b"
)
_CITY_STATE_ZIP = re.compile(r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?\b")
_GERMAN_STREET = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|platz|allee|gasse|ring)\s+\d{1,4}[a-z]?\b")


def phone_numbers(text: str | None, marketplace: str = "US") -> list[str]:
    """The phone numbers written in `text`, as written."""
    if not text:
        return []
    blanked = ORDER_ID.sub(lambda match: " " * len(match.group(0)), text)
    region = _REGIONS.get(marketplace.upper(), marketplace.upper())
    found = [m.raw_string for m in phonenumbers.PhoneNumberMatcher(blanked, region, phonenumbers.Leniency.VALID)]
    if not found and _PHONE_CUE.search(blanked):
        # Next to "call me", a number need only be possible (a local 7-digit number, another country's).
        found = [
            m.raw_string
            for m in phonenumbers.PhoneNumberMatcher(blanked, region, phonenumbers.Leniency.POSSIBLE)
            if sum(ch.isdigit() for ch in m.raw_string) >= MIN_PHONE_DIGITS
        ]
    return found


def email_addresses(text: str | None) -> list[str]:
    """E-mail addresses in `text`, plain or spelled out with "at" and "dot"."""
    if not text:
        return []
    found = [match.group(0) for match in EMAIL.finditer(text)]
    for match in SPELLED_EMAIL.finditer(text):
        if match.group("domain").lower() in _SHOP_DOMAINS:
            continue
        # "cheaper at example.com" names a website: with a plain " at " and a real dot, only a word
        # like "e-mail me" makes it an address.
        plain = match.group("at").strip().lower() == "at" and "dot" not in match.group("rest").lower()
        if plain and not _EMAIL_CUE.search(text):
            continue
        found.append(match.group(0))
    return found


def names_and_addresses(text: str | None) -> list[str]:
    """Full names and postal addresses where the text makes them recognisable."""
    if not text:
        return []
    found = [m.group(0) for m in _HONORIFIC_NAME.finditer(text)]
    found += [m.group(0).strip(" -–—,:") for m in _NAMED.finditer(text) if _looks_like_name(m)]
    for pattern in (_STREET, _CITY_STATE_ZIP, _GERMAN_STREET):
        found += [m.group(0) for m in pattern.finditer(text)]
    return found


# Capitalised words that start a sentence or sign a comment without being a person's name.
_NOT_NAMES = {
    "amazon",
    "prime",
    "seller",
    "central",
    "customer",
    "service",
    "thank",
    "thanks",
    "very",
    "never",
    "great",
    "good",
    "bad",
    "terrible",
    "awful",
    "not",
    "will",
    "would",
    "the",
    "this",
    "item",
    "product",
    "order",
    "again",
    "buy",
    "do",
    "avoid",
    "highly",
    "totally",
    "fast",
    "slow",
}


def _looks_like_name(match: re.Match) -> bool:
    first = match.group("first") or match.group("first2")
    last = match.group("last") or match.group("last2")
    if not first or not last:
        return False
    return first.lower() not in _NOT_NAMES and last.lower() not in _NOT_NAMES


def personal_information(text: str | None, marketplace: str = "US") -> list[str]:
    """Every piece of personal information found: phone numbers, e-mail addresses, names, addresses."""
    return phone_numbers(text, marketplace) + email_addresses(text) + names_and_addresses(text)


# --- What a comment is about ------------------------------------------------------------------------------------


def _words(*parts: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


# The item itself: quality, size, material, function and the usual parts of things.
PRODUCT_TERMS = _words(
    r"items?",
    r"products?",
    r"units?",
    r"quality",
    r"made",
    r"build",
    r"built",
    r"materials?",
    r"fabric",
    r"plastic",
    r"metal",
    r"glass",
    r"wood(?:en)?",
    r"siz(?:e|es|ed|ing)",
    r"small(?:er)?",
    r"tiny",
    r"large(?:r)?",
    r"big(?:ger)?",
    r"huge",
    r"fit(?:s|ting)?",
    r"tight(?:er)?",
    r"loose(?:r)?",
    r"narrow",
    r"wide",
    r"colou?rs?",
    r"shade",
    r"fad(?:ed|es|ing)",
    r"smells?",
    r"odou?r",
    r"tastes?",
    r"flavou?r",
    r"texture",
    r"weight",
    r"heav(?:y|ier)",
    r"lightweight",
    r"thin(?:ner)?",
    r"thick(?:er)?",
    r"soft(?:er)?",
    r"stiff",
    r"flims(?:y|ier)",
    r"sturdy",
    r"durable",
    r"cheap(?:er|ly)?",
    r"weak(?:er)?",
    r"works?",
    r"worked",
    r"working",
    r"function(?:s|ing)?",
    r"broke",
    r"broken",
    r"break(?:s|ing)?",
    r"defect(?:ive|s)?",
    r"faulty",
    r"flicker(?:s|ing|ed)?",
    r"leak(?:s|ing|ed|y)?",
    r"crack(?:s|ed)?",
    r"chipped",
    r"peel(?:s|ed|ing)",
    r"scratch(?:es|ed|y)?",
    r"stain(?:s|ed)?",
    r"rust(?:s|ed|y)?",
    r"batter(?:y|ies)",
    r"charg(?:e|ing|er)",
    r"switch",
    r"buttons?",
    r"screen",
    r"zipper",
    r"strap",
    r"handle",
    r"lid",
    r"cable",
    r"plug",
    r"motor",
    r"nois(?:e|y)",
    r"loud",
    r"glaze",
    r"finish",
    r"paint",
    r"uneven",
    r"design",
    r"instructions",
    r"assembly",
    r"(?:un)?comfortable",
    r"itchy",
    r"slippery",
    r"wobbly",
    r"stitching",
    r"seams?",
    r"stopped",
    r"itself",
)
# Delivery, packaging and the courier: Amazon's part on an FBA order.
DELIVERY_TERMS = _words(
    r"deliver(?:y|ies|ed|ing)?",
    r"ship(?:ped|ping|ment|s)?",
    r"dispatch(?:ed)?",
    r"arriv(?:e|ed|es|al|ing)",
    r"late",
    r"delay(?:s|ed)?",
    r"packag(?:e|es|ed|ing)",
    r"pack(?:ed|ing)",
    r"parcel",
    r"box(?:es)?",
    r"envelope",
    r"wrap(?:ped|ping)",
    r"courier",
    r"carrier",
    r"driver",
    r"post(?:man|age|al)?",
    r"mail ?man",
    r"ups",
    r"usps",
    r"fedex",
    r"dhl",
    r"dpd",
    r"evri",
    r"hermes",
    r"track(?:ing|ed)",
    r"lost",
    r"stolen",
    r"porch",
    r"doorstep",
    r"crushed",
    r"dented",
    r"smashed",
    r"never (?:came|got here|showed up)",
    r"(?:never|not|didn'?t|did not|haven'?t|have not|hasn'?t|has not) (?:yet )?(?:been )?receiv(?:e|ed)",
    r"took (?:forever|ages|weeks|a while|\d+ (?:days|weeks))",
    r"on time",
)
# The seller: their service, communication, money, returns, the listing and the order's accuracy.
SELLER_TERMS = _words(
    r"sellers?",
    r"vendor",
    r"merchant",
    r"store",
    r"shop",
    r"company",
    r"business",
    r"service",
    r"support",
    r"staff",
    r"agent",
    r"rep(?:resentative)?",
    r"repl(?:y|ied|ies)",
    r"respon(?:d|ded|se|sive)",
    r"unresponsive",
    r"answer(?:s|ed)?",
    r"messag(?:e|es|ed)",
    r"e-?mail(?:s|ed)?",
    r"contact(?:ed)?",
    r"communicat(?:e|ed|ion)",
    r"call(?:ed)?",
    r"phone",
    r"(?:un)?helpful",
    r"help(?:s|ed)?",
    r"rude",
    r"polite",
    r"refund(?:s|ed)?",
    r"money back",
    r"reimburs(?:e|ed|ement)",
    r"return(?:s|ed|ing)?",
    r"exchange",
    r"replac(?:e|ed|ement)",
    r"cancel(?:l?ed|lation)?",
    r"charged",
    r"overcharged",
    r"billed",
    r"invoice",
    r"receipt",
    r"scam(?:mer)?",
    r"fraud",
    r"described",
    r"description",
    r"pictured?",
    r"photos?",
    r"listing",
    r"advertised",
    r"wrong",
    r"fake",
    r"counterfeit",
    r"(?:was|been) used",
    r"used (?:item|one)",
    r"pre-?owned",
    r"second-? ?hand",
    r"not new",
    r"expired",
    r"buy(?:ing)? from",
    r"ordered from",
    r"nobody",
    r"no one",
    r"ignored",
)
# Damage noticed on arrival is the courier's, not the product's: "arrived broken", "came damaged".
TRANSIT_DAMAGE = re.compile(
    r"\b(?:arrived|came|delivered|showed up|was delivered)\s+(?:\w+\s+){0,2}?"
    r"(?:broken|damaged|smashed|crushed|cracked|shattered|dented|chipped|open(?:ed)?|torn|ripped)\b",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W\d_]{3,}")
# Words of a product name that say nothing about the item ("with", "pack", "for").
_NAME_STOPWORDS = {"with", "for", "and", "the", "pack", "set", "new", "inch", "from", "per"}


def product_name_terms(product_names: Iterable[str]) -> set[str]:
    """The words of the order's product names ("Desk Lamp LED, dimmable" -> desk, lamp, led, dimmable)."""
    terms = set()
    for name in product_names:
        for word in _NAME_WORD.findall(name or ""):
            if word.lower() not in _NAME_STOPWORDS:
                terms.add(word.lower())
    return terms


def topics(text: str | None, product_names: Iterable[str] = ()) -> set[str]:
    """What a comment is about: a subset of {"product", "delivery", "seller"}."""
    if not text:
        return set()
    found = set()
    if TRANSIT_DAMAGE.search(text):
        found.add("delivery")
        text = TRANSIT_DAMAGE.sub(" delivery ", text)
    if SELLER_TERMS.search(text):
        found.add("seller")
    if DELIVERY_TERMS.search(text):
        found.add("delivery")
    names = product_name_terms(product_names)
    if PRODUCT_TERMS.search(text) or any(word.lower() in names for word in _NAME_WORD.findall(text)):
        found.add("product")
    return found


def is_product_review(text: str | None, product_names: Iterable[str] = ()) -> bool:
    """Entirely about the item: it speaks of the product and of nothing the seller or courier did."""
    return topics(text, product_names) == {"product"}


def is_fba_delivery_complaint(text: str | None, channel: str | None, product_names: Iterable[str] = ()) -> bool:
    """An FBA order's feedback about delivery, packaging or the courier only (Amazon strikes it through)."""
    return channel == "FBA" and topics(text, product_names) == {"delivery"}


# --- The ground -------------------------------------------------------------------------------------------------


# Distinct verdicts kept: a seller's comments are read again at every recomputation of the triage list, and the
# profanity check alone costs ~0.15 ms a comment. The verdict depends on its arguments only.
GROUND_MEMO_SIZE = 1 << 17


def removal_ground(
    comment: str | None, channel: str | None, product_names: Iterable[str] = (), marketplace: str = "US"
) -> str | None:
    """The first removal ground that applies to a feedback comment, or None (a complaint to answer)."""
    if not comment or not comment.strip():
        return None
    return _ground(comment, channel, tuple(product_names), marketplace)


@lru_cache(maxsize=GROUND_MEMO_SIZE)
def _ground(comment: str, channel: str | None, product_names: tuple[str, ...], marketplace: str) -> str | None:
    if is_obscene(comment):
        return OBSCENE
    if personal_information(comment, marketplace):
        return PERSONAL_INFO
    names = list(product_names)
    if is_product_review(comment, names):
        return PRODUCT_REVIEW
    if is_fba_delivery_complaint(comment, channel, names):
        return FBA_FULFILLMENT
    return None
