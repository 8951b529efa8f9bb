"""Every source end to end: fake platform → connector (built by the registry) → Tansu → `luister worker` → engine.

One broker and one worker serve all sources (a worker start costs ~15 s on a 2-core machine); each case is one
test. Per case: a loopback fake platform serves a few items in the platform's real shape; the connector runs
with ``run_connector`` against the real broker, with the real Kafka state store, until it has gone idle after
publishing them; the worker enriches and writes them; ``mentions_v`` must then hold exactly the expected ids,
each once, with the right platform and source and a sentiment from the model. A second run of a connector that
keeps a cursor, built afresh from the registry and reading its state back from the broker, polls the same platform
and must publish nothing.

A receiving source (the webhook) has no platform to poll: the case pushes signed deliveries to it instead. A case
with brand queries runs the connector behind the brand filter ``luister connect`` builds from a brand file
(:func:`connectors.launch.brand_filter`): kept mentions must reach ``mention_brands_v`` with the expected brands and
match types, and a mention matching no brand must not reach the raw topic at all.

Adding a source = adding a :class:`SourceCase` to ``CASES`` (its options, fake platform and expected ids).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fake_platforms import bluesky, discourse, hackernews, mastodon, reddit, rss, webhook, x, youtube
from fakeapi import FakeAPI
from harness import SOURCES_E2E, Worker, create_topics, make_worker_env, wait_for

from connectors.base import Batch, Connector, State
from connectors.launch import brand_filter
from connectors.metrics import ConnectorMetrics
from connectors.registry import build_connector
from connectors.runner import Select, run_connector
from connectors.sink import KafkaMentionSink
from connectors.sources.webhook import SIGNATURE_HEADER, WebhookConnector
from connectors.state import KafkaStateStore
from pipeline.broker import EmbeddedBroker
from pipeline.schema import Mention
from pipeline.settings import KafkaSettings

pytestmark = pytest.mark.slow

POLL_S = 0.2
RUN_TIMEOUT_S = 30.0


Push = Callable[[str], Awaitable[None]]
"""Delivers a case's items to a receiving connector at the given URL (and checks the answers)."""

BrandRow = tuple[str, str, bool]
"""``(brand, match_type, competitor)`` as stored in ``mention_brands_v``."""


@dataclass(frozen=True)
class Platform:
    """What a case's fake platform serves: the connector options pointing at it, and the ids it must yield."""

    options: dict[str, Any]
    expected_ids: set[str] | None
    """Mention ids the connector must publish; ``None`` for a generator without fixed ids (whatever it published
    is then what must arrive)."""
    push: Push | None = None
    """For a receiving source: what the platform sends it, once it listens (its run ends when this returns)."""
    expected_brands: dict[str, set[BrandRow]] | None = None
    """Per expected id, the brands it must be stored with (cases with brand queries)."""
    dropped_ids: set[str] = field(default_factory=set)
    """Ids the platform serves that the brand queries must drop before the raw topic."""


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
    label: str | None = None
    """The test id and connector name when a source has more than one case (default: the source)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment the connector reads its credentials from (set for the test only)."""
    brands: str | None = None
    """A brand file (YAML): the connector runs behind its brand filter."""

    @property
    def id(self) -> str:
        return self.label or self.source

    @property
    def name(self) -> str:
        return f"e2e-{self.id}"


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


def serve_mastodon(api: FakeAPI, now: datetime, _: Path) -> Platform:
    statuses = [mastodon.status(n, now - timedelta(minutes=10 - n)) for n in (1, 2, 3)]
    boost = mastodon.status(4, now - timedelta(minutes=5), reblog=statuses[0])  # a boost is not a new mention
    api.route("GET", mastodon.tag_path("veloxa"), mastodon.FakeTagTimeline([*statuses, boost]))
    options = {"base_url": api.url, "hashtags": ["#veloxa"], "page_limit": 2, "poll_interval_s": POLL_S}
    host = api.url.removeprefix("http://")
    return Platform(options, {f"mastodon:{host}/{s['id']}" for s in statuses})


def serve_bluesky(api: FakeAPI, now: datetime, _: Path) -> Platform:
    posts = [bluesky.post(n, now - timedelta(minutes=n), text=f"Acme post {n}") for n in (1, 2, 3)]
    other = bluesky.post(4, now - timedelta(minutes=4), text="about something else")  # the search leaves it out
    api.route("GET", bluesky.SEARCH, bluesky.FakeSearchPosts([*posts, other]))
    options = {"base_url": api.url, "search_terms": ["acme"], "page_limit": 2, "poll_interval_s": POLL_S}
    return Platform(options, {f"bluesky:{p['uri']}" for p in posts})


