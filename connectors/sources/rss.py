"""RSS and Atom feeds: several feeds per connector, polled with conditional GET, each entry sent once.

A feed has no pagination: each poll fetches the whole document (``If-None-Match`` / ``If-Modified-Since`` from the
last answer, so an unchanged feed costs a 304 and yields an empty batch) and sends the entries whose ids were not
in the previous document. A first run sends only entries published within ``lookback``. One batch per feed.

State: ``{"feeds": {feed_url: {"etag", "last_modified", "seen": [short hashes of the entry ids in the document]}}}``.
An entry without a date gets the time it was first fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError

from connectors.base import Batch, Connector, Rejected
from connectors.sources.common import PollingConnector, PollingOptions, parse_options
from connectors.sources.feed_parse import EntryError, FeedEntry, FeedError, parse_feed
from pipeline.schema import Author, Engagement, Mention, mention_id

SOURCE = "rss"
PLATFORM = "rss"
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8"
_MAX_NATIVE_ID = 400


class RssOptions(PollingOptions):
    feeds: list[str] = Field(min_length=1, description="feed URLs (http or https)")
    poll_interval_s: float = Field(300.0, gt=0)


class RssConnector(PollingConnector):
    source = SOURCE
    options: RssOptions

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        feeds: dict[str, Any] = dict(state.get("feeds") or {})
        for feed in self.options.feeds:
            batch, feed_state = await self._poll_feed(feed, dict(feeds.get(feed) or {}), first_run=feed not in feeds)
            if feed_state is not None:
                feeds[feed] = feed_state
                batch.state = {**state, "feeds": dict(feeds)}
            yield batch

    async def _poll_feed(
        self, feed: str, state: dict[str, Any], *, first_run: bool
    ) -> tuple[Batch, dict[str, Any] | None]:
        headers = {"Accept": ACCEPT}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        response = await self.http.get(feed, headers=headers)
        fetched_at = self.clock()
        if response.status_code == 304:
            return Batch(), None
        if response.status_code != 200:
            return Batch(
                rejected=[Rejected.of(f"http_{response.status_code}", feed, response.content)], fetched=1
            ), None
        try:
            _title, entries = parse_feed(response.content)
        except FeedError as error:
            return Batch(
                rejected=[Rejected.of(error.reason, f"{feed}: {error.detail}", response.content)], fetched=1
            ), None
        seen = set(state.get("seen") or [])
        now_seen: list[str] = []
        batch = Batch(fetched=len(entries))
        start = self.start_time(fetched_at)
        for entry in entries:
            native = None if entry.native_id is None else self._native_id(feed, entry.native_id)
            key = None if native is None else _short_hash(native)
            if key is not None:
                now_seen.append(key)
                if key in seen:
                    continue
            if isinstance(entry, EntryError):
                batch.rejected.append(Rejected.of(entry.reason, f"{feed}: {entry.detail}", entry.xml))
                continue
            assert native is not None
            created_at = entry.published or fetched_at
            if batch.newest is None or created_at > batch.newest:
                batch.newest = created_at
            if first_run and created_at < start:
                continue
            try:
                batch.mentions.append(self._mention(feed, native, entry, created_at, fetched_at))
            except ValidationError as error:
                batch.rejected.append(Rejected.of("invalid", f"{feed}: {error.errors()[0]['msg']}", entry.text))
        new_state = {
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "seen": sorted(set(now_seen)),
        }
        return batch, new_state

    def _native_id(self, feed: str, entry_id: str) -> str:
        # guids are only promised unique within their feed; URIs (http:, tag:, urn:) are global already.
        native = entry_id if ":" in entry_id else f"{urlsplit(feed).netloc}/{entry_id}"
        if len(native) > _MAX_NATIVE_ID:
            native = "h-" + hashlib.blake2b(native.encode(), digest_size=16).hexdigest()
        return native

    def _mention(self, feed: str, native: str, entry: FeedEntry, created_at: datetime, fetched_at: datetime) -> Mention:
        return Mention(
            id=mention_id(PLATFORM, native),
            source=self.mention_source,
            platform=PLATFORM,
            url=entry.link,
            author=Author(handle=entry.author or urlsplit(entry.link or feed).netloc or feed),
            text=entry.text,
            created_at=created_at,
            fetched_at=fetched_at,
            kind="article",
            engagement=Engagement(replies=entry.comments or 0),
            lang_hint=entry.lang,
            raw_ref=feed,
        )


def _short_hash(native: str) -> str:
    return hashlib.blake2b(native.encode(), digest_size=8).hexdigest()


def build(name: str, options: Mapping[str, Any]) -> Connector:
    """An RSS/Atom connector from ``options`` (``feeds`` required); ``ValueError`` if invalid."""
    parsed = parse_options(RssOptions, SOURCE, name, options)
    bad = [feed for feed in parsed.feeds if urlsplit(feed).scheme not in ("http", "https") or not urlsplit(feed).netloc]
    if bad:
        raise ValueError(f"{SOURCE} connector {name!r}: feeds must be http(s) URLs: {bad}")
    return RssConnector(name, parsed)
