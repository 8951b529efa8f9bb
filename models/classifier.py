"""Texts in, one result per text out: language, sentiment, intent, topics and the post embedding.

Contract of :meth:`Classifier.classify_posts`: one output object per input post, in order. A post that
cannot be classified (empty, not UTF-8, bad JSON, no text) gets ``{"id", "line", "error"}``; it is never
dropped and never raises. Over-long posts are truncated (``max_chars`` characters, then ``max_length``
tokens) and say so with ``"truncated": true``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from models.datasets import SENTIMENT_LABELS
from models.encoder import Encoded, EncoderOptions, TextEncoder
from models.heads import LinearHead
from models.langid import LanguageIdentifier
from models.predictions import Predictions
from models.prototypes import PrototypeHead, load_label_set

Array = npt.NDArray[np.float32]

__all__ = ["Classifier", "ClassifierOptions", "Post", "Predictions", "read_posts"]


@dataclass(frozen=True)
class ClassifierOptions:
    encoder: EncoderOptions = field(default_factory=EncoderOptions)
    sentiment_head: Path | None = None  # directory with sentiment.safetensors/.json
    sentiment_model: str | None = None  # a sequence-classification model instead of the head
    topics: Path | None = None
    intents: Path | None = None
    languages: list[str] | None = None


@dataclass(frozen=True)
class Post:
    """One input line: either a text to classify or the reason it cannot be."""

    line: int
    id: str
    text: str | None
    error: str | None = None
    truncated: bool = False


class Classifier:
    def __init__(self, options: ClassifierOptions | None = None) -> None:
        self.options = opts = options or ClassifierOptions()
        self.encoder = TextEncoder(opts.encoder)
        self.langid = LanguageIdentifier(opts.languages)
        self.sentiment_head: LinearHead | None = None
        self.sentiment_model: SequenceClassifierSentiment | None = None
        if opts.sentiment_model:
            self.sentiment_model = SequenceClassifierSentiment(opts.sentiment_model, self.encoder.device)
        elif opts.sentiment_head is not None:
            self.sentiment_head = LinearHead.load(opts.sentiment_head, "sentiment")
            if self.sentiment_head.labels != list(SENTIMENT_LABELS):
                raise ValueError(f"sentiment head labels {self.sentiment_head.labels} are not {SENTIMENT_LABELS}")
        else:
            raise ValueError("no sentiment head or sentiment model configured")

        def embed(texts: list[str]) -> Array:
            return self.encoder.encode(texts).embeddings

        self.intents = PrototypeHead(load_label_set(opts.intents, "intents"), embed) if opts.intents else None
        self.topics = PrototypeHead(load_label_set(opts.topics, "topics"), embed) if opts.topics else None

    def predict(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> Predictions:
        """Run every head on ``texts`` (already validated, non-empty) with one encoder pass."""
        encoded = self.encoder.encode(texts, progress=progress)
        emb = encoded.embeddings
        sent_scores = self._sentiment_scores(texts, encoded)
        guesses = self.langid.identify(texts)
        n = len(texts)
        if self.intents is not None:
            intent, intent_scores = self.intents.single_label(emb)
        else:
            intent, intent_scores = ["other"] * n, np.zeros((n, 0), np.float32)
        topics = self.topics.multi_label(emb) if self.topics is not None else [[] for _ in range(n)]
        return Predictions(
            lang=[g.code for g in guesses],
            lang_confidence=[g.confidence for g in guesses],
            sentiment=[SENTIMENT_LABELS[i] for i in sent_scores.argmax(axis=1)],
            sentiment_scores=sent_scores,
            intent=intent,
            intent_scores=intent_scores,
            topics=topics,
            embeddings=emb,
            truncated=[bool(t) for t in encoded.truncated],
        )

    def sentiment_labels(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Sentiment only (no language ID, intents or topics): what evaluation needs."""
        scores = self._sentiment_scores(texts, self.encoder.encode(texts, progress=progress))
        return [SENTIMENT_LABELS[i] for i in scores.argmax(axis=1)]

    def _sentiment_scores(self, texts: Sequence[str], encoded: Encoded) -> Array:
        if self.sentiment_model is not None:
            return self.sentiment_model.predict_proba(texts, self.encoder.max_length)
        assert self.sentiment_head is not None
        return self.sentiment_head.predict_proba(encoded.adapted if encoded.adapted is not None else encoded.embeddings)

    def classify_posts(self, posts: Sequence[Post], with_embedding: bool = False) -> list[dict[str, Any]]:
        """One JSON-ready dict per post, in order; invalid posts become error objects."""
        good = [p for p in posts if p.text is not None and p.error is None]
        preds = self.predict([p.text for p in good if p.text is not None]) if good else None
        row_of = {id(p): i for i, p in enumerate(good)}
        out: list[dict[str, Any]] = []
        for post in posts:
            if id(post) not in row_of or preds is None:
                out.append({"id": post.id, "line": post.line, "error": post.error or "no text"})
                continue
            i = row_of[id(post)]
            intent_keys = self.intents.keys if self.intents else []
            result: dict[str, Any] = {
                "id": post.id,
                "lang": preds.lang[i],
                "lang_confidence": round(preds.lang_confidence[i], 3),
                "sentiment": {
                    "label": preds.sentiment[i],
                    "scores": {
                        k: round(float(v), 4) for k, v in zip(SENTIMENT_LABELS, preds.sentiment_scores[i], strict=True)
                    },
                },
                "intent": {
                    "label": preds.intent[i],
                    "scores": {k: round(float(v), 4) for k, v in zip(intent_keys, preds.intent_scores[i], strict=True)},
                },
                "topics": [{"topic": k, "score": round(s, 4)} for k, s in preds.topics[i]],
            }
            if post.truncated or preds.truncated[i]:
                result["truncated"] = True
            if with_embedding:
                result["embedding"] = [round(float(v), 5) for v in preds.embeddings[i]]
            out.append(result)
        return out


