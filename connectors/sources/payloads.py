"""Shared decoding for platform payloads: JSON bodies that may be HTML error pages, timestamps in the shapes
platforms send them, and short reasons for pydantic validation errors. Pure functions, no I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from connectors.base import Rejected
from connectors.http import PoliteClient, redact
from pipeline.schema import Mention


class SourceAuthError(RuntimeError):
    """The platform refused our credentials (401/403): a configuration problem that retrying will not fix."""


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


async def get_json(
    http: PoliteClient, url: str, *, params: dict[str, Any] | None = None, name: str = ""
) -> tuple[Any, Rejected | None, httpx.Response]:
    """GET ``url`` and decode JSON.

    Retryable failures raise :class:`~connectors.http.FetchError` (from the client); 401/403 raise
    :class:`SourceAuthError`; another non-2xx or a body that is not JSON comes back as a :class:`Rejected`
    (``http_<status>``, ``html_error_page``, ``not_json``) for the caller to dead-letter. Sources with their own
    meaning for a 403 (YouTube's quota) look at the response before calling this.
    """
    response = await http.get(url, params=params)
    return json_or_reject(response, url, name)


def json_or_reject(response: httpx.Response, url: str, name: str = "") -> tuple[Any, Rejected | None, httpx.Response]:
    """The second half of :func:`get_json`, for a response already in hand."""
    if response.status_code in (401, 403):
        raise SourceAuthError(f"{name}: {redact(url)} answered {response.status_code}: check the credentials")
    if not 200 <= response.status_code < 300:
        return None, Rejected.of(f"http_{response.status_code}", f"GET {redact(url)}", response.content), response
    value, rejected = decode_json_response(response)
    return value, rejected, response


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
