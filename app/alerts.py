"""Alerts: what to tell the seller and when (pure), and a record of what was told, so it is told once.

Three things alert:

- a clock reaching one of the seller's thresholds (6 h and 2 h before its deadline by default) or its
  deadline (`clock_alerts`);
- a metric's status changing, e.g. ODR from at risk to over the limit (`status_alerts`);
- a new defect: negative feedback, an A-to-z claim or a chargeback (`defect_alerts`).

Deciding is pure: the candidates are computed from clocks, figures and an injected instant, and the
same inputs always give the same alerts with the same keys. Delivering is an `AlertSink` (the tray, an
in-window banner, `RecordingSink` in tests). `deliver_new` hands the sink only the candidates whose key
is not in the `alerts` table yet and records them there, so a restart, a resume from sleep or the next
scheduler run repeats nothing. A scheduler run looks like::

    alerts = clock_alerts(clocks, at, settings.alert_thresholds_hours, zone=settings.zone)
    deliver_new(db, sink, alerts, at, paused_until)
    alert_status_changes(db, sink, figures, as_of, at, paused_until)

and an import does::

    known, latest = known_defects(db), latest_data_day(db)
    ...import...
    deliver_new(db, sink, import_alerts(new_defects(db, known), latest), at, paused_until)

(a defect dated after `latest` alerts on its own; imported history is one summary at most).

Why a lookback and not "everything crossed since the last run": a clock that crossed its thresholds long
before the app first saw it (history just imported, the first start) must not flood the seller, while a
laptop that slept through a crossing should still say so when it wakes. One day covers a night's sleep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlite_utils

from app import rules
from app.clocks import (
    A_TO_Z_RESPONSE,
    BUYER_REPLY,
    CHARGEBACK_RESPONSE,
    CLOSES_WHEN_DUE,
    CSBA_INQUIRY,
    FEEDBACK_REMOVAL,
    KIND_LABELS,
    RETURN_RESPONSE,
    Clock,
)
from app.summary import METRIC_NAMES, percent, short_day
from app.timeutil import DAY_S, HOUR_S
from storage import alerts as store

CLOCK, STATUS, DEFECT = "clock", "status", "defect"
INFO, WARNING, CRITICAL = "info", "warning", "critical"
OVERDUE = "overdue"
MESSAGES_VIEW, DASHBOARD_VIEW, TRIAGE_VIEW = "messages", "dashboard", "triage"
# A new defect opens its item in the triage view (the keys `app.triage` gives its items).
_TRIAGE_KEYS = {
    rules.NEGATIVE_FEEDBACK: "feedback:{order_id}",
    rules.A_TO_Z_CLAIM: "claim:{order_id}:a-to-z",
    rules.CHARGEBACK: "claim:{order_id}:chargeback",
}

# A threshold alert that fires this late after its crossing (the app was closed or the laptop asleep)
# says how much time is really left instead of the threshold: "6 h left" with 3 h left would mislead.
NOMINAL_SLACK_S = 15 * 60

# The seller's words where the generic clock label reads badly; other kinds fall back on KIND_LABELS.
_TASKS = {BUYER_REPLY: "reply to a buyer"}
_ACTIONS = {BUYER_REPLY: "Reply", CSBA_INQUIRY: "Reply"}
_OVERDUE_TITLES = {
    BUYER_REPLY: "Buyer message overdue",
    CSBA_INQUIRY: "Customer Service by Amazon inquiry overdue",
    RETURN_RESPONSE: "Return request response overdue",
    A_TO_Z_RESPONSE: "A-to-z claim response overdue",
    CHARGEBACK_RESPONSE: "Chargeback response overdue",
}

_STATUS_WORDS = {"good": "good", "at_risk": "at risk", "breach": "over the limit", "insufficient_data": "no figure"}
_WAS_WORDS = _STATUS_WORDS | {"insufficient_data": "without a figure"}

_DEFECT_SOURCES = {"feedback": rules.NEGATIVE_FEEDBACK, "a-to-z": rules.A_TO_Z_CLAIM, "chargeback": rules.CHARGEBACK}
_DEFECT_TITLES = {
    rules.NEGATIVE_FEEDBACK: "New negative feedback on order {order_id}",
    rules.A_TO_Z_CLAIM: "New A-to-z claim on order {order_id}",
    rules.CHARGEBACK: "New chargeback on order {order_id}",
}
_DEFECT_NAMES = {
    rules.NEGATIVE_FEEDBACK: ("negative feedback", "negative feedback"),
    rules.A_TO_Z_CLAIM: ("A-to-z claim", "A-to-z claims"),
    rules.CHARGEBACK: ("chargeback", "chargebacks"),
}
_DEFECT_BODIES = {
    rules.NEGATIVE_FEEDBACK: "1–2 star feedback{day}. It counts toward your Order Defect Rate unless Amazon "
    "removes it or strikes it through.",
    rules.A_TO_Z_CLAIM: "A-to-z Guarantee claim filed{day}. It counts toward your Order Defect Rate unless it is "
    "denied, withdrawn or excluded.",
    rules.CHARGEBACK: "Chargeback filed{day}. A service chargeback counts toward your Order Defect Rate.",
}


@dataclass(frozen=True)
class Alert:
    """One thing to tell the seller. `key` is its identity: an alert with a recorded key is never repeated.

    `covers` holds the keys of less urgent alerts this one stands for (a clock found with 1 h left has
    crossed 6 h and 2 h at once: one alert is shown, and both keys are recorded so 6 h never fires later).
    """

    key: str
    kind: str
    title: str
    body: str
    severity: str
    order_id: str | None = None
    item_id: str | None = None
    view: str = MESSAGES_VIEW
    covers: tuple[str, ...] = ()
    # Set for the demo seller: a made-up buyer's deadline must not pop up on the desktop as if it were real.
    window_only: bool = False


class AlertSink(Protocol):
    def deliver(self, alert: Alert) -> None: ...


@dataclass
class RecordingSink:
    """Keeps every delivered alert in `delivered`, in order (tests, headless runs)."""

    delivered: list[Alert] = field(default_factory=list)

    def deliver(self, alert: Alert) -> None:
        self.delivered.append(alert)


# --- Clocks -----------------------------------------------------------------------------------------------------


def clock_key(clock: Clock, label: str) -> str:
    """The key of one clock's alert at one step: label is "6h", "2h" (threshold hours) or "overdue"."""
    return f"{CLOCK}:{clock.kind}:{clock.item_id}:{label}"


