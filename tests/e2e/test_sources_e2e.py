"""Every source end to end: fake platform → connector (built by the registry) → Tansu → `luister worker` → engine.

One broker and one worker serve all sources (a worker start costs ~15 s on a 2-core machine); each source is
one test. Per source: a loopback fake platform serves a few items in the platform's real shape; the connector runs
with ``run_connector`` against the real broker, with the real Kafka state store, until it has gone idle after
publishing them; the worker enriches and writes them; ``mentions_v`` must then hold exactly the expected ids,
each once, with the right platform and source and a sentiment from the model. A second run of a connector that
keeps a cursor, built afresh from the registry and reading its state back from the broker, polls the same platform
and must publish nothing.

Adding a source = adding a :class:`SourceCase` to ``CASES`` (its options, fake platform and expected ids).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_platforms import discourse, hackernews, reddit, rss
from fakeapi import FakeAPI
from harness import SOURCES_E2E, Worker, create_topics, make_worker_env, wait_for

from connectors.base import Batch, Connector, State
from connectors.metrics import ConnectorMetrics
from connectors.registry import build_connector
from connectors.runner import run_connector
from connectors.sink import KafkaMentionSink
from connectors.state import KafkaStateStore
from pipeline.broker import EmbeddedBroker
from pipeline.schema import Mention
from pipeline.settings import KafkaSettings

pytestmark = pytest.mark.slow

POLL_S = 0.2
RUN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Platform:
    """What a case's fake platform serves: the connector options pointing at it, and the ids it must yield."""

    options: dict[str, Any]
    expected_ids: set[str] | None
    """Mention ids the connector must publish; ``None`` for a generator without fixed ids (whatever it published
    is then what must arrive)."""


Serve = Callable[[FakeAPI, datetime, Path], Platform]
"""Set up routes on the fake API (or files under the directory) for items created shortly before ``now``."""


@dataclass(frozen=True)
class SourceCase:
    source: str
    serve: Serve
    platform: str | None
    """Every stored row's ``platform`` (``None``: as each published mention says, e.g. the demo's mix)."""
    resumes: bool = True
    """The connector keeps a cursor: a second run from its saved state publishes nothing."""

    @property
    def name(self) -> str:
        return f"e2e-{self.source}"


def serve_hackernews(api: FakeAPI, now: datetime, _: Path) -> Platform:
    t = int(now.timestamp()) - 600
    comment = dict(
        title=None, comment_text="<p>acme &amp; more</p>", parent_id=1, story_id=1, _tags=["comment", "story_1"]
    )
    items = [hackernews.story(1, t), hackernews.story(2, t + 5), hackernews.story(3, t + 10, **comment)]
    api.route("GET", hackernews.PATH, hackernews.FakeAlgolia(items))
    options = {"base_url": api.url, "queries": ["acme"], "hits_per_page": 2, "poll_interval_s": POLL_S}
    return Platform(options, {f"hackernews:{item['objectID']}" for item in items})


def serve_rss(api: FakeAPI, now: datetime, _: Path) -> Platform:
    items = [rss.rss_item(n, now - timedelta(minutes=10 + n)) for n in (1, 2, 3)]
    api.route("GET", "/feed.xml", rss.ConditionalFeed(rss.rss_doc(items)))
    options = {"feeds": [f"{api.url}/feed.xml"], "poll_interval_s": POLL_S}
    return Platform(options, {f"rss:https://blog.example/?p={n}" for n in (1, 2, 3)})


def serve_discourse(api: FakeAPI, now: datetime, _: Path) -> Platform:
    at = now - timedelta(minutes=5)
    posts = [
        discourse.post(10, at, topic=7, number=1),
        discourse.post(11, at, topic=7, number=2, reply_to_post_number=1),
        discourse.post(12, at, topic=8, number=1),
    ]
    api.route("GET", "/posts.json", discourse.FakeLatest(posts, per_page=2))
    host = api.url.removeprefix("http://")
    options = {"base_url": api.url, "poll_interval_s": POLL_S}
    return Platform(options, {f"discourse:{host}/t/{p['topic_id']}/{p['post_number']}" for p in posts})


def serve_reddit(api: FakeAPI, now: datetime, tmp: Path) -> Platform:
    t = now.timestamp() - 600
    things = [reddit.t3(1, t), reddit.t3(2, t + 5), reddit.t1(3, t + 10, "t3_p1")]
    api.route("POST", "/api/v1/access_token", *reddit.token_endpoint("tok-1"))
    api.route("GET", "/search", reddit.FakeListing(things, token="tok-1"))
    secrets = tmp / "reddit.secrets"
    secrets.write_text("REDDIT_CLIENT_ID=cid\nREDDIT_CLIENT_SECRET=csecret\n")
    options = {
        "base_url": api.url,
        "token_url": f"{api.url}/api/v1/access_token",
        "queries": ["acme"],
        "limit": 2,
        "secrets_file": str(secrets),
        "poll_interval_s": POLL_S,
    }
    return Platform(options, {f"reddit:{thing['data']['name']}" for thing in things})


