"""YouTube Data API v3 ``search.list`` results and ``commentThreads.list`` threads to Mentions. Pure."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from connectors.base import Rejected
from connectors.sources.payloads import mention_or_reject, parse_time
from pipeline.schema import Mention, mention_id

PLATFORM = "youtube"


def video_to_mention(item: Any, *, source: str, fetched_at: datetime) -> Mention | Rejected:
    """A ``youtube#searchResult`` for a video (title and description; search snippets are HTML-escaped)."""
    if not isinstance(item, dict):
        return Rejected.of("bad_type", f"search result is {type(item).__name__}, not an object", item)
    ids, snippet = item.get("id"), item.get("snippet")
    video_id = ids.get("videoId") if isinstance(ids, dict) else None
    if not isinstance(video_id, str) or not isinstance(snippet, dict):
        return Rejected.of("missing_field", "search result needs 'id.videoId' and 'snippet'", item)
    title, description = snippet.get("title"), snippet.get("description")
    text = None
    if isinstance(title, str):
        text = html.unescape(title) + (
            f"\n\n{html.unescape(description)}" if isinstance(description, str) and description else ""
        )
    published = snippet.get("publishedAt")
    fields: dict[str, Any] = {
        "id": mention_id(PLATFORM, video_id),
        "source": source,
        "platform": PLATFORM,
        "url": f"https://www.youtube.com/watch?v={video_id}",
        "author": {"handle": snippet.get("channelId"), "display_name": snippet.get("channelTitle")},
        "text": text,
        "created_at": parse_time(published) or published,
        "fetched_at": fetched_at,
        "kind": "post",
        "raw_ref": f"youtube:video/{video_id}",
    }
    return mention_or_reject(fields, item)


def comment_thread_to_mention(
    thread: Any, *, source: str, fetched_at: datetime, brand_channels: frozenset[str] = frozenset()
) -> Mention | Rejected:
    """The top-level comment of a ``youtube#commentThread``; ``author_is_brand`` when the video's own channel (or a
    configured brand channel) wrote it."""
    if not isinstance(thread, dict) or not isinstance(thread.get("snippet"), dict):
        return Rejected.of("missing_field", "comment thread without a snippet", thread)
    outer = thread["snippet"]
    top = outer.get("topLevelComment")
    inner = top.get("snippet") if isinstance(top, dict) else None
    comment_id = top.get("id") if isinstance(top, dict) else None
    if not isinstance(inner, dict) or not isinstance(comment_id, str):
        return Rejected.of("missing_field", "comment thread without topLevelComment.id/snippet", thread)
    video_id = outer.get("videoId") or inner.get("videoId")
    channel = inner.get("authorChannelId")
    author_channel = channel.get("value") if isinstance(channel, dict) else None
    published = inner.get("publishedAt")
    text = inner.get("textOriginal")
    if text is None and isinstance(inner.get("textDisplay"), str):
        text = html.unescape(inner["textDisplay"])
    owner = outer.get("channelId")
    fields: dict[str, Any] = {
        "id": mention_id(PLATFORM, comment_id),
        "source": source,
        "platform": PLATFORM,
        "url": f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else None,
        "author": {
            "handle": author_channel or inner.get("authorDisplayName"),
            "display_name": inner.get("authorDisplayName"),
        },
        "text": text,
        "created_at": parse_time(published) or published,
        "fetched_at": fetched_at,
        "kind": "comment",
        "in_reply_to": mention_id(PLATFORM, str(video_id)) if video_id else None,
        "author_is_brand": author_channel is not None and (author_channel == owner or author_channel in brand_channels),
        "engagement": {"likes": inner.get("likeCount") or 0, "replies": outer.get("totalReplyCount") or 0},
        "raw_ref": f"youtube:comment/{comment_id}",
    }
    return mention_or_reject(fields, thread)
