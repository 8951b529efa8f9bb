"""The source registry and the two sources built here: replay (JSONL, CSV) and demo."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from connectors import registry
from connectors.base import Batch, Connector
from connectors.demo import DemoStream
from connectors.registry import SourceError, build_connector, source_module
from connectors.replay import write_jsonl
from pipeline.schema import Mention

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def collect(connector: Connector, state: dict[str, Any] | None = None, limit: int = 10_000) -> list[Batch]:
    out = []
    async for batch in connector.batches(state or {}):
        out.append(batch)
        if len(out) >= limit:
            break
    return out


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(SourceError, match=r"unknown source 'myspace'.*hackernews.*demo"):
        source_module("myspace")


def test_a_source_without_its_module_is_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "SOURCES", (*registry.SOURCES, "friendster"))
    with pytest.raises(SourceError, match="source 'friendster' is not available in this build"):
        build_connector("friendster")
    assert "friendster" not in registry.available_sources()
    assert {"replay", "demo"} <= set(registry.available_sources())


def test_a_missing_dependency_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> ModuleType:
        if name == "connectors.sources.youtube":
            raise ModuleNotFoundError("No module named 'googleapiclient'", name="googleapiclient")
        return real(name, package)

    monkeypatch.setattr(registry.importlib, "import_module", fake_import)
    with pytest.raises(SourceError, match="needs the package 'googleapiclient'"):
        source_module("youtube")


def test_bad_options_are_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        build_connector("replay", "r", {"path": str(tmp_path / "missing.jsonl")})
    with pytest.raises(SourceError, match="speed"):
        build_connector("replay", "r", {"path": __file__, "speed": "-1"})
    with pytest.raises(SourceError, match="colour"):
        build_connector("demo", "d", {"colour": "blue"})


def test_names_default_to_the_source(tmp_path: Path) -> None:
    assert build_connector("demo").name == "demo"
    assert build_connector("demo", "demo-2").name == "demo-2"


async def test_replay_jsonl_publishes_every_record_and_dead_letters_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    mentions = DemoStream(seed=3, start=START).take(25)
    write_jsonl(mentions, path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(5, b"this is not json\n")
    lines.insert(12, b'{"id": "x"}\n')
    lines.insert(13, b"\n")
    path.write_bytes(b"".join(lines))

    connector = build_connector("replay", "rec", {"path": str(path), "batch_size": "10"})
    batches = await collect(connector)
    assert [m.id for b in batches for m in b.mentions] == [m.id for m in mentions]
    rejected = [r for b in batches for r in b.rejected]
    assert [(r.reason, r.payload) for r in rejected] == [("not_json", b"this is not json"), ("schema", b'{"id": "x"}')]
    assert [b.state for b in batches] == [{"lines": 10}, {"lines": 20}, {"lines": 27}]
    assert sum(b.fetched for b in batches) == 27


async def test_replay_resumes_after_the_saved_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    mentions = DemoStream(seed=4, start=START).take(30)
    write_jsonl(mentions, path)
    connector = build_connector("replay", "rec", {"path": str(path), "batch_size": 7})
    first = (await collect(connector, limit=2))[-1]
    assert first.state == {"lines": 14}
    rest = await collect(connector, state=first.state)
    assert [m.id for b in rest for m in b.mentions] == [m.id for m in mentions[14:]]


async def test_replay_csv_maps_columns_to_mentions(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "id,platform,created_at,text,author,url,likes,lang,extra\n"
        '123,reddit,2026-03-02T09:00:00Z,"Veloxa battery, again?",anna,https://r.example/123,4,nl,x\n'
        "reddit:456,reddit,2026-03-02 09:01:00,second,bob,,,,\n"
        "789,reddit,yesterday,bad date,carl,,,,\n",
        encoding="utf-8",
    )
    batches = await collect(build_connector("replay", "csv", {"path": str(path)}))
    mentions = [m for b in batches for m in b.mentions]
    assert [m.id for m in mentions] == ["reddit:123", "reddit:456"]
    first = mentions[0]
    assert (first.text, first.author.handle, first.url, first.engagement.likes, first.lang_hint) == (
        "Veloxa battery, again?",
        "anna",
        "https://r.example/123",
        4,
        "nl",
    )
    assert first.created_at == START and first.fetched_at == START
    assert mentions[1].created_at == START + timedelta(minutes=1), "naive timestamps are UTC"
    assert first.source == "replay:csv"
    [bad] = [r for b in batches for r in b.rejected]
    assert bad.reason == "bad_row" and b"yesterday" in bad.payload


async def test_replay_csv_without_needed_columns_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="author, created_at, platform"):
        await collect(build_connector("replay", "csv", {"path": str(path)}))


async def test_replay_speed_keeps_the_rhythm(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    base = DemoStream(seed=5, start=START).take(1)[0]
    mentions = [base.model_copy(update={"id": f"x:{i}", "fetched_at": START + timedelta(seconds=i)}) for i in range(4)]
    write_jsonl(mentions, path)
    started = time.monotonic()
    batches = await collect(build_connector("replay", "r", {"path": str(path), "speed": 10}))
    elapsed = time.monotonic() - started
    assert 0.28 <= elapsed < 2, "3 recorded seconds at 10× take about 0.3 s"
    assert [len(b.mentions) for b in batches] == [1, 1, 1, 1], "each record goes out when due, not held for a batch"


async def test_replay_rebase_shifts_to_now_and_keeps_the_shift(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    write_jsonl(DemoStream(seed=6, start=START).take(6), path)
    connector = build_connector("replay", "r", {"path": str(path), "rebase": True, "batch_size": 3})
    first, second = await collect(connector)
    assert abs((first.mentions[0].created_at - datetime.now(UTC)).total_seconds()) < 5
    assert first.state is not None and first.state["shift_s"] == second.state["shift_s"]  # type: ignore[index]
    resumed = await collect(connector, state=first.state)
    assert resumed[0].mentions[0].created_at == second.mentions[0].created_at


async def test_demo_source_paces_and_stops_at_its_limit() -> None:
    connector = build_connector("demo", "demo", {"rate": 50, "speed": 20, "limit": 40, "crisis_after_s": ""})
    batches = await asyncio.wait_for(collect(connector), 10)
    mentions: list[Mention] = [m for b in batches for m in b.mentions]
    assert len(mentions) == 40
    assert len(batches) > 1, "paced: published as they come, not in one lump"
    assert all(b.state is None for b in batches), "the demo keeps no cursor"
    fetched = [m.fetched_at for m in mentions]
    assert fetched == sorted(fetched)