def threshold_label(hours: float) -> str:
    return f"{hours:g}h"


def clock_alerts(
    clocks: Iterable[Clock],
    at: float,
    thresholds_hours: Sequence[float],
    lookback_s: float = DAY_S,
    *,
    zone: ZoneInfo | None = None,
) -> list[Alert]:
    """One alert per clock that crossed a threshold (or its deadline) in the `lookback_s` before `at`.

    A step is crossed at `due_at - hours`; it is due when that instant lies in (at - lookback_s, at].
    When several steps of a clock are due at once, the alert is the most urgent one and `covers` the rest.
    Appeal and feedback-removal clocks get no overdue alert: their window just closes.

    Args:
        clocks: the open clocks (`app.clocks.open_clocks`); overdue ones included.
        at: the instant of this check (epoch seconds, UTC).
        thresholds_hours: hours before the deadline to alert at (the `alert_thresholds_hours` setting).
        lookback_s: how far back a crossing still alerts.
        zone: the zone to write due times in (UTC when None).

    Returns:
        The alerts, most urgent clock first.
    """
    steps = [
        (threshold_label(hours), float(hours)) for hours in sorted(set(thresholds_hours), reverse=True) if hours > 0
    ]
    steps.append((OVERDUE, 0.0))
    # A step is crossed `hours` before the deadline: only a deadline in this span can have one in the lookback
    # (most of thousands of open clocks are overdue for longer).
    first_due, last_due = at - lookback_s, at + steps[0][1] * HOUR_S
    found = []
    for clock in clocks:
        if not first_due < clock.due_at <= last_due:
            continue
        due = [(label, hours) for label, hours in steps if _step_due(clock, hours, at, lookback_s)]
        if not due:
            continue
        label, hours = due[-1]
        covers = tuple(clock_key(clock, other) for other, _ in due[:-1])
        found.append((clock, _clock_alert(clock, label, hours, at, zone or UTC, covers)))
    found.sort(key=lambda pair: (pair[0].due_at, pair[0].kind, pair[0].item_id))
    return [alert for _, alert in found]


