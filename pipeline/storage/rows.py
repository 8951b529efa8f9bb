"""``EnrichedMention`` → the columns of ``mentions`` (pure: no I/O, unit-testable in milliseconds).

``COLUMNS`` is the insert's column list with the ClickHouse types the table declares (migrations/0001); the writer
passes the types along so an insert needs no DESCRIBE round trip, and a test checks them against the live table.
``written_at`` is not inserted: its DEFAULT ``now64(3)`` stamps each write and is the ReplacingMergeTree version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pipeline.schema import BrandMatch, EnrichedMention

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "String"),
    ("schema_version", "UInt16"),
    ("source", "LowCardinality(String)"),
    ("platform", "LowCardinality(String)"),
    ("url", "Nullable(String)"),
    ("kind", "LowCardinality(String)"),
    ("in_reply_to", "Nullable(String)"),
    ("author_handle", "String"),
    ("author_display_name", "Nullable(String)"),
    ("author_followers", "Nullable(UInt64)"),
    ("author_is_brand", "Bool"),
    ("text", "String"),
    ("created_at", "DateTime64(3, 'UTC')"),
    ("fetched_at", "DateTime64(3, 'UTC')"),
    ("ingested_at", "DateTime64(3, 'UTC')"),
    ("likes", "UInt32"),
    ("shares", "UInt32"),
    ("replies", "UInt32"),
    ("views", "Nullable(UInt64)"),
    ("brands.brand", "Array(LowCardinality(String))"),
    ("brands.match_type", "Array(LowCardinality(String))"),
    ("brands.competitor", "Array(Bool)"),
    ("lang_hint", "LowCardinality(Nullable(String))"),
    ("raw_ref", "Nullable(String)"),
    ("lang", "LowCardinality(String)"),
    ("lang_confidence", "Float32"),
    ("sentiment", "Enum8('negative' = -1, 'neutral' = 0, 'positive' = 1)"),
    ("p_negative", "Float32"),
    ("p_neutral", "Float32"),
    ("p_positive", "Float32"),
    ("intent", "LowCardinality(String)"),
    ("intent_score", "Float32"),
    ("topics", "Array(LowCardinality(String))"),
    ("topic_scores", "Array(Float32)"),
    ("truncated", "Bool"),
    ("embedding", "Array(Float32)"),
    ("model", "LowCardinality(String)"),
    ("model_version", "LowCardinality(String)"),
    ("enriched_at", "DateTime64(3, 'UTC')"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
COLUMN_TYPES: tuple[str, ...] = tuple(type_ for _, type_ in COLUMNS)

_MATCH_STRENGTH = {"tagged": 0, "hashtag": 1, "untagged": 2}
_UINT32_MAX = 2**32 - 1


def merge_brands(brands: Sequence[BrandMatch]) -> list[BrandMatch]:
    """One match per brand, in first-seen order: the strongest match type wins (tagged > hashtag > untagged)
    and the brand is a competitor if any match says so. Keeps "one row per mention x brand" true downstream."""
    merged: dict[str, BrandMatch] = {}
    for match in brands:
        seen = merged.get(match.brand)
        if seen is None:
            merged[match.brand] = match
            continue
        strongest = min(seen.match_type, match.match_type, key=_MATCH_STRENGTH.__getitem__)
        merged[match.brand] = BrandMatch(
            brand=match.brand, match_type=strongest, competitor=seen.competitor or match.competitor
        )
    return list(merged.values())


def _row(item: EnrichedMention) -> tuple[Any, ...]:
    m, e = item.mention, item.enrichment
    brands = merge_brands(m.brands)
    scores = e.sentiment_scores
    return (
        m.id,
        m.schema_version,
        m.source,
        m.platform,
        m.url,
        m.kind,
        m.in_reply_to,
        m.author.handle,
        m.author.display_name,
        m.author.followers,
        m.author_is_brand,
        m.text,
        m.created_at,
        m.fetched_at,
        item.ingested_at,
        min(m.engagement.likes, _UINT32_MAX),  # clamp rather than fail a batch on an absurd counter
        min(m.engagement.shares, _UINT32_MAX),
        min(m.engagement.replies, _UINT32_MAX),
        m.engagement.views,
        [b.brand for b in brands],
        [b.match_type for b in brands],
        [b.competitor for b in brands],
        m.lang_hint,
        m.raw_ref,
        e.lang,
        e.lang_confidence,
        e.sentiment,
        scores.get("negative", 0.0),
        scores.get("neutral", 0.0),
        scores.get("positive", 0.0),
        e.intent,
        e.intent_score,
        list(e.topics),
        list(e.topic_scores),
        e.truncated,
        e.embedding if e.embedding is not None else [],
        e.model,
        e.model_version,
        e.enriched_at,
    )


def mention_rows(batch: Sequence[EnrichedMention]) -> list[tuple[Any, ...]]:
    """One tuple per mention, values in ``COLUMN_NAMES`` order (row-oriented insert data)."""
    return [_row(item) for item in batch]


def mention_columns(batch: Sequence[EnrichedMention]) -> list[list[Any]]:
    """One list per column in ``COLUMN_NAMES`` order, each as long as ``batch`` (column-oriented insert data)."""
    if not batch:
        return [[] for _ in COLUMNS]
    return [list(column) for column in zip(*mention_rows(batch), strict=True)]


def minute_of(moment: datetime) -> datetime:
    """The UTC minute ``moment`` falls in (aware datetime, seconds and below zeroed)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def touched_minutes(batch: Sequence[EnrichedMention]) -> list[datetime]:
    """The distinct UTC minutes of the batch's ``created_at``, ascending: the rollup minutes a write changes."""
    return sorted({minute_of(item.mention.created_at) for item in batch})