X_TOKEN = "e2e-x-bearer-token"


def serve_x(api: FakeAPI, now: datetime, _: Path) -> Platform:
    # Eleven tweets: two pages at the smallest page size X allows (10), so the walk follows meta.next_token.
    tweets = [x.tweet(n, now - timedelta(minutes=n), text=f"Acme tweet {n}") for n in range(1, 12)]
    api.route("GET", x.SEARCH, x.FakeRecentSearch(tweets, X_TOKEN))
    options = {"base_url": api.url, "search_terms": ["acme"], "max_results": 10, "poll_interval_s": POLL_S}
    return Platform(options, {f"x:{t['id']}" for t in tweets})


YOUTUBE_KEY = "e2e-youtube-api-key"


def serve_youtube(api: FakeAPI, now: datetime, _: Path) -> Platform:
    videos = [youtube.video(n, now - timedelta(minutes=n)) for n in (1, 2, 3)]
    threads = [youtube.thread(n, now - timedelta(minutes=n), video_id="V1") for n in (1, 2, 3)]
    api.route("GET", youtube.SEARCH, youtube.FakeSearch(videos, YOUTUBE_KEY))
    api.route("GET", youtube.THREADS, youtube.FakeCommentThreads(threads, YOUTUBE_KEY, per_page=2))
    options = {
        "base_url": api.url,
        "search_terms": ["veloxa"],
        "video_ids": ["V1"],
        "max_results": 2,
        "poll_interval_s": POLL_S,
    }
    expected = {f"youtube:vid{n}" for n in (1, 2, 3)} | {f"youtube:c{n}" for n in (1, 2, 3)}
    return Platform(options, expected)


WEBHOOK_SECRET = "e2e-app-secret"
PAGE_ID = "1001"


async def push_webhook(url: str) -> None:
    """Two signed Meta deliveries with a forged and an unsigned one between them: 200, 401, 401, 200."""
    t = int(time.time())
    fan, page = {"id": "42", "name": "Anna"}, {"id": PAGE_ID, "name": "Acme"}
    first = webhook.page_delivery(
        PAGE_ID,
        t,
        changes=[webhook.feed_status("1001_900", fan, "Mijn nieuwe Acme fiets!", t - 5)],
        messaging=[webhook.message("m_1", "77", PAGE_ID, "Waar blijft mijn Acme?", t * 1000 - 2000)],
    )
    forged = webhook.page_delivery(
        PAGE_ID, t, changes=[webhook.feed_comment("900_666", "1001_900", "1001_900", fan, "forged", t - 1)]
    )
    last = webhook.page_delivery(
        PAGE_ID,
        t,
        changes=[
            webhook.feed_comment("900_1", "1001_900", "1001_900", {"id": "43", "name": "Ben"}, "Mooi!", t - 2),
            webhook.feed_comment("900_2", "1001_900", "900_1", page, "Dank je, Ben!", t - 1),
        ],
    )
    statuses = []
    async with httpx.AsyncClient(timeout=15) as http:
        for payload, secret in (
            (first, WEBHOOK_SECRET),
            (forged, "not-the-app-secret"),
            (forged, None),
            (last, WEBHOOK_SECRET),
        ):
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"}
            if secret is not None:
                headers[SIGNATURE_HEADER] = webhook.sign(body, secret)
            statuses.append((await http.post(url, content=body, headers=headers)).status_code)
    assert statuses == [200, 401, 401, 200], statuses


def serve_webhook(_: FakeAPI, now: datetime, tmp: Path) -> Platform:
    expected = {"facebook:1001_900", "facebook:m_1", "facebook:900_1", "facebook:900_2"}
    return Platform({"port": 0, "durable_timeout_s": 10}, expected, push=push_webhook)


BRANDS = """\
competitive_set: bikes
brands:
  - brand: Acme
    query: 'acme OR @acme OR #acme'
  - brand: Trekko
    query: 'trekko OR @trekko OR #trekko'
    competitor: true
"""