def next_alert_at(clocks: Iterable[Clock], at: float, thresholds_hours: Sequence[float]) -> float | None:
    """The first instant after `at` at which `clock_alerts` finds a step it did not find at `at`.

    The scheduler checks the clocks then, so an alert comes when its threshold is crossed instead of at the
    next periodic look (up to its interval late). None when no open clock has a step ahead.
    """
    hours_before = [float(hours) for hours in set(thresholds_hours) if hours > 0] + [0.0]
    upcoming = [
        crossing
        for clock in clocks
        if clock.due_at > at  # every crossing is at or before the deadline
        for hours in hours_before
        if (crossing := clock.due_at - hours * HOUR_S) > at and _step_due(clock, hours, crossing, 0.5)
    ]
    return min(upcoming, default=None)


def _step_due(clock: Clock, hours: float, at: float, lookback_s: float) -> bool:
    if clock.kind in CLOSES_WHEN_DUE and (hours == 0 or clock.due_at <= at):
        # Once an appeal or removal window has closed nothing can be done, so "2 h left" would be false.
        return False
    crossing = clock.due_at - hours * HOUR_S
    if hours and crossing < clock.started_at:
        # The clock started with less than `hours` left: it never crossed this threshold.
        return False
    return at - lookback_s < crossing <= at


def _clock_alert(clock: Clock, label: str, hours: float, at: float, zone: tzinfo, covers: tuple[str, ...]) -> Alert:
    name = KIND_LABELS.get(clock.kind, clock.kind)
    action = _ACTIONS.get(clock.kind, name)
    when = _when(clock.due_at, zone)
    if label == OVERDUE:
        title = _OVERDUE_TITLES.get(clock.kind, f"Overdue: {name}")
        sentence = f"{action} now: it was due at {when}."
        severity = CRITICAL
    else:
        task = _TASKS.get(clock.kind, name[:1].lower() + name[1:])
        title = f"{_time_left(clock, hours, at)} left to {task}"
        sentence = f"{action} by {when}."
        severity = WARNING
    lead = _lead(clock)
    return Alert(
        key=clock_key(clock, label),
        kind=CLOCK,
        title=title,
        body=f"{lead} {sentence}" if lead else sentence,
        severity=severity,
        order_id=clock.order_id,
        item_id=clock.item_id,
        view=MESSAGES_VIEW,
        covers=covers,
    )


