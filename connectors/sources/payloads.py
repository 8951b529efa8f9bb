"""Shared decoding for platform payloads: JSON bodies that may be HTML error pages, timestamps in the shapes
platforms send them, and short reasons for pydantic validation errors. Pure functions, no I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from connectors.base import Rejected
from pipeline.schema import Mention


def decode_json_body(body: bytes, content_type: str = "") -> tuple[Any, Rejected | None]:
    """``(value, None)`` for a JSON body, else ``(None, Rejected)`` with ``html_error_page`` or ``not_json``."""
    head = body.lstrip()[:64].lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html")):
        return None, Rejected.of("html_error_page", f"expected JSON, got HTML ({len(body)} bytes)", body)
    try:
        return json.loads(body), None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, Rejected.of("not_json", f"body is not JSON: {error}", body)


def decode_json_response(response: httpx.Response) -> tuple[Any, Rejected | None]:
    """:func:`decode_json_body` on a response."""
    return decode_json_body(response.content, response.headers.get("content-type", ""))


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (``Z`` or an offset), epoch seconds or epoch milliseconds; else ``None``.

    A naive ISO time is not guessed at: ``None``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # Meta messaging sends milliseconds
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    return None


def validation_reason(error: ValidationError) -> tuple[str, str]:
    """``(reason, detail)`` for a failed Mention: ``missing_field`` if a required field is absent, else ``bad_type``."""
    errors = error.errors()
    reason = "missing_field" if any(e["type"] == "missing" for e in errors) else "bad_type"
    detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(item)'}: {e['msg']}" for e in errors[:3])
    return reason, detail


def newest(*times: datetime | None) -> datetime | None:
    """The latest of the given times, ignoring ``None``."""
    present = [t for t in times if t is not None]
    return max(present) if present else None


def mention_or_reject(fields: dict[str, Any], raw: Any) -> Mention | Rejected:
    """Validate ``fields`` as a Mention. ``None`` values count as absent, so a missing text is ``missing_field``."""
    try:
        return Mention.model_validate(_without_none(fields))
    except ValidationError as error:
        reason, detail = validation_reason(error)
        return Rejected.of(reason, detail, raw)


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in fields.items() if v is not None}
