"""Incident lifecycle: one incident per run of anomalous buckets, escalation, updates, quiet-period resolution."""

from __future__ import annotations

from detect_helpers import FAST, INTERVAL, START

from pipeline.detect.channel import Assessment
from pipeline.detect.lifecycle import IncidentTracker
from pipeline.incidents import IncidentEvent

T0 = START.timestamp()


def a(i: int, score: float, observed: float = 50.0, expected: float = 10.0) -> Assessment:
    return Assessment(T0 + i * INTERVAL, observed, expected, 1, -9.0, score, warm=True)


def feed(scores: list[tuple[float, float]]) -> list[IncidentEvent]:
    tracker = IncidentTracker("acme", None, "volume", INTERVAL, FAST)
    events: list[IncidentEvent] = []
    for i, (score, observed) in enumerate(scores):
        events += tracker.step(a(i, score, observed), lambda _: 20.0, lambda _: "line")
    return events


def test_consecutive_anomalous_buckets_are_one_incident_that_resolves_after_the_quiet_period() -> None:
    quiet_buckets = int(FAST.quiet_s / INTERVAL)
    scores = [(0.0, 10.0)] * 3 + [(0.8, 50.0)] * 4 + [(0.0, 10.0)] * (quiet_buckets + 2)
    events = feed(scores)
    assert [e.stage for e in events] == ["opened", "resolved"]
    opened, resolved = events
    assert opened.incident_id == resolved.incident_id == "acme:*:volume:20260302T003000Z"
    assert [e.event_id for e in events] == [f"{opened.incident_id}/0", f"{opened.incident_id}/1"]
    assert opened.opened_at == START.replace(minute=30) and opened.upper == 20.0
    # resolved a full quiet period after the end of the last anomalous bucket
    assert (resolved.at.timestamp() - (T0 + 7 * INTERVAL)) == FAST.quiet_s


def test_a_dip_shorter_than_the_quiet_period_does_not_flap() -> None:
    scores = [(0.8, 50.0)] * 2 + [(0.0, 10.0)] * 3 + [(0.8, 50.0)] * 2 + [(0.0, 10.0)] * 10
    events = feed(scores)
    assert [e.stage for e in events] == ["opened", "updated", "resolved"]  # the update: an hour after opening
    assert len({e.incident_id for e in events}) == 1


def test_the_hold_score_keeps_an_incident_open() -> None:
    held = FAST.hold_score + 0.05
    scores = [(0.8, 50.0)] + [(held, 30.0)] * 10 + [(0.0, 10.0)] * 7
    events = feed(scores)
    assert [e.stage for e in events] == ["opened", "updated", "resolved"]
    assert events[-1].at.timestamp() == T0 + 11 * INTERVAL + FAST.quiet_s


def test_escalation_when_severity_rises_and_periodic_updates_while_anomalous() -> None:
    scores = [(0.8, 16.0), (0.9, 16.0), (1.0, 200.0), (1.0, 5_000.0)] + [(0.9, 5_000.0)] * 7
    events = feed(scores)
    assert [e.stage for e in events] == ["opened", "escalated", "escalated", "updated"]
    assert [e.severity for e in events] == ["low", "high", "critical", "critical"]
    assert [e.seq for e in events] == [0, 1, 2, 3]


def test_no_alert_while_cold() -> None:
    tracker = IncidentTracker("acme", None, "volume", INTERVAL, FAST)
    cold = Assessment(T0, 500.0, 10.0, 1, -20.0, 1.0, warm=False)
    assert tracker.step(cold, lambda _: 20.0, lambda _: "") == []


def test_a_partial_bucket_opens_early_and_the_completed_bucket_emits_nothing_more() -> None:
    live = IncidentTracker("acme", None, "volume", INTERVAL, FAST)
    replay = IncidentTracker("acme", None, "volume", INTERVAL, FAST)
    partial = a(5, 0.6, observed=20.0)
    opened = live.peek(partial, T0 + 5 * INTERVAL + 12, lambda _: 20.0, lambda _: "early")
    assert [e.stage for e in opened] == ["opened"] and opened[0].summary == "early"
    full = a(5, 1.0, observed=5_000.0)
    assert live.step(full, lambda _: 20.0, lambda _: "") == []
    replayed = replay.step(full, lambda _: 20.0, lambda _: "")
    assert replayed[0].event_id == opened[0].event_id  # delivery drops the replayed duplicate
    assert live.to_state() == replay.to_state()  # from here on both emit the same steps
