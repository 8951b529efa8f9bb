"""Mastodon (any instance): hashtag timelines and status search, optionally the hashtag streaming API.

- ``GET /api/v1/timelines/tag/:hashtag?min_id=&limit=40`` walks forward from the saved newest id, one page per
  :class:`~connectors.base.Batch`, following the ``Link`` header's ``rel="prev"`` (newer) page; each page is saved
  as soon as it is durable, so a restart continues after the last saved page. A first run starts ``lookback`` ago
  (Mastodon ids are snowflakes: milliseconds since the epoch shifted left 16 bits).
- ``GET /api/v2/search?q=&type=statuses&min_id=`` once per term per round (full-text status search needs an access
  token on most instances).
- ``stream: true``: after catching up, ``GET /api/v1/streaming/hashtag?tag=`` server-sent events
  (``event: update`` / ``data: {status}``) for every hashtag; the stream is opened *before* the catch-up so nothing
  falls between the two, and on a disconnect the source catches up again and reconnects.

State: ``{"tags": {tag: newest id}, "search": {term: newest id}}``. Rate limits (``X-RateLimit-Remaining`` /
``X-RateLimit-Reset`` as an ISO date) are honoured by :class:`~connectors.http.PoliteClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.base import Batch, Rejected
from connectors.http import FetchError
from connectors.sources.common import PollingConnector, PollingOptions, parse_options, read_secret
from connectors.sources.mastodon_status import status_id_key, status_to_mention
from connectors.sources.payloads import get_json
from connectors.sources.sse import sse_events

SOURCE = "mastodon"
log = logging.getLogger("luister.connectors.mastodon")


class MastodonOptions(PollingOptions):
    """Options of a Mastodon source. The access token (optional) is read from the environment variable named by
    ``access_token_env`` (or from ``secrets_file``)."""

    base_url: str = Field("https://mastodon.social", pattern=r"^https?://[^/]+")
    hashtags: list[str] = Field(default_factory=list)
    search_terms: list[str] = Field(default_factory=list)
    page_limit: int = Field(40, ge=1, le=40)
    max_pages_per_round: int = Field(25, ge=1)
    stream: bool = False
    stream_batch_max: int = Field(50, ge=1, description="streamed statuses per batch at most")
    stream_batch_wait_s: float = Field(1.0, gt=0, description="longest a streamed status waits for its batch")
    access_token_env: str = "MASTODON_ACCESS_TOKEN"

    @field_validator("hashtags")
    @classmethod
    def _bare_tags(cls, tags: list[str]) -> list[str]:
        cleaned = [tag.strip().lstrip("#") for tag in tags]
        if any(not tag or any(c.isspace() for c in tag) for tag in cleaned):
            raise ValueError("hashtags must be single words (with or without '#')")
        return cleaned

    @model_validator(mode="after")
    def _something_to_follow(self) -> MastodonOptions:
        if not self.hashtags and not self.search_terms:
            raise ValueError("give at least one of hashtags, search_terms")
        if self.stream and not self.hashtags:
            raise ValueError("stream needs hashtags (the streaming API follows hashtags)")
        return self


class MastodonConnector(PollingConnector):
    source = SOURCE

    options: MastodonOptions

    def __init__(self, name: str, options: MastodonOptions, **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self.base_url = options.base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc

    def default_headers(self) -> dict[str, str]:
        token = read_secret(self.options.access_token_env, self.options.secrets_file)
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def batches(self, state: Mapping[str, Any]) -> AsyncIterator[Batch]:
        if not self.options.stream:
            async for batch in super().batches(state):
                yield batch
            return
        current: dict[str, Any] = dict(state)
        while True:
            try:
                async for batch in self._stream_session(current):
                    if batch.state is not None:
                        current = batch.state
                    yield batch
            except FetchError as error:
                log.warning("%s: catch-up failed, reconnecting: %s", self.name, error)
            await self._sleep(min(self.options.poll_interval_s, 5.0))

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        for tag in self.options.hashtags:
            async for batch in self._tag_timeline(tag, state):
                state = batch.state or state
                yield batch
        for term in self.options.search_terms:
            batch = await self._search(term, state)
            state = batch.state or state
            yield batch

    async def _tag_timeline(self, tag: str, state: dict[str, Any]) -> AsyncIterator[Batch]:
        cursor = state.get("tags", {}).get(tag) or _snowflake(self.start_time(self.clock()))
        url: str | None = f"{self.base_url}/api/v1/timelines/tag/{quote(tag, safe='')}"
        params: dict[str, Any] | None = {"min_id": cursor, "limit": self.options.page_limit}
        for _ in range(self.options.max_pages_per_round):
            assert url is not None
            body, rejected, response = await get_json(self.http, url, params=params, name=self.name)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1)
                return
            batch = self._page(body, "tags", tag, cursor, state)
            yield batch
            assert batch.state is not None
            cursor = batch.state["tags"][tag]
            if batch.fetched < self.options.page_limit:
                return
            newer = response.links.get("prev", {}).get("url")
            url, params = (newer, None) if newer else (url, {"min_id": cursor, "limit": self.options.page_limit})

    async def _search(self, term: str, state: dict[str, Any]) -> Batch:
        cursor = state.get("search", {}).get(term)
        params: dict[str, Any] = {"q": term, "type": "statuses", "limit": self.options.page_limit}
        if cursor:
            params["min_id"] = cursor
        body, rejected, _ = await get_json(self.http, f"{self.base_url}/api/v2/search", params=params, name=self.name)
        if rejected is not None:
            return Batch(rejected=[rejected], fetched=1)
        if not isinstance(body, dict) or not isinstance(body.get("statuses"), list):
            return Batch(rejected=[Rejected.of("bad_type", "search result without a 'statuses' list", body)], fetched=1)
        since = None if cursor else self.start_time(self.clock())
        return self._page(body["statuses"], "search", term, cursor, state, since=since)

    def _page(
        self,
        statuses: Any,
        section: str,
        key: str,
        cursor: str | None,
        state: dict[str, Any],
        since: datetime | None = None,
    ) -> Batch:
        """One page of statuses as a batch whose state moves ``section[key]`` to the newest id seen."""
        if not isinstance(statuses, list):
            return Batch(rejected=[Rejected.of("bad_type", "expected a list of statuses", statuses)], fetched=1)
        batch = Batch(fetched=len(statuses))
        newest_id = cursor
        fetched_at = self.clock()
        for status in statuses:
            result = status_to_mention(status, host=self.host, source=self.mention_source, fetched_at=fetched_at)
            native = status.get("id") if isinstance(status, dict) else None
            if isinstance(native, str) and (newest_id is None or status_id_key(native) > status_id_key(newest_id)):
                newest_id = native
            if result is None:
                continue
            if isinstance(result, Rejected):
                batch.rejected.append(result)
                continue
            batch.newest = max(batch.newest, result.created_at) if batch.newest else result.created_at
            if since is None or result.created_at >= since:
                batch.mentions.append(result)
        new_state = {**state, section: {**state.get(section, {}), key: newest_id}}
        batch.state = new_state if newest_id is not None else (state or None)
        return batch

    async def _stream_session(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        """Connect every hashtag stream, catch up over REST, then yield streamed statuses until a stream ends."""
        queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue(maxsize=1000)
        connected: list[asyncio.Event] = []
        readers = []
        for tag in self.options.hashtags:
            ready = asyncio.Event()
            connected.append(ready)
            readers.append(asyncio.create_task(self._read_stream(tag, queue, ready)))
        try:
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in connected)), self.options.timeout_s)
            async for batch in self.sweep(dict(state)):
                state = batch.state or state
                yield batch
            while (streamed := await self._next_stream_batch(queue, state)) is not None:
                state = streamed.state or state
                yield streamed
        except TimeoutError:
            log.warning("%s: streaming did not connect within %.0fs", self.name, self.options.timeout_s)
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    async def _next_stream_batch(
        self, queue: asyncio.Queue[tuple[str, Any] | None], state: dict[str, Any]
    ) -> Batch | None:
        """Up to ``stream_batch_max`` statuses, waiting at most ``stream_batch_wait_s`` after the first one;
        ``None`` once a stream ended and nothing is left."""
        first = await queue.get()
        if first is None:
            return None
        items = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.stream_batch_wait_s
        ended = False
        while len(items) < self.options.stream_batch_max:
            try:
                item = await asyncio.wait_for(queue.get(), max(deadline - loop.time(), 0))
            except TimeoutError:
                break
            if item is None:
                ended = True
                break
            items.append(item)
        batch = Batch()
        by_tag: dict[str, list[Any]] = {}
        for tag, data in items:
            if isinstance(data, Rejected):
                batch.rejected.append(data)
                batch.fetched += 1
            else:
                by_tag.setdefault(tag, []).append(data)
        for tag, statuses in by_tag.items():
            page = self._page(statuses, "tags", tag, state.get("tags", {}).get(tag), state)
            state = page.state or state
            batch.mentions.extend(page.mentions)
            batch.rejected.extend(page.rejected)
            batch.fetched += page.fetched
            batch.newest = max(filter(None, (batch.newest, page.newest)), default=None)
        batch.state = state
        if ended:
            queue.put_nowait(None)
        return batch

    async def _read_stream(self, tag: str, queue: asyncio.Queue[tuple[str, Any] | None], ready: asyncio.Event) -> None:
        url = f"{self.base_url}/api/v1/streaming/hashtag"
        try:
            async with self.http.client.stream(
                "GET", url, params={"tag": tag}, headers={"Accept": "text/event-stream"}, timeout=None
            ) as response:
                if response.status_code != 200:
                    log.warning("%s: stream for #%s answered %d", self.name, tag, response.status_code)
                    return
                ready.set()
                async for event, data in sse_events(response.aiter_lines()):
                    if event != "update":
                        continue
                    try:
                        await queue.put((tag, json.loads(data)))
                    except json.JSONDecodeError as error:
                        await queue.put((tag, Rejected.of("not_json", f"streamed update: {error}", data)))
        except Exception as error:  # network errors end the session; the caller catches up and reconnects
            log.warning("%s: stream for #%s ended: %r", self.name, tag, error)
        finally:
            ready.set()
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)


def _snowflake(when: datetime) -> str:
    """The smallest Mastodon status id created at ``when``."""
    return str(int(when.timestamp() * 1000) << 16)


def build(name: str, options: Mapping[str, Any]) -> MastodonConnector:
    """A Mastodon source from its options (``hashtags`` and/or ``search_terms`` required)."""
    parsed = parse_options(MastodonOptions, SOURCE, name, options)
    if parsed.search_terms and read_secret(parsed.access_token_env, parsed.secrets_file) is None:
        log.warning("mastodon %s: search_terms without an access token; most instances then return no statuses", name)
    return MastodonConnector(name, parsed)