def _time_left(clock: Clock, hours: float, at: float) -> str:
    remaining = clock.remaining_s(at)
    if hours * HOUR_S - remaining <= NOMINAL_SLACK_S:
        return f"{hours:g} h"
    # Rounded down: telling the seller they have more time than they do is the worse mistake.
    minutes = int(remaining // 60)
    if minutes < 1:
        return "Under 1 min"
    whole_hours, rest = divmod(minutes, 60)
    if not whole_hours:
        return f"{rest} min"
    return f"{whole_hours} h {rest} min" if rest else f"{whole_hours} h"


def _lead(clock: Clock) -> str:
    """The order and topic the clock has, e.g. "Order 111-…: Order delivery." (empty when it has neither).

    A feedback clock's detail is the buyer's comment, which may hold a phone number or an e-mail address:
    notifications are kept by the desktop outside the app's private database, so it is left out.
    """
    detail = "" if clock.kind == FEEDBACK_REMOVAL else (clock.detail_text or "").strip().rstrip(".")
    # With several marketplaces the seller answers in that marketplace's Seller Central: say which.
    order = f"{clock.marketplace} order" if clock.marketplace else "Order"
    if clock.order_id and detail:
        return f"{order} {clock.order_id}: {detail}."
    if clock.order_id:
        return f"{order} {clock.order_id}."
    if clock.marketplace:
        return f"{clock.marketplace}: {detail}." if detail else f"{clock.marketplace}."
    return f"{detail}." if detail else ""


def _when(instant: float, zone: tzinfo) -> str:
    moment = datetime.fromtimestamp(instant, zone)
    return f"{moment:%H:%M} {moment.tzname()} on {moment.day} {moment:%b}"


# --- Metric status ----------------------------------------------------------------------------------------------


def status_alerts(previous: Mapping[str, str], figures: Mapping[str, dict], as_of: str) -> list[Alert]:
    """An alert for each metric whose status differs from `previous` (a metric seen for the first time: none).

    Over the limit is critical, at risk (from good or no figure) a warning, anything better is info.

    Args:
        previous: metric -> status last saved (`last_statuses`).
        figures: `metrics_as_of`'s result (only the five metric entries are read).
        as_of: the ISO day the figures are as of; part of the key, so a status reached again on a later
            day alerts again.
    """
    alerts = []
    for metric, name in METRIC_NAMES.items():
        figure = figures.get(metric)
        if not isinstance(figure, Mapping) or "status" not in figure:
            continue
        new, old = figure["status"], previous.get(metric)
        if old is None or old == new:
            continue
        alerts.append(
            Alert(
                key=f"{STATUS}:{metric}:{new}:{as_of}",
                kind=STATUS,
                title=_status_title(name, old, new, figure.get("rate")),
                body=_status_body(old, new, figure, str(as_of)),
                severity=_status_severity(old, new),
                view=DASHBOARD_VIEW,
            )
        )
    return alerts


def _status_severity(old: str, new: str) -> str:
    if new == "breach":
        return CRITICAL
    if new == "at_risk" and old != "breach":
        return WARNING
    # Better, or no figure any more (no data is not a worse account, only an unknown one).
    return INFO


def _status_title(name: str, old: str, new: str, rate: float | None) -> str:
    if new == "insufficient_data":
        return f"{name} has no figure now"
    figure = f" ({percent(rate)})" if rate is not None else ""
    if new == "good" and old in ("at_risk", "breach"):
        return f"{name} is back to good{figure}"
    return f"{name} is now {_STATUS_WORDS.get(new, new)}{figure}"


def _status_body(old: str, new: str, figure: Mapping, as_of: str) -> str:
    day = short_day(as_of)
    was = _WAS_WORDS.get(old, old)
    if new == "insufficient_data":
        reason = figure.get("reason")
        return f"As of {day} there is no figure{f' ({reason})' if reason else ''}; it was {was}."
    return f"As of {day}: {_STATUS_WORDS.get(new, new)} at {percent(figure.get('rate'))}, was {was}."


def last_statuses(db: sqlite_utils.Database) -> dict[str, str]:
    """metric -> the status saved last (survives restarts, so a change while the app was closed is noticed)."""
    return {metric: row["status"] for metric, row in store.metric_statuses(db).items()}


def save_statuses(db: sqlite_utils.Database, figures: Mapping[str, dict], at: float) -> None:
    """Remember each metric's status; a new or changed one is appended to the status history."""
    rows = [
        {"metric": metric, "status": figure["status"], "rate": figure.get("rate")}
        for metric in METRIC_NAMES
        if isinstance(figure := figures.get(metric), Mapping) and "status" in figure
    ]
    store.write_metric_statuses(db, rows, int(at))


def status_history(db: sqlite_utils.Database) -> list[dict]:
    """Every status change (at, metric, old_status, new_status, rate), oldest first."""
    return store.status_changes(db)


def alert_status_changes(
    db: sqlite_utils.Database,
    sink: AlertSink,
    figures: Mapping[str, dict],
    as_of: str,
    at: float,
    paused_until: float | None = None,
) -> list[Alert]:
    """Compare, deliver, then save: the order that loses no change.

    While alerts are paused the statuses are not saved either, so a change made during the pause is
    still a change when the pause ends (saving it would make it the "previous" status and the alert
    would never come). The history then dates that change to the end of the pause.
    """
    if _paused(at, paused_until):
        return []
    delivered = deliver_new(db, sink, status_alerts(last_statuses(db), figures, as_of), at)
    save_statuses(db, figures, at)
    return delivered


# --- The weekly triage ------------------------------------------------------------------------------------------


def triage_reminder(day: date) -> Alert:
    """The Monday reminder: one a day at most (the key carries the day)."""
    return Alert(
        key=f"triage:reminder:{day.isoformat()}",
        kind="triage",
        title="Time for this week's triage",
        body="New feedback, claims, returns and late messages are waiting in the triage view; work down the "
        "list and complete it.",
        severity=WARNING,
        view=TRIAGE_VIEW,
    )


# --- Defects ----------------------------------------------------------------------------------------------------


def defect_alerts(new_defects: Iterable[Mapping]) -> list[Alert]:
    """One critical alert per new defect ({kind, order_id, day}; day an ISO date, a date or None)."""
    alerts: dict[str, Alert] = {}
    for defect in new_defects:
        kind, order_id = defect["kind"], defect["order_id"]
        key = f"{DEFECT}:{kind}:{order_id}"
        if key in alerts:
            continue
        day = _long_day(defect.get("day"))
        alerts[key] = Alert(
            key=key,
            kind=DEFECT,
            title=_DEFECT_TITLES.get(kind, "New defect on order {order_id}").format(order_id=order_id),
            body=_DEFECT_BODIES.get(kind, "Defect{day}.").format(day=f" on {day}" if day else ""),
            severity=CRITICAL,
            order_id=order_id,
            item_id=_TRIAGE_KEYS[kind].format(order_id=order_id),
            view=TRIAGE_VIEW,
        )
    return list(alerts.values())


def _long_day(value: str | date | None) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day.day} {day:%b %Y}"


