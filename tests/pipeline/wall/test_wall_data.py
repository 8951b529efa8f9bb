"""The wall page's data on the embedded engine, over mentions the worker's own steps enriched and wrote.

The mentions come from the demo stream (two hours, Veloxa and its competitors, with the crisis), enriched through
the worker's ``Enricher`` from the stream's ground truth (tests/demo_dataset.py: the model is not under test here)
and written by the real ``MentionWriter``; incidents by the real ``IncidentWriter``. Each figure the page shows is
checked against the same figure computed from those records.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from clickhouse_connect.driver.client import Client
from demo_dataset import TruthPredictor, enrich

from connectors.demo import DemoStream
from dashboards.panels import sql_query
from pipeline.incidents import IncidentEvent, event_id
from pipeline.schema import EnrichedMention
from pipeline.steps.enrich import Enricher
from pipeline.storage import MentionWriter, run_readonly
from pipeline.storage.incidents import IncidentWriter
from pipeline.wall.data import (
    PanelShapeError,
    Table,
    json_value,
    long_series,
    run_panel,
    wall_data,
    wide_series,
)
from pipeline.wall.panels import PANELS, WallRequest, panel_key

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
SPAN = timedelta(hours=2)


@cache
def demo_records() -> list[EnrichedMention]:
    stream = DemoStream(seed=11, start=NOW - SPAN, rate_per_s=0.08, crisis_after_s=3600)
    mentions, truths = [], {}
    for event in stream.events():
        if event.mention.created_at >= NOW - timedelta(minutes=1):
            break
        mentions.append(event.mention)
        truths[event.mention.text] = event.truth
    enricher = Enricher(TruthPredictor(truths), model="demo-truth", model_version="truth", with_embeddings=False)
    return enrich(enricher, mentions)


def incident(incident_id: str, seq: int, stage: str, severity: str, opened_at: datetime) -> IncidentEvent:
    return IncidentEvent.model_validate(
        {
            "incident_id": incident_id,
            "event_id": event_id(incident_id, seq),
            "seq": seq,
            "stage": stage,
            "brand": "Veloxa",
            "signal": "negative_share",
            "severity": severity,
            "opened_at": opened_at,
            "at": opened_at + timedelta(minutes=5 + seq),
            "observed": 0.6,
            "expected": 0.25,
            "score": 0.99,
            "summary": f"negative share 2.4x its baseline ({incident_id})",
        }
    )


@pytest.fixture
def database(engine: Client, engine_db: str) -> str:
    MentionWriter(engine, engine_db).write(demo_records(), dedup_token="wall-test")
    IncidentWriter(engine, engine_db).write(
        [
            incident("crisis", 0, "opened", "high", NOW - timedelta(minutes=50)),
            incident("crisis", 1, "escalated", "critical", NOW - timedelta(minutes=50)),
            incident("old", 0, "opened", "medium", NOW - timedelta(hours=1, minutes=50)),
            incident("old", 1, "resolved", "medium", NOW - timedelta(hours=1, minutes=50)),
        ]
    )
    return engine_db


def runner(engine: Client, database: str) -> Any:
    """What the worker's ``Services.sql`` does: read-only, one statement, columns and rows."""

    def run(sql: str) -> Mapping[str, Any]:
        result = run_readonly(engine, sql, database=database)
        return {"columns": list(result.columns), "rows": [list(row) for row in result.rows]}

    return run


def strict_json(body: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(body, allow_nan=False))
    return loaded


def rows(panel: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(panel["columns"], row, strict=True)) for row in panel["rows"]]


def of_brand(brand: str) -> list[EnrichedMention]:
    return [r for r in demo_records() if any(b.brand == brand for b in r.mention.brands)]


