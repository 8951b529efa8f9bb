"""Hacker News through the Algolia search API (``/api/v1/search_by_date``): stories and comments matching terms.

Each poll sweeps, per query, the window ``created_at_i >= since`` newest first. The first page fixes the window's
upper end (``created_at_i <= until``), so the following pages stay put while new items arrive; a sweep that reaches
Algolia's pagination limit (1000 hits) narrows ``until`` to the oldest hit seen and starts at page 0 again. The state
after each page names the page to fetch next, so a restart mid-sweep continues without a gap. A finished sweep moves
``since`` to the newest ``created_at_i`` seen, remembering the ids at that second so they are not sent twice.

State: ``{"queries": {query: {"since": int, "ids": [objectID], "sweep": {"until", "page", "newest", "newest_ids"}}}}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, ValidationError

from connectors.base import Batch, Connector, Rejected
from connectors.sources.common import (
    ItemError,
    PollingConnector,
    PollingOptions,
    count,
    decode_json,
    from_epoch,
    from_iso,
    need,
    parse_options,
)
from connectors.sources.html_text import html_to_text
from pipeline.schema import Author, Engagement, Mention, mention_id

SOURCE = "hackernews"
PLATFORM = "hackernews"


class HackerNewsOptions(PollingOptions):
    base_url: str = "https://hn.algolia.com"
    queries: list[str] = Field(min_length=1, description="search terms; each is swept separately")
    tags: str = Field("(story,comment)", description="Algolia tags filter")
    hits_per_page: int = Field(100, ge=1, le=1000)


class HackerNewsConnector(PollingConnector):
    source = SOURCE
    options: HackerNewsOptions

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        queries: dict[str, Any] = dict(state.get("queries") or {})
        for query in self.options.queries:
            async for batch, query_state in self._sweep_query(query, dict(queries.get(query) or {})):
                if query_state is not None:
                    queries[query] = query_state
                    batch.state = {**state, "queries": dict(queries)}
                yield batch

    async def _sweep_query(
        self, query: str, state: dict[str, Any]
    ) -> AsyncIterator[tuple[Batch, dict[str, Any] | None]]:
        since = int(state.get("since") or self.start_time(self.clock()).timestamp())
        seen_at_since = set(state.get("ids") or [])
        sweep = state.get("sweep") or {}
        until: int | None = sweep.get("until")
        page = int(sweep.get("page", 0))
        newest = int(sweep.get("newest", since))
        newest_ids: set[str] = set(sweep.get("newest_ids", seen_at_since if newest == since else ()))
        url = f"{self.options.base_url.rstrip('/')}/api/v1/search_by_date"
        while True:
            numeric = f"created_at_i>={since}" + (f",created_at_i<={until}" if until is not None else "")
            params = {
                "query": query,
                "tags": self.options.tags,
                "numericFilters": numeric,
                "hitsPerPage": self.options.hits_per_page,
                "page": page,
            }
            response = await self.http.get(url, params=params)
            fetched_at = self.clock()
            data, rejected = decode_json(response)
            if rejected is None and response.status_code != 200:
                rejected = Rejected.of(
                    f"http_{response.status_code}", f"search_by_date for {query!r}", response.content
                )
            if rejected is None and not (isinstance(data, dict) and isinstance(data.get("hits"), list)):
                rejected = Rejected.of("bad_shape", "response has no hits list", response.content)
            if rejected is not None:
                # The page could not be read: keep the cursor and try again at the next poll.
                yield Batch(rejected=[rejected], fetched=1), None
                return
            batch = Batch(fetched=len(data["hits"]))
            stamps: list[int] = []
            for hit in data["hits"]:
                try:
                    mention = self._mention(hit, fetched_at)
                except ItemError as error:
                    batch.rejected.append(Rejected.of(error.reason, error.detail, hit))
                    continue
                stamp = int(mention.created_at.timestamp())
                stamps.append(stamp)
                object_id = hit["objectID"]
                if stamp < since or (stamp == since and object_id in seen_at_since):
                    continue
                batch.mentions.append(mention)
                if stamp > newest:
                    newest, newest_ids = stamp, {object_id}
                elif stamp == newest:
                    newest_ids.add(object_id)
            if stamps:
                batch.newest = from_epoch(max(stamps))
                if until is None:
                    until = max(stamps)
            page += 1
            nb_pages = data.get("nbPages") if isinstance(data.get("nbPages"), int) else page
            nb_hits = data.get("nbHits") if isinstance(data.get("nbHits"), int) else 0
            done = not data["hits"] or page >= nb_pages
            if done and stamps and nb_hits > nb_pages * self.options.hits_per_page and min(stamps) < (until or 0):
                # Algolia stops paginating at 1000 hits: go on below the oldest hit seen, from page 0.
                until, page, done = min(stamps), 0, False
            if done:
                yield batch, {"since": newest, "ids": sorted(newest_ids)}
                return
            sweep_state = {"until": until, "page": page, "newest": newest, "newest_ids": sorted(newest_ids)}
            yield batch, {"since": since, "ids": sorted(seen_at_since), "sweep": sweep_state}

    def _mention(self, hit: Any, fetched_at: datetime) -> Mention:
        if not isinstance(hit, Mapping):
            raise ItemError("bad_type", f"hit is {type(hit).__name__}, not an object")
        object_id = need(hit, "objectID", str)
        author = need(hit, "author", str)
        if isinstance(hit.get("created_at_i"), int):
            created_at = from_epoch(hit["created_at_i"])
        else:
            try:
                created_at = from_iso(need(hit, "created_at", str))
            except ValueError as error:
                raise ItemError("bad_value", f"created_at: {error}") from None
        tags: list[Any] = hit["_tags"] if isinstance(hit.get("_tags"), list) else []
        in_reply_to = None
        if "comment" in tags:
            kind = "comment"
            text = html_to_text(need(hit, "comment_text", str))
            parent = hit.get("parent_id")
            if isinstance(parent, int | str) and not isinstance(parent, bool):
                in_reply_to = mention_id(PLATFORM, str(parent))
        else:
            kind = "post"
            story_text = hit.get("story_text")
            text = need(hit, "title", str)
            if isinstance(story_text, str) and story_text.strip():
                text = f"{text}\n\n{html_to_text(story_text)}"
        try:
            return Mention(
                id=mention_id(PLATFORM, object_id),
                source=self.mention_source,
                platform=PLATFORM,
                url=f"https://news.ycombinator.com/item?id={object_id}",
                author=Author(handle=author),
                text=text,
                created_at=created_at,
                fetched_at=fetched_at,
                kind=kind,
                in_reply_to=in_reply_to,
                engagement=Engagement(likes=count(hit, "points"), replies=count(hit, "num_comments")),
                raw_ref=f"{self.options.base_url.rstrip('/')}/api/v1/items/{object_id}",
            )
        except ValidationError as error:
            raise ItemError("invalid", str(error.errors()[0]["msg"])) from None


def build(name: str, options: Mapping[str, Any]) -> Connector:
    """A Hacker News connector from CLI/config ``options`` (``queries`` required); ``ValueError`` if invalid."""
    return HackerNewsConnector(name, parse_options(HackerNewsOptions, SOURCE, name, options))
