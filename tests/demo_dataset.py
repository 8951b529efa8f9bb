"""A realistic data set for dashboard and analyst-query tests: the demo stream, enriched, written by the real writer.

Shape (``END`` = the start of the current hour, so queries relative to ``now()`` find data too):

- eight days of quiet history (``HISTORY_RATE`` mentions/s, no crisis) up to ``END - LIVE``, then
- ``LIVE`` (3 h) at ``LIVE_RATE`` with the demo's crisis starting ``CRISIS_AFTER`` (2 h) into it,
- plus a share of plain re-fetches (same id and content, later ``fetched_at``) written in later batches, so the
  table really holds duplicate rows that the views must hide;
- incidents as issue 5's detector would record them (written by the real ``IncidentWriter``, top posts read by the
  real ``read_context``): the crisis's negative-share incident (open, escalated), its theme (open), and a volume
  incident three days earlier that was resolved. Their times come from the demo's ground truth (the crisis start),
  not from a detector run: the detector is not what these tests are about.

Enrichment: eight days at a realistic rate are ~10,000 mentions, and the real model runs ~50 posts/s on this
2-core machine (measured: 1,000 demo posts in 21 s, plus 11 s to load), too slow for every run. So the big set is
enriched from the demo's ground truth (:class:`connectors.demo.Truth`: the language, sentiment, intent and topics
each text was written to express) by :class:`TruthPredictor`, through the worker's own ``Enricher``. The slow
test in ``tests/dashboards/test_panel_sql.py`` runs every panel again on a slice enriched by the real model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from clickhouse_connect.driver.client import Client

from connectors.demo import CrisisShape, DemoEvent, DemoStream, Truth
from models.predictions import Predictions
from pipeline.incidents import IncidentEvent, event_id
from pipeline.schema import EnrichedMention, Mention
from pipeline.settings import ClickHouseSettings
from pipeline.steps.enrich import SENTIMENTS, Enricher
from pipeline.storage import MentionWriter, apply_migrations, open_client
from pipeline.storage.incident_context import Window, read_context
from pipeline.storage.incidents import IncidentWriter

HISTORY = timedelta(days=8)
LIVE = timedelta(hours=3)
CRISIS_AFTER = timedelta(hours=2)
HISTORY_RATE = 0.012
LIVE_RATE = 0.15
REFETCH_SHARE = 0.03
BATCH = 2_000
TOPIC_SCORE = 0.6
LABEL_SCORE = 0.8


def current_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class TruthPredictor:
    """A :class:`~pipeline.steps.enrich.Predictor` that answers with the demo's ground truth for each text.

    Scores are fixed (``LABEL_SCORE`` for the true label, the rest shared evenly); the embedding is empty
    (no panel reads it).
    """

    def __init__(self, truths: dict[str, Truth]) -> None:
        self.truths = truths

    def predict(self, texts: Sequence[str]) -> Predictions:
        truths = [self.truths[t] for t in texts]
        rest = (1 - LABEL_SCORE) / 2
        return Predictions(
            lang=[t.lang for t in truths],
            lang_confidence=[0.99] * len(truths),
            sentiment=[t.sentiment for t in truths],
            sentiment_scores=np.array(
                [[LABEL_SCORE if s == t.sentiment else rest for s in SENTIMENTS] for t in truths]
            ),
            intent=[t.intent for t in truths],
            intent_scores=np.array([[LABEL_SCORE] for _ in truths]),
            topics=[[(topic, TOPIC_SCORE) for topic in t.topics] for t in truths],
            embeddings=np.zeros((len(truths), 0)),
            truncated=[False] * len(truths),
        )


@dataclass
class DemoDataset:
    """The mentions written (one per id; re-fetches excluded), their ground truth, and the time anchors."""

    end: datetime
    mentions: list[Mention] = field(default_factory=list)
    truth: dict[str, Truth] = field(default_factory=dict)
    refetches: int = 0

    @property
    def start(self) -> datetime:
        return self.end - HISTORY

    @property
    def crisis_start(self) -> datetime:
        return self.end - LIVE + CRISIS_AFTER

    @property
    def brand(self) -> str:
        return "Veloxa"


def _events(end: datetime) -> Iterator[DemoEvent]:
    history = DemoStream(seed=61, start=end - HISTORY, rate_per_s=HISTORY_RATE, crisis_after_s=None)
    live_start = end - LIVE
    for event in history.events():
        if event.mention.created_at >= live_start:
            break
        yield event
    # The crisis is shaped for a 5/s stream; at this rate it needs a longer plateau to stand out.
    crisis = CrisisShape(ramp_s=600, hold_s=1800, half_life_s=1800)
    live = DemoStream(
        seed=62,
        start=live_start,
        rate_per_s=LIVE_RATE,
        crisis_after_s=CRISIS_AFTER.total_seconds(),
        crisis=crisis,
        duplicate_share=REFETCH_SHARE,
    )
    for event in live.events():
        if event.mention.created_at >= end:
            break
        yield _second_stream(event)


def _second_stream(event: DemoEvent) -> DemoEvent:
    """Reddit ids come from a per-stream counter, so the live stream's would collide with the history's."""

    def moved(mention_id: str | None) -> str | None:
        return f"{mention_id}9" if mention_id is not None and mention_id.startswith("reddit:") else mention_id

    mention = event.mention
    update = {"id": moved(mention.id), "in_reply_to": moved(mention.in_reply_to)}
    return DemoEvent(mention.model_copy(update=update), event.truth, event.refetch)


def build(end: datetime | None = None) -> tuple[DemoDataset, list[EnrichedMention], list[EnrichedMention]]:
    """The data set's records: (data set, first writes, later re-fetches), enriched from ground truth."""
    data = DemoDataset(end=end or current_hour())
    firsts: list[Mention] = []
    again: list[Mention] = []
    by_text: dict[str, Truth] = {}
    for event in _events(data.end):
        mention = event.mention
        by_text[mention.text] = event.truth
        if event.refetch:
            again.append(mention)
            continue
        if mention.id in data.truth:
            raise AssertionError(f"two demo mentions share the id {mention.id}")
        data.truth[mention.id] = event.truth
        firsts.append(mention)
    data.mentions = firsts
    data.refetches = len(again)
    enricher = Enricher(TruthPredictor(by_text), model="demo-truth", model_version="truth", with_embeddings=False)
    return data, enrich(enricher, firsts), enrich(enricher, again)