def test_every_panel_answers_with_plain_json(engine: Client, database: str) -> None:
    body = strict_json(wall_data(runner(engine, database), WallRequest(brand=None, hours=3), NOW))
    assert body["errors"] == {}
    assert set(body["panels"]) == {panel_key(q) for q in PANELS}
    for key, panel in body["panels"].items():
        assert panel["rows"], f"{key} has no rows over two hours of demo traffic"
    assert body["hours"] == 3 and body["interval_s"] == 120
    assert body["to"] == NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_brands_own_first_and_the_default_is_the_own_brand(engine: Client, database: str) -> None:
    body = wall_data(runner(engine, database), WallRequest(brand=None, hours=3), NOW)
    assert body["brands"] == ["Veloxa", "Trekko", "Vonk"]  # Veloxa is the demo's own brand, the others competitors
    assert body["brand"] == "Veloxa"


def test_headline_and_volume_count_the_written_mentions(engine: Client, database: str) -> None:
    body = wall_data(runner(engine, database), WallRequest(brand="Veloxa", hours=3), NOW)
    veloxa = of_brand("Veloxa")
    (headline,) = rows(body["panels"]["headline"])
    assert headline["mentions"] == len(veloxa)
    series = body["panels"]["volume_by_sentiment"]["series"]
    by_name = {s["name"]: s["values"] for s in series["series"]}
    assert list(by_name) == ["negative", "neutral", "positive"]
    expected = Counter(r.enrichment.sentiment for r in veloxa)
    assert {name: sum(values) for name, values in by_name.items()} == {
        s: expected[s] for s in ("negative", "neutral", "positive")
    }
    # Filled intervals of 120 s, in order, as epoch seconds.
    assert series["time"] == sorted(series["time"])
    assert all(b - a == 120 for a, b in zip(series["time"], series["time"][1:], strict=False))
    assert all(len(v) == len(series["time"]) for v in by_name.values())


def test_share_of_voice_over_time_is_one_series_per_brand_selected_first(engine: Client, database: str) -> None:
    body = wall_data(runner(engine, database), WallRequest(brand="Trekko", hours=3), NOW)
    series = body["panels"]["share_of_voice_over_time"]["series"]
    names = [s["name"] for s in series["series"]]
    assert names[0] == "Trekko"
    assert set(names) == {"Trekko", "Vonk"}  # the selected brand and the competitors; Veloxa is neither
    for i in range(len(series["time"])):
        assert sum(s["values"][i] for s in series["series"]) == pytest.approx(1.0)


def test_negative_share_band_is_a_chart_with_nulls_for_no_baseline(engine: Client, database: str) -> None:
    body = strict_json(wall_data(runner(engine, database), WallRequest(brand="Veloxa", hours=3), NOW))
    series = body["panels"]["negative_share_band"]["series"]
    names = [s["name"] for s in series["series"]]
    assert names == ["negative_share", "baseline_low", "baseline_high", "mentions"]
    band = {s["name"]: s["values"] for s in series["series"]}
    # Two hours of history: no baseline yet (it needs 3 earlier days), so the band is null, not 0.
    assert all(v is None for v in band["baseline_low"] + band["baseline_high"])
    assert all(0 <= v <= 1 for v in band["negative_share"])


def test_only_open_incidents_of_the_brand_make_the_banner(engine: Client, database: str) -> None:
    body = strict_json(wall_data(runner(engine, database), WallRequest(brand="Veloxa", hours=3), NOW))
    assert [(i["incident_id"], i["stage"], i["severity"]) for i in body["incidents"]] == [
        ("crisis", "escalated", "critical")
    ]
    assert body["incidents"][0]["opened_at"].endswith("Z")
    other = wall_data(runner(engine, database), WallRequest(brand="Trekko", hours=3), NOW)
    assert other["incidents"] == []


def test_high_reach_negative_posts_are_negative_and_ordered_by_reach(engine: Client, database: str) -> None:
    body = wall_data(runner(engine, database), WallRequest(brand="Veloxa", hours=3), NOW)
    posts = rows(body["panels"]["high_reach_negative"])
    negative = {r.mention.text[:280] for r in of_brand("Veloxa") if r.enrichment.sentiment == "negative"}
    assert posts and all(p["excerpt"] in negative for p in posts)
    assert [p["reach"] for p in posts] == sorted((p["reach"] for p in posts), reverse=True)


