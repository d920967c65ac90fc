"""The figures in plain words: one sentence per metric for the dashboard cards, and the text summary of
`main.py metrics`."""

from __future__ import annotations

from datetime import date

STATUS_WORDS = {"good": "good", "at_risk": "at risk", "breach": "over the limit", "insufficient_data": "no data"}
METRIC_NAMES = {
    "order_defect_rate": "Order Defect Rate",
    "live_order_defect_rate": "Live ODR",
    "late_response_rate": "Late Response Rate",
    "negative_feedback_rate": "Negative Feedback Rate",
    "return_dissatisfaction_rate": "Return Dissatisfaction Rate",
}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f} %"


def headline_rate(figure: dict) -> str:
    """The rate a figure is judged by: for ODR the worst channel's, named ("FBM 1.37 %"), else its own."""
    channel = figure.get("worst_channel")
    if channel:
        return f"{channel} {percent(figure['by_channel'][channel]['rate'])}"
    return percent(figure["rate"])


def short_day(text: str | None) -> str:
    if not text:
        return ""
    day = date.fromisoformat(text)
    return f"{day.day} {day.strftime('%b')}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def odr_sentence(figure: dict) -> str:
    """What the seller most needs to know about an ODR figure, in one sentence: about the channel Amazon
    would judge worst (FBA and FBM are each held to 1 %), not the calmer combined rate."""
    if figure["status"] == "insufficient_data":
        return f"No figure: {figure.get('reason', 'no orders in the window')}."
    channel = figure.get("worst_channel")
    part = figure["by_channel"][channel] if channel else figure
    marketplace = figure.get("worst_marketplace")
    if marketplace and part.get("status") != figure["status"]:
        # The verdict comes from one marketplace, judged on its own, not from the channels over all of them.
        return (
            f"{marketplace} on its own is {STATUS_WORDS[figure['status']]}: Amazon judges each marketplace; "
            f"all your marketplaces together are {STATUS_WORDS[part['status']]}."
        )
    leaves = figure.get("oldest_defect_leaves_on")
    tail = f"; the oldest defect leaves the window on {short_day(leaves)}" if leaves else ""
    if figure["status"] == "breach":
        more = plural(part["orders_to_recover"], f"more defect-free {channel} order")
        return f"{channel} is over 1 %: {more} would bring it back under{tail}."
    room = part["headroom_defects"]
    if room:
        return f"{plural(room + 1, f'more defective {channel} order')} would put {channel} over 1 %{tail}."
    return f"One more defective {channel} order would put {channel} over 1 %{tail}."


def lrr_sentence(figure: dict) -> str:
    if figure["status"] == "insufficient_data":
        return f"No figure: {figure.get('reason', 'no answered messages')}."
    pending = f"; {plural(figure['pending'], 'message')} still inside the 24 h" if figure["pending"] else ""
    return f"{figure['late']} late of {figure['late'] + figure['on_time']} answered or overdue{pending}."


def nfr_sentence(figure: dict) -> str:
    if figure["status"] == "insufficient_data":
        return f"No figure: {figure.get('reason', 'no feedback')}."
    bound = " (an upper bound: no 4–5 star feedback imported)" if not figure["ratings_complete"] else ""
    return f"{figure['negative']} negative of {figure['feedback']} ratings in 90 days{bound}."


def rdr_sentence(figure: dict) -> str:
    if figure["status"] == "insufficient_data":
        return f"No figure: {figure.get('reason', 'no return requests')}."
    return f"{figure['dissatisfied']} of {figure['returns']} return requests left the buyer dissatisfied."


SENTENCES = {
    "order_defect_rate": odr_sentence,
    "live_order_defect_rate": odr_sentence,
    "late_response_rate": lrr_sentence,
    "negative_feedback_rate": nfr_sentence,
    "return_dissatisfaction_rate": rdr_sentence,
}


def text_summary(metrics: dict) -> str:
    """`main.py metrics` without --json."""
    lines = [f"As of the end of {metrics['as_of']} ({metrics['timezone']})", ""]
    marketplaces = metrics.get("marketplaces") or {}
    several = len(marketplaces) > 1
    for key, name in METRIC_NAMES.items():
        figure = metrics[key]
        # Amazon judges each marketplace on its own: the headline speaks of the worst one, not the total.
        worst = figure.get("worst_marketplace") if several else None
        shown, prefix = (marketplaces[worst][key], f"{worst} ") if worst else (figure, "")
        window = f"{short_day(figure['window_start'])} – {short_day(figure['window_end'])}"
        headline = prefix + headline_rate(shown)
        lines.append(f"{name:<28} {headline:>13}  {STATUS_WORDS[figure['status']]:<15} {window}")
        lines.append(f"{'':<28} {prefix.strip() + ': ' if prefix else ''}{SENTENCES[key](shown)}")
        if several:
            each = "   ".join(
                f"{code} {headline_rate(block[key])} ({STATUS_WORDS[block[key]['status']]})"
                for code, block in marketplaces.items()
            )
            lines.append(f"{'':<28} Each marketplace: {each}")
        if key.endswith("order_defect_rate"):
            lines.append(
                f"{'':<28} Amazon judges each channel on its own; all orders together: "
                f"{percent(figure['rate'])} ({STATUS_WORDS[figure['combined_status']]})"
            )
            channels = "   ".join(
                f"{channel} {percent(part['rate'])} ({part['defective_orders']}/{part['orders']})"
                for channel, part in figure["by_channel"].items()
            )
            lines.append(
                f"{'':<28} {channels}; negative feedback {figure['negative_feedback']}, "
                f"A-to-z claims {figure['a_to_z_claims']}, chargebacks {figure['chargebacks']}"
            )
    reconciliation = metrics.get("reconciliation")
    if reconciliation:
        from app.reconcile import verdict  # here: app.reconcile words its differences with this module

        lines.append("")
        lines.append(verdict(reconciliation))
        for channel in reconciliation["channels"]:
            for difference in channel["differences"]:
                lines.append(f"  {channel['channel']} {difference['figure']}: {difference['explanation']}")
    return "\n".join(lines)