def serve_replay(_: FakeAPI, now: datetime, tmp: Path) -> Platform:
    path = tmp / "recording.csv"
    rows = [f"r{n},{(now - timedelta(minutes=n)).isoformat()},Acme post {n},user{n}" for n in (1, 2, 3)]
    path.write_text("id,created_at,text,author\n" + "\n".join(rows) + "\n")
    return Platform(
        {"path": str(path), "platform": "mastodon", "batch_size": 2}, {"mastodon:r1", "mastodon:r2", "mastodon:r3"}
    )


def serve_demo(_: FakeAPI, now: datetime, tmp: Path) -> Platform:
    return Platform({"rate": 50, "limit": 6, "batch_size": 4, "crisis_after_s": -1, "seed": 3}, None)


CASES = [
    SourceCase("hackernews", serve_hackernews, platform="hackernews"),
    SourceCase("rss", serve_rss, platform="rss"),
    SourceCase("discourse", serve_discourse, platform="discourse"),
    SourceCase("reddit", serve_reddit, platform="reddit"),
    SourceCase("replay", serve_replay, platform="mastodon"),
    SourceCase("demo", serve_demo, platform=None, resumes=False),
]


@dataclass
class Run:
    """What one connector run handed to the broker, and what it yielded and saved when."""

    sent: list[Mention] = field(default_factory=list)
    yields: list[tuple[int, int]] = field(default_factory=list)
    """For each batch the connector yielded: (mentions sent before it, mentions in it). The runner asks for the
    next batch only after the previous one was published and its cursor saved."""
    saves: int = 0
    ended: bool = False
    """``batches()`` ended by itself (a finite source), rather than being stopped here."""

    def ids(self, upto: int | None = None) -> set[str]:
        return {m.id for m in self.sent[:upto]}

    def idle_after(self, expected: set[str]) -> bool:
        """After every expected id was durably sent, the connector polled again and found nothing new."""
        return any(n == 0 and expected <= self.ids(before) for before, n in self.yields)


class ObservedConnector(Connector):
    """Wraps a connector built by the registry, noting each batch it yields."""

    def __init__(self, inner: Connector, run: Run) -> None:
        super().__init__(inner.name, lookback=inner.lookback)
        self.source, self.inner, self.run = inner.source, inner, run

    def attach(self, on_wait: Callable[[str, float], None] | None) -> None:
        self.inner.attach(on_wait)

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        async with aclosing(self.inner.batches(state)) as inner:
            async for batch in inner:
                self.run.yields.append((len(self.run.sent), len(batch.mentions)))
                yield batch

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingSink:
    """The real Kafka sink, remembering what it was handed."""

    def __init__(self, inner: KafkaMentionSink, run: Run) -> None:
        self.inner, self.run = inner, run

    async def send(self, mention: Mention) -> None:
        self.run.sent.append(mention)
        await self.inner.send(mention)

    async def send_raw(
        self, key: bytes | None, value: bytes, *, headers: Sequence[tuple[str, bytes]] | None = None
    ) -> None:
        await self.inner.send_raw(key, value, headers=headers)

    async def flush(self) -> None:
        await self.inner.flush()


class RecordingStore:
    """The real Kafka state store, noting each save."""

    def __init__(self, inner: KafkaStateStore, run: Run) -> None:
        self.inner, self.run = inner, run

    async def load(self, name: str) -> dict[str, Any]:
        return await self.inner.load(name)

    async def save(self, name: str, state: Mapping[str, Any]) -> None:
        await self.inner.save(name, state)
        self.run.saves += 1


