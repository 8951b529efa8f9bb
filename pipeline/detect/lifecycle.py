"""Incident lifecycle of one key × signal: opened → (escalated | updated)* → resolved.

Consecutive anomalous buckets belong to one incident; it stays open while buckets keep at least the hold score
(hysteresis) and resolves after ``quiet_s`` without one, which is also the cooldown: no second incident of the same
key and signal opens meanwhile. Ids are derived from the data only: ``incident_id`` from key, signal and the start
of the first anomalous bucket, ``seq`` counts the steps, so a replay of the same buckets re-emits identical ids.

A partial (still-filling) bucket may open an incident early (``peek``). When that bucket completes, the incident's
severity is set from the full bucket without an event, so the tracker ends up in exactly the state a replay of
complete buckets reaches (same ids for every later step); only the opening event's figures may differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.detect.channel import Assessment
from pipeline.detect.config import DetectorConfig
from pipeline.incidents import SEVERITY_RANK, IncidentEvent, IncidentStage, Severity, Signal, event_id

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
Describe = Callable[[Assessment], str]


def severity_of(assessment: Assessment, config: DetectorConfig) -> Severity:
    ratio_level = sum(assessment.ratio >= r for r in config.severity_ratio)
    excess_level = sum(assessment.observed - assessment.expected >= e for e in config.severity_excess)
    return SEVERITIES[min(ratio_level, excess_level)]


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class OpenIncident:
    incident_id: str
    opened_at: float
    seq: int
    severity: Severity
    last_active: float  # start of the last bucket at or above the hold score
    last_event: float  # event time of the last step
    partial_start: float | None = None  # set while opened by a partial bucket that has not completed yet


class IncidentTracker:
    def __init__(
        self,
        brand: str,
        platform: str | None,
        signal: Signal,
        interval_s: float,
        config: DetectorConfig,
        key: str | None = None,
    ) -> None:
        self.brand, self.platform, self.signal = brand, platform, signal
        self.key = key  # fixed id suffix (a theme's cluster); by default the opening bucket's time
        self.interval_s = interval_s
        self.config = config
        self.open: OpenIncident | None = None

    def _id(self, opened_at: float) -> str:
        suffix = self.key or _utc(opened_at).strftime("%Y%m%dT%H%M%SZ")
        return f"{self.brand[:160]}:{self.platform or '*'}:{self.signal}:{suffix}"

    def _event(
        self, stage: IncidentStage, a: Assessment, at: float, upper: float | None, summary: str
    ) -> IncidentEvent:
        assert self.open is not None
        inc = self.open
        return IncidentEvent(
            incident_id=inc.incident_id,
            event_id=event_id(inc.incident_id, inc.seq),
            seq=inc.seq,
            stage=stage,
            brand=self.brand,
            platform=self.platform,
            signal=self.signal,
            severity=inc.severity,
            opened_at=_utc(inc.opened_at),
            at=_utc(at),
            observed=a.observed,
            expected=a.expected,
            upper=upper,
            score=a.score,
            summary=summary,
        )

    def peek(
        self, a: Assessment, now: float, upper: Callable[[Assessment], float], describe: Describe
    ) -> list[IncidentEvent]:
        """A partial bucket: may open an incident (never escalates, updates or resolves)."""
        if self.open is not None or not a.anomalous:
            return []
        self.open = OpenIncident(self._id(a.start), a.start, 0, severity_of(a, self.config), a.start, now, a.start)
        return [self._event("opened", a, now, upper(a), describe(a))]

    def step(self, a: Assessment, upper: Callable[[Assessment], float], describe: Describe) -> list[IncidentEvent]:
        """A completed bucket (in order, each once)."""
        cfg = self.config
        end = a.start + self.interval_s
        inc = self.open
        if inc is not None and inc.partial_start is not None:
            inc.partial_start = None
            if inc.opened_at == a.start:  # the bucket that opened it early: catch up silently
                inc.severity = severity_of(a, cfg)
                inc.last_event = end
                return []
        if inc is None:
            if not a.anomalous:
                return []
            self.open = OpenIncident(self._id(a.start), a.start, 0, severity_of(a, cfg), a.start, end)
            return [self._event("opened", a, end, upper(a), describe(a))]
        active = a.warm and a.score >= cfg.hold_score
        if active:
            inc.last_active = a.start
            severity = severity_of(a, cfg)
            if SEVERITY_RANK[severity] > SEVERITY_RANK[inc.severity]:
                inc.seq += 1
                inc.severity = severity
                inc.last_event = end
                return [self._event("escalated", a, end, upper(a), describe(a))]
            if end - inc.last_event >= cfg.update_every_s:
                inc.seq += 1
                inc.last_event = end
                return [self._event("updated", a, end, upper(a), describe(a))]
            return []
        if end - (inc.last_active + self.interval_s) >= cfg.quiet_s:
            inc.seq += 1
            event = self._event("resolved", a, end, None, describe(a))
            self.open = None
            return [event]
        return []

    def to_state(self) -> dict[str, Any] | None:
        inc = self.open
        if inc is None:
            return None
        return {
            "id": inc.incident_id,
            "opened_at": inc.opened_at,
            "seq": inc.seq,
            "severity": inc.severity,
            "last_active": inc.last_active,
            "last_event": inc.last_event,
            "partial_start": inc.partial_start,
        }

    def load_state(self, state: dict[str, Any] | None) -> None:
        self.open = (
            None
            if state is None
            else OpenIncident(
                state["id"],
                state["opened_at"],
                state["seq"],
                state["severity"],
                state["last_active"],
                state["last_event"],
                state["partial_start"],
            )
        )
