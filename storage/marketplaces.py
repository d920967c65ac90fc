"""Which marketplace an order's sales channel names: the table the importer and the schema migration share."""

from __future__ import annotations

# The All Orders report's `sales-channel`, by marketplace code (formats.md).
SALES_CHANNELS = {
    "amazon.com": "US",
    "amazon.ca": "CA",
    "amazon.com.mx": "MX",
    "amazon.com.br": "BR",
    "amazon.co.uk": "UK",
    "amazon.ie": "IE",
    "amazon.de": "DE",
    "amazon.fr": "FR",
    "amazon.it": "IT",
    "amazon.es": "ES",
    "amazon.nl": "NL",
    "amazon.se": "SE",
    "amazon.pl": "PL",
    "amazon.com.be": "BE",
    "amazon.com.tr": "TR",
    "amazon.ae": "AE",
    "amazon.sa": "SA",
    "amazon.in": "IN",
    "amazon.co.jp": "JP",
    "amazon.com.au": "AU",
    "amazon.sg": "SG",
}

# Amazon's own code for the UK marketplace is GB in some places; the monitor says UK.
ALIASES = {"GB": "UK"}


def canonical(code: str) -> str:
    upper = code.strip().upper()
    return ALIASES.get(upper, upper)


def sales_channel_case(column: str) -> str:
    """SQL giving the marketplace code of a `sales-channel` column (NULL when it names none)."""
    cases = " ".join(f"WHEN '{channel}' THEN '{code}'" for channel, code in SALES_CHANNELS.items())
    return f"CASE lower(trim({column})) {cases} END"