class SequenceClassifierSentiment:
    """A Hugging Face sequence-classification model used as the sentiment head (its own forward pass).

    Its labels are mapped onto negative/neutral/positive by name (``negative``/``neg``/``LABEL_0`` …).
    """

    def __init__(self, name_or_path: str, device: Any) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        self.model = AutoModelForSequenceClassification.from_pretrained(name_or_path).eval().to(device)
        self.device = device
        id2label = {int(k): str(v).lower() for k, v in self.model.config.id2label.items()}
        self.order = [self._index(id2label, wanted) for wanted in SENTIMENT_LABELS]

    @staticmethod
    def _index(id2label: dict[int, str], wanted: str) -> int:
        for i, name in id2label.items():
            if name in (wanted, wanted[:3]) or name.startswith(wanted[:3]):
                return i
        fallback = {"negative": 0, "neutral": 1, "positive": 2}[wanted]
        if len(id2label) == 3 and id2label.get(fallback, "").startswith("label_"):
            return fallback
        raise ValueError(f"cannot map the model's labels {sorted(id2label.values())} to {wanted}")

    def predict_proba(self, texts: Sequence[str], max_length: int, batch_size: int = 32) -> Array:
        import torch

        chunks = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                logits = self.model(**enc).logits.float()
            chunks.append(torch.softmax(logits, dim=-1)[:, self.order].cpu().numpy())
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros((0, 3), np.float32)


def read_posts(stream: IO[bytes], chunk_size: int, max_chars: int = 10_000) -> Iterator[list[Post]]:
    """Parse lines of plain text or JSON lines into :class:`Post` chunks; never raises on bad content.

    The format is decided by the first non-empty line: a JSON object there means JSON lines.
    """
    jsonl: bool | None = None
    chunk: list[Post] = []
    for number, raw in enumerate(stream, start=1):
        line_id = str(number)
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            chunk.append(Post(number, line_id, None, f"line is not valid UTF-8 (byte {exc.start})"))
            line = None
        if line is not None:
            if jsonl is None and line.strip():
                jsonl = _is_json_object(line)
            chunk.append(_parse_line(number, line, bool(jsonl), max_chars))
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _parse_line(number: int, line: str, jsonl: bool, max_chars: int) -> Post:
    post_id = str(number)
    text: object = line
    if jsonl:
        if not line.strip():
            return Post(number, post_id, None, "empty line")
        try:
            obj = json.loads(line)
        except ValueError as exc:
            return Post(number, post_id, None, f"invalid JSON: {exc}")
        if not isinstance(obj, dict):
            return Post(number, post_id, None, "JSON line is not an object")
        if obj.get("id") is not None:
            post_id = str(obj["id"])
        text = obj.get("text")
        if not isinstance(text, str):
            return Post(number, post_id, None, "JSON object has no string field 'text'")
    assert isinstance(text, str)
    if not text.strip():
        return Post(number, post_id, None, "empty post (no text after trimming whitespace)")
    if len(text) > max_chars:
        return Post(number, post_id, text[:max_chars], truncated=True)
    return Post(number, post_id, text)