def import_alerts(
    new: Sequence[Mapping], latest_before: str | None, per_item: int = 3, *, first: bool = False
) -> list[Alert]:
    """What an import's new defects ({kind, order_id, day}, as `new_defects` gives them) are worth telling.

    A report brings months of history, and history is not news: only a defect dated after `latest_before`
    (the latest day the database held before the import) gets an alert of its own, and only while there
    are at most `per_item` of them. Everything else is counted in one summary alert that covers each
    defect's key, so none of them alerts later either.

    Args:
        new: the defects the import added.
        latest_before: the ISO day of the newest record before the import; None for an empty database
            (everything imported is then history).
        per_item: the most defects alerted one by one.
        first: the database held nothing before (the summary then does not speak of a last import).
    """
    news = [defect for defect in new if latest_before and defect.get("day") and str(defect["day"]) > latest_before]
    single = defect_alerts(news) if len(news) <= per_item else []
    alerted = {alert.key for alert in single}
    rest = [defect for defect in new if f"{DEFECT}:{defect['kind']}:{defect['order_id']}" not in alerted]
    return single + ([_defect_summary(rest, urgent=len(news) > len(single), first=first)] if rest else [])


def _defect_summary(defects: Sequence[Mapping], *, urgent: bool, first: bool) -> Alert:
    covers = tuple(sorted({f"{DEFECT}:{defect['kind']}:{defect['order_id']}" for defect in defects}))
    count = len(covers)
    noun = "defect" if count == 1 else "defects"
    title = (
        f"{count} {noun} in the imported history — open triage"
        if first
        else f"{count} new {noun} since your last import — open triage"
    )
    kinds: dict[str, int] = {}
    for key in covers:
        kind = key.split(":")[1]
        kinds[kind] = kinds.get(kind, 0) + 1
    parts = [f"{number} {_DEFECT_NAMES.get(kind, (kind, kind))[number > 1]}" for kind, number in sorted(kinds.items())]
    return Alert(
        key="import:defects:" + hashlib.sha256("\n".join(covers).encode()).hexdigest()[:20],
        kind=DEFECT,
        title=title,
        body=f"{', '.join(parts)}. Each one is listed in the triage view.",
        severity=CRITICAL if urgent else WARNING,
        view=TRIAGE_VIEW,
        covers=covers,
    )


def latest_data_day(db: sqlite_utils.Database) -> str | None:
    """The ISO day of the newest record the database holds (None when it holds none); see `import_alerts`."""
    return store.latest_day(db)


def known_defects(db: sqlite_utils.Database) -> set[tuple[str, str]]:
    """(kind, order_id) of every stored 1–2 star feedback and every A-to-z claim or chargeback, any status.

    Take it before an import; what `new_defects` finds after it is what the import brought.
    """
    return {(_DEFECT_SOURCES[source], order_id) for source, order_id, _ in store.defect_rows(db)}