async def run_until(connector: Connector, bootstrap: str, done: Callable[[Run], bool]) -> Run:
    """Run ``connector`` against the broker until ``done(run)`` or until its batches end; fails after a timeout."""
    kafka = KafkaSettings()
    run = Run()
    async with (
        KafkaMentionSink(bootstrap, kafka.raw_topic, client_id=f"e2e-{connector.name}") as sink,
        KafkaMentionSink(bootstrap, kafka.deadletter_topic, client_id=f"e2e-dlq-{connector.name}") as dlq,
        KafkaStateStore(bootstrap) as store,
    ):
        task = asyncio.create_task(
            run_connector(
                ObservedConnector(connector, run),
                sink=RecordingSink(sink, run),
                deadletters=dlq,
                store=RecordingStore(store, run),
                metrics=ConnectorMetrics(),
                backoff_base_s=0.2,
            )
        )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not task.done() and not done(run):
            if time.monotonic() > deadline:
                task.cancel()
                raise AssertionError(
                    f"{connector.name}: not done after {RUN_TIMEOUT_S}s; sent {sorted(run.ids())}, yields {run.yields}"
                )
            await asyncio.sleep(0.05)
        run.ended = task.done()
        if run.ended:
            task.result()  # a finite source's run must end cleanly
        else:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return run


@dataclass
class Outcome:
    expected: set[str]
    first: Run
    second: Run | None
    requests_before_second: int
    requests_after_second: int


async def exercise(case: SourceCase, bootstrap: str, tmp: Path) -> Outcome:
    """First run until idle, then (for a resumable source) a second run from the saved cursor."""
    async with FakeAPI() as api:
        platform = case.serve(api, datetime.now(UTC), tmp)
        expected = platform.expected_ids

        def first_done(run: Run) -> bool:
            return expected is not None and run.idle_after(expected)

        first = await run_until(build_connector(case.source, case.name, platform.options), bootstrap, first_done)
        if expected is None:
            assert first.ended, f"{case.source}: a source without fixed ids must end by itself (set a limit)"
            expected = first.ids()
        second = None
        before = len(api.requests)
        if case.resumes:
            # Two batches: the resumed sweep and the next poll after it.
            again = build_connector(case.source, case.name, platform.options)
            second = await run_until(again, bootstrap, lambda run: len(run.yields) >= 2)
        return Outcome(expected, first, second, before, len(api.requests))


def sql_strings(values: set[str]) -> str:
    return ", ".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in sorted(values))


@pytest.fixture(scope="module")
def shared_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_dir=tmp_path_factory.mktemp("sources-broker")) as b:
        yield b


@pytest.fixture(scope="module")
def shared_worker(
    tmp_path_factory: pytest.TempPathFactory, shared_broker: EmbeddedBroker, tiny_models: dict[str, str]
) -> Iterator[Worker]:
    """One worker for every source (the function-scoped ``new_worker`` would start one per test)."""
    tmp = tmp_path_factory.mktemp("sources-worker")
    create_topics(shared_broker.bootstrap_servers, partitions=4)
    worker = Worker(make_worker_env(tmp, shared_broker, tiny_models), tmp / "worker.log").start()
    yield worker
    worker.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.source for c in CASES])
def test_source_end_to_end(
    case: SourceCase,
    shared_broker: EmbeddedBroker,
    shared_worker: Worker,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    results = request.config.stash.setdefault(SOURCES_E2E, {})
    results[case.source] = "failed"
    outcome = asyncio.run(exercise(case, shared_broker.bootstrap_servers, tmp_path))
    expected, first = outcome.expected, outcome.first
    assert expected, f"{case.source}: nothing to check"
    assert first.ids() == expected, f"{case.source} published {sorted(first.ids())}, expected {sorted(expected)}"
    assert len(first.sent) == len(expected), f"{case.source}: a clean run sent some ids twice"
    if case.resumes:
        assert first.saves > 0, f"{case.source}: no cursor saved"

    published = {m.id: m for m in first.sent}
    sources = {m.source for m in first.sent}
    query = (
        "SELECT id, platform, source, toString(sentiment), model FROM mentions_v "
        f"WHERE id IN ({sql_strings(expected)}) OR source IN ({sql_strings(sources)})"
    )
    rows = wait_for(
        lambda: (r := shared_worker.sql(query)) and {row[0] for row in r} >= expected and r,
        60,
        f"{case.source}: {len(expected)} mentions in mentions_v",
    )
    counts = Counter(row[0] for row in rows)
    assert set(counts) == expected, f"unexpected ids stored: {sorted(set(counts) - expected)}"
    assert all(n == 1 for n in counts.values()), counts
    for mention_id, platform, source, sentiment, model in rows:
        mention = published[mention_id]
        assert (platform, source) == (mention.platform, mention.source)
        if case.platform is not None:
            assert platform == case.platform
        assert sentiment in {"negative", "neutral", "positive"} and model, (mention_id, sentiment, model)

    if outcome.second is not None:
        assert outcome.second.sent == [], f"{case.source}: a rerun from the saved cursor sent {outcome.second.ids()}"
        if not outcome.second.ended:
            assert outcome.requests_after_second > outcome.requests_before_second, "the rerun never polled"
    results[case.source] = "passed"
