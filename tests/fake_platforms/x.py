"""X API v2 tweets with the ``author_id`` expansion, and a recent search that filters and pages like X's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply

SEARCH = "/2/tweets/search/recent"

USERS = [
    {"id": "u0", "username": "anna", "name": "Anna", "public_metrics": {"followers_count": 10}},
    {"id": "u1", "username": "ben", "name": "Ben", "public_metrics": {"followers_count": 20}},
]


def tweet_id(n: int) -> str:
    return str(1_800_000_000_000_000_000 + n)


def tweet(n: int, when: datetime, **over: Any) -> dict[str, Any]:
    """Tweet ``n`` (by ``u0`` or ``u1`` of :data:`USERS`) with the fields the connector asks for."""
    base: dict[str, Any] = {
        "id": tweet_id(n),
        "text": f"Veloxa tweet {n}",
        "created_at": when.isoformat().replace("+00:00", ".000Z"),
        "author_id": f"u{n % 2}",
        "conversation_id": tweet_id(n),
        "lang": "en",
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": 3,
            "quote_count": 4,
            "impression_count": 50,
        },
    }
    base.update(over)
    return base


def search_body(
    tweets: Sequence[dict[str, Any]], next_token: str | None = None, users: Sequence[dict[str, Any]] = USERS
) -> dict[str, Any]:
    """One page of recent search (``tweets`` newest first): ``data``, ``includes.users`` and ``meta``; an empty
    page is only ``{"meta": {"result_count": 0}}``, as X sends it."""
    meta: dict[str, Any] = {"result_count": len(tweets)}
    if tweets:
        meta |= {"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]}
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if tweets:
        authors = {t.get("author_id") for t in tweets}
        body |= {"data": list(tweets), "includes": {"users": [u for u in users if u["id"] in authors]}}
    return body


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value)


def _matches(query: str, text: str) -> bool:
    return any(term.strip().strip('"').lower() in text.lower() for term in query.split(" OR "))


class FakeRecentSearch:
    """``/2/tweets/search/recent``: bearer-token auth; tweets matching any ``OR``-ed term, newer than ``since_id``
    or created at or after ``start_time``, newest first, ``max_results`` (10–100) a page, ``next_token`` an opaque
    offset."""

    def __init__(self, tweets: Sequence[dict[str, Any]], token: str, users: Sequence[dict[str, Any]] = USERS) -> None:
        self.tweets, self.token, self.users = tweets, token, users

    def __call__(self, request: web.Request) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_reply(
                {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, 401
            )
        q = request.query
        per_page = int(q.get("max_results", "10"))
        if not 10 <= per_page <= 100:
            return json_reply({"title": "Invalid Request", "detail": "max_results must be between 10 and 100"}, 400)
        hits = [t for t in self.tweets if _matches(q["query"], t["text"])]
        if "since_id" in q:
            hits = [t for t in hits if _id_key(t["id"]) > _id_key(q["since_id"])]
        elif "start_time" in q:
            start = datetime.fromisoformat(q["start_time"].replace("Z", "+00:00"))
            hits = [t for t in hits if datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= start]
        hits.sort(key=lambda t: _id_key(t["id"]), reverse=True)
        offset = int(q.get("next_token", "0"))
        page = hits[offset : offset + per_page]
        more = offset + per_page < len(hits)
        return json_reply(search_body(page, str(offset + per_page) if more else None, self.users))