def new_defects(db: sqlite_utils.Database, known: set[tuple[str, str]]) -> list[dict]:
    """Stored defects not in `known`, as {kind, order_id, day} for `defect_alerts`, oldest first."""
    rows = [
        {"kind": _DEFECT_SOURCES[source], "order_id": order_id, "day": day}
        for source, order_id, day in store.defect_rows(db)
        if (_DEFECT_SOURCES[source], order_id) not in known
    ]
    return sorted(rows, key=lambda row: (row["day"] or "", row["order_id"], row["kind"]))


# --- Delivery ---------------------------------------------------------------------------------------------------


def undelivered(db: sqlite_utils.Database, alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts whose own key is not recorded yet (each key once, first occurrence kept)."""
    candidates = list(alerts)
    recorded = store.delivered_keys(db, (alert.key for alert in candidates))
    pending: dict[str, Alert] = {}
    for alert in candidates:
        if alert.key not in recorded and alert.key not in pending:
            pending[alert.key] = alert
    return list(pending.values())


def record_delivered(db: sqlite_utils.Database, alerts: Iterable[Alert], at: float) -> None:
    """Record each alert's key and the keys it covers as delivered at `at` (a known key keeps its first time)."""
    rows = []
    for alert in alerts:
        rows.append(_row(alert, alert.key, alert.body, at))
        rows.extend(_row(alert, key, f"Not shown: covered by {alert.key}", at) for key in alert.covers)
    store.insert_delivered(db, rows)


def _row(alert: Alert, key: str, body: str, at: float) -> dict:
    return {
        "key": key,
        "kind": alert.kind,
        "title": alert.title,
        "body": body,
        "order_id": alert.order_id,
        "item_id": alert.item_id,
        "delivered_at": int(at),
    }


def deliver_new(
    db: sqlite_utils.Database,
    sink: AlertSink,
    alerts: Iterable[Alert],
    at: float,
    paused_until: float | None = None,
    bundle_over: int = 3,
    record: bool = True,
) -> list[Alert]:
    """Deliver the alerts not delivered before, record them, and return them.

    While paused (`at < paused_until`) nothing is delivered or recorded, so the alerts still come after
    the pause (within the clock lookback). Each alert is recorded right after the sink took it: a sink
    that fails part-way leaves the rest to the next run instead of losing them. More than `bundle_over`
    new alerts at once (an import of a month of feedback) become one summary alert that covers them all,
    instead of a stack of notifications. `record=False` leaves the recording to the caller (who must not
    wait for the database before the sink has the alert).
    """
    if _paused(at, paused_until):
        return []
    pending = undelivered(db, alerts)
    if len(pending) > bundle_over:
        pending = [bundle(pending)]
    delivered = []
    for alert in pending:
        sink.deliver(alert)
        if record:
            record_delivered(db, [alert], at)
        delivered.append(alert)
    return delivered


_SEVERITY_RANK = {INFO: 0, WARNING: 1, CRITICAL: 2}


def bundle(alerts: Sequence[Alert]) -> Alert:
    """One alert standing for several: the most severe first, the rest counted."""
    ordered = sorted(alerts, key=lambda alert: -_SEVERITY_RANK.get(alert.severity, 0))
    covers = tuple(key for alert in ordered for key in (alert.key, *alert.covers))
    views = {alert.view for alert in ordered}
    shown = "; ".join(alert.title for alert in ordered[:3])
    more = len(ordered) - 3
    return Alert(
        key="bundle:" + hashlib.sha256("\n".join(sorted(covers)).encode()).hexdigest()[:20],
        kind=ordered[0].kind,
        title=f"{len(ordered)} things need your attention",
        body=shown + (f"; and {more} more." if more > 0 else "."),
        severity=ordered[0].severity,
        order_id=None,
        item_id=None,
        view=views.pop() if len(views) == 1 else DASHBOARD_VIEW,
        covers=covers,
    )


def _paused(at: float, paused_until: float | None) -> bool:
    return paused_until is not None and at < paused_until
