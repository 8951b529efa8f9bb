"""Words that characterise a cluster of posts: class-based TF-IDF against the brand's other negative posts.

``c-TF-IDF(t, c) = tf(t, c) · log(1 + A / f(t))`` (Grootendorst, BERTopic): ``tf`` the term's share of the cluster's
words, ``f(t)`` its frequency in the background (every negative post of the brand, decayed), ``A`` the average
number of words per class. Counts are bounded (the least frequent terms are pruned) so memory stays flat.
"""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_URL = re.compile(r"https?://\S+")
# function words of the pipeline's languages (en, nl, de, fr, es) that are never a theme
_STOPWORDS = """
the and for are was were this that with have has had not but you your they them their our from what when will
would could should there here about just been being into than then very can all any its out get got
een het van dat die niet voor met zijn maar ook als nog bij wel naar wat heb hebben mijn jullie deze dan
der das und nicht mit ist ein eine sich auf für den dem des von wie auch noch bei aber wir ihr mein
les une est pas que qui pour dans avec sur mais mon mes vous nous ont sont plus
los las una por con para pero mis sus del como más está muy
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(_URL.sub(" ", text.casefold())) if w not in STOPWORDS]


class TermCounts:
    """Bounded word counts: past ``2 · capacity`` words, only the ``capacity`` most frequent are kept."""

    def __init__(self, capacity: int = 2_000) -> None:
        self.capacity = capacity
        self.counts: dict[str, float] = {}

    def add(self, text: str, weight: float = 1.0) -> None:
        for word in words(text):
            self.counts[word] = self.counts.get(word, 0.0) + weight
        if len(self.counts) > 2 * self.capacity:
            kept = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.capacity]
            self.counts = dict(kept)

    def decay(self, factor: float) -> None:
        for word in list(self.counts):
            self.counts[word] *= factor
            if self.counts[word] < 1e-3:
                del self.counts[word]

    @property
    def total(self) -> float:
        return float(sum(self.counts.values()))


def characterising_terms(cluster: TermCounts, background: TermCounts, classes: int, top: int = 5) -> list[str]:
    """The ``top`` words of ``cluster`` by c-TF-IDF; ties broken alphabetically (deterministic)."""
    total = cluster.total
    if total <= 0:
        return []
    avg_words = max(background.total / max(classes, 1), 1.0)
    scored = []
    for word, count in cluster.counts.items():
        frequency = background.counts.get(word, 0.0) + count
        scored.append((-(count / total) * math.log(1.0 + avg_words / frequency), word))
    scored.sort()
    return [word for _, word in scored[:top]]
