"""The dead-letter record's header names, shared by the worker (bad raw records) and the connector runner (payloads
a connector could not turn into a mention). The record's value is always the original bytes, unchanged."""

from __future__ import annotations

DLQ_REASON = "x-luister-reason"
"""Machine-readable reason: ``not_json``, ``schema``, ``model_error``, ``html_error_page`` …"""
DLQ_DETAIL = "x-luister-detail"
"""Human-readable detail, at most :data:`DETAIL_MAX_BYTES`."""
DLQ_ORIGIN = "x-luister-origin"
"""Where it came from: ``topic/partition/offset`` (worker) or ``connector/<name>`` (connector runner)."""
DETAIL_MAX_BYTES = 2000


def deadletter_headers(reason: str, detail: str, origin: str) -> list[tuple[str, bytes]]:
    """The three headers of a dead-letter record, the detail truncated to :data:`DETAIL_MAX_BYTES`."""
    return [
        (DLQ_REASON, reason.encode("utf-8", "replace")),
        (DLQ_DETAIL, detail.encode("utf-8", "replace")[:DETAIL_MAX_BYTES]),
        (DLQ_ORIGIN, origin.encode("utf-8", "replace")),
    ]
