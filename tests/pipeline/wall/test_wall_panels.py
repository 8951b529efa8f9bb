"""Which queries the wall runs and how a request renders them: pure, no engine."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboards.panels import wall
from pipeline.wall.panels import (
    DEFAULT_HOURS,
    INCIDENTS,
    MAX_HOURS,
    PANELS,
    TARGET_POINTS,
    WallRequest,
    WallRequestError,
    brands_sql,
    interval_for,
    panel_key,
    parse_request,
    render_panel,
)

NOW = datetime(2026, 11, 23, 14, 7, 30, tzinfo=UTC)


def test_the_page_shows_the_wall_dashboards_own_queries() -> None:
    for query in (*PANELS, INCIDENTS):
        assert query in wall.QUERIES
    assert len({panel_key(q) for q in PANELS}) == len(PANELS)


@pytest.mark.parametrize("query", [*PANELS, INCIDENTS], ids=lambda q: q.name)
def test_every_panel_renders_to_plain_sql_with_the_brand_quoted(query: object) -> None:
    sql = render_panel(query, "O'Brien \\ Co", 6, NOW)  # type: ignore[arg-type]
    assert "$__" not in sql and "${" not in sql
    assert "'O\\'Brien \\\\ Co'" in sql
    assert "$" not in brands_sql(NOW)


def test_parse_request() -> None:
    assert parse_request({}) == WallRequest(brand=None, hours=DEFAULT_HOURS)
    assert parse_request({"brand": " Veloxa ", "hours": "24"}) == WallRequest(brand="Veloxa", hours=24)
    assert parse_request({"brand": "", "hours": ""}) == WallRequest(brand=None, hours=DEFAULT_HOURS)
    for bad in ({"hours": "0"}, {"hours": str(MAX_HOURS + 1)}, {"hours": "6h"}, {"hours": "1.5"}, {"brand": "x" * 257}):
        with pytest.raises(WallRequestError):
            parse_request(bad)


@pytest.mark.parametrize("hours", [1, 3, 6, 12, 24, 48, 168, MAX_HOURS])
def test_the_interval_keeps_charts_readable(hours: int) -> None:
    step = interval_for(hours)
    assert hours * 3600 / step <= TARGET_POINTS or step == 24 * 3600
    assert step >= 60


def test_interval_steps() -> None:
    assert [interval_for(h) for h in (1, 6, 24, 168)] == [60, 300, 900, 7200]
    rendered = render_panel(wall.volume_by_sentiment, "Veloxa", 24, NOW)
    assert "INTERVAL 900 second" in rendered