def serve_mastodon_brands(api: FakeAPI, now: datetime, _: Path) -> Platform:
    """A hashtag timeline with an @acme tag, a #Trekko hashtag next to an untagged Acme, and a post about neither,
    in the HTML Mastodon renders tags and mentions as."""
    tag = mastodon.hashtag_html("fietsen")
    contents = {
        1: f"<p>{mastodon.mention_html('acme')} waar blijft mijn fiets? {tag}</p>",
        2: f"<p>Twijfel tussen een {mastodon.hashtag_html('Trekko')} en een Acme {tag}</p>",
        3: f"<p>Mooi weer om te {tag}</p>",
    }
    statuses = {n: mastodon.status(n, now - timedelta(minutes=10 - n), content=c) for n, c in contents.items()}
    api.route("GET", mastodon.tag_path("fietsen"), mastodon.FakeTagTimeline(list(statuses.values())))
    options = {"base_url": api.url, "hashtags": ["fietsen"], "poll_interval_s": POLL_S}
    ids = {n: f"mastodon:{api.url.removeprefix('http://')}/{s['id']}" for n, s in statuses.items()}
    brands = {
        ids[1]: {("Acme", "tagged", False)},
        ids[2]: {("Acme", "untagged", False), ("Trekko", "hashtag", True)},
    }
    return Platform(options, {ids[1], ids[2]}, expected_brands=brands, dropped_ids={ids[3]})


