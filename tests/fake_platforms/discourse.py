"""Discourse posts in the shape of ``/posts.json`` and a fake ``latest_posts`` feed paged by ``before``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from fakeapi import Reply, json_reply


def post(pid: int, at: datetime, topic: int = 7, number: int = 1, **extra: Any) -> dict[str, Any]:
    """One post of ``/posts.json`` created at ``at``; ``extra`` overrides fields."""
    return {
        "id": pid,
        "name": f"Name {pid}",
        "username": f"user{pid}",
        "avatar_template": "/letter_avatar/x/{size}/1.png",
        "created_at": at.isoformat().replace("+00:00", "Z"),
        "cooked": f"<p>Post <strong>{pid}</strong> about acme</p>",
        "post_number": number,
        "post_type": 1,
        "reply_count": 1,
        "reply_to_post_number": None,
        "topic_id": topic,
        "topic_slug": f"topic-{topic}",
        "topic_title": f"Topic {topic}",
        "like_count": 3,
        **extra,
    }


class FakeLatest:
    """``/posts.json``: the newest ``per_page`` posts, or those with id < ``before``."""

    def __init__(self, posts: list[dict[str, Any]], per_page: int = 3) -> None:
        self.posts, self.per_page = posts, per_page

    def __call__(self, request: web.Request) -> Reply:
        posts = sorted(self.posts, key=lambda p: p["id"], reverse=True)
        if "before" in request.query:
            posts = [p for p in posts if p["id"] < int(request.query["before"])]
        return json_reply({"latest_posts": posts[: self.per_page]})
