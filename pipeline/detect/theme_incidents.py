"""Theme incidents of one brand: one lifecycle per emerging cluster, with its posts and characterising words."""

from __future__ import annotations

from pipeline.detect.buckets import NegativePost
from pipeline.detect.channel import Assessment
from pipeline.detect.config import DetectorConfig
from pipeline.detect.lifecycle import IncidentTracker
from pipeline.detect.themes import Cluster, ThemeTracker
from pipeline.incidents import ExamplePost, IncidentEvent

TOP_POSTS = 3


def example(post: NegativePost) -> ExamplePost:
    return ExamplePost(
        mention_id=post.mention_id,
        platform=post.platform,
        url=post.url,
        author_handle=post.author_handle,
        author_followers=post.author_followers,
        text=post.text[:2_000],
        created_at=post.created_at,
        lang=post.lang,
        sentiment="negative",
        intent=post.intent,
        reach=max(post.reach, 0),
    )


class ThemeIncidents:
    def __init__(self, brand: str, interval_s: float, config: DetectorConfig) -> None:
        self.brand = brand
        self.interval_s = interval_s
        self.config = config
        self.tracker = ThemeTracker(interval_s, config)
        self.open: dict[str, IncidentTracker] = {}
        self.posts_since: float | None = None
        """End of the first bucket that carried posts with embeddings. A cluster is "new" only against a baseline
        of ``theme_baseline_s`` of such posts: counts-only history (a replay from the rollups, a seeded past)
        teaches the theme tracker nothing, so it must not alert until it has seen that much itself."""

    def _score(self, posts: int, new: bool) -> float:
        return min(1.0, 0.5 * posts / self.config.theme_min_posts) if new else 0.0

    def _enrich(self, event: IncidentEvent, cluster: Cluster) -> IncidentEvent:
        samples = sorted(cluster.samples, key=lambda s: (-s[1], s[2].mention_id))[:TOP_POSTS]
        terms = self.tracker.terms(cluster)
        summary = f"new theme: {cluster.size} similar negative posts ({', '.join(terms[:3])})"
        return event.model_copy(
            update={"top_posts": [example(s[2]) for s in samples], "terms": terms, "summary": summary}
        )

    def observe(self, end: float, posts: tuple[NegativePost, ...], warm_since: float) -> list[IncidentEvent]:
        start = end - self.interval_s
        if self.posts_since is None and any(p.embedding is not None for p in posts):
            self.posts_since = start
        if self.posts_since is None or end - self.posts_since < self.config.theme_baseline_s:
            warm_since = max(warm_since, (self.posts_since or end) + self.config.theme_baseline_s)
        themes = {t.cluster.cluster_id: t for t in self.tracker.observe(end, posts, warm_since)}
        events: list[IncidentEvent] = []
        for cluster_id in sorted(set(themes) | set(self.open)):
            theme = themes.get(cluster_id)
            warm = end >= warm_since
            if theme is None:
                a = Assessment(start, 0.0, 0.0, 1, 0.0, 0.0, warm)
                cluster = self.tracker.clusters.get(cluster_id)
            else:
                score = self._score(theme.posts_in_window, theme.new)
                window = round(self.config.theme_window_s / self.interval_s)
                a = Assessment(start, float(theme.posts_in_window), 0.0, window, 0.0, score, warm)
                cluster = theme.cluster
            tracker = self.open.get(cluster_id)
            if tracker is None:
                if not a.anomalous:
                    continue
                tracker = IncidentTracker(self.brand, None, "theme", self.interval_s, self.config, key=cluster_id)
            steps = tracker.step(a, lambda _: float(self.config.theme_min_posts), lambda _: "")
            if cluster is not None:
                steps = [self._enrich(e, cluster) for e in steps]
            events += steps
            if tracker.open is None:
                self.open.pop(cluster_id, None)
            else:
                self.open[cluster_id] = tracker
        return events
