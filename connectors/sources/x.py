"""X (API v2): recent search, optionally the filtered stream.

- ``GET /2/tweets/search/recent?query=&since_id=&next_token=&max_results=100&tweet.fields=…&expansions=author_id
  &user.fields=…``. Results come newest first and ``next_token`` pages backwards, so a round walks from now back
  to the saved ``since_id`` (or ``start_time`` = ``lookback`` ago on a first run) and only its last batch saves the
  new ``since_id`` (the first page's ``meta.newest_id``): a crash mid-walk repeats the walk, it never skips.
- ``stream: true``: ``GET /2/tweets/search/stream`` (newline-delimited JSON, blank keep-alive lines) with the
  rules already set up on the app (``POST /2/tweets/search/stream/rules``, not managed here). The stream is opened
  first, then a recent-search catch-up runs, then streamed tweets are read (one batch each), so nothing falls
  between the two; after a disconnect the source catches up again and reconnects.

The bearer token comes from the environment (``X_BEARER_TOKEN``) or a file. ``x-rate-limit-remaining`` /
``x-rate-limit-reset`` (epoch seconds) are honoured by :class:`~connectors.http.PoliteClient`.
State: ``{"since_id": "<tweet id>"}``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC
from typing import Any

import httpx
from pydantic import Field, model_validator

from connectors.base import Batch, Rejected
from connectors.http import FetchError, redact
from connectors.sources.common import PollingConnector, PollingOptions, parse_options, read_secret
from connectors.sources.payloads import SourceAuthError, get_json, newest
from connectors.sources.x_tweet import TWEET_FIELDS, USER_FIELDS, tweet_id_key, tweet_to_mention, users_by_id

SOURCE = "x"
log = logging.getLogger("luister.connectors.x")
MAX_LOOKBACK_S = 7 * 24 * 3600  # recent search covers the last seven days


class XOptions(PollingOptions):
    """Options of an X source. ``query`` is an X search query; ``search_terms`` are OR-ed into one when it is not
    given. The bearer token is read from the environment variable named by ``bearer_token_env`` (or from
    ``secrets_file``)."""

    base_url: str = Field("https://api.x.com", pattern=r"^https?://[^/]+")
    query: str | None = Field(None, min_length=1, max_length=4096)
    search_terms: list[str] = Field(default_factory=list)
    lookback_s: float = Field(3600.0, ge=0, le=MAX_LOOKBACK_S)
    max_results: int = Field(100, ge=10, le=100)
    max_pages_per_round: int = Field(10, ge=1)
    stream: bool = False
    stream_reconnect_s: float = Field(5.0, ge=0)
    bearer_token_env: str = "X_BEARER_TOKEN"

    @model_validator(mode="after")
    def _has_query(self) -> XOptions:
        if self.query is None and not [t for t in self.search_terms if t.strip()]:
            raise ValueError("give a query or search_terms")
        return self

    def search_query(self) -> str:
        if self.query is not None:
            return self.query
        return " OR ".join(f'"{t.strip()}"' if " " in t.strip() else t.strip() for t in self.search_terms if t.strip())


class XConnector(PollingConnector):
    source = SOURCE

    options: XOptions

    def __init__(self, name: str, options: XOptions, **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self.base_url = options.base_url.rstrip("/")
        self._fields = {"tweet.fields": TWEET_FIELDS, "expansions": "author_id", "user.fields": USER_FIELDS}

    def default_headers(self) -> dict[str, str]:
        token = read_secret(self.options.bearer_token_env, self.options.secrets_file)
        if token is None:
            raise SourceAuthError(f"{self.name}: set {self.options.bearer_token_env} (the X bearer token)")
        return {"Authorization": f"Bearer {token}"}

    async def batches(self, state: Mapping[str, Any]) -> AsyncIterator[Batch]:
        if not self.options.stream:
            async for batch in super().batches(state):
                yield batch
            return
        current = dict(state)
        while True:
            try:
                async for batch in self._stream_session(current):
                    current = batch.state or current
                    yield batch
            except httpx.TransportError as error:
                log.warning("%s: stream ended: %s", self.name, type(error).__name__)
            except FetchError as error:
                log.warning("%s: catch-up failed, reconnecting: %s", self.name, error)
            await self._sleep(self.options.stream_reconnect_s)

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        since_id = state.get("since_id")
        params: dict[str, Any] = {"query": self.options.search_query(), "max_results": self.options.max_results}
        params.update(self._fields)
        if since_id:
            params["since_id"] = since_id
        else:
            params["start_time"] = self.start_time(self.clock()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        walk_newest: str | None = None
        for page in range(self.options.max_pages_per_round):
            url = f"{self.base_url}/2/tweets/search/recent"
            body, rejected, _ = await get_json(self.http, url, params=params, name=self.name)
            if rejected is None and not (isinstance(body, dict) and isinstance(body.get("meta"), dict)):
                rejected = Rejected.of("bad_type", "search answer without 'meta'", body)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1)
                return
            tweets = body.get("data") or []
            batch = self._tweets_batch(tweets, body.get("includes"))
            meta = body["meta"]
            if walk_newest is None and isinstance(meta.get("newest_id"), str):
                walk_newest = meta["newest_id"]
            next_token = meta.get("next_token")
            last = not isinstance(next_token, str) or not tweets
            if not last and page == self.options.max_pages_per_round - 1:
                log.warning("%s: more than %d pages since %s; older ones skipped", self.name, page + 1, since_id)
                last = True
            if last and walk_newest is not None:
                batch.state = {**state, "since_id": walk_newest}
            yield batch
            if last:
                return
            params["next_token"] = next_token

    def _tweets_batch(self, tweets: Any, includes: Any) -> Batch:
        if not isinstance(tweets, list):
            return Batch(rejected=[Rejected.of("bad_type", "'data' is not a list of tweets", tweets)], fetched=1)
        users = users_by_id(includes)
        batch = Batch(fetched=len(tweets))
        fetched_at = self.clock()
        for tweet in tweets:
            result = tweet_to_mention(tweet, users, source=self.mention_source, fetched_at=fetched_at)
            if isinstance(result, Rejected):
                batch.rejected.append(result)
            else:
                batch.mentions.append(result)
                batch.newest = newest(batch.newest, result.created_at)
        return batch

    async def _stream_session(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        url = f"{self.base_url}/2/tweets/search/stream"
        timeout = httpx.Timeout(self.options.timeout_s, read=max(self.options.timeout_s, 30.0))  # keep-alives: 20 s
        async with self.http.client.stream("GET", url, params=self._fields, timeout=timeout) as response:
            if response.status_code in (401, 403):
                raise SourceAuthError(f"{self.name}: {redact(url)} answered {response.status_code}")
            if response.status_code != 200:
                log.warning("%s: stream answered %d", self.name, response.status_code)
                return
            async for batch in self.sweep(dict(state)):
                state = batch.state or state
                yield batch
            async for line in response.aiter_lines():
                if not line.strip():
                    continue  # keep-alive
                batch = self._streamed(line, state)
                state = batch.state or state
                yield batch

    def _streamed(self, line: str, state: dict[str, Any]) -> Batch:
        """One streamed tweet as a batch; its state moves ``since_id`` forward (never back)."""
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            return Batch(rejected=[Rejected.of("not_json", f"stream line: {error}", line)], fetched=1)
        if not isinstance(item, dict) or "data" not in item:
            return Batch(rejected=[Rejected.of("bad_type", "stream line without 'data'", item)], fetched=1)
        batch = self._tweets_batch([item["data"]], item.get("includes"))
        tweet_id = item["data"].get("id") if isinstance(item["data"], dict) else None
        saved = state.get("since_id")
        if isinstance(tweet_id, str) and (saved is None or tweet_id_key(tweet_id) > tweet_id_key(saved)):
            batch.state = {**state, "since_id": tweet_id}
        return batch


def build(name: str, options: Mapping[str, Any]) -> XConnector:
    """An X source from its options (``query`` or ``search_terms``); the bearer token must be set."""
    parsed = parse_options(XOptions, SOURCE, name, options)
    if read_secret(parsed.bearer_token_env, parsed.secrets_file) is None:
        raise ValueError(
            f"x connector {name!r}: the bearer token is not set (environment variable {parsed.bearer_token_env})"
        )
    return XConnector(name, parsed)