def test_a_brand_without_mentions_gives_zeros_and_empty_panels(engine: Client, database: str) -> None:
    body = strict_json(wall_data(runner(engine, database), WallRequest(brand="Nobody's \\ brand", hours=3), NOW))
    assert body["errors"] == {}
    assert rows(body["panels"]["headline"])[0]["mentions"] == 0
    assert body["panels"]["top_topics"]["rows"] == []
    # chDB names no columns for an empty result: the declared ones stand in.
    assert body["panels"]["top_topics"]["columns"] == list(sql_query("wall.top_topics").columns)
    assert body["panels"]["negative_share_band"]["series"] == {
        "time": [],
        "series": [
            {"name": name, "values": []} for name in ("negative_share", "baseline_low", "baseline_high", "mentions")
        ],
    }


def test_an_empty_database_waits_for_data(engine: Client, engine_db: str) -> None:
    body = strict_json(wall_data(runner(engine, engine_db), WallRequest(brand=None, hours=6), NOW))
    assert body["brand"] is None and body["brands"] == []
    assert body["panels"] == {} and body["incidents"] == [] and body["errors"] == {}


def test_one_failing_panel_does_not_blank_the_others(engine: Client, database: str) -> None:
    run = runner(engine, database)

    def flaky(sql: str) -> Mapping[str, Any]:
        if "arrayJoin(topics)" in sql:
            raise RuntimeError("Code: 241. Memory limit exceeded")
        return run(sql)

    body = wall_data(flaky, WallRequest(brand="Veloxa", hours=3), NOW)
    assert body["errors"] == {"top_topics": "Code: 241. Memory limit exceeded"}
    assert "top_topics" not in body["panels"]
    assert rows(body["panels"]["headline"])[0]["mentions"] == len(of_brand("Veloxa"))


# ---------------------------------------------------------------- shaping, without the engine


def test_run_panel_refuses_other_columns_than_declared() -> None:
    query = sql_query("wall.languages")
    with pytest.raises(PanelShapeError):
        run_panel(lambda _: {"columns": ["lang", "n"], "rows": [["nl", 3]]}, query, "SELECT 1")
    empty = run_panel(lambda _: {"columns": [], "rows": []}, query, "SELECT 1")
    assert empty == Table(query.columns, [])


def test_json_values() -> None:
    naive = datetime(2026, 11, 23, 14, 5, 0, 123000)
    assert json_value(naive) == "2026-11-23T14:05:00.123Z"
    assert json_value(naive.replace(tzinfo=UTC)) == "2026-11-23T14:05:00.123Z"
    assert json_value(math.nan) is None and json_value(math.inf) is None
    assert json_value(["a", 1.5, None]) == ["a", 1.5, None]
    assert json_value(b"caf\xc3\xa9") == "café"


def test_long_series_pivots_and_fills_missing_with_zero() -> None:
    t0, t1 = datetime(2026, 1, 1, 10, 0), datetime(2026, 1, 1, 10, 5)
    table = Table(("time", "brand", "share"), [(t0, "A", 0.25), (t0, "B", 0.75), (t1, "B", 1.0)])
    shaped = long_series(table, key="brand", value="share", first="A")
    assert shaped["time"] == [t0.replace(tzinfo=UTC).timestamp(), t1.replace(tzinfo=UTC).timestamp()]
    assert shaped["series"] == [{"name": "A", "values": [0.25, 0.0]}, {"name": "B", "values": [0.75, 1.0]}]
    # Without a first, the largest total leads.
    assert [s["name"] for s in long_series(table, key="brand", value="share")["series"]] == ["B", "A"]


def test_wide_series_keeps_nulls() -> None:
    t0 = datetime(2026, 1, 1, 10, 0)
    shaped = wide_series(Table(("time", "low", "high"), [(t0, None, math.nan)]))
    assert shaped["series"] == [{"name": "low", "values": [None]}, {"name": "high", "values": [None]}]
