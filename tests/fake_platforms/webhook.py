"""Meta Graph webhook deliveries (page feed changes, Messenger messages) and their ``X-Hub-Signature-256``."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends: HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def page_delivery(
    page_id: str, time: int, changes: Sequence[dict[str, Any]] = (), messaging: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """One ``object: page`` delivery with a single entry for ``page_id``."""
    entry: dict[str, Any] = {"id": page_id, "time": time}
    if changes:
        entry["changes"] = list(changes)
    if messaging:
        entry["messaging"] = list(messaging)
    return {"object": "page", "entry": [entry]}


def feed_status(post_id: str, sender: dict[str, str], message: str, created: int) -> dict[str, Any]:
    """A ``feed`` change: someone posted on the page."""
    value = {"item": "status", "verb": "add", "post_id": post_id, "from": sender, "message": message}
    return {"field": "feed", "value": {**value, "created_time": created}}


def feed_comment(
    comment_id: str, post_id: str, parent_id: str, sender: dict[str, str], message: str, created: int
) -> dict[str, Any]:
    """A ``feed`` change: a comment on ``post_id`` answering ``parent_id`` (the post or another comment)."""
    value = {"item": "comment", "verb": "add", "comment_id": comment_id, "post_id": post_id, "parent_id": parent_id}
    return {"field": "feed", "value": {**value, "from": sender, "message": message, "created_time": created}}


def message(mid: str, sender: str, page_id: str, text: str, timestamp_ms: int) -> dict[str, Any]:
    """A Messenger ``messaging`` item: ``sender`` wrote to the page."""
    return {
        "sender": {"id": sender},
        "recipient": {"id": page_id},
        "timestamp": timestamp_ms,
        "message": {"mid": mid, "text": text},
    }
