"""Bluesky posts (AppView ``searchPosts`` views and Jetstream commit events) to Mentions. Pure.

Ids are ``bluesky:<at:// uri>``, the same for a post found by search and seen on the firehose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import Rejected
from connectors.sources.payloads import mention_or_reject, parse_time
from pipeline.schema import Mention, mention_id

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"


def post_view_to_mention(post: Any, *, source: str, fetched_at: datetime) -> Mention | Rejected:
    """A ``app.bsky.feed.defs#postView`` from search."""
    if not isinstance(post, dict):
        return Rejected.of("bad_type", f"post is {type(post).__name__}, not an object", post)
    uri, author, record = post.get("uri"), post.get("author"), post.get("record")
    if not isinstance(uri, str) or not isinstance(author, dict) or not isinstance(record, dict):
        return Rejected.of("missing_field", "post needs 'uri', 'author' and 'record'", post)
    handle = author.get("handle") or author.get("did")
    fields = _record_fields(uri, record, source=source, fetched_at=fetched_at)
    fields["author"] = {"handle": handle, "display_name": author.get("displayName") or None}
    fields["url"] = _web_url(handle, uri)
    fields["engagement"] = {
        "likes": post.get("likeCount") or 0,
        "shares": (post.get("repostCount") or 0) + (post.get("quoteCount") or 0),
        "replies": post.get("replyCount") or 0,
    }
    return mention_or_reject(fields, post)


def jetstream_commit_to_mention(event: dict[str, Any], *, source: str, fetched_at: datetime) -> Mention | Rejected:
    """A Jetstream ``commit`` event that created an ``app.bsky.feed.post`` (the caller checked that)."""
    did, commit = event.get("did"), event.get("commit")
    if not isinstance(did, str) or not isinstance(commit, dict) or not isinstance(commit.get("record"), dict):
        return Rejected.of("missing_field", "commit event needs 'did' and 'commit.record'", event)
    uri = f"at://{did}/{POST_COLLECTION}/{commit.get('rkey')}"
    fields = _record_fields(uri, commit["record"], source=source, fetched_at=fetched_at)
    fields["author"] = {"handle": did}  # the firehose carries only the DID
    fields["url"] = _web_url(did, uri)
    return mention_or_reject(fields, event)


def post_text(record: Any) -> str | None:
    text = record.get("text") if isinstance(record, dict) else None
    return text if isinstance(text, str) else None


def _record_fields(uri: str, record: dict[str, Any], *, source: str, fetched_at: datetime) -> dict[str, Any]:
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    parent_uri = parent.get("uri") if isinstance(parent, dict) else None
    langs = record.get("langs")
    created = record.get("createdAt")
    return {
        "id": mention_id(PLATFORM, uri),
        "source": source,
        "platform": PLATFORM,
        "text": record.get("text"),
        "created_at": parse_time(created) or created,
        "fetched_at": fetched_at,
        "kind": "reply" if parent_uri else "post",
        "in_reply_to": mention_id(PLATFORM, parent_uri) if isinstance(parent_uri, str) else None,
        "lang_hint": langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        "raw_ref": uri,
    }


def _web_url(handle: Any, uri: str) -> str | None:
    rkey = uri.rsplit("/", 1)[-1]
    return f"https://bsky.app/profile/{handle}/post/{rkey}" if isinstance(handle, str) and rkey else None
