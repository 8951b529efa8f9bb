"""Zero-shot heads from user-editable YAML: each label is described by example phrases in any language.

A post's score for a label is the mean cosine similarity to that label's ``top_k`` most similar example
phrases (a soft nearest-neighbour; steadier than one centroid when a label covers several situations).
Similarities are taken after subtracting the mean of all example embeddings: e5's raw cosines all sit
in a narrow band (0.82-0.88 here), and centring spreads them so one threshold means something.
Editing the YAML changes the head at the next load, with no training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from models.heads import softmax

Array = npt.NDArray[np.float32]
Embed = Callable[[list[str]], Array]


class LabelSetError(ValueError):
    """A taxonomy/intents file is missing, not YAML, or not in the documented format."""


@dataclass(frozen=True)
class Label:
    key: str
    name: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class LabelSet:
    labels: tuple[Label, ...]
    threshold: float
    margin: float
    source: str

    @property
    def keys(self) -> list[str]:
        return [label.key for label in self.labels]


def load_label_set(path: Path, section: str) -> LabelSet:
    """Read ``section`` (``topics`` or ``intents``) from a YAML file; every label needs ≥ 1 example."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabelSetError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise LabelSetError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get(section), dict) or not doc[section]:
        raise LabelSetError(f"{path} needs a non-empty mapping '{section}:'")
    labels = []
    for key, spec in doc[section].items():
        if not isinstance(spec, dict):
            raise LabelSetError(f"{path}: {section}.{key} must be a mapping with 'examples'")
        examples = spec.get("examples") or []
        if (
            not isinstance(examples, list)
            or not all(isinstance(e, str) and e.strip() for e in examples)
            or not examples
        ):
            raise LabelSetError(f"{path}: {section}.{key}.examples must be a non-empty list of phrases")
        labels.append(Label(str(key), str(spec.get("label", key)), str(spec.get("description", "")), tuple(examples)))
    threshold, margin = doc.get("threshold", 0.2), doc.get("margin", 0.05)
    if not isinstance(threshold, int | float) or not isinstance(margin, int | float):
        raise LabelSetError(f"{path}: threshold and margin must be numbers")
    return LabelSet(tuple(labels), float(threshold), float(margin), str(path))


class PrototypeHead:
    """Scores embeddings against the embedded examples of a :class:`LabelSet`."""

    def __init__(self, label_set: LabelSet, embed: Embed, top_k: int = 3) -> None:
        self.label_set = label_set
        self.top_k = top_k
        phrases = [e for label in label_set.labels for e in label.examples]
        owners = np.array([i for i, label in enumerate(label_set.labels) for _ in label.examples])
        examples = embed(phrases)
        self._center = examples.mean(axis=0)
        self._examples = _unit(examples - self._center)
        self._owners = owners

    @property
    def keys(self) -> list[str]:
        return self.label_set.keys

    def similarities(self, x: Array) -> Array:
        """(n_posts, n_labels): mean of the top-k example similarities per label."""
        sims = _unit(x - self._center) @ self._examples.T
        out = np.zeros((x.shape[0], len(self.label_set.labels)), dtype=np.float32)
        for j in range(len(self.label_set.labels)):
            cols = sims[:, self._owners == j]
            k = min(self.top_k, cols.shape[1])
            out[:, j] = np.sort(cols, axis=1)[:, -k:].mean(axis=1)
        return out

    def single_label(self, x: Array, temperature: float = 0.03) -> tuple[list[str], Array]:
        """Argmax label per post and a softmax over labels (sharpened: cosine gaps are small)."""
        probs = softmax(self.similarities(x) / temperature)
        return [self.keys[i] for i in probs.argmax(axis=1)], probs

    def multi_label(
        self, x: Array, threshold: float | None = None, margin: float | None = None
    ) -> list[list[tuple[str, float]]]:
        """Labels scoring ≥ ``threshold`` and within ``margin`` of the post's best label, best first."""
        t = self.label_set.threshold if threshold is None else threshold
        margin = self.label_set.margin if margin is None else margin
        sims = self.similarities(x)
        out = []
        for row in sims:
            best = float(row.max())
            picked = [(self.keys[j], float(s)) for j, s in enumerate(row) if s >= t and s >= best - margin]
            out.append(sorted(picked, key=lambda kv: -kv[1]))
        return out


def _unit(x: Array) -> Array:
    out: Array = (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)
    return out
