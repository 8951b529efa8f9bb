"""Webhook payloads (Meta Graph page/Instagram/Messenger events, or a generic shape) to Mention fields. Pure.

:func:`events_from_payload` yields, per event in a delivery, either a :class:`~connectors.base.Rejected` or
``(fields, raw)``: keyword fields for :class:`~pipeline.schema.Mention` (validated by the caller) plus
``_event_time`` (when the platform sent the event, for the replay check) and the event's raw JSON. Events that are
not mentions (a like, a removed comment, an attachment-only message) are skipped: nothing is yielded for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Rejected
from connectors.sources.payloads import parse_time
from pipeline.schema import mention_id

Event = Rejected | tuple[dict[str, Any], Any]

_META_OBJECTS = {"page": "facebook", "instagram": "instagram"}
_POST_ITEMS = frozenset({"post", "status", "photo", "video", "share"})
_SKIPPED_VERBS = frozenset({"remove", "hide", "delete"})


@dataclass(frozen=True, slots=True)
class EventContext:
    source: str
    fetched_at: datetime
    brand_ids: frozenset[str] = frozenset()


def events_from_payload(payload: Any, context: EventContext) -> Iterator[Event]:
    """Every event in one delivery, in order."""
    if isinstance(payload, dict) and "object" in payload and "entry" in payload:
        yield from _meta_events(payload, context)
    elif isinstance(payload, dict):
        yield _generic_event(payload, context)
    elif isinstance(payload, list):
        for item in payload:
            yield _generic_event(item, context) if isinstance(item, dict) else _not_object(item)
    else:
        yield _not_object(payload)


def _not_object(item: Any) -> Rejected:
    return Rejected.of("bad_type", f"expected a JSON object, got {type(item).__name__}", item)


def _meta_events(payload: dict[str, Any], context: EventContext) -> Iterator[Event]:
    obj = payload.get("object")
    platform = _META_OBJECTS.get(obj, obj) if isinstance(obj, str) and obj else None
    entries = payload.get("entry")
    if platform is None or not isinstance(entries, list):
        yield Rejected.of("bad_type", "Meta payload needs a string 'object' and a list 'entry'", payload)
        return
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str | int):
            yield Rejected.of("missing_field", "entry without an id", entry)
            continue
        page_id = str(entry["id"])
        brand_ids = context.brand_ids | {page_id}
        entry_time = entry.get("time")
        for change in entry.get("changes") or []:
            yield from _change_event(platform, page_id, entry_time, change, brand_ids, context)
        for message in entry.get("messaging") or []:
            yield from _message_event(platform, entry_time, message, brand_ids, context)


def _change_event(
    platform: str, page_id: str, entry_time: Any, change: Any, brand_ids: frozenset[str], context: EventContext
) -> Iterator[Event]:
    value = change.get("value") if isinstance(change, dict) else None
    if not isinstance(value, dict):
        yield Rejected.of("missing_field", "change without a 'value' object", change)
        return
    if value.get("verb") in _SKIPPED_VERBS:
        return
    field = change.get("field")
    item = value.get("item")
    if field == "comments" or item == "comment":
        native = value.get("comment_id") or value.get("id")
        kind = "comment"
        parent = value.get("parent_id") or (value.get("media") or {}).get("id") or value.get("post_id")
    elif field == "feed" and item in _POST_ITEMS:
        native = value.get("post_id") or value.get("id")
        kind, parent = "post", None
    elif field in ("feed", "mention", "mentions") and item is None and ("message" in value or "text" in value):
        native = value.get("post_id") or value.get("id") or value.get("comment_id")
        kind, parent = "post", None
    else:
        return  # reactions, likes, page settings …: not mentions
    sender: dict[str, Any] = value["from"] if isinstance(value.get("from"), dict) else {}
    handle = sender.get("username") or sender.get("id")
    text = value.get("message", value.get("text"))
    if not native:
        yield Rejected.of("missing_field", f"{field} change without a comment/post id", change)
        return
    fields: dict[str, Any] = {
        "id": mention_id(platform, str(native)),
        "source": context.source,
        "platform": platform,
        "url": value.get("permalink_url") or (value.get("post") or {}).get("permalink_url"),
        "author": {"handle": str(handle) if handle else None, "display_name": sender.get("name")},
        "text": text,
        "created_at": _time_or_raw(value.get("created_time"), entry_time),
        "fetched_at": context.fetched_at,
        "kind": kind,
        "in_reply_to": mention_id(platform, str(parent)) if parent else None,
        "author_is_brand": bool(sender) and (str(sender.get("id")) in brand_ids or handle in brand_ids),
        "raw_ref": f"webhook:{platform}/{page_id}/{native}",
        "_event_time": entry_time if entry_time is not None else value.get("created_time"),
    }
    yield fields, change


def _message_event(
    platform: str, entry_time: Any, message: Any, brand_ids: frozenset[str], context: EventContext
) -> Iterator[Event]:
    if not isinstance(message, dict):
        yield Rejected.of("bad_type", "messaging item is not an object", message)
        return
    body = message.get("message")
    if not isinstance(body, dict):
        return  # delivery/read receipts, postbacks
    if body.get("text") is None:
        return  # attachment-only
    sender: dict[str, Any] = message["sender"] if isinstance(message.get("sender"), dict) else {}
    mid = body.get("mid")
    if not mid:
        yield Rejected.of("missing_field", "message without 'mid'", message)
        return
    sender_id = str(sender.get("id")) if sender.get("id") is not None else None
    fields: dict[str, Any] = {
        "id": mention_id(platform, str(mid)),
        "source": context.source,
        "platform": platform,
        "author": {"handle": sender_id},
        "text": body.get("text"),
        "created_at": _time_or_raw(message.get("timestamp"), entry_time),
        "fetched_at": context.fetched_at,
        "kind": "message",
        "in_reply_to": mention_id(platform, str(body["reply_to"]["mid"]))
        if isinstance(body.get("reply_to"), dict) and body["reply_to"].get("mid")
        else None,
        "author_is_brand": bool(body.get("is_echo")) or sender_id in brand_ids,
        "raw_ref": f"webhook:{platform}/messaging/{mid}",
        "_event_time": message.get("timestamp", entry_time),
    }
    yield fields, message


def _generic_event(item: dict[str, Any], context: EventContext) -> Event:
    platform, native = item.get("platform"), item.get("id")
    if not isinstance(platform, str) or not platform or native in (None, ""):
        return Rejected.of("missing_field", "generic event needs 'platform' and 'id'", item)
    author = item.get("author")
    if isinstance(author, str):
        author = {"handle": author}
    handle = author.get("handle") if isinstance(author, dict) else None
    fields: dict[str, Any] = {
        "id": mention_id(platform, str(native)),
        "source": context.source,
        "platform": platform,
        "url": item.get("url"),
        "author": author,
        "text": item.get("text"),
        "created_at": _time_or_raw(item.get("created_at"), None),
        "fetched_at": context.fetched_at,
        "kind": item.get("kind", "post"),
        "in_reply_to": mention_id(platform, str(item["in_reply_to"])) if item.get("in_reply_to") else None,
        "author_is_brand": bool(item.get("author_is_brand")) or handle in context.brand_ids,
        "lang_hint": item.get("lang"),
        "raw_ref": item.get("raw_ref") or f"webhook:{platform}/{native}",
    }
    if isinstance(item.get("engagement"), dict):
        fields["engagement"] = item["engagement"]
    return fields, item


def _time_or_raw(value: Any, fallback: Any) -> Any:
    """A parsed time, or the raw value so that validation names the bad field."""
    chosen = value if value is not None else fallback
    parsed = parse_time(chosen)
    return parsed if parsed is not None else chosen
