"""The incident record: what the detector emits and what alert delivery (Slack, the ``alerts`` table, dashboards)
consumes. One ``IncidentEvent`` per lifecycle step, on topic ``alerts`` keyed by ``incident_id``.

Lifecycle: ``opened`` → (``escalated`` | ``updated``)* → ``resolved``. ``event_id`` = ``<incident_id>/<seq>`` is
unique and stable: the detector derives it from the incident and its step, so a detector that replays the same
data after a restart emits the same ids, and delivery drops what it has already sent. Evolution rules are those of
``pipeline.schema`` (add fields with defaults only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

INCIDENT_SCHEMA_VERSION = 1

IncidentStage = Literal["opened", "escalated", "updated", "resolved"]
Severity = Literal["low", "medium", "high", "critical"]
Signal = Literal["volume", "negative_volume", "negative_share", "reach_negativity", "near_duplicates", "theme"]

SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ExamplePost(_Record):
    """A post that shows what the incident is about (top by reach, or a theme's representative)."""

    mention_id: str
    platform: str
    url: str | None = None
    author_handle: str
    author_followers: int | None = None
    text: str = Field(max_length=2_000, description="cut to 2,000 characters")
    created_at: AwareDatetime
    lang: str | None = None
    sentiment: str | None = None
    intent: str | None = None
    reach: int = Field(0, ge=0, description="followers + engagement, the ordering key")


class Count(_Record):
    name: str
    count: int = Field(ge=0)


class IncidentEvent(_Record):
    schema_version: int = Field(INCIDENT_SCHEMA_VERSION, ge=1)
    incident_id: str = Field(min_length=1, max_length=256, description="stable for the whole lifecycle")
    event_id: str = Field(min_length=1, max_length=300, description="'<incident_id>/<seq>': unique per step")
    seq: int = Field(ge=0, description="0 for opened, then 1, 2, ... per step")
    stage: IncidentStage
    brand: str = Field(min_length=1)
    platform: str | None = Field(None, description="None: all platforms together")
    signal: Signal
    severity: Severity
    opened_at: AwareDatetime = Field(description="start of the first anomalous interval")
    at: AwareDatetime = Field(description="event time of this step (end of the interval that caused it)")
    observed: float = Field(description="the signal's value in the interval (count, share, ...)")
    expected: float = Field(description="the baseline's expectation for the same interval")
    upper: float | None = Field(None, description="upper edge of the baseline band, when the signal has one")
    score: float = Field(ge=0, le=1, description="anomaly score in [0, 1]")
    summary: str = Field("", description="one line a human reads first, e.g. 'negative mentions 14x baseline'")
    top_posts: list[ExamplePost] = Field(default_factory=list)
    top_topics: list[Count] = Field(default_factory=list)
    top_intents: list[Count] = Field(default_factory=list)
    languages: list[Count] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list, description="words that characterise a theme incident")
    dashboard_url: str | None = None

    @field_validator("opened_at", "at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > INCIDENT_SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is newer than this worker knows ({INCIDENT_SCHEMA_VERSION})")
        return value


def event_id(incident_id: str, seq: int) -> str:
    return f"{incident_id}/{seq}"
