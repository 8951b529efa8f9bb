"""X API v2 tweets (with their ``includes.users`` expansion) to Mentions. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import Rejected
from connectors.sources.payloads import mention_or_reject, parse_time
from pipeline.schema import Mention, mention_id

PLATFORM = "x"
TWEET_FIELDS = "created_at,lang,public_metrics,author_id,conversation_id,referenced_tweets"
USER_FIELDS = "username,name,public_metrics"


def users_by_id(includes: Any) -> dict[str, dict[str, Any]]:
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {str(u["id"]): u for u in users if isinstance(u, dict) and "id" in u}


def tweet_to_mention(
    tweet: Any, users: Mapping[str, dict[str, Any]], *, source: str, fetched_at: datetime
) -> Mention | Rejected:
    if not isinstance(tweet, dict):
        return Rejected.of("bad_type", f"tweet is {type(tweet).__name__}, not an object", tweet)
    native = tweet.get("id")
    if not isinstance(native, str) or not native:
        return Rejected.of("missing_field", "tweet without an id", tweet)
    user = users.get(str(tweet.get("author_id")), {})
    username = user.get("username")
    parent = next(
        (
            ref.get("id")
            for ref in tweet.get("referenced_tweets") or []
            if isinstance(ref, dict) and ref.get("type") == "replied_to"
        ),
        None,
    )
    metrics: dict[str, Any] = tweet["public_metrics"] if isinstance(tweet.get("public_metrics"), dict) else {}
    followers = (user.get("public_metrics") or {}).get("followers_count") if isinstance(user, dict) else None
    lang = tweet.get("lang")
    created = tweet.get("created_at")
    url = f"https://x.com/{username}/status/{native}" if username else f"https://x.com/i/web/status/{native}"
    fields: dict[str, Any] = {
        "id": mention_id(PLATFORM, native),
        "source": source,
        "platform": PLATFORM,
        "url": url,
        "author": {"handle": username, "display_name": user.get("name"), "followers": followers},
        "text": tweet.get("text"),
        "created_at": parse_time(created) or created,
        "fetched_at": fetched_at,
        "kind": "reply" if parent else "post",
        "in_reply_to": mention_id(PLATFORM, str(parent)) if parent else None,
        "engagement": {
            "likes": metrics.get("like_count") or 0,
            "shares": (metrics.get("retweet_count") or 0) + (metrics.get("quote_count") or 0),
            "replies": metrics.get("reply_count") or 0,
            "views": metrics.get("impression_count"),
        },
        "lang_hint": lang if isinstance(lang, str) and lang not in ("und", "zxx", "qme", "qht") else None,
        "raw_ref": url,
    }
    return mention_or_reject(fields, tweet)


def tweet_id_key(tweet_id: str) -> tuple[int, str]:
    """Sort key for numeric snowflake ids of varying length."""
    return (len(tweet_id), tweet_id)
