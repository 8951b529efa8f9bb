"""Reddit things (``t3`` posts, ``t1`` comments), a listing paged by ``after`` and the OAuth token answer."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply


def t3(n: int, at: float, **extra: Any) -> dict[str, Any]:
    data = {
        "name": f"t3_p{n}", "id": f"p{n}", "author": f"u{n}", "title": f"Acme {n}", "selftext": "",
        "created_utc": at, "permalink": f"/r/bikes/comments/p{n}/acme_{n}/", "subreddit": "bikes",
        "score": 10 + n, "num_comments": 2,
    }  # fmt: skip
    return {"kind": "t3", "data": {**data, **extra}}


def t1(n: int, at: float, parent: str) -> dict[str, Any]:
    data = {
        "name": f"t1_c{n}", "id": f"c{n}", "author": f"u{n}", "body": f"I think acme {n}", "created_utc": at,
        "permalink": f"/r/bikes/comments/p1/acme_1/c{n}/", "link_id": "t3_p1", "parent_id": parent, "score": -3,
    }  # fmt: skip
    return {"kind": "t1", "data": data}


class FakeListing:
    """A listing of ``items`` newest first, ``limit`` per page, continued after a fullname."""

    def __init__(self, items: list[dict[str, Any]], token: str = "tok-1", **headers: str) -> None:
        self.items, self.token, self.headers = items, token, headers

    def __call__(self, request: web.Request) -> Reply:
        if request.headers.get("Authorization") != f"bearer {self.token}":
            return json_reply({"message": "Unauthorized", "error": 401}, 401)
        items = sorted(self.items, key=lambda c: (c["data"]["created_utc"], c["data"]["name"]), reverse=True)
        names = [c["data"]["name"] for c in items]
        start = names.index(request.query["after"]) + 1 if "after" in request.query else 0
        page = items[start : start + int(request.query["limit"])]
        more = start + len(page) < len(items)
        body = {"kind": "Listing", "data": {"after": page[-1]["data"]["name"] if more and page else None,
                                            "before": None, "dist": len(page), "children": page}}  # fmt: skip
        return json_reply(body, **self.headers)


def token_endpoint(*tokens: str) -> list[Reply]:
    return [json_reply({"access_token": t, "token_type": "bearer", "expires_in": 86400, "scope": "*"}) for t in tokens]
