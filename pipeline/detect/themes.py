"""Emerging themes: a growing cluster of similar negative posts that did not exist in the baseline period.

Online leader clustering of one brand's negative posts by their encoder embeddings (L2-normalised, cosine
similarity = dot product): a post joins the most similar cluster when the similarity is at least
``theme_similarity``, otherwise it founds a new one. A cluster is *new* when it was founded less than
``theme_baseline_s`` ago, after the brand's warm-up; a new cluster with at least ``theme_min_posts`` posts in the
last ``theme_window_s`` is an emerging theme. A theme that already existed (founded earlier) never raises one: its
surges show in the count signals. Memory is bounded: at most ``theme_max_clusters`` clusters per brand (the one
with the least decayed weight is dropped), a few sample posts and a bounded word count per cluster.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from pipeline.detect.buckets import NegativePost
from pipeline.detect.config import DetectorConfig
from pipeline.detect.terms import TermCounts, characterising_terms

SAMPLES = 20


@dataclass
class Cluster:
    cluster_id: str
    founded: float
    centroid: np.ndarray  # float64, L2-normalised
    weight: float = 0.0  # decayed post count (eviction order)
    size: int = 0
    recent: deque[float] = field(default_factory=deque)  # post times within the theme window
    samples: list[tuple[float, int, NegativePost]] = field(default_factory=list)  # (similarity, reach, post)
    terms: TermCounts = field(default_factory=lambda: TermCounts(capacity=300))


@dataclass(frozen=True, slots=True)
class Theme:
    """A cluster's standing at the end of a bucket."""

    cluster: Cluster
    posts_in_window: int
    new: bool


class ThemeTracker:
    def __init__(self, interval_s: float, config: DetectorConfig) -> None:
        self.config = config
        self._decay = math.exp(-interval_s / config.theme_baseline_s)
        self.clusters: dict[str, Cluster] = {}
        self._ids: list[str] = []  # row order of the centroid matrix
        self._matrix = np.zeros((0, 0))
        self.background = TermCounts(capacity=5_000)
        self.first_post: float | None = None

    def _assign(self, at: float, post: NegativePost) -> Cluster | None:
        if post.embedding is None:
            return None
        vector = np.array(post.embedding, dtype=np.float64)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0 or not math.isfinite(norm):
            return None
        vector /= norm
        best, best_sim, row = None, -1.0, -1
        if self._ids:
            if self._matrix.shape[1] != vector.shape[0]:
                return None  # a different encoder's embedding: not comparable
            sims = self._matrix @ vector
            row = int(np.argmax(sims))
            best, best_sim = self.clusters[self._ids[row]], float(sims[row])
        if best is None or best_sim < self.config.theme_similarity:
            digest = hashlib.blake2b(post.mention_id.encode(), digest_size=6).hexdigest()
            best = Cluster(f"{int(at)}-{digest}", at, vector.copy())
            best_sim = 1.0
            self.clusters[best.cluster_id] = best
            self._bound()
            self.rebuild()
        else:
            mixed = best.centroid * best.size + vector
            best.centroid = mixed / float(np.linalg.norm(mixed))
            self._matrix[row] = best.centroid
        best.size += 1
        best.weight += 1.0
        best.recent.append(at)
        best.terms.add(post.text)
        best.samples.append((round(best_sim, 6), post.reach, post))
        best.samples.sort(key=lambda s: (-s[0], -s[1], s[2].mention_id))
        del best.samples[SAMPLES:]
        return best

    def rebuild(self) -> None:
        self._ids = list(self.clusters)
        self._matrix = np.stack([self.clusters[i].centroid for i in self._ids])

    def _bound(self) -> None:
        while len(self.clusters) > self.config.theme_max_clusters:
            victim = min(self.clusters.values(), key=lambda c: (c.weight, c.founded, c.cluster_id))
            del self.clusters[victim.cluster_id]

    def observe(self, end: float, posts: tuple[NegativePost, ...], warm_since: float) -> list[Theme]:
        """Learn the bucket's negative posts (in the bucket ending at ``end``); the clusters they touched or that
        are still counted in the window, with their standing."""
        cfg = self.config
        touched: dict[str, Cluster] = {}
        for post in sorted(posts, key=lambda p: (p.created_at, p.mention_id)):
            at = min(post.created_at.timestamp(), end)
            if self.first_post is None:
                self.first_post = at
            self.background.add(post.text)
            cluster = self._assign(at, post)
            if cluster is not None:
                touched[cluster.cluster_id] = cluster
        out = []
        for cluster in self.clusters.values():
            cluster.weight *= self._decay
            while cluster.recent and cluster.recent[0] <= end - cfg.theme_window_s:
                cluster.recent.popleft()
            if cluster.recent or cluster.cluster_id in touched:
                new = cluster.founded >= warm_since and cluster.founded > end - cfg.theme_baseline_s
                out.append(Theme(cluster, len(cluster.recent), new))
        out.sort(key=lambda t: t.cluster.cluster_id)
        return out

    def terms(self, cluster: Cluster) -> list[str]:
        return characterising_terms(cluster.terms, self.background, max(len(self.clusters), 1))
