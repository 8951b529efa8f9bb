"""Which Slack channels an incident event goes to (pure; the rules come from ``alerts.routes`` in the settings).

Rules are tried in order. A rule matches when every condition it sets holds (an empty list sets none): brand,
``min_severity``, signal, and the incident's top intent (the intent with the highest count in ``top_intents``).
Every matching rule adds its channels (no duplicates, first-seen order); a matching rule with ``final`` stops the
search. When no rule matches, ``default_channels`` apply.

An incident keeps the channels it was already posted in (the notifier adds them), so an update or the resolution
reaches the channel that saw the opening even when the event's severity has dropped below that channel's rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.incidents import SEVERITY_RANK, IncidentEvent
from pipeline.settings import AlertRoute, AlertSettings


@dataclass(frozen=True)
class RouteDecision:
    channels: list[str]
    """Channel names in ``alerts.channels``, in first-seen order."""
    rules: list[str]
    """Names of the matching rules; ``["default"]`` when none matched and default channels apply."""


def top_intent(event: IncidentEvent) -> str | None:
    """The intent with the highest count (the first listed wins a tie), or None when the event has none."""
    if not event.top_intents:
        return None
    best = event.top_intents[0]
    for item in event.top_intents[1:]:
        if item.count > best.count:
            best = item
    return best.name


def matches(rule: AlertRoute, event: IncidentEvent) -> bool:
    if rule.brands and event.brand not in rule.brands:
        return False
    if SEVERITY_RANK[event.severity] < SEVERITY_RANK[rule.min_severity]:
        return False
    if rule.signals and event.signal not in rule.signals:
        return False
    return not rule.intents or top_intent(event) in rule.intents


def route(event: IncidentEvent, settings: AlertSettings) -> RouteDecision:
    channels: list[str] = []
    rules: list[str] = []
    for rule in settings.routes:
        if not matches(rule, event):
            continue
        rules.append(rule.name)
        channels.extend(c for c in rule.channels if c not in channels)
        if rule.final:
            break
    if not rules:
        return RouteDecision(
            list(dict.fromkeys(settings.default_channels)), ["default"] if settings.default_channels else []
        )
    return RouteDecision(channels, rules)
