"""YouTube (Data API v3): new videos matching search terms, and new comments on followed videos.

- ``GET /youtube/v3/search?part=snippet&type=video&q=&order=date&publishedAfter=&pageToken=`` per term: newest
  first, ``pageToken`` pages backwards, so the cursor (newest ``publishedAt``) is saved only by a walk's last batch.
- ``GET /youtube/v3/commentThreads?part=snippet&videoId=&order=time&pageToken=`` per followed video: newest
  first; the walk stops at the first comment not newer than the saved one.

The API key travels as the ``key=`` query parameter (the API's only way); it never reaches the logs
(:func:`connectors.http.redact`, and the httpx log filter in :mod:`connectors.http`). Quota: ``search.list``
costs 100 units of the default 10,000 a day, hence the 15-minute default interval. A 403 ``quotaExceeded`` (or
``dailyLimitExceeded``) waits until the quota resets at midnight Pacific time instead of failing; a 403
``rateLimitExceeded`` waits one interval.

State: ``{"search": {term: cursor}, "comments": {video id: cursor}}``, each cursor the newest time published and
the ids published at that time (``{"since": ISO time, "ids": [...]}``, see
:class:`~connectors.sources.time_cursor.TimeCursor`): the items at the boundary come back every round (the filter
is inclusive) and are not sent again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, model_validator

from connectors.base import Batch, Rejected, State
from connectors.sources.common import PollingConnector, PollingOptions, parse_options, read_secret
from connectors.sources.payloads import SourceAuthError, decode_json_response, json_or_reject, newest
from connectors.sources.time_cursor import TimeCursor
from connectors.sources.youtube_item import comment_thread_to_mention, video_to_mention
from pipeline.schema import Mention

SOURCE = "youtube"
QUOTA_TZ = ZoneInfo("America/Los_Angeles")
_DAILY = frozenset({"quotaExceeded", "dailyLimitExceeded"})
log = logging.getLogger("luister.connectors.youtube")


class QuotaExhaustedError(RuntimeError):
    """The API quota is used up for ``wait_s`` more seconds: the source waits instead of failing."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class YouTubeOptions(PollingOptions):
    """Options of a YouTube source. The API key is read from the environment variable named by ``api_key_env``
    (or from ``secrets_file``)."""

    base_url: str = Field("https://www.googleapis.com", pattern=r"^https?://[^/]+")
    search_terms: list[str] = Field(default_factory=list)
    video_ids: list[str] = Field(default_factory=list, description="videos (usually the brand's) to follow comments on")
    brand_channels: list[str] = Field(default_factory=list, description="channel ids that are the brand itself")
    poll_interval_s: float = Field(900.0, gt=0, description="search.list costs 100 of the 10,000 daily units")
    max_results: int = Field(50, ge=1, le=50)
    max_pages_per_round: int = Field(5, ge=1)
    api_key_env: str = "YOUTUBE_API_KEY"

    @model_validator(mode="after")
    def _something_to_follow(self) -> YouTubeOptions:
        if not [t for t in self.search_terms if t.strip()] and not self.video_ids:
            raise ValueError("give search_terms or video_ids")
        return self


