"""Step 1: bytes from the raw topic → a validated :class:`~pipeline.schema.Mention`, or a reason why not.

Contract: :func:`decode_mention` never raises anything but :class:`InvalidMessage`, whose ``reason`` is a short
machine-friendly code and ``detail`` a human sentence; the caller dead-letters the original bytes with both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import ValidationError

from pipeline.schema import Mention

DEFAULT_MAX_BYTES = 1_000_000
EARLIEST_CREATED_AT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_CREATED_AT = datetime(2106, 2, 7, tzinfo=UTC)
"""``created_at`` must lie in [EARLIEST, LATEST): the rollups key minutes as ``DateTime`` (unsigned 32-bit seconds
since 1970). A mention outside it would make every rollup refresh of its batch fail, and the sink would retry that
batch forever: one record would stop every partition of the worker. So it is dead-lettered here instead."""


class InvalidMessage(Exception):  # noqa: N818 - arroyo's name for the same idea
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_mention(value: bytes | None, key: bytes | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Mention:
    """Decode one raw-topic record. The key, when present, must be the mention id (partitioning relies on it)."""
    if not value:
        raise InvalidMessage("empty", "the record has no value")
    if len(value) > max_bytes:
        raise InvalidMessage("too_large", f"{len(value)} bytes is over the {max_bytes}-byte limit")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMessage("not_utf8", f"invalid UTF-8 at byte {exc.start}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidMessage("not_json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InvalidMessage("not_object", f"expected a JSON object, got {type(data).__name__}")
    try:
        mention = Mention.model_validate(data)
    except ValidationError as exc:
        raise InvalidMessage("schema", _summarise(exc)) from None
    if not EARLIEST_CREATED_AT <= mention.created_at < LATEST_CREATED_AT:
        raise InvalidMessage(
            "schema",
            f"created_at: {mention.created_at.isoformat()} is outside the storable range "
            f"[{EARLIEST_CREATED_AT.date()}, {LATEST_CREATED_AT.date()})",
        )
    if key is not None and key.decode("utf-8", "replace") != mention.id:
        raise InvalidMessage("key_mismatch", f"record key {key[:80]!r} is not the mention id {mention.id[:80]!r}")
    return mention


def _summarise(exc: ValidationError, limit: int = 5) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "(record)"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
