"""Replaying a JSONL recording: valid lines come back exactly, bad lines are reported and skipped."""

from __future__ import annotations

import gzip
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.demo import DemoStream
from connectors.replay import JsonlReplay, write_jsonl
from connectors.sink import ListSink
from pipeline.schema import Mention

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def recorded() -> list[Mention]:
    return DemoStream(seed=11, start=START).take(300)


@pytest.mark.parametrize("name", ["stream.jsonl", "stream.jsonl.gz"])
def test_round_trip_through_a_file(tmp_path: Path, recorded: list[Mention], name: str) -> None:
    path = tmp_path / name
    assert write_jsonl(recorded, path) == len(recorded)
    replay = JsonlReplay(path)
    assert list(replay) == recorded
    assert replay.valid_count == len(recorded) and replay.bad_count == 0
    if name.endswith(".gz"):
        with gzip.open(path) as compressed:
            assert compressed.readline().startswith(b"{")


def test_bad_lines_are_reported_not_fatal(
    tmp_path: Path, recorded: list[Mention], caplog: pytest.LogCaptureFixture
) -> None:
    good = [m.model_dump_json().encode() for m in recorded[:5]]
    naive = recorded[5].model_dump_json().replace("+00:00", "").replace("Z", "").encode()
    lines = [good[0], b"not json", good[1], b"", good[2], b'{"id": "x"}', b"\xff\xfe", good[3], naive, good[4]]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    replay = JsonlReplay(path)
    with caplog.at_level(logging.WARNING, logger="connectors.replay"):
        assert list(replay) == recorded[:5]
    assert [bad.line for bad in replay.bad] == [2, 6, 7, 9]
    assert replay.bad_count == 4 and replay.valid_count == 5
    assert "Invalid JSON" in replay.bad[0].reason and "source: Field required" in replay.bad[1].reason
    assert "timezone" in replay.bad[3].reason
    assert "mixed.jsonl:2" in caplog.text
    list(replay)
    assert replay.bad_count == 4, "each pass starts counting afresh"


def test_kept_bad_lines_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_text("oops\n" * 50)
    replay = JsonlReplay(path, keep_bad=3)
    assert list(replay) == []
    assert replay.bad_count == 50 and len(replay.bad) == 3


def test_rebase_shifts_both_timestamps(tmp_path: Path, recorded: list[Mention]) -> None:
    path = tmp_path / "stream.jsonl"
    write_jsonl(recorded, path)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    rebased = list(JsonlReplay(path, rebase_to=now))
    assert rebased[0].created_at == now
    shift = now - recorded[0].created_at
    for original, moved in zip(recorded, rebased, strict=True):
        assert moved.created_at == original.created_at + shift and moved.fetched_at == original.fetched_at + shift
        assert moved.model_dump(exclude={"created_at", "fetched_at"}) == original.model_dump(
            exclude={"created_at", "fetched_at"}
        )


async def test_run_sends_valid_mentions_with_limit(tmp_path: Path, recorded: list[Mention]) -> None:
    path = tmp_path / "stream.jsonl"
    write_jsonl(recorded, path)
    sink = ListSink()
    assert await JsonlReplay(path).run(sink, realtime=False, limit=120) == 120
    assert sink.mentions == recorded[:120]


async def test_run_in_realtime_keeps_the_rhythm(tmp_path: Path, recorded: list[Mention]) -> None:
    path = tmp_path / "stream.jsonl"
    spaced = [
        m.model_copy(update={"fetched_at": recorded[0].fetched_at + timedelta(seconds=2 * i)})
        for i, m in enumerate(recorded[:4])
    ]
    write_jsonl(spaced, path)
    sink = ListSink()
    began = time.monotonic()
    await JsonlReplay(path).run(sink, realtime=True, speed=10)
    elapsed = time.monotonic() - began
    assert len(sink.mentions) == 4
    assert 0.55 <= elapsed < 1.5  # 6 s of recording at 10x
