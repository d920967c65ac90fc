"""The figures Amazon judges a seller by, recomputed as of any day (the rules are in docs/metrics.md).

`metrics_as_of` gives every figure for one day, with the records behind it; `daily_series` gives the
same figures for each of many days in one pass: every record adds itself to the days it counts on
(difference arrays), so 180 days cost little more than one.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from fractions import Fraction

from app import rules
from app.model import CHANNELS
from app.snapshot import LAGGING_DAYS, NFR_DAYS, RDR_DAYS, WINDOW_DAYS, SellerSnapshot
from app.timeutil import end_of_day

ODR_LIMIT = Fraction(1, 100)
LRR_LIMIT = Fraction(1, 10)
NFR_LIMIT = Fraction(1, 10)
RDR_LIMIT = Fraction(1, 10)
LRR_WINDOWS = (7, 30, 90)
DEFECT_KINDS = (rules.NEGATIVE_FEEDBACK, rules.A_TO_Z_CLAIM, rules.CHARGEBACK)
COMPONENT_KEYS = {
    rules.NEGATIVE_FEEDBACK: "negative_feedback",
    rules.A_TO_Z_CLAIM: "a_to_z_claims",
    rules.CHARGEBACK: "chargebacks",
}


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def status(numerator: int, denominator: int, limit: Fraction, warning: float) -> str:
    """`breach` at or over the limit, `at_risk` at or over the warning level, else `good` (exact arithmetic)."""
    if not denominator:
        return "insufficient_data"
    value = Fraction(numerator, denominator)
    if value >= limit:
        return "breach"
    if value >= Fraction(str(warning)):
        return "at_risk"
    return "good"


def headroom(defective: int, orders: int) -> int:
    """The largest k ≥ 0 with (defective + k) / orders < 1 %."""
    return max(0, (orders - 1) // 100 - defective) if orders else 0


def orders_to_recover(defective: int, orders: int) -> int:
    """Defect-free orders still needed to bring the rate under 1 % (0 when under it or when there is no rate)."""
    return max(0, 100 * defective - orders + 1) if orders else 0


def odr_window(as_of: date, lag_days: int) -> tuple[date, date]:
    end = as_of - timedelta(days=lag_days)
    return end - timedelta(days=WINDOW_DAYS - 1), end


def _days(first: date, last: date) -> int:
    return (last - first).days + 1


# --- Order Defect Rate ------------------------------------------------------------------------------------------


def order_defect_rate(snapshot: SellerSnapshot, as_of: date, lag_days: int = LAGGING_DAYS) -> dict:
    """ODR over the 60 days ending `lag_days` before `as_of` (14: Amazon's lagging window; 0: live)."""
    start, end = odr_window(as_of, lag_days)
    return odr_for_window(snapshot, as_of, start, end)


def odr_for_window(snapshot: SellerSnapshot, as_of: date, start: date, end: date) -> dict:
    """ODR of orders purchased `start`..`end` with the defects known by the end of `as_of`."""
    orders = {
        channel: sum(count for day, count in snapshot.order_counts[channel].items() if start <= day <= end)
        for channel in CHANNELS
    }
    counted = [
        event
        for event in snapshot.events
        if event.counts_on(as_of)
        and snapshot.orders[event.order_id].countable
        and start <= snapshot.orders[event.order_id].purchase_day <= end
    ]
    warning = snapshot.settings.warning_levels["odr"]
    by_channel = {
        channel: _odr_counts(
            [e for e in counted if snapshot.orders[e.order_id].channel == channel], orders[channel], warning
        )
        for channel in CHANNELS
    }
    figure = {"window_start": start.isoformat(), "window_end": end.isoformat()}
    figure.update(_odr_counts(counted, sum(orders.values()), warning))
    figure["target"] = float(ODR_LIMIT)
    figure["oldest_defect_leaves_on"] = _oldest_leaves_on(snapshot, counted, as_of, start)
    figure["by_channel"] = by_channel
    figure.update(_channel_verdict(figure["status"], by_channel))
    figure["defects"] = _defect_rows(snapshot, counted)
    figure.update(_odr_coverage(snapshot, start, end, figure["orders"]))
    return figure


def _odr_counts(counted: list[rules.DefectEvent], orders: int, warning: float) -> dict:
    defective = len({event.order_id for event in counted})
    kinds = Counter(event.kind for event in {(e.order_id, e.kind): e for e in counted}.values())
    return _odr_totals(orders, defective, {COMPONENT_KEYS[kind]: kinds.get(kind, 0) for kind in DEFECT_KINDS}, warning)


def _odr_totals(orders: int, defective: int, components: dict[str, int], warning: float) -> dict:
    return {
        "orders": orders,
        "defective_orders": defective,
        **components,
        "rate": rate(defective, orders),
        "status": status(defective, orders, ODR_LIMIT, warning),
        "headroom_defects": headroom(defective, orders),
        "orders_to_recover": orders_to_recover(defective, orders),
    }


STATUS_RANK = {"good": 0, "at_risk": 1, "breach": 2}


def worst_status(statuses) -> str:
    """The worst of `statuses` (`good` < `at_risk` < `breach`), ignoring `insufficient_data`; that when none."""
    ranked = [value for value in statuses if value in STATUS_RANK]
    return max(ranked, key=STATUS_RANK.__getitem__) if ranked else "insufficient_data"


def _channel_verdict(combined_status: str, by_channel: dict) -> dict:
    """Amazon judges FBA and FBM each against 1 %: the headline status is the worst channel's, and the
    channel it comes from is named (the closest to the line when both are good); the combined status stays
    beside it as context only."""
    judged = {channel: part for channel, part in by_channel.items() if part["orders"]}
    if not judged:
        return {"combined_status": combined_status, "worst_channel": None}
    worst = max(judged, key=lambda channel: (STATUS_RANK[judged[channel]["status"]], judged[channel]["rate"]))
    return {"status": judged[worst]["status"], "combined_status": combined_status, "worst_channel": worst}


def _oldest_leaves_on(snapshot: SellerSnapshot, counted: list, as_of: date, start: date) -> str | None:
    """The first day on which the oldest counted defective order is no longer in the window."""
    if not counted:
        return None
    oldest = min(snapshot.orders[event.order_id].purchase_day for event in counted)
    return (oldest + timedelta(days=(as_of - start).days + 1)).isoformat()


def _defect_rows(snapshot: SellerSnapshot, counted: list[rules.DefectEvent]) -> list[dict]:
    return [
        {
            "order_id": event.order_id,
            "channel": snapshot.orders[event.order_id].channel,
            "purchase_day": snapshot.orders[event.order_id].purchase_day.isoformat(),
            "kind": event.kind,
            "day": event.day.isoformat(),
        }
        for event in sorted(counted, key=lambda e: (snapshot.orders[e.order_id].purchase_day, e.order_id, e.kind))
    ]


def _odr_coverage(snapshot: SellerSnapshot, start: date, end: date, orders: int) -> dict:
    """Say when the figure rests on incomplete order data instead of presenting it as whole."""
    if orders == 0:
        return {"reason": f"no orders imported for {start.isoformat()} to {end.isoformat()}", "complete": False}
    if snapshot.first_order_day and snapshot.first_order_day > start:
        return {
            "complete": False,
            "reason": f"orders imported only from {snapshot.first_order_day.isoformat()}; "
            f"the window starts {start.isoformat()}",
        }
    return {"complete": True}


# --- Late Response Rate -----------------------------------------------------------------------------------------


def late_response_rate(
    snapshot: SellerSnapshot, as_of: date, window_days: int = 30, received: list[date] | None = None
) -> dict:
    """LRR over the `window_days` ending `as_of`; `received`: each contact's local day, when known already."""
    zone = snapshot.zone
    start = as_of - timedelta(days=window_days - 1)
    instant = end_of_day(as_of, zone)
    tally: Counter = Counter()
    if received is None:
        received = received_days(snapshot)
    for contact, day in zip(snapshot.contacts, received, strict=True):
        if not start <= day <= as_of:
            continue
        if contact.excluded:
            tally["excluded_csba"] += 1
            continue
        state = contact.status_at(instant)
        tally[state or "excluded_no_response_needed"] += 1
    late, on_time = tally["late"], tally["on_time"]
    figure = {
        "window_start": start.isoformat(),
        "window_end": as_of.isoformat(),
        "window_days": window_days,
        "late": late,
        "on_time": on_time,
        "pending": tally["pending"],
        "excluded_csba": tally["excluded_csba"],
        "excluded_no_response_needed": tally["excluded_no_response_needed"],
        "rate": rate(late, late + on_time),
        "status": status(late, late + on_time, LRR_LIMIT, snapshot.settings.warning_levels["lrr"]),
        "target": float(LRR_LIMIT),
    }
    if not late + on_time:
        figure["reason"] = "no buyer message in the window has been answered or gone 24 h unanswered"
    return figure


# --- Negative Feedback Rate -------------------------------------------------------------------------------------


def negative_feedback_rate(snapshot: SellerSnapshot, as_of: date) -> dict:
    start = as_of - timedelta(days=NFR_DAYS - 1)
    visible = [f for f in snapshot.feedback if start <= f.day <= as_of and _visible_on(f, as_of)]
    ratings, negative, positive = len(visible), sum(1 for f in visible if f.negative), any(f.positive for f in visible)
    for day, (count, negatives, positives) in snapshot.feedback_counts.items():
        if start <= day <= as_of:  # on the record from its own day on
            ratings, negative, positive = ratings + count, negative + negatives, positive or positives > 0
    figure = {
        "window_start": start.isoformat(),
        "window_end": as_of.isoformat(),
        "feedback": ratings,
        "negative": negative,
        "rate": rate(negative, ratings),
        "status": status(negative, ratings, NFR_LIMIT, snapshot.settings.warning_levels["nfr"]),
        # Amazon's feedback report lists only 1-3 stars: without a 4-5 star rating the rate is an upper bound.
        "ratings_complete": positive,
        "target": float(NFR_LIMIT),
    }
    figure["complete"] = figure["ratings_complete"]
    if not ratings:
        figure["reason"] = "no feedback received in the window"
    elif not figure["complete"]:
        figure["reason"] = (
            "no 4-5 star feedback in the window: Amazon's feedback report lists only 1-3 stars, so this is an "
            "upper bound; import Feedback Manager's download of all ratings for the exact figure"
        )
    return figure


def _visible_on(feedback, as_of: date) -> bool:
    start, until, _ = rules.visible_interval(feedback)
    return start is not None and start <= as_of and (until is None or as_of < until)


# --- Return Dissatisfaction Rate --------------------------------------------------------------------------------


def return_dissatisfaction_rate(snapshot: SellerSnapshot, as_of: date) -> dict:
    start = as_of - timedelta(days=RDR_DAYS - 1)
    in_window = [r for r in snapshot.returns if start <= r.request.request_day <= as_of]
    dissatisfied = [r for r in in_window if r.dissatisfied_from is not None and r.dissatisfied_from <= as_of]
    figure = {
        "window_start": start.isoformat(),
        "window_end": as_of.isoformat(),
        "returns": len(in_window),
        "dissatisfied": len(dissatisfied),
        "rate": rate(len(dissatisfied), len(in_window)),
        "status": status(len(dissatisfied), len(in_window), RDR_LIMIT, snapshot.settings.warning_levels["rdr"]),
        "target": float(RDR_LIMIT),
        "dissatisfied_requests": [
            {"order_id": r.request.order_id, "return_id": r.request.return_id, "reason": r.reason} for r in dissatisfied
        ],
    }
    if not in_window:
        figure["reason"] = "no seller-fulfilled return request in the window"
    return figure


# --- Everything as of one day -----------------------------------------------------------------------------------


def received_days(snapshot: SellerSnapshot) -> list[date]:
    """The local day each of the snapshot's contacts was received on."""
    day_of = snapshot.local_days()
    return [day_of(contact.received_at) for contact in snapshot.contacts]


def metrics_as_of(snapshot: SellerSnapshot, as_of: date) -> dict:
    received = received_days(snapshot)
    lrr = late_response_rate(snapshot, as_of, 30, received)
    lrr["other_windows"] = {
        str(days): _summary(late_response_rate(snapshot, as_of, days, received)) for days in LRR_WINDOWS if days != 30
    }
    figures = {
        "order_defect_rate": order_defect_rate(snapshot, as_of, LAGGING_DAYS),
        "live_order_defect_rate": order_defect_rate(snapshot, as_of, 0),
        "late_response_rate": lrr,
        "negative_feedback_rate": negative_feedback_rate(snapshot, as_of),
        "return_dissatisfaction_rate": return_dissatisfaction_rate(snapshot, as_of),
    }
    orders_end = snapshot.data_through.get("orders")
    for figure in figures.values():
        _mark_past_the_orders(figure, orders_end)
    return {
        "as_of": as_of.isoformat(),
        "timezone": snapshot.settings.timezone,
        "data_through": {source: day.isoformat() if day else None for source, day in snapshot.data_through.items()},
        **figures,
        "unmatched_defects": [
            {"order_id": e.order_id, "kind": e.kind, "day": e.day.isoformat()}
            for e in snapshot.orphan_events
            if e.counts_on(as_of)
        ],
    }


def _mark_past_the_orders(figure: dict, orders_end: date | None) -> None:
    """A figure whose window runs past the last day of the imported orders is not whole: say so, naming that
    day, rather than show a calm number over days with no data (reports two weeks old, opened today)."""
    if orders_end is None or date.fromisoformat(figure["window_end"]) <= orders_end:
        figure.setdefault("complete", True)
        return
    reason = (
        f"the imported orders end {orders_end.isoformat()} and the window runs to {figure['window_end']}: "
        "import a newer All Orders report"
    )
    earlier = figure.get("reason")
    figure["complete"] = False
    figure["reason"] = f"{earlier}; {reason}" if earlier else reason


def _summary(figure: dict) -> dict:
    keys = ("window_start", "window_end", "late", "on_time", "pending", "rate", "status")
    return {key: figure[key] for key in keys}


# --- Several marketplaces ----------------------------------------------------------------------------------------
# Amazon computes every figure per marketplace and can suspend a seller for one marketplace's figure. Each
# marketplace's figures are counted in its own days; the seller's figure over all of them adds up their
# counts, and its status is the worst of theirs: a breach in one marketplace never hides behind a calm total.

FIGURE_KEYS = (
    "order_defect_rate",
    "live_order_defect_rate",
    "late_response_rate",
    "negative_feedback_rate",
    "return_dissatisfaction_rate",
)
LRR_COUNTS = ("late", "on_time", "pending", "excluded_csba", "excluded_no_response_needed")


def marketplace_block(figures: dict) -> dict:
    """One marketplace's figures, as `metrics --json` lists them under `marketplaces`."""
    return {"timezone": figures["timezone"], **{key: figures[key] for key in FIGURE_KEYS}}


def over_marketplaces(parts: dict[str, dict], settings) -> dict:
    """The seller's figures from each marketplace's (`metrics_as_of` of each, by code): counts summed, rates
    from the sums, each status the worst of the marketplaces'."""
    blocks = {code: marketplace_block(figures) for code, figures in parts.items()}
    warning = settings.warning_levels
    first = next(iter(parts.values()))
    return {
        "as_of": first["as_of"],
        "timezone": settings.timezone,
        "order_defect_rate": _odr_over(_each(blocks, "order_defect_rate"), warning["odr"]),
        "live_order_defect_rate": _odr_over(_each(blocks, "live_order_defect_rate"), warning["odr"]),
        # Only the ODR's combined channels are judged afresh; every other status is the worst marketplace's.
        "late_response_rate": _lrr_over(_each(blocks, "late_response_rate")),
        "negative_feedback_rate": _nfr_over(_each(blocks, "negative_feedback_rate")),
        "return_dissatisfaction_rate": _rdr_over(_each(blocks, "return_dissatisfaction_rate")),
        "unmatched_defects": [row for figures in parts.values() for row in figures["unmatched_defects"]],
        "marketplaces": blocks,
    }


def _each(blocks: dict[str, dict], key: str) -> dict[str, dict]:
    return {code: block[key] for code, block in blocks.items()}


def _total(figures: dict[str, dict], key: str) -> int:
    return sum(figure[key] for figure in figures.values())


def _worst(figures: dict[str, dict]) -> dict:
    """The headline status (the worst marketplace's) and the marketplace it comes from (the closest to its
    line when all are good)."""
    judged = {code: f for code, f in figures.items() if f["status"] in STATUS_RANK}
    if not judged:
        return {"status": "insufficient_data", "worst_marketplace": None}
    worst = max(judged, key=lambda code: (STATUS_RANK[judged[code]["status"]], judged[code]["rate"] or 0))
    return {"status": judged[worst]["status"], "worst_marketplace": worst}


def _window_and_coverage(figures: dict[str, dict]) -> tuple[dict, dict]:
    """The window (the same days in every marketplace) and whether every marketplace's figure is whole."""
    first = next(iter(figures.values()))
    window = {"window_start": first["window_start"], "window_end": first["window_end"]}
    missing = {code: f.get("reason") for code, f in figures.items() if not f.get("complete", True)}
    if not missing:
        return window, {"complete": True}
    reasons = set(missing.values())
    if len(reasons) == 1 and len(missing) == len(figures):
        return window, {"complete": False, "reason": reasons.pop()}
    return window, {"complete": False, "reason": "; ".join(f"{code}: {reason}" for code, reason in missing.items())}


def _odr_over(figures: dict[str, dict], warning: float) -> dict:
    window, coverage = _window_and_coverage(figures)
    components = {key: _total(figures, key) for key in COMPONENT_KEYS.values()}
    figure = {
        **window,
        **_odr_totals(_total(figures, "orders"), _total(figures, "defective_orders"), components, warning),
    }
    figure["target"] = float(ODR_LIMIT)
    leaves = [f["oldest_defect_leaves_on"] for f in figures.values() if f["oldest_defect_leaves_on"]]
    figure["oldest_defect_leaves_on"] = min(leaves, default=None)
    by_channel = {
        channel: _odr_totals(
            _total(_each_channel(figures, channel), "orders"),
            _total(_each_channel(figures, channel), "defective_orders"),
            {key: _total(_each_channel(figures, channel), key) for key in COMPONENT_KEYS.values()},
            warning,
        )
        for channel in CHANNELS
    }
    figure["by_channel"] = by_channel
    figure.update(_channel_verdict(figure["status"], by_channel))
    worst = _worst(figures)
    figure["status"] = worst_status([figure["status"], worst["status"]])
    figure["worst_marketplace"] = worst["worst_marketplace"]
    figure["defects"] = [{**row, "marketplace": code} for code, f in figures.items() for row in f["defects"]]
    figure.update(coverage)
    return figure


def _each_channel(figures: dict[str, dict], channel: str) -> dict[str, dict]:
    return {code: figure["by_channel"][channel] for code, figure in figures.items()}


def _lrr_over(figures: dict[str, dict]) -> dict:
    window, coverage = _window_and_coverage(figures)
    first = next(iter(figures.values()))
    figure = {**window, "window_days": first["window_days"], **{key: _total(figures, key) for key in LRR_COUNTS}}
    answered = figure["late"] + figure["on_time"]
    figure["rate"] = rate(figure["late"], answered)
    figure.update(_worst(figures))
    figure["target"] = float(LRR_LIMIT)
    if not answered:
        figure["reason"] = first.get("reason")
    figure["other_windows"] = {
        days: _lrr_window_over({code: f["other_windows"][days] for code, f in figures.items()})
        for days in first["other_windows"]
    }
    figure.update(coverage)
    return figure


def _lrr_window_over(figures: dict[str, dict]) -> dict:
    first = next(iter(figures.values()))
    late, on_time = _total(figures, "late"), _total(figures, "on_time")
    return {
        "window_start": first["window_start"],
        "window_end": first["window_end"],
        "late": late,
        "on_time": on_time,
        "pending": _total(figures, "pending"),
        "rate": rate(late, late + on_time),
        "status": _worst(figures)["status"],
    }


def _nfr_over(figures: dict[str, dict]) -> dict:
    window, coverage = _window_and_coverage(figures)
    total, negative = _total(figures, "feedback"), _total(figures, "negative")
    figure = {**window, "feedback": total, "negative": negative, "rate": rate(negative, total)}
    figure.update(_worst(figures))
    # One marketplace's upper bound makes the sum an upper bound too.
    figure["ratings_complete"] = all(f["ratings_complete"] for f in figures.values() if f["feedback"])
    figure["target"] = float(NFR_LIMIT)
    figure.update(coverage)
    return figure


def _rdr_over(figures: dict[str, dict]) -> dict:
    window, coverage = _window_and_coverage(figures)
    total, dissatisfied = _total(figures, "returns"), _total(figures, "dissatisfied")
    figure = {**window, "returns": total, "dissatisfied": dissatisfied, "rate": rate(dissatisfied, total)}
    figure.update(_worst(figures))
    figure["target"] = float(RDR_LIMIT)
    figure["dissatisfied_requests"] = [
        {**row, "marketplace": code} for code, f in figures.items() for row in f["dissatisfied_requests"]
    ]
    figure.update(coverage)
    return figure


# --- Daily series -----------------------------------------------------------------------------------------------


class DayCounter:
    """Counts per day over `first`..`last`, added interval by interval (a difference array)."""

    def __init__(self, first: date, last: date):
        self.first = first
        self.size = _days(first, last)
        self._diff = [0] * (self.size + 1)

    def add(self, start: date | None, end: date | None, amount: int = 1) -> None:
        """Add `amount` on every day in [start, end] (None: open on that side), clipped to the range."""
        low = 0 if start is None else max(0, (start - self.first).days)
        high = self.size - 1 if end is None else min(self.size - 1, (end - self.first).days)
        if low <= high:
            self._diff[low] += amount
            self._diff[high + 1] -= amount

    def values(self) -> list[int]:
        total, result = 0, []
        for step in self._diff[:-1]:
            total += step
            result.append(total)
        return result


def daily_series(snapshot: SellerSnapshot, first: date, last: date) -> list[dict]:
    """Every figure for each day `first`..`last` (a subset of the snapshot's range), in one pass."""
    days = [first + timedelta(days=n) for n in range(_days(first, last))]
    lagging = _odr_series(snapshot, first, last, LAGGING_DAYS)
    live = _odr_series(snapshot, first, last, 0)
    lrr = _lrr_series(snapshot, first, last)
    nfr = _nfr_series(snapshot, first, last)
    rdr = _rdr_series(snapshot, first, last)
    return [
        {
            "day": day.isoformat(),
            **{key: values[index] for key, values in lagging.items()},
            **{f"live_{key}": values[index] for key, values in live.items()},
            **{key: values[index] for key, values in lrr.items()},
            **{key: values[index] for key, values in nfr.items()},
            **{key: values[index] for key, values in rdr.items()},
        }
        for index, day in enumerate(days)
    ]


def with_lrr_series(
    series: list[dict], snapshot: SellerSnapshot, removed: list, added: list, first: date, last: date
) -> list[dict]:
    """`daily_series` of `snapshot`, whose contacts `removed` (drawn in `series`) were replaced by `added`
    and nothing else changed: each day's late and on-time counts moved by those contacts alone."""
    late, on_time = DayCounter(first, last), DayCounter(first, last)
    day_of = snapshot.local_days()
    for contacts, sign in ((removed, -1), (added, 1)):
        for contact in contacts:
            _count_contact(contact, day_of(contact.received_at), snapshot.zone, late, on_time, sign)
    points = []
    for point, more_late, more_on_time in zip(series, late.values(), on_time.values(), strict=True):
        late_count, on_time_count = point["lrr_late"] + more_late, point["lrr_on_time"] + more_on_time
        lrr = rate(late_count, late_count + on_time_count)
        points.append(point | {"lrr": lrr, "lrr_late": late_count, "lrr_on_time": on_time_count})
    return points


def with_order_counts(series: list[dict], snapshot: SellerSnapshot, first: date, last: date) -> list[dict]:
    """`daily_series` of `snapshot`, whose order counts changed and nothing else (no defect, no order a defect
    is on): each day's orders in its lagging and live windows counted again, its defective orders as drawn."""
    windows = {
        prefix: {
            channel: _window_sums(snapshot.order_counts[channel], first, last, lag, lag + WINDOW_DAYS - 1)
            for channel in CHANNELS
        }
        for prefix, lag in (("", LAGGING_DAYS), ("live_", 0))
    }
    points = []
    for index, point in enumerate(series):
        point = dict(point)
        for prefix, orders in windows.items():
            total = 0
            for channel in CHANNELS:
                count, name = orders[channel][index], channel.lower()
                total += count
                point[f"{prefix}orders_{name}"] = count
                point[f"{prefix}odr_{name}"] = rate(point[f"{prefix}defective_orders_{name}"], count)
            point[f"{prefix}orders"] = total
            point[f"{prefix}odr"] = rate(point[f"{prefix}defective_orders"], total)
        points.append(point)
    return points


def _odr_series(snapshot: SellerSnapshot, first: date, last: date, lag: int) -> dict[str, list]:
    """Per day: orders, defective orders and components in that day's window, per channel and in all."""
    reach = lag + WINDOW_DAYS - 1
    orders = {channel: _window_sums(snapshot.order_counts[channel], first, last, lag, reach) for channel in CHANNELS}
    defective = {channel: DayCounter(first, last) for channel in CHANNELS}
    components = {kind: DayCounter(first, last) for kind in DEFECT_KINDS}
    events_by_order: dict[str, list[rules.DefectEvent]] = {}
    for event in snapshot.events:
        if snapshot.orders[event.order_id].countable and event.counts_from is not None:
            events_by_order.setdefault(event.order_id, []).append(event)
    for order_id, events in events_by_order.items():
        order = snapshot.orders[order_id]
        in_window = (order.purchase_day + timedelta(days=lag), order.purchase_day + timedelta(days=reach))
        for start, end in _union([_event_days(e) for e in events]):
            defective[order.channel].add(*_clip((start, end), in_window))
        for event in {e.kind: e for e in events}.values():
            components[event.kind].add(*_clip(_event_days(event), in_window))
    series = {}
    totals = [a + b for a, b in zip(*(orders[c] for c in CHANNELS), strict=True)]
    bad = {channel: defective[channel].values() for channel in CHANNELS}
    bad_total = [a + b for a, b in zip(*(bad[c] for c in CHANNELS), strict=True)]
    series["odr"] = [rate(d, n) for d, n in zip(bad_total, totals, strict=True)]
    for channel in CHANNELS:
        series[f"odr_{channel.lower()}"] = [rate(d, n) for d, n in zip(bad[channel], orders[channel], strict=True)]
        # The counts behind each channel's rate, so marketplaces' days can be added up (`combine_series`).
        series[f"orders_{channel.lower()}"] = orders[channel]
        series[f"defective_orders_{channel.lower()}"] = bad[channel]
    series["orders"] = totals
    series["defective_orders"] = bad_total
    for kind in DEFECT_KINDS:
        series[COMPONENT_KEYS[kind]] = components[kind].values()
    return series


def _event_days(event: rules.DefectEvent) -> tuple[date, date | None]:
    """The `as_of` days an event counts on, as an inclusive [start, end] (end None: open)."""
    end = event.counts_until - timedelta(days=1) if event.counts_until else None
    return event.counts_from, end


def _clip(days: tuple[date, date | None], window: tuple[date, date]) -> tuple[date, date]:
    start, end = days
    return max(start, window[0]), window[1] if end is None else min(end, window[1])


def _union(intervals: list[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """Merge overlapping or touching day intervals (an order with several defects counts once)."""
    merged: list[tuple[date, date | None]] = []
    for start, end in sorted(intervals, key=lambda pair: pair[0]):
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None or start <= last_end + timedelta(days=1):
                merged[-1] = (last_start, None if last_end is None or end is None else max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def _window_sums(counts: dict[date, int], first: date, last: date, lag: int, reach: int) -> list[int]:
    """For each day d, the sum of counts over [d - reach, d - lag] (prefix sums)."""
    origin = first - timedelta(days=reach)
    prefix = [0]
    for offset in range(_days(origin, last)):
        prefix.append(prefix[-1] + counts.get(origin + timedelta(days=offset), 0))
    result = []
    for index in range(_days(first, last)):
        high = index + reach - lag + 1  # prefix index after day (first + index - lag)
        result.append(prefix[high] - prefix[index])
    return result


def _lrr_series(snapshot: SellerSnapshot, first: date, last: date) -> dict[str, list]:
    late, on_time = DayCounter(first, last), DayCounter(first, last)
    zone = snapshot.zone
    for contact, received in zip(snapshot.contacts, received_days(snapshot), strict=True):
        _count_contact(contact, received, zone, late, on_time)
    late_values, on_time_values = late.values(), on_time.values()
    return {
        "lrr": [rate(a, a + b) for a, b in zip(late_values, on_time_values, strict=True)],
        "lrr_late": late_values,
        "lrr_on_time": on_time_values,
    }


def _count_contact(
    contact: rules.Contact, received: date, zone, late: DayCounter, on_time: DayCounter, amount: int = 1
) -> None:
    """Count a contact on the days its final status is in the 30-day LRR window of (`amount` -1: take it out)."""
    resolution = contact.resolution(zone)
    if resolution is not None:
        final, from_day = resolution
        counter = late if final == "late" else on_time
        counter.add(max(received, from_day), received + timedelta(days=29), amount)


def _nfr_series(snapshot: SellerSnapshot, first: date, last: date) -> dict[str, list]:
    total, negative, positive = (DayCounter(first, last) for _ in range(3))
    # DayCounter.add, inlined: a call per feedback and counter is most of the cost of this loop.
    size = total.size
    totals, negatives, positives = total._diff, negative._diff, positive._diff
    window = timedelta(days=NFR_DAYS - 1)
    for feedback in snapshot.feedback:
        start, until, _ = rules.visible_interval(feedback)
        if start is None:
            continue
        end = feedback.day + window
        if until is not None:
            end = min(end, until - timedelta(days=1))
        low = max(0, (start - first).days)
        high = min(size - 1, (end - first).days)
        if low > high:
            continue
        totals[low] += 1
        totals[high + 1] -= 1
        if feedback.negative:
            negatives[low] += 1
            negatives[high + 1] -= 1
        elif feedback.positive:
            positives[low] += 1
            positives[high + 1] -= 1
    for day, (count, negative_count, positive_count) in snapshot.feedback_counts.items():
        low = max(0, (day - first).days)  # on the record from its own day on, for the window's 90 days
        high = min(size - 1, (day + window - first).days)
        if low > high:
            continue
        for counter, number in ((totals, count), (negatives, negative_count), (positives, positive_count)):
            counter[low] += number
            counter[high + 1] -= number
    total_values, negative_values = total.values(), negative.values()
    return {
        "nfr": [rate(n, t) for n, t in zip(negative_values, total_values, strict=True)],
        "nfr_ratings_complete": [count > 0 for count in positive.values()],
        "nfr_ratings": total_values,
        "nfr_negative": negative_values,
    }


def _rdr_series(snapshot: SellerSnapshot, first: date, last: date) -> dict[str, list]:
    total, dissatisfied = DayCounter(first, last), DayCounter(first, last)
    for outcome in snapshot.returns:
        day = outcome.request.request_day
        end = day + timedelta(days=RDR_DAYS - 1)
        total.add(day, end)
        if outcome.dissatisfied_from is not None:
            dissatisfied.add(max(day, outcome.dissatisfied_from), end)
    totals, bad = total.values(), dissatisfied.values()
    return {
        "rdr": [rate(d, t) for d, t in zip(bad, totals, strict=True)],
        "rdr_returns": totals,
        "rdr_dissatisfied": bad,
    }


# Each rate of a daily point and the counts it is made of, for adding marketplaces' days together.
SERIES_RATES = {
    **{
        f"{prefix}odr{suffix}": (f"{prefix}defective_orders{suffix}", f"{prefix}orders{suffix}")
        for prefix in ("", "live_")
        for suffix in ("", *(f"_{channel.lower()}" for channel in CHANNELS))
    },
    "lrr": ("lrr_late", None),
    "nfr": ("nfr_negative", "nfr_ratings"),
    "rdr": ("rdr_dissatisfied", "rdr_returns"),
}


def combine_series(parts: dict[str, list[dict]]) -> list[dict]:
    """All marketplaces' daily points together, as the cards add them up: for each day, every count summed
    (each marketplace's counted in its own days), every rate made again from the sums."""
    lists = list(parts.values())
    combined = []
    for points in zip(*lists, strict=True):
        point = {"day": points[0]["day"]}
        for key, value in points[0].items():
            if key != "day" and key not in SERIES_RATES and isinstance(value, int) and not isinstance(value, bool):
                point[key] = sum(p[key] for p in points)
        point["nfr_ratings_complete"] = any(p["nfr_ratings_complete"] for p in points)
        for key, (numerator, denominator) in SERIES_RATES.items():
            total = point["lrr_late"] + point["lrr_on_time"] if denominator is None else point[denominator]
            point[key] = rate(point[numerator], total)
        combined.append(point)
    return combined
