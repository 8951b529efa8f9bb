"""Mastodon statuses as ``/api/v1/timelines/tag/:hashtag`` serves them, and that timeline's ``min_id`` paging."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply


def tag_path(tag: str) -> str:
    return f"/api/v1/timelines/tag/{tag}"


def snowflake(when: datetime, seq: int) -> str:
    """A Mastodon status id: milliseconds since the epoch shifted left 16 bits, plus a sequence number."""
    return str((int(when.timestamp() * 1000) << 16) + seq)


def status(n: int, when: datetime, **over: Any) -> dict[str, Any]:
    """Status ``n`` created at ``when``, as another instance's post federated to the one serving it."""
    sid = snowflake(when, n)
    base: dict[str, Any] = {
        "id": sid,
        "uri": f"https://other.example/users/u{n}/statuses/{sid}",
        "url": f"https://other.example/@u{n}/{sid}",
        "created_at": when.isoformat().replace("+00:00", ".000Z"),
        "content": f"<p>Post {n} about <a href='https://x/tags/veloxa'>#<span>Veloxa</span></a> &amp; bikes</p>",
        "account": {"acct": f"u{n}@other.example", "display_name": f"User {n}", "followers_count": n},
        "language": "nl",
        "in_reply_to_id": None,
        "replies_count": 1,
        "reblogs_count": 2,
        "favourites_count": 3,
        "reblog": None,
        "spoiler_text": "",
    }
    base.update(over)
    return base


def hashtag_html(tag: str, instance: str = "https://mastodon.example") -> str:
    """A hashtag as Mastodon renders it in ``content``."""
    return f'<a href="{instance}/tags/{tag.lower()}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>'


def mention_html(user: str, instance: str = "https://mastodon.example") -> str:
    """An @mention as Mastodon renders it in ``content``."""
    return (
        f'<span class="h-card" translate="no"><a href="{instance}/@{user}" class="u-url mention">'
        f"@<span>{user}</span></a></span>"
    )


def timeline_page(
    statuses: Sequence[dict[str, Any]], query: Mapping[str, str], url: str
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """What the tag timeline at ``url`` answers to ``query``: the ``limit`` statuses just after ``min_id``, newest
    first, and a ``Link`` header whose ``rel="prev"`` page continues after the newest of them."""
    min_id = int(query.get("min_id", "0"))
    limit = int(query.get("limit", "20"))
    newer = sorted((s for s in statuses if int(s["id"]) > min_id), key=lambda s: int(s["id"]))[:limit]
    page = sorted(newer, key=lambda s: int(s["id"]), reverse=True)
    headers = {}
    if page:
        headers["Link"] = (
            f'<{url}?max_id={page[-1]["id"]}>; rel="next", <{url}?min_id={page[0]["id"]}&limit={limit}>; rel="prev"'
        )
    return page, headers


class FakeTagTimeline:
    """A hashtag timeline that pages like Mastodon's (see :func:`timeline_page`)."""

    def __init__(self, statuses: Sequence[dict[str, Any]]) -> None:
        self.statuses = statuses

    def __call__(self, request: web.Request) -> Reply:
        page, headers = timeline_page(self.statuses, request.query, str(request.url.with_query(None)))
        return json_reply(page, **headers)
