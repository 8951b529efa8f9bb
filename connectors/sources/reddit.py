"""Reddit through its OAuth API (application-only, client credentials): search results and subreddit listings.

Listings come newest first and page with ``after=<fullname>``. A sweep pages until it reaches the cursor (the newest
``created_utc`` of the previous sweep and the fullnames seen at that second) or, on a first run, items older than
``lookback``; each page's state names the ``after`` to continue from, so a restart mid-sweep leaves no gap.
The token is fetched with ``client_id``/``client_secret`` from the environment (or ``secrets_file``), kept in memory
only, and fetched again once when the API answers 401. When ``x-ratelimit-remaining`` runs low the connector spreads
its remaining requests over ``x-ratelimit-reset`` seconds; at zero, :class:`~connectors.http.PoliteClient` waits.

State: ``{"listings": {key: {"since": float, "names": [fullname], "sweep": {"after", "newest", "newest_names"}}}}``
with keys ``search:<query>``, ``r/<sub>/new`` and ``r/<sub>/comments``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import Field, ValidationError

from connectors.base import Batch, Connector, Rejected
from connectors.sources.common import (
    ItemError,
    PollingConnector,
    PollingOptions,
    count,
    decode_json,
    from_epoch,
    need,
    parse_options,
    read_secret,
)
from pipeline.schema import Author, Engagement, Mention, mention_id

SOURCE = "reddit"
PLATFORM = "reddit"


class RedditAuthError(RuntimeError):
    """The credentials were refused (a configuration error: retrying will not help)."""


class RedditOptions(PollingOptions):
    base_url: str = "https://oauth.reddit.com"
    token_url: str = "https://www.reddit.com/api/v1/access_token"
    queries: list[str] = Field(default_factory=list)
    subreddits: list[str] = Field(default_factory=list)
    include_comments: bool = Field(False, description="also follow /r/<sub>/comments")
    limit: int = Field(100, ge=1, le=100)
    max_pages: int = Field(10, ge=1)
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    reddit_username: str | None = Field(None, description="the app owner, for the User-Agent Reddit requires")
    low_remaining: float = Field(10, ge=0, description="below this many requests left, spread them until the reset")


class RedditConnector(PollingConnector):
    source = SOURCE
    options: RedditOptions
    _token: str | None = None

    @property
    def user_agent(self) -> str:
        owner = f" (by /u/{self.options.reddit_username})" if self.options.reddit_username else ""
        return f"python:luister:1{owner}"

    def listings(self) -> list[tuple[str, str, dict[str, Any]]]:
        out = [(f"search:{q}", "/search", {"q": q, "sort": "new", "type": "link"}) for q in self.options.queries]
        for sub in self.options.subreddits:
            out.append((f"r/{sub}/new", f"/r/{sub}/new", {}))
            if self.options.include_comments:
                out.append((f"r/{sub}/comments", f"/r/{sub}/comments", {}))
        return out

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        current = dict(state)
        for key, path, params in self.listings():
            listings = dict(current.get("listings") or {})
            async for batch, listing_state in self._sweep_listing(path, params, dict(listings.get(key) or {})):
                if listing_state is not None:
                    listings[key] = listing_state
                    current = {**current, "listings": dict(listings)}
                    batch.state = current
                yield batch

    async def _fetch_token(self) -> str:
        client_id = read_secret(self.options.client_id_env, self.options.secrets_file)
        secret = read_secret(self.options.client_secret_env, self.options.secrets_file)
        if not client_id or not secret:
            raise RedditAuthError(f"set {self.options.client_id_env} and {self.options.client_secret_env}")
        response = await self.http.request(
            "POST",
            self.options.token_url,
            auth=(client_id, secret),
            data={"grant_type": "client_credentials"},
            headers={"User-Agent": self.user_agent},
        )
        data, _ = decode_json(response)
        token = data.get("access_token") if isinstance(data, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            raise RedditAuthError(f"token endpoint answered HTTP {response.status_code}")
        return token

    async def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        for _ in range(2):
            if self._token is None:
                self._token = await self._fetch_token()
            headers = {"Authorization": f"bearer {self._token}", "User-Agent": self.user_agent}
            response = await self.http.get(f"{self.options.base_url.rstrip('/')}{path}", params=params, headers=headers)
            if response.status_code != 401:
                await self._pace(response.headers)
                return response
            self._token = None  # expired or revoked: fetch a new one, once
        raise RedditAuthError(f"{path}: HTTP 401 with a fresh token")

    async def _pace(self, headers: Mapping[str, str]) -> None:
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if 0 < remaining < self.options.low_remaining:
            await self._sleep(reset / remaining)

    async def _sweep_listing(
        self, path: str, params: dict[str, Any], state: dict[str, Any]
    ) -> AsyncIterator[tuple[Batch, dict[str, Any] | None]]:
        since = float(state.get("since") or self.start_time(self.clock()).timestamp())
        known = set(state.get("names") or [])
        sweep = state.get("sweep") or {}
        after: str | None = sweep.get("after")
        newest = float(sweep.get("newest", since))
        newest_names = set(sweep.get("newest_names", known if newest == since else ()))
        for _ in range(self.options.max_pages):
            query = {**params, "limit": self.options.limit, "raw_json": 1, **({"after": after} if after else {})}
            response = await self._get(path, query)
            data, rejected = decode_json(response)
            if rejected is None and response.status_code != 200:
                rejected = Rejected.of(f"http_{response.status_code}", path, response.content)
            listing = data.get("data") if isinstance(data, dict) else None
            children = listing.get("children") if isinstance(listing, dict) else None
            if rejected is None and not isinstance(children, list):
                rejected = Rejected.of("bad_shape", "not a Listing with data.children", response.content)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1), None
                return
            assert isinstance(listing, dict) and isinstance(children, list)
            fetched_at = self.clock()
            batch, reached = Batch(fetched=len(children)), False
            for child in children:
                try:
                    mention, name, stamp = self._mention(child, fetched_at)
                except ItemError as error:
                    batch.rejected.append(Rejected.of(error.reason, error.detail, child))
                    continue
                if batch.newest is None or mention.created_at > batch.newest:
                    batch.newest = mention.created_at
                if stamp < since or (stamp == since and name in known):
                    reached = True
                    continue
                batch.mentions.append(mention)
                if stamp > newest:
                    newest, newest_names = stamp, {name}
                elif stamp == newest:
                    newest_names.add(name)
            after = listing.get("after") if isinstance(listing.get("after"), str) else None
            if reached or not after:
                yield batch, {"since": newest, "names": sorted(newest_names)}
                return
            sweep_state = {"after": after, "newest": newest, "newest_names": sorted(newest_names)}
            yield batch, {"since": since, "names": sorted(known), "sweep": sweep_state}

    def _mention(self, child: Any, fetched_at: datetime) -> tuple[Mention, str, float]:
        if not isinstance(child, Mapping) or not isinstance(child.get("data"), Mapping):
            raise ItemError("bad_type", "child is not {kind, data}")
        kind, data = child.get("kind"), child["data"]
        if kind not in ("t1", "t3"):
            raise ItemError("unsupported_kind", f"kind {kind!r}")
        name = need(data, "name", str)
        stamp = need(data, "created_utc", (int, float))
        author = need(data, "author", str)
        if kind == "t3":
            title, selftext = need(data, "title", str), data.get("selftext")
            text = f"{title}\n\n{selftext}" if isinstance(selftext, str) and selftext.strip() else title
            in_reply_to = None
        else:
            text = need(data, "body", str)
            parent = data.get("parent_id")
            in_reply_to = mention_id(PLATFORM, parent) if isinstance(parent, str) and parent else None
        permalink = data.get("permalink")
        try:
            mention = Mention(
                id=mention_id(PLATFORM, name),
                source=self.mention_source,
                platform=PLATFORM,
                url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
                author=Author(handle=author),
                text=text,
                created_at=from_epoch(stamp),
                fetched_at=fetched_at,
                kind="post" if kind == "t3" else "comment",
                in_reply_to=in_reply_to,
                engagement=Engagement(likes=count(data, "score"), replies=count(data, "num_comments")),
                raw_ref=f"{self.options.base_url.rstrip('/')}/api/info?id={name}",
            )
        except (ValidationError, ValueError, OverflowError) as error:
            raise ItemError("invalid", str(error)[:200]) from None
        return mention, name, float(stamp)


def build(name: str, options: Mapping[str, Any]) -> Connector:
    """A Reddit connector from ``options``; ``ValueError`` if invalid, following nothing, or without credentials."""
    parsed = parse_options(RedditOptions, SOURCE, name, options)
    if not parsed.queries and not parsed.subreddits:
        raise ValueError(f"{SOURCE} connector {name!r}: give queries and/or subreddits")
    for env in (parsed.client_id_env, parsed.client_secret_env):
        if read_secret(env, parsed.secrets_file) is None:
            where = f"secrets_file {parsed.secrets_file}" if parsed.secrets_file else "the environment"
            raise ValueError(f"{SOURCE} connector {name!r}: {env} is not set in {where}")
    return RedditConnector(name, parsed)
