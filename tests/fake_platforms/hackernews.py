"""Hacker News (Algolia ``/api/v1/search_by_date``) in its real response shape: hits and a paging fake."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply

PATH = "/api/v1/search_by_date"


def story(n: int, at: int, **extra: Any) -> dict[str, Any]:
    return {
        "objectID": str(n),
        "created_at": datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", ".000Z"),
        "created_at_i": at,
        "author": f"user{n}",
        "title": f"Story {n} about acme",
        "url": f"https://example.com/{n}",
        "story_text": None,
        "comment_text": None,
        "points": n,
        "num_comments": 2,
        "parent_id": None,
        "story_id": None,
        "_tags": ["story", f"author_user{n}", f"story_{n}"],
        **extra,
    }


def _compare(stamp: int, op: str, value: int) -> bool:
    return {">=": stamp >= value, "<=": stamp <= value, ">": stamp > value, "<": stamp < value}[op]


class FakeAlgolia:
    """Serves ``items`` filtered by numericFilters, newest first, paged; caps pagination like Algolia does."""

    def __init__(self, items: list[dict[str, Any]], pagination_limit: int = 1000) -> None:
        self.items = items
        self.pagination_limit = pagination_limit

    def __call__(self, request: web.Request) -> Reply:
        q = request.query
        hits = sorted(self.items, key=lambda h: (h["created_at_i"], int(h["objectID"])), reverse=True)
        for op, value in re.findall(r"created_at_i(>=|<=|>|<)(\d+)", q.get("numericFilters", "")):
            hits = [h for h in hits if _compare(h["created_at_i"], op, int(value))]
        per_page, page = int(q["hitsPerPage"]), int(q.get("page", 0))
        reachable = hits[: self.pagination_limit]
        nb_pages = -(-len(reachable) // per_page)
        return json_reply(
            {
                "hits": reachable[page * per_page : (page + 1) * per_page],
                "nbHits": len(hits),
                "page": page,
                "nbPages": nb_pages,
                "hitsPerPage": per_page,
                "query": q.get("query"),
            }
        )