def enrich(enricher: Enricher, mentions: Sequence[Mention]) -> list[EnrichedMention]:
    """Enriched like the worker does it, with ``ingested_at`` a second after the fetch."""
    out: list[EnrichedMention] = []
    for i in range(0, len(mentions), BATCH):
        chunk = mentions[i : i + BATCH]
        out.extend(enricher.enrich(chunk, [m.fetched_at + timedelta(seconds=1) for m in chunk]))
    return out


def write(client: Client, database: str, *batches: Sequence[EnrichedMention]) -> None:
    """Migrate ``database`` and write every batch through the real writer (dedup token per chunk)."""
    apply_migrations(client, database)
    writer = MentionWriter(client, database)
    for number, records in enumerate(batches):
        for i in range(0, len(records), BATCH):
            writer.write(records[i : i + BATCH], dedup_token=f"demo-dataset/{number}/{i}")


def incidents(client: Client, database: str, data: DemoDataset) -> list[IncidentEvent]:
    """The demo's incidents, each step with the context (top posts, topics, ...) read from the written mentions."""
    brand, crisis = data.brand, data.crisis_start
    old = data.end - timedelta(days=3)
    steps = [
        # (incident, seq, stage, signal, severity, opened_at, at, summary, terms)
        ("demo-negative-share", 0, "opened", "negative_share", "high", crisis, crisis + timedelta(minutes=10),
         "negative share 2.4x its baseline", []),
        ("demo-negative-share", 1, "escalated", "negative_share", "critical", crisis, crisis + timedelta(minutes=30),
         "negative share 3.1x its baseline, spreading to 4 languages", []),
        ("demo-theme", 0, "opened", "theme", "high", crisis + timedelta(minutes=5), crisis + timedelta(minutes=20),
         "new theme: battery fire while charging", ["accu", "brand", "battery", "fire"]),
        ("demo-volume", 0, "opened", "volume", "medium", old, old + timedelta(minutes=15),
         "mentions 3x their baseline", []),
        ("demo-volume", 1, "resolved", "volume", "medium", old, old + timedelta(hours=2), "back to baseline", []),
    ]  # fmt: skip
    events = []
    for incident, seq, stage, signal, severity, opened_at, at, summary, terms in steps:
        context = read_context(client, database, Window(brand, opened_at, at))
        events.append(
            IncidentEvent.model_validate(
                {
                    "incident_id": incident,
                    "event_id": event_id(incident, seq),
                    "seq": seq,
                    "stage": stage,
                    "brand": brand,
                    "signal": signal,
                    "severity": severity,
                    "opened_at": opened_at,
                    "at": at,
                    "observed": 0.62 if signal == "negative_share" else 3.0,
                    "expected": 0.26 if signal == "negative_share" else 1.0,
                    "score": 0.99,
                    "summary": summary,
                    "top_posts": context.top_posts,
                    "top_topics": context.top_topics,
                    "top_intents": context.top_intents,
                    "languages": context.languages,
                    "terms": terms,
                }
            )
        )
    return events


@cache
def cached_build() -> tuple[DemoDataset, list[EnrichedMention], list[EnrichedMention]]:
    """:func:`build` once per test process (about 5 s); every test module writes it into its own engine."""
    return build()


@contextmanager
def demo_database(directory: Path, database: str = "luister") -> Iterator[tuple[Client, DemoDataset]]:
    """The data set written into a fresh embedded engine in ``directory``; the client is closed afterwards.

    chDB allows one engine path per process at a time: use it with module scope, never two at once.
    """
    data, firsts, again = cached_build()
    client = open_client(ClickHouseSettings(database=database), directory)
    try:
        write(client, database, firsts, again)
        IncidentWriter(client, database).write(incidents(client, database, data))
        yield client, data
    finally:
        client.close()
