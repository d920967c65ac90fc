"""Amazon's marketplaces: which one an order belongs to, and the time zone its days are counted in.

Amazon computes every figure per marketplace (docs/metrics.md, *Marketplaces*): an order's marketplace is
its `sales-channel`; feedback, returns, claims and messages take their order's; a row whose order is
unknown takes the marketplace chosen for its file (the home marketplace unless the import says otherwise).
"""

from __future__ import annotations

from storage.marketplaces import SALES_CHANNELS, canonical, sales_channel_case

__all__ = ["CODES", "DEFAULT_ZONES", "SALES_CHANNELS", "canonical", "of_sales_channel", "sales_channel_case"]

# The zone a marketplace's days are counted in unless the seller sets another (`timezone.DE`); the home
# marketplace's is the `timezone` setting, so a database from before marketplaces keeps its figures.
DEFAULT_ZONES = {
    "US": "America/Los_Angeles",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "UK": "Europe/London",
    "IE": "Europe/Dublin",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "IT": "Europe/Rome",
    "ES": "Europe/Madrid",
    "NL": "Europe/Amsterdam",
    "SE": "Europe/Stockholm",
    "PL": "Europe/Warsaw",
    "BE": "Europe/Brussels",
    "TR": "Europe/Istanbul",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "IN": "Asia/Kolkata",
    "JP": "Asia/Tokyo",
    "AU": "Australia/Sydney",
    "SG": "Asia/Singapore",
}

CODES = tuple(DEFAULT_ZONES)


def of_sales_channel(sales_channel: str | None) -> str | None:
    """The marketplace an All Orders `sales-channel` names, or None (multi-channel fulfilment, or a channel
    the monitor does not know: such an order takes the marketplace chosen for its file)."""
    if not sales_channel:
        return None
    return SALES_CHANNELS.get(sales_channel.strip().lower())
