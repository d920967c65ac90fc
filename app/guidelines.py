"""Amazon's Communication Guidelines for buyer-seller messages, as a check on the seller's own words.

Amazon suspends sellers over what their messages to buyers say. `check` finds, in English and German, the
six things its guidelines forbid, each with the exact words that break it, so the seller sees what to change:

- **external_link**: a website outside Amazon, with or without `https://` or `www.` (`mystore.com/help`).
  Allowed: any `amazon.<tld>` host and its subdomains (orders, the storefront, help pages), Amazon's own
  short links, and the tracking pages of parcel carriers, which a buyer needs to follow the order.
- **marketing**: discount codes, "% off", "check out our other products", "follow us on Instagram",
  newsletters.
- **review_request**: any request for a review, a rating or feedback ("please leave us 5 stars").
- **feedback_incentive**: something offered for a review or for changing one ("free gift for a review").
- **off_amazon_contact**: a phone number, an e-mail address (also spelled out, `jo [at] mail [dot] com`),
  "call us", WhatsApp, "contact us on our website". The buyer's masked Amazon address is allowed.
- **feedback_change**: asking the buyer to change or remove feedback or a review.

What is not flagged: order ids, tracking numbers, amounts, dates, "thank you for your feedback".
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers

EXTERNAL_LINK = "external_link"
MARKETING = "marketing"
REVIEW_REQUEST = "review_request"
FEEDBACK_INCENTIVE = "feedback_incentive"
OFF_AMAZON_CONTACT = "off_amazon_contact"
FEEDBACK_CHANGE = "feedback_change"
RULES = {
    EXTERNAL_LINK: "links to a website outside Amazon",
    MARKETING: "marketing or promotional content",
    REVIEW_REQUEST: "asks for positive feedback or a review",
    FEEDBACK_INCENTIVE: "makes something depend on a review or feedback",
    OFF_AMAZON_CONTACT: "directs the buyer off Amazon (phone, e-mail, website)",
    FEEDBACK_CHANGE: "asks the buyer to change or remove feedback",
}
_RULE_ORDER = {rule: index for index, rule in enumerate(RULES)}


@dataclass(frozen=True)
class Breach:
    rule: str
    phrase: str

    def to_json(self) -> dict:
        return {"rule": self.rule, "phrase": self.phrase}


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    rule: str


def _words(pattern: str) -> re.Pattern:
    """A phrase pattern whose spaces match any run of whitespace, line breaks included (" ?": none or some)."""
    return re.compile(pattern.replace(" ?", r"\s*").replace(" ", r"\s+"), re.IGNORECASE)


# --- links ------------------------------------------------------------------------------------------------------

_TLDS = (
    r"com|net|org|info|biz|io|co|me|shop|store|online|site|app|link|tv|ly|gl|to|be|eu|us|ca|au|uk|de|at|ch"
    r"|fr|it|es|nl|pl|se|dk|no|fi|ie|pt|cz|jp|in|mx|br"
)
_LINK = re.compile(
    r"\b(?:https?|ftp)://[^\s<>\"']+"
    r"|\bwww\.[^\s<>\"']+"
    rf"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:[/?#][^\s<>\"']*)?",
    re.IGNORECASE,
)
_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#\s]*@)?(?P<host>[^/?#:\s]+)", re.IGNORECASE)
_AMAZON_HOST = re.compile(r"(?:^|\.)(?:amazon\.[a-z]{2,3}(?:\.[a-z]{2})?|amzn\.(?:to|eu|asia)|a\.co)$")
# Tracking pages of parcel carriers: the buyer needs them to follow the order, and Amazon's own shipping
# confirmation links there too.
_CARRIER_HOSTS = (
    "ups.com",
    "usps.com",
    "fedex.com",
    "dhl.com",
    "dhl.de",
    "dhl.co.uk",
    "deutschepost.de",
    "royalmail.com",
    "parcelforce.com",
    "evri.com",
    "hermesworld.com",
    "myhermes.de",
    "dpd.com",
    "dpd.de",
    "dpd.co.uk",
    "gls-group.eu",
    "gls-group.com",
    "gls-pakete.de",
    "ontrac.com",
    "canadapost-postescanada.ca",
    "canadapost.ca",
    "auspost.com.au",
    "laposte.fr",
    "postnl.nl",
)
_TRAILING = ".,;:!?)]}'\"»“”’"


def _allowed_host(link: str) -> bool:
    match = _HOST.match(link)
    host = match.group("host").lower().rstrip(".") if match else ""
    if _AMAZON_HOST.search(host):
        return True
    return any(host == carrier or host.endswith("." + carrier) for carrier in _CARRIER_HOSTS)


def _links(text: str) -> Iterator[tuple[int, int, bool]]:
    """Every link as (start, end, allowed); the end leaves out the punctuation that closes a sentence."""
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        if link:
            yield match.start(), match.start() + len(link), _allowed_host(link)


# --- e-mail addresses and phone numbers ---------------------------------------------------------------------------

_BRACKET_AT = r"\s*[\[({<]\s*at\s*[\])}>]\s*"
_BRACKET_DOT = r"\s*[\[({<]\s*(?:dot|punkt)\s*[\])}>]\s*"
_EMAILS = (
    re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # "jo @ mail.com": with spaces round the @ only a known domain ending ("tag us @shop.pets" is a handle)
    re.compile(rf"(?<![\w.+-])[\w.+-]+ ?@ ?[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b", re.IGNORECASE),
    # "jo [at] mail [dot] com", "jo(at)mail.com", "jo (at) mail (dot) co (dot) uk"
    re.compile(rf"(?<![\w.+-])[\w.+-]+{_BRACKET_AT}[\w-]+(?:(?:\.|{_BRACKET_DOT})[\w-]+)+", re.IGNORECASE),
    # "jo at mail dot com"
    re.compile(r"(?<![\w.+-])[\w.+-]+\s+at\s+[\w-]+(?:\s+dot\s+[a-z]{2,6})+\b", re.IGNORECASE),
)
# "jo at gmail.com": with a plain " at " and a real dot only a mail provider's name makes it an address
# ("we ship at noon.com"... is not one).
_PROVIDER_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s+at\s+(?:gmail|googlemail|outlook|hotmail|live|yahoo|icloud|aol|gmx|web|t-online"
    r"|btinternet|proton(?:mail)?)\.[a-z.]{2,6}\b",
    re.IGNORECASE,
)
_AMAZON_MAIL = re.compile(r"(?:@|\bat\b|\(at\)|\[at\])\s*[\w.-]*amazon\b", re.IGNORECASE)

_ORDER_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
# What is written with digits and is no phone number: tracking numbers (UPS, USPS, DHL, Royal Mail and other
# postal S10 codes, and any long run of digits), dates, times, amounts, sizes, product codes.
_NOT_PHONE = re.compile(
    r"\b1Z[0-9A-Z]{16}\b"
    r"|\b(?:9[1-5]\d{2}|420\d{5})(?: ?\d{4}){4} ?\d{2}\b"
    r"|\bJJD\d{10,22}\b"
    r"|\b[A-Z]{2} ?\d{3} ?\d{3} ?\d{3} ?[A-Z]{2}\b"
    r"|(?<![+\d])\d{12,30}\b"
    r"|\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b"
    r"|\b\d{1,2}[:.]\d{2}\b"
    r"|[$€£] ?\d[\d.,]*|\b\d[\d.,]* ?(?:€|EUR|USD|GBP|\$|£)"
    r"|\b\d+(?:[.,]\d+)? ?x ?\d+(?:[.,]\d+)?(?: ?x ?\d+(?:[.,]\d+)?)?"
    r"|\b(?:EAN|GTIN|UPC|ISBN|ASIN|SKU|MPN|model(?: number)?|Modell(?:nummer)?|Art\.?-?Nr\.?)[:#]? ?[\w-]+"
    # A number its label calls an item, part, serial, invoice or return number: "the item number is 212-555-0198"
    r"|\b(?:(?:item|part|article|product|serial|catalog(?:ue)?|batch|lot|invoice|reference|ref|RMA|return"
    r"|return authori[sz]ation|tracking|parcel) ?(?:number|no\.?|nr\.?|#|code)"
    r"|(?:Artikel|Teile|Serien|Rechnungs|Bestell|Referenz|Chargen|Sendungs|Retouren|Kunden)-?(?:nummer|nr\.?))"
    r"(?: (?:is|ist|lautet))?[:#]? ?\d[\w-]*(?: \d[\w-]*){0,3}",
    re.IGNORECASE,
)
_PHONE_REGIONS = ("US", "GB", "DE")
# Next to one of these words a number need only be possible, not valid in a marketplace's plan (a
# fictional 555 number, another country's).
_PHONE_CUE = re.compile(
    r"\b(?:call|phone|telephone|tel|ring|text|whats ?app|sms|mobile|cell|hotline|fax"
    r"|anrufen|rufen|telefon\w*|handy|mobil\w*|rufnummer|festnetz)\b",
    re.IGNORECASE,
)
_CUE_REACH = 60
MIN_PHONE_DIGITS = 7


def _emails(text: str) -> list[tuple[int, int]]:
    spans = []
    for pattern in (*_EMAILS, _PROVIDER_EMAIL):
        for match in pattern.finditer(text):
            if not _AMAZON_MAIL.search(match.group(0)):
                spans.append((match.start(), match.end()))
    return spans


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# Each number costs the phone library about a millisecond, so a pasted list of thousands would hold the check
# for seconds: past this many numbers (found or tried) in one pass the rest are not looked at. A reply has a
# handful; one with this many is flagged many times over already.
MAX_PHONE_TRIES = 400


def _phones(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    blanked = _blank(text, taken + [m.span() for p in (_ORDER_ID, _NOT_PHONE) for m in p.finditer(text)])
    spans = set()
    for region in _PHONE_REGIONS:
        spans.update(_numbers(blanked, region, phonenumbers.Leniency.VALID))
    cues = [cue.end() for cue in _PHONE_CUE.finditer(blanked)]
    if cues:
        for region in _PHONE_REGIONS:
            for start, end in _numbers(blanked, region, phonenumbers.Leniency.POSSIBLE):
                digits = sum(ch.isdigit() for ch in blanked[start:end])
                if digits >= MIN_PHONE_DIGITS and _cue_before(cues, start):
                    spans.add((start, end))
    return sorted(spans)


def _numbers(text: str, region: str, leniency) -> Iterator[tuple[int, int]]:
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency, max_tries=MAX_PHONE_TRIES)
    for _, match in zip(range(MAX_PHONE_TRIES), matcher, strict=False):
        yield match.start, match.end


def _cue_before(cues: list[int], start: int) -> bool:
    """A contact word ends at most _CUE_REACH characters before the number (cues sorted)."""
    nearest = bisect_right(cues, start) - 1
    return nearest >= 0 and start - cues[nearest] <= _CUE_REACH


# --- phrases ------------------------------------------------------------------------------------------------------

_SITE = r"(?:web ?site|web ?shop|webpage|homepage|online (?:shop|store)|own (?:shop|store|site)|site)"
_SITE_DE = r"(?:Website|Webseite|Homepage|Internetseite|Online-?[Ss]hop|Webshop)"
_OFF_AMAZON = [
    _words(
        r"\b(?:give (?:us|me) a (?:call|ring)|call (?:us|me|our (?:team|office|hotline|support))"
        r"|phone (?:us|me)|ring (?:us|me)|text (?:us|me))\b"
    ),
    _words(r"\bwhats ?app\b|\b(?:telegram|viber|wechat|skype)\b|\bfacebook messenger\b"),
    _words(
        rf"\b(?:contact|reach|message|email|e-mail|write to|find) (?:us|me|our (?:team|support|service team))"
        rf" (?:directly )?(?:on|at|via|through|by|from) (?:our |my )?(?:{_SITE}|facebook|instagram|phone"
        r"|telephone|e-?mail)\b"
    ),
    _words(r"\be-?mail (?:us|me) (?:directly|at)\b"),
    _words(
        rf"\b(?:visit|see|go to|order (?:directly )?from|buy (?:directly )?from|shop (?:directly )?(?:on|at))"
        rf" our (?:own )?{_SITE}\b|\bon our (?:own )?{_SITE}\b"
    ),
    # "call our hotline", "via our phone number"; "our phone line is down today" sends nobody anywhere
    _words(
        r"\b(?:call|ring|use|try|contact|reach us|via|through|on|at|over|from) our (?:hotline|helpline|phone line"
        r"|customer service (?:line|number)|phone number|whatsapp)\b"
    ),
    _words(r"\bruf(?:en)? (?:Sie )?(?:uns|mich)\b(?: (?:gern|gerne|einfach|bitte|jederzeit|kurz|doch))*(?: an\b)?"),
    _words(
        r"\b(?:schreiben|mailen) Sie (?:uns|mir) (?:(?:gern|gerne|einfach|bitte|direkt|kurz) )*"
        r"(?:an\b|eine E-?Mail\b|per E-?Mail\b|unter\b)"
    ),
    _words(r"\bper (?:E-?Mail|Telefon|SMS) an\b|\bunter (?:der )?(?:Telefonnummer|Rufnummer|Hotline)\b"),
    _words(
        rf"\b(?:kontaktieren|erreichen) Sie uns (?:\w+ ){{0,2}}(?:über|auf|unter|per) (?:unsere[rnm]? )?"
        rf"(?:{_SITE_DE}|Telefon|Hotline|E-?Mail)\b"
    ),
    _words(rf"\b(?:besuchen Sie unseren?|auf unserer|über unsere) {_SITE_DE}\b"),
]

_MARKETING = [
    re.compile(
        r"\b(?:coupon|discount|promo(?:tion(?:al)?)?|voucher|gift) ?code\b(?:\s*[:\-]?\s*[A-Z0-9]{4,}\b)?"
        r"|\b(?:Gutschein|Rabatt|Aktions)-?[Cc]ode\b(?:\s*:?\s*[A-Z0-9]{4,}\b)?"
        r"|\b(?i:code)\s+[A-Z][A-Z0-9]*\d[A-Z0-9]*\b"
    ),
    _words(r"\b\d{1,2} ?% (?:off|discount)\b|\b\d{1,2} ?% Rabatt\b(?: auf (?:Ihre|Ihren|den) (?:nächste\w*|\w+))*"),
    _words(r"\b(?:on|off) your next (?:order|purchase)\b|\b(?:auf|bei) Ihre[rnm]? nächste[nr]? (?:Bestellung|Einkauf)"),
    _words(r"\b(?:follow|like|find) us on\b(?: (?:instagram|facebook|tiktok|youtube|pinterest|twitter|x))?"),
    _words(
        r"\b(?:tag|mention|markiere?n?) (?:us|uns)\b(?: @[\w.]+)?(?: (?:on|auf) (?:instagram|facebook|tiktok|twitter))?"
        r"|@[\w.]+ (?:on|auf) (?:instagram|facebook|tiktok|twitter|pinterest)\b"
    ),
    _words(r"\b(?:folgen|folgt) (?:Sie )?uns (?:auf|bei)\b(?: (?:Instagram|Facebook|TikTok|YouTube|Pinterest))?"),
    _words(r"\b(?:sign up (?:to|for)|subscribe to|join) our\b|\bnews ?letters?\b|\babonnieren Sie\b"),
    _words(
        r"\b(?:check out|take a look at|have a look at|browse|see) our (?:other|new|full|latest|whole)"
        r"(?: \w+){0,2}? (?:products?|items?|range|collection|listings?|store|shop)\b"
    ),
    _words(
        r"\b(?:schauen|sehen) Sie sich (?:(?:gern|gerne|doch|auch|mal) )*unsere (?:anderen|weiteren|neuen)"
        r" (?:Produkte|Artikel)\b"
    ),
    _words(r"\b(?:special|exclusive|limited[- ]time) offers?\b|\bSonderangebot\w*|\bexklusive[ns]? Angebot\w*"),
]

_STARS = r"(?:5|five|fünf)[- ]?(?:stars?|Sterne)"
_REVIEW_OBJECT = (
    r"(?:(?:a|an|some|your|the|us a|us an|us some|us|me a) )?(?:(?:quick|short|positive|good|great|honest|nice"
    rf"|glowing|little|{_STARS}) )*(?:review|feedback|rating)\b|(?:us |me )?{_STARS}"
)
_REVIEW_REQUEST = [
    _words(
        r"\b(?:(?:please|kindly|would you mind|could you|can you|would you|consider|be sure to|don't forget to)"
        r" )?(?:leaves?|leaving|writes?|writing|posts?|posting|gives?|giving|drops?|dropping|submits?|submitting"
        rf"|shares?|sharing) (?:{_REVIEW_OBJECT})"
    ),
    _words(rf"\b(?:positive|good|great|glowing|{_STARS}) (?:feedback|reviews?|ratings?)\b"),
    _words(
        r"\b(?:tell|let) (?:other|fellow) (?:shoppers|buyers|customers) (?:know )?(?:what you think|about)\b"
        r"|\bshare your (?:experience|thoughts|opinion) (?:with other|on Amazon|on the product page)\b"
    ),
    _words(
        r"\b(?:please )?rate (?:us|your (?:purchase|order|experience|item|product|delivery)"
        r"|(?:the|our) (?:product|item|seller|service|shop|store)s?)\b"
    ),
    _words(r"\b(?:a|your) review would (?:mean|help)\b|\byour review means\b"),
    _words(r"\b(?:bitte )?bewerten Sie (?:uns|unseren? \w+|den Artikel|das Produkt|Ihren Einkauf)\b"),
    _words(
        r"\b(?:eine|Ihre|ein) (?:(?:positive|gute|ehrliche|kurze|5-Sterne-?) ?)*(?:Bewertung|Rezension|Feedback)"
        r" (?:\w+ ){0,2}?(?:abgeben|abgeben würden|hinterlassen|hinterlassen würden|schreiben|dalassen)\b"
    ),
    _words(
        r"\bhinterlassen Sie (?:uns )?(?:bitte )?(?:eine|Ihre|ein) (?:\w+ )?(?:Bewertung|Rezension|Feedback)\b"
        r"|\büber (?:eine|Ihre|ein) (?:\w+ )?(?:Bewertung|Rezension|Feedback) (?:\w+ ){0,4}?(?:freuen|dankbar)\b"
    ),
    _words(r"\b(?:positive|gute|5-Sterne-?) ?(?:Bewertung|Rezension)\b"),
]
_THANKS_BEFORE = re.compile(
    r"(?:thank(?:s| you)|grateful|dank(?:e)?|bedanken)\s+(?:\w+\s+){0,2}(?:(?:for|für)\s+(?:\w+\s+){0,2})?$",
    re.IGNORECASE,
)

_CHANGE_VERB = (
    r"(?:remove|removing|delete|deleting|change|changing|update|updating|revise|revising|amend|amending|edit"
    r"|editing|reconsider|reconsidering|withdraw|withdrawing|retract|retracting|take down|taking down|adjust"
    r"|adjusting|modify|modifying|upgrade|upgrading|improve|revisit|revisiting|rethink|rethinking|re-?evaluate"
    r"|re-?evaluating|reassess|reassessing|(?:take|taking|have|having) (?:another|a second|a fresh|a new) look at"
    r"|look again at)"
)
_REVIEW_GONE = r"(?:gone|removed|deleted|changed|updated|revised|amended|edited|withdrawn|taken down|improved|upgraded)"
_BEWERTUNG = r"(?:Ihre|die|Ihr|das) (?:\w+ )?[\w-]*(?:Bewertung|Rezension|Feedback)"
_BEWERTUNG_WEG = r"(?:entfernt|gelöscht|geändert|angepasst|zurückgezogen|weg|verschwunden)"
# A review that is gone or changed as the condition of what the seller does next: "once the review is gone".
_REVIEW_GONE_IF = (
    rf"\b(?:if|once|when|after|as soon as|provided(?: that)?) (?:the|your|this|that|my|our) (?:[\w-]+ ){{0,2}}?"
    rf"(?:review|feedback|rating) (?:is|has been|gets|got|was) (?:\w+ )?{_REVIEW_GONE}\b"
    rf"|\b(?:wenn|sobald|nachdem|falls) {_BEWERTUNG} (?:\w+ ){{0,2}}?{_BEWERTUNG_WEG}\b"
)
_FEEDBACK_CHANGE = [
    _words(
        r"\b(?:(?:could|would|can|will) you (?:please )?(?:kindly )?(?:consider )?|please |kindly |consider )?"
        rf"{_CHANGE_VERB} (?:your|the|this|that|their) (?:[\w-]+ ){{0,2}}?(?:feedback|review|rating)\b"
    ),
    _words(
        r"\b(?:feedback|review|rating) (?:could|can|would|might) be (?:removed|deleted|changed|updated|revised"
        r"|amended|taken down|withdrawn)\b"
    ),
    _words(
        r"\b(?:bitte )?(?:entfernen|löschen|ändern|anpassen|korrigieren|überarbeiten|zurückziehen|zurücknehmen"
        r"|überdenken|aktualisieren) Sie (?:bitte )?(?:doch )?(?:Ihre|die|Ihr|das) (?:\w+ )?"
        r"[\w-]*(?:Bewertung|Rezension|Feedback)\b"
    ),
    _words(
        rf"\b{_BEWERTUNG} (?:\w+ ){{0,4}}?(?:zu )?"
        r"(?:entfernen|löschen|ändern|anpassen|korrigieren|überarbeiten|überdenken|revidieren|aktualisieren"
        r"|zurückzuziehen|zurückziehen|entfernt|gelöscht|geändert|angepasst|zurückgezogen"
        r"|(?:noch ?einmal|nochmals?|erneut) (?:\w+ )?(?:anschauen|ansehen|anzuschauen|anzusehen|prüfen|überprüfen"
        r"|betrachten|durchlesen|lesen))\b"
    ),
    # Separable verbs: "nehmen Sie Ihre Bewertung bitte zurück", "ziehen Sie die Rezension zurück".
    _words(rf"\b(?:nehmen|ziehen) Sie (?:bitte )?(?:doch )?{_BEWERTUNG} (?:\w+ ){{0,2}}?zurück\b"),
    _words(_REVIEW_GONE_IF),
]
# "we will revisit your feedback with the team": the seller doing it, not asking the buyer to.
_SELLER_SUBJECT = re.compile(
    r"\b(?:we|I|we'll|we've|we'd|I'll|I've|our team)\b(?!.*\byou\b)", re.IGNORECASE | re.DOTALL
)
_BY_AMAZON = re.compile(r"^\W*(?:by|von|durch) Amazon\b", re.IGNORECASE)
# "Amazon removed the feedback", "we asked Amazon to remove the review": not a request to the buyer.
_AMAZON_DOES = re.compile(r"\bamazon\b\s+(?:\S+\s+){0,3}$", re.IGNORECASE)

_REWARD = re.compile(
    r"\b(?:free (?:gifts?|samples?|products?|items?)"
    r"|refund\w*|replacement|free|gift\w*|discount\w*|coupon\w*|voucher\w*|money back|reimburs\w*|bonus"
    r"|compensat\w*|cashback)\b"
    r"|\bwe(?:'ll| will| would| can| shall)\s+(?:\w+\s+)?(?:send|refund|give|offer|replace|reimburse|issue)\b"
    r"|Gutschein\w*|\b(?:erstatten|Erstattung|Rückerstattung|Geschenk\w*|gratis|kostenlos\w*|Rabatt\w*"
    r"|Ersatz\w*|Geld zurück)\b",
    re.IGNORECASE,
)
_REVIEW_WORD = r"(?:review|feedback|rating|stars|Bewertung|Rezension|Sterne)"
_IF_YOU = (
    r"(?:(?:if|once|when|after|as soon as|provided(?: that)?|wenn|sobald|nachdem|falls) (?:you|Sie)"
    r"|(?:who|whoever|that)(?: already)?)"
)
_REVIEW_VERB = (
    r"(?:leave|leaves|write|post|give|remove|delete|change|update|revise|edit|amend|withdraw|take down|have left"
    r"|have removed|have updated|hinterlassen|abgeben|schreiben|entfernen|löschen|ändern|anpassen|entfernt"
    r"|gelöscht|geändert|angepasst|abgegeben|geschrieben)"
)
_INCENTIVE_TERMS = [
    _words(
        r"\b(?:in exchange for|in return for|for) (?:a|an|your) (?:(?:positive|good|honest|5-star|five-star"
        r"|quick) )*(?:review|feedback|rating)\b"
    ),
    _words(r"\b(?:gegen|für) (?:(?:eine|Ihre) )?(?:(?:positive|gute|ehrliche|5-Sterne-?) ?)*(?:Bewertung|Rezension)\b"),
    # "once you update your review", "sobald Sie die Bewertung entfernt haben": the condition is the review
    # itself, not "if you are happy with the replacement, …".
    _words(
        rf"\b{_IF_YOU} (?:\w+ ){{0,3}}?{_REVIEW_VERB}\b[^.!?]{{0,40}}?\b{_REVIEW_WORD}\b"
        rf"|\b{_IF_YOU} (?:\w+ ){{0,3}}?[\w-]*{_REVIEW_WORD} (?:\w+ ){{0,2}}?{_REVIEW_VERB}\b"
    ),
    # "every customer who reviews us", "if you rate your purchase": reviewing as a verb
    _words(
        rf"\b{_IF_YOU} (?:\w+ ){{0,2}}?(?:reviews?|reviewed|rates?|rated) (?:us|it|them|the (?:product|item|seller"
        r"|order)|our \w+|your (?:purchase|order|item))\b"
        r"|\b(?:wenn|sobald|falls|nachdem) Sie (?:\w+ ){0,2}?(?:uns|den Artikel|das Produkt|Ihren Einkauf)"
        r" (?:\w+ )?bewerte[nt]\b"
    ),
    # Separable verbs: "nehmen Sie Ihre Bewertung bitte zurück", "ziehen Sie die Rezension zurück".
    _words(rf"\b(?:nehmen|ziehen) Sie (?:bitte )?(?:doch )?{_BEWERTUNG} (?:\w+ ){{0,2}}?zurück\b"),
    _words(_REVIEW_GONE_IF),
]
# Offered beside a plain request ("a free gift: just leave a review"); a replacement or refund beside one is
# usually the service already given ("if you're happy with the replacement, please leave a review").
_GIFT = re.compile(
    r"\b(?:free (?:gifts?|samples?|products?|items?)|free|gift\w*|discount\w*|coupon\w*|voucher\w*|bonus|cashback)\b"
    r"|\bwe(?:'ll| will| would| can| shall)\s+(?:\w+\s+)?(?:send|give|offer)\b"
    r"|Gutschein\w*|\b(?:Geschenk\w*|gratis|kostenlos\w*|Rabatt\w*)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n\s*\n")


# --- the check ----------------------------------------------------------------------------------------------------


def check(text: str) -> list[Breach]:
    """Every breach in a message body, in the order they appear; [] when the message is compliant."""
    text = text or ""
    hits = _link_and_contact_hits(text)
    hits += _phrase_hits(text, _MARKETING, MARKETING)
    hits += [h for h in _phrase_hits(text, _REVIEW_REQUEST, REVIEW_REQUEST) if not _thanks_before(text, h.start)]
    hits += [h for h in _phrase_hits(text, _FEEDBACK_CHANGE, FEEDBACK_CHANGE) if not _someone_else_does(text, h)]
    hits += _incentive_hits(text, [h for h in hits if h.rule == REVIEW_REQUEST])
    return [Breach(hit.rule, text[hit.start : hit.end]) for hit in _merged(text, hits)]


def _link_and_contact_hits(text: str) -> list[_Hit]:
    emails = _emails(text)
    links = list(_links(text))
    hits = [_Hit(start, end, OFF_AMAZON_CONTACT) for start, end in emails]
    hits += [
        _Hit(start, end, EXTERNAL_LINK)
        for start, end, allowed in links
        if not allowed and not any(_overlap((start, end), email) for email in emails)
    ]
    taken = emails + [(start, end) for start, end, _ in links]
    hits += [_Hit(start, end, OFF_AMAZON_CONTACT) for start, end in _phones(text, taken)]
    phrases = _phrase_hits(_blank(text, [(start, end) for start, end, _ in links]), _OFF_AMAZON, OFF_AMAZON_CONTACT)
    return hits + [hit for hit in phrases if not _in_a_title(text, hit)]


def _in_a_title(text: str, hit: _Hit) -> bool:
    """ "your Call Me Maybe CD": every word in title case and the next one too, so a name, not a request
    ("CALL US NOW" is shouting, not a title)."""
    if re.search(r"\b(?:please|kindly|bitte)\W*$", text[max(0, hit.start - 10) : hit.start], re.IGNORECASE):
        return False
    words = text[hit.start : hit.end].split() + text[hit.end : hit.end + 40].split()[:1]
    n = len(text[hit.start : hit.end].split())
    return len(words) > n > 1 and all(w[0].isupper() and not w.isupper() for w in words[:n]) and words[n][0].isupper()


def _phrase_hits(text: str, patterns: list[re.Pattern], rule: str) -> list[_Hit]:
    return [_Hit(m.start(), m.end(), rule) for pattern in patterns for m in pattern.finditer(text) if m.group(0)]


def _thanks_before(text: str, start: int) -> bool:
    return bool(_THANKS_BEFORE.search(text[max(0, start - 40) : start]))


def _someone_else_does(text: str, hit: _Hit) -> bool:
    """Amazon removes the review, or the seller revisits the feedback: no request to the buyer."""
    before = text[max(0, hit.start - 40) : hit.start]
    if _AMAZON_DOES.search(before) or _BY_AMAZON.search(text[hit.end : hit.end + 20]):
        return True
    asks_you = re.search(r"\b(?:you|Sie)\b", text[hit.start : hit.end])
    return not asks_you and bool(_SELLER_SUBJECT.search(before[-30:]))


def _incentive_hits(text: str, requests: list[_Hit]) -> list[_Hit]:
    """A reward in the sentence of a review (or its change) makes the reward depend on it."""
    hits = []
    requests = sorted(requests, key=lambda h: h.start)
    request_starts = [h.start for h in requests]
    for start, end in _sentences(text):
        sentence = text[start:end]
        terms = [m.span() for p in _INCENTIVE_TERMS for m in p.finditer(sentence)]
        terms = [span for span in terms if not _thanks_before(sentence, span[0])]
        first, last = bisect_left(request_starts, start), bisect_left(request_starts, end)
        asked = [(h.start - start, h.end - start) for h in requests[first:last]]
        rewards = [m.span() for m in _REWARD.finditer(sentence)] if terms else []
        gifts = [m.span() for m in _GIFT.finditer(sentence)] if asked else []
        if (terms and rewards) or (asked and gifts):
            hits.append(_incentive_span(start, terms + asked, rewards + gifts))
    return hits


def _incentive_span(offset: int, terms: list[tuple[int, int]], rewards: list[tuple[int, int]]) -> _Hit:
    """The shortest stretch from a reward to a review term: for each term only the rewards that start next to
    it (found by bisection) can give it, so a sentence with thousands of both costs n log n, not n x m."""
    rewards = sorted(rewards)
    starts = [reward[0] for reward in rewards]
    pairs = []
    for term in terms:
        at = bisect_left(starts, term[0])
        pairs += [(term, reward) for reward in rewards[max(0, at - _NEIGHBOURS) : at + _NEIGHBOURS]]
    term, reward = min(pairs, key=lambda pair: max(pair[0][1], pair[1][1]) - min(pair[0][0], pair[1][0]))
    return _Hit(offset + min(term[0], reward[0]), offset + max(term[1], reward[1]), FEEDBACK_INCENTIVE)


# Rewards of the two patterns can overlap, so the closest may be a couple of places away in start order.
_NEIGHBOURS = 3


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _SENTENCE_END.finditer(text):
        yield start, match.end()
        start = match.end()
    yield start, len(text)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _merged(text: str, hits: list[_Hit]) -> list[_Hit]:
    """One hit per stretch of text and rule (hits only spaces apart are one), in the order they appear."""
    merged: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (_RULE_ORDER[h.rule], h.start, -h.end)):
        last = merged[-1] if merged else None
        if last and last.rule == hit.rule and (hit.start < last.end or not text[last.end : hit.start].strip()):
            merged[-1] = _Hit(last.start, max(last.end, hit.end), hit.rule)
        else:
            merged.append(hit)
    return sorted(merged, key=lambda h: (h.start, _RULE_ORDER[h.rule]))


# --- the seller's own words ---------------------------------------------------------------------------------------

# Where the quoted message starts: a "wrote:" line in the languages of the marketplaces ("On Mon, 5 Oct 2026,
# Buyer <…> wrote:", "Am 06.10.2026 um 11:32 schrieb …:", "Le … a écrit :", "El … escribió:", "Il giorno …
# ha scritto:", "Op … schreef …:"; mail programs wrap it over two lines), Outlook's header block (after its
# line of underscores), "-----Original Message-----" and Amazon's own notification.
_WROTE = re.compile(
    r"^[ \t]*(?:On|Am|Le|El|Il|Op)\b[^\n]*(?:\n[^\n]*)?"
    r"\b(?:wrote|schrieb|a écrit|escribió|escribio|ha scritto|schreef)\b[^\n]*:[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_OUTLOOK = re.compile(
    r"(?:^[ \t]*_{10,}[ \t]*\n(?:[ \t]*\n)*)?"
    r"^[ \t]*(?:From|Von|De|Da|Van)[ \t]*:[^\n]*\n"
    r"[ \t]*(?:Sent|Date|Gesendet|Datum|Envoyé|Date d'envoi|Enviado|Fecha|Inviato|Data|Verzonden|Datum)[ \t]*:[^\n]*",
    re.MULTILINE | re.IGNORECASE,
)
_MARKERS = (
    re.compile(
        r"^[ \t]*-{2,}[ \t]*(?:Original[ \t-]*(?:Message|Nachricht)|Ursprüngliche Nachricht|Forwarded message"
        r"|Weitergeleitete Nachricht|Message d'origine|Mensaje original|Messaggio originale"
        r"|Oorspronkelijk bericht)[ \t]*-{2,}",
        re.MULTILINE | re.IGNORECASE,
    ),
    # Amazon's "------------- Begin message -------------", as app.importers.mail's BEGIN_MARKER reads it but
    # on one line: a reply's own dashes and the words on the next line are not a marker. A marker starts only
    # at the first dash of a run.
    re.compile(r"(?<!-)-{5,}+[ \t]*+begin message[ \t]*+-{5,}", re.IGNORECASE),
)
# A real quote header names a date or an address; "Am Montag schrieb uns DHL Folgendes:" names neither and is
# the seller's own sentence, unless quoted lines ("> …") follow it.
_DATE_OR_ADDRESS = re.compile(r"\d|@")
_QUOTED_NEXT = re.compile(r"\n(?:[ \t]*\n)*[ \t]*>")


def own_words(body: str) -> str:
    """The part of a sent reply the seller wrote: quoted buyer text and Amazon's notification are left out."""
    text = (body or "").replace("\r\n", "\n")
    starts = [match.start() for pattern in _MARKERS if (match := pattern.search(text))]
    starts += [start for pattern in (_WROTE, _OUTLOOK) if (start := _quote_header(text, pattern)) is not None]
    if starts:
        text = text[: min(starts)]
    lines = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _quote_header(text: str, pattern: re.Pattern) -> int | None:
    """Where the first header of this kind that looks like a real one starts."""
    for match in pattern.finditer(text):
        if _DATE_OR_ADDRESS.search(match.group(0)) or _QUOTED_NEXT.match(text, match.end()):
            return match.start()
    return None