CASES = [
    SourceCase("hackernews", serve_hackernews, platform="hackernews"),
    SourceCase("rss", serve_rss, platform="rss"),
    SourceCase("discourse", serve_discourse, platform="discourse"),
    SourceCase("reddit", serve_reddit, platform="reddit"),
    SourceCase("mastodon", serve_mastodon, platform="mastodon"),
    SourceCase("bluesky", serve_bluesky, platform="bluesky"),
    SourceCase("x", serve_x, platform="x", env={"X_BEARER_TOKEN": X_TOKEN}),
    SourceCase("youtube", serve_youtube, platform="youtube", env={"YOUTUBE_API_KEY": YOUTUBE_KEY}),
    # A receiver keeps no cursor: the platform re-delivers whatever was not answered 200, and the 200 is sent only
    # once the batch is durable (Batch.on_durable), so there is nothing to resume from and nothing to re-run.
    SourceCase(
        "webhook",
        serve_webhook,
        platform="facebook",
        resumes=False,
        env={"LUISTER_WEBHOOK_APP_SECRET": WEBHOOK_SECRET, "LUISTER_WEBHOOK_VERIFY_TOKEN": "e2e-verify-token"},
    ),
    SourceCase("replay", serve_replay, platform="mastodon"),
    SourceCase("demo", serve_demo, platform=None, resumes=False),
    SourceCase("mastodon", serve_mastodon_brands, platform="mastodon", label="mastodon-brand-queries", brands=BRANDS),
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


async def run_until(
    connector: Connector, bootstrap: str, done: Callable[[Run], bool], select: Select | None = None
) -> Run:
    """Run ``connector`` (behind ``select``, the brand filter) against the broker until ``done(run)`` or until its
    batches end; fails after a timeout."""
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
                select=select,
                metrics=ConnectorMetrics(),
                backoff_base_s=0.2,
            )
        )
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while not task.done() and not done(run):
            if time.monotonic() > deadline:
                task.cancel()
                raise AssertionError(
                    f"{connector.name}: not done after {RUN_TIMEOUT_S}s; sent {sorted(run.ids())}, "
                    f"{len(run.yields)} yields, the last {run.yields[-10:]}"
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
    platform: Platform
    expected: set[str]
    first: Run
    second: Run | None
    requests_before_second: int
    requests_after_second: int


async def exercise(case: SourceCase, bootstrap: str, tmp: Path) -> Outcome:
    """First run until idle (or until the pushes were answered), then (for a resumable source) a second run from
    the saved cursor."""
    select = None
    if case.brands is not None:
        (tmp / "brands.yaml").write_text(case.brands, encoding="utf-8")
        select = brand_filter(tmp / "brands.yaml")
    async with FakeAPI() as api:
        platform = case.serve(api, datetime.now(UTC), tmp)
        expected = platform.expected_ids
        connector = build_connector(case.source, case.name, platform.options)
        pushing: asyncio.Task[None] | None = None
        if platform.push is not None:
            assert isinstance(connector, WebhookConnector), f"{case.source} does not receive pushes"
            await connector.start()  # listening before the platform sends
            url = f"http://127.0.0.1:{connector.port}{connector.config.path}"
            pushing = asyncio.create_task(platform.push(url))

        def first_done(run: Run) -> bool:
            if pushing is not None:
                return pushing.done()  # each push is answered only once its batch is durable
            return expected is not None and run.idle_after(expected)

        first = await run_until(connector, bootstrap, first_done, select)
        if pushing is not None:
            await pushing  # the platform's checks of the answers
        if expected is None:
            assert first.ended, f"{case.source}: a source without fixed ids must end by itself (set a limit)"
            expected = first.ids()
        second = None
        before = len(api.requests)
        if case.resumes:
            # Two batches: the resumed sweep and the next poll after it.
            again = build_connector(case.source, case.name, platform.options)
            second = await run_until(again, bootstrap, lambda run: len(run.yields) >= 2, select)
        return Outcome(platform, expected, first, second, before, len(api.requests))


async def raw_topic_ids(bootstrap: str, wanted: set[str], timeout: float = 20, settle: float = 0.5) -> set[str]:
    """The keys (mention ids) on the raw topic, read from the start until every ``wanted`` id came by, and for
    ``settle`` seconds more."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        topic = KafkaSettings().raw_topic
        consumer.assign([TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())])
        await consumer.seek_to_beginning()
        seen: set[str] = set()
        deadline, quiet_at = time.monotonic() + timeout, None
        while time.monotonic() < deadline and (quiet_at is None or time.monotonic() < quiet_at):
            for records in (await consumer.getmany(timeout_ms=100)).values():
                seen.update(r.key.decode() for r in records if r.key is not None)
            if quiet_at is None and wanted <= seen:
                quiet_at = time.monotonic() + settle
        return seen
    finally:
        await consumer.stop()


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


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_source_end_to_end(
    case: SourceCase,
    shared_broker: EmbeddedBroker,
    shared_worker: Worker,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = request.config.stash.setdefault(SOURCES_E2E, {})
    before = results.get(case.source, "passed")  # a source with several cases passes only if all of them do
    results[case.source] = "failed"
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    outcome = asyncio.run(exercise(case, shared_broker.bootstrap_servers, tmp_path))
    expected, first = outcome.expected, outcome.first
    assert expected, f"{case.id}: nothing to check"
    assert first.ids() == expected, f"{case.id} published {sorted(first.ids())}, expected {sorted(expected)}"
    assert len(first.sent) == len(expected), f"{case.id}: a clean run sent some ids twice"
    if case.resumes:
        assert first.saves > 0, f"{case.id}: no cursor saved"

    published = {m.id: m for m in first.sent}
    sources = {m.source for m in first.sent}
    query = (
        "SELECT id, platform, source, toString(sentiment), model FROM mentions_v "
        f"WHERE id IN ({sql_strings(expected)}) OR source IN ({sql_strings(sources)})"
    )
    rows = wait_for(
        lambda: (r := shared_worker.sql(query)) and {row[0] for row in r} >= expected and r,
        60,
        f"{case.id}: {len(expected)} mentions in mentions_v",
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

    if outcome.platform.expected_brands is not None:
        check_brands(shared_worker, shared_broker.bootstrap_servers, outcome.platform)

    if outcome.second is not None:
        assert outcome.second.sent == [], f"{case.id}: a rerun from the saved cursor sent {outcome.second.ids()}"
        if not outcome.second.ended:
            assert outcome.requests_after_second > outcome.requests_before_second, "the rerun never polled"
    results[case.source] = before


def check_brands(worker: Worker, bootstrap: str, platform: Platform) -> None:
    """Kept mentions are stored with exactly the expected brands; dropped ones never reached the raw topic or
    the table."""
    assert platform.expected_brands is not None
    ids = set(platform.expected_brands) | platform.dropped_ids
    rows = worker.sql(
        "SELECT id, brand, toString(match_type), toUInt8(competitor) FROM mention_brands_v "
        f"WHERE id IN ({sql_strings(ids)})"
    )
    stored: dict[str, set[BrandRow]] = {}
    for mention_id, brand, match_type, competitor in rows:
        stored.setdefault(mention_id, set()).add((brand, match_type, bool(competitor)))
    assert stored == platform.expected_brands
    assert not worker.sql(f"SELECT id FROM mentions_v WHERE id IN ({sql_strings(platform.dropped_ids)})")
    on_topic = asyncio.run(raw_topic_ids(bootstrap, set(platform.expected_brands)))
    assert set(platform.expected_brands) <= on_topic
    assert not platform.dropped_ids & on_topic, (
        f"published although no brand matched: {platform.dropped_ids & on_topic}"
    )
