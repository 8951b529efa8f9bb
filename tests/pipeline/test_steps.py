"""The worker's pure steps, in milliseconds: decode, dedup, enrich mapping, offset commits, invalid-share alarm."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from models.predictions import Predictions
from pipeline.schema import SCHEMA_VERSION, EnrichedMention, Mention
from pipeline.steps.commit import OffsetCommitter, next_offsets
from pipeline.steps.decode import InvalidMessage, decode_mention
from pipeline.steps.dedup import RecentMentions
from pipeline.steps.enrich import NO_TEXT_MODEL, Enricher
from pipeline.steps.guard import InvalidShare

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def mention(i: int = 1, text: str = "De levering van @zonstroom is weer te laat", **extra: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": f"mastodon:{i}",
        "source": "mastodon:test",
        "platform": "mastodon",
        "author": {"handle": "@anna@example.social", "followers": 12},
        "text": text,
        "created_at": T0.isoformat(),
        "fetched_at": (T0 + timedelta(seconds=3)).isoformat(),
        "brands": [{"brand": "zonstroom", "match_type": "tagged"}],
    }
    record.update(extra)
    return record


def encode(record: Mapping[str, object]) -> bytes:
    return json.dumps(record).encode()


def test_a_valid_mention_decodes_with_utc_times() -> None:
    m = decode_mention(encode(mention(created_at="2026-11-23T10:00:00+01:00")), key=b"mastodon:1")
    assert m.created_at == T0 and m.created_at.tzinfo is not None
    assert m.schema_version == SCHEMA_VERSION and m.brands[0].match_type == "tagged"


@pytest.mark.parametrize(
    ("value", "key", "reason"),
    [
        (None, None, "empty"),
        (b"", None, "empty"),
        (b"\xff\xfe{", None, "not_utf8"),
        (b"{not json", None, "not_json"),
        (b"[1, 2]", None, "not_object"),
        (encode({"id": "x"}), None, "schema"),
        (encode(mention(created_at="2026-11-23T09:00:00")), None, "schema"),  # naive time: not guessed
        (encode(mention(schema_version=SCHEMA_VERSION + 1)), None, "schema"),
        (encode(mention()), b"another-id", "key_mismatch"),
        (b"{" + b" " * 2_000_000 + b"}", None, "too_large"),
    ],
)
def test_bad_records_get_a_reason(value: bytes | None, key: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        decode_mention(value, key)
    assert info.value.reason == reason and info.value.detail


def test_unknown_fields_from_a_newer_minor_producer_are_ignored() -> None:
    assert decode_mention(encode(mention(some_future_field=1))).id == "mastodon:1"


def test_dedup_drops_exact_copies_but_not_updates() -> None:
    seen = RecentMentions(capacity=2)
    first = Mention.model_validate(mention(1))
    refetch = Mention.model_validate(mention(1, fetched_at=(T0 + timedelta(minutes=5)).isoformat()))
    updated = Mention.model_validate(mention(1, engagement={"likes": 40}))
    assert not seen.is_duplicate(first)
    assert seen.is_duplicate(refetch)  # same content, later fetch
    assert not seen.is_duplicate(updated)  # new engagement replaces the row
    seen.is_duplicate(Mention.model_validate(mention(2)))
    seen.is_duplicate(Mention.model_validate(mention(3)))
    assert len(seen) == 2 and not seen.is_duplicate(updated)  # evicted: bounded memory
    seen.forget([updated.id])
    assert not seen.is_duplicate(updated)


class FixedPredictor:
    """Stands in for the model at the boundary: the mapping, not the model, is under test here."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts: Sequence[str]) -> Predictions:
        self.calls.append(list(texts))
        n = len(texts)
        return Predictions(
            lang=["nl"] * n,
            lang_confidence=[0.9] * n,
            sentiment=["negative"] * n,
            sentiment_scores=np.tile(np.array([0.7, 0.2, 0.1], np.float32), (n, 1)),
            intent=["complaint"] * n,
            intent_scores=np.tile(np.array([0.6, 0.1], np.float32), (n, 1)),
            topics=[[("delivery", 0.31)] for _ in texts],
            embeddings=np.ones((n, 4), np.float32) / 2,
            truncated=[False] * n,
        )


def test_enrich_makes_one_model_call_and_keeps_textless_mentions() -> None:
    predictor = FixedPredictor()
    enricher = Enricher(predictor, model="e5", model_version="abc", max_chars=20)
    batch = [
        Mention.model_validate(mention(1)),
        Mention.model_validate(mention(2, text="  ")),
        Mention.model_validate(mention(3, text="kort")),
    ]
    out = enricher.enrich(batch, [T0] * 3)
    assert len(predictor.calls) == 1 and len(predictor.calls[0]) == 2
    assert predictor.calls[0][0] == batch[0].text[:20]
    assert [e.mention.id for e in out] == ["mastodon:1", "mastodon:2", "mastodon:3"]
    assert out[0].enrichment.sentiment == "negative" and out[0].enrichment.truncated
    assert out[0].enrichment.topics == ["delivery"] and out[0].enrichment.embedding == [0.5] * 4
    assert out[1].enrichment.model == NO_TEXT_MODEL and out[1].enrichment.lang == "und"
    assert not out[2].enrichment.truncated
    again = EnrichedMention.model_validate_json(out[0].model_dump_json())
    assert again == out[0]


async def test_committer_commits_only_what_it_was_given_and_throttles() -> None:
    commits: list[dict[tuple[str, int], int]] = []

    async def commit(offsets: Mapping[tuple[str, int], int]) -> bool:
        commits.append(dict(offsets))
        return True

    c = OffsetCommitter(commit, interval=3600)
    c.done(next_offsets([("raw", 0, 5), ("raw", 0, 3), ("raw", 1, 0)]))
    assert await c.maybe_commit()  # first call commits
    c.done({("raw", 0): 9})
    assert not await c.maybe_commit()  # throttled
    assert await c.commit_now()
    c.done({("raw", 0): 7})  # late, lower: never moves backwards
    assert not await c.commit_now()
    assert commits == [{("raw", 0): 6, ("raw", 1): 1}, {("raw", 0): 9}]


def test_invalid_share_alarm_needs_enough_records() -> None:
    guard = InvalidShare(window=10, threshold=0.5, min_records=5)
    for _ in range(4):
        guard.record(True)
    assert not guard.alarming
    guard.record(True)
    assert guard.alarming
    for _ in range(10):
        guard.record(False)
    assert guard.share == 0 and not guard.alarming
