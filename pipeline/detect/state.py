"""A brand detector's state as JSON-able data, and back: a snapshot taken at a fixed time plus a replay of the
buckets after it rebuilds exactly the state of an uninterrupted run, with a bounded replay.

Floats survive JSON exactly (``repr`` round-trips), so a restored detector makes bit-identical decisions.
Sample posts are kept without their embeddings (the clusters keep their centroids).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from datetime import datetime
from typing import Any

import numpy as np

from pipeline.detect.buckets import NegativePost
from pipeline.detect.terms import TermCounts
from pipeline.detect.themes import Cluster, ThemeTracker

STATE_VERSION = 2


def post_to_state(post: NegativePost) -> dict[str, Any]:
    data = asdict(post)
    data["created_at"] = post.created_at.isoformat()
    data["embedding"] = None
    return data


def post_from_state(data: dict[str, Any]) -> NegativePost:
    return NegativePost(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})


def themes_to_state(tracker: ThemeTracker) -> dict[str, Any]:
    return {
        "first_post": tracker.first_post,
        "background": tracker.background.counts,
        "clusters": [
            {
                "id": c.cluster_id,
                "founded": c.founded,
                "centroid": [float(x) for x in c.centroid],
                "weight": c.weight,
                "size": c.size,
                "recent": list(c.recent),
                "samples": [[sim, reach, post_to_state(p)] for sim, reach, p in c.samples],
                "terms": c.terms.counts,
            }
            for c in tracker.clusters.values()
        ],
    }


def themes_from_state(tracker: ThemeTracker, state: dict[str, Any]) -> None:
    tracker.first_post = state["first_post"]
    tracker.background.counts = dict(state["background"])
    tracker.clusters = {}
    for c in state["clusters"]:
        terms = TermCounts(capacity=300)
        terms.counts = dict(c["terms"])
        tracker.clusters[c["id"]] = Cluster(
            c["id"],
            c["founded"],
            np.asarray(c["centroid"], dtype=np.float64),
            c["weight"],
            c["size"],
            deque(c["recent"]),
            [(sim, reach, post_from_state(p)) for sim, reach, p in c["samples"]],
            terms,
        )
    if tracker.clusters:
        tracker.rebuild()
