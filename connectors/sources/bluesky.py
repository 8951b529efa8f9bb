"""Bluesky: post search on the AppView, or the Jetstream firehose filtered by the configured terms.

- ``GET /xrpc/app.bsky.feed.searchPosts?q=&sort=latest&since=&cursor=&limit=`` per term. Results come newest
  first and ``cursor`` pages backwards, so a round walks from now back to the saved ``since`` and only its last
  batch moves the cursor (to the newest post time of the walk): a crash mid-walk repeats the walk instead of
  leaving a hole. ``since`` is inclusive, so the cursor also keeps the ids of the posts at its time, and the posts
  that come back at that boundary are not sent again (:class:`~connectors.sources.time_cursor.TimeCursor`).
- ``firehose: true``: Jetstream over a websocket (``?wantedCollections=app.bsky.feed.post&cursor=<time_us>``),
  keeping created posts whose text contains a term (case-insensitive; the runner's brand-query engine refines it).
  One batch per ``firehose_batch_wait_s`` or ``firehose_batch_max`` kept events; the cursor is the last event's
  ``time_us``; a reconnect rewinds ``firehose_rewind_s`` so nothing in flight is lost.

State: ``{"search": {term: {"since": ISO time, "ids": [mention ids at that time]}}}`` or ``{"time_us": int}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, model_validator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from connectors.base import Batch, Rejected
from connectors.sources.bluesky_post import (
    POST_COLLECTION,
    jetstream_commit_to_mention,
    post_text,
    post_view_to_mention,
)
from connectors.sources.common import PollingConnector, PollingOptions, parse_options, read_secret
from connectors.sources.payloads import get_json, parse_time
from connectors.sources.time_cursor import TimeCursor

SOURCE = "bluesky"
log = logging.getLogger("luister.connectors.bluesky")


class BlueskyOptions(PollingOptions):
    """Options of a Bluesky source. An access JWT (optional) is read from the environment variable named by
    ``access_token_env`` (or from ``secrets_file``)."""

    base_url: str = Field("https://api.bsky.app", pattern=r"^https?://[^/]+")
    search_terms: list[str] = Field(min_length=1)
    page_limit: int = Field(100, ge=1, le=100)
    max_pages_per_round: int = Field(50, ge=1)
    firehose: bool = False
    jetstream_url: str = Field("wss://jetstream2.us-east.bsky.network/subscribe", pattern=r"^wss?://")
    firehose_batch_max: int = Field(100, ge=1)
    firehose_batch_wait_s: float = Field(1.0, gt=0)
    firehose_rewind_s: float = Field(5.0, ge=0)
    access_token_env: str = "BLUESKY_ACCESS_JWT"

    @model_validator(mode="after")
    def _terms_not_blank(self) -> BlueskyOptions:
        if any(not term.strip() for term in self.search_terms):
            raise ValueError("search_terms must not be blank")
        return self


class BlueskyConnector(PollingConnector):
    source = SOURCE

    options: BlueskyOptions

    def __init__(self, name: str, options: BlueskyOptions, **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self.base_url = options.base_url.rstrip("/")
        self._terms = [term.lower() for term in options.search_terms]

    def default_headers(self) -> dict[str, str]:
        token = read_secret(self.options.access_token_env, self.options.secrets_file)
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def batches(self, state: Mapping[str, Any]) -> AsyncIterator[Batch]:
        if not self.options.firehose:
            async for batch in super().batches(state):
                yield batch
            return
        async for batch in self._firehose(state):
            yield batch

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        for term in self.options.search_terms:
            async for batch in self._search_walk(term, state):
                state = batch.state or state
                yield batch

    async def _search_walk(self, term: str, state: dict[str, Any]) -> AsyncIterator[Batch]:
        saved = TimeCursor.load(state.get("search", {}).get(term))
        since = (saved.since or self.start_time(self.clock())).isoformat().replace("+00:00", "Z")
        walked = saved
        cursor: str | None = None
        url = f"{self.base_url}/xrpc/app.bsky.feed.searchPosts"
        for page in range(self.options.max_pages_per_round):
            params = {"q": term, "sort": "latest", "since": since, "limit": self.options.page_limit}
            if cursor:
                params["cursor"] = cursor
            body, rejected, _ = await get_json(self.http, url, params=params, name=self.name)
            if rejected is None and not (isinstance(body, dict) and isinstance(body.get("posts"), list)):
                rejected = Rejected.of("bad_type", "searchPosts answer without a 'posts' list", body)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1)  # the walk is abandoned; the cursor stays
                return
            batch = Batch(fetched=len(body["posts"]))
            fetched_at = self.clock()
            for post in body["posts"]:
                result = post_view_to_mention(post, source=self.mention_source, fetched_at=fetched_at)
                if isinstance(result, Rejected):
                    batch.rejected.append(result)
                    continue
                batch.newest = max(batch.newest, result.created_at) if batch.newest else result.created_at
                if saved.seen(result.id):
                    continue  # `since` is inclusive: the posts at the saved time come back every round
                batch.mentions.append(result)
                sort_at = min(result.created_at, parse_time(post.get("indexedAt")) or result.created_at)
                walked = walked.advanced(result.id, sort_at)
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            last = not cursor or not body["posts"]
            if not last and page == self.options.max_pages_per_round - 1:
                log.warning(
                    "%s: %r has more than %d pages since %s; older ones skipped", self.name, term, page + 1, since
                )
                last = True
            if last and walked != saved:
                batch.state = {**state, "search": {**state.get("search", {}), term: walked.dump()}}
            yield batch
            if last:
                return

    async def _firehose(self, state: Mapping[str, Any]) -> AsyncIterator[Batch]:
        saved = state.get("time_us")
        cursor = int(saved) if isinstance(saved, int) else int(self.start_time(self.clock()).timestamp() * 1_000_000)
        connect_from, failures = cursor, 0
        while True:
            url = f"{self.options.jetstream_url}?wantedCollections={POST_COLLECTION}&cursor={connect_from}"
            try:
                async with connect(url, open_timeout=self.options.timeout_s, max_size=2**22) as socket:
                    failures = 0
                    closed: ConnectionClosed | None = None
                    while closed is None:
                        batch, closed = await self._firehose_batch(socket, cursor)
                        if batch.state is not None:
                            cursor = batch.state["time_us"]
                        if batch.fetched:
                            yield batch
                    raise closed
            except (OSError, TimeoutError, WebSocketException) as error:
                failures += 1
                delay = min(2.0**failures, 60.0)
                log.warning("%s: jetstream connection ended (%r); reconnecting in %.0fs", self.name, error, delay)
                # Rewind a little: events of a half-read batch and any in flight are read again (ids deduplicate).
                connect_from = max(cursor - int(self.options.firehose_rewind_s * 1_000_000), 0)
                await self._sleep(delay)

    async def _firehose_batch(self, socket: Any, cursor: int) -> tuple[Batch, ConnectionClosed | None]:
        """Events until ``firehose_batch_max`` are kept, ``firehose_batch_wait_s`` passed or the server closed
        the connection (then the events read so far, and why it closed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.firehose_batch_wait_s
        batch = Batch()
        newest_us = cursor
        fetched_at = self.clock()
        while len(batch.mentions) + len(batch.rejected) < self.options.firehose_batch_max:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                message = await asyncio.wait_for(socket.recv(), remaining)
            except TimeoutError:
                break
            except ConnectionClosed as closed:
                return self._finish(batch, cursor, newest_us), closed
            batch.fetched += 1
            try:
                event = json.loads(message)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                batch.rejected.append(Rejected.of("not_json", f"jetstream event: {error}", message))
                continue
            if not isinstance(event, dict):
                batch.rejected.append(Rejected.of("bad_type", "jetstream event is not an object", event))
                continue
            if isinstance(event.get("time_us"), int):
                newest_us = max(newest_us, event["time_us"])
            commit = event.get("commit")
            if event.get("kind") != "commit" or not isinstance(commit, dict):
                continue
            if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
                continue
            text = post_text(commit.get("record"))
            if text is not None and not any(term in text.lower() for term in self._terms):
                continue
            result = jetstream_commit_to_mention(event, source=self.mention_source, fetched_at=fetched_at)
            if isinstance(result, Rejected):
                batch.rejected.append(result)
            else:
                batch.mentions.append(result)
                batch.newest = max(batch.newest, result.created_at) if batch.newest else result.created_at
        return self._finish(batch, cursor, newest_us), None

    @staticmethod
    def _finish(batch: Batch, cursor: int, newest_us: int) -> Batch:
        batch.state = {"time_us": newest_us}
        if not batch.newest and newest_us > cursor:
            batch.newest = datetime.fromtimestamp(newest_us / 1_000_000, UTC)
        return batch


def build(name: str, options: Mapping[str, Any]) -> BlueskyConnector:
    """A Bluesky source from its options (``search_terms`` required)."""
    return BlueskyConnector(name, parse_options(BlueskyOptions, SOURCE, name, options))
