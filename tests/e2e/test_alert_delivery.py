"""The alerts agent in a real worker: incident events on the ``alerts`` topic → ClickHouse → a loopback Slack.

Real Tansu, a real ``luister worker`` process, the embedded engine, and the fake Slack (Slack's real API shapes)
running in a thread of the test process. An incident's opening and resolution arrive as one message and one
thread reply; a malformed event is dead-lettered; after a SIGKILL and a restart that re-reads the same events
(and the same events produced again), Slack gets nothing twice and ``incident_events`` holds each event once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import CRISIS, incident
from fake_platforms.slack import FakeSlack
from harness import Worker, create_topics, produce, wait_for

from pipeline.broker import EmbeddedBroker

pytestmark = pytest.mark.slow

TOKEN = "xoxb-good"


class SlackInThread:
    """FakeSlack on its own event loop in a thread, so blocking test code (wait_for) cannot stall it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.slack = FakeSlack(tokens={TOKEN})

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.slack.__aenter__(), self.loop).result(10)
        self.slack.add_channel(CRISIS)
        return self.slack

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.slack.__aexit__(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` on the fake's loop (its state is only touched there)."""
        done: Future[Any] = Future()
        self.loop.call_soon_threadsafe(lambda: done.set_result(fn(*args)))
        return done.result(10)


@pytest.fixture
def slack() -> Iterator[tuple[SlackInThread, FakeSlack]]:
    runner = SlackInThread()
    with runner as fake:
        yield runner, fake


def settings_file(tmp_path: Path, slack: FakeSlack) -> Path:
    path = tmp_path / "luister.yaml"
    config = {
        "alerts": {
            "channels": {"crisis": {"transport": "bot", "channel_id": CRISIS, "token_env": "LUISTER_E2E_SLACK"}},
            "default_channels": ["crisis"],
            "web_api_url": slack.api_url,
            "rate_per_channel": 20.0,
            "retry_base_s": 0.05,
            "retry_max_s": 0.5,
        }
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def produce_events(bootstrap: str) -> dict[str, int]:
    """Produces opened, garbage, resolved; returns the offsets to be committed once all are handled."""
    opened, resolved = incident(0), incident(1, stage="resolved")
    records = [
        (opened.incident_id.encode(), opened.model_dump_json().encode()),
        (b"garbage", b'{"incident_id": "x"}'),
        (resolved.incident_id.encode(), resolved.model_dump_json().encode()),
    ]
    ends: dict[str, int] = {}
    for partition, offset in asyncio.run(produce(bootstrap, "alerts", records)):
        ends[f"alerts/{partition}"] = max(ends.get(f"alerts/{partition}", 0), offset + 1)
    return ends


def handled(worker: Worker, ends: dict[str, int]) -> bool:
    committed = worker.health()["committed"]
    return all(committed.get(tp, -1) >= end for tp, end in ends.items())


def stored_events(worker: Worker) -> list[list[Any]]:
    return list(worker.sql("SELECT event_id, count() FROM incident_events GROUP BY event_id ORDER BY event_id"))


def test_incidents_reach_slack_and_clickhouse_once_across_a_crash(
    broker: EmbeddedBroker, new_worker: Any, tmp_path: Path, slack: tuple[SlackInThread, FakeSlack]
) -> None:
    runner, fake = slack
    create_topics(broker.bootstrap_servers)
    env = {"LUISTER_CONFIG": str(settings_file(tmp_path, fake)), "LUISTER_E2E_SLACK": TOKEN}
    worker: Worker = new_worker(**env)
    first = produce_events(broker.bootstrap_servers)

    def slack_view() -> tuple[int, int]:
        top = runner.call(fake.top_level, CRISIS)
        replies = runner.call(fake.replies, CRISIS, top[0]["ts"]) if top else []
        return len(top), len(replies)

    wait_for(lambda: slack_view() == (1, 1), 60, "the opening message and its resolved reply in Slack")
    wait_for(lambda: handled(worker, first), 30, "all three events handled and committed")
    assert [row[1] for row in stored_events(worker)] == [1, 1]
    assert worker.metric("luister_mentions_deadlettered_total", reason="alert_schema") == 1
    view = worker.sql("SELECT incident_id, stage, severity FROM incidents_v")
    assert view == [[incident(0).incident_id, "resolved", "high"]]

    worker.kill()
    ends = produce_events(broker.bootstrap_servers)  # the same events again, as a replaying detector would send
    restarted: Worker = new_worker(**env)
    wait_for(lambda: handled(restarted, ends), 60, "the re-produced events handled and committed")
    assert [row[1] for row in stored_events(restarted)] == [1, 1]
    assert slack_view() == (1, 1)
    posts = [r for r in runner.call(lambda: list(fake.received)) if r.method == "chat.postMessage"]
    assert len(posts) == 2, [(r.method, r.status, r.error) for r in posts]
