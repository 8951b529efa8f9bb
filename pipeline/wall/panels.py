"""Which panels the wall page shows, and how a request for one brand and time range becomes plain ClickHouse SQL.

Every query comes from ``dashboards/panels/wall.py`` (the Grafana wall dashboard runs the same text) and is
rendered here, server side, with :func:`dashboards.panels.render`: the browser only chooses a brand and a number
of hours, never SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashboards.panels import SqlPanelQuery, TimeRange, render
from dashboards.panels import wall as q

PANELS: tuple[SqlPanelQuery, ...] = (
    q.headline,
    q.volume_by_sentiment,
    q.negative_share_band,
    q.share_of_voice,
    q.share_of_voice_over_time,
    q.top_topics,
    q.top_intents,
    q.high_reach_negative,
    q.languages,
    q.platforms,
)
"""The panels on the page, in the order they are queried. The open-incident banner is :data:`INCIDENTS`."""
INCIDENTS = q.open_incidents
BRANDS = q.brands

DEFAULT_HOURS = 6
MAX_HOURS = 30 * 24
"""The brand list looks back 30 days; a longer range would show brands the selector cannot offer."""
MAX_BRAND_CHARS = 256
"""The schema's limit on a brand name."""
INTERVAL_STEPS_S = (60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
TARGET_POINTS = 120
"""At most this many intervals per chart: one a few pixels wide on a wall screen."""


class WallRequestError(ValueError):
    """The page's query string asks for something the wall cannot show (the view answers 400)."""


@dataclass(frozen=True, slots=True)
class WallRequest:
    brand: str | None
    """None: the default brand (:func:`pipeline.wall.data.default_brand`)."""
    hours: int


def parse_request(params: Mapping[str, str]) -> WallRequest:
    """``?brand=..&hours=..`` → a request; ``WallRequestError`` for a missing/odd brand or hours outside 1..30 days."""
    raw_hours = params.get("hours", "").strip() or str(DEFAULT_HOURS)
    try:
        hours = int(raw_hours)
    except ValueError:
        raise WallRequestError(f"hours must be a whole number, got {raw_hours!r}") from None
    if not 1 <= hours <= MAX_HOURS:
        raise WallRequestError(f"hours must be between 1 and {MAX_HOURS}, got {hours}")
    brand = params.get("brand", "").strip() or None
    if brand is not None and len(brand) > MAX_BRAND_CHARS:
        raise WallRequestError(f"brand names have at most {MAX_BRAND_CHARS} characters")
    return WallRequest(brand=brand, hours=hours)


def interval_for(hours: int) -> int:
    """Chart interval in seconds: the smallest step giving at most :data:`TARGET_POINTS` intervals."""
    span_s = hours * 3600
    for step in INTERVAL_STEPS_S:
        if span_s / step <= TARGET_POINTS:
            return step
    return INTERVAL_STEPS_S[-1]


def time_range(hours: int, now: datetime) -> TimeRange:
    """The last ``hours`` up to ``now`` (timezone-aware)."""
    return TimeRange(now - timedelta(hours=hours), now)


def panel_key(query: SqlPanelQuery) -> str:
    """The panel's key in the page's JSON: the query name without its dashboard prefix (``wall.headline`` →
    ``headline``)."""
    return query.name.split(".", 1)[1]


def render_panel(query: SqlPanelQuery, brand: str, hours: int, now: datetime) -> str:
    return render(query.sql, time_range(hours, now), {"brand": brand}, interval_s=interval_for(hours))


def brands_sql(now: datetime) -> str:
    """The brand selector's query (it looks back 30 days from the engine's ``now()``, whatever the range)."""
    return render(BRANDS.sql, time_range(1, now), {})
