"""The demo stream's past, written straight into the database with the labels the demo knows it wrote.

The detector learns a baseline before it may alert (days of per-minute counts, see docs/detection.md); a freshly
started pipeline has none. Pushing days of traffic through the model would take hours on a CPU, so benchmarks
that need a warm detector seed the history here instead: the same :class:`~connectors.demo.DemoStream` that then
continues live, so past and present are one simulation. Seeded rows carry the demo's ground truth as their
enrichment and say so: ``model = 'demo-truth'``, ``model_version = 'seed'``, no embedding. Live rows go through
the real model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from connectors.demo import DemoEvent, DemoStream
from pipeline.schema import EnrichedMention, Enrichment, Sentiment
from pipeline.settings import ClickHouseSettings
from pipeline.storage import MentionWriter, open_database

SEED_MODEL = "demo-truth"
BATCH = 20_000
_SCORES: dict[Sentiment, dict[Sentiment, float]] = {
    s: {o: (0.9 if o == s else 0.05) for o in ("negative", "neutral", "positive")}
    for s in ("negative", "neutral", "positive")
}


def labelled(event: DemoEvent) -> EnrichedMention:
    m, t = event.mention, event.truth
    enrichment = Enrichment(
        lang=t.lang,
        lang_confidence=1.0,
        sentiment=t.sentiment,
        sentiment_scores=_SCORES[t.sentiment],
        intent=t.intent,
        intent_score=1.0,
        topics=list(t.topics),
        topic_scores=[1.0] * len(t.topics),
        model=SEED_MODEL,
        model_version="seed",
        enriched_at=m.fetched_at + timedelta(seconds=1),
    )
    return EnrichedMention(mention=m, enrichment=enrichment, ingested_at=m.fetched_at)


def seed(
    stream: DemoStream,
    until: datetime,
    data_dir: Path,
    settings: ClickHouseSettings,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, DemoEvent | None]:
    """Write ``stream``'s history up to ``until`` into the embedded engine in ``data_dir`` (or the configured
    server). Returns how many rows were written and the first event at or after ``until`` (not written), which the
    caller publishes live before continuing with the stream."""
    client = open_database(settings, data_dir, repair_hours=0)
    written = 0
    try:
        writer = MentionWriter(client, settings.database)
        batch: list[EnrichedMention] = []
        boundary: DemoEvent | None = None
        for event in stream.events():
            if event.mention.fetched_at >= until:
                boundary = event
                break
            batch.append(labelled(event))
            if len(batch) >= BATCH:
                writer.write(batch, f"seed-{written}-{time.time_ns()}")
                written += len(batch)
                batch = []
                if progress:
                    progress(written)
        if batch:
            writer.write(batch, f"seed-{written}-{time.time_ns()}")
            written += len(batch)
    finally:
        client.close()
    return written, boundary
