"""A Mastodon status (REST or streaming JSON) to a Mention. Pure.

Ids are ``mastodon:<instance host>/<status id>``: status ids are local to the instance that served them, so the
host keeps two instances' ids apart and replies (``in_reply_to_id``, also local) point at the same namespace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import Rejected
from connectors.sources.html_text import html_to_text
from connectors.sources.payloads import mention_or_reject, parse_time
from pipeline.schema import Mention, mention_id

PLATFORM = "mastodon"


def status_to_mention(status: Any, *, host: str, source: str, fetched_at: datetime) -> Mention | Rejected | None:
    """The mention for ``status``; ``None`` for a boost (the boosted status itself is what matters)."""
    if not isinstance(status, dict):
        return Rejected.of("bad_type", f"status is {type(status).__name__}, not an object", status)
    if status.get("reblog"):
        return None
    native = status.get("id")
    if not isinstance(native, str | int) or not str(native):
        return Rejected.of("missing_field", "status without an id", status)
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    assert isinstance(account, dict)
    acct = account.get("acct")
    content = status.get("content")
    if not isinstance(content, str):
        return Rejected.of("missing_field" if content is None else "bad_type", "status.content is not a string", status)
    text = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}"
    created = status.get("created_at")
    parent = status.get("in_reply_to_id")
    fields: dict[str, Any] = {
        "id": mention_id(PLATFORM, f"{host}/{native}"),
        "source": source,
        "platform": PLATFORM,
        "url": status.get("url") or status.get("uri"),
        "author": {
            "handle": acct if not isinstance(acct, str) or "@" in acct else f"{acct}@{host}",
            "display_name": account.get("display_name") or None,
            "followers": account.get("followers_count"),
        },
        "text": text,
        "created_at": parse_time(created) or created,
        "fetched_at": fetched_at,
        "kind": "reply" if parent else "post",
        "in_reply_to": mention_id(PLATFORM, f"{host}/{parent}") if parent else None,
        "engagement": {
            "likes": status.get("favourites_count") or 0,
            "shares": status.get("reblogs_count") or 0,
            "replies": status.get("replies_count") or 0,
        },
        "lang_hint": status.get("language"),
        "raw_ref": status.get("uri") or status.get("url"),
    }
    return mention_or_reject(fields, status)


def status_id_key(status_id: str) -> tuple[int, str]:
    """Sort key for status ids (numeric strings of varying length on Mastodon; any string elsewhere)."""
    return (len(status_id), status_id)
