"""Step 3: one model call per batch of mentions → :class:`~pipeline.schema.EnrichedMention` records.

Blocking (the model runs here): the worker calls :meth:`Enricher.enrich` from a single dedicated thread, so
there is exactly one batch in the model at a time and the stream buffer in front of it is the bounded queue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from models.predictions import Predictions
from pipeline.schema import EnrichedMention, Enrichment, Mention, Sentiment, utcnow

SENTIMENTS: tuple[Sentiment, Sentiment, Sentiment] = ("negative", "neutral", "positive")
NO_TEXT_MODEL = "none"
"""``model`` of mentions with no text (an image-only post): they are stored, labelled neutral/other, never guessed."""


class ModelUnavailableError(RuntimeError):
    """The predictor cannot answer anything right now (its process will not start), whatever the batch: the
    worker retries the batch later instead of blaming the mentions in it."""


class Predictor(Protocol):
    def predict(self, texts: Sequence[str]) -> Predictions: ...


class Enricher:
    def __init__(
        self,
        predictor: Predictor,
        model: str,
        model_version: str,
        with_embeddings: bool = True,
        max_chars: int = 10_000,
    ) -> None:
        self.predictor = predictor
        self.max_chars = max_chars
        self.model = model
        self.model_version = model_version
        self.with_embeddings = with_embeddings

    def enrich(self, mentions: Sequence[Mention], ingested_at: Sequence[datetime]) -> list[EnrichedMention]:
        """Row-aligned with ``mentions``; exactly one ``predict`` call for all mentions that have text."""
        texted = [i for i, m in enumerate(mentions) if m.text.strip()]
        # Cut before tokenising: the model truncates to its token limit anyway, and a 100k-character post
        # would otherwise cost the whole batch its latency.
        preds = self.predictor.predict([mentions[i].text[: self.max_chars] for i in texted]) if texted else None
        row = {i: r for r, i in enumerate(texted)}
        now = utcnow()
        out = []
        for i, mention in enumerate(mentions):
            if preds is None or i not in row:
                enrichment = self._no_text(now)
            else:
                enrichment = self._from_predictions(preds, row[i], now, len(mention.text) > self.max_chars)
            out.append(EnrichedMention(mention=mention, enrichment=enrichment, ingested_at=ingested_at[i]))
        return out

    def _from_predictions(self, preds: Predictions, r: int, now: datetime, cut: bool) -> Enrichment:
        scores = preds.sentiment_scores[r]
        intent_scores = preds.intent_scores[r]
        return Enrichment(
            lang=preds.lang[r],
            lang_confidence=round(float(preds.lang_confidence[r]), 4),
            sentiment=SENTIMENTS[int(np.argmax(scores))],
            sentiment_scores={k: round(float(v), 5) for k, v in zip(SENTIMENTS, scores, strict=True)},
            intent=preds.intent[r],
            intent_score=round(float(intent_scores.max()), 5) if intent_scores.size else 0.0,
            topics=[t for t, _ in preds.topics[r]],
            topic_scores=[round(float(s), 5) for _, s in preds.topics[r]],
            truncated=cut or preds.truncated[r],
            embedding=[round(float(v), 6) for v in preds.embeddings[r]] if self.with_embeddings else None,
            model=self.model,
            model_version=self.model_version,
            enriched_at=now,
        )

    @staticmethod
    def _no_text(now: datetime) -> Enrichment:
        return Enrichment(
            lang="und",
            lang_confidence=0.0,
            sentiment="neutral",
            sentiment_scores={"negative": 0.0, "neutral": 1.0, "positive": 0.0},
            intent="other",
            intent_score=0.0,
            topics=[],
            topic_scores=[],
            model=NO_TEXT_MODEL,
            model_version="",
            enriched_at=now,
        )


def model_version(*files: Path | None) -> str:
    """A short fingerprint of the trained files in use (adapters, heads, label sets): it changes when they do."""
    digest = hashlib.blake2b(digest_size=6)
    for path in files:
        if path is None:
            continue
        for part in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if part.is_file():
                digest.update(part.name.encode())
                digest.update(part.read_bytes())
    return digest.hexdigest()