class YouTubeConnector(PollingConnector):
    source = SOURCE

    options: YouTubeOptions

    def __init__(self, name: str, options: YouTubeOptions, **kwargs: Any) -> None:
        super().__init__(name, options, **kwargs)
        self.base_url = options.base_url.rstrip("/") + "/youtube/v3"

    async def batches(self, state: State) -> AsyncIterator[Batch]:
        current: dict[str, Any] = dict(state)
        while True:
            try:
                async for batch in super().batches(current):
                    current = batch.state or current
                    yield batch
            except QuotaExhaustedError as error:
                log.warning("%s: %s; waiting %.0fs", self.name, error, error.wait_s)
                await self._sleep(error.wait_s)

    def _api_key(self) -> str:
        key = read_secret(self.options.api_key_env, self.options.secrets_file)
        if key is None:
            raise SourceAuthError(f"{self.name}: set {self.options.api_key_env} (the YouTube Data API key)")
        return key

    def check_quota(self, response: httpx.Response) -> None:
        if response.status_code != 403:
            return
        body, _ = decode_json_response(response)
        errors = body.get("error", {}).get("errors", []) if isinstance(body, dict) else []
        reasons = {e.get("reason") for e in errors if isinstance(e, dict)}
        if reasons & _DAILY:
            raise QuotaExhaustedError("YouTube daily quota exhausted", seconds_until_quota_reset(self.clock()))
        if "rateLimitExceeded" in reasons:
            raise QuotaExhaustedError("YouTube rate limit exceeded", self.options.poll_interval_s)

    async def sweep(self, state: dict[str, Any]) -> AsyncIterator[Batch]:
        for term in (t.strip() for t in self.options.search_terms if t.strip()):
            params = {"part": "snippet", "type": "video", "q": term, "order": "date"}
            async for batch in self._walk("search", term, "/search", params, "publishedAfter", state):
                state = batch.state or state
                yield batch
        for video_id in self.options.video_ids:
            params = {"part": "snippet", "videoId": video_id, "order": "time", "textFormat": "plainText"}
            async for batch in self._walk("comments", video_id, "/commentThreads", params, None, state):
                state = batch.state or state
                yield batch

    async def _walk(
        self, section: str, key: str, path: str, params: dict[str, Any], since_param: str | None, state: dict[str, Any]
    ) -> AsyncIterator[Batch]:
        """Newest-first pages back to the saved time; the last batch saves the newest time of the walk."""
        saved = TimeCursor.load(state.get(section, {}).get(key))
        since = saved.since or self.start_time(self.clock())
        query = {**params, "maxResults": self.options.max_results if section == "search" else 100}
        if since_param:
            query[since_param] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        walked = saved
        for page in range(self.options.max_pages_per_round):
            url = self.base_url + path
            response = await self.http.get(url, params={**query, "key": self._api_key()})
            self.check_quota(response)
            body, rejected, _ = json_or_reject(response, url, self.name)
            if rejected is None and not (isinstance(body, dict) and isinstance(body.get("items"), list)):
                rejected = Rejected.of("bad_type", f"{path} answer without an 'items' list", body)
            if rejected is not None:
                yield Batch(rejected=[rejected], fetched=1)
                return
            batch, reached_saved = self._items(section, body["items"], since, saved)
            for mention in batch.mentions:
                walked = walked.advanced(mention.id, mention.created_at)
            token = body.get("nextPageToken")
            last = (
                reached_saved
                or not isinstance(token, str)
                or not body["items"]
                or page == self.options.max_pages_per_round - 1
            )
            if last and walked != saved:
                batch.state = {**state, section: {**state.get(section, {}), key: walked.dump()}}
            yield batch
            if last:
                return
            query["pageToken"] = token

    def _items(self, section: str, items: list[Any], since: datetime, saved: TimeCursor) -> tuple[Batch, bool]:
        """A page as a batch (items older than ``since``, and those ``saved`` already published at its time, left
        out) and whether it reached ``since``."""
        batch = Batch(fetched=len(items))
        fetched_at, reached = self.clock(), False
        brands = frozenset(self.options.brand_channels)
        for item in items:
            result: Mention | Rejected
            if section == "search":
                result = video_to_mention(item, source=self.mention_source, fetched_at=fetched_at)
            else:
                result = comment_thread_to_mention(
                    item, source=self.mention_source, fetched_at=fetched_at, brand_channels=brands
                )
            if isinstance(result, Rejected):
                batch.rejected.append(result)
                continue
            batch.newest = newest(batch.newest, result.created_at)
            if result.created_at < since:
                reached = True
                continue
            if saved.seen(result.id):
                continue  # at the saved time: `publishedAfter` is "at or after", and comments have no filter
            batch.mentions.append(result)
        return batch, reached


def seconds_until_quota_reset(now: datetime) -> float:
    """Seconds from ``now`` to the next midnight in Pacific time (when YouTube resets daily quotas), plus a minute."""
    local = now.astimezone(QUOTA_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), QUOTA_TZ)
    return (midnight - local).total_seconds() + 60


def build(name: str, options: Mapping[str, Any]) -> YouTubeConnector:
    """A YouTube source from its options (``search_terms`` and/or ``video_ids``); the API key must be set."""
    parsed = parse_options(YouTubeOptions, SOURCE, name, options)
    if read_secret(parsed.api_key_env, parsed.secrets_file) is None:
        raise ValueError(f"youtube connector {name!r}: the API key is not set (variable {parsed.api_key_env})")
    return YouTubeConnector(name, parsed)
