"""The canonical records that travel on luister's topics.

``Mention`` is what every connector produces (topic ``mentions.raw``, key = ``Mention.id``);
``EnrichedMention`` is a mention plus the model's output (topic ``mentions.enriched``).

Evolution rules (docs/schema.md): fields are only ever *added*, with a default, in a new minor
``schema_version``; a reader accepts any version ≤ its own and ignores unknown fields, so old workers
keep running while connectors upgrade. Renaming or retyping a field needs a new major version and a
new topic. Times are timezone-aware UTC; naive datetimes are rejected, not guessed.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = 1

MentionKind = Literal["post", "comment", "reply", "review", "message", "article"]
MatchType = Literal["tagged", "hashtag", "untagged"]
Sentiment = Literal["negative", "neutral", "positive"]

MAX_TEXT_CHARS = 100_000
"""Longer texts are rejected at decode (dead-lettered); the model truncates far earlier."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Author(_Record):
    handle: str = Field(min_length=1, max_length=512)
    display_name: str | None = None
    followers: int | None = Field(None, ge=0)


class Engagement(_Record):
    likes: int = Field(0, ge=0)
    shares: int = Field(0, ge=0)
    replies: int = Field(0, ge=0)
    views: int | None = Field(None, ge=0)


class BrandMatch(_Record):
    """A brand the mention is about, and how it was found (a direct @tag, a #hashtag, or the name in text)."""

    brand: str = Field(min_length=1, max_length=256)
    match_type: MatchType
    competitor: bool = False


class Mention(_Record):
    schema_version: int = Field(SCHEMA_VERSION, ge=1)
    id: str = Field(min_length=1, max_length=512, description="stable across re-fetches: '<platform>:<native id>'")
    source: str = Field(min_length=1, description="the connector instance that fetched it, e.g. 'mastodon:fosstodon'")
    platform: str = Field(min_length=1, max_length=64)
    url: str | None = None
    author: Author
    text: str = Field(max_length=MAX_TEXT_CHARS)
    created_at: AwareDatetime = Field(description="event time on the platform")
    fetched_at: AwareDatetime
    kind: MentionKind = "post"
    in_reply_to: str | None = Field(None, description="mention id of the parent, when known")
    author_is_brand: bool = False
    engagement: Engagement = Engagement()
    brands: list[BrandMatch] = Field(default_factory=list)
    lang_hint: str | None = Field(None, description="language the platform declares, if any")
    raw_ref: str | None = Field(None, description="where the original payload can be found again (URL, object key)")

    @field_validator("created_at", "fetched_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is newer than this worker understands ({SCHEMA_VERSION})")
        return value

    def content_hash(self) -> str:
        """Identity of everything but ``fetched_at``: an exact duplicate (a plain re-fetch) has the same id and
        hash; a re-fetch that saw new engagement or an edited text does not, and replaces the stored row."""
        payload = self.model_dump_json(exclude={"fetched_at"}).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(payload, digest_size=12).hexdigest()


def mention_id(platform: str, native_id: str) -> str:
    """The stable id of a platform object: re-fetching the same post yields the same id."""
    return f"{platform}:{native_id}"


class Enrichment(_Record):
    lang: str
    lang_confidence: float
    sentiment: Sentiment
    sentiment_scores: dict[Sentiment, float]
    intent: str
    intent_score: float
    topics: list[str]
    topic_scores: list[float]
    truncated: bool = False
    embedding: list[float] | None = None
    model: str
    model_version: str
    enriched_at: AwareDatetime


class EnrichedMention(_Record):
    mention: Mention
    enrichment: Enrichment
    ingested_at: AwareDatetime = Field(description="when the worker read the raw mention from the broker")


def utcnow() -> datetime:
    return datetime.now(UTC)
