"""Discourse forums: the latest posts (``/posts.json``) and, per search term, ``/search.json?q=<term> order:latest``.

Latest posts come newest first; each page's state says where to continue (``before`` the lowest id fetched), so a
restart mid-sweep goes on without a gap. A sweep stops at the cursor (the highest post id of the previous sweep) or,
on a first run, at posts older than ``lookback``. Search results page by number (``page=1,2,…``) while
``grouped_search_result.more_posts`` is true; a post arriving between pages shifts them, which only causes overlap.
Search gives a plain-text ``blurb`` (an excerpt), latest posts the full ``cooked`` HTML.

Ids are ``discourse:<host>/t/<topic_id>/<post_number>`` (the post's place, which also names its parent);
``Api-Key``/``Api-Username`` headers are sent when the environment (or ``secrets_file``) has them.

State: ``{"latest": {"since": id, "sweep": {"before", "newest"}}, "search": {term: {"since", "sweep": {"page",
"newest"}}}}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, ValidationError

from connectors.base import Batch, Connector, Rejected
from connectors.sources.common import (
    ItemError,
    PollingConnector,
    PollingOptions,
    count,
    decode_json,
    from_iso,
    need,
    parse_options,
    read_secret,
)
from connectors.sources.html_text import html_to_text
from pipeline.schema import Author, Engagement, Mention, mention_id

SOURCE = "discourse"
PLATFORM = "discourse"


class DiscourseOptions(PollingOptions):
    base_url: str = "https://meta.discourse.org"
    latest: bool = Field(True, description="follow /posts.json (every new public post)")
    search_terms: list[str] = Field(default_factory=list, description="also follow /search.json for each term")
    max_pages: int = Field(20, ge=1, description="pages per sweep and feed; the rest waits for the next poll")
    api_key_env: str = "DISCOURSE_API_KEY"
    api_username_env: str = "DISCOURSE_API_USERNAME"


class DiscourseConnector(PollingConnector):
    source = SOURCE
    options: DiscourseOptions

    @property
    def base(self) -> str:
        return self.options.base_url.rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        key = read_secret(self.options.api_key_env, self.options.secrets_file)
        user = read_secret(self.options.api_username_env, self.options.secrets_file)
        return {"Api-Key": key, "Api-Username": user or "system"} if key else {}

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        current = dict(state)
        if self.options.latest:
            async for batch, latest in self._sweep_latest(dict(current.get("latest") or {})):
                if latest is not None:
                    current = {**current, "latest": latest}
                    batch.state = current
                yield batch
        for term in self.options.search_terms:
            searches = dict(current.get("search") or {})
            async for batch, term_state in self._sweep_search(term, dict(searches.get(term) or {})):
                if term_state is not None:
                    searches[term] = term_state
                    current = {**current, "search": dict(searches)}
                    batch.state = current
                yield batch

    async def _get(self, path: str, params: dict[str, Any]) -> tuple[Any, Rejected | None, httpx.Response]:
        response = await self.http.get(f"{self.base}{path}", params=params, headers=self.auth_headers())
        data, rejected = decode_json(response)
        if rejected is None and response.status_code != 200:
            rejected = Rejected.of(f"http_{response.status_code}", path, response.content)
        return data, rejected, response

    async def _sweep_latest(self, state: dict[str, Any]) -> AsyncIterator[tuple[Batch, dict[str, Any] | None]]:
        since: int | None = state.get("since")
        sweep = state.get("sweep") or {}
        before: int | None = sweep.get("before")
        newest: int = sweep.get("newest", since or 0)
        for _ in range(self.options.max_pages):
            data, rejected, response = await self._get("/posts.json", {"before": before} if before else {})
            if rejected is None and not (isinstance(data, dict) and isinstance(data.get("latest_posts"), list)):
                rejected = Rejected.of("bad_shape", "no latest_posts list", response.content)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1), None
                return
            batch, page_ids, reached = self._page(data["latest_posts"], {}, since, text_field="cooked")
            newest = max([newest, *page_ids])
            if reached or not page_ids:
                yield batch, {"since": newest}
                return
            before = min(page_ids)
            yield batch, {"since": since, "sweep": {"before": before, "newest": newest}}

    async def _sweep_search(
        self, term: str, state: dict[str, Any]
    ) -> AsyncIterator[tuple[Batch, dict[str, Any] | None]]:
        since: int | None = state.get("since")
        sweep = state.get("sweep") or {}
        page: int = sweep.get("page", 1)
        newest: int = sweep.get("newest", since or 0)
        for _ in range(self.options.max_pages):
            data, rejected, response = await self._get("/search.json", {"q": f"{term} order:latest", "page": page})
            if rejected is None and not (isinstance(data, dict) and isinstance(data.get("posts", []), list)):
                rejected = Rejected.of("bad_shape", "posts is not a list", response.content)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1), None
                return
            topics = {t.get("id"): t for t in data.get("topics") or [] if isinstance(t, dict)}
            batch, page_ids, reached = self._page(data.get("posts") or [], topics, since, text_field="blurb")
            newest = max([newest, *page_ids])
            grouped = data.get("grouped_search_result")
            more = isinstance(grouped, dict) and grouped.get("more_posts") is True
            if reached or not page_ids or not more:
                yield batch, {"since": newest}
                return
            page += 1
            yield batch, {"since": since, "sweep": {"page": page, "newest": newest}}

    def _page(
        self, posts: list[Any], topics: Mapping[Any, Any], since: int | None, *, text_field: str
    ) -> tuple[Batch, list[int], bool]:
        """Mentions newer than ``since`` (or, without one, than the lookback), the ids seen, and whether the page
        reached already-known posts."""
        fetched_at = self.clock()
        start = self.start_time(fetched_at)
        batch, ids, reached = Batch(fetched=len(posts)), [], False
        for post in posts:
            try:
                mention, post_id = self._mention(post, topics, text_field, fetched_at)
            except ItemError as error:
                batch.rejected.append(Rejected.of(error.reason, error.detail, post))
                continue
            ids.append(post_id)
            if batch.newest is None or mention.created_at > batch.newest:
                batch.newest = mention.created_at
            if (since is not None and post_id <= since) or (since is None and mention.created_at < start):
                reached = True
                continue
            batch.mentions.append(mention)
        return batch, ids, reached

    def _mention(
        self, post: Any, topics: Mapping[Any, Any], text_field: str, fetched_at: datetime
    ) -> tuple[Mention, int]:
        if not isinstance(post, Mapping):
            raise ItemError("bad_type", f"post is {type(post).__name__}, not an object")
        post_id = need(post, "id", int)
        topic_id = need(post, "topic_id", int)
        number = need(post, "post_number", int)
        username = need(post, "username", str)
        try:
            created_at = from_iso(need(post, "created_at", str))
        except ValueError as error:
            raise ItemError("bad_value", f"created_at: {error}") from None
        body = post.get(text_field) if isinstance(post.get(text_field), str) else post.get("raw")
        if not isinstance(body, str):
            raise ItemError("missing_field", f"{text_field} is missing or null")
        text = html_to_text(body)
        topic = topics.get(topic_id) or {}
        title = topic.get("title") or post.get("topic_title")
        if number == 1 and isinstance(title, str) and title:
            text = f"{title}\n\n{text}"
        slug = post.get("topic_slug") or topic.get("slug")
        host = urlsplit(self.base).netloc
        place = f"t/{slug}/{topic_id}/{number}" if isinstance(slug, str) and slug else f"t/{topic_id}/{number}"
        parent = post.get("reply_to_post_number") if isinstance(post.get("reply_to_post_number"), int) else 1
        try:
            mention = Mention(
                id=mention_id(PLATFORM, f"{host}/t/{topic_id}/{number}"),
                source=self.mention_source,
                platform=PLATFORM,
                url=f"{self.base}/{place}",
                author=Author(handle=username, display_name=post.get("name") or None),
                text=text,
                created_at=created_at,
                fetched_at=fetched_at,
                kind="post" if number == 1 else "comment",
                in_reply_to=None if number == 1 else mention_id(PLATFORM, f"{host}/t/{topic_id}/{parent}"),
                engagement=Engagement(likes=count(post, "like_count"), replies=count(post, "reply_count")),
                raw_ref=f"{self.base}/posts/{post_id}.json",
            )
        except ValidationError as error:
            raise ItemError("invalid", str(error.errors()[0]["msg"])) from None
        return mention, post_id


def build(name: str, options: Mapping[str, Any]) -> Connector:
    """A Discourse connector from ``options``; ``ValueError`` if invalid or if it would follow nothing."""
    parsed = parse_options(DiscourseOptions, SOURCE, name, options)
    if not parsed.latest and not parsed.search_terms:
        raise ValueError(f"{SOURCE} connector {name!r}: set latest: true or give search_terms")
    return DiscourseConnector(name, parsed)
